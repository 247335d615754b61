"""Policy teams diff versions and migrate running instances from the command line."""
from __future__ import annotations

import shutil

from disclosure_engine.services import cases, processes

from ..services.helpers import MINI, case_payload, make_actor
from .test_cli import run  # noqa: F401  (fixture)


def test_diff_migrate_and_revert(run, db, tmp_path):  # noqa: F811
    assert run("workflows", "deploy", str(MINI)).returncode == 0
    officer = make_actor(db, "officer.kent", "officer")
    case = cases.create_case(db, officer, case_payload(cso=False))
    process = processes.start_process(db, officer, case["id"], "mini_decision")
    for f in MINI.parent.iterdir():
        shutil.copy(f, tmp_path / f.name)
    v2 = tmp_path / MINI.name
    v2.write_text(v2.read_text().replace('value="P5D"', 'value="P9D"'))
    assert run("workflows", "deploy", str(v2), "--note", "longer").stdout.strip() == "mini_decision 2"

    diff = run("workflows", "diff", "mini_decision", "--from", "1", "--to", "2")
    assert diff.returncode == 0
    assert "changed  userTask" in diff.stdout and "property.due_period: 'P5D' -> 'P9D'" in diff.stdout

    dry = run("workflows", "migrate", "mini_decision", "--to", "2", "--dry-run")
    assert f"process {process['id']} (kent): safe" in dry.stdout

    usage = run("workflows", "migrate", "mini_decision", "--to", "2")
    assert usage.returncode == 2 and "--all-safe" in usage.stderr

    moved = run("workflows", "migrate", "mini_decision", "--to", "2", "--all-safe")
    assert moved.returncode == 0 and f"migrated process {process['id']} 1 -> 2" in moved.stdout
    migration_id = moved.stdout.strip().rsplit("migration ", 1)[1].rstrip(")")
    assert processes.get_process(db, officer, process["id"])["version"] == 2

    back = run("workflows", "revert", migration_id)
    assert back.returncode == 0 and "back to version 1" in back.stdout
    again = run("workflows", "revert", migration_id)
    assert again.returncode == 2 and "moved on" in again.stderr


def test_diff_of_unknown_version_is_a_clear_error(run):  # noqa: F811
    result = run("workflows", "diff", "nope", "--from", "1", "--to", "2")
    assert result.returncode == 2 and "not deployed" in result.stderr
