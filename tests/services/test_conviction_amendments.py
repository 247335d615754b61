"""A case whose Schedule 34A matching needs a person's judgement is listed as such, and
recording the missing facts matches it again and starts the s.327A consideration."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from disclosure_engine.domain.errors import Forbidden, NotFound, ValidationFailed
from disclosure_engine.persistence.models import AuditEvent, ProcessInstance
from disclosure_engine.services import audit, cases, convictions

from .helpers import case_payload, make_actor, staff  # noqa: F401  (fixture)

SOA03 = "Sexual Offences Act 2003"
RAPE_AGE_UNKNOWN = {"statute": SOA03, "section": "1", "date": "2015-06-02", "disposal": "conviction",
                    "jurisdiction": "england-wales"}
FOREIGN = {"statute": "Code penal", "section": "227-25", "date": "2016-01-20", "disposal": "conviction",
           "jurisdiction": "france"}
OPINION = {"equivalent_statute": SOA03, "equivalent_section": "9", "by": "MAPPA coordinator, Kent",
           "reasons": "The French offence has the elements of sexual activity with a child under 16."}
WHY = "Victim's date of birth confirmed from the CPS file: she was 15 at the time of the offence."


def _case(db, staff, *convictions_, reference="KNT-2026-000777"):
    payload = {**case_payload(reference), "convictions": list(convictions_)}
    return cases.create_case(db, staff["officer"], payload)


def _considerations(db, case_id):
    with db.transaction() as session:
        return [(p.status, p.definition.key) for p in session.execute(
            select(ProcessInstance).where(ProcessInstance.case_id == case_id)).scalars()]


def test_an_unknown_victim_age_leaves_the_case_waiting_for_a_judgement(db, staff):
    case = _case(db, staff, RAPE_AGE_UNKNOWN)
    assert case["child_sex_offender"] is False and case["processes"] == []
    assert case["schedule_34a_review_needed"] is True
    assert [q["kind"] for q in case["schedule_34a_review"]] == ["needs_victim_age"]
    again = cases.get_case(db, staff["officer"], case["id"])
    assert again["schedule_34a_review"] == case["schedule_34a_review"]
    waiting = cases.list_cases(db, staff["manager"], needs_review=True)
    assert [c["reference"] for c in waiting["items"]] == ["KNT-2026-000777"]
    assert cases.list_cases(db, staff["manager"], needs_review=False)["total"] == 0


def test_recording_the_victims_age_makes_the_duty_apply_and_starts_the_consideration(db, staff):
    case = _case(db, staff, RAPE_AGE_UNKNOWN)
    amended = convictions.amend_convictions(db, staff["officer"], case["id"], {
        "convictions": [{**RAPE_AGE_UNKNOWN, "victim_age": 15}], "reason": WHY})

    assert amended["child_sex_offender"] is True
    assert amended["schedule_34a_review_needed"] is False and amended["schedule_34a_review"] == []
    assert [m["section"] for m in amended["schedule_34a_matches"]] == ["1"]
    assert amended["convictions"][0]["victim_age"] == 15
    assert amended["consideration_started"] == amended["processes"][0]["id"]
    assert _considerations(db, case["id"]) == [("waiting", "s327a_consideration")]
    assert cases.list_cases(db, staff["manager"], needs_review=True)["total"] == 0
    with db.transaction() as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "case.convictions_amended")).scalar_one()
    assert event.justification == WHY and event.actor_name == "officer.kent"
    assert event.detail["before"]["convictions"][0].get("victim_age") is None
    assert event.detail["before"]["child_sex_offender"] is False
    assert event.detail["after"]["child_sex_offender"] is True
    assert audit.verify_chain(db).ok


def test_an_equivalence_opinion_makes_a_foreign_conviction_count(db, staff):
    case = _case(db, staff, FOREIGN)
    assert [q["kind"] for q in case["schedule_34a_review"]] == ["needs_equivalence_opinion"]
    amended = convictions.amend_convictions(db, staff["officer"], case["id"], {
        "convictions": [{**FOREIGN, "equivalence_opinion": OPINION}], "reason": WHY})
    assert amended["child_sex_offender"] is True and amended["consideration_started"] is not None
    assert amended["convictions"][0]["equivalence_opinion"]["by"] == "MAPPA coordinator, Kent"


def test_a_confirmed_condition_is_kept_and_a_refused_one_ends_the_question(db, staff):
    burglary = {"statute": "Theft Act 1968", "section": "9", "date": "2012-02-02", "disposal": "conviction",
                "victim_age": 16, "jurisdiction": "england-wales"}
    case = _case(db, staff, burglary)
    assert [q["kind"] for q in case["schedule_34a_review"]] == ["needs_condition"]
    refused = convictions.amend_convictions(db, staff["officer"], case["id"], {
        "convictions": [{**burglary, "condition_met": False}], "reason": WHY})
    assert refused["child_sex_offender"] is False and refused["schedule_34a_review_needed"] is False
    assert refused["consideration_started"] is None and refused["convictions"][0]["condition_met"] is False
    confirmed = convictions.amend_convictions(db, staff["officer"], case["id"], {
        "convictions": [{**burglary, "condition_met": True}], "reason": WHY})
    assert confirmed["child_sex_offender"] is True and confirmed["convictions"][0]["condition_met"] is True


def test_a_running_consideration_is_not_started_twice_nor_stopped(db, staff):
    case = _case(db, staff, {**RAPE_AGE_UNKNOWN, "victim_age": 14})
    assert _considerations(db, case["id"]) == [("waiting", "s327a_consideration")]
    more = convictions.amend_convictions(db, staff["officer"], case["id"], {
        "convictions": [{**RAPE_AGE_UNKNOWN, "victim_age": 14}, FOREIGN | {"equivalence_opinion": OPINION}],
        "reason": WHY})
    assert more["consideration_started"] is None
    assert any("already running" in n for n in more["notices"])
    gone = convictions.amend_convictions(db, staff["officer"], case["id"], {
        "convictions": [{**RAPE_AGE_UNKNOWN, "victim_age": 19}], "reason": WHY})
    assert gone["child_sex_offender"] is False
    assert any("has not been stopped" in n for n in gone["notices"])
    assert _considerations(db, case["id"]) == [("waiting", "s327a_consideration")]


def test_bad_input_is_refused_field_by_field_and_changes_nothing(db, staff):
    case = _case(db, staff, RAPE_AGE_UNKNOWN)
    before = audit.chain_head(db)["seq"]
    with pytest.raises(ValidationFailed) as refused:
        convictions.amend_convictions(db, staff["officer"], case["id"], {
            "convictions": [{**RAPE_AGE_UNKNOWN, "victim_age": 200}], "reason": "n/a", "level": 3})
    assert set(refused.value.errors) == {"convictions.0.victim_age", "reason", "level"}
    with pytest.raises(ValidationFailed) as empty:
        convictions.amend_convictions(db, staff["officer"], case["id"], {"convictions": [], "reason": WHY})
    assert "convictions" in empty.value.errors
    assert audit.chain_head(db)["seq"] == before
    assert cases.get_case(db, staff["officer"], case["id"])["convictions"][0].get("victim_age") is None


def test_only_case_roles_in_the_cases_area_may_amend(db, staff):
    case = _case(db, staff, RAPE_AGE_UNKNOWN)
    body = {"convictions": [{**RAPE_AGE_UNKNOWN, "victim_age": 15}], "reason": WHY}
    with pytest.raises(NotFound):
        convictions.amend_convictions(db, make_actor(db, "officer.essex", "officer", "essex"), case["id"], body)
    with pytest.raises(Forbidden):
        convictions.amend_convictions(db, make_actor(db, "auditor.kent", "auditor"), case["id"], body)
    assert cases.get_case(db, staff["officer"], case["id"])["child_sex_offender"] is False


def test_a_reason_shorter_than_a_real_reason_is_refused(db, staff):
    case = _case(db, staff, RAPE_AGE_UNKNOWN)
    with pytest.raises(ValidationFailed) as refused:
        convictions.amend_convictions(db, staff["officer"], case["id"], {
            "convictions": [RAPE_AGE_UNKNOWN], "reason": "typo"})
    assert list(refused.value.errors) == ["reason"]


def test_a_page_of_cases_is_a_consultation_and_the_inbox_count_is_not(db, staff):
    case = _case(db, staff, RAPE_AGE_UNKNOWN)
    before = audit.chain_head(db)["seq"]
    assert cases.waiting_count(db, staff["officer"]) == 1
    assert audit.chain_head(db)["seq"] == before  # a number shows no case
    cases.list_cases(db, staff["manager"], needs_review=True)
    with db.transaction() as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "cases.listed")).scalar_one()
    assert event.detail["ids"] == [case["id"]] and event.detail["filters"] == {"needs_review": True}
    assert event.actor_name == "manager.kent" and event.area == "kent"
    cases.list_cases(db, staff["manager"], reference="NOT-THERE")
    with db.transaction() as session:
        listed = session.execute(select(AuditEvent.seq).where(AuditEvent.action == "cases.listed")).all()
    assert len(listed) == 1  # an empty page shows nothing
