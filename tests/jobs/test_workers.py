"""Real Redis, real worker processes: the ladder end to end, and the fault cases.

Workers run as ``python -m disclosure_engine.cli worker`` subprocesses with SWEEP_SECONDS=1,
a 5 s job timeout and a 2 s stale grace, so an abandoned job is replaced within seconds.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from disclosure_engine.config import load_settings
from disclosure_engine.jobs.queue import (
    QUEUE_NAME,
    enqueue_due_work,
    ensure_next_sweep,
    rescue_overdue_scheduled,
)
from disclosure_engine.persistence.models import (
    EscalationStep,
    HumanTask,
    ProcessInstance,
    utcnow,
)
from disclosure_engine.services import escalation, tasks

from .conftest import (
    OFFENDER_REFS,
    Procs,
    bulk_overdue,
    counts,
    free_port,
    redis_server_binary,
    start_ladder,
    wait_for,
)

pytestmark = pytest.mark.slow


def _level(db, task_id: int) -> int:
    with db.transaction() as session:
        return session.get(HumanTask, task_id).escalation_level


def test_short_deadline_task_is_reminded_overdue_and_escalated_in_order_once(world, job_env, procs, smtp):
    db = world["db"]
    host, port, box = smtp
    env = {**job_env, "SMTP_HOST": host, "SMTP_PORT": str(port)}
    process = start_ladder(world, "KNT-2026-000042")
    task_id = process["open_tasks"][0]["id"]
    procs.worker(env, "ladder")
    wait_for(lambda: _level(db, task_id) == 3, 30, message="level 3", procs=procs)
    time.sleep(2.5)  # more sweeps run: nothing more may happen
    with db.transaction() as session:
        task = session.get(HumanTask, task_id)
        steps = list(session.execute(select(EscalationStep).where(EscalationStep.task_id == task_id)
                                     .order_by(EscalationStep.id)).scalars())
    assert [(s.level, s.kind) for s in steps] == [(1, "reminded"), (2, "overdue"), (3, "escalated")]
    assert steps[0].occurred_at < steps[1].occurred_at < steps[2].occurred_at
    for step, at in zip(steps, (task.reminder_at, task.due_at, task.escalate_at)):
        assert step.scheduled_at == at and step.occurred_at >= at
        assert step.occurred_at - at < timedelta(seconds=4), "each step within a few sweeps of its time"
    c = counts(db)
    assert c["audits"] == {"task.reminded": 1, "task.overdue": 1, "task.escalated": 1}
    assert c["duplicates"] == 0
    # e-mail: 2 officers (unassigned reminder), 1 manager, 1 chair; references only
    wait_for(lambda: len(box.messages) >= 4, 10, message="4 e-mails", procs=procs)
    time.sleep(0.5)
    assert sorted(r for m in box.messages for r in m.rcpt_tos) == [
        "chair.kent@example.test", "manager.kent@example.test", "officer.kent@example.test",
        "officer2.kent@example.test"]
    for m in box.messages:
        text = message_from_bytes(m.content).get_payload()
        assert "KNT-2026-000042" in text and f"https://disclosure.example.test/tasks/{task_id}" in text
        assert not any(ref in text for ref in OFFENDER_REFS)


def test_worker_fires_due_bpmn_timers(world, job_env, procs):
    db = world["db"]
    process = start_ladder(world, "KNT-2026-000043")
    review = process["open_tasks"][0]["id"]
    tasks.complete(db, world["officer"], review, {"outcome": "done"})
    procs.worker(job_env, "timers")

    def approve_opened():
        with db.transaction() as session:
            return session.execute(select(HumanTask.id).where(HumanTask.instance_id == process["id"],
                                                              HumanTask.element_id == "approve")).first()
    wait_for(approve_opened, 20, message="the timer to fire and open 'approve'", procs=procs)


def test_duplicates_collapse_and_abandoned_or_failed_jobs_do_not_block(world, rconn):
    db = world["db"]
    ids = bulk_overdue(world, 5)
    q = Queue(QUEUE_NAME, connection=rconn)
    first = enqueue_due_work(db, q)
    second = enqueue_due_work(db, q)
    assert (first.enqueued, second.enqueued, second.pending) == (5, 0, 5)
    assert q.count == 5
    # a job left "started" by a killed worker long ago, and one that failed: both replaced
    stuck, failed = Job.fetch(f"esc-{ids[0]}-2", connection=rconn), Job.fetch(f"esc-{ids[1]}-2", connection=rconn)
    stuck.set_status(JobStatus.STARTED)
    rconn.hset(stuck.key, mapping={"started_at": "2020-01-01T00:00:00.000000Z",
                                   "last_heartbeat": "2020-01-01T00:00:00.000000Z"})
    failed.set_status(JobStatus.FAILED)
    third = enqueue_due_work(db, q)
    assert (third.requeued, third.pending) == (2, 3)
    # the database decides: running a job twice does nothing the second time
    assert [s.kind for s in escalation.escalate_task(db, ids[0]).steps] == ["overdue", "escalated"]
    assert escalation.escalate_task(db, ids[0]).steps == []


def test_one_sweep_per_slot_and_late_scheduled_sweeps_are_rescued(rconn):
    q = Queue(QUEUE_NAME, connection=rconn)
    results = []
    threads = [threading.Thread(target=lambda: results.append(ensure_next_sweep(q, 30))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and len(q.scheduled_job_registry) == 1
    # no scheduler holds the lock (its worker was killed): the ticker's rescue moves a late job once
    job_id = q.scheduled_job_registry.get_job_ids()[0]
    rconn.zadd(q.scheduled_job_registry.key, {job_id: time.time() - 60})
    moved = []
    threads = [threading.Thread(target=lambda: moved.append(rescue_overdue_scheduled(q, 5))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(moved) == 1 and q.job_ids == [job_id]


def test_kill_9_mid_sweep_of_1000_overdue_tasks_then_another_worker(world, job_env, procs):
    db = world["db"]
    bulk_overdue(world, 1000)
    # small chunks (the backlog path, 2 tasks a job) so the kill lands while work is left
    job_env = {**job_env, "DISCLOSURE_ESCALATION_BATCH": "2"}
    first = procs.worker(job_env, "doomed")
    wait_for(lambda: counts(db)["levels"].get(3, 0) >= 100, 60, message="100 escalated", procs=procs)
    Procs.kill9(first)
    done_at_kill = counts(db)["levels"].get(3, 0)
    assert done_at_kill < 1000, "the worker must die mid-sweep"
    procs.worker(job_env, "survivor")
    try:
        wait_for(lambda: counts(db)["levels"].get(3, 0) == 1000, 90, interval=0.5,
                 message="all 1000 escalated", procs=procs)
    except AssertionError:
        with db.transaction() as session:
            left = list(session.execute(select(HumanTask.id, HumanTask.escalation_level, HumanTask.next_escalation_at)
                                        .where(HumanTask.status == "open", HumanTask.escalation_level < 3)))
        conn = redis.Redis.from_url(job_env["REDIS_URL"])
        jobs = {t: conn.hgetall(f"rq:job:esc-{t}-{2 if lvl < 2 else 3}") for t, lvl, _ in left[:5]}
        raise AssertionError(f"{len(left)} not escalated, e.g. {left[:5]}; jobs {jobs}; "
                             f"queue {conn.llen('rq:queue:disclosure')}")
    time.sleep(2)
    c = counts(db)
    assert c["steps"] == {2: 1000, 3: 1000} and c["duplicates"] == 0
    assert c["audits"] == {"task.overdue": 1000, "task.escalated": 1000}
    assert c["notifications"] == 2000  # one manager and one chair in kent, once per step
    assert c["levels"] == {3: 1000}


def test_redis_down_the_app_keeps_working_and_the_next_sweep_finds_everything(world, job_env, procs, tmp_path):
    db = world["db"]
    port = free_port()
    data = tmp_path / "redis-down"
    data.mkdir()
    server_args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(data)]
    server = procs.start(server_args, dict(os.environ), "redis-own")
    url = f"redis://127.0.0.1:{port}/0"
    wait_for(lambda: _ping(url), 10, message="own redis")
    env = {**job_env, "REDIS_URL": url}
    procs.worker(env, "through-outage")
    own = redis.Redis.from_url(url)
    wait_for(lambda: own.scard("rq:workers") > 0, 20, message="worker registered", procs=procs)
    own.close()
    started = [start_ladder(world, f"KNT-2026-1000{i:02d}") for i in range(4)]
    ids = [p["open_tasks"][0]["id"] for p in started]
    server.send_signal(signal.SIGTERM)
    server.wait(10)
    assert not _ping(url)
    # Redis is down: the service layer and the API still complete tasks, quickly
    t0 = time.monotonic()
    tasks.complete(db, world["officer"], ids[0], {"outcome": "done"})
    api_done = _complete_through_api(world, ids[1], url, tmp_path)
    assert api_done, "POST /api/v1/tasks/<id>/complete is mounted, so it must be the path tested"
    assert time.monotonic() - t0 < 5
    settings = load_settings({**job_env, "REDIS_URL": url})
    from web import create_app

    ready = create_app(settings).test_client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["redis"] == "unreachable"
    assert ready.get_json()["database"] == "ok"
    # meanwhile deadlines pass for the other tasks (move them into the past)
    with db.transaction() as session:
        past = utcnow() - timedelta(minutes=5)
        session.execute(update(HumanTask).where(HumanTask.id.in_(ids[2:]))
                        .values(reminder_at=past - timedelta(minutes=2), due_at=past - timedelta(minutes=1),
                                escalate_at=past, next_escalation_at=past - timedelta(minutes=2)))
    time.sleep(2)
    assert counts(db)["steps"] == {}, "nothing can run while Redis is down"
    # Redis returns empty (no persistence): the worker reconnects, the sweep chain re-forms
    procs.start(server_args, dict(os.environ), "redis-own-again")
    wait_for(lambda: _ping(url), 10, message="own redis again")
    wait_for(lambda: counts(db)["levels"].get(3, 0) == 2, 60, message="both due tasks escalated", procs=procs)

    def timers_fired():
        with db.transaction() as session:
            return all(session.get(ProcessInstance, p["id"]).next_timer_at is None
                       for p in started[:2] if api_done or p is started[0])
    wait_for(timers_fired, 30, message="timers of completed tasks fired", procs=procs)
    time.sleep(2)
    c = counts(db)
    assert c["duplicates"] == 0 and c["steps"] == {2: 2, 3: 2}
    assert c["audits"] == {"task.overdue": 2, "task.escalated": 2}


def _ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _complete_through_api(world, task_id: int, redis_url: str, tmp_path: Path) -> bool:
    """POST /api/v1/tasks/<id>/complete when the API is mounted; False if it is not (yet)."""
    from disclosure_engine.services.users import create_token
    from web import create_app

    db = world["db"]
    settings = load_settings({"DISCLOSURE_ENV": "test", "DATABASE_URL": db.url, "REDIS_URL": redis_url,
                              "DISCLOSURE_INSTANCE_DIR": str(tmp_path / "api-instance")})
    app = create_app(settings)
    rules = [str(r.rule) for r in app.url_map.iter_rules()]
    if not any(r.startswith("/api/v1/tasks/<") and r.endswith("/complete") for r in rules):
        tasks.complete(db, world["officer"], task_id, {"outcome": "done"})
        return False
    token = create_token(db, world["officer"].username, "test")
    response = app.test_client().post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"outcome": "done"}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return True


def test_two_workers_and_two_sweeps_at_once_make_no_duplicates(world, job_env, procs, rconn):
    db = world["db"]
    bulk_overdue(world, 300)
    q = Queue(QUEUE_NAME, connection=rconn)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def enqueue_sweep() -> None:
        barrier.wait()
        try:
            enqueue_due_work(db, Queue(QUEUE_NAME, connection=redis.Redis.from_url(job_env["REDIS_URL"])))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def foreground_sweep() -> None:
        barrier.wait()
        try:
            escalation.sweep_escalations(db)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=enqueue_sweep), threading.Thread(target=enqueue_sweep),
               threading.Thread(target=foreground_sweep)]
    for t in threads:
        t.start()
    procs.worker(job_env, "twin-a")
    procs.worker(job_env, "twin-b")
    for t in threads:
        t.join()
    assert not errors
    wait_for(lambda: counts(db)["levels"].get(3, 0) == 300, 60, message="all 300 escalated", procs=procs)
    time.sleep(2)
    c = counts(db)
    assert c["steps"] == {2: 300, 3: 300} and c["duplicates"] == 0
    assert c["audits"] == {"task.overdue": 300, "task.escalated": 300}
    assert c["notifications"] == 600
    wait_for(lambda: q.count == 0, 30, message="the queue to drain (jobs left by the foreground sweep no-op)")


def test_embedded_redis_starts_on_a_socket_with_aof_and_readyz_reports_it(settings, tmp_path):
    from disclosure_engine.jobs.connection import EmbeddedRedis, web_redis
    from web import create_app

    embedded = EmbeddedRedis(tmp_path / "inst")
    url = embedded.start()
    try:
        assert url.startswith("unix://")
        client = web_redis(url)
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert client.config_get("port")["port"] == "0"
        client.close()
        app = create_app(load_settings({"DISCLOSURE_ENV": "test", "DATABASE_URL": settings.database_url,
                                        "REDIS_URL": url,
                                        "DISCLOSURE_INSTANCE_DIR": str(settings.instance_dir)}))
        body = app.test_client().get("/readyz").get_json()
        assert body["redis"] == "ok" and body["status"] == "ok"
    finally:
        embedded.stop()
    assert embedded.process is None and not Path(url[len("unix://"):].split("?")[0]).exists()
    # a hung or closed Redis fails the probe fast, never hangs a web request
    app = create_app(load_settings({"DISCLOSURE_ENV": "test", "DATABASE_URL": settings.database_url,
                                    "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                                    "DISCLOSURE_INSTANCE_DIR": str(settings.instance_dir)}))
    t0 = time.monotonic()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and time.monotonic() - t0 < 3


def _serve_on_embedded_defaults(settings, instance_dir: Path, procs: Procs) -> tuple[subprocess.Popen[bytes], int]:
    """``disclosure-engine serve`` with no REDIS_URL (so with its embedded Redis and worker)."""
    import sys

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",) and not k.startswith("PYTEST_")}
    env.update({"DISCLOSURE_ENV": "development", "DATABASE_URL": settings.database_url,
                "DISCLOSURE_INSTANCE_DIR": str(instance_dir), "SWEEP_SECONDS": "1"})
    serve = procs.start([sys.executable, "-m", "disclosure_engine.cli", "serve", "--port", str(port)], env, "serve")
    return serve, port


def test_serve_without_redis_url_runs_embedded_redis_and_a_worker_and_stops_them(settings, tmp_path, procs):
    serve, port = _serve_on_embedded_defaults(settings, tmp_path / "i", procs)
    import urllib.request

    def ready():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                return r.status == 200 and b'"redis":"ok"' in r.read().replace(b" ", b"")
        except OSError:
            return False
    wait_for(ready, 30, message="serve ready with embedded redis", procs=procs)
    log = procs.logs[-1].read_text()
    assert "embedded Redis at unix://" in log and "worker pid" in log
    children = subprocess.run(["pgrep", "-P", str(serve.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) >= 2  # redis-server and the worker
    serve.send_signal(signal.SIGTERM)
    serve.wait(40)
    assert "embedded Redis and worker stopped" in procs.logs[-1].read_text()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert (tmp_path / "i" / "redis" / "appendonly.aof").exists() or any((tmp_path / "i" / "redis").glob("appendonly*"))


def test_a_redis_left_running_on_the_instance_socket_is_shut_down_before_the_next_starts(tmp_path):
    """What a ``serve`` killed outright leaves behind must not end as two Redis servers on one AOF."""
    from disclosure_engine.jobs.connection import EmbeddedRedis, web_redis

    first = EmbeddedRedis(tmp_path / "inst")
    url = first.start()
    client = web_redis(url)
    client.set("kept", "yes")
    client.close()
    leftover, first.process = first.process, None  # as if its serve had died without stopping it
    second = EmbeddedRedis(tmp_path / "inst")
    try:
        assert second.start() == url
        assert leftover.wait(10) is not None  # the leftover went (it saved its AOF as it did)
        client = web_redis(url)
        assert client.get("kept") == b"yes"  # and the new one replayed it
        client.close()
    finally:
        second.stop()
        if leftover.poll() is None:
            leftover.kill()


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="parent-death signal is Linux only")
def test_serve_killed_outright_leaves_no_redis_or_worker_behind(settings, tmp_path, procs):
    serve, _port = _serve_on_embedded_defaults(settings, tmp_path / "i", procs)
    wait_for(lambda: "worker pid" in procs.logs[-1].read_text(), 30, message="serve started its children",
             procs=procs)
    children = subprocess.run(["pgrep", "-P", str(serve.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) >= 2  # redis-server and the worker
    serve.kill()  # SIGKILL: no finally block runs
    serve.wait(10)

    def alive(pid: str) -> bool:
        try:
            return "zombie" not in Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
    try:
        wait_for(lambda: not any(alive(pid) for pid in children), 40,
                 message="redis-server and the worker to exit after their serve was killed", procs=procs)
    finally:  # a failing run must not leave them running either
        for pid in filter(alive, children):
            os.kill(int(pid), signal.SIGKILL)


def test_production_refuses_the_embedded_redis():
    from disclosure_engine.config import Settings
    from disclosure_engine.domain.errors import BadInput
    from disclosure_engine.jobs.connection import EmbeddedRedis

    with pytest.raises(BadInput):
        EmbeddedRedis.refuse_in(Settings(env="production"))
