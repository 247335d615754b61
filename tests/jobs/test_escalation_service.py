"""The escalation ladder at the service level (no Redis): levels, working days, exactly once."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from disclosure_engine.domain.deadlines import due_at_for
from disclosure_engine.domain.errors import NotFound
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import (
    EscalationStep,
    HumanTask,
    Notification,
    utcnow,
)
from disclosure_engine.services import audit, escalation, notifications, tasks

from .conftest import OFFENDER_REFS, bulk_overdue, counts, start_ladder

LONDON = ZoneInfo("Europe/London")
PROPS = {"due_working_days": "2", "reminder_before": "P1D", "escalate_after": "P1D",
         "escalate_to_role": "chair"}


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def task_projected_at(world, start: datetime, props=PROPS) -> int:
    """A task row as the projection would write it if the task became ready at ``start``."""
    db = world["db"]
    process = start_ladder(world, f"KNT-2026-{uuid.uuid4().int % 10**6:06d}")
    plan = due_at_for(props, start)
    with db.transaction() as session:
        template = session.execute(select(HumanTask).where(HumanTask.instance_id == process["id"])).scalar_one()
        template.status = "cancelled"
        row = {c: getattr(template, c) for c in ("instance_id", "case_id", "area_id", "workflow_key",
                                                 "element_id", "name", "candidate_role")}
        return session.execute(insert(HumanTask).returning(HumanTask.id), [{
            **row, "spiff_task_id": str(uuid.uuid4()), "status": "open", "created_at": start,
            "records_decision": False, "due_at": plan.due_at, "reminder_at": plan.reminder_at,
            "escalate_at": plan.escalate_at, "escalate_to_role": plan.escalate_to_role,
            "escalation_level": 0, "next_escalation_at": plan.reminder_at or plan.due_at}]).scalar_one()


def level_at(world, task_id: int, when: datetime) -> int:
    escalation.escalate_task(world["db"], task_id, when.astimezone(UTC))
    with world["db"].transaction() as session:
        return session.get(HumanTask, task_id).escalation_level


def test_working_day_ladder_skips_easter_bank_holidays_and_the_weekend(world):
    # ready Thursday 2 April 2026; Good Friday (3rd) and Easter Monday (6th) are bank holidays:
    # 2 working days = Tue 7th, Wed 8th -> due Wed 8 April 17:00 BST
    task_id = task_projected_at(world, london(2026, 4, 2, 10, 0))
    with world["db"].transaction() as session:
        row = session.get(HumanTask, task_id)
        assert row.due_at == london(2026, 4, 8, 17, 0).astimezone(UTC)
    assert level_at(world, task_id, london(2026, 4, 3, 12)) == 0        # Good Friday: nothing
    assert level_at(world, task_id, london(2026, 4, 7, 16, 59)) == 0
    assert level_at(world, task_id, london(2026, 4, 7, 17, 0)) == 1     # reminder a day before
    assert level_at(world, task_id, london(2026, 4, 8, 16, 59, 59)) == 1
    assert level_at(world, task_id, london(2026, 4, 8, 17, 0)) == 2     # overdue at the due time
    assert level_at(world, task_id, london(2026, 4, 9, 16, 59)) == 2
    assert level_at(world, task_id, london(2026, 4, 9, 17, 0)) == 3     # escalated a day later
    assert level_at(world, task_id, london(2026, 4, 20, 9, 0)) == 3     # and never again
    assert counts(world["db"])["steps"] == {1: 1, 2: 1, 3: 1}


def test_working_day_due_across_the_spring_clock_change(world):
    # ready Friday 27 March 2026 (GMT); clocks go forward Sunday 29th; 1 working day -> Monday
    # 30th 17:00 BST = 16:00 UTC (not 17:00 UTC)
    task_id = task_projected_at(world, london(2026, 3, 27, 12, 0), {"due_working_days": "1"})
    assert level_at(world, task_id, datetime(2026, 3, 30, 15, 59, 59, tzinfo=UTC)) == 0
    assert level_at(world, task_id, datetime(2026, 3, 30, 16, 0, tzinfo=UTC)) == 2


def test_working_day_due_across_christmas_and_the_autumn_clock_change(world):
    # 26 Dec 2026 is a Saturday, so Boxing Day is observed on Monday 28th
    xmas = task_projected_at(world, london(2026, 12, 24, 15, 0), {"due_working_days": "1"})
    assert level_at(world, xmas, london(2026, 12, 28, 17, 30)) == 0
    assert level_at(world, xmas, london(2026, 12, 29, 17, 0)) == 2
    # ready Friday 23 October 2026 (BST); clocks go back Sunday 25th -> due Mon 26th 17:00 GMT
    autumn = task_projected_at(world, london(2026, 10, 23, 9, 0), {"due_working_days": "1"})
    assert level_at(world, autumn, datetime(2026, 10, 26, 16, 59, tzinfo=UTC)) == 0
    assert level_at(world, autumn, datetime(2026, 10, 26, 17, 0, tzinfo=UTC)) == 2


def test_each_level_notifies_the_right_people_in_the_area_only(world):
    db = world["db"]
    task_id = task_projected_at(world, london(2026, 4, 2, 10, 0))
    names = {}
    for when, level in ((london(2026, 4, 7, 17), 1), (london(2026, 4, 8, 17), 2), (london(2026, 4, 9, 17), 3)):
        escalation.escalate_task(db, task_id, when.astimezone(UTC))
        with db.transaction() as session:
            step = session.execute(select(EscalationStep).where(EscalationStep.task_id == task_id,
                                                                EscalationStep.level == level)).scalar_one()
            names[level] = sorted(u for u, in session.execute(
                select(Notification.user_id).where(Notification.step_id == step.id)))
    ids = {k: world[k].user_id for k in ("officer", "officer2", "manager", "chair")}
    assert names[1] == sorted([ids["officer"], ids["officer2"]])  # unassigned: the candidate role
    assert names[2] == [ids["manager"]]
    assert names[3] == [ids["chair"]]
    events = audit.list_events(db, SYSTEM, subject_type="task", subject_id=str(task_id))
    assert [e["action"] for e in reversed(events)] == ["task.reminded", "task.overdue", "task.escalated"]


def test_catching_up_skips_a_stale_reminder_and_records_the_rest_in_order(world):
    db = world["db"]
    task_id = task_projected_at(world, london(2026, 4, 2, 10, 0))
    result = escalation.escalate_task(db, task_id, london(2026, 4, 10, 9).astimezone(UTC))
    assert [s.kind for s in result.steps] == ["overdue", "escalated"]
    again = escalation.escalate_task(db, task_id, london(2026, 4, 10, 9).astimezone(UTC))
    assert again.steps == []
    with db.transaction() as session:
        row = session.get(HumanTask, task_id)
        assert (row.escalation_level, row.next_escalation_at) == (3, None)


def test_completed_and_cancelled_tasks_never_escalate(world):
    db = world["db"]
    process = start_ladder(world, "KNT-2026-000777")
    task = process["open_tasks"][0]
    tasks.complete(db, world["officer"], task["id"], {"outcome": "done"})
    cancelled = task_projected_at(world, london(2026, 4, 2, 10, 0))
    with db.transaction() as session:
        session.get(HumanTask, cancelled).status = "cancelled"
    later = utcnow() + timedelta(days=30)
    assert escalation.escalate_task(db, task["id"], later).steps == []
    assert escalation.escalate_task(db, cancelled, later).steps == []
    assert counts(db)["steps"] == {}


def test_racing_calls_record_each_step_once(world):
    db = world["db"]
    ids = bulk_overdue(world, 20)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for task_id in ids:
                escalation.escalate_task(db, task_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    c = counts(db)
    assert c["steps"] == {2: 20, 3: 20} and c["duplicates"] == 0
    assert c["audits"] == {"task.overdue": 20, "task.escalated": 20}


def test_notifications_hold_references_only_and_belong_to_their_user(world):
    db = world["db"]
    bulk_overdue(world, 1, reference="KNT-2026-424242")
    escalation.sweep_escalations(db)
    manager, chair, officer = world["manager"], world["chair"], world["officer"]
    assert notifications.unread_count(db, manager) == 1
    [note] = notifications.list_notifications(db, manager)
    assert set(note) >= {"id", "created_at", "subject", "body", "link", "read"}
    assert "KNT-2026-424242" in note["subject"] and note["link"].endswith(f"/tasks/{note['task_id']}")
    for text in (note["subject"], note["body"]):
        assert not any(ref in text for ref in OFFENDER_REFS)
        assert "Theft" not in text and "2019" not in text
    with pytest.raises(NotFound):
        notifications.mark_read(db, officer, note["id"])
    notifications.mark_read(db, manager, note["id"])
    assert notifications.unread_count(db, manager) == 0
    assert notifications.list_notifications(db, manager)[0]["read"] is True
    assert notifications.unread_count(db, chair) == 1
    history = escalation.escalation_history(db, manager, note["task_id"])
    assert [h["kind"] for h in history] == ["overdue", "escalated"]
    late = escalation.escalated_tasks(db, manager)["items"]
    assert [t["id"] for t in late] == [note["task_id"]] and late[0]["escalation_level"] == 3


def test_sweep_command_runs_in_the_foreground_without_redis(world, sweep_cli):
    bulk_overdue(world, 3)
    result = sweep_cli()
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("timers: 0 due, 0 fired, 0 failed; "
                                     "hand-offs: 0 pending, 0 started, 0 failed; "
                                     "reviews: 0 scheduled, 0 due, 0 started; "
                                     "escalations: reminded 0, overdue 3, escalated 3")
    again = sweep_cli()
    assert "escalations: reminded 0, overdue 0, escalated 0" in again.output


def test_task_read_shows_the_escalation_history(db, settings):
    """Officers and managers see when a task was reminded, marked overdue and escalated."""
    from datetime import timedelta

    from disclosure_engine.persistence.models import HumanTask, utcnow
    from disclosure_engine.services import cases, escalation, processes, tasks

    from ..services.helpers import case_payload, deploy_mini, make_actor

    deploy_mini(db)
    officer = make_actor(db, "officer.hist", "officer")
    make_actor(db, "manager.hist", "manager")
    case = cases.create_case(db, officer, case_payload(reference="KNT-HIST-0001", cso=False))
    task_id = processes.start_process(db, officer, case["id"], "mini_decision")["open_tasks"][0]["id"]
    with db.transaction() as s:
        row = s.get(HumanTask, task_id)
        row.due_at = row.next_escalation_at = utcnow() - timedelta(minutes=5)
    escalation.escalate_task(db, task_id)
    view = tasks.get_task(db, officer, task_id)
    assert view["overdue"] is True and view["escalation_level"] == 2
    assert [s["kind"] for s in view["escalation_history"]] == ["overdue"]
