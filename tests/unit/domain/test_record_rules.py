"""The rules a corrected decision record must meet, on records of every shipped kind."""
from __future__ import annotations

import pytest

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.record_rules import corrected_record
from disclosure_engine.domain.vocabulary import presumption_from_tests

REASON = "A reason long enough to be one, referring to the facts of this case."
S327A = {"serious_harm_risk": "yes", "serious_harm_reasons": REASON, "disclosure_necessary": "yes",
         "necessity_reasons": REASON, "presumption_applies": True, "decision": "disclose",
         "decision_reasons": REASON, "legal_basis": "s327a", "decision_makers": ["DI Smith"],
         "mappa_category": 1, "offender": {"visor_ref": "VS1"}, "dissent": "", "chair_reasons": REASON}
CSODS = {"serious_harm_risk": "yes", "serious_harm_reasons": REASON, "presumption_applies": True,
         "csods_outcome": "presumptive_disclosure", "decision_reasons": REASON, "legal_basis": "csods"}
DELIVERY = {"disclosed_at": "2027-03-04T10:30", "disclosure_method": "in_person", "offender_notified": "no",
            "offender_notification_reasons": REASON}


def _errors(old: dict, changes: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as refused:
        corrected_record(old, changes)
    return refused.value.errors


@pytest.mark.parametrize("a, b, expected", [
    ("yes", "yes", True), ("yes", "no", False), ("no", None, False), ("yes", None, None), (None, None, None),
    ("banana", "yes", None),
])
def test_the_presumption_is_both_tests_met(a, b, expected):
    assert presumption_from_tests(a, b) is expected


def test_an_ordinary_correction_keeps_everything_else_and_blank_optional_answers_pass():
    record, rederived = corrected_record(S327A, {"security_marking": "OFFICIAL"})
    assert record == {**S327A, "security_marking": "OFFICIAL"} and rederived == []


def test_a_placeholder_already_in_the_record_must_be_put_right_by_the_correction():
    old = {**S327A, "proportionality_reasons": "n/a"}
    assert set(_errors(old, {"security_marking": "OFFICIAL"})) == {"proportionality_reasons"}
    record, _ = corrected_record(old, {"proportionality_reasons": REASON})
    assert record["proportionality_reasons"] == REASON


def test_unknown_fields_are_refused_before_anything_else():
    assert _errors(S327A, {"colour": "red", "decision": "banana"}) == {"colour": ["Not a decision field"]}


def test_csods_non_disclosure_under_the_presumption_needs_the_rebuttal():
    """The CSODS outcome cannot be corrected, but it is the record's decision: with test (a)
    corrected the presumption still applies there, and a non-disclosure letter needs rebuttal."""
    old = {**CSODS, "csods_outcome": "non_disclosure_letter", "presumption_rebuttal_reasons": REASON}
    assert set(_errors(old, {"presumption_rebuttal_reasons": None})) == {"presumption_rebuttal_reasons"}


def test_a_test_changed_where_the_other_is_not_recorded_keeps_what_the_workflow_derived():
    """CSODS derives its presumption from child sex convictions and test (a), and records no
    test (b): a "yes" tells nothing new, so the flag stays; a "no" ends the presumption."""
    record, rederived = corrected_record(CSODS, {"serious_harm_reasons": REASON + " Corrected.",
                                                 "serious_harm_risk": "yes"})
    assert record["presumption_applies"] is True and rederived == []
    record, rederived = corrected_record({**CSODS, "csods_outcome": "discretionary_disclosure"},
                                         {"serious_harm_risk": "no"})
    assert record["presumption_applies"] is False and rederived == ["presumption_applies"]


def test_records_without_a_decision_need_no_rebuttal_and_keep_their_own_rules():
    record, _ = corrected_record(DELIVERY, {"disclosed_at": "2027-03-04T11:00:00+00:00"})
    assert record["disclosed_at"] == "2027-03-04T11:00:00+00:00"
    assert set(_errors(DELIVERY, {"offender_notified": "maybe", "offender_notification_reasons": "tbc",
                                  "disclosed_at": "2027-02-30T10:00"})) == {
        "offender_notified", "offender_notification_reasons", "disclosed_at"}


def test_clearing_an_answer_that_is_not_required_is_allowed_but_not_a_choice_or_reason():
    record, _ = corrected_record({**S327A, "conditions": "Not to be passed on"}, {"conditions": None})
    assert record["conditions"] is None
    assert set(_errors(S327A, {"legal_basis": None, "decision_reasons": "  "})) == {"legal_basis", "decision_reasons"}


def test_shapes_are_asked_only_of_changed_fields():
    """A list or text field the policy's own form shaped differently does not block an
    unrelated correction; a changed one must have the vocabulary's shape."""
    old = {**S327A, "conditions": ["Not to be passed on"]}
    record, _ = corrected_record(old, {"security_marking": "OFFICIAL"})
    assert record["conditions"] == ["Not to be passed on"]
    assert set(_errors(old, {"conditions": ["Still a list"]})) == {"conditions"}
