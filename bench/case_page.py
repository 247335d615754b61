"""The case page of a case with many processes, measured through the web app.

A case that has been managed for years gathers processes: a consideration at every MAPPA
review (every 8 or 16 weeks), CSODS applications, deliveries. The page shows each process with
its open tasks, timeline and pause state. This times ``GET /cases/<id>`` (signed in as a
manager of the area, the Flask test client, the real services and SQL) for a case with
``--processes`` CSODS applications besides its consideration, each waiting at its first step.

Run:  .venv/bin/python bench/case_page.py [--processes 40] [--requests 200] [--database-url URL]
Default database: PostgreSQL on 127.0.0.1, database ``de_bench_case`` (recreated).
Goal: p95 < 100 ms with 40 processes.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import fresh_database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from disclosure_engine.config import load_settings  # noqa: E402
from disclosure_engine.domain.roles import SYSTEM  # noqa: E402
from disclosure_engine.persistence.models import AuditEvent  # noqa: E402
from disclosure_engine.services import cases, processes  # noqa: E402
from disclosure_engine.services.users import create_user  # noqa: E402
from disclosure_engine.services.workflows import deploy_shipped  # noqa: E402

PASSWORD = "bench-password-2026"


def build(db, settings, n: int) -> int:
    deploy_shipped(db, settings)
    create_user(db, "bench.manager", roles=["manager"], areas=["kent"], password=PASSWORD)
    case = cases.create_case(db, SYSTEM, {
        "reference": "BENCH-CASE-1", "area": "kent", "category": 1, "level": 2, "lead_agency": "police",
        "offender": {"visor_ref": "VS7000001"},
        "convictions": [{"statute": "Sexual Offences Act 2003", "section": "9", "date": "2018-05-01",
                         "disposal": "conviction", "victim_age": 12, "jurisdiction": "england-wales"}]})
    for i in range(n):
        processes.start_process(db, SYSTEM, case["id"], "csods_application",
                                data={"scheme_route": "right_to_ask", "application_reference": f"CSODS/KNT/{i}"})
    return case["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/de_bench_case")
    parser.add_argument("--processes", type=int, default=40)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    db = fresh_database(args.database_url)
    settings = load_settings({"DISCLOSURE_ENV": "test", "DATABASE_URL": args.database_url,
                              "DISCLOSURE_INSTANCE_DIR": str(ROOT / "instance" / "bench")})
    case_id = build(db, settings, args.processes)
    from web import create_app

    app = create_app(settings)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/sign-in", data={"username": "bench.manager", "password": PASSWORD, "csrf_token": token})
    with db.transaction() as session:
        before = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    times = []
    for _ in range(args.requests):
        t0 = time.perf_counter()
        response = client.get(f"/cases/{case_id}")
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.status_code
    with db.transaction() as session:
        after = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    times.sort()
    print(f"database: {db.dialect}; case page with {args.processes + 1} processes, {args.requests} requests")
    print(f"GET /cases/<id>: p50 {statistics.median(times) * 1000:.1f} ms, "
          f"p95 {times[int(0.95 * len(times)) - 1] * 1000:.1f} ms (goal p95 < 100 ms)")
    print(f"audit events written per view: {(after - before) / args.requests:.1f}")


if __name__ == "__main__":
    main()
