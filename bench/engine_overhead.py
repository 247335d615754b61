"""Engine overhead: one task completion through the service layer vs raw SpiffWorkflow.

Both sides complete the same user task (the level 1 ``decide`` step of the shipped
``s327a_consideration``, which records a decision) from the same stored state:

- service: ``tasks.complete`` = load task, lock instance, validate the form, deserialize,
  step, serialize, update instance and task rows, write the decision record and audit events,
  commit;
- raw: ``load_state`` (deserialize), ``complete_user_task`` (run + engine steps),
  ``dump_state`` + ``json.dumps`` (serialize).

Run:  .venv/bin/python bench/engine_overhead.py [--database-url URL] [--n 300]
Default database: PostgreSQL on 127.0.0.1 (database ``de_bench``, recreated).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import fresh_database  # noqa: E402  (bench/ is on sys.path when run)
from sqlalchemy import select  # noqa: E402

from disclosure_engine.domain.roles import SYSTEM  # noqa: E402
from disclosure_engine.engine import runtime  # noqa: E402
from disclosure_engine.persistence.db import Database  # noqa: E402
from disclosure_engine.persistence.models import HumanTask, ProcessInstance  # noqa: E402
from disclosure_engine.services import cases, tasks  # noqa: E402
from disclosure_engine.services.users import actor_for, create_user  # noqa: E402
from disclosure_engine.services.workflows import compiled, deploy_paths  # noqa: E402

PATHS = json.loads((ROOT / "workflows" / "tests" / "s327a_consideration.json").read_text())["paths"]
STEPS = PATHS[0]["steps"]  # level 1, presumption applies, disclose


def prepare(db: Database, n: int) -> tuple[list[int], dict]:
    """n cases whose consideration waits at the decision step; returns task ids and decision data."""
    deploy_paths(db, SYSTEM, [ROOT / "workflows" / f"{k}.bpmn" for k in ("s327a_consideration",)])
    user = create_user(db, "bench.officer", roles=["officer", "chair", "manager"], areas=["kent"])
    with db.transaction() as session:
        from disclosure_engine.persistence.models import User

        actor = actor_for(session.get(User, user.id))
    decide = STEPS[-1]
    task_ids = []
    for i in range(n):
        view = cases.create_case(db, actor, {
            "reference": f"BENCH-{i:06d}", "area": "kent", "category": 1, "level": 1, "lead_agency": "police",
            "offender": {"visor_ref": f"VS{i:07d}"},
            "convictions": [{"statute": "Sexual Offences Act 2003", "section": "9", "date": "2018-05-01",
                             "disposal": "conviction", "victim_age": 12, "jurisdiction": "england-wales"}]})
        process_id = view["processes"][0]["id"]
        for step in STEPS[:-1]:
            tid = _open_task(db, process_id, step["task"])
            tasks.complete(db, actor, tid, step["data"])
        task_ids.append(_open_task(db, process_id, decide["task"]))
    return task_ids, {"actor": actor, "data": decide["data"]}


def _open_task(db: Database, process_id: int, element_id: str) -> int:
    with db.transaction() as session:
        return session.execute(select(HumanTask.id).where(
            HumanTask.instance_id == process_id, HumanTask.element_id == element_id,
            HumanTask.status == "open")).scalar_one()


def raw_inputs(db: Database, task_ids: list[int]) -> list[tuple[object, dict, str]]:
    out = []
    with db.transaction() as session:
        for tid in task_ids:
            task = session.get(HumanTask, tid)
            inst = session.get(ProcessInstance, task.instance_id)
            out.append((compiled(inst.definition), json.loads(json.dumps(inst.state)), task.spiff_task_id))
    return out


def measure(db: Database, n: int) -> dict[str, float]:
    task_ids, ctx = prepare(db, n)
    raw = raw_inputs(db, task_ids)
    data = ctx["data"]
    raw_times, service_times = [], []
    for spec, state, spiff_id in raw:  # raw SpiffWorkflow: deserialize, run, serialize
        t0 = time.perf_counter()
        wf = runtime.load_state(spec, state)
        runtime.complete_user_task(wf, spiff_id, dict(data))
        json.dumps(runtime.dump_state(wf))
        raw_times.append(time.perf_counter() - t0)
    for tid in task_ids:  # the product: one service call, one transaction
        t0 = time.perf_counter()
        result = tasks.complete(db, ctx["actor"], tid, dict(data))
        service_times.append(time.perf_counter() - t0)
        assert result["decision_id"], "the decision task must record a decision"
    return summarise(raw_times, service_times)


def summarise(raw: list[float], service: list[float]) -> dict[str, float]:
    def pct(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000

    return {"n": len(raw), "raw_p50_ms": pct(raw, 0.5), "raw_p95_ms": pct(raw, 0.95),
            "service_p50_ms": pct(service, 0.5), "service_p95_ms": pct(service, 0.95),
            "raw_mean_ms": statistics.mean(raw) * 1000, "service_mean_ms": statistics.mean(service) * 1000,
            "ratio_p50": pct(service, 0.5) / pct(raw, 0.5), "ratio_mean": statistics.mean(service) / statistics.mean(raw)}


def phases(db: Database, n: int) -> dict[str, float]:
    """Where a service completion's time goes: each function ``tasks.complete`` calls is wrapped
    with a timer (ms per completion), plus a raw psycopg UPDATE + COMMIT of one instance state
    for comparison with the ORM's flushes."""
    import collections

    import disclosure_engine.services.audit as audit_mod
    from disclosure_engine.services import instances

    task_ids, ctx = prepare(db, n)
    spent: collections.Counter[str] = collections.Counter()

    def timed(owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - t0
        setattr(owner, name, wrapper)

    for name in ("visible_task", "lock_instance", "validate_submission", "persist", "record_from_task"):
        timed(tasks, name, name)
    timed(instances, "_sync_tasks", "persist: re-project task rows")
    timed(audit_mod, "record", "audit events")
    for name in ("load_state", "complete_user_task", "dump_state"):
        timed(runtime, name, f"engine: {name}")
    t0 = time.perf_counter()
    for tid in task_ids:
        tasks.complete(db, ctx["actor"], tid, dict(ctx["data"]))
    total = time.perf_counter() - t0
    out = {"total": total / n * 1000, **{k: v / n * 1000 for k, v in spent.items()}}
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT id, state::text FROM process_instance ORDER BY id LIMIT 1")
        instance_id, state = cur.fetchone()
        samples = []
        for _ in range(30):
            t0 = time.perf_counter()
            cur.execute("UPDATE process_instance SET state = %s::json WHERE id = %s", (state, instance_id))
            raw.commit()
            samples.append(time.perf_counter() - t0)
        out["raw psycopg UPDATE + COMMIT of one state"] = sorted(samples)[15] * 1000
        out["state size (bytes)"] = float(len(state))
    finally:
        raw.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/de_bench")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--phases", action="store_true", help="break one completion down by step instead")
    args = parser.parse_args()
    db = fresh_database(args.database_url)
    if args.phases:
        for label, value in phases(db, args.n).items():
            print(f"{label:<45} {value:9.2f}")
        return
    r = measure(db, args.n)
    print(f"database: {db.dialect}; completions: {r['n']} (s327a_consideration 'decide', records a decision)")
    print(f"raw SpiffWorkflow (deserialize, run, serialize): p50 {r['raw_p50_ms']:.2f} ms, "
          f"p95 {r['raw_p95_ms']:.2f} ms, mean {r['raw_mean_ms']:.2f} ms")
    print(f"service layer (lock, validate, step, persist, tasks, decision, audit): p50 "
          f"{r['service_p50_ms']:.2f} ms, p95 {r['service_p95_ms']:.2f} ms, mean {r['service_mean_ms']:.2f} ms")
    print(f"ratio service/raw: p50 {r['ratio_p50']:.2f}x, mean {r['ratio_mean']:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
