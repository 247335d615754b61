"""A newcomer's demo: fictional cases in all 42 areas, every workflow, work in every state."""
from __future__ import annotations

from sqlalchemy import func, select

from disclosure_engine.domain.areas import AREAS
from disclosure_engine.persistence.models import (
    Case,
    Decision,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.demo import DEMO_PASSWORD, create_demo_data
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
    assert keys >= {"s327a_consideration", "csods_application", "urgent_disclosure"}
    assert {"waiting", "completed"} <= statuses
    assert overdue > 0, "the overdue views have something to show"
    assert outcomes & {"disclose", "do_not_disclose", "defer"}
    assert audit.verify_chain(db).ok


def test_demo_logins_work_and_a_second_run_changes_nothing(db, settings):
    create_demo_data(db, settings, cases=5, seed=1)
    for username, _ in create_demo_data(db, settings, cases=5, seed=1, if_empty=True).logins:
        assert authenticate(db, username, DEMO_PASSWORD) is not None, username
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 5
