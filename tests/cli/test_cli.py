"""The `disclosure-engine` command as operators and policy teams use it (real processes)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini" / "mini_decision.bpmn"
BAD = ROOT / "tests" / "unit" / "engine" / "fixtures"


@pytest.fixture()
def run(db, database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "DISCLOSURE_ENV": "test",
           "DISCLOSURE_INSTANCE_DIR": str(tmp_path / "instance")}

    def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "disclosure_engine.cli", *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
    return _run


def test_unknown_command_is_usage_error_with_one_line(run):
    result = run("frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "frobnicate" in result.stderr


def test_validate_accepts_the_shipped_style_fixture(run):
    result = run("workflows", "validate", str(MINI))
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_missing_file_is_bad_input(run):
    result = run("workflows", "validate", "no/such.bpmn")
    assert result.returncode == 2 and "no such file" in result.stderr


def test_deploy_prints_key_and_version_and_is_idempotent(run):
    first = run("workflows", "deploy", str(MINI), "--note", "first cut")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "mini_decision 1"
    again = run("workflows", "deploy", str(MINI))
    assert again.returncode == 0 and again.stdout == "mini_decision 1\n", "stdout is KEY N, always"
    assert again.stderr == ("disclosure-engine: mini_decision 1 unchanged: identical content is already "
                            "deployed, not deployed again\n")
    noted = run("workflows", "deploy", str(MINI), "--note", "second try")
    assert noted.returncode == 0 and noted.stdout == "mini_decision 1\n"
    assert noted.stderr.strip().endswith("not deployed again; the --note was not recorded")
    listed = run("workflows", "list")
    assert listed.stdout.startswith("mini_decision\t1\t") and "first cut" in listed.stdout
    assert "second try" not in listed.stdout and listed.stdout.count("\n") == 1


def test_deploying_an_older_versions_content_says_it_is_not_the_latest(run, tmp_path):
    v2 = tmp_path / MINI.name
    for f in MINI.parent.iterdir():
        v2.with_name(f.name).write_bytes(f.read_bytes())
    v2.write_text(v2.read_text().replace('value="P5D"', 'value="P9D"'))
    assert run("workflows", "deploy", str(MINI)).stdout == "mini_decision 1\n"
    assert run("workflows", "deploy", str(v2)).stdout == "mini_decision 2\n"
    back = run("workflows", "deploy", str(MINI))
    assert back.returncode == 0 and back.stdout == "mini_decision 1\n"
    assert back.stderr.strip().endswith("; version 2 is still the latest, which new processes start on")


def test_failing_file_deploys_nothing(run, tmp_path):
    bad = tmp_path / "mini_decision.bpmn"
    bad.write_text(MINI.read_text().replace('"P1D"', "P1D"))
    for name in ("mini--assess.schema.json", "mini--decide.schema.json"):
        (tmp_path / name).write_text((MINI.parent / name).read_text())
    result = run("workflows", "deploy", str(bad))
    assert result.returncode == 1
    assert "wait_review" in result.stdout and "nothing deployed" in result.stderr
    assert run("workflows", "list").stdout.strip() == ""


def test_users_tokens_and_bad_input(run, db):
    ok = run("users", "create", "officer.kent", "--role", "officer", "--area", "kent", "--password-stdin",
             stdin="correct horse battery\n")
    assert ok.returncode == 0, ok.stderr
    assert "officer.kent" in ok.stdout
    dup = run("users", "create", "officer.kent", "--role", "officer", "--area", "kent")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    bad_area = run("users", "create", "x.y", "--role", "officer", "--area", "atlantis")
    assert bad_area.returncode == 2 and "atlantis" in bad_area.stderr
    bad_role = run("users", "create", "x.y", "--role", "overlord")
    assert bad_role.returncode == 2
    token = run("tokens", "create", "officer.kent")
    assert token.returncode == 0
    last = token.stdout.strip().splitlines()[-1]
    assert last.startswith("de_") and len(last) > 30
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_token")).scalar_one()
    assert last not in stored, "only a hash is stored"


def test_audit_verify_ok_then_names_the_tampered_event(run, db):
    run("users", "create", "officer.kent", "--role", "officer", "--area", "kent")
    run("users", "create", "chair.kent", "--role", "chair", "--area", "kent")
    ok = run("audit", "verify")
    assert ok.returncode == 0 and ok.stdout.strip() == "OK 2 events"
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor_name = 'nobody' WHERE seq = 1"))
    broken = run("audit", "verify")
    assert broken.returncode == 1
    assert "event 1" in broken.stderr


def test_audit_verify_detects_a_deleted_event(run, db):
    for name in ("a.one", "b.two", "c.three"):
        run("users", "create", name, "--role", "officer", "--area", "kent")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    broken = run("audit", "verify")
    assert broken.returncode == 1 and "event 2" in broken.stderr


def test_sweep_reports_what_it_did(run):
    result = run("sweep")
    assert result.returncode == 0
    assert result.stdout.startswith("timers: 0 due, 0 fired, 0 failed")


def test_db_upgrade_is_idempotent_and_deploys_shipped_workflows(run):
    first = run("db", "upgrade")
    assert first.returncode == 0, first.stderr
    second = run("db", "upgrade")
    assert second.returncode == 0
    assert "deployed shipped" not in second.stdout, "already deployed: nothing to do"
    listed = run("workflows", "list").stdout
    for key in ("s327a_consideration", "disclosure_delivery", "csods_application", "urgent_disclosure"):
        assert key in listed


def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path):
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "DISCLOSURE_ENV": "test",
           "DISCLOSURE_INSTANCE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "disclosure_engine.cli", "audit", "verify"], env=env,
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.startswith("disclosure-engine: cannot use the database:")
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0


def test_tokens_are_listed_with_last_use_and_revoked_at_once(run, db):
    from disclosure_engine.services.users import actor_for_token

    run("users", "create", "officer.kent", "--role", "officer", "--area", "kent")
    first = run("tokens", "create", "officer.kent", "--label", "case system").stdout.strip().splitlines()[-1]
    run("tokens", "create", "officer.kent", "--label", "spare")
    listed = run("tokens", "list").stdout.strip().splitlines()
    assert len(listed) == 2 and all("last used -" in line and line.endswith("active") for line in listed)
    assert first not in "\n".join(listed), "tokens are never shown again"
    with db.transaction() as session:
        assert actor_for_token(session, first).username == "officer.kent"
    used = run("tokens", "list", "--user", "officer.kent").stdout.strip().splitlines()
    token_id = next(line.split("\t")[0] for line in used if "case system" in line)
    assert "last used -" not in next(line for line in used if "case system" in line)
    revoked = run("tokens", "revoke", token_id)
    assert revoked.returncode == 0 and "case system" in revoked.stdout
    with db.transaction() as session:
        assert actor_for_token(session, first) is None, "a revoked token stops working at once"
    again = run("tokens", "revoke", token_id)
    assert again.returncode == 2 and "already revoked" in again.stderr
    missing = run("tokens", "revoke", "99999")
    assert missing.returncode == 2 and "No API token" in missing.stderr
    assert "revoked" in next(line for line in run("tokens", "list").stdout.splitlines() if "case system" in line)
    assert run("audit", "verify").returncode == 0


def test_password_stdin_drops_a_windows_line_ending(run, db):
    from disclosure_engine.services.users import authenticate

    ok = run("users", "create", "officer.kent", "--role", "officer", "--area", "kent", "--password-stdin",
             stdin="correct horse battery\r\n")
    assert ok.returncode == 0, ok.stderr
    assert "no password" not in ok.stdout
    assert authenticate(db, "officer.kent", "correct horse battery") is not None


def test_a_user_created_without_a_password_is_told_it_can_only_use_tokens(run):
    result = run("users", "create", "case.system", "--role", "officer", "--area", "kent")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "created user case.system (officer; kent)",
        "case.system has no password: it cannot sign in and can only use API tokens "
        "(`disclosure-engine tokens create case.system`); no command sets a password later, so create "
        "accounts that sign in with --password-stdin"]


def test_demo_data_reports_tasks_in_every_state_and_if_empty_adds_nothing(run, db):
    first = run("demo-data", "--cases", "20", "--seed", "3")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("created 20 cases, ")
    assert lines[1].startswith("tasks: ") and " claimed, " in lines[1] and " cancelled; escalations: " in lines[1]
    with db.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*), count(assignee_id) FROM human_task")).one()
    again = run("demo-data", "--if-empty")
    assert again.returncode == 0 and again.stdout.startswith("demo data already present; nothing to do")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), count(assignee_id) FROM human_task")).one() == before


def test_areas_review_period_is_set_listed_and_refused_when_bad(run):
    listed = run("areas", "list")
    assert listed.returncode == 0 and "kent\tlevel 1: none\tlevel 2: P16W\tlevel 3: P8W" in listed.stdout.splitlines()
    assert len(listed.stdout.splitlines()) == 42
    done = run("areas", "review-period", "kent", "--level", "3", "P6W")
    assert done.returncode == 0, done.stderr
    assert "kent\tlevel 1: none\tlevel 2: P16W\tlevel 3: P6W" in run("areas", "list").stdout.splitlines()
    bad = run("areas", "review-period", "kent", "--level", "2", "P2D")
    assert bad.returncode == 2 and "from one week (P1W) to two years (P104W)" in bad.stderr
    unknown = run("areas", "review-period", "atlantis", "--level", "2", "P8W")
    assert unknown.returncode == 2 and "atlantis" in unknown.stderr
