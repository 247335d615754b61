"""Changing a case's MAPPA level: with a reason, by a chair or manager of its area; the steps
still to come of a running consideration follow the new level, and the next review moves."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from disclosure_engine.domain.errors import Forbidden, NotFound, ValidationFailed
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.services import (
    audit,
    case_level,
    cases,
    decisions,
    processes,
    reviews,
)

from .helpers import (  # noqa: F401
    complete_step,
    make_actor,
    new_consideration,
    replay_path,
    shipped_path,
    staff,
)

WHY = "MAPP meeting of 1 December raised the case: new intelligence of contact with a child."
LEVEL1 = "level 1, presumption applies, disclose"
LEVEL2 = "level 2, officer proposes, chair signs off"


def _open(db, actor, process_id: int) -> list[str]:
    return [t["element_id"] for t in processes.get_process(db, actor, process_id)["open_tasks"]]


def test_a_consideration_moved_to_level_2_before_its_decision_goes_to_the_meeting(db, staff):  # noqa: F811
    case_id, process_id = new_consideration(db, staff, level=1)
    steps = shipped_path("s327a_consideration", LEVEL2)
    for step in steps[:3]:  # children, tests (the presumption derived), proportionality
        complete_step(db, staff["officer"], process_id, step)
    assert _open(db, staff["officer"], process_id) == ["consider_representations"]
    result = case_level.change_level(db, staff["manager"], case_id, {"level": 2, "reason": WHY})
    assert result["level"] == 2 and result["processes_updated"] == [process_id]
    assert result["notices"] == [], "no decision step was open yet"
    # the rest of the level 2 path runs through (the level 1 route would open 'decide' instead)
    for step in steps[3:]:
        complete_step(db, staff["chair" if step["task"] == "chair_signoff" else "officer"], process_id, step)
    assert processes.get_process(db, staff["manager"], process_id)["status"] == "completed"
    (record,) = decisions.list_decisions(db, staff["manager"])
    assert record["mappa_level"] == 2
    (event,) = audit.list_events(db, SYSTEM, action="case.level_changed", subject_id=str(case_id))
    assert event["actor_name"] == "manager.kent" and event["justification"] == WHY
    assert (event["detail"]["before"], event["detail"]["after"]) == (1, 2)
    assert event["detail"]["processes_updated"] == [process_id]


def test_an_open_decision_step_is_named_for_a_person_to_check(db, staff):  # noqa: F811
    case_id, process_id = new_consideration(db, staff, level=1)
    for step in shipped_path("s327a_consideration", LEVEL1)[:4]:
        complete_step(db, staff["officer"], process_id, step)
    assert _open(db, staff["officer"], process_id) == ["decide"]
    result = case_level.change_level(db, staff["chair"], case_id, {"level": 3, "reason": WHY})
    (notice,) = result["notices"]
    assert "Decision (lead agency, level 1)" in notice and "level 3" in notice
    assert _open(db, staff["officer"], process_id) == ["decide"], "an open step is not withdrawn"


def test_the_next_review_follows_the_new_levels_period(db, staff):  # noqa: F811
    case_id, first = new_consideration(db, staff, level=2)
    replay_path(db, staff, first, "s327a_consideration", LEVEL2)
    reviews.sweep_reviews(db)
    at_level_2 = datetime.fromisoformat(cases.get_case(db, staff["officer"], case_id)["next_review_at"])
    raised = case_level.change_level(db, staff["manager"], case_id, {"level": 3, "reason": WHY})
    at_level_3 = datetime.fromisoformat(raised["next_review_at"])
    assert at_level_2 - at_level_3 == timedelta(weeks=8), "8 weeks after the last consideration, not 16"
    assert raised["processes_updated"] == [] and any("Next review" in n for n in raised["notices"])
    lowered = case_level.change_level(db, staff["manager"], case_id, {"level": 1, "reason": WHY})
    assert lowered["next_review_at"] is None, "Kent has no automatic level 1 review"
    (event,) = audit.list_events(db, SYSTEM, action="case.level_changed", subject_id=str(case_id), limit=1)
    assert event["detail"]["next_review_before"] is not None and event["detail"]["next_review_at"] is None


def test_a_running_consideration_keeps_scheduling_the_next_review(db, staff):  # noqa: F811
    case_id, _process_id = new_consideration(db, staff, level=2)
    result = case_level.change_level(db, staff["manager"], case_id, {"level": 3, "reason": WHY})
    assert result["next_review_at"] is None, "the running one schedules it when it completes"


def test_who_may_change_a_level_and_what_is_refused(db, staff):  # noqa: F811
    case_id, _ = new_consideration(db, staff, level=1)
    with pytest.raises(Forbidden):
        case_level.change_level(db, staff["officer"], case_id, {"level": 2, "reason": WHY})
    essex = make_actor(db, "manager.essex", "manager", "essex")
    with pytest.raises(NotFound):
        case_level.change_level(db, essex, case_id, {"level": 2, "reason": WHY})
    cases_to_refuse = [
        ({"level": 1, "reason": WHY}, {"level"}),
        ({"level": "2", "reason": WHY}, {"level"}),
        ({"level": True, "reason": WHY}, {"level"}),
        ({"level": 4, "reason": "n/a"}, {"level", "reason"}),
        ({"level": 2}, {"reason"}),
        ({"level": 2, "reason": WHY, "category": 1}, {"category"}),
    ]
    for payload, fields in cases_to_refuse:
        with pytest.raises(ValidationFailed) as refused:
            case_level.change_level(db, staff["manager"], case_id, payload)
        assert set(refused.value.errors) == fields, payload
    assert cases.get_case(db, staff["officer"], case_id)["level"] == 1, "nothing was changed"
    assert audit.list_events(db, SYSTEM, action="case.level_changed", subject_id=str(case_id)) == []
