"""Fictional data: deterministic, valid, spread over every area, realistic mix, nothing personal."""
from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date

import pytest

from disclosure_engine.domain.areas import AREA_SLUGS
from disclosure_engine.domain.cases import validate_case_input
from disclosure_engine.domain.fictional import (
    AREA_CODES,
    CHILD_SEX_OFFENCES,
    NON_SCHEDULE_OFFENCES,
    generate_cases,
)
from disclosure_engine.domain.schedule34a import load_schedule, match_convictions

N = 1000


@pytest.fixture(scope="module")
def cases():
    return list(generate_cases(N, seed=7))


def test_same_seed_same_cases_different_seed_different_cases(cases):
    assert list(generate_cases(N, seed=7)) == cases
    assert list(generate_cases(N, seed=8)) != cases


def test_every_case_is_valid_public_shape(cases):
    for payload in cases:
        validate_case_input(payload, today=date(2026, 1, 1))


def test_spread_across_all_42_areas(cases):
    per_area = Counter(c["area"] for c in cases)
    assert set(per_area) == set(AREA_SLUGS)
    assert max(per_area.values()) - min(per_area.values()) <= 1
    assert {c["area"] for c in generate_cases(42, seed=1)} == set(AREA_SLUGS)


def test_references_follow_the_area_prefix_and_are_unique(cases):
    refs = [c["reference"] for c in cases]
    assert len(set(refs)) == len(refs)
    for c in cases:
        assert re.fullmatch(rf"{AREA_CODES[c['area']]}-2026-\d{{6}}", c["reference"])


def test_identifier_formats(cases):
    for c in cases:
        o = c["offender"]
        assert re.fullmatch(r"VS\d{7}", o.get("visor_ref", "VS0000000"))
        assert re.fullmatch(r"\d{2}/\d{6}[A-Z]", o.get("pnc_ref", "26/123456X"))
        assert re.fullmatch(r"X\d{6}", o.get("ndelius_crn", "X123456"))


def test_realistic_mix(cases):
    category = Counter(c["category"] for c in cases)
    level = Counter(c["level"] for c in cases)
    assert category.most_common(1)[0][0] == 1 and set(category) == {1, 2, 3, 4}
    assert level[1] > N * 0.7 and level[2] > 0 and level[3] > 0
    results = [match_convictions(validate_case_input(c, today=date(2026, 1, 1)).convictions)
               for c in cases]
    positives = sum(r.child_sex_offender for r in results)
    assert N * 0.3 < positives < N * 0.8
    assert any(r.needs_equivalence_opinion for r in results)
    assert any(r.notes for r in results)
    convictions = [x for c in cases for x in c["convictions"]]
    foreign = [x for x in convictions if x["jurisdiction"] != "england-wales"]
    assert any("equivalence_opinion" in x for x in foreign)
    assert any("equivalence_opinion" not in x for x in foreign)
    assert any("inchoate" in x for x in convictions)
    assert {x["disposal"] for x in convictions} >= {"conviction", "caution"}


def test_offence_lists_are_what_they_say():
    for statute, section in NON_SCHEDULE_OFFENCES:
        assert load_schedule().lookup(statute, section) == [], (statute, section)
    for statute, section, _ in CHILD_SEX_OFFENCES:
        assert load_schedule().lookup(statute, section), (statute, section)


def test_no_free_text_personal_fields(cases):
    text = json.dumps(cases)
    assert '"name"' not in text and "date_of_birth" not in text and "address" not in text
    for c in cases:
        assert set(c) == {"reference", "area", "category", "level", "lead_agency", "offender",
                          "convictions"}


def test_dates_respect_when_the_act_came_into_force(cases):
    for c in cases:
        for x in c["convictions"]:
            if x["statute"] == "Sexual Offences Act 2003":
                assert x["date"] >= "2004-05-01"
