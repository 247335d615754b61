"""Schedule 34A data and matching: what counts, what waits for a person, and why."""
from __future__ import annotations

import json
from datetime import date

import pytest

from disclosure_engine.domain.cases import ConvictionInput, EquivalenceOpinion
from disclosure_engine.domain.errors import NotFound
from disclosure_engine.domain.schedule34a import (
    DATA_DIR,
    available_versions,
    load_schedule,
    match_convictions,
    normalise_section,
    normalise_statute,
)

SOA03 = "Sexual Offences Act 2003"


def conv(statute=SOA03, section="9", **kw) -> ConvictionInput:
    kw.setdefault("date", date(2019, 3, 27))
    kw.setdefault("disposal", "conviction")
    return ConvictionInput(statute=statute, section=section, **kw)


def paragraphs_of(result):
    return [(m["conviction_index"], m["paragraph"]) for m in result.matches]


# --- the data ---------------------------------------------------------------------------

def test_data_file_carries_version_source_and_notes():
    raw = json.loads((DATA_DIR / "schedule_34a.json").read_text())
    assert raw["version"] == "2008-07-14"
    assert "Criminal Justice and Immigration Act 2008" in raw["source"]
    assert raw["source_date"] and "check" in raw["notes"]
    for p in raw["paragraphs"]:
        assert set(p) >= {"paragraph", "statute", "sections", "victim_under_18_required",
                          "counts_towards_serious_harm", "description"}
        assert all(s.isdigit() for s in p["sections"]), p


def test_load_schedule_is_cached_and_versioned():
    assert load_schedule() is load_schedule()
    assert load_schedule("2008-07-14").version == "2008-07-14"
    assert "2008-07-14" in available_versions()
    with pytest.raises(NotFound):
        load_schedule("1999-01-01")


def test_repealed_law_paragraphs_do_not_count_towards_serious_harm():
    schedule = load_schedule()
    for p in schedule.paragraphs:
        assert p.counts_towards_serious_harm is (int(p.paragraph) > 6), p.paragraph


@pytest.mark.parametrize("section", [str(n) for n in
                                     [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                      25, 26, 47, 48, 49, 50]])
def test_soa_2003_offences_against_children_match_at_any_age(section):
    result = match_convictions([conv(section=section)])  # no victim age at all
    assert result.child_sex_offender
    assert result.matches[0]["paragraph"] == "7"
    assert result.matches[0]["serious_harm_eligible"] is True


@pytest.mark.parametrize("statute,section", [
    ("Protection of Children Act 1978", "1"), ("Criminal Justice Act 1988", "160"),
    ("Sexual Offences Act 1956", "5"), ("Sexual Offences Act 1956", "28"),
    ("Indecency with Children Act 1960", "1"), ("Criminal Law Act 1977", "54"),
    ("Sexual Offences (Amendment) Act 2000", "3"),
])
def test_other_listed_offences_match_without_age(statute, section):
    assert match_convictions([conv(statute, section)]).child_sex_offender


@pytest.mark.parametrize("statute,section", [
    ("Theft Act 1968", "1"), ("Offences against the Person Act 1861", "47"),
    (SOA03, "20"), (SOA03, "52"), ("Sexual Offences Act 1956", "30"),
])
def test_unlisted_offences_do_not_match(statute, section):
    result = match_convictions([conv(statute, section, victim_age=10)])
    assert not result.child_sex_offender and result.matches == [] and result.notes == []


# --- the victim-under-18 qualifier --------------------------------------------------------

@pytest.mark.parametrize("statute,section", [(SOA03, "1"), (SOA03, "4"), (SOA03, "30"),
                                             (SOA03, "62"), ("Sexual Offences Act 1956", "14")])
def test_victim_under_18_paragraphs(statute, section):
    assert match_convictions([conv(statute, section, victim_age=17)]).child_sex_offender
    assert not match_convictions([conv(statute, section, victim_age=18)]).child_sex_offender


def test_unknown_victim_age_is_a_note_not_a_match():
    result = match_convictions([conv(section="1")])
    assert not result.child_sex_offender
    assert result.notes == [{"conviction_index": 0, "paragraph": "8", "kind": "needs_victim_age",
                             "note": result.notes[0]["note"]}]
    assert "victim's age" in result.notes[0]["note"]


def test_old_rape_under_18_is_listed_but_not_serious_harm():
    result = match_convictions([conv("Sexual Offences Act 1956", "1", victim_age=15)])
    assert paragraphs_of(result) == [(0, "2")]
    assert result.matches[0]["serious_harm_eligible"] is False
    assert "does not count towards serious harm" in result.matches[0]["reason"]


# --- paragraph conditions (facts the citation cannot show) ------------------------------

def test_burglary_needs_intent_to_rape_a_child_confirmed():
    pending = match_convictions([conv("Theft Act 1968", "9", victim_age=15)])
    assert not pending.child_sex_offender
    assert pending.notes[0]["kind"] == "needs_condition"
    confirmed = match_convictions([conv("Theft Act 1968", "9", victim_age=15, condition_met=True)])
    assert paragraphs_of(confirmed) == [(0, "4")]
    refused = match_convictions([conv("Theft Act 1968", "9", victim_age=15, condition_met=False)])
    assert not refused.child_sex_offender and refused.notes == []


def test_customs_import_needs_goods_confirmed():
    statute = "Customs and Excise Management Act 1979"
    assert match_convictions([conv(statute, "170")]).notes[0]["kind"] == "needs_condition"
    assert match_convictions([conv(statute, "170", condition_met=True)]).child_sex_offender


# --- disposals, section spelling, inchoate -----------------------------------------------

@pytest.mark.parametrize("disposal", ["conviction", "caution", "insanity", "disability"])
def test_every_s327b_disposal_counts(disposal):
    assert match_convictions([conv(disposal=disposal)]).child_sex_offender


def test_unknown_disposal_is_noted_not_counted():
    result = match_convictions([conv(disposal="acquittal")])
    assert not result.child_sex_offender and result.notes[0]["kind"] == "unknown_disposal"


@pytest.mark.parametrize("spelling", ["9", "s.9", "s9", "S 9", "section 9", "9(1)", "s.9(1)(a)"])
def test_section_spellings(spelling):
    assert normalise_section(spelling) == "9"
    assert match_convictions([conv(section=spelling)]).matches[0]["section"] == "9"


def test_section_with_letter_suffix_is_not_confused_with_base_section():
    assert normalise_section("15A") == "15A"
    assert not match_convictions([conv(section="15A")]).child_sex_offender


def test_statute_spelling_is_case_and_space_insensitive():
    assert normalise_statute("  sexual  offences act 2003 ") == normalise_statute(SOA03)
    assert normalise_statute("SOA 2003") == normalise_statute(SOA03)
    assert match_convictions([conv("the Sexual Offences Act 2003", "9")]).child_sex_offender


@pytest.mark.parametrize("kind", ["attempt", "conspiracy", "incitement", "aiding"])
def test_inchoate_matches_substantive_offence(kind):
    result = match_convictions([conv(section="9", inchoate=kind)])
    match = result.matches[0]
    assert match["paragraph"] == "7" and match["inchoate"] == kind
    assert match["serious_harm_eligible"] is True


def test_inchoate_still_needs_the_victim_age_qualifier():
    assert not match_convictions([conv(section="1", inchoate="attempt", victim_age=30)]).child_sex_offender
    assert match_convictions([conv(section="1", inchoate="attempt", victim_age=12)]).child_sex_offender


# --- foreign and service convictions ----------------------------------------------------

OPINION = EquivalenceOpinion(equivalent_statute=SOA03, equivalent_section="s.9",
                             reasons="Elements match sexual activity with a child under 16",
                             by="MAPPA coordinator")


def test_foreign_conviction_waits_for_an_equivalence_opinion():
    result = match_convictions([conv("Code penal", "227-25", jurisdiction="france")])
    assert not result.child_sex_offender
    assert result.needs_equivalence_opinion == [0]


def test_foreign_conviction_with_opinion_matches_the_equivalent():
    result = match_convictions([conv("Code penal", "227-25", jurisdiction="france",
                                     equivalence_opinion=OPINION)])
    assert result.needs_equivalence_opinion == []
    match = result.matches[0]
    assert (match["statute"], match["section"], match["paragraph"]) == (SOA03, "9", "7")
    assert "france" in match["reason"] and "MAPPA coordinator" in match["reason"]


def test_foreign_equivalent_of_an_unlisted_offence_is_resolved_without_match():
    opinion = EquivalenceOpinion("Theft Act 1968", "1", "Elements correspond to theft", "coordinator")
    result = match_convictions([conv("Kodeks karny", "278", jurisdiction="poland",
                                     equivalence_opinion=opinion)])
    assert not result.child_sex_offender and result.needs_equivalence_opinion == []


def test_foreign_victim_age_rule_applies_to_the_equivalent():
    opinion = EquivalenceOpinion(SOA03, "1", "Elements correspond to rape", "coordinator")
    adult = conv("Kodeks karny", "197", jurisdiction="poland", victim_age=30,
                 equivalence_opinion=opinion)
    child = conv("Kodeks karny", "197", jurisdiction="poland", victim_age=12,
                 equivalence_opinion=opinion)
    assert paragraphs_of(match_convictions([adult, child])) == [(1, "8")]


def test_service_offence_needs_the_corresponding_civil_offence():
    pending = match_convictions([conv("Armed Forces Act 2006", "42")])
    assert pending.needs_equivalence_opinion == [0]
    done = match_convictions([conv("Armed Forces Act 2006", "42", equivalence_opinion=OPINION)])
    assert done.child_sex_offender


def test_mixed_record_reports_each_conviction_by_index():
    result = match_convictions([
        conv("Theft Act 1968", "1"),
        conv(section="10", disposal="caution"),
        conv("Code penal", "227-25", jurisdiction="france"),
        conv(section="3"),
    ])
    assert paragraphs_of(result) == [(1, "7")]
    assert result.needs_equivalence_opinion == [2]
    assert [n["conviction_index"] for n in result.notes] == [3]
    assert result.schedule_version == "2008-07-14"
    assert result.to_dict()["child_sex_offender"] is True
    json.dumps(result.to_dict())  # storable as JSON


def test_empty_record():
    result = match_convictions([])
    assert not result.child_sex_offender and result.matches == []


# --- citations that look mistyped (domain.statute_check) ------------------------------------

@pytest.mark.parametrize("statute", ["Sexual Offenses Act 2003", "Sexual Offences Acts 2003", "Sexual Ofences Act 2003"])
def test_a_slip_in_a_listed_statute_is_a_question_never_a_match(statute):
    result = match_convictions([conv(statute, "9", victim_age=12)])
    assert not result.child_sex_offender and result.review_needed
    (question,) = result.review()
    assert question["kind"] == "check_statute" and question["suggestion"] == SOA03


@pytest.mark.parametrize("statute", ["Sexual Offences Act 1967", "Criminal Justice Act 1987", "Fraud Act 2006",
                                     "Offences against the Person Act 1861"])
def test_another_real_statute_is_not_taken_for_a_listed_one(statute):
    result = match_convictions([conv(statute, "1")])
    assert not result.child_sex_offender and result.review() == []


def test_a_confirmed_statute_is_not_asked_again_and_an_unreadable_section_is_asked():
    assert match_convictions([conv("Sexual Offenses Act 2003", "9", statute_confirmed=True)]).review() == []
    (question,) = match_convictions([conv(SOA03, "nine", victim_age=12)]).review()
    assert question["kind"] == "check_section" and "'nine'" in question["note"]
    assert match_convictions([conv(SOA03, "9(1)(a)", victim_age=12)]).child_sex_offender
