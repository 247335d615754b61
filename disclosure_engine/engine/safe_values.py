"""How big a value is, for the safe evaluator, measured before any work is done on it.

Three measures, each a walk that stops as soon as it passes its limit, so measuring is never
the expensive part:

- :meth:`Sizer.cost`: estimated memory of a value as a tree (nested items and text counted
  wherever they appear, so ``[[0] * 1000] * 1000000`` counts a thousand million items even
  though Python shares the inner list). Whatever is compared, hashed, sorted, printed or stored
  costs time in proportion to this, which is why the tree and not Python's sharing is measured.
- :func:`text_length`: an upper bound on ``len(str(value))``.
- :func:`storage_problem`: why a value cannot be kept in task data (only what the state
  serializer stores and restores unchanged is allowed).

The numbers are estimates in bytes of CPython 3.11 objects on 64-bit machines, rounded up.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from collections.abc import Callable
from typing import Any
from uuid import UUID

from disclosure_engine.engine.safe_builtins import (
    MAX_STORED_INT,
    MAX_VALUE_BYTES,
    MAX_VALUE_DEPTH,
    ExpressionError,
)

#: per container: its own header, and what each item adds besides the item itself
HEAD: dict[type, int] = {list: 56, tuple: 40, dict: 64, set: 216, frozenset: 216}
ITEM: dict[type, int] = {list: 8, tuple: 8, dict: 40, set: 32, frozenset: 32}
CONTAINERS = frozenset(HEAD)
_VIEWS = frozenset({type({}.keys()), type({}.values()), type({}.items())})
_ITEMS_VIEW = type({}.items())
#: objects of a fixed size (None and booleans are shared, so only their slot counts)
_FIXED: dict[type, int] = {type(None): 0, bool: 0, float: 24, date: 32, datetime: 48,
                           timedelta: 32, UUID: 56, range: 48}
_OTHER = 64
_STR = 50
_INT = 28
#: containers at least this long or this big remember their cost for the rest of the evaluation
MEMO_MIN_LEN = 64
MEMO_MIN_COST = 1024
_NESTED_VIEW = ("a dict's .keys(), .values() or .items() cannot be put inside a list, tuple, "
                "set or dict; use list(...) of it")


def str_cost(s: str) -> int:
    return _STR + (len(s) if s.isascii() else 4 * len(s))


def int_cost(n: int) -> int:
    return _INT + n.bit_length() // 8


def scalar_cost(value: Any) -> int:
    t = type(value)
    if t is str:
        return str_cost(value)
    if t is int:
        return int_cost(value)
    return _FIXED.get(t, _OTHER)


def _flat_cost(values: Any, n: int) -> int | None:
    """Cost of ``n`` values of one scalar type at C speed, or None when they are not that."""
    types = set(map(type, values))
    if len(types) != 1:
        return None
    (t,) = types
    if t is str:
        chars = sum(map(len, values))
        return _STR * n + (chars if all(map(str.isascii, values)) else 4 * chars)
    if t is int:
        return _INT * n + sum(map(int.bit_length, values)) // 8
    if t in _FIXED:
        return _FIXED[t] * n
    return None


def too_large(what: str, limit: int = MAX_VALUE_BYTES) -> ExpressionError:
    return ExpressionError(f"{what} would be too large (over {mb(limit)}, the limit for one value)")


def mb(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n:,} bytes"


class Sizer:
    """Cost of values with a memo, for one evaluation.

    ``memo`` holds the cost of long containers already measured (with the object, so its id
    cannot be reused); ``nested`` the ids of every container found *inside* a measured one.
    Changing a container that is inside a remembered one makes every remembered cost suspect,
    so the memo is emptied; changing one that is not only forgets that one (see ``changed``).
    Expressions never change anything, so for them the memo is never emptied.
    """

    __slots__ = ("memo", "nested", "recent")

    def __init__(self) -> None:
        self.memo: dict[int, tuple[Any, int, int]] = {}
        self.nested: set[int] = set()
        #: the last small container built (a comprehension's item, typically), with its cost
        self.recent: tuple[Any, int, int] = (None, 0, 0)

    def cost(self, value: Any, budget: int = MAX_VALUE_BYTES) -> int:
        """Estimated bytes of ``value`` as a tree; ``budget + 1`` as soon as it is over ``budget``."""
        t = type(value)
        if t is str:
            return str_cost(value)
        if t is int:
            return int_cost(value)
        if t in CONTAINERS or t in _VIEWS:
            return self.measure(value, budget)[0]
        return _FIXED.get(t, _OTHER)

    def measure(self, value: Any, budget: int = MAX_VALUE_BYTES) -> tuple[int, int]:
        """(cost, height): height is how deeply containers nest in ``value`` (0 for a scalar)."""
        t = type(value)
        if t in CONTAINERS:
            if value is self.recent[0]:
                return self.recent[1], self.recent[2]
            hit = self.memo.get(id(value))
            if hit is not None and hit[0] is value:
                return (hit[1] if hit[1] <= budget else budget + 1), hit[2]
            return self._visit(value, t, 0, budget, {}, set())
        if t in _VIEWS:  # measured as the list it would become; never remembered (views change)
            n = len(value)
            total = HEAD[list] + ITEM[list] * n
            if type(value) is _ITEMS_VIEW:
                total += (HEAD[tuple] + 2 * ITEM[tuple]) * n
                keys, kh = self._sum(list(value.mapping), n, 1, budget - total, {}, set())
                values, vh = self._sum(list(value.mapping.values()), n, 1, budget - total - keys,
                                       {}, set())
                return min(budget + 1, total + keys + values), 2 + max(kh, vh)
            items, ih = self._sum(list(value), n, 1, budget - total, {}, set())
            return min(budget + 1, total + items), 1 + ih
        return self.cost(value, budget), 0

    def remember(self, value: Any, cost: int, height: int) -> None:
        """Record the cost of a container just built from measured parts (its items are in
        ``nested`` already: they were measured as items of the inputs)."""
        if (cost >= MEMO_MIN_COST or len(value) >= MEMO_MIN_LEN) and type(value) in CONTAINERS:
            self.memo[id(value)] = (value, cost, height)
        else:
            self.recent = (value, cost, height)

    def changed(self, container: Any) -> None:
        self.recent = (None, 0, 0)
        if id(container) in self.nested:
            self.memo.clear()
            self.nested.clear()
        else:
            self.memo.pop(id(container), None)

    def _sum(self, items: Any, n: int, depth: int, budget: int,
             seen: dict[int, tuple[int, int]], path: set[int]) -> tuple[int, int]:
        """(cost, height) of ``n`` items; cost is ``budget + 1`` once over the budget."""
        if n >= 16:
            flat = _flat_cost(items, n)
            if flat is not None:
                return (flat if flat <= budget else budget + 1), 0
        total = 0
        height = 0
        for item in items:
            t = type(item)
            if t is str:
                total += _STR + (len(item) if item.isascii() else 4 * len(item))
            elif t is int:
                total += _INT + item.bit_length() // 8
            elif t in CONTAINERS:
                self.nested.add(id(item))
                sub, h = self._visit(item, t, depth, budget - total, seen, path)
                total += sub
                if h > height:
                    height = h
            elif t in _VIEWS:
                raise ExpressionError(_NESTED_VIEW)
            else:
                total += _FIXED.get(t, _OTHER)
            if total > budget:
                return budget + 1, height
        return total, height

    def _visit(self, value: Any, t: type, depth: int, budget: int,
               seen: dict[int, tuple[int, int]], path: set[int]) -> tuple[int, int]:
        key = id(value)
        hit = seen.get(key)
        if hit is None:
            memo = self.memo.get(key)
            if memo is not None and memo[0] is value:
                hit = memo[1], memo[2]
        if hit is not None:
            if depth + hit[1] > MAX_VALUE_DEPTH:
                raise ExpressionError(f"value is nested more than {MAX_VALUE_DEPTH} levels deep")
            return (hit[0] if hit[0] <= budget else budget + 1), hit[1]
        if key in path:
            raise ExpressionError("a list or dict that contains itself cannot be used here")
        if depth >= MAX_VALUE_DEPTH:
            raise ExpressionError(f"value is nested more than {MAX_VALUE_DEPTH} levels deep")
        n = len(value)
        total = HEAD[t] + ITEM[t] * n
        if total > budget:
            return budget + 1, 1
        path.add(key)
        try:
            if t is dict:
                keys, kh = self._sum(value, n, depth + 1, budget - total, seen, path)
                total += keys
                if total > budget:
                    return budget + 1, 1
                values, vh = self._sum(value.values(), n, depth + 1, budget - total, seen, path)
                total += values
                height = 1 + max(kh, vh)
            else:
                items, ih = self._sum(value, n, depth + 1, budget - total, seen, path)
                total += items
                height = 1 + ih
        finally:
            path.discard(key)
        if total > budget:
            return budget + 1, height
        seen[key] = (total, height)
        if total >= MEMO_MIN_COST or n >= MEMO_MIN_LEN:
            self.memo[key] = (value, total, height)
        return total, height


# -- the length of str(value) ------------------------------------------------------------------

_TEXT_FIXED: dict[type, int] = {type(None): 4, bool: 5, float: 24, date: 26, datetime: 120,
                                timedelta: 64, UUID: 44, range: 48}


def _repr_length(s: str, ascii_only: bool) -> int:
    if s.isprintable() and not (ascii_only and not s.isascii()):
        return 2 + 2 * len(s)  # quotes and backslashes may be escaped
    return 2 + (4 if s.isascii() else 10) * len(s)


def text_length(value: Any, limit: int, mode: str = "s") -> int:
    """An upper bound on ``len(str(value))`` (mode ``"s"``), ``len(repr(value))`` (``"r"``) or
    ``len(ascii(value))`` (``"a"``), or ``limit + 1`` once it is over ``limit``."""
    if type(value) is str and mode == "s":
        return len(value)
    return _text(value, limit, mode == "a", 0, {}, set())


def _text(value: Any, limit: int, ascii_only: bool, depth: int, seen: dict[int, int],
          path: set[int]) -> int:
    t = type(value)
    if t is str:
        return _repr_length(value, ascii_only)
    if t is int:
        return 2 + value.bit_length() * 30103 // 100000
    if t in CONTAINERS or t in _VIEWS:
        key = id(value)
        if key in seen:
            return seen[key]
        if key in path or depth >= MAX_VALUE_DEPTH:
            return limit + 1  # Python prints [...] for a cycle; refuse rather than guess
        pairs = t is dict or t is _ITEMS_VIEW
        items = value.items() if t is dict else value
        total = 16 + 4 * len(value)  # brackets or set()/dict_keys(...), and ", " / ": "
        path.add(key)
        try:
            for item in items:
                if pairs:
                    total += _text(item[0], limit - total, ascii_only, depth + 1, seen, path)
                    total += _text(item[1], limit - total, ascii_only, depth + 1, seen, path)
                else:
                    total += _text(item, limit - total, ascii_only, depth + 1, seen, path)
                if total > limit:
                    return limit + 1
        finally:
            path.discard(key)
        seen[key] = total
        return total
    return _TEXT_FIXED.get(t, 64)


# -- what may be kept in task data -------------------------------------------------------------

_SET_ITEMS = (str, int, float, bool, type(None), date, datetime, timedelta, UUID)
_STORABLE_SCALARS = (str, bool, type(None), date, datetime, timedelta, UUID)
_FLAT_STORABLE = frozenset({*_STORABLE_SCALARS, int, float})


def storage_problem(value: Any, sizer: Sizer,
                    clock: Callable[[], None] = lambda: None) -> tuple[str, str] | None:
    """Why ``value`` cannot be kept in task data, as (where, what): the path of the offending
    part (e.g. ``[0]['when']``, empty for the value itself) and what is wrong with it (e.g.
    ``is a function (len)``), or None. Allowed: None, true/false, whole numbers within
    the range every JSON reader keeps exactly, finite numbers, text, dates, date-times and time
    spans (the state serializer's own types), sets of those, and lists, tuples (kept as lists)
    and dicts with text keys of all these, without cycles, nested at most MAX_VALUE_DEPTH deep
    and no bigger than one value may be. ``clock`` is called every few thousand items."""
    try:
        problem = _Stored(clock).check(value, "", 0)
    except RecursionError:  # pragma: no cover - depth is checked first
        problem = "", f"is nested more than {MAX_VALUE_DEPTH} levels deep"
    if problem is not None:
        return problem
    if sizer.cost(value) > MAX_VALUE_BYTES:
        return "", f"is too large to keep (over {mb(MAX_VALUE_BYTES)})"
    return None


def _describe(value: Any) -> str:
    if callable(value):
        name = getattr(value, "__name__", None)
        return f"is a function ({name})" if name else "is a function"
    if type(value) is range or type(value) in _VIEWS:
        return f"is a {type(value).__name__}, not a list; use list(...) to keep its items"
    return f"is a {type(value).__name__}, which task data cannot hold"


_CLOCK_ITEMS = 4096


class _Stored:
    def __init__(self, clock: Callable[[], None]) -> None:
        self.clock = clock
        self.countdown = _CLOCK_ITEMS
        self.seen: dict[int, int] = {}  # containers found storable: their height
        self.path: set[int] = set()

    def check(self, value: Any, where: str, depth: int) -> tuple[str, str] | None:
        t = type(value)
        if t in _STORABLE_SCALARS:
            return None
        if t is int:
            if -MAX_STORED_INT <= value <= MAX_STORED_INT:
                return None
            return where, f"is a number too large to keep (at most {MAX_STORED_INT:,} either way)"
        if t is float:
            return None if math.isfinite(value) else (where, f"is {value} (only finite numbers can be kept)")
        if t not in (list, tuple, dict, set):
            return where, _describe(value)
        key = id(value)
        if key in self.path:
            return where, "contains itself (a circular reference)"
        if key in self.seen and depth + self.seen[key] <= MAX_VALUE_DEPTH:
            return None
        if depth >= MAX_VALUE_DEPTH:
            return where, f"is nested more than {MAX_VALUE_DEPTH} levels deep"
        self.countdown -= len(value)
        if self.countdown <= 0:
            self.clock()
            self.countdown = _CLOCK_ITEMS
        self.path.add(key)
        try:
            problem, height = self._items(value, t, where, depth)
        finally:
            self.path.discard(key)
        if problem is None:
            self.seen[key] = height + 1
        return problem

    def _items(self, value: Any, t: type, where: str, depth: int) -> tuple[tuple[str, str] | None, int]:
        if t is dict:
            if not set(map(type, value)) <= {str}:
                k = next(k for k in value if type(k) is not str)
                return (where, f"has the key {_short(k)}, but only text keys can be kept"), 0
            items: Any = value.values()
        else:
            items = value
        if _flat_storable(items):
            return None, 0
        height = 0
        if t is set:
            for item in value:
                if not isinstance(item, _SET_ITEMS):
                    return (where, f"is a set holding a {type(item).__name__} (a set can keep "
                                   "only text, numbers and dates)"), 0
                problem = self.check(item, where, depth + 1)
                if problem is not None:
                    return problem, 0
            return None, 0
        labelled = value.items() if t is dict else enumerate(value)
        for label, item in labelled:
            problem = self.check(item, f"{where}[{_short(label)}]", depth + 1)
            if problem is not None:
                return problem, 0
            height = max(height, self.seen.get(id(item), 0))
        return None, height


def _flat_storable(items: Any) -> bool:
    """All of ``items`` are of storable scalar types and in range, checked at C speed."""
    types = set(map(type, items))
    if not types <= _FLAT_STORABLE:
        return False
    if int in types:
        ints = [x for x in items if type(x) is int] if len(types) > 1 else items
        if ints and (max(ints) > MAX_STORED_INT or min(ints) < -MAX_STORED_INT):
            return False
    if float in types:
        floats = [x for x in items if type(x) is float] if len(types) > 1 else items
        if not all(map(math.isfinite, floats)):
            return False
    return True


def _short(key: Any) -> str:
    text = repr(key) if isinstance(key, (str, int, float, bool, type(None))) else type(key).__name__
    return text if len(text) <= 40 else text[:37] + "..."
