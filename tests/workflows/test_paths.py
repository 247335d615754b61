"""Every path in workflows/tests/*.json reaches its expected end state, with a save/load round
trip between steps, form validation on every step, and full reasons in every decision record."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from disclosure_engine.engine import runtime
from disclosure_engine.engine.bundle import bundle_from_path
from disclosure_engine.engine.path_tests import (
    WORKFLOWS_DIR,
    iter_paths,
    path_files,
    reason_limb_problems,
    run_path,
)

SHIPPED = ("s327a_consideration", "disclosure_delivery", "csods_application", "urgent_disclosure")
CASES = [pytest.param(key, item, id=f"{key}::{item['name']}")
         for _file, key, item in iter_paths(path_files(WORKFLOWS_DIR))]


@lru_cache(maxsize=None)
def compiled(key: str):
    return runtime.compile_bundle(bundle_from_path(WORKFLOWS_DIR / f"{key}.bpmn"))


def test_every_shipped_workflow_has_path_tests() -> None:
    keys = {Path(f).stem for f in path_files(WORKFLOWS_DIR)}
    assert set(SHIPPED) <= keys
    per_key = {k: sum(1 for c in CASES if c.values[0] == k) for k in SHIPPED}
    assert all(n >= 3 for n in per_key.values()), per_key


@pytest.mark.parametrize(("key", "path"), CASES)
def test_path(key: str, path: dict) -> None:
    result = run_path(compiled(key), path)
    assert result.ok, result.message
    if result.decisions_recorded and result.status == "completed":
        problems = reason_limb_problems(key, result.end_data)
        assert not problems, f"decision recorded at {result.decisions_recorded} lacks reasons: {problems}"
    for record in result.records:  # each record as written, not only the process's last data
        problems = reason_limb_problems(key, record)
        assert not problems, f"decision recorded at {record['decision_task']} lacks reasons: {problems}"
