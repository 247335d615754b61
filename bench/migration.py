"""Bulk migration: N running s327a_consideration instances moved to a new version in one call.

What the policy page's "Migrate all safe" and `POST /api/v1/workflows/<key>/migrations
{"all_safe": true}` do: each instance is checked and migrated in its own transaction (one load,
one diff), keeping its deadlines. Goal: 1,000 instances complete in one request.

Run:  .venv/bin/python bench/migration.py [N]      (PostgreSQL database de_bench_mig, recreated)
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import fresh_database

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import User
from disclosure_engine.services import cases, migration
from disclosure_engine.services.users import actor_for, create_user
from disclosure_engine.services.workflows import deploy_paths

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
db = fresh_database("postgresql://postgres@127.0.0.1:5432/de_bench_mig")
deploy_paths(db, SYSTEM, [ROOT / "workflows" / "s327a_consideration.bpmn"])
u = create_user(db, "o.kent", roles=["officer"], areas=["kent"])
with db.transaction() as s: actor = actor_for(s.get(User, u.id))
t = time.perf_counter()
for i in range(N):
    cases.create_case(db, actor, {"reference": f"MIG-{i:05d}", "area": "kent", "category": 1, "level": 1, "lead_agency": "police",
        "convictions": [{"statute": "Sexual Offences Act 2003", "section": "9", "date": "2018-05-01", "disposal": "conviction", "victim_age": 12, "jurisdiction": "england-wales"}]})
print(f"{N} cases in {time.perf_counter()-t:.1f}s")
d = Path(tempfile.mkdtemp())
for f in (ROOT / "workflows").glob("s327a*"): shutil.copy(f, d / f.name)
b = d / "s327a_consideration.bpmn"; b.write_text(b.read_text().replace('name="due_period" value="P3D"', 'name="due_period" value="P4D"', 1))
deploy_paths(db, SYSTEM, [b])
t = time.perf_counter()
plan = migration.migration_candidates(db, SYSTEM, "s327a_consideration")
t1 = time.perf_counter()
r = migration.migrate_instances(db, SYSTEM, "s327a_consideration", 2, all_safe=True)
t2 = time.perf_counter()
print(f"candidates {t1-t:.1f}s; migrated {len(r['migrated'])} skipped {len(r['skipped'])} in {t2-t1:.1f}s ({(t2-t1)/max(1,len(r['migrated']))*1000:.0f} ms each)")
