"""A newcomer's demo: fictional cases in all 42 areas, every workflow, work in every state."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from disclosure_engine.domain.areas import AREAS
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import (
    Area,
    Case,
    Decision,
    EscalationStep,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    User,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.demo import DEMO_AREAS, DEMO_PASSWORD, create_demo_data
from disclosure_engine.services.users import authenticate


def test_demo_data_covers_areas_workflows_and_states(db, settings):
    result = create_demo_data(db, settings, cases=60, seed=3)
    assert result.cases == 60 and result.decisions > 0
    with db.transaction() as s:
        areas = s.execute(select(func.count(func.distinct(Case.area_id)))).scalar_one()
        keys = set(s.execute(select(ProcessDefinition.key).join(ProcessInstance)).scalars())
        statuses = set(s.execute(select(ProcessInstance.status)).scalars())
        overdue = s.execute(select(func.count()).select_from(HumanTask).where(
            HumanTask.status == "open", HumanTask.due_at < utcnow())).scalar_one()
        outcomes = set(s.execute(select(Decision.outcome)).scalars())
    assert areas == len(AREAS) == 42
    assert keys >= {"s327a_consideration", "csods_application", "urgent_disclosure", "disclosure_delivery"}
    assert {"waiting", "completed"} <= statuses
    assert overdue > 0, "the overdue views have something to show"
    assert outcomes & {"disclose", "do_not_disclose", "defer"}
    with db.transaction() as s:
        waiting = set(s.execute(select(Area.slug).join(Case, Case.area_id == Area.id)
                                .where(Case.schedule_34a_review_needed.is_(True))).scalars())
        per_area = dict(s.execute(select(Area.slug, func.count()).join(Case, Case.area_id == Area.id)
                                  .group_by(Area.slug)).all())
    # a sign-in area's second case waits for a Schedule 34A judgement (the "cases waiting" list)
    assert {a for a in DEMO_AREAS if per_area.get(a, 0) >= 2} <= waiting
    assert any(per_area.get(a, 0) >= 2 for a in DEMO_AREAS)
    assert audit.verify_chain(db).ok


def test_demo_deliveries_are_handed_off_by_decisions_to_disclose(db, settings):
    """No delivery is started by hand: each comes from a consideration that ended in a decision
    to disclose, through the sweep, for the same case, with that decision; none is left pending."""
    create_demo_data(db, settings, cases=40, seed=5)
    with db.transaction() as s:
        deliveries = s.execute(select(ProcessInstance).join(ProcessDefinition)
                               .where(ProcessDefinition.key == "disclosure_delivery")).scalars().all()
        origins = {d.id: s.get(ProcessInstance, d.started_from_id) for d in deliveries}
        pending = s.execute(select(func.count()).select_from(ProcessInstance)
                            .where(ProcessInstance.handoff_pending.is_(True))).scalar_one()
        disclosed = s.execute(select(func.count()).select_from(ProcessInstance)
                              .where(ProcessInstance.end_event == "end_disclose")).scalar_one()
    assert deliveries and pending == 0 and len(deliveries) == disclosed
    for d in deliveries:
        origin = origins[d.id]
        assert origin is not None and origin.end_event == "end_disclose" and origin.case_id == d.case_id
    handed = audit.list_events(db, SYSTEM, action="process.handed_off", limit=500)
    assert sorted(e["detail"]["to_process"] for e in handed) == sorted(d.id for d in deliveries)
    assert all(e["detail"]["decision_id"] for e in handed)


def test_demo_logins_work_and_a_second_run_changes_nothing(db, settings):
    create_demo_data(db, settings, cases=5, seed=1)
    for username, _ in create_demo_data(db, settings, cases=5, seed=1, if_empty=True).logins:
        assert authenticate(db, username, DEMO_PASSWORD) is not None, username
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 5


def _task_states(db):
    """What a demo user sees, without ids or times: (case, workflow, step, status, assignee, level)."""
    with db.transaction() as s:
        rows = s.execute(select(Case.reference, HumanTask.workflow_key, HumanTask.element_id, HumanTask.status,
                                User.username, HumanTask.escalation_level)
                         .join(Case, Case.id == HumanTask.case_id)
                         .outerjoin(User, User.id == HumanTask.assignee_id)).all()
    return sorted(tuple(r) for r in rows)


def test_demo_tasks_are_in_every_state(db, settings):
    result = create_demo_data(db, settings, cases=60, seed=3)
    states = _task_states(db)
    assert {"open", "paused", "completed", "cancelled"} <= {status for *_, status, _, _ in states}
    claimed = [(step, user) for _, _, step, status, user, _ in states if status == "open" and user]
    assert claimed, "some tasks are claimed and not completed"
    assert all(user.split(".")[0] in ("officer", "chair", "manager") for _, user in claimed)
    assert any(user in {name for name, _ in result.logins} for _, user in claimed), \
        "a demo sign-in has something in My tasks"
    with db.transaction() as s:
        kinds = set(s.execute(select(EscalationStep.kind)).scalars())
        withdrawn = s.execute(select(HumanTask.instance_id).where(
            HumanTask.status == "cancelled", HumanTask.element_id == "record_representations")).scalars().all()
        moved_on = s.execute(select(HumanTask.element_id).where(
            HumanTask.instance_id.in_(withdrawn), HumanTask.status == "open")).scalars().all()
        requested = s.execute(select(HumanTask.data).where(
            HumanTask.instance_id.in_(withdrawn), HumanTask.element_id == "consider_representations",
            HumanTask.status == "completed")).scalars().all()
    assert kinds == {"reminded", "overdue", "escalated"}, "overdue work went up the ladder"
    assert withdrawn and len(moved_on) == len(withdrawn) and set(moved_on) <= {"decide", "propose_decision"}, \
        "a lapsed representations window withdrew its task and the process moved on to the decision"
    assert result.states.tasks["claimed"] == len(claimed) and result.states.tasks["cancelled"] == len(withdrawn)
    # the request was recorded before the window it opened, not "today"
    assert len(requested) == len(withdrawn)
    assert all(date.fromisoformat(d["representations_requested_on"]) <= date.today() - timedelta(days=28)
               for d in requested)
    # the windows lapsed by the real clock (SpiffWorkflow fires those itself): each is on record
    fired = audit.list_events(db, SYSTEM, action="process.timer_fired", limit=500)
    assert sorted(int(e["subject_id"]) for e in fired) == sorted(set(withdrawn))
    assert all(e["detail"]["fired"] >= 1 for e in fired)
    assert audit.verify_chain(db).ok


def test_demo_states_are_the_same_for_the_same_seed(db, settings):
    from tests.conftest import _empty

    create_demo_data(db, settings, cases=30, seed=11)
    first = _task_states(db)
    _empty(db)
    create_demo_data(db, settings, cases=30, seed=11)
    assert _task_states(db) == first
