"""Engine overhead: one task completion through the service layer vs raw SpiffWorkflow.

Every side completes the same user task (the level 1 ``decide`` step of the shipped
``s327a_consideration``, which records a decision) from the same instance state:

- service: ``tasks.complete`` = lock the instance and its task rows, validate the form,
  deserialize, step, serialize, update instance and task rows, write the decision record and
  three audit events, commit (one transaction; on PostgreSQL two round trips);
- raw SpiffWorkflow: its own serializer and script engine, as a plain SpiffWorkflow program
  stores state: ``deserialize_json`` of the state with its spec, set the task's data, run it and
  the engine steps, ``serialize_json``;
- for reference, the product's own engine layer alone (``runtime.load_state``,
  ``complete_user_task``, ``dump_state_text``), which shares the compiled spec between
  instances instead of re-reading it from every state.

Run:  .venv/bin/python bench/engine_overhead.py [--database-url URL] [--n 300]
      .venv/bin/python bench/engine_overhead.py --phases   (where a service completion's time goes)
      .venv/bin/python bench/engine_overhead.py --floor    (the database work alone, raw psycopg)
Default database: PostgreSQL on 127.0.0.1 (database ``de_bench``, recreated).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import fresh_database  # noqa: E402  (bench/ is on sys.path when run)
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from sqlalchemy import select  # noqa: E402

from disclosure_engine.domain.roles import SYSTEM  # noqa: E402
from disclosure_engine.engine import runtime  # noqa: E402
from disclosure_engine.engine.serializer import dump_state_text, standalone_state  # noqa: E402
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
    if db.dialect == "postgresql":  # planner statistics, as a live database has them
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return task_ids, {"actor": actor, "data": decide["data"]}


def _open_task(db: Database, process_id: int, element_id: str) -> int:
    with db.transaction() as session:
        return session.execute(select(HumanTask.id).where(
            HumanTask.instance_id == process_id, HumanTask.element_id == element_id,
            HumanTask.status == "open")).scalar_one()


def raw_inputs(db: Database, task_ids: list[int]) -> list[tuple[object, str, str, str]]:
    """Per task: compiled spec, stored state (JSON text), the state with its spec (what plain
    SpiffWorkflow stores), and the engine's task id."""
    out = []
    with db.transaction() as session:
        for tid in task_ids:
            task = session.get(HumanTask, tid)
            inst = session.get(ProcessInstance, task.instance_id)
            spec = compiled(inst.definition)
            out.append((spec, json.dumps(inst.state), json.dumps(standalone_state(spec, inst.state)),
                        task.spiff_task_id))
    return out


def measure(db: Database, n: int) -> dict[str, float]:
    task_ids, ctx = prepare(db, n)
    raw = raw_inputs(db, task_ids)
    data = ctx["data"]
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    raw_times, ours_times, service_times = [], [], []
    # interleaved, one of each per task, so a drift in the machine's speed hits all three alike
    for tid, (spec, state, full, spiff_id) in zip(task_ids, raw, strict=True):
        t0 = time.perf_counter()  # plain SpiffWorkflow: deserialize, run, serialize
        wf = stock.deserialize_json(full)
        task = wf.get_task_from_id(UUID(spiff_id))
        task.set_data(**json.loads(json.dumps(data)))
        task.run()
        wf.do_engine_steps()
        stock.serialize_json(wf)
        raw_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()  # the product's engine layer alone
        wf = runtime.load_state(spec, state)
        runtime.complete_user_task(wf, spiff_id, dict(data))
        dump_state_text(wf)
        ours_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()  # the product: one service call, one transaction
        result = tasks.complete(db, ctx["actor"], tid, dict(data))
        service_times.append(time.perf_counter() - t0)
        assert result["decision_id"], "the decision task must record a decision"
    return summarise(raw_times, service_times, ours_times)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


def summarise(raw: list[float], service: list[float], ours: list[float]) -> dict[str, float]:
    return {"n": len(raw), "raw_p50_ms": pct(raw, 0.5), "raw_p95_ms": pct(raw, 0.95),
            "ours_p50_ms": pct(ours, 0.5), "ours_mean_ms": statistics.mean(ours) * 1000,
            "service_p50_ms": pct(service, 0.5), "service_p95_ms": pct(service, 0.95),
            "raw_mean_ms": statistics.mean(raw) * 1000, "service_mean_ms": statistics.mean(service) * 1000,
            "ratio_p50": pct(service, 0.5) / pct(raw, 0.5), "ratio_mean": statistics.mean(service) / statistics.mean(raw),
            # each completion over the raw run timed just before it: the machine's drift cancels
            "ratio_paired_p50": statistics.median(s / r for s, r in zip(service, raw, strict=True))}


def phases(db: Database, n: int) -> dict[str, float]:
    """Where a service completion's time goes: each function ``tasks.complete`` calls is wrapped
    with a timer (median ms per completion; engine calls nest inside some service steps), plus a raw
    psycopg UPDATE + COMMIT of one instance state for comparison."""
    import collections

    import disclosure_engine.services.audit as audit_mod
    from disclosure_engine.persistence import batch, pg_pipeline
    from disclosure_engine.services import completion

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

    for name in ("lock_for_task", "apply_read_only", "validate_submission", "state_changes", "task_projection",
                 "decision_row", "task_view"):
        timed(completion, name, name)
    timed(audit_mod, "record", "audit: queue events")
    timed(audit_mod, "chained_writes", "audit: chain events")
    timed(batch.WriteBatch, "run", "write everything (SQLite: one by one)")
    timed(batch.WriteBatch, "run_and_commit", "write everything and COMMIT (PostgreSQL: one round trip)")
    timed(pg_pipeline.Pipeline, "_send", "all round trips to PostgreSQL (send, wait, read)")
    for name in ("load_state", "ready_user_task", "complete_user_task", "inspect", "dump_state_text"):
        timed(runtime, name, f"engine: {name}")
    per_call: collections.defaultdict[str, list[float]] = collections.defaultdict(list)
    for tid in task_ids:
        spent.clear()
        t0 = time.perf_counter()
        tasks.complete(db, ctx["actor"], tid, dict(ctx["data"]))
        per_call["total"].append(time.perf_counter() - t0)
        for label, value in spent.items():
            per_call[label].append(value)
    # medians, so one slow call (a checkpoint, autovacuum) does not colour a step
    out = {label: statistics.median(values) * 1000 for label, values in per_call.items()}
    latency = commit_latency(db)
    out["raw psycopg UPDATE + COMMIT of one state"] = latency["p50_ms"]
    out["state size (bytes)"] = latency["state_bytes"]
    return out


def commit_latency(db: Database, n: int = 30) -> dict[str, float]:
    """What one durable write costs on this machine: a raw psycopg UPDATE of one instance's state
    and its COMMIT (the WAL flush), median of ``n``.

    The raw SpiffWorkflow side runs on the CPU alone and writes nothing durable, while a
    completion also waits twice for PostgreSQL and once for the disk; so the ratio moves with the
    machine's balance of CPU speed and database latency (the same code measured 1.7-1.8x on the
    VMs of 2026-12-02 and 1.31-1.47x on that of 2026-12-03: docs/benchmarks.md). Printed beside the
    ratio so that a figure measured elsewhere can be compared."""
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT id, state::text FROM process_instance ORDER BY id LIMIT 1")
        instance_id, state = cur.fetchone()
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            cur.execute("UPDATE process_instance SET state = %s::json WHERE id = %s", (state, instance_id))
            raw.commit()
            samples.append(time.perf_counter() - t0)
        return {"p50_ms": statistics.median(samples) * 1000, "state_bytes": float(len(state))}
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/de_bench")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--phases", action="store_true", help="break one completion down by step instead")
    parser.add_argument("--floor", action="store_true",
                        help="time the database work of a completion alone (raw psycopg, pipelined)")
    args = parser.parse_args()
    db = fresh_database(args.database_url)
    if args.floor:
        from db_floor import floor

        task_ids, ctx = prepare(db, args.n)
        times = floor(db.url, task_ids, ctx["actor"].user_id, ctx["data"])
        print(f"database floor of one completion (raw psycopg, 2 round trips, no ORM, no engine): "
              f"p50 {pct(times, 0.5):.2f} ms, p95 {pct(times, 0.95):.2f} ms, mean {statistics.mean(times) * 1000:.2f} ms")
        return
    if args.phases:
        for label, value in phases(db, args.n).items():
            print(f"{label:<45} {value:9.2f}")
        return
    r = measure(db, args.n)
    print(f"database: {db.dialect}; completions: {r['n']} (s327a_consideration 'decide', records a decision)")
    print(f"raw SpiffWorkflow (deserialize, run, serialize): p50 {r['raw_p50_ms']:.2f} ms, "
          f"p95 {r['raw_p95_ms']:.2f} ms, mean {r['raw_mean_ms']:.2f} ms")
    print(f"  for reference, the product's engine layer alone: p50 {r['ours_p50_ms']:.2f} ms, "
          f"mean {r['ours_mean_ms']:.2f} ms")
    print(f"service layer (lock, validate, step, persist, tasks, decision, audit): p50 "
          f"{r['service_p50_ms']:.2f} ms, p95 {r['service_p95_ms']:.2f} ms, mean {r['service_mean_ms']:.2f} ms")
    print(f"ratio service/raw: p50 {r['ratio_p50']:.2f}x, mean {r['ratio_mean']:.2f}x, "
          f"median of paired ratios {r['ratio_paired_p50']:.2f}x (goal <= 1.5x)")
    if db.dialect == "postgresql":
        print(f"this machine's durable write (raw UPDATE of one state + COMMIT): p50 "
              f"{commit_latency(db)['p50_ms']:.2f} ms (the ratio rises with it: see commit_latency)")


if __name__ == "__main__":
    main()
