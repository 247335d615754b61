"""Every failure of the command is ONE line on stderr with exit 1 (a check failed) or 2 (bad
usage or input), never a help page or a traceback: operators script against it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "DISCLOSURE_ENV": "test", "DISCLOSURE_INSTANCE_DIR": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", **env}
    return subprocess.run([sys.executable, "-m", "disclosure_engine.cli", *args], env=full,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("disclosure-engine: "), lines[0]
    return lines[0]


def test_a_missing_choice_option_names_the_choices_on_one_line(tmp_path):
    result = _cli("users", "create", "alice", tmp_path=tmp_path)
    assert result.returncode == 2
    assert _one_line(result) == ("disclosure-engine: Missing option '--role'. "
                                 "Choose from: officer, chair, manager, policy, auditor, admin")


@pytest.mark.parametrize("args, names", [
    ((), "areas, audit, db, demo-data, serve, sweep, tokens, users, worker, workflows"),
    (("db",), "upgrade"),
    (("workflows",), "deploy, diff, list, migrate, revert, validate"),
])
def test_a_group_without_a_subcommand_lists_them_on_one_line(tmp_path, args, names):
    result = _cli(*args, tmp_path=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    path = " ".join(("disclosure-engine", *args))
    assert _one_line(result) == f"disclosure-engine: missing command (one of: {names}); see `{path} --help`"


@pytest.mark.parametrize("args", [("--help",), ("db", "--help"), ("workflows", "--help")])
def test_help_is_still_the_whole_help(tmp_path, args):
    result = _cli(*args, tmp_path=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: disclosure-engine") and "Commands:" in result.stdout


@pytest.mark.parametrize("args, env, variable", [
    (("workflows", "list"), {"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
    (("workflows", "list"), {"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
    (("workflows", "list"), {"DATABASE_URL": "postgresql://app:secret@db:port/de"}, "DATABASE_URL"),
    (("worker", "--burst"), {"REDIS_URL": "notaurl"}, "REDIS_URL"),
])
def test_a_bad_url_setting_is_bad_input_naming_the_variable(tmp_path, args, env, variable):
    result = _cli(*args, tmp_path=tmp_path, **env)
    assert result.returncode == 2
    line = _one_line(result)
    assert variable in line and "secret" not in line, "a URL's password is never echoed"


def test_an_unmigrated_sqlite_database_says_to_run_db_upgrade(tmp_path):
    result = _cli("workflows", "list", tmp_path=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert _one_line(result).endswith("run `disclosure-engine db upgrade` first")


def test_an_unmigrated_postgresql_database_says_to_run_db_upgrade(tmp_path, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the suite runs on SQLite; set DATABASE_URL to a PostgreSQL server")
    from tests.conftest import _drop_postgres, _postgres_url

    empty = _postgres_url("unmigrated")
    try:
        result = _cli("workflows", "list", tmp_path=tmp_path, DATABASE_URL=empty)
    finally:
        _drop_postgres(empty)
    assert result.returncode == 1
    line = _one_line(result)
    assert "does not exist" in line and line.endswith("run `disclosure-engine db upgrade` first")


def test_error_line_knows_postgresqls_undefined_table():
    psycopg_errors = pytest.importorskip("psycopg.errors")
    from sqlalchemy.exc import ProgrammingError

    from disclosure_engine.persistence.db import error_line

    exc = ProgrammingError("SELECT 1", {}, psycopg_errors.UndefinedTable(
        'relation "process_definition" does not exist\nLINE 2: FROM process_definition ...'))
    assert error_line(exc) == ('the database schema is missing or older than this release (relation '
                               '"process_definition" does not exist); run `disclosure-engine db upgrade` first')


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch, capsys, tmp_path):
    from disclosure_engine import cli
    from disclosure_engine.services import audit

    def broken(_db):
        raise TypeError("something the code did not foresee\nsecond line")

    monkeypatch.setattr(audit, "verify_chain", broken)
    monkeypatch.setenv("DISCLOSURE_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["audit", "verify"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err == "disclosure-engine: unexpected error: TypeError: something the code did not foresee\n"


def test_a_burst_worker_gives_up_on_an_unreachable_redis(monkeypatch, capsys, tmp_path, database_url):
    """``worker --burst`` (cron, CI) must not wait for ever: exit 1 with one line naming Redis.
    A long-running worker still waits for Redis to come back (jobs.worker.wait_for_redis)."""
    from disclosure_engine import cli
    from disclosure_engine.jobs import worker

    monkeypatch.setattr(worker, "BURST_WAIT_SECONDS", 0.5)
    monkeypatch.setenv("DISCLOSURE_ENV", "test")
    monkeypatch.setenv("DISCLOSURE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", database_url)  # migrated: the worker checks that first
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # the discard port: nothing answers
    with pytest.raises(SystemExit) as stopped:
        cli.main(["worker", "--burst", "--quiet"])
    assert stopped.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("disclosure-engine: Redis is unreachable") and "REDIS_URL" in last


@pytest.mark.parametrize("args, env", [
    (("serve", "--port", "0"), {}),
    (("worker", "--burst"), {"REDIS_URL": "redis://127.0.0.1:9/0"}),
])
def test_the_web_app_and_workers_refuse_to_start_on_an_unmigrated_database(tmp_path, args, env):
    """Before, both started on an empty database and then failed every page and sweep with
    "no such table"; now they stop at once and say what to run. Nothing is started: no
    embedded Redis, no worker."""
    result = _cli(*args, tmp_path=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}", **env)
    assert result.returncode == 1
    assert _one_line(result) == ("disclosure-engine: the database has no schema yet: "
                                 "run `disclosure-engine db upgrade` first")
    assert "embedded Redis" not in result.stdout and not (tmp_path / "instance" / "redis").exists()
