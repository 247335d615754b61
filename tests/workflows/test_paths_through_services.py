"""Every path of every shipped workflow, through the product: database, task rows, forms,
decision records, audit, timers swept on a simulated clock (SQLite, and PostgreSQL in CI).

The in-engine path runner (test_paths.py) proves the BPMN; this proves the same paths hold
when officers and chairs complete real task rows, and that each decision record written on
the way holds the reasons for every limb, and that the decision log holds exactly the records
the path file expects.
"""
from __future__ import annotations

import pytest

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.roles import Actor
from disclosure_engine.engine.path_tests import (
    iter_paths,
    parse_duration,
    path_files,
    reason_limb_problems,
    record_problems,
    resolve_placeholders,
)
from disclosure_engine.persistence.models import utcnow
from disclosure_engine.services import audit, cases, decisions, handoffs, processes, tasks, timers
from disclosure_engine.services.users import create_user
from disclosure_engine.services.workflows import deploy_shipped

PATHS = list(iter_paths(path_files()))
PASSTHROUGH = ("scheme_route", "application_reference", "decision_id", "legal_basis", "trigger")


def _actors(db) -> dict[str, Actor]:
    out = {}
    for role in ("officer", "chair", "manager"):
        u = create_user(db, f"{role}.kent", roles=[role], areas=["kent"])
        out[role] = Actor(user_id=u.id, username=u.username, roles=frozenset(u.roles), areas=frozenset(u.areas))
    return out


def _case(db, actor, level: int) -> int:
    return cases.create_case(db, actor, {
        "reference": "KNT-PATH-0001", "area": "kent", "category": 1, "level": level, "lead_agency": "police",
        "offender": {"visor_ref": "VS7654321"},
        "convictions": [{"statute": "Sexual Offences Act 2003", "section": "9", "date": "2018-05-01",
                         "disposal": "conviction", "victim_age": 12, "jurisdiction": "england-wales"}]})["id"]


def _handed_off_delivery(db, actors, case_id: int, clock) -> int:
    """The case's own consideration (started with the case) decided 'disclose' along the first
    s.327A path that ends so without waiting, then a sweep: the delivery it handed off to. (A
    delivery path's fictional decision_id is refused by the services: it names no decision.)"""
    s327a = next(p for f, _n, p in PATHS if f.stem == "s327a_consideration"
                 and (p.get("expect") or {}).get("end_event") == "end_disclose"
                 and int(p["start_data"].get("mappa_level", 1)) == 1
                 and not any("advance" in step for step in p["steps"]))
    (consideration,) = [p["id"] for p in cases.get_case(db, actors["manager"], case_id)["processes"]]
    for step in s327a["steps"]:
        if "task" not in step or "expect_errors" in step:
            continue
        view = processes.get_process(db, actors["manager"], consideration)
        task = next(t for t in view["open_tasks"] if t["element_id"] == step["task"])
        tasks.complete(db, actors[task["candidate_role"]], task["id"],
                       resolve_placeholders(step.get("data", {}), clock), now=clock)
    assert handoffs.sweep_handoffs(db, clock).started == 1
    (delivery,) = [p for p in cases.get_case(db, actors["manager"], case_id)["processes"]
                   if p["workflow"] == "disclosure_delivery"]
    return delivery["id"]


@pytest.mark.parametrize("path_file,name,path", PATHS, ids=[f"{p.stem}: {n}" for p, n, _ in PATHS])
def test_path_through_the_services(db, settings, path_file, name, path):
    deploy_shipped(db, settings)
    actors = _actors(db)
    key = path_file.stem
    start = path["start_data"]
    clock = utcnow()
    case_id = _case(db, actors["officer"], int(start.get("mappa_level", 1)))
    extra = {k: resolve_placeholders(start[k], clock) for k in PASSTHROUGH if k in start}
    if key == "disclosure_delivery":  # as in production: handed off by a real decision to disclose
        process_id = _handed_off_delivery(db, actors, case_id, clock)
    else:
        process_id = processes.start_process(db, actors["officer"], case_id, key, data=extra)["id"]
    for step in path["steps"]:
        if "advance" in step:
            clock += parse_duration(step["advance"])
            timers.sweep_timers(db, clock)
            continue
        if "expect_ready" in step:
            view = processes.get_process(db, actors["manager"], process_id)
            assert sorted(t["element_id"] for t in view["open_tasks"]) == sorted(step["expect_ready"])
            continue
        view = processes.get_process(db, actors["manager"], process_id)
        task = next((t for t in view["open_tasks"] if t["element_id"] == step["task"]), None)
        assert task is not None, f"{step['task']} not open; open: {[t['element_id'] for t in view['open_tasks']]}"
        actor = actors[task["candidate_role"]]
        data = resolve_placeholders(step.get("data", {}), clock)
        if "expect_errors" in step:
            with pytest.raises(ValidationFailed) as refused:
                tasks.complete(db, actor, task["id"], data, now=clock)
            assert set(step["expect_errors"]) <= set(refused.value.errors), refused.value.errors
            continue
        done = tasks.complete(db, actor, task["id"], data, now=clock)
        if done["decision_id"]:
            record = decisions.get_decision(db, actors["manager"], done["decision_id"])
            merged = {**record.pop("step_answers"), **{k: v for k, v in record.items() if v is not None}}
            assert reason_limb_problems(key, merged) == [], f"decision after {step['task']}"
    final = processes.get_process(db, actors["manager"], process_id)
    expect = path.get("expect") or {}
    if "status" in expect:
        assert final["status"] == expect["status"]
    if "end_event" in expect:
        assert final["end_event"] == expect["end_event"]
    if "records" in expect:  # the decision log holds exactly the records the path expects
        log = sorted(decisions.list_decisions(db, actors["manager"], process_id=process_id, current_only=False),
                     key=lambda d: d["version"])
        written = [{**d.pop("step_answers"), **d} for d in log]
        assert record_problems(expect["records"], written) == []
    assert audit.verify_chain(db).ok
