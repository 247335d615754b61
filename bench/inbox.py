"""Inbox and decision log at national scale, measured through the HTTP API.

Builds N cases (default 100,000 across the 42 areas) with one s.327A process each, ten task
rows per case (1,000,000 by default: mostly completed, about 14% open, some overdue and
escalated, some claimed) and a decision for every finished consideration, bulk-loaded with
PostgreSQL COPY (not through the services). Then it times requests through the Flask app
(test client, bearer tokens, the real services and SQL):

- inbox:            GET /api/v1/tasks?scope=available            (an officer of Kent)
- overdue:          GET /api/v1/tasks?scope=all&overdue=true     (a manager of Kent)
- decisions:        GET /api/v1/decisions                        (a manager of Kent, first page)
- decisions (filt): GET /api/v1/decisions?outcome=disclose&presumption_applied=true&from=...
- decisions (nat):  GET /api/v1/decisions                        (a national auditor, first page)

Run:  .venv/bin/python bench/inbox.py [--cases 100000] [--requests 200] [--database-url URL]
      [--reuse]   (keep an already loaded database of the same size)
Default database: PostgreSQL on 127.0.0.1, database ``de_bench_inbox`` (recreated).
Goal: p95 < 30 ms for each.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from disclosure_engine.config import load_settings, normalise_database_url  # noqa: E402
from disclosure_engine.domain.areas import AREA_SLUGS  # noqa: E402
from disclosure_engine.persistence.db import Database  # noqa: E402
from disclosure_engine.persistence.migrate import upgrade  # noqa: E402
from disclosure_engine.services.users import create_token, create_user  # noqa: E402
from disclosure_engine.services.workflows import deploy_shipped  # noqa: E402

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
DB_NAME = "de_bench_inbox"
TASKS_PER_CASE = 10
ELEMENTS = [("identify_children", "Identify the children at risk", "officer"),
            ("assess_tests", "Assess the two statutory tests", "officer"),
            ("assess_proportionality", "Assess proportionality", "officer"),
            ("consider_representations", "Consider representations", "officer"),
            ("propose_decision", "Propose the decision", "officer"),
            ("chair_signoff", "Chair sign-off", "chair"),
            ("decide", "Decide", "manager"),
            ("ratify_decision", "Ratify the decision", "chair"),
            ("record_representations", "Record representations", "officer"),
            ("decide", "Decide again", "manager")]
NOW = datetime.now(timezone.utc)


def progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stderr.write(f"\r{label:<12} [{'#' * filled}{'.' * (width - filled)}] {done:>9,}/{total:,} "
                     f"{rate:,.0f}/s")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def recreate(server: str) -> str:
    admin = create_engine(normalise_database_url(f"{server}/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    return f"{server}/{DB_NAME}"


def copy_rows(raw: object, table: str, columns: list[str], rows: object, total: int, label: str) -> None:
    """COPY rows (tuples) into ``table``; JSON values are dicts/lists, serialised here."""
    started = time.perf_counter()
    cols = ", ".join(columns)
    with raw.cursor() as cur:  # type: ignore[attr-defined]
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for i, row in enumerate(rows, 1):
                copy.write_row([json.dumps(v) if isinstance(v, (dict, list)) else v for v in row])
                if i % 20000 == 0 or i == total:
                    progress(label, i, total, started)


def load(url: str, n_cases: int, seed: int = 7) -> dict[str, int]:
    """Bulk-load the national dataset; returns counts."""
    rng = random.Random(seed)
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        areas = dict(conn.execute(text("SELECT slug, id FROM area")).all())
        definition_id = conn.execute(text("SELECT id FROM process_definition WHERE key='s327a_consideration' "
                                          "ORDER BY version DESC LIMIT 1")).scalar_one()
        users = dict(conn.execute(text("SELECT username, id FROM app_user")).all())
    area_ids = [areas[s] for s in AREA_SLUGS]
    officer_ids = [users[u] for u in users if u.startswith("officer.")]
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection  # psycopg 3 connection
        case_area = [area_ids[i % len(area_ids)] for i in range(n_cases)]
        created = [NOW - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440)) for _ in range(n_cases)]

        def cases():
            for i in range(n_cases):
                yield (i + 1, f"BENCH-{i + 1:07d}", case_area[i], rng.randint(1, 4), rng.randint(1, 3), "police",
                       f"VS{i:07d}", None, None, True,
                       [{"paragraph": "1", "statute": "Sexual Offences Act 2003", "section": "9"}],
                       "2026-01", created[i], None)

        copy_rows(dbapi, "case_record", ["id", "reference", "area_id", "category", "level", "lead_agency",
                                         "visor_ref", "pnc_ref", "ndelius_crn", "child_sex_offender",
                                         "schedule_34a_matches", "schedule_34a_version", "created_at",
                                         "created_by_id"], cases(), n_cases, "cases")

        def convictions():
            for i in range(n_cases):
                yield (i + 1, i + 1, 0, "Sexual Offences Act 2003", "9", "2019-03-14", "conviction", 13,
                       "england-wales")

        copy_rows(dbapi, "conviction", ["id", "case_id", "position", "statute", "section", "date", "disposal",
                                        "victim_age", "jurisdiction"], convictions(), n_cases, "convictions")

        # a case's consideration is finished (decided) unless its last task is open
        open_case = [rng.random() < 0.14 for _ in range(n_cases)]

        def instances():
            for i in range(n_cases):
                status = "waiting" if open_case[i] else "completed"
                yield (i + 1, definition_id, i + 1, case_area[i], status, {}, created[i], 1, created[i],
                       None if open_case[i] else created[i] + timedelta(days=30),
                       None if open_case[i] else "end_disclose")

        copy_rows(dbapi, "process_instance", ["id", "definition_id", "case_id", "area_id", "status", "state",
                                              "started_at", "lock_version", "updated_at", "completed_at",
                                              "end_event"], instances(), n_cases, "processes")
        total_tasks = n_cases * TASKS_PER_CASE

        def tasks():
            tid = 0
            for i in range(n_cases):
                for k, (element, name, role) in enumerate(ELEMENTS):
                    tid += 1
                    is_open = open_case[i] and k == TASKS_PER_CASE - 1
                    made = created[i] + timedelta(days=3 * k)
                    if is_open:
                        due = NOW + timedelta(days=rng.randint(-20, 40), hours=rng.randint(0, 23))
                        claimed = rng.random() < 0.3
                        assignee = rng.choice(officer_ids) if claimed and officer_ids else None
                        overdue_days = (NOW - due).days
                        level = 0 if overdue_days < 0 else (1 if overdue_days < 5 else 2)
                        yield (tid, i + 1, i + 1, case_area[i], "s327a_consideration", str(uuid.UUID(int=tid)),
                               element, name, f"s327a_consideration--{element}.schema.json", role, False,
                               assignee, "open", made, None, None, due, level, None, None)
                    else:
                        yield (tid, i + 1, i + 1, case_area[i], "s327a_consideration", str(uuid.UUID(int=tid)),
                               element, name, f"s327a_consideration--{element}.schema.json", role,
                               element == "decide", officer_ids[tid % len(officer_ids)] if officer_ids else None,
                               "completed", made, made + timedelta(days=2),
                               officer_ids[tid % len(officer_ids)] if officer_ids else None,
                               made + timedelta(days=5), 0, {"decision_reasons": "Recorded in the bench."}, None)

        copy_rows(dbapi, "human_task", ["id", "instance_id", "case_id", "area_id", "workflow_key", "spiff_task_id",
                                        "element_id", "name", "form_name", "candidate_role", "records_decision",
                                        "assignee_id", "status", "created_at", "completed_at", "completed_by_id",
                                        "due_at", "escalation_level", "data", "draft_data"],
                  tasks(), total_tasks, "tasks")

        decided = [i for i in range(n_cases) if not open_case[i]]

        def decisions():
            for j, i in enumerate(decided, 1):
                outcome = rng.choices(("disclose", "do_not_disclose", "defer"), (5, 4, 1))[0]
                presumption = rng.random() < 0.6
                when = created[i] + timedelta(days=30)
                record = {"decision": outcome, "decision_reasons": "Both tests considered at the MAPPA meeting.",
                          "serious_harm_risk": "yes" if presumption else "no",
                          "disclosure_necessary": "yes" if presumption else "no",
                          "presumption_applies": presumption, "legal_basis": "s327a",
                          "case_reference": f"BENCH-{i + 1:07d}", "area": AREA_SLUGS[i % len(AREA_SLUGS)],
                          "mappa_category": 1, "mappa_level": 1}
                yield (j, i + 1, i + 1, case_area[i], "s327a_consideration", None, 1, None, None, outcome,
                       presumption, "s327a", None, rng.random() < 0.2, record,
                       officer_ids[j % len(officer_ids)] if officer_ids else None, "officer.bench", when, when)

        copy_rows(dbapi, "decision", ["id", "case_id", "process_id", "area_id", "workflow_key", "task_id", "version",
                                      "supersedes_id", "supersede_reason", "outcome", "presumption_applies",
                                      "legal_basis", "review_date", "overdue_at_decision", "record",
                                      "decided_by_id", "decided_by_name", "decided_at", "made_at"],
                  decisions(), len(decided), "decisions")
        with dbapi.cursor() as cur:
            for table in ("case_record", "conviction", "process_instance", "human_task", "decision"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        dbapi.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return {"cases": n_cases, "tasks": total_tasks, "decisions": len(decided)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


def measure(client: object, path: str, token: str, n: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(10):  # warm caches, pools and the compiled-spec cache
        resp = client.get(path, headers=headers)  # type: ignore[attr-defined]
        assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:300])
    times = []
    total = None
    for _ in range(n):
        t0 = time.perf_counter()
        resp = client.get(path, headers=headers)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - t0) * 1000)
        total = resp.get_json()["total"]
    return {"p50": statistics.median(times), "p95": percentile(times, 95), "max": max(times), "total": total or 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None, help=f"default {DEFAULT_SERVER}/{DB_NAME} (recreated)")
    parser.add_argument("--reuse", action="store_true", help="reuse a loaded database of the same size")
    args = parser.parse_args(argv)

    url = args.database_url or f"{DEFAULT_SERVER}/{DB_NAME}"
    if not url.startswith("postgresql"):
        print("bench/inbox.py needs PostgreSQL (COPY)", file=sys.stderr)
        return 2
    settings = load_settings({"DISCLOSURE_ENV": "test", "DATABASE_URL": url,
                              "DISCLOSURE_INSTANCE_DIR": str(ROOT / "instance" / "bench"),
                              "WORKFLOWS_DIR": str(ROOT / "workflows")})
    reuse = False
    if args.reuse:
        probe = create_engine(normalise_database_url(url))
        try:
            with probe.connect() as conn:
                reuse = conn.execute(text("SELECT count(*) FROM case_record")).scalar_one() == args.cases
            if reuse:  # fresh planner statistics, so a reused database is measured like a new one
                with probe.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
                    auto.execute(text("ANALYZE"))
        except Exception:
            reuse = False
        probe.dispose()
    if not reuse:
        if not args.database_url:
            recreate(DEFAULT_SERVER)
        upgrade(settings.database_url)
        db = Database(settings.database_url)
        deploy_shipped(db, settings)
        for area in AREA_SLUGS:
            for n in range(3):
                create_user(db, f"officer.{area}.{n}", roles=["officer"], areas=[area])
        create_user(db, "bench.officer", roles=["officer"], areas=["kent"])
        create_user(db, "bench.manager", roles=["manager"], areas=["kent"])
        create_user(db, "bench.auditor", roles=["auditor"], areas=[])
        db.dispose()
        started = time.perf_counter()
        counts = load(settings.database_url, args.cases)
        print(f"loaded {counts['cases']:,} cases, {counts['tasks']:,} task rows, {counts['decisions']:,} decisions "
              f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    from web import create_app

    app = create_app(settings)
    db = app.extensions["db"]
    tokens = {u: create_token(db, u, "bench") for u in ("bench.officer", "bench.manager", "bench.auditor")}
    client = app.test_client()
    since = (NOW - timedelta(days=365)).date().isoformat()
    scenarios = [
        ("inbox (officer, available)", "/api/v1/tasks?scope=available", "bench.officer"),
        ("overdue (manager, all)", "/api/v1/tasks?scope=all&overdue=true", "bench.manager"),
        ("decision log, first page (manager)", "/api/v1/decisions", "bench.manager"),
        ("decision log, filtered (manager)",
         f"/api/v1/decisions?outcome=disclose&presumption_applied=true&from={since}", "bench.manager"),
        ("decision log, first page (national auditor)", "/api/v1/decisions", "bench.auditor"),
        ("decision log, filtered (national auditor)",
         f"/api/v1/decisions?outcome=disclose&presumption_applied=true&from={since}", "bench.auditor"),
    ]
    print(f"\n{args.cases:,} cases, {args.requests} requests each (ms)\n")
    print(f"| {'request':<44} | {'matching':>8} | {'p50':>6} | {'p95':>6} | {'max':>6} |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 8}|{'-' * 8}|{'-' * 8}|")
    worst = 0.0
    for label, path, user in scenarios:
        r = measure(client, path, tokens[user], args.requests)
        worst = max(worst, r["p95"])
        print(f"| {label:<44} | {r['total']:>8,} | {r['p50']:>6.1f} | {r['p95']:>6.1f} | {r['max']:>6.1f} |")
    print(f"\nworst p95 {worst:.1f} ms (goal < 30 ms)")
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
