"""How long one BPMN expression, DMN cell or script may run: the safe evaluator's bound.

One limit for the whole process, set once at start-up from ``EXPRESSION_TIMEOUT_MS`` (the web
app, the workers and the CLI each call :func:`configure`), before any workflow is compiled: a
compiled workflow keeps the limit it was compiled with.

The default is one second of the evaluating thread's CPU time. The bound exists to stop a
runaway loop, not to police ordinary work: an ordinary script over a few thousand records
takes 50 to 200 ms of CPU on the project's CI machines, depending on their speed that day, so
200 ms (the first default) refused ordinary scripts on a slow day.
"""
from __future__ import annotations

DEFAULT_MS = 1000
#: the shortest and longest limits an operator may set (a limit under 10 ms refuses ordinary
#: conditions; one over a minute is no bound at all on a request holding an instance's lock)
SHORTEST_MS, LONGEST_MS = 10, 60_000
_limit_ms = DEFAULT_MS


def configure(limit_ms: int) -> None:
    """Set the process's limit; a value outside 10 ms to 60 s is a ValueError naming the bounds."""
    global _limit_ms
    if isinstance(limit_ms, bool) or not isinstance(limit_ms, int) or not SHORTEST_MS <= limit_ms <= LONGEST_MS:
        raise ValueError(f"EXPRESSION_TIMEOUT_MS must be a whole number of milliseconds from {SHORTEST_MS} "
                         f"to {LONGEST_MS}, not {limit_ms!r}")
    _limit_ms = limit_ms


def current() -> int:
    """The limit in milliseconds that expressions evaluated now get unless told otherwise."""
    return _limit_ms
