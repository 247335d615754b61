"""The SpiffWorkflow script engine that runs every BPMN/DMN expression through the safe evaluator.

SpiffWorkflow's default environment is ``eval``/``exec`` over task data; its engine is not
serialized, so a restored workflow silently gets that default back. Runtime therefore builds
every workflow with :func:`make_script_engine` and sets it again after every restore.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)

from disclosure_engine.engine import safe_eval
from disclosure_engine.engine.safe_builtins import ExpressionError, ExpressionTimeout

__all__ = [
    "ExpressionError",
    "ExpressionTimeout",
    "SafeEnvironment",
    "SafeScriptEngine",
    "UnsafeExpression",
    "make_script_engine",
]


class UnsafeExpression(ExpressionError):
    """Raised when text reaching the engine is outside the allowed subset (never executed)."""


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates and executes only through :mod:`safe_eval`; there is no eval/exec path."""

    def __init__(self, timeout_ms: int | None = None) -> None:
        super().__init__({})
        self.timeout_ms = timeout_ms

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        _refuse_unsafe(expression, "eval")
        return safe_eval.evaluate(expression, context, extra=external_context,
                                  timeout_ms=self.timeout_ms)

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        _refuse_unsafe(script, "exec")
        safe_eval.execute(script, context, extra=external_context, timeout_ms=self.timeout_ms)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        raise UnsafeExpression("service tasks are not supported: this product calls no "
                               "external services from a workflow")


def _refuse_unsafe(text: str, mode: safe_eval.Mode) -> None:
    reason = safe_eval.check_expression(text, mode=mode)
    if reason is not None:
        raise UnsafeExpression(f"refused to run {text!r}: {reason}")


class SafeScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose environment is always a :class:`SafeEnvironment`.

    ``call_service`` is overridden because 3.2.0's error path references an undefined name
    (``script``) and would surface as a NameError instead of our reason.
    """

    def __init__(self, timeout_ms: int | None = None) -> None:
        super().__init__(environment=SafeEnvironment(timeout_ms))

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err


def make_script_engine(timeout_ms: int | None = None) -> PythonScriptEngine:
    """A fresh safe engine; cheap, so one per workflow object keeps timeouts independent."""
    return SafeScriptEngine(timeout_ms)
