"""A small AST allow-list interpreter for the expressions and scripts policy teams write in BPMN.

SpiffWorkflow evaluates gateway conditions, timers, DMN cells and scripts with plain
``eval``/``exec``; anyone who can deploy a BPMN file could then run code on the server. Here the
text is parsed with :mod:`ast`, every node is checked against an allow-list (``check_expression``
gives the reason a text is refused, which validation reports with the element id), and the
tree is then *interpreted* node by node - never compiled - so nothing outside the allow-lists
in :mod:`safe_builtins` is reachable, and a step counter plus a clock bound the running time.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Mapping, MutableMapping
from functools import lru_cache
from typing import Any, Literal

from disclosure_engine.engine import time_limit
from disclosure_engine.engine.safe_builtins import (
    ALL_ATTRIBUTE_NAMES,
    ALL_CLASS_METHOD_NAMES,
    ALL_READ_METHOD_NAMES,
    ALL_WRITE_METHOD_NAMES,
    FORBIDDEN_NAMES,
    FUNCTIONS,
    ExpressionError,
)

Mode = Literal["eval", "exec"]
MAX_TEXT = 100_000
MAX_DEPTH = 60

_EXPR_NODES: tuple[type, ...] = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.Add, ast.Sub, ast.Mult,
    ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BoolOp, ast.And, ast.Or, ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt,
    ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.IfExp, ast.Subscript, ast.Slice,
    ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.Call, ast.keyword, ast.Attribute, ast.JoinedStr,
    ast.FormattedValue, ast.Store,
)
_STMT_NODES: tuple[type, ...] = (
    ast.Module, ast.Assign, ast.AugAssign, ast.Del, ast.Delete, ast.If, ast.For,
    ast.Pass, ast.Break, ast.Continue, ast.Expr,
)
_FRIENDLY: dict[type, str] = {
    ast.Import: "import is not allowed", ast.ImportFrom: "import is not allowed",
    ast.FunctionDef: "function definitions (def) are not allowed",
    ast.AsyncFunctionDef: "function definitions (def) are not allowed",
    ast.Lambda: "lambda is not allowed", ast.ClassDef: "class definitions are not allowed",
    ast.While: "while loops are not allowed (use for over a list)",
    ast.Global: "global is not allowed", ast.Nonlocal: "nonlocal is not allowed",
    ast.With: "with is not allowed", ast.Try: "try/except is not allowed",
    ast.Raise: "raise is not allowed", ast.Assert: "assert is not allowed",
    ast.NamedExpr: "the := operator is not allowed", ast.Yield: "yield is not allowed",
    ast.Await: "await is not allowed", ast.Starred: "*-unpacking is not allowed",
    ast.LShift: "the << operator is not allowed", ast.RShift: "the >> operator is not allowed",
    ast.MatMult: "the @ operator is not allowed", ast.Return: "return is not allowed",
}


def _where(node: ast.AST, mode: Mode) -> str:
    line = getattr(node, "lineno", None)
    return f"line {line}: " if mode == "exec" and line else ""


class _Checker(ast.NodeVisitor):
    """Walks a parsed tree and raises ExpressionError at the first node outside the allow-list."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.depth = 0
        self.called: set[int] = set()  # ids of Attribute nodes that are the target of a call

    def fail(self, node: ast.AST, reason: str) -> None:
        raise ExpressionError(_where(node, self.mode) + reason)

    def generic_visit(self, node: ast.AST) -> None:
        allowed = _EXPR_NODES + (_STMT_NODES if self.mode == "exec" else ())
        if not isinstance(node, allowed):
            reason = _FRIENDLY.get(type(node))
            if reason is None:
                kind = "statement" if isinstance(node, ast.stmt) else "construct"
                reason = f"{type(node).__name__} {kind} is not allowed"
                if self.mode == "eval" and isinstance(node, _STMT_NODES):
                    reason = f"{type(node).__name__} is not allowed in an expression"
            self.fail(node, reason)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(node, "expression is nested too deeply")
        self._specific(node)
        super().generic_visit(node)
        self.depth -= 1

    def _specific(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            if node.id.startswith("__"):
                self.fail(node, f"names starting with '__' are not allowed ({node.id})")
            if node.id in FORBIDDEN_NAMES:
                self.fail(node, f"{node.id}() is not allowed")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                self.fail(node, f"attribute names starting with '_' are not allowed ({node.attr})")
            if not isinstance(node.ctx, ast.Load):
                self.fail(node, "assigning to attributes is not allowed")
            if id(node) not in self.called and node.attr not in ALL_ATTRIBUTE_NAMES:
                self.fail(node, f"attribute .{node.attr} is not allowed")
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.comprehension) and node.is_async:
            self.fail(node, "async comprehensions are not allowed")
        elif isinstance(node, ast.Dict) and any(k is None for k in node.keys):
            self.fail(node, "**-unpacking is not allowed")
        elif isinstance(node, ast.Delete):
            if not all(isinstance(t, ast.Name) for t in node.targets):
                self.fail(node, "del is allowed only for plain names")
        elif isinstance(node, ast.For) and node.orelse:
            self.fail(node, "for ... else is not allowed")
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = node.format_spec
            if not all(isinstance(v, ast.Constant) for v in getattr(spec, "values", [])):
                self.fail(node, "computed format specifications are not allowed")
            text = "".join(str(v.value) for v in getattr(spec, "values", []))
            if any(len(d) > 3 for d in re.findall(r"\d+", text)):
                self.fail(node, "format width/precision is too large")

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if any(k.arg is None for k in node.keywords):
            self.fail(node, "**-unpacking in calls is not allowed")
        if isinstance(func, ast.Name):
            if func.id in FORBIDDEN_NAMES or func.id.startswith("__"):
                self.fail(node, f"{func.id}() is not allowed")
            if func.id not in FUNCTIONS:
                self.fail(node, f"calling {func.id}() is not allowed (not an allowed function)")
        elif isinstance(func, ast.Attribute):
            self.called.add(id(func))
            if func.attr.startswith("_"):
                self.fail(node, f"attribute names starting with '_' are not allowed ({func.attr})")
            allowed = ALL_READ_METHOD_NAMES | ALL_CLASS_METHOD_NAMES
            if self.mode == "exec":
                allowed = allowed | ALL_WRITE_METHOD_NAMES
            if func.attr not in allowed:
                extra = " in an expression" if func.attr in ALL_WRITE_METHOD_NAMES else ""
                self.fail(node, f"method .{func.attr}() is not allowed{extra}")
        else:
            self.fail(node, _FRIENDLY.get(type(func), "only allowed functions and methods may be called"))


@lru_cache(maxsize=4096)
def parse_checked(text: str, mode: Mode) -> ast.AST:
    """Parse and check ``text`` once; the cache makes repeated gateway evaluation cheap."""
    if not isinstance(text, str):
        raise ExpressionError("expression must be text")
    if len(text) > MAX_TEXT:
        raise ExpressionError(f"expression is longer than {MAX_TEXT} characters")
    source = text.strip() if mode == "eval" else _dedent(text)
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if mode == "exec" and exc.lineno else ""
        raise ExpressionError(f"{where}syntax error: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression is too complex to parse") from None
    try:
        _first_dangerous_name(tree, mode)
        _Checker(mode).visit(tree)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    return tree


def _first_dangerous_name(tree: ast.AST, mode: Mode) -> None:
    """Report the earliest dunder/forbidden name first: for ``open('x').read()`` the useful
    reason is open(), not .read(), and for ``().__class__.__base__`` it is __class__."""
    hits: list[tuple[int, int, ast.AST, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and (node.id in FORBIDDEN_NAMES or node.id.startswith("__")):
            reason = (f"{node.id}() is not allowed" if node.id in FORBIDDEN_NAMES
                      else f"names starting with '__' are not allowed ({node.id})")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            reason = f"attribute names starting with '_' are not allowed ({node.attr})"
        else:
            continue
        hits.append((getattr(node, "lineno", 0), getattr(node, "end_col_offset", 0) or 0,
                     node, reason))
    if hits:
        _, _, node, reason = min(hits, key=lambda h: (h[0], h[1]))
        raise ExpressionError(_where(node, mode) + reason)


def _dedent(text: str) -> str:
    """Scripts pasted into XML are often indented as a block; remove the common indent."""
    import textwrap
    return textwrap.dedent(text.replace("\r\n", "\n")).strip("\n")


def check_expression(text: str, *, mode: Mode = "eval") -> str | None:
    """The reason ``text`` is refused, or None when it only uses the allowed subset."""
    try:
        parse_checked(text, mode)
    except ExpressionError as exc:
        return str(exc)
    return None


def evaluate(text: str, names: Mapping[str, Any], *, extra: Mapping[str, Any] | None = None,
             timeout_ms: int | None = None) -> Any:
    """Evaluate an expression over task data ``names`` (never modified) within the time bound."""
    from disclosure_engine.engine.safe_interp import Interpreter
    tree = parse_checked(text, "eval")
    return Interpreter(names, extra or {}, _limit(timeout_ms), "eval").run_expression(tree)


def execute(text: str, names: MutableMapping[str, Any], *,
            extra: Mapping[str, Any] | None = None, timeout_ms: int | None = None) -> None:
    """Run a script; assignments go into ``names`` (the task data)."""
    from disclosure_engine.engine.safe_interp import Interpreter
    tree = parse_checked(text, "exec")
    Interpreter(names, extra or {}, _limit(timeout_ms), "exec").run_module(tree)



def _limit(timeout_ms: int | None) -> int:
    return time_limit.current() if timeout_ms is None else timeout_ms
