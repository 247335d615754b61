"""An administrator keeps the system running but is not a decision maker: without the task's
role they may not claim or complete a step that records a decision or signs one off; they may
still release and reassign it, and step in on ordinary steps."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from disclosure_engine.domain.errors import Forbidden
from disclosure_engine.domain.roles import Actor
from disclosure_engine.persistence.models import HumanTask
from disclosure_engine.services import assignment, cases, eligibility, processes, tasks
from disclosure_engine.services.users import create_user
from disclosure_engine.services.workflows import deploy_shipped

from .helpers import case_payload, complete_step, make_actor, shipped_path

LEVEL1 = "level 1, presumption applies, disclose"
LEVEL2 = "level 2, officer proposes, chair signs off"


def _actor(db, username: str, roles: list[str], areas: list[str]) -> Actor:
    user = create_user(db, username, roles=roles, areas=areas)
    return Actor(user_id=user.id, username=user.username, roles=frozenset(user.roles),
                 areas=frozenset(user.areas), national=user.national)


@pytest.fixture()
def world(db, settings):
    deploy_shipped(db, settings)
    return {"db": db, "admin": _actor(db, "admin", ["admin"], []),
            "officer": make_actor(db, "officer.kent", "officer"), "chair": make_actor(db, "chair.kent", "chair"),
            "manager": make_actor(db, "manager.kent", "manager")}


def _at(world, path: str, level: int, element_id: str, reference: str = "KNT-2026-000001") -> tuple[int, dict, dict]:
    """A consideration run by its officer up to ``element_id``: (process, that open task, its step)."""
    db = world["db"]
    process_id = cases.create_case(db, world["officer"], case_payload(reference, level=level))["processes"][0]["id"]
    for step in shipped_path("s327a_consideration", path):
        if step["task"] == element_id:
            view = processes.get_process(db, world["manager"], process_id)
            return process_id, next(t for t in view["open_tasks"] if t["element_id"] == element_id), step
        complete_step(db, world["officer"], process_id, step)
    raise AssertionError(f"{element_id} is not on {path}")


@pytest.mark.parametrize("path, level, element_id", [(LEVEL1, 1, "decide"), (LEVEL2, 2, "chair_signoff")])
def test_an_admin_without_the_role_cannot_claim_or_complete_a_decision(world, path, level, element_id):
    db, admin = world["db"], world["admin"]
    _process, task, step = _at(world, path, level, element_id)
    for attempt in (lambda: tasks.claim(db, admin, task["id"]),
                    lambda: tasks.save_draft(db, admin, task["id"], step["data"]),
                    lambda: tasks.complete(db, admin, task["id"], step["data"])):
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert "records or signs off a decision" in refused.value.message
    with db.transaction() as session:
        row = session.get(HumanTask, task["id"])
        assert (row.status, row.assignee_id) == ("open", None)


def test_an_admin_may_release_and_reassign_a_decision_task(world):
    db, admin = world["db"], world["admin"]
    _process, task, step = _at(world, LEVEL2, 2, "chair_signoff")
    tasks.claim(db, world["chair"], task["id"])
    assert tasks.release(db, admin, task["id"])["assignee"] is None
    assert assignment.reassign(db, admin, task["id"], "chair.kent")["assignee"] == "chair.kent"
    assert tasks.complete(db, world["chair"], task["id"], step["data"])["decision_id"]


def test_an_admin_still_steps_in_on_an_ordinary_step(world):
    db, admin = world["db"], world["admin"]
    _process, task, step = _at(world, LEVEL1, 1, "identify_children")
    assert tasks.work_refusal(db, admin, task["id"]) is None
    assert tasks.complete(db, admin, task["id"], step["data"])["task"]["status"] == "completed"


def test_an_admin_who_holds_the_role_signs_off_as_that_role(world):
    db = world["db"]
    admin_chair = _actor(db, "admin.chair", ["admin", "chair"], ["kent"])
    _process, task, step = _at(world, LEVEL2, 2, "chair_signoff")
    assert tasks.complete(db, admin_chair, task["id"], step["data"])["decision_id"]


@pytest.mark.parametrize("records_decision, props, refused", [
    (False, {}, False),
    (True, {}, True),
    (False, {"not_completed_by": "propose_decision"}, True),
])
def test_what_counts_as_a_decision_task(records_decision, props, refused):
    task = SimpleNamespace(candidate_role="chair", records_decision=records_decision)
    admin = Actor(user_id=1, username="admin", roles=frozenset({"admin"}), national=True)
    assert (eligibility.role_refusal(admin, task, props) is not None) is refused
    chair = Actor(user_id=2, username="chair", roles=frozenset({"chair"}))
    assert eligibility.role_refusal(chair, task, props) is None
