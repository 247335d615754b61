"""Fictional demo data: users per role, cases across all 42 areas, processes in every state.

Processes are advanced by replaying steps of the shipped workflows' BPMN unit tests (realistic,
reviewed form data), stopping at a different point for each case, so the inbox, the decision
log and the audit log all have something to show; every tenth case's consideration waits on
representations whose window then lapses. Considerations that end in a decision to disclose
hand off to delivery in a sweep, as in production, and the deliveries are replayed in turn. ``demo_states`` then ages, claims and sweeps the new
work so tasks are in every state (open, claimed, overdue, escalated, completed, cancelled).
Never run against production.
"""
from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from disclosure_engine.config import Settings
from disclosure_engine.domain.areas import AREA_SLUGS
from disclosure_engine.domain.errors import BadInput, DisclosureError
from disclosure_engine.domain.fictional import generate_cases, waiting_case
from disclosure_engine.domain.roles import SYSTEM, Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import Case, HumanTask, User
from disclosure_engine.services import cases as case_service
from disclosure_engine.services import demo_states, handoffs
from disclosure_engine.services import tasks as task_service
from disclosure_engine.services.interruptions import sweep_interruptions
from disclosure_engine.services.users import actor_for, create_user
from disclosure_engine.services.workflows import deploy_shipped

DEMO_PASSWORD = "demo-password-2026"
DEMO_AREAS = ("kent", "essex", "london")
NATIONAL_USERS = (("policy.lead", "policy"), ("auditor", "auditor"), ("admin", "admin"))
# the s327a path whose representations are sought and never come: replayed up to the request,
# its 28-day window lapses when demo_states ages it, and the task is withdrawn (cancelled)
LAPSED_PATH = ("s327a_consideration", "representations sought, response window lapses", "consider_representations")
LAPSED_EVERY = 10
# every tenth case's consideration is replayed to a decision to disclose, so that every demo has
# deliveries (handed off by the sweep) and finished considerations, whatever the seed
DISCLOSED_EVERY, DISCLOSED_AT = 10, 6


@dataclass
class DemoResult:
    skipped: bool = False
    cases: int = 0
    processes: int = 0
    completed_tasks: int = 0
    decisions: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    states: demo_states.DemoStates | None = None


def demo_logins() -> list[tuple[str, str]]:
    logins = [(f"{role}.{area}", f"{role} in {area}") for area in DEMO_AREAS
              for role in ("officer", "chair", "manager")]
    logins += [(name, f"{role} (national)") for name, role in NATIONAL_USERS]
    return logins


def create_demo_data(db: Database, settings: Settings, *, cases: int = 200, seed: int = 2026,
                     if_empty: bool = False, progress: Callable[[int, int], None] | None = None) -> DemoResult:
    """Create demo users and ``cases`` fictional cases; idempotent for users, additive for cases."""
    if settings.is_production:
        raise BadInput("demo data is refused when DISCLOSURE_ENV=production")
    result = DemoResult(logins=demo_logins())
    with db.transaction() as session:
        existing = session.execute(select(func.count()).select_from(Case)).scalar_one()
    if if_empty and existing:
        result.skipped = True
        _ensure_users(db)
        return result
    deploy_shipped(db, settings)
    actors = _ensure_users(db)
    rng = random.Random(seed)
    paths = {key: _load_paths(settings.workflows_dir / "tests" / f"{key}.json") for key in
             ("s327a_consideration", "csods_application", "urgent_disclosure", "disclosure_delivery")}
    lapsing = _lapsing_path(paths[LAPSED_PATH[0]])
    lapsed: list[int] = []
    after_instance = demo_states.last_instance_id(db)
    waiting_areas, seen_areas = set(DEMO_AREAS), set()
    for i, payload in enumerate(generate_cases(cases, seed=seed + existing)):
        first_in_area = payload["area"] not in seen_areas
        seen_areas.add(payload["area"])
        if payload["area"] in waiting_areas and not first_in_area:
            # the area's second case waits for a Schedule 34A judgement (the "cases waiting"
            # list has something to show the sign-in areas; their first cases have work)
            waiting_areas.discard(payload["area"])
            payload = {**waiting_case(rng, payload["area"], 0), "reference": payload["reference"]}
        try:
            view = case_service.create_case(db, SYSTEM, payload)
        except DisclosureError:
            continue  # a reference collision from an earlier run with another seed
        result.cases += 1
        area = payload["area"]
        started: list[tuple[int | None, str]] = [(p["id"], "s327a_consideration") for p in view["processes"]]
        # what each process was started with: only a path that starts the same way can be replayed
        facts = {"s327a_consideration": {"mappa_level": payload["level"]}}
        if i % 4 == 1:  # a Sarah's Law application about this person
            route = "right_to_ask" if i % 8 == 1 else "right_to_know"
            facts["csods_application"] = {"scheme_route": route}
            started.append((_start(db, view["id"], "csods_application",
                                   {"scheme_route": route, "application_reference": f"CSODS-{seed}-{i:05d}"}),
                            "csods_application"))
        if i % 15 == 7:
            # started last, once the case's other processes are where their paths leave them:
            # it interrupts (pauses) those still running, as in production
            started.append((None, "urgent_disclosure"))
        for process_id, key in started:
            if process_id is None:
                process_id = _start(db, view["id"], key, {"trigger": "police_report"})
            result.processes += 1
            if key == LAPSED_PATH[0] and lapsing and i % LAPSED_EVERY == 3:
                done, decided, _ = _replay(db, actors, area, process_id, lapsing[0], rng, stop=lapsing[1])
                result.completed_tasks += done
                result.decisions += decided
                lapsed.append(process_id)
            elif paths[key]:
                fitting = _fitting(paths[key], facts.get(key, {})) or paths[key]
                to_the_end = key == "s327a_consideration" and i % DISCLOSED_EVERY == DISCLOSED_AT
                if to_the_end:
                    fitting = _disclosing(fitting) or fitting
                path = rng.choice(fitting)
                done, decided, _ = _replay(db, actors, area, process_id, path, rng,
                                           stop=len(_task_steps(path)) if to_the_end else None)
                result.completed_tasks += done
                result.decisions += decided
        if progress:
            progress(i + 1, cases)
    # a decision to disclose hands off to delivery when the sweep runs, as in production (the
    # end event's start_process); the deliveries then move along their own paths
    handoffs.sweep_handoffs(db)
    sweep_interruptions(db)  # and the processes an ended urgent disclosure interrupted go on
    for delivery, area in _deliveries(db, after_instance):
        result.processes += 1
        if paths["disclosure_delivery"]:
            done, decided, _ = _replay(db, actors, area, delivery, rng.choice(paths["disclosure_delivery"]), rng)
            result.completed_tasks += done
            result.decisions += decided
    result.states = demo_states.settle(db, settings, rng, actors, after_instance=after_instance,
                                       lapsed=lapsed, sign_in_areas=DEMO_AREAS)
    return result


def _start(db: Database, case_id: int, key: str, data: dict[str, Any]) -> int:
    from disclosure_engine.services.processes import start_process

    return start_process(db, SYSTEM, case_id, key, data=data)["id"]


def _deliveries(db: Database, after_instance: int) -> list[tuple[int, str]]:
    """(process id, area) of the deliveries hand-offs started in this run, oldest first."""
    from disclosure_engine.persistence.models import Area, ProcessInstance

    with db.transaction() as session:
        return [(pid, area) for pid, area in session.execute(
            select(ProcessInstance.id, Area.slug).join(Area, Area.id == ProcessInstance.area_id)
            .where(ProcessInstance.id > after_instance, ProcessInstance.started_from_id.is_not(None))
            .order_by(ProcessInstance.id))]


def _ensure_users(db: Database) -> dict[str, Actor]:
    """Create the demo accounts that do not exist yet; returns every demo account's actor
    (the replays and claims act as the staff of each case's area)."""
    wanted = [(f"{role}.{area}", [role], [area]) for area in DEMO_AREAS for role in ("officer", "chair", "manager")]
    wanted += [(name, [role], []) for name, role in NATIONAL_USERS]
    with db.transaction() as session:
        have = set(session.execute(select(User.username)).scalars())
    for username, roles, areas in wanted:
        if username not in have:
            create_user(db, username, roles=roles, areas=areas, password=DEMO_PASSWORD,
                        display_name=username.replace(".", " ").title())
    # every other area gets staff who receive reminders and escalations (no password: they
    # cannot sign in), so the demo's workers always have someone to tell
    staff = [f"{role}.{area}" for area in AREA_SLUGS if area not in DEMO_AREAS
             for role in ("officer", "chair", "manager")]
    for username in staff:
        if username not in have:
            role, area = username.split(".", 1)
            create_user(db, username, roles=[role], areas=[area],
                        display_name=f"{area.replace('-', ' ').title()} {role} (no sign-in)")
    with db.transaction() as session:
        users = session.execute(select(User).where(User.username.in_([w[0] for w in wanted] + staff))).scalars()
        return {u.username: actor_for(u) for u in users}


def _load_paths(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [p for p in json.loads(path.read_text())["paths"] if p.get("steps")]


def _replay(db: Database, actors: dict[str, Actor], area: str, process_id: int, path: dict[str, Any],
            rng: random.Random, *, stop: int | None = None) -> tuple[int, int, str | None]:
    """Complete the first k task steps of ``path`` (``stop``, else random so processes sit in
    every state).

    Returns (tasks completed, decisions recorded, end event if the process finished).
    """
    steps = _task_steps(path)
    stop = rng.randint(0, len(steps)) if stop is None else stop
    done = decided = 0
    end = None
    for step in steps[:stop]:
        with db.transaction() as session:
            task = session.execute(select(HumanTask).where(
                HumanTask.instance_id == process_id, HumanTask.status == "open",
                HumanTask.element_id == step["task"])).scalar_one_or_none()
            if task is None:
                break
            role = task.candidate_role
            task_id = task.id
        actor = actors.get(f"{role}.{area}") or actors["admin"]
        try:
            outcome = task_service.complete(db, actor, task_id, _dates(step.get("data", {})))
        except DisclosureError:
            break
        done += 1
        decided += 1 if outcome["decision_id"] else 0
        end = outcome["process"]["end_event"] if outcome["process"]["status"] == "completed" else None
    return done, decided, end


def _fitting(paths: list[dict[str, Any]], facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The paths whose start data agree with how the process was started (a level 1 path on a
    level 2 case, or a Right to Ask path on a Right to Know application, stops at its first
    step that never opens)."""
    return [p for p in paths if all((p.get("start_data") or {}).get(k) == v for k, v in facts.items())]


def _disclosing(paths: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paths that end in a decision to disclose without waiting for a clock (the demo's
    replay completes tasks; it does not move time)."""
    return [p for p in paths if (p.get("expect") or {}).get("end_event") == "end_disclose"
            and not any("advance" in s for s in p["steps"])]


def _task_steps(path: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in path["steps"] if "task" in s and "expect_errors" not in s]


def _lapsing_path(paths: list[dict[str, Any]]) -> tuple[dict[str, Any], int] | None:
    """The lapsed-representations path and how many of its steps lead up to the request."""
    _, name, last = LAPSED_PATH
    for path in paths:
        steps = [s["task"] for s in _task_steps(path)]
        if path.get("name") == name and last in steps:
            return path, steps.index(last) + 1
    return None


def _dates(value: Any) -> Any:
    """Path files write relative dates ($today+P14D); the demo resolves them against today."""
    from disclosure_engine.engine.path_tests import resolve_placeholders
    from disclosure_engine.persistence.models import utcnow

    return resolve_placeholders(value, utcnow())
