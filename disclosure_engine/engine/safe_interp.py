"""The tree-walking interpreter behind :mod:`safe_eval`.

It only ever sees trees that passed the static allow-list, and it re-checks at run time what
the static pass cannot know (the type an attribute or method is used on, sizes of values), so
that data crafted to look like something else still cannot reach anything outside the lists.

Time and memory are bounded *before* the work is done:

- every node evaluation and loop iteration is a step; the clock is read every
  ``_CLOCK_EVERY`` steps and before every call of an allowed function or method, and calls
  are charged steps for the items they go through (``MAX_STEPS`` is the backstop);
- whatever builds a value (operators, displays, comprehensions, allowed functions and methods)
  first predicts the size of the result from the measured size of its inputs
  (:mod:`safe_values`: nested items and text, counted as a tree, and a walk that stops at the
  limit) and refuses when it would exceed ``MAX_VALUE_BYTES``, or when the evaluation would
  have built more than ``MAX_ALLOCATED_BYTES``; whatever walks a value (comparisons after a
  script changed a container, ``sorted``, ``min``...) measures it first the same way;
- a script may leave in task data only what the state serializer stores and restores
  unchanged (:func:`safe_values.storage_problem`), checked when the script ends.
"""
from __future__ import annotations

import ast
import operator
import time
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import date, datetime, timedelta
from typing import Any

from disclosure_engine.engine.safe_builtins import (
    ALL_WRITE_METHOD_NAMES,
    ATTRIBUTES,
    CLASS_METHODS,
    CONSTANTS,
    FUNCTIONS,
    MAX_ALLOCATED_BYTES,
    MAX_INT_BITS,
    MAX_SEQUENCE,
    MAX_VALUE_BYTES,
    MAX_VALUE_DEPTH,
    READ_METHODS,
    WRITE_METHODS,
    ExpressionError,
    ExpressionTimeout,
)
from disclosure_engine.engine.safe_values import (
    CONTAINERS,
    HEAD,
    ITEM,
    Sizer,
    int_cost,
    mb,
    scalar_cost,
    storage_problem,
    str_cost,
    text_length,
    too_large,
)

MAX_STEPS = 2_000_000
#: what the old all-in-one counter allowed, kept for callers that import it
MAX_ALLOCATED = MAX_ALLOCATED_BYTES
_CLOCK_EVERY = 64
#: items a builtin goes through per interpreter step charged (C is that much quicker per item)
_C_ITEMS_PER_STEP = 16
_BIG_INT = 2**64
_BINOPS: dict[type, Any] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Any] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
_SEQ = (str, list, tuple, bytes)
_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))
_ITEMS_VIEW = type({}.items())
_LAZY = (range, *_VIEWS)
#: iterated as they are: they cannot change while a loop runs
_IMMUTABLE_ITERABLES = frozenset({range, str, tuple})
_SAFE_CALLABLES = frozenset(id(f) for f in FUNCTIONS.values())
_FUNCTION_NAMES = {id(f): name for name, f in FUNCTIONS.items()}
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_SELF_CONTAINING = "a list or dict cannot contain itself"


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple, dict, set, bytes)) else 0


def _check_binop(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse operations whose result would be huge before Python starts building it."""
    if isinstance(op, ast.Mult):
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, _SEQ) and isinstance(n, int) and len(seq) * max(n, 0) > MAX_SEQUENCE:
                raise ExpressionError("result of * would be too large")
        if isinstance(left, int) and isinstance(right, int) and \
                left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise ExpressionError("number is too large")
    elif isinstance(op, ast.Pow) and isinstance(left, int) and isinstance(right, int):
        if right > 0 and abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
            raise ExpressionError("result of ** would be too large")
    elif isinstance(op, ast.Add) and isinstance(left, _SEQ) and isinstance(right, _SEQ):
        if len(left) + len(right) > MAX_SEQUENCE:
            raise ExpressionError("result of + would be too large")
    elif isinstance(op, ast.Mod) and isinstance(left, (str, bytes)):
        raise ExpressionError("%-formatting of strings is not allowed; use an f-string")


def _too_long(what: str) -> ExpressionError:
    return ExpressionError(f"{what} would be too long (over {MAX_SEQUENCE:,} characters)")


def _too_many(what: str, n: int) -> ExpressionError:
    return ExpressionError(f"{what} would have {n:,} items, more than allowed ({MAX_SEQUENCE:,})")


def written_names(tree: ast.AST) -> frozenset[str]:
    """Names of task data a script can change: those it assigns, and every name in front of a
    changing method call or an item assignment (``d.get('k').append(x)`` can change ``d``).
    Task data is reachable only through names, so nothing else can have changed."""
    cached = getattr(tree, "_written_names", None)
    if cached is not None:
        return cached
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ALL_WRITE_METHOD_NAMES:
            names.update(n.id for n in ast.walk(node.func.value) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            names.update(n.id for n in ast.walk(node.value) if isinstance(n, ast.Name))
    result = frozenset(names)
    tree._written_names = result  # type: ignore[attr-defined]  # trees are cached and reused
    return result


class Interpreter:
    """Evaluates one checked tree over ``names`` (task data) plus ``extra`` (engine context)."""

    def __init__(self, names: Mapping[str, Any] | MutableMapping[str, Any],
                 extra: Mapping[str, Any], timeout_ms: int, mode: str) -> None:
        self.names = names
        self.extra = extra
        self.mode = mode
        self.timeout_ms = timeout_ms
        # the thread's CPU time, not the wall clock: the bound is on the work an expression
        # does, so a busy machine (other processes, other threads) cannot make a script that
        # runs fine today fail tomorrow, while a runaway one is stopped as before
        self.deadline = time.thread_time() + timeout_ms / 1000.0
        self.steps = 0
        self.next_check = _CLOCK_EVERY
        self.allocated = 0
        self.sizer = Sizer()
        #: a script changed a container in place: sizes measured before may be out of date,
        #: so comparisons measure their operands too
        self.mutated = False
        self.scopes: list[dict[str, Any]] = []

    # -- budget ---------------------------------------------------------------------------
    def tick(self) -> None:
        self.steps += 1
        if self.steps >= self.next_check:
            self.check_budget()

    def check_budget(self) -> None:
        if time.thread_time() > self.deadline:
            raise ExpressionTimeout(
                f"expression took longer than {self.timeout_ms} ms and was stopped")
        if self.steps > MAX_STEPS:
            raise ExpressionTimeout(f"expression took more than {MAX_STEPS:,} steps and was stopped")
        self.next_check = self.steps + _CLOCK_EVERY

    def charge(self, items: int) -> None:
        """Before an allowed function or method runs: its items count as steps; read the clock."""
        self.steps += items // _C_ITEMS_PER_STEP
        self.check_budget()

    def allocate(self, nbytes: int) -> None:
        self.allocated += nbytes
        if self.allocated > MAX_ALLOCATED_BYTES:
            raise ExpressionError(f"expression builds too much data (over "
                                  f"{mb(MAX_ALLOCATED_BYTES)} in one evaluation)")

    def fits(self, cost: int, what: str) -> None:
        if cost > MAX_VALUE_BYTES:
            raise too_large(what)

    def usable(self, value: Any, what: str) -> None:
        """Refuse to walk a container that is too large. Until a script changes a container in
        place, every value was measured when it was built (and task data is plain data that
        arrived within the request size limit), so there is nothing to check before that."""
        if self.mutated and type(value) in CONTAINERS and \
                self.sizer.cost(value) > MAX_VALUE_BYTES:
            raise ExpressionError(f"{what}: the value is too large to use "
                                  f"(over {mb(MAX_VALUE_BYTES)}, the limit for one value)")

    def account(self, value: Any) -> Any:
        """Last line, after a call: nothing returned may be longer than allowed."""
        if _size(value) > MAX_SEQUENCE:
            raise ExpressionError("result is too large")
        return value

    def changed(self, container: Any) -> None:
        self.mutated = True
        self.sizer.changed(container)

    def item_cost(self, value: Any) -> tuple[int, int]:
        """(cost, height) of a value about to be put in a new container."""
        t = type(value)
        if t is str:
            return str_cost(value), 0
        if t is int:
            return int_cost(value), 0
        if t in CONTAINERS:
            self.sizer.nested.add(id(value))
            return self.sizer.measure(value)
        if t in _VIEWS:
            raise ExpressionError("a dict's .keys(), .values() or .items() cannot be put inside "
                                  "a list, tuple, set or dict; use list(...) of it")
        return self.sizer.cost(value), 0

    def built(self, value: Any, kind: type, items: Iterable[Any], what: str) -> Any:
        """Check a display just built from ``items`` (which already exist): its tree size and
        nesting, so ``[x, x]`` repeated cannot double its way past the limits."""
        total = HEAD[kind]
        height = 0
        for item in items:
            t = type(item)
            if t is str:
                total += ITEM[kind] + str_cost(item)
            elif t in CONTAINERS or t in _VIEWS:
                cost, h = self.item_cost(item)
                total += ITEM[kind] + cost
                if h > height:
                    height = h
            else:
                total += ITEM[kind] + scalar_cost(item)
        self.fits(total, what)
        if height >= MAX_VALUE_DEPTH:
            raise ExpressionError(f"value is nested more than {MAX_VALUE_DEPTH} levels deep")
        self.sizer.remember(value, total, height + 1)
        return value

    def contents(self, value: Any) -> tuple[int, int, int, int]:
        """For an iterable about to be gone through or copied: (items, their cost as a tree,
        their nesting height, bytes of new objects iterating creates)."""
        t = type(value)
        if t in CONTAINERS or t in _VIEWS:
            cost, height = self.sizer.measure(value)
            n = len(value)
            new = n * (HEAD[tuple] + 2 * ITEM[tuple]) if t is _ITEMS_VIEW else 0
            return n, cost, max(height - 1, 0), new
        if t is str:
            n = len(value)
            per = str_cost("a") + ITEM[list]
            return (n, n * per, 0, 0) if value.isascii() else (n, n * (per + 3), 0, n * (per + 3))
        if t is range:
            n = len(value)
            return n, n * (int_cost(2**63) + ITEM[list]), 0, n * int_cost(2**63)
        return 0, 0, 0, 0  # not iterable: the call raises its own TypeError

    # -- entry points ---------------------------------------------------------------------
    def run_expression(self, tree: ast.AST) -> Any:
        assert isinstance(tree, ast.Expression)
        return self.ev(tree.body)

    def run_module(self, tree: ast.AST) -> None:
        assert isinstance(tree, ast.Module)
        self.block(tree.body)
        if isinstance(self.names, MutableMapping):
            self.check_stored(written_names(tree))

    def check_stored(self, names: Iterable[str]) -> None:
        """What the script leaves in task data must be storable as it is: refused here, naming
        the variable, rather than dropped or failing when the instance is saved."""
        for name in sorted(names):
            if name in self.names:
                self.check_budget()
                problem = storage_problem(self.names[name], self.sizer, self.check_budget)
                if problem is not None:
                    where, what = problem
                    raise ExpressionError(f"cannot keep {name}{where} in task data: it {what}")

    # -- statements -----------------------------------------------------------------------
    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.tick()
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            value = self.plain(self.ev(node.value))
            for target in node.targets:
                self.store(target, value)
        elif isinstance(node, ast.AugAssign):
            current = self.ev(_as_load(node.target))
            self.store(node.target, self.plain(self.binop(node.op, current, self.ev(node.value))))
        elif isinstance(node, ast.Expr):
            self.ev(node.value)
        elif isinstance(node, ast.If):
            self.block(node.body if self.ev(node.test) else node.orelse)
        elif isinstance(node, ast.For):
            for item in self.loop_items(self.ev(node.iter)):
                self.tick()
                self.store(node.target, self.plain(item))
                try:
                    self.block(node.body)
                except _Break:
                    break
                except _Continue:
                    continue
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                assert isinstance(target, ast.Name)
                self.writable().pop(target.id, None)
        elif isinstance(node, ast.Break):
            raise _Break()
        elif isinstance(node, ast.Continue):
            raise _Continue()
        elif isinstance(node, ast.Pass):
            return
        else:  # pragma: no cover - the checker refuses anything else
            raise ExpressionError(f"{type(node).__name__} is not allowed")

    def plain(self, value: Any) -> Any:
        """What may be assigned: lazy iterables become lists (checked first), functions are
        refused. The full check of what is stored runs when the script ends."""
        if isinstance(value, _LAZY):
            n, cost, height, new = self.contents(value)
            self.fits(HEAD[list] + ITEM[list] * n + cost, "the list")
            self.allocate(HEAD[list] + ITEM[list] * n + new)
            self.charge(n)
            result = list(value)
            self.sizer.remember(result, HEAD[list] + ITEM[list] * n + cost, height + 1)
            return result
        if callable(value):
            raise ExpressionError("functions cannot be stored in task data")
        return value

    def writable(self) -> MutableMapping[str, Any]:
        if self.mode != "exec" or not isinstance(self.names, MutableMapping):
            raise ExpressionError("assignment is not allowed in an expression")
        return self.names

    def store(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            if self.scopes:
                self.scopes[-1][target.id] = value
            else:
                self.writable()[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = list(self.iterate(value))
            if len(items) != len(target.elts):
                raise ExpressionError(f"cannot unpack {len(items)} values into {len(target.elts)}")
            for sub, item in zip(target.elts, items):
                self.store(sub, item)
        elif isinstance(target, ast.Subscript):
            container = self.ev(target.value)
            if not isinstance(container, (dict, list)):
                raise ExpressionError("only dict and list items may be assigned")
            if self.mode != "exec":
                raise ExpressionError("assignment is not allowed in an expression")
            key = self.ev(target.slice)
            self.before_item_store(container, key, value)
            container[key] = value
            self.changed(container)
        else:
            raise ExpressionError(f"cannot assign to {type(target).__name__}")

    def before_item_store(self, container: Any, key: Any, value: Any) -> None:
        if type(key) is slice:  # l[i:j] = items can grow the list like extend()
            n, _cost, _height, new = self.contents(value)
            if len(container) + n > MAX_SEQUENCE:
                raise _too_many("the list", len(container) + n)
            self.allocate(ITEM[list] * n + new)
            return
        if value is container:
            raise ExpressionError(_SELF_CONTAINING)
        if type(container) is dict and key not in container:
            if len(container) >= MAX_SEQUENCE:
                raise _too_many("the dict", len(container) + 1)
            self.allocate(ITEM[dict])

    def iterate(self, value: Any) -> Iterable[Any]:
        if isinstance(value, (list, tuple, str, dict, set, frozenset, *_LAZY)):
            return value
        raise ExpressionError(f"cannot loop over a {type(value).__name__}")

    def loop_items(self, value: Any) -> Iterable[Any]:
        """What a loop goes through: a copy of anything the loop body could change."""
        items = self.iterate(value)
        return items if type(items) in _IMMUTABLE_ITERABLES else list(items)

    # -- expressions ----------------------------------------------------------------------
    def ev(self, node: ast.expr) -> Any:
        self.tick()
        method = getattr(self, "ev_" + type(node).__name__, None)
        if method is None:  # pragma: no cover - the checker refuses anything else
            raise ExpressionError(f"{type(node).__name__} is not allowed")
        return method(node)

    def ev_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def ev_Name(self, node: ast.Name) -> Any:
        name = node.id
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        for source in (self.names, self.extra, CONSTANTS, FUNCTIONS):
            if name in source:
                return source[name]
        raise NameError(f"name '{name}' is not defined")

    def binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        fn = _BINOPS.get(type(op))
        if fn is None:
            raise ExpressionError(f"operator {type(op).__name__} is not allowed")
        _check_binop(op, left, right)
        if type(left) in _SEQ or type(right) in _SEQ:
            return self.sequence_binop(op, fn, left, right)
        result = fn(left, right)
        if type(result) is int and (result > _BIG_INT or result < -_BIG_INT):
            self.allocate(int_cost(result))
        return result

    def sequence_binop(self, op: ast.operator, fn: Any, left: Any, right: Any) -> Any:
        """``+`` and ``*`` of strings, lists and tuples, sized before they are built."""
        if isinstance(op, ast.Mult):
            seq, n = (left, right) if type(left) in _SEQ else (right, left)
            if type(n) not in (int, bool) or type(seq) is bytes:
                return fn(left, right)
            n = max(int(n), 0)
            if type(seq) is str:
                self.allocate(str_cost("") + len(seq) * n * (1 if seq.isascii() else 4))
                return fn(left, right)
            kind = type(seq)
            cost, height = self.sizer.measure(seq, MAX_VALUE_BYTES // max(n, 1) + HEAD[kind])
            predicted = HEAD[kind] + n * (cost - HEAD[kind])
            self.fits(predicted, "result of *")
            self.allocate(HEAD[kind] + ITEM[kind] * len(seq) * n)
            result = fn(left, right)
            self.sizer.remember(result, predicted, height)
            return result
        if isinstance(op, ast.Add) and type(left) is type(right):
            kind = type(left)
            if kind is str:
                self.allocate(str_cost(left) + len(right))
                return fn(left, right)
            if kind in (list, tuple):
                lcost, lheight = self.sizer.measure(left)
                rcost, rheight = self.sizer.measure(right, MAX_VALUE_BYTES - lcost + HEAD[kind])
                predicted = lcost + rcost - HEAD[kind]
                self.fits(predicted, "result of +")
                self.allocate(HEAD[kind] + ITEM[kind] * (len(left) + len(right)))
                result = fn(left, right)
                self.sizer.remember(result, predicted, max(lheight, rheight))
                return result
        return fn(left, right)

    def ev_BinOp(self, node: ast.BinOp) -> Any:
        return self.binop(node.op, self.ev(node.left), self.ev(node.right))

    def ev_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.ev(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(node.op, ast.USub):
            return -value
        return +value

    def ev_BoolOp(self, node: ast.BoolOp) -> Any:
        is_and = isinstance(node.op, ast.And)
        value: Any = None
        for sub in node.values:
            value = self.ev(sub)
            if bool(value) != is_and:
                return value
        return value

    def ev_Compare(self, node: ast.Compare) -> Any:
        left = self.ev(node.left)
        for op, comp in zip(node.ops, node.comparators):
            right = self.ev(comp)
            if self.mutated:  # see usable()
                self.usable(left, "cannot compare")
                self.usable(right, "cannot compare")
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True

    def ev_IfExp(self, node: ast.IfExp) -> Any:
        return self.ev(node.body) if self.ev(node.test) else self.ev(node.orelse)

    def ev_Subscript(self, node: ast.Subscript) -> Any:
        container = self.ev(node.value)
        if not isinstance(container, (dict, list, tuple, str)):
            raise ExpressionError(f"cannot index a {type(container).__name__}")
        return container[self.ev(node.slice)]

    def ev_Slice(self, node: ast.Slice) -> slice:
        parts = [None if p is None else self.ev(p) for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def ev_List(self, node: ast.List) -> list[Any]:
        out = [self.ev(e) for e in node.elts]
        return self.built(out, list, out, "the list") if out else out

    def ev_Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        out = tuple(self.ev(e) for e in node.elts)
        return self.built(out, tuple, out, "the tuple") if out else out

    def ev_Set(self, node: ast.Set) -> set[Any]:
        items = [self.ev(e) for e in node.elts]
        out = set(items)
        return self.built(out, set, items, "the set")

    def ev_Dict(self, node: ast.Dict) -> dict[Any, Any]:
        out = {self.ev(k): self.ev(v) for k, v in zip(node.keys, node.values) if k is not None}
        if not out:
            return out
        return self.built(out, dict, [x for pair in out.items() for x in pair], "the dict")

    def ev_JoinedStr(self, node: ast.JoinedStr) -> str:
        parts = [str(v.value) if isinstance(v, ast.Constant) else self.ev(v) for v in node.values]
        total = sum(map(len, parts))
        if total > MAX_SEQUENCE:
            raise _too_long("the f-string")
        self.allocate(str_cost("") + total)
        return "".join(parts)

    def ev_FormattedValue(self, node: ast.FormattedValue) -> str:
        value = self.ev(node.value)
        conversion = node.conversion
        if conversion in (ord("r"), ord("a")) or (type(value) is not str and
                                                  not isinstance(value, (int, float, date))):
            mode = {ord("r"): "r", ord("a"): "a"}.get(conversion, "s")
            if text_length(value, MAX_SEQUENCE, mode) > MAX_SEQUENCE:
                raise _too_long("the f-string value")
        self.check_budget()
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        elif conversion == ord("s"):
            value = str(value)
        spec = "" if node.format_spec is None else self.ev(node.format_spec)
        return format(value, spec)

    # comprehensions ----------------------------------------------------------------------
    def _generate(self, generators: list[ast.comprehension], index: int = 0) -> Iterable[None]:
        gen = generators[index]
        for item in self.loop_items(self.ev(gen.iter)):
            self.tick()
            self.store(gen.target, item)
            if all(self.ev(cond) for cond in gen.ifs):
                if index + 1 == len(generators):
                    yield None
                else:
                    yield from self._generate(generators, index + 1)

    def _comprehend(self, node: Any, kind: type) -> Any:
        """Build a comprehension's result, adding up its size as it grows and stopping as soon
        as it is over the limit (its items can share parts, so the count is of the tree)."""
        self.scopes.append({})
        try:
            total = HEAD[kind]
            height = 0
            item = ITEM[kind]
            what = f"the {kind.__name__} comprehension's result"
            if kind is dict:
                out: Any = {}
                for _ in self._generate(node.generators):
                    key, kh = self.item_cost(k := self.ev(node.key))
                    value, vh = self.item_cost(v := self.ev(node.value))
                    total += item + key + value
                    height = max(height, kh, vh)
                    if total > MAX_VALUE_BYTES:
                        raise too_large(what)
                    out[k] = v
            else:
                values = []
                for _ in self._generate(node.generators):
                    v = self.ev(node.elt)
                    cost, h = self.item_cost(v)
                    total += item + cost
                    if h > height:
                        height = h
                    if total > MAX_VALUE_BYTES:
                        raise too_large(what)
                    values.append(v)
                out = values if kind is list else set(values)
            if height >= MAX_VALUE_DEPTH:
                raise ExpressionError(f"value is nested more than {MAX_VALUE_DEPTH} levels deep")
            self.allocate(HEAD[kind] + item * len(out))
            self.sizer.remember(out, total, height + 1)
            return out
        finally:
            self.scopes.pop()

    def ev_ListComp(self, node: ast.ListComp) -> list[Any]:
        return self._comprehend(node, list)

    def ev_GeneratorExp(self, node: ast.GeneratorExp) -> list[Any]:
        return self._comprehend(node, list)

    def ev_SetComp(self, node: ast.SetComp) -> set[Any]:
        return self._comprehend(node, set)

    def ev_DictComp(self, node: ast.DictComp) -> dict[Any, Any]:
        return self._comprehend(node, dict)

    # attributes and calls -----------------------------------------------------------------
    def ev_Attribute(self, node: ast.Attribute) -> Any:
        obj = self.ev(node.value)
        allowed = ATTRIBUTES.get(type(obj), frozenset())
        if node.attr.startswith("_") or node.attr not in allowed:
            raise ExpressionError(f"attribute .{node.attr} of {type(obj).__name__} is not allowed")
        return getattr(obj, node.attr)

    def ev_Call(self, node: ast.Call) -> Any:
        fn = self.resolve_callable(node.func)
        args = [self.ev(a) for a in node.args]
        kwargs = {k.arg: self.ev(k.value) for k in node.keywords if k.arg is not None} \
            if node.keywords else {}
        if any(map(callable, args)):
            args = [self.passed_function(v) if callable(v) else v for v in args]
        if kwargs and any(map(callable, kwargs.values())):
            kwargs = {k: self.passed_function(v) if callable(v) else v for k, v in kwargs.items()}
        if isinstance(node.func, ast.Attribute):
            return self.call_method(fn, node.func.attr, args, kwargs)
        assert isinstance(node.func, ast.Name)
        return self.call_function(node.func.id, fn, args, kwargs)

    def passed_function(self, value: Any) -> Any:
        """An allowed function passed as an argument (``sorted(xs, key=len)``) is called by
        Python, not by us: it gets the same checks and clock through this wrapper."""
        if id(value) not in _SAFE_CALLABLES:
            raise ExpressionError("only allowed functions may be passed as arguments")
        name = _FUNCTION_NAMES[id(value)]

        def checked(*args: Any, **kwargs: Any) -> Any:
            return self.call_function(name, value, list(args), kwargs)
        return checked

    def call_function(self, name: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        guard = _FUNCTION_GUARDS.get(name)
        if guard is None:
            self.check_budget()
            return self.account(fn(*args, **kwargs))
        return self.account(guard(self, name, fn, args, kwargs))

    def call_method(self, fn: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        obj = getattr(fn, "__self__", None)
        guard = _METHOD_GUARDS.get((type(obj), name))
        if guard is None:
            self.check_budget()
            result = fn(*args, **kwargs)
        else:
            result = guard(self, obj, fn, args, kwargs)
        if name in ALL_WRITE_METHOD_NAMES and type(obj) in WRITE_METHODS:
            self.changed(obj)
        return self.account(result)

    def resolve_callable(self, func: ast.expr) -> Any:
        if isinstance(func, ast.Name):
            if func.id not in FUNCTIONS:
                raise ExpressionError(f"calling {func.id}() is not allowed")
            return FUNCTIONS[func.id]
        if not isinstance(func, ast.Attribute) or func.attr.startswith("_"):
            raise ExpressionError("only allowed functions and methods may be called")
        obj = self.ev(func.value)
        name = func.attr
        if isinstance(obj, type):
            if obj in CLASS_METHODS and name in CLASS_METHODS[obj]:
                return getattr(obj, name)
            raise ExpressionError(f"{obj.__name__}.{name}() is not allowed")
        allowed = READ_METHODS.get(type(obj), frozenset())
        if self.mode == "exec":
            allowed = allowed | WRITE_METHODS.get(type(obj), frozenset())
        if name not in allowed:
            raise ExpressionError(f"method .{name}() of {type(obj).__name__} is not allowed")
        return getattr(obj, name)


# -- allowed functions: what each would build or go through, checked before it runs ---------

Guard = Any


_SHORT_TEXT = frozenset({str, int, float, bool, type(None), date, datetime, timedelta})


def _g_str(it: Interpreter, name: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if len(args) == 1 and not kwargs and type(args[0]) not in _SHORT_TEXT:
        n = text_length(args[0], MAX_SEQUENCE)
        if n > MAX_SEQUENCE:
            raise _too_long("str() of this value")
        it.allocate(str_cost("") + n)
        it.charge(n)
    else:
        it.check_budget()
    return fn(*args, **kwargs)


def _collector(kind: type) -> Guard:
    def guard(it: Interpreter, name: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        n, cost, height, new = it.contents(args[0]) if args else (0, 0, 0, 0)
        if kind is dict:
            for value in kwargs.values():
                c, h = it.item_cost(value)
                n, cost, height = n + 1, cost + c + str_cost("key"), max(height, h)
        if name == "reversed" and args and type(args[0]) is range:
            it.check_budget()
            return fn(*args, **kwargs)
        if n > MAX_SEQUENCE:
            raise _too_many(f"{name}()", n)
        predicted = HEAD[kind] + ITEM[kind] * n + cost
        it.fits(predicted, f"result of {name}()")
        it.allocate(HEAD[kind] + ITEM[kind] * n + new)
        it.charge(n)
        result = fn(*args, **kwargs)
        it.sizer.remember(result, predicted, height + 1)
        return result
    return guard


def _g_tuples(it: Interpreter, name: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """zip() and enumerate(): a list of new tuples, one per item of the shortest input."""
    sources = args if name == "zip" else args[:1]
    width = len(sources) if name == "zip" else 2
    sizes = [it.contents(s) for s in sources]
    n = min((s[0] for s in sizes), default=0)
    cost = sum(s[1] for s in sizes) + (n * int_cost(2**63) if name == "enumerate" else 0)
    height = max((s[2] for s in sizes), default=0)
    new = sum(s[3] for s in sizes)
    per = ITEM[list] + HEAD[tuple] + ITEM[tuple] * width
    if n > MAX_SEQUENCE:
        raise _too_many(f"{name}()", n)
    predicted = HEAD[list] + n * per + cost
    it.fits(predicted, f"result of {name}()")
    it.allocate(HEAD[list] + n * per + new)
    it.charge(n * width)
    result = fn(*args, **kwargs)
    it.sizer.remember(result, predicted, height + 2)
    return result


def _g_scan(it: Interpreter, name: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """min, max, sum, any, all: nothing is built, but every item is looked at (compared)."""
    n = 0
    for value in args:
        it.usable(value, f"{name}()")
        if isinstance(value, (str, range, *CONTAINERS, *_VIEWS)):
            n += len(value)
    it.charge(n)
    return fn(*args, **kwargs)


_FUNCTION_GUARDS: dict[str, Guard] = {
    "str": _g_str, "list": _collector(list), "tuple": _collector(tuple),
    "sorted": _collector(list), "reversed": _collector(list), "set": _collector(set),
    "dict": _collector(dict), "zip": _g_tuples, "enumerate": _g_tuples,
    "min": _g_scan, "max": _g_scan, "sum": _g_scan, "any": _g_scan, "all": _g_scan,
}


# -- allowed methods ---------------------------------------------------------------------------

def _m_join(it: Interpreter, obj: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if len(args) != 1 or kwargs:
        return fn(*args, **kwargs)
    items = args[0]
    if not isinstance(items, (list, tuple)):
        n, _cost, _height, new = it.contents(items)
        if n > MAX_SEQUENCE:
            raise _too_many("join()", n)
        it.allocate(HEAD[list] + ITEM[list] * n + new)
        items = list(items)
    try:
        total = sum(map(len, items)) + len(obj) * max(0, len(items) - 1)
    except TypeError:
        total = 0  # join() itself says which item is not text
    if total > MAX_SEQUENCE:
        raise ExpressionError("result of join() would be too large")
    it.allocate(str_cost("") + total)
    it.charge(len(items))
    return fn(items)


def _m_replace(it: Interpreter, obj: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        count = len(obj) + 1 if old == "" else obj.count(old)
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            count = min(count, args[2])
        length = len(obj) + count * max(0, len(new) - len(old))
        if length > MAX_SEQUENCE:
            raise ExpressionError("result of replace() would be too large")
        it.allocate(str_cost("") + length)
    it.charge(len(obj))
    return fn(*args, **kwargs)


def _m_split(it: Interpreter, obj: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    sep = args[0] if args else kwargs.get("sep")
    maxsplit = args[1] if len(args) > 1 else kwargs.get("maxsplit", -1)
    if sep is None:
        breaks = sum(map(obj.count, _ASCII_SPACE)) if obj.isascii() else len(obj)
    elif isinstance(sep, str) and sep:
        breaks = obj.count(sep)
    else:
        return fn(*args, **kwargs)  # split('') raises its own error
    if isinstance(maxsplit, int) and maxsplit >= 0:
        breaks = min(breaks, maxsplit)
    _pieces(it, obj, breaks + 1, "split()")
    return fn(*args, **kwargs)


def _m_splitlines(it: Interpreter, obj: str, fn: Any, args: list[Any],
                  kwargs: dict[str, Any]) -> Any:
    _pieces(it, obj, sum(map(obj.count, _LINE_BREAKS)) + 1, "splitlines()")
    return fn(*args, **kwargs)


def _pieces(it: Interpreter, obj: str, pieces: int, what: str) -> None:
    predicted = HEAD[list] + pieces * (ITEM[list] + str_cost("")) + str_cost(obj)
    it.fits(predicted, f"result of {what}")
    it.allocate(predicted)
    it.charge(len(obj))


def _m_text(it: Interpreter, obj: str, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """lower(), upper() and the like: at most three characters for one (e.g. 'ﬃ'.upper())."""
    if not obj.isascii() and 3 * len(obj) > MAX_SEQUENCE:
        raise _too_long(f"result of .{fn.__name__}()")
    it.allocate(str_cost(obj))
    it.charge(len(obj))
    return fn(*args, **kwargs)


def _m_scan_text(it: Interpreter, obj: str, fn: Any, args: list[Any],
                 kwargs: dict[str, Any]) -> Any:
    it.charge(len(obj))
    return fn(*args, **kwargs)


def _m_copy(it: Interpreter, obj: Any, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    cost, height = it.sizer.measure(obj)
    it.fits(cost, "the copy")
    it.allocate(HEAD[type(obj)] + ITEM[type(obj)] * len(obj))
    it.charge(len(obj))
    result = fn(*args, **kwargs)
    it.sizer.remember(result, cost, height)
    return result


def _m_scan(it: Interpreter, obj: Any, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """index(), count(), remove(), sort(), issubset()...: compare items of ``obj``."""
    it.usable(obj, f".{fn.__name__}()")
    for value in args:
        it.usable(value, f".{fn.__name__}()")
    it.charge(len(obj) + sum(len(a) for a in args if isinstance(a, (*CONTAINERS, str, range))))
    return fn(*args, **kwargs)


def _m_set_op(it: Interpreter, obj: set, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """union(), intersection(), difference(): at most everything in all of them."""
    cost, height = it.sizer.measure(obj)
    n = len(obj)
    for other in args:
        m, c, h, new = it.contents(other)
        n, cost, height = n + m, cost + c, max(height, h + 1)
        it.allocate(new)
    if n > MAX_SEQUENCE:
        raise _too_many(f".{fn.__name__}()", n)
    predicted = cost + ITEM[set] * n
    it.fits(predicted, f"result of .{fn.__name__}()")
    it.allocate(HEAD[set] + ITEM[set] * n)
    it.charge(n)
    result = fn(*args, **kwargs)
    it.sizer.remember(result, predicted, height)
    return result


def _m_strftime(it: Interpreter, obj: Any, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if args and isinstance(args[0], str):
        if len(args[0]) + 40 * args[0].count("%") > MAX_SEQUENCE:
            raise _too_long("result of strftime()")
        it.allocate(str_cost(args[0]) + 40 * args[0].count("%"))
    it.check_budget()
    return fn(*args, **kwargs)


def _grow(it: Interpreter, obj: Any, added: int, new_bytes: int) -> None:
    if len(obj) + added > MAX_SEQUENCE:
        raise _too_many(f"the {type(obj).__name__}", len(obj) + added)
    it.allocate(ITEM[type(obj)] * added + new_bytes)
    it.charge(added)


def _m_add_one(index: int) -> Guard:
    """append(x), insert(i, x), add(x), setdefault(k, x): one more item."""
    def guard(it: Interpreter, obj: Any, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        for value in args[index:index + 1] + list(kwargs.values()):
            if value is obj:
                raise ExpressionError(_SELF_CONTAINING)
            it.usable(value, f".{fn.__name__}()")
        _grow(it, obj, 1, 0)
        return fn(*args, **kwargs)
    return guard


def _m_add_many(it: Interpreter, obj: Any, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """extend(items), update(items...): as many more items as the arguments have."""
    added = len(kwargs)
    new = 0
    for value in args:
        n, cost, _height, created = it.contents(value)
        if cost > MAX_VALUE_BYTES:
            raise too_large(f"the argument of .{fn.__name__}()")
        added, new = added + n, new + created
    _grow(it, obj, added, new)
    return fn(*args, **kwargs)


_TEXT_METHODS = ("lower", "upper", "title", "capitalize", "casefold")
_SCAN_TEXT = ("strip", "lstrip", "rstrip", "startswith", "endswith", "count", "find", "rfind",
              "index", "isdigit", "isalpha", "isalnum", "isnumeric", "isspace", "islower",
              "isupper")
_METHOD_GUARDS: dict[tuple[type, str], Guard] = {
    (str, "join"): _m_join, (str, "replace"): _m_replace, (str, "split"): _m_split,
    (str, "rsplit"): _m_split, (str, "splitlines"): _m_splitlines,
    **{(str, m): _m_text for m in _TEXT_METHODS},
    **{(str, m): _m_scan_text for m in _SCAN_TEXT},
    (dict, "copy"): _m_copy, (list, "copy"): _m_copy, (set, "copy"): _m_copy,
    (list, "index"): _m_scan, (list, "count"): _m_scan, (list, "remove"): _m_scan,
    (list, "sort"): _m_scan, (tuple, "index"): _m_scan, (tuple, "count"): _m_scan,
    (set, "issubset"): _m_scan, (set, "issuperset"): _m_scan,
    (set, "union"): _m_set_op, (set, "intersection"): _m_set_op, (set, "difference"): _m_set_op,
    (date, "strftime"): _m_strftime, (datetime, "strftime"): _m_strftime,
    (list, "append"): _m_add_one(0), (list, "insert"): _m_add_one(1),
    (set, "add"): _m_add_one(0), (dict, "setdefault"): _m_add_one(1),
    (list, "extend"): _m_add_many, (dict, "update"): _m_add_many, (set, "update"): _m_add_many,
}


def _as_load(target: ast.expr) -> ast.expr:
    """The target of ``x += 1`` read as a value (same node shape, Load context)."""
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
    raise ExpressionError("cannot use += on this target")


__all__ = ["Interpreter", "date", "datetime", "timedelta", "written_names"]
