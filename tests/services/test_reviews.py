"""The s.327A consideration again at every MAPPA review: a completed consideration schedules
the next by the area's period for the case's level, and the sweep starts it once."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from disclosure_engine.domain.errors import Forbidden, ValidationFailed
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import Case, ProcessInstance
from disclosure_engine.services import audit, cases, processes, reviews

from .helpers import new_consideration, replay_path, staff  # noqa: F401  (staff is a fixture)

LEVEL2 = "level 2, officer proposes, chair signs off"
LONDON = ZoneInfo("Europe/London")


def _completed_at(db, process_id: int):
    with db.transaction() as session:
        return session.get(ProcessInstance, process_id).completed_at


def _considerations(db, actor, case_id: int) -> list[dict]:
    return [p for p in cases.get_case(db, actor, case_id)["processes"] if p["workflow"] == "s327a_consideration"]


def test_a_completed_level_2_consideration_starts_again_16_weeks_later_once(db, staff):  # noqa: F811
    case_id, first = new_consideration(db, staff, level=2)
    replay_path(db, staff, first, "s327a_consideration", LEVEL2)
    report = reviews.sweep_reviews(db)
    assert (report.scheduled, report.due, report.started) == (1, 0, 0)
    due = datetime.fromisoformat(cases.get_case(db, staff["officer"], case_id)["next_review_at"])
    done = _completed_at(db, first).astimezone(LONDON)
    assert due.astimezone(LONDON).replace(tzinfo=None) == done.replace(tzinfo=None) + timedelta(weeks=16)
    (event,) = audit.list_events(db, SYSTEM, action="case.review_scheduled", subject_id=str(case_id))
    assert event["detail"]["period"] == "P16W" and event["detail"]["after_process"] == first
    assert reviews.sweep_reviews(db, due - timedelta(minutes=1)).started == 0, "not before the review"
    started = reviews.sweep_reviews(db, due + timedelta(minutes=1))
    assert (started.due, started.started, started.failed) == (1, 1, [])
    assert reviews.sweep_reviews(db, due + timedelta(days=1)).due == 0, "started once"
    running = [p for p in _considerations(db, staff["officer"], case_id) if p["status"] == "waiting"]
    assert len(running) == 1 and running[0]["id"] != first
    first_task = processes.get_process(db, staff["officer"], running[0]["id"])["open_tasks"][0]
    assert first_task["element_id"] == "identify_children"
    (start,) = audit.list_events(db, SYSTEM, action="process.started", subject_id=str(running[0]["id"]))
    assert start["detail"]["trigger"] == "mappa_review"
    assert cases.get_case(db, staff["officer"], case_id)["next_review_at"] is None, \
        "the running one schedules the next when it completes"


def test_no_second_consideration_while_one_is_running(db, staff):  # noqa: F811
    case_id, first = new_consideration(db, staff, level=2)
    replay_path(db, staff, first, "s327a_consideration", LEVEL2)
    reviews.sweep_reviews(db)
    processes.start_process(db, staff["officer"], case_id, "s327a_consideration")  # new information
    due = datetime.fromisoformat(cases.get_case(db, staff["officer"], case_id)["next_review_at"]) + timedelta(minutes=1)
    report = reviews.sweep_reviews(db, due)
    assert (report.due, report.started) == (1, 0)
    (skipped,) = audit.list_events(db, SYSTEM, action="case.review_skipped", subject_id=str(case_id))
    assert "already running" in skipped["detail"]["reason"]
    assert len([p for p in _considerations(db, staff["officer"], case_id) if p["status"] == "waiting"]) == 1


def test_level_1_has_no_automatic_review_until_the_area_sets_one(db, staff):  # noqa: F811
    case_id, first = new_consideration(db, staff, level=1)
    replay_path(db, staff, first, "s327a_consideration", "level 1, presumption applies, disclose")
    assert reviews.sweep_reviews(db).scheduled == 0
    assert cases.get_case(db, staff["officer"], case_id)["next_review_at"] is None
    reviews.set_review_period(db, SYSTEM, "kent", 1, "P26W")
    second_case, second = new_consideration(db, staff, "KNT-2026-000002", level=1)
    replay_path(db, staff, second, "s327a_consideration", "level 1, presumption applies, disclose")
    reviews.sweep_reviews(db)
    scheduled = datetime.fromisoformat(cases.get_case(db, staff["officer"], second_case)["next_review_at"])
    done = _completed_at(db, second).astimezone(LONDON)
    assert scheduled.astimezone(LONDON).replace(tzinfo=None) == done.replace(tzinfo=None) + timedelta(weeks=26), \
        "26 weeks later at the same London time (across a clock change)"


@pytest.mark.parametrize("period", ["P1D", "P3Y", "soon"])
def test_a_review_period_outside_a_week_to_two_years_is_refused(db, staff, period):  # noqa: F811
    with pytest.raises(ValidationFailed) as refused:
        reviews.set_review_period(db, SYSTEM, "kent", 2, period)
    assert "period" in refused.value.errors
    assert reviews.list_areas(db)[[a["area"] for a in reviews.list_areas(db)].index("kent")]["review_periods"] == \
        {"1": None, "2": "P16W", "3": "P8W"}


def test_only_an_administrator_sets_review_periods_and_it_is_audited(db, staff):  # noqa: F811
    with pytest.raises(Forbidden):
        reviews.set_review_period(db, staff["manager"], "kent", 3, "P6W")
    view = reviews.set_review_period(db, SYSTEM, "kent", 3, "p6w")
    assert view["review_periods"]["3"] == "P6W"
    (event,) = audit.list_events(db, SYSTEM, action="area.review_period_set")
    assert event["detail"] == {"level": 3, "before": "P8W", "after": "P6W"}
    assert reviews.set_review_period(db, SYSTEM, "kent", 3, "none")["review_periods"]["3"] is None


def test_a_case_no_longer_a_child_sex_offenders_is_not_reconsidered(db, staff):  # noqa: F811
    case_id, first = new_consideration(db, staff, level=2)
    replay_path(db, staff, first, "s327a_consideration", LEVEL2)
    reviews.sweep_reviews(db)
    with db.transaction() as session:
        session.get(Case, case_id).child_sex_offender = False
    due = datetime.fromisoformat(cases.get_case(db, staff["officer"], case_id)["next_review_at"]) + timedelta(minutes=1)
    assert reviews.sweep_reviews(db, due).started == 0
    (skipped,) = audit.list_events(db, SYSTEM, action="case.review_skipped", subject_id=str(case_id))
    assert "no longer" in skipped["detail"]["reason"]
    with db.transaction() as session:
        assert session.execute(select(Case.next_review_at).where(Case.id == case_id)).scalar() is None


def test_a_case_held_by_another_transaction_keeps_its_mark_for_the_next_sweep(db, staff):  # noqa: F811
    if db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no row is ever held by another")
    case_id, first = new_consideration(db, staff, level=2)
    replay_path(db, staff, first, "s327a_consideration", LEVEL2)
    with db.engine.connect() as other, other.begin():
        other.execute(select(Case.id).where(Case.id == case_id).with_for_update())
        assert reviews.schedule_review(db, first) is None, "skipped while the case is held"
    assert reviews.pending_schedules(db) == [first], "the mark stays: nothing was lost"
    assert reviews.schedule_review(db, first) is not None
    assert reviews.pending_schedules(db) == []
