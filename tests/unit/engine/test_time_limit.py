"""EXPRESSION_TIMEOUT_MS is the process's bound on one expression: the web app, workers and CLI
set it at start-up, and workflows compiled afterwards evaluate under it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from disclosure_engine.config import load_settings
from disclosure_engine.engine import time_limit
from disclosure_engine.engine.safe_builtins import ExpressionTimeout
from disclosure_engine.engine.safe_eval import execute

HEAVY = "total = 0\nfor i in range(150000):\n    total = total + i % 7\n"


@pytest.fixture()
def restore_limit() -> Iterator[None]:
    before = time_limit.current()
    yield
    time_limit.configure(before)


def test_the_default_lets_ordinary_work_run_and_the_setting_is_obeyed(restore_limit):
    assert time_limit.current() == time_limit.DEFAULT_MS == 1000
    data: dict = {}
    time_limit.configure(10)
    with pytest.raises(ExpressionTimeout, match="longer than 10 ms"):
        execute(HEAVY, data)
    time_limit.configure(60_000)
    execute(HEAVY, data)
    assert data["total"] == sum(i % 7 for i in range(150000))


def test_an_explicit_limit_still_wins(restore_limit):
    time_limit.configure(60_000)
    with pytest.raises(ExpressionTimeout, match="longer than 10 ms"):
        execute(HEAVY, {}, timeout_ms=10)


@pytest.mark.parametrize("bad", [0, 9, 60_001, True, "100"])
def test_limits_outside_the_bounds_are_refused(bad, restore_limit):
    with pytest.raises(ValueError, match="EXPRESSION_TIMEOUT_MS"):
        time_limit.configure(bad)


def test_the_web_app_applies_the_setting(tmp_path: Path, restore_limit):
    from web import create_app

    create_app(load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path), "EXPRESSION_TIMEOUT_MS": "1500",
                              "SECRET_KEY": "x" * 40}))
    assert time_limit.current() == 1500
