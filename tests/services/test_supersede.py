"""Correcting a decision follows the same statutory rules as the forms that recorded it.

The records here come from the shipped s.327A consideration, completed along its realistic
paths (workflows/tests), so they hold what a real record holds: both tests, the derived
presumption, the decision and its reasons.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import Decision
from disclosure_engine.services import audit, cases, decisions
from disclosure_engine.services.workflows import deploy_shipped

from .helpers import case_payload, complete_step, make_actor, shipped_path

REASON = "The decision was recorded against the wrong outcome at the meeting on 3 March."
REBUTTAL = "Ms B already knows of the convictions from the subject himself and has ended the relationship."


@pytest.fixture()
def world(db, settings):
    deploy_shipped(db, settings)
    officer = make_actor(db, "officer.kent", "officer")
    manager = make_actor(db, "manager.kent", "manager")
    return {"db": db, "officer": officer, "manager": manager}


def _decided(world, path: str = "level 1, presumption applies, disclose") -> int:
    db, officer = world["db"], world["officer"]
    case = cases.create_case(db, officer, case_payload())
    process_id = case["processes"][0]["id"]
    done: dict = {}
    for step in shipped_path("s327a_consideration", path):
        done = complete_step(db, world["manager"] if step["task"] == "decide" else officer, process_id, step)
    assert done["decision_id"], done
    return done["decision_id"]


def _versions(db, decision_id: int) -> int:
    with db.transaction() as session:
        process_id = session.get(Decision, decision_id).process_id
        return len(session.execute(select(Decision.id).where(Decision.process_id == process_id)).all())


def _refused(world, decision_id: int, changes: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as refused:
        decisions.supersede(world["db"], world["manager"], decision_id, changes, REASON)
    assert _versions(world["db"], decision_id) == 1, "a refused correction writes nothing"
    return refused.value.errors


def test_not_disclosing_under_the_presumption_needs_rebuttal_and_real_reasons(world):
    """The reviewer's first case: presumption applies, decision changed to do_not_disclose
    with decision_reasons "n/a" and no rebuttal reasons."""
    decision_id = _decided(world)
    errors = _refused(world, decision_id, {"decision": "do_not_disclose", "decision_reasons": "n/a"})
    assert set(errors) == {"decision_reasons", "presumption_rebuttal_reasons"}
    assert "placeholder" in errors["decision_reasons"][0]
    assert "rebutted" in errors["presumption_rebuttal_reasons"][0]
    # with real reasons and the rebuttal the same correction is accepted
    new = decisions.supersede(world["db"], world["manager"], decision_id, {
        "decision": "do_not_disclose", "presumption_rebuttal_reasons": REBUTTAL,
        "decision_reasons": "The risk is now managed by the recipient's own knowledge and actions."}, REASON)
    assert new["decision"] == "do_not_disclose" and new["presumption_applies"] is True
    with world["db"].transaction() as session:
        assert session.get(Decision, new["id"]).outcome == "do_not_disclose"


def test_presumption_is_never_a_change_and_answers_must_be_allowed_values(world):
    """The reviewer's second case: presumption_applies set directly, test (a) "banana"."""
    decision_id = _decided(world)
    errors = _refused(world, decision_id, {"presumption_applies": False, "serious_harm_risk": "banana"})
    assert set(errors) == {"presumption_applies", "serious_harm_risk"}
    assert errors["serious_harm_risk"] == ["Select yes or no"]
    assert "derived" in errors["presumption_applies"][0]


@pytest.mark.parametrize("changes, field", [
    ({"decision": "maybe"}, "decision"),
    ({"decision": None}, "decision"),
    ({"legal_basis": "gut_feeling"}, "legal_basis"),
    ({"disclosure_necessary": "perhaps"}, "disclosure_necessary"),
    ({"representations_sought": True}, "representations_sought"),
    ({"decision": "defer"}, "review_date"),
    ({"decision": "defer", "review_date": "2027-02-30"}, "review_date"),
    ({"decision": "defer", "review_date": "next week"}, "review_date"),
    ({"disclosed_at": "yesterday"}, "disclosed_at"),
    ({"serious_harm_reasons": ""}, "serious_harm_reasons"),
    ({"necessity_reasons": "see above"}, "necessity_reasons"),
    ({"decision_makers": "DI Smith"}, "decision_makers"),
    ({"decision_makers": []}, "decision_makers"),
    ({"conditions": ["not", "text"]}, "conditions"),
], ids=lambda v: "-".join(v) if isinstance(v, dict) else v)
def test_each_rule_names_its_field(world, changes, field):
    decision_id = _decided(world)
    errors = _refused(world, decision_id, changes)
    assert field in errors, errors


def test_changing_a_test_derives_the_presumption_again(world):
    """Test (a) corrected to "no": the presumption no longer applies, so not disclosing needs no
    rebuttal; and the new version's stored flag (the decision log's filter) follows."""
    db, manager = world["db"], world["manager"]
    decision_id = _decided(world)
    new = decisions.supersede(db, manager, decision_id, {
        "serious_harm_risk": "no", "decision": "do_not_disclose",
        "serious_harm_reasons": "The ARMS assessment was of another subject; his own rates him low risk.",
        "decision_reasons": "With no risk of serious harm to Child A there is nothing to protect her from."}, REASON)
    assert new["presumption_applies"] is False
    with db.transaction() as session:
        assert session.get(Decision, new["id"]).presumption_applies is False
    event = next(e for e in audit.list_events(db, SYSTEM, limit=50) if e["action"] == "decision.superseded")
    assert event["detail"]["rederived"] == {"presumption_applies": False}
    # and back: test (a) met again, the presumption applies again, so the rebuttal is required
    errors = _refused_again(world, new["id"], {
        "serious_harm_risk": "yes",
        "serious_harm_reasons": "Correction reversed: the ARMS assessment was his after all, rating him high risk."})
    assert set(errors) == {"presumption_rebuttal_reasons"}


def _refused_again(world, decision_id: int, changes: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as refused:
        decisions.supersede(world["db"], world["manager"], decision_id, changes, REASON)
    return refused.value.errors


def test_a_record_already_valid_takes_an_ordinary_correction(world):
    decision_id = _decided(world, "level 1, presumption applies, do not disclose with rebuttal reasons")
    new = decisions.supersede(world["db"], world["manager"], decision_id, {"security_marking": "OFFICIAL"}, REASON)
    assert new["version"] == 2 and new["security_marking"] == "OFFICIAL"
