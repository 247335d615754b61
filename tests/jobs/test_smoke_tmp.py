import time, cProfile, pstats
from datetime import timedelta
from sqlalchemy import event
from tests.jobs.conftest import *
from disclosure_engine.services.escalation import sweep_escalations, escalate_task
def test_smoke(world):
    ids = bulk_overdue(world, 100)
    n=[0]
    event.listen(world["db"].engine, "before_cursor_execute", lambda *a: n.__setitem__(0, n[0]+1))
    t=time.monotonic()
    escalate_task(world["db"], ids[0])
    print("stmts one task", n[0], time.monotonic()-t)
    pr=cProfile.Profile(); pr.enable()
    t=time.monotonic()
    for i in ids[1:]: escalate_task(world["db"], i)
    print("99:", time.monotonic()-t)
    pr.disable(); pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
