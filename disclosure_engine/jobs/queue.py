"""Enqueueing: job ids derived from the work, duplicates collapse, one sweep per slot.

Job ids (letters, digits, ``-`` only):

- ``esc-<task id>-<level>``  escalate one task (every step of its ladder that is due)
- ``escb-<first task>-<n>-<crc32>`` escalate a chunk of tasks in one transaction, when a sweep
  finds more than ``BATCH_THRESHOLD``; the crc is over the chunk's (task, level) pairs
- ``tmr-<instance id>``      fire one instance's due timers
- ``hof-<instance id>``      start the follow-on process of an instance that ended at a hand-off
- ``mail-<notification id>`` (re)send one e-mail
- ``sweep-<slot>``           the periodic sweep; ``slot = floor(epoch / SWEEP_SECONDS)``

Everything is enqueued with ``unique=True``: while a job with that id is queued or running,
another enqueue (a second sweep, another worker's sweep) collapses into it. Successful jobs
are deleted at once (``result_ttl=0``), so the next piece of work with the same id can be
enqueued. A job that failed, or that was left ``started`` by a worker killed with -9 (older
than its timeout plus a grace period, so it cannot still be running), does **not** block
its id: the next sweep deletes it and enqueues the work again. The database decides whether
there is still anything to do, so running a job again is always harmless.
"""
from __future__ import annotations

import logging
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from redis import Redis, RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

log = logging.getLogger(__name__)

QUEUE_NAME = "disclosure"


def _env_seconds(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = default
    return value if value > 0 else default


#: how long one escalation, timer or e-mail job may run before RQ kills it
JOB_TIMEOUT = _env_seconds("DISCLOSURE_JOB_TIMEOUT", 60)
#: a job still "started" this long after it began was abandoned by a dead worker
STALE_GRACE = _env_seconds("DISCLOSURE_JOB_STALE_GRACE", 30)
SWEEP_TIMEOUT = _env_seconds("DISCLOSURE_SWEEP_TIMEOUT", 600)
#: a scheduled job this late means no live worker holds RQ's scheduler lock
SCHEDULER_GRACE = _env_seconds("DISCLOSURE_SCHEDULER_GRACE", 5)
#: failed jobs stay visible to operators (``rq info``, FailedJobRegistry) this long
FAILURE_TTL = 24 * 3600

TASKS = "disclosure_engine.jobs.tasks"


def queue_for(connection: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=connection)


@dataclass
class EnqueueReport:
    enqueued: int = 0
    pending: int = 0       # an identical job was already queued or running
    requeued: int = 0      # a failed or abandoned job with this id was replaced
    errors: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items())) or "nothing"
        return (f"enqueued {self.enqueued} ({kinds}), already pending {self.pending}, "
                f"replaced {self.requeued}, errors {self.errors}")


def _abandoned(job: Job, now: datetime) -> bool:
    status = job.get_status(refresh=False)
    if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED):
        return True
    if status == JobStatus.STARTED:
        began = job.last_heartbeat or job.started_at
        limit = (job.timeout if job.timeout and job.timeout > 0 else JOB_TIMEOUT) + STALE_GRACE
        if began is None:
            return False
        began = began if began.tzinfo else began.replace(tzinfo=timezone.utc)
        return (now - began).total_seconds() > limit
    return False


def enqueue_unique(queue: Queue, func: str | Callable[..., Any], *args: Any, job_id: str,
                   timeout: int = JOB_TIMEOUT, report: EnqueueReport | None = None,
                   kind: str = "job") -> str:
    """Enqueue once per id; returns "enqueued", "pending" or "requeued". Raises RedisError."""
    report = report if report is not None else EnqueueReport()
    for attempt in range(2):
        try:
            queue.enqueue(func, *args, job_id=job_id, unique=True, result_ttl=0,
                          failure_ttl=FAILURE_TTL, job_timeout=timeout, description=job_id)
        except DuplicateJobError:
            try:
                job = Job.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:
                continue  # it finished between the two calls: try once more
            if attempt == 0 and _abandoned(job, datetime.now(timezone.utc)):
                log.warning("job %s was %s and is replaced", job_id, job.get_status(refresh=False))
                job.delete()
                continue
            report.pending += 1
            return "pending"
        else:
            if attempt:
                report.requeued += 1
            report.enqueued += 1
            report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
            return "requeued" if attempt else "enqueued"
    report.pending += 1
    return "pending"


def enqueue_safely(connection_factory: Callable[[], Redis], func: str, *args: Any, job_id: str,
                   timeout: int = JOB_TIMEOUT) -> bool:
    """For web code: enqueue if Redis answers, else log and return False (never raises).

    Nothing in the product *needs* this to succeed: the next sweep finds the work in the
    database anyway; it only makes the work happen sooner."""
    try:
        enqueue_unique(queue_for(connection_factory()), func, *args, job_id=job_id, timeout=timeout)
        return True
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue %s (%s: %s); the next sweep will pick the work up",
                    job_id, type(exc).__name__, exc)
        return False


# -- the periodic sweep -----------------------------------------------------------------------

def sweep_slot(seconds: int, at: float | None = None) -> int:
    return int((time.time() if at is None else at) // seconds)


def ensure_next_sweep(queue: Queue, seconds: int) -> bool:
    """Schedule the sweep for the next slot unless some process already did (cluster-wide:
    the slot-keyed id is unique). Returns True if this call scheduled it."""
    slot = sweep_slot(seconds) + 1
    try:
        queue.enqueue_at(datetime.fromtimestamp(slot * seconds, tz=timezone.utc), f"{TASKS}.sweep",
                         job_id=f"sweep-{slot}", unique=True, result_ttl=max(10 * seconds, 60),
                         failure_ttl=FAILURE_TTL, job_timeout=SWEEP_TIMEOUT,
                         description=f"sweep-{slot}")
        return True
    except DuplicateJobError:
        return False


def rescue_overdue_scheduled(queue: Queue, grace: float | None = None, *, limit: int = 100) -> int:
    """Move scheduled jobs that are more than ``grace`` seconds late onto the queue.

    RQ's scheduler runs in one worker at a time (a per-queue lock with a 61 s TTL); if that
    worker is killed with -9, the others only take the lock over in their maintenance, which
    can be minutes away. Every worker's ticker calls this, so a late sweep still runs: the
    ``ZREM`` from the scheduled registry is atomic and only one caller wins each job."""
    grace = SCHEDULER_GRACE if grace is None else grace
    registry = queue.scheduled_job_registry
    connection = queue.connection
    moved = 0
    for raw in connection.zrangebyscore(registry.key, 0, time.time() - grace, start=0, num=limit):
        job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        if connection.zrem(registry.key, job_id) != 1:
            continue  # the scheduler or another worker took it
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            continue
        queue.enqueue_job(job)
        moved += 1
        log.warning("scheduled job %s was over %s s late (no live scheduler); enqueued it",
                    job_id, grace)
    return moved


def enqueue_sweep_now(queue: Queue, seconds: int) -> bool:
    """Run a sweep for the current slot now (worker start-up), unless one already has."""
    slot = sweep_slot(seconds)
    try:
        queue.enqueue(f"{TASKS}.sweep", job_id=f"sweep-{slot}", unique=True,
                      result_ttl=max(10 * seconds, 60), failure_ttl=FAILURE_TTL,
                      job_timeout=SWEEP_TIMEOUT, description=f"sweep-{slot}")
        return True
    except DuplicateJobError:
        return False


#: up to this many due tasks get a job each; more are escalated in chunks
BATCH_THRESHOLD = 50


def enqueue_due_work(db: Any, queue: Queue, now: datetime | None = None, *,
                     page: int = 2000, max_items: int = 200_000) -> EnqueueReport:
    """One job per due timer instance, per instance waiting for its hand-off, per MAPPA review
    to schedule or start, per task with a due escalation step, per e-mail to (re)send; all
    found by indexed queries. Raises
    RedisError if Redis goes away."""
    from disclosure_engine.services import escalation, handoffs, interruptions, notifications, reviews, timers

    now = now or datetime.now(timezone.utc)
    report = EnqueueReport()
    for instance_id in timers.due_instances(db, now, limit=max_items):
        enqueue_unique(queue, f"{TASKS}.fire_timers", instance_id, job_id=f"tmr-{instance_id}",
                       report=report, kind="timers")
    for instance_id in handoffs.pending_handoffs(db, limit=max_items):
        enqueue_unique(queue, f"{TASKS}.hand_off", instance_id, job_id=f"hof-{instance_id}",
                       report=report, kind="handoffs")
    for instance_id in interruptions.pending_resumes(db, limit=max_items):
        enqueue_unique(queue, f"{TASKS}.resume_interrupted", instance_id, job_id=f"rsm-{instance_id}",
                       report=report, kind="resumes")
    for instance_id in reviews.pending_schedules(db, limit=max_items):
        enqueue_unique(queue, f"{TASKS}.schedule_review", instance_id, job_id=f"rvs-{instance_id}",
                       report=report, kind="reviews")
    for case_id in reviews.due_reviews(db, now, limit=max_items):
        enqueue_unique(queue, f"{TASKS}.start_review", case_id, job_id=f"rvc-{case_id}",
                       report=report, kind="reviews")
    after = None
    seen = 0
    size = _env_seconds("DISCLOSURE_ESCALATION_BATCH", 100)
    while seen < max_items:
        batch = escalation.due_tasks(db, now, limit=page, after=after)
        if len(batch) <= BATCH_THRESHOLD and seen == 0:
            for task_id, level, _at in batch:  # a handful: one job per task
                enqueue_unique(queue, f"{TASKS}.escalate", task_id, job_id=f"esc-{task_id}-{level}",
                               report=report, kind="escalations")
        else:  # thousands: one job per chunk, its id derived from the (task, level) pairs it holds
            for start in range(0, len(batch), size):
                chunk = batch[start:start + size]
                digest = zlib.crc32(",".join(f"{t}:{lvl}" for t, lvl, _ in chunk).encode())
                enqueue_unique(queue, f"{TASKS}.escalate_batch", [t for t, _l, _a in chunk],
                               job_id=f"escb-{chunk[0][0]}-{len(chunk)}-{digest:08x}",
                               report=report, kind="escalations")
        seen += len(batch)
        if len(batch) < page:
            break
        after = (batch[-1][2], batch[-1][0])
    for notification_id in notifications.pending_emails(db, now):
        enqueue_unique(queue, f"{TASKS}.send_mail", notification_id, job_id=f"mail-{notification_id}",
                       report=report, kind="emails")
    return report


def utc_in(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)
