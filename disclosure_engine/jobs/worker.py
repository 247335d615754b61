"""``disclosure-engine worker``: an RQ worker that also keeps the periodic sweep scheduled.

- Jobs run in the worker process (``SimpleWorker``: no fork per job, one database pool per
  worker). Each job is one short transaction; RQ's job timeout still applies.
- Every worker runs RQ's scheduler (one holds the per-queue lock at a time) so the scheduled
  sweep jobs and retries move to the queue.
- A small ticker thread in every worker calls ``ensure_next_sweep`` every few seconds with its
  own fail-fast client. Only one call per slot wins (unique, slot-keyed job id), so there is
  exactly one sweep per slot however many workers run, and the chain re-forms by itself after
  Redis was flushed or restarted empty. The ticker also moves scheduled jobs that are more
  than a few seconds late onto the queue (atomic ZREM, one winner), so sweeps keep running
  while RQ's scheduler lock is still held by a worker that was killed with -9.
- Short ``worker_ttl`` / ``maintenance_interval`` defaults (60 s / 30 s) so a surviving worker
  takes over the scheduler lock about a minute after another is killed (RQ's defaults take
  up to 13 minutes).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from redis import RedisError
from rq import SimpleWorker

from disclosure_engine.config import Settings
from disclosure_engine.jobs import tasks
from disclosure_engine.jobs.connection import web_redis, worker_redis
from disclosure_engine.jobs.queue import (
    enqueue_sweep_now,
    ensure_next_sweep,
    queue_for,
    rescue_overdue_scheduled,
)

log = logging.getLogger(__name__)

DEFAULT_WORKER_TTL = 60
DEFAULT_MAINTENANCE_INTERVAL = 30
DEFAULT_JOB_MONITORING_INTERVAL = 10


class SweepTicker(threading.Thread):
    """Keeps the next sweep slot scheduled; never raises (Redis may be down)."""

    def __init__(self, url: str, seconds: int) -> None:
        super().__init__(name="sweep-ticker", daemon=True)
        self.url, self.seconds = url, seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        client = web_redis(self.url)
        queue = queue_for(client)
        interval = max(0.5, min(self.seconds / 2, 5.0))
        while not self.stopped.wait(interval):
            try:
                ensure_next_sweep(queue, self.seconds)
                rescue_overdue_scheduled(queue)
            except (RedisError, OSError) as exc:
                log.debug("sweep ticker: redis unavailable (%s)", exc)
        client.close()


#: how long ``worker --burst`` waits for Redis before it gives up (a few retries)
BURST_WAIT_SECONDS = 15.0


class RedisUnreachable(Exception):
    """Redis did not answer within the time a one-off run waits for it."""


def wait_for_redis(url: str, *, max_delay: float = 30.0, give_up_after: float | None = None) -> None:
    """Block until Redis answers (RQ only retries once a worker is running; a worker started
    while Redis is down would otherwise exit). A long-running worker waits as long as it takes;
    a one-off run (``give_up_after`` seconds, e.g. ``worker --burst`` from cron or CI) raises
    RedisUnreachable instead of hanging for ever."""
    client = web_redis(url)
    delay = 1.0
    deadline = time.monotonic() + give_up_after if give_up_after is not None else None
    try:
        while True:
            try:
                client.ping()
                return
            except (RedisError, OSError) as exc:
                if deadline is not None and time.monotonic() + delay > deadline:
                    raise RedisUnreachable(f"Redis is unreachable ({exc})") from None
                log.warning("redis unavailable (%s); retrying in %.0f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, max_delay)
    finally:
        client.close()


def run_worker(settings: Settings, url: str, *, burst: bool = False, sweep: bool = True,
               name: str | None = None, worker_ttl: int = DEFAULT_WORKER_TTL,
               maintenance_interval: int = DEFAULT_MAINTENANCE_INTERVAL,
               job_monitoring_interval: int = DEFAULT_JOB_MONITORING_INTERVAL,
               logging_level: str = "INFO", max_jobs: int | None = None) -> bool:
    """Run until stopped (SIGTERM/SIGINT: warm shutdown after the current job), or with
    ``burst`` until the queue is empty. Returns whether any job ran."""
    tasks.set_runtime(settings)
    wait_for_redis(url, give_up_after=BURST_WAIT_SECONDS if burst else None)
    connection = worker_redis(url)  # re-made after each restart below
    queue = queue_for(connection)
    ticker: SweepTicker | None = None
    if sweep and not burst:
        try:
            ensure_next_sweep(queue, settings.sweep_seconds)
            enqueue_sweep_now(queue, settings.sweep_seconds)
        except RedisError as exc:  # the worker itself waits for Redis and retries
            log.warning("redis unavailable at start (%s); sweeps start when it returns", exc)
        ticker = SweepTicker(url, settings.sweep_seconds)
        ticker.start()
    worker_kwargs: dict[str, Any] = dict(worker_ttl=worker_ttl, maintenance_interval=maintenance_interval,
                                         job_monitoring_interval=job_monitoring_interval)
    restarts = 0
    try:
        while True:
            if restarts:
                wait_for_redis(url)
                connection = worker_redis(url)
                queue = queue_for(connection)
            if name:
                worker_kwargs["name"] = name if not restarts else f"{name}-r{restarts}"
            worker = SimpleWorker([queue], connection=connection, **worker_kwargs)
            try:
                return worker.work(burst=burst, with_scheduler=sweep, logging_level=logging_level,
                                   max_jobs=max_jobs)
            except (RedisError, OSError) as exc:
                # RQ quits when Redis vanishes while it finishes a job; the job's work is
                # already committed in the database (or rolled back), so start again
                if burst:
                    raise
                restarts += 1
                log.warning("lost Redis (%s: %s); restarting the worker loop", type(exc).__name__, exc)
                if worker.scheduler is not None:
                    try:
                        worker.stop_scheduler()
                    except Exception:  # noqa: BLE001 - best effort; the lock expires by itself
                        pass
                time.sleep(1)
    finally:
        if ticker is not None:
            ticker.stopped.set()
