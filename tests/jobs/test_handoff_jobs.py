"""The worker's periodic sweep hands off too: one ``hof-<id>`` job per pending instance, run
by an RQ worker (in this process), starting the follow-on once however often it is enqueued;
and ``disclosure-engine sweep`` says how many it started."""
from __future__ import annotations

from rq import SimpleWorker
from sqlalchemy import select

from disclosure_engine.jobs import tasks as job_tasks
from disclosure_engine.jobs.queue import enqueue_due_work, queue_for
from disclosure_engine.persistence.models import ProcessInstance
from tests.services.helpers import new_consideration, replay_path, staff  # noqa: F401 (fixture)

DISCLOSE = "level 1, presumption applies, disclose"


def _deliveries(db, origin: int) -> list[int]:
    with db.transaction() as session:
        return list(session.execute(select(ProcessInstance.id).where(ProcessInstance.started_from_id == origin))
                    .scalars())


def test_the_periodic_sweep_enqueues_a_hand_off_job_that_starts_delivery_once(db, settings, staff, rconn):
    _case, consideration = new_consideration(db, staff)
    replay_path(db, staff, consideration, "s327a_consideration", DISCLOSE)
    queue = queue_for(rconn)
    first = enqueue_due_work(db, queue)
    second = enqueue_due_work(db, queue)  # a second sweep before any worker ran: collapses
    # the completed consideration also asks for its next MAPPA review to be scheduled
    assert first.by_kind == {"handoffs": 1, "reviews": 1} and second.pending == 2
    assert sorted(queue.job_ids) == sorted([f"hof-{consideration}", f"rvs-{consideration}"])
    job_tasks.set_runtime(settings, db)
    try:
        SimpleWorker([queue], connection=rconn).work(burst=True)
    finally:
        job_tasks._runtime = None
    assert len(_deliveries(db, consideration)) == 1
    assert enqueue_due_work(db, queue).by_kind == {}, "nothing pending any more"


def test_the_sweep_command_prints_the_hand_offs_it_made(db, staff, sweep_cli):
    _case, consideration = new_consideration(db, staff)
    replay_path(db, staff, consideration, "s327a_consideration", DISCLOSE)
    result = sweep_cli()
    assert result.exit_code == 0, result.output
    assert "hand-offs: 1 pending, 1 started, 0 failed" in result.output
    again = sweep_cli()
    assert "hand-offs: 0 pending, 0 started, 0 failed" in again.output
    assert len(_deliveries(db, consideration)) == 1
