"""The public case shape: every rule and its message, and the round trip."""
from __future__ import annotations

from datetime import date

import pytest

from disclosure_engine.domain.cases import (
    CaseInput,
    ConvictionInput,
    to_public_dict,
    validate_case_input,
)
from disclosure_engine.domain.errors import ValidationFailed

TODAY = date(2026, 3, 1)


def case(**overrides):
    payload = {
        "reference": "KNT-2026-000001",
        "area": "kent",
        "category": 1,
        "level": 1,
        "lead_agency": "police",
        "offender": {"visor_ref": "VS1234567", "pnc_ref": "26/123456X", "ndelius_crn": "X123456"},
        "convictions": [{"statute": "Sexual Offences Act 2003", "section": "9",
                         "date": "2019-03-27", "disposal": "conviction", "victim_age": 14,
                         "jurisdiction": "england-wales"}],
    }
    payload.update(overrides)
    return payload


def errors_of(payload) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as info:
        validate_case_input(payload, today=TODAY)
    assert info.value.status == 422
    return info.value.errors


def conviction(**overrides):
    base = {"statute": "Sexual Offences Act 2003", "section": "9", "date": "2019-03-27",
            "disposal": "conviction"}
    base.update(overrides)
    return base


def test_valid_case_parses_to_frozen_dataclasses():
    parsed = validate_case_input(case(), today=TODAY)
    assert isinstance(parsed, CaseInput)
    assert parsed.area == "kent" and parsed.category == 1
    assert parsed.offender.pnc_ref == "26/123456X"
    only = parsed.convictions[0]
    assert isinstance(only, ConvictionInput)
    assert only.date == date(2019, 3, 27) and only.victim_age == 14
    with pytest.raises(AttributeError):
        parsed.area = "london"  # type: ignore[misc]


def test_round_trip_through_public_dict():
    payload = case(convictions=[conviction(
        jurisdiction="france", statute="Code penal", section="227-25", inchoate="attempt",
        equivalence_opinion={"equivalent_statute": "Sexual Offences Act 2003",
                             "equivalent_section": "9", "by": "MAPPA coordinator",
                             "reasons": "Elements correspond to sexual activity with a child"})])
    parsed = validate_case_input(payload, today=TODAY)
    again = validate_case_input(to_public_dict(parsed), today=TODAY)
    assert again == parsed
    assert to_public_dict(parsed)["convictions"][0]["equivalence_opinion"]["by"] == "MAPPA coordinator"


def test_defaults_jurisdiction_and_optional_offender():
    payload = case()
    del payload["offender"]
    payload["convictions"] = [conviction()]
    parsed = validate_case_input(payload, today=TODAY)
    assert parsed.convictions[0].jurisdiction == "england-wales"
    assert parsed.offender.visor_ref is None


@pytest.mark.parametrize("field,value,message", [
    ("area", "kent-and-medway", "Enter a MAPPA area from the list of 42 areas, for example \"kent\""),
    ("area", None, "Enter a MAPPA area from the list of 42 areas, for example \"kent\""),
    ("category", 5, "Enter a MAPPA category from 1 to 4"),
    ("category", "1", "Enter a MAPPA category from 1 to 4"),
    ("category", True, "Enter a MAPPA category from 1 to 4"),
    ("level", 0, "Enter a MAPPA level from 1 to 3"),
    ("lead_agency", "council", "Select the lead agency: police, probation or prison"),
    ("reference", "", "Enter the case reference"),
])
def test_top_level_messages(field, value, message):
    assert errors_of(case(**{field: value}))[field] == [message]


@pytest.mark.parametrize("reference", ["AB", "x" * 41, "KNT 2026", "KNT_1", "KNT-2026-ü"])
def test_bad_references(reference):
    assert "reference" in errors_of(case(reference=reference))


@pytest.mark.parametrize("reference", ["ABC", "KNT-2026-000123", "K/26/1", "x" * 40])
def test_good_references(reference):
    assert validate_case_input(case(reference=reference), today=TODAY).reference == reference


def test_unknown_and_read_only_top_level_fields_are_refused():
    errors = errors_of(case(name="someone", id=3))
    assert errors["name"] == ["Remove name: it is not part of a case"]
    assert errors["id"] == ["Remove id: it is set by the system, not sent"]


def test_offender_refs_reject_spaces_length_and_unknown_keys():
    errors = errors_of(case(offender={"visor_ref": "John Smith", "pnc_ref": "1" * 41,
                                      "date_of_birth": "1970-01-01"}))
    assert set(errors) == {"offender.visor_ref", "offender.pnc_ref", "offender.date_of_birth"}


def test_conviction_errors_are_keyed_by_index():
    errors = errors_of(case(convictions=[
        conviction(disposal="fine"),
        conviction(date="2019-02-30"),
        conviction(date="27/03/2019"),
        conviction(date="2026-03-02"),
        conviction(statute=" ", section=""),
        conviction(victim_age=121),
        conviction(victim_age=-1),
        conviction(jurisdiction="France"),
        conviction(inchoate="planning"),
        conviction(verdict="guilty"),
    ]))
    assert errors["convictions.0.disposal"] == [
        "Select the disposal: conviction, caution, insanity or disability"]
    assert errors["convictions.1.date"][0].startswith("Date must be a real date")
    assert "convictions.2.date" in errors
    assert errors["convictions.3.date"] == ["Date must be today or in the past"]
    assert set(errors) >= {"convictions.4.statute", "convictions.4.section",
                           "convictions.5.victim_age", "convictions.6.victim_age",
                           "convictions.7.jurisdiction", "convictions.8.inchoate",
                           "convictions.9.verdict"}


def test_today_is_allowed_and_integer_section_is_accepted():
    parsed = validate_case_input(case(convictions=[conviction(date=TODAY.isoformat(), section=9)]),
                                 today=TODAY)
    assert parsed.convictions[0].section == "9"


def test_convictions_required_and_must_be_list():
    assert errors_of(case(convictions=[]))["convictions"]
    assert errors_of(case(convictions={"0": {}}))["convictions"] == ["Convictions must be a list"]
    payload = case()
    del payload["convictions"]
    assert "convictions" in errors_of(payload)


def test_equivalence_opinion_is_optional_but_complete_when_given():
    parsed = validate_case_input(case(convictions=[conviction(jurisdiction="poland")]), today=TODAY)
    assert parsed.convictions[0].equivalence_opinion is None  # missing is a matching concern
    errors = errors_of(case(convictions=[conviction(
        jurisdiction="poland", equivalence_opinion={"equivalent_statute": "Sexual Offences Act 2003",
                                                    "reasons": "n/a"})]))
    assert errors["convictions.0.equivalence_opinion.equivalent_section"] == ["Enter the equivalent section"]
    assert errors["convictions.0.equivalence_opinion.by"] == ["Enter who gave the equivalence opinion"]
    assert "placeholder" in errors["convictions.0.equivalence_opinion.reasons"][0]


def test_all_errors_are_reported_together():
    errors = errors_of(case(area="x", category=9, level=9, convictions=[conviction(disposal="x")]))
    assert {"area", "category", "level", "convictions.0.disposal"} <= set(errors)


def test_non_mapping_payload():
    with pytest.raises(ValidationFailed):
        validate_case_input(["not", "a", "case"])  # type: ignore[arg-type]
