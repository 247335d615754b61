"""The allow-lists the safe evaluator consults: functions, methods and attributes.

Kept apart from the evaluator so a reviewer can see, in one short file, everything an
expression written in a BPMN file can reach. Anything not named here is refused; in
particular nothing here returns a module, a class other than the date types, a code object
or a bound method of an object outside the listed types.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

#: the longest string, list, dict, set or tuple an expression may build
MAX_SEQUENCE = 1_000_000
#: the largest integer (in bits) arithmetic may produce, so 10**10**10 is refused up front
MAX_INT_BITS = 100_000
#: the largest one value may be, as estimated memory of the whole tree (nested items and text
#: counted wherever they appear; see safe_values), so str(), ==, sorted() of it stay quick
MAX_VALUE_BYTES = 16 * 2**20
#: the most one evaluation may build in total (new strings, containers, big numbers)
MAX_ALLOCATED_BYTES = 64 * 2**20
#: how deeply lists and dicts may nest in a value
MAX_VALUE_DEPTH = 50
#: whole numbers a script may keep in task data: what every JSON reader (browsers too) keeps exactly
MAX_STORED_INT = 2**53 - 1


class ExpressionError(Exception):
    """An expression was refused or failed; the message says why in policy-author terms."""


class ExpressionTimeout(ExpressionError):
    """An expression ran past its time or step budget."""


def _today() -> date:
    """Today's date in UTC, so every server agrees on 'today'."""
    return datetime.now(UTC).date()


def _now() -> datetime:
    """The current time, always timezone-aware UTC (naive times are read as local by Spiff)."""
    return datetime.now(UTC)


def _text_arg(fn: str, text: Any) -> str:
    if isinstance(text, date):
        return text.isoformat()
    if not isinstance(text, str):
        raise ExpressionError(f"{fn}() needs text such as '2024-01-31', not a {type(text).__name__}")
    return text


def _parse_date(text: str) -> date:
    return date.fromisoformat(_text_arg("parse_date", text)[:10])


def _parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(_text_arg("parse_datetime", text))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _days_between(start: Any, end: Any) -> int:
    """Whole days from start to end; accepts dates or ISO strings (task data holds either)."""
    a = start if isinstance(start, date) else _parse_date(start)
    b = end if isinstance(end, date) else _parse_date(end)
    if isinstance(a, datetime):
        a = a.date()
    if isinstance(b, datetime):
        b = b.date()
    return (b - a).days


def _range(*args: int) -> range:
    """range(), capped so sum(range(10**12)) cannot pin a CPU outside our step counter."""
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise ExpressionError(f"range of {len(r)} items is larger than allowed ({MAX_SEQUENCE})")
    return r


_NUMBERS = frozenset({int, float, bool})


def _sum(items: Any, start: Any = 0) -> Any:
    """sum() of numbers only: adding lists or strings with sum() is quadratic inside one call."""
    if type(start) not in _NUMBERS:
        raise ExpressionError(f"sum() adds numbers only: the start value is a {type(start).__name__}")
    if type(items) is not range and not set(map(type, items)) <= _NUMBERS:
        for i, item in enumerate(items):
            if type(item) not in _NUMBERS:
                raise ExpressionError(f"sum() adds numbers only: item {i} is a {type(item).__name__}")
    return sum(items, start)


def _zip(*iterables: Any, strict: bool = False) -> list[tuple[Any, ...]]:
    """zip() as a list, so its size is known (and checked) before it is built."""
    return list(zip(*iterables, strict=strict))


def _enumerate(iterable: Any, start: int = 0) -> list[tuple[int, Any]]:
    return list(enumerate(iterable, start))


def _reversed(seq: Any) -> Any:
    return seq[::-1] if isinstance(seq, range) else list(reversed(seq))


#: functions an expression may call by name
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "str": str, "int": int, "float": float, "bool": bool,
    "min": min, "max": max, "sum": _sum, "any": any, "all": all, "sorted": sorted,
    "abs": abs, "round": round, "list": list, "dict": dict, "set": set, "tuple": tuple,
    "range": _range, "enumerate": _enumerate, "zip": _zip, "reversed": _reversed,
    "date": date, "datetime": datetime, "timedelta": timedelta,
    "today": _today, "now": _now, "parse_date": _parse_date, "parse_datetime": _parse_datetime,
    "days_between": _days_between,
}

#: plain constants available by name (True/False/None are literals already)
CONSTANTS: dict[str, Any] = {"utc": UTC}

_STR_READ = frozenset({
    "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split",
    "rsplit", "splitlines", "join", "replace", "title", "capitalize", "count", "find",
    "rfind", "index", "isdigit", "isalpha", "isalnum", "isnumeric", "isspace", "islower",
    "isupper", "casefold",
})
_DICT_READ = frozenset({"get", "keys", "values", "items", "copy"})
_DICT_WRITE = frozenset({"update", "pop", "setdefault", "clear"})
_LIST_READ = frozenset({"index", "count", "copy"})
_LIST_WRITE = frozenset({"append", "extend", "insert", "pop", "remove", "sort", "reverse", "clear"})
_SET_READ = frozenset({"union", "intersection", "difference", "issubset", "issuperset", "copy"})
_SET_WRITE = frozenset({"add", "discard", "update", "remove", "clear"})
_DATE_READ = frozenset({"isoformat", "strftime", "weekday", "isoweekday", "replace", "date",
                        "astimezone", "timestamp"})

#: methods by exact type, for expressions (read-only) and for scripts (read and write)
READ_METHODS: dict[type, frozenset[str]] = {
    str: _STR_READ, dict: _DICT_READ, list: _LIST_READ, tuple: frozenset({"index", "count"}),
    set: _SET_READ, date: _DATE_READ - {"date", "astimezone", "timestamp"}, datetime: _DATE_READ,
    timedelta: frozenset({"total_seconds"}),
}
WRITE_METHODS: dict[type, frozenset[str]] = {dict: _DICT_WRITE, list: _LIST_WRITE, set: _SET_WRITE}
#: every method name that appears anywhere above (the static checker's view)
ALL_READ_METHOD_NAMES = frozenset().union(*READ_METHODS.values())
ALL_WRITE_METHOD_NAMES = frozenset().union(*WRITE_METHODS.values())

#: data attributes (not calls) that may be read
ATTRIBUTES: dict[type, frozenset[str]] = {
    date: frozenset({"year", "month", "day"}),
    datetime: frozenset({"year", "month", "day", "hour", "minute", "second", "microsecond"}),
    timedelta: frozenset({"days", "seconds", "microseconds"}),
}
ALL_ATTRIBUTE_NAMES = frozenset().union(*ATTRIBUTES.values())

#: alternative constructors reachable as attributes of the allowed classes
CLASS_METHODS: dict[Any, frozenset[str]] = {
    date: frozenset({"today", "fromisoformat"}),
    datetime: frozenset({"now", "fromisoformat", "combine"}),
}
ALL_CLASS_METHOD_NAMES = frozenset().union(*CLASS_METHODS.values())

#: names refused wherever they appear, so the reason given is the real one ("open() is not
#: allowed"). Safety does not depend on this list: only FUNCTIONS can ever be called, and these
#: names resolve to nothing. Other builtins (type, input, format...) stay usable as data names.
FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "dir", "__import__", "breakpoint",
})
