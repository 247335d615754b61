"""The tree-walking interpreter behind :mod:`safe_eval`.

It only ever sees trees that passed the static allow-list, and it re-checks at run time what
the static pass cannot know (the type an attribute or method is used on, sizes of values), so
that data crafted to look like something else still cannot reach anything outside the lists.

Every node evaluation and loop iteration is a step; the clock is read every ``_CLOCK_EVERY``
steps and before every call of an allowed function (also when Python calls one, as the key
of ``sorted``), and calls are charged steps for the items they go through, so ``MAX_STEPS``
backs up the clock even for work done inside one call.
"""
from __future__ import annotations

import ast
import operator
import time
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import date, datetime, timedelta
from typing import Any

from disclosure_engine.engine.safe_builtins import (
    ATTRIBUTES,
    CLASS_METHODS,
    CONSTANTS,
    FUNCTIONS,
    MAX_INT_BITS,
    MAX_SEQUENCE,
    READ_METHODS,
    WRITE_METHODS,
    ExpressionError,
    ExpressionTimeout,
)

MAX_STEPS = 2_000_000
#: total size of strings/lists built by operators in one evaluation (memory, not just time)
MAX_ALLOCATED = 20 * MAX_SEQUENCE
_CLOCK_EVERY = 64
#: items a builtin goes through per interpreter step charged (C is that much quicker per item)
_C_ITEMS_PER_STEP = 16
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
_LAZY = (range, zip, enumerate, reversed, type({}.keys()), type({}.values()), type({}.items()))
_SAFE_CALLABLES = frozenset(id(f) for f in FUNCTIONS.values())
#: iterated as they are: they cannot change while a loop runs
_IMMUTABLE_ITERABLES = frozenset({range, str, tuple})


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


def _check_method(obj: Any, name: str, args: list[Any]) -> None:
    if name == "replace" and isinstance(obj, str) and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        count = len(obj) + 1 if old == "" else obj.count(old)
        if len(obj) + count * max(0, len(new) - len(old)) > MAX_SEQUENCE:
            raise ExpressionError("result of replace() would be too large")
    elif name == "join" and isinstance(obj, str) and args:
        items = list(args[0]) if not isinstance(args[0], (list, tuple)) else args[0]
        total = sum(_size(i) for i in items) + len(obj) * max(0, len(items) - 1)
        if total > MAX_SEQUENCE:
            raise ExpressionError("result of join() would be too large")
        args[0] = items


def _plain(value: Any) -> Any:
    """What may be stored in task data: lazy iterables become lists, callables are refused."""
    if isinstance(value, _LAZY):
        return list(value)
    if callable(value) and not (value is None):
        raise ExpressionError("functions cannot be stored in task data")
    return value


class Interpreter:
    """Evaluates one checked tree over ``names`` (task data) plus ``extra`` (engine context)."""

    def __init__(self, names: Mapping[str, Any] | MutableMapping[str, Any],
                 extra: Mapping[str, Any], timeout_ms: int, mode: str) -> None:
        self.names = names
        self.extra = extra
        self.mode = mode
        self.timeout_ms = timeout_ms
        self.deadline = time.perf_counter() + timeout_ms / 1000.0
        self.steps = 0
        self.next_check = _CLOCK_EVERY
        self.allocated = 0
        self.scopes: list[dict[str, Any]] = []

    # -- budget ---------------------------------------------------------------------------
    def tick(self) -> None:
        self.steps += 1
        if self.steps >= self.next_check:
            self.check_budget()

    def check_budget(self) -> None:
        if time.perf_counter() > self.deadline:
            raise ExpressionTimeout(
                f"expression took longer than {self.timeout_ms} ms and was stopped")
        if self.steps > MAX_STEPS:
            raise ExpressionTimeout(f"expression took more than {MAX_STEPS:,} steps and was stopped")
        self.next_check = self.steps + _CLOCK_EVERY

    def charge(self, items: int) -> None:
        """Before an allowed function or method runs: its items count as steps; read the clock."""
        self.steps += items // _C_ITEMS_PER_STEP
        self.check_budget()

    def account(self, value: Any) -> Any:
        """Count what operators build, so many modest strings cannot add up to gigabytes."""
        size = _size(value)
        if size > MAX_SEQUENCE:
            raise ExpressionError("result is too large")
        self.allocated += size
        if self.allocated > MAX_ALLOCATED:
            raise ExpressionError("expression builds too much data")
        return value

    # -- entry points ---------------------------------------------------------------------
    def run_expression(self, tree: ast.AST) -> Any:
        assert isinstance(tree, ast.Expression)
        return self.ev(tree.body)

    def run_module(self, tree: ast.AST) -> None:
        assert isinstance(tree, ast.Module)
        self.block(tree.body)

    # -- statements -----------------------------------------------------------------------
    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.tick()
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            value = _plain(self.ev(node.value))
            for target in node.targets:
                self.store(target, value)
        elif isinstance(node, ast.AugAssign):
            current = self.ev(_as_load(node.target))
            self.store(node.target, _plain(self.binop(node.op, current, self.ev(node.value))))
        elif isinstance(node, ast.Expr):
            self.ev(node.value)
        elif isinstance(node, ast.If):
            self.block(node.body if self.ev(node.test) else node.orelse)
        elif isinstance(node, ast.For):
            for item in self.loop_items(self.ev(node.iter)):
                self.tick()
                self.store(node.target, _plain(item))
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
            container[self.ev(target.slice)] = value
        else:
            raise ExpressionError(f"cannot assign to {type(target).__name__}")

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
        return self.account(fn(left, right))

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
        return [self.ev(e) for e in node.elts]

    def ev_Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self.ev(e) for e in node.elts)

    def ev_Set(self, node: ast.Set) -> set[Any]:
        return {self.ev(e) for e in node.elts}

    def ev_Dict(self, node: ast.Dict) -> dict[Any, Any]:
        return {self.ev(k): self.ev(v) for k, v in zip(node.keys, node.values) if k is not None}

    def ev_JoinedStr(self, node: ast.JoinedStr) -> str:
        out = "".join(str(self.ev(v)) if not isinstance(v, ast.Constant) else str(v.value)
                      for v in node.values)
        return self.account(out)

    def ev_FormattedValue(self, node: ast.FormattedValue) -> str:
        value = self.ev(node.value)
        if node.conversion == ord("r"):
            value = repr(value)
        elif node.conversion == ord("s") or node.conversion == ord("a"):
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

    def _comprehend(self, node: Any, build: Any) -> Any:
        self.scopes.append({})
        try:
            return build(self._generate(node.generators))
        finally:
            self.scopes.pop()

    def ev_ListComp(self, node: ast.ListComp) -> list[Any]:
        return self._comprehend(node, lambda g: [self.ev(node.elt) for _ in g])

    def ev_GeneratorExp(self, node: ast.GeneratorExp) -> list[Any]:
        return self._comprehend(node, lambda g: [self.ev(node.elt) for _ in g])

    def ev_SetComp(self, node: ast.SetComp) -> set[Any]:
        return self._comprehend(node, lambda g: {self.ev(node.elt) for _ in g})

    def ev_DictComp(self, node: ast.DictComp) -> dict[Any, Any]:
        return self._comprehend(node, lambda g: {self.ev(node.key): self.ev(node.value) for _ in g})

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
            obj = getattr(fn, "__self__", None)
            _check_method(obj, node.func.attr, args)
            args_and_self = [obj, *args]
        else:
            args_and_self = args
        return self.call(fn, args_and_self, args, kwargs)

    def call(self, fn: Any, inputs: list[Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
        self.charge(sum(len(v) for v in (*inputs, *kwargs.values())
                        if isinstance(v, (str, list, tuple, dict, set, range))))
        return self.account(fn(*args, **kwargs))

    def passed_function(self, value: Any) -> Any:
        """An allowed function passed as an argument (``sorted(xs, key=len)``) is called by
        Python, not by us: it gets the same checks and clock through this wrapper."""
        if id(value) not in _SAFE_CALLABLES:
            raise ExpressionError("only allowed functions may be passed as arguments")

        def checked(*args: Any, **kwargs: Any) -> Any:
            return self.call(value, list(args), list(args), kwargs)
        return checked

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


def _as_load(target: ast.expr) -> ast.expr:
    """The target of ``x += 1`` read as a value (same node shape, Load context)."""
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
    raise ExpressionError("cannot use += on this target")


__all__ = ["Interpreter", "date", "datetime", "timedelta"]
