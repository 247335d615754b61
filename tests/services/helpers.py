"""Builders shared by service tests: users, a deployed fixture workflow, cases."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from disclosure_engine.domain.roles import SYSTEM, Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.services.users import create_user

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
MINI = FIXTURES / "mini" / "mini_decision.bpmn"
REASON = "The offender has regular unsupervised contact with the children of a new partner."


def make_actor(db: Database, username: str, role: str, area: str | None = "kent") -> Actor:
    user = create_user(db, username, roles=[role], areas=[area] if area else [])
    return Actor(user_id=user.id, username=user.username, roles=frozenset(user.roles),
                 areas=frozenset(user.areas), national=user.national)


def deploy_mini(db: Database) -> None:
    from disclosure_engine.services.workflows import deploy_paths

    deploy_paths(db, SYSTEM, [MINI], note="fixture")


def case_payload(reference: str = "KNT-2026-000001", area: str = "kent", *, cso: bool = True,
                 level: int = 1) -> dict[str, Any]:
    conviction = ({"statute": "Sexual Offences Act 2003", "section": "9", "date": "2019-03-14",
                   "disposal": "conviction", "victim_age": 13, "jurisdiction": "england-wales"}
                  if cso else
                  {"statute": "Theft Act 1968", "section": "1", "date": "2019-03-14",
                   "disposal": "conviction", "jurisdiction": "england-wales"})
    return {"reference": reference, "area": area, "category": 1, "level": level,
            "lead_agency": "police", "offender": {"visor_ref": "VS1234567", "pnc_ref": "19/123456A"},
            "convictions": [conviction]}


def shipped_path(key: str, name: str) -> list[dict[str, Any]]:
    """The task steps of one realistic path of a shipped workflow (workflows/tests/KEY.json)."""
    import json

    doc = json.loads((FIXTURES.parents[1] / "workflows" / "tests" / f"{key}.json").read_text())
    steps = next(p for p in doc["paths"] if p["name"] == name)["steps"]
    return [s for s in steps if "task" in s and "expect_errors" not in s]


def complete_step(db: Database, actor: Actor, process_id: int, step: dict[str, Any]) -> dict[str, Any]:
    """Complete the open task ``step["task"]`` of the process as ``actor`` with the step's data."""
    from disclosure_engine.engine.path_tests import resolve_placeholders
    from disclosure_engine.persistence.models import utcnow
    from disclosure_engine.services import processes, tasks

    view = processes.get_process(db, actor, process_id)
    task = next(t for t in view["open_tasks"] if t["element_id"] == step["task"])
    return tasks.complete(db, actor, task["id"], resolve_placeholders(step.get("data", {}), utcnow()))


@pytest.fixture()
def staff(db: Database, settings: Any) -> dict[str, Actor]:
    """The shipped workflows deployed, and an officer, a chair and a manager in Kent."""
    from disclosure_engine.services.workflows import deploy_shipped

    deploy_shipped(db, settings)
    return {role: make_actor(db, f"{role}.kent", role) for role in ("officer", "chair", "manager")}


def new_consideration(db: Database, staff: dict[str, Actor], reference: str = "KNT-2026-000001",
                      level: int = 1) -> tuple[int, int]:
    """A child sex offender's case; its s.327A consideration starts with it: (case id, process id)."""
    from disclosure_engine.services import cases

    case = cases.create_case(db, staff["officer"], case_payload(reference, level=level))
    (process,) = [p for p in case["processes"] if p["workflow"] == "s327a_consideration"]
    return case["id"], process["id"]


def replay_path(db: Database, staff: dict[str, Actor], process_id: int, key: str, name: str) -> dict[str, Any]:
    """Complete a shipped path's task steps through the services (not its refused submissions),
    each by the role the task is for; returns the last completion's outcome."""
    from disclosure_engine.engine.path_tests import resolve_placeholders
    from disclosure_engine.persistence.models import utcnow
    from disclosure_engine.services import processes, tasks

    clock = utcnow()
    done: dict[str, Any] = {}
    for step in shipped_path(key, name):
        view = processes.get_process(db, staff["manager"], process_id)
        task = next(t for t in view["open_tasks"] if t["element_id"] == step["task"])
        done = tasks.complete(db, staff[task["candidate_role"]], task["id"],
                              resolve_placeholders(step.get("data", {}), clock))
    return done
