"""Every evaluation is bounded in time and memory before the work is done (issue 2).

The first tests are a security review's measurements: each payload ran for 5-54 s and used up
to 2.9 GB, refused only afterwards or not at all. Each must now be refused quickly, with the
evaluator's own error, and without building what it asks for.
"""
from __future__ import annotations

import time
import tracemalloc

import pytest

from disclosure_engine.engine import safe_interp
from disclosure_engine.engine.safe_builtins import ExpressionError, ExpressionTimeout
from disclosure_engine.engine.safe_eval import evaluate, execute

#: wall time within which a refusal must come (the budget itself is 200 ms)
QUICK = 2.0


def _refused(run, text: str, data: dict | None = None, *, error=ExpressionError, match: str,
             peak_mb: float | None = None):
    names = {} if data is None else data
    if peak_mb is not None:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(error, match=match) as info:
            run(text, names)
        elapsed = time.perf_counter() - started
        if peak_mb is not None:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            assert peak < peak_mb, f"{text!r} used {peak:.0f} MB before it was refused"
    finally:
        if peak_mb is not None:
            tracemalloc.stop()
    assert elapsed < QUICK, f"{text!r} took {elapsed:.1f} s to be refused"
    return info.value


# -- sum() adds numbers only -------------------------------------------------------------------

@pytest.mark.parametrize("text, match", [
    ("sum([[0] * 10] * 3, [])", r"sum\(\) adds numbers only: the start value is a list"),
    ("sum(['a', 'b'], '')", "the start value is a str"),
    ("sum([1, 2, 'x'])", "item 2 is a str"),
    ("sum([[1], [2]])", "item 0 is a list"),
    ("sum({'a': 1})", "item 0 is a str"),
])
def test_sum_adds_numbers_only_and_names_the_item(text, match):
    _refused(evaluate, text, match=match)


def test_sum_of_numbers_is_unchanged():
    assert evaluate("sum([1, 2.5, True])", {}) == 4.5
    assert evaluate("sum(range(10))", {}) == 45
    assert evaluate("sum(x['n'] for x in xs)", {"xs": [{"n": 1}, {"n": 2}]}) == 3
    assert evaluate("sum(flags)", {"flags": [True, False, True]}) == 2
    assert evaluate("sum([], 0.5)", {}) == 0.5


def test_parse_date_needs_text_not_a_container():
    _refused(evaluate, "parse_date([[0] * 1000] * 100)", match=r"parse_date\(\) needs text")


# -- time: the clock is read on every call and often in loops; steps are the backstop --------

def test_the_clock_is_read_before_every_call():
    with pytest.raises(ExpressionTimeout, match="longer than 0 ms"):
        evaluate("len('abc')", {}, timeout_ms=0)


@pytest.mark.parametrize("text", [
    "max(range(10 ** 6), key=str)",  # the key function is called by Python, not by us
    "sorted(range(300000), key=str)",
    "[x for x in range(10 ** 6) for y in range(10 ** 6)]",
    "','.join(str(i) for i in range(10 ** 6))",
])
def test_long_running_calls_and_loops_are_stopped_by_the_clock(text):
    _refused(evaluate, text, error=ExpressionTimeout, match="longer than 200 ms")


def test_the_step_budget_backs_up_the_clock(monkeypatch):
    monkeypatch.setattr(safe_interp, "MAX_STEPS", 1000)
    with pytest.raises(ExpressionTimeout, match="more than 1,000 steps"):
        evaluate("[i for i in range(5000)]", {}, timeout_ms=60_000)
    # work done inside a call counts too, not only interpreter steps
    with pytest.raises(ExpressionTimeout, match="steps"):
        evaluate("sum(range(100000))", {}, timeout_ms=60_000)
