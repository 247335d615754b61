"""When an urgent disclosure ends, the worker's periodic sweep resumes the processes it
interrupted: one ``rsm-<id>`` job each, run by an RQ worker (in this process), once; and
``disclosure-engine sweep`` does it in the foreground and says so."""
from __future__ import annotations

from rq import SimpleWorker

from disclosure_engine.jobs import tasks as job_tasks
from disclosure_engine.jobs.queue import enqueue_due_work, queue_for
from disclosure_engine.services import processes
from tests.services.helpers import new_consideration, replay_path, staff  # noqa: F401 (fixture)

RATIFIED = "emergency disclosure authorised, made and ratified"


def _interrupted_then_ended(db, people) -> tuple[int, int]:
    case_id, consideration = new_consideration(db, people)
    urgent = processes.start_process(db, people["officer"], case_id, "urgent_disclosure",
                                     data={"trigger": "police_report"})
    assert urgent["interrupted"] == [consideration]
    replay_path(db, people, urgent["id"], "urgent_disclosure", RATIFIED)
    return consideration, urgent["id"]


def test_the_periodic_sweep_enqueues_a_resume_job_that_resumes_the_consideration_once(db, settings, staff,  # noqa: F811
                                                                                       rconn):
    consideration, _urgent = _interrupted_then_ended(db, staff)
    queue = queue_for(rconn)
    first = enqueue_due_work(db, queue)
    assert first.by_kind.get("resumes") == 1 and f"rsm-{consideration}" in queue.job_ids
    assert enqueue_due_work(db, queue).pending >= 1, "a second sweep before the worker ran: collapses"
    job_tasks.set_runtime(settings, db)
    try:
        SimpleWorker([queue], connection=rconn).work(burst=True)
    finally:
        job_tasks._runtime = None
    assert processes.get_process(db, staff["manager"], consideration)["paused"] is None
    assert "resumes" not in enqueue_due_work(db, queue).by_kind, "nothing pending any more"


def test_the_sweep_command_resumes_interrupted_processes_and_says_so(db, staff, sweep_cli):  # noqa: F811
    consideration, _urgent = _interrupted_then_ended(db, staff)
    result = sweep_cli()
    assert result.exit_code == 0, result.output
    assert "interrupted processes: 1 resumed, 0 failed" in result.output
    assert processes.get_process(db, staff["manager"], consideration)["paused"] is None
    assert "interrupted processes" not in sweep_cli().output
