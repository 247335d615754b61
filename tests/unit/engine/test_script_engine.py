"""The engine itself refuses unsafe text at run time, even if validation was bypassed."""
from __future__ import annotations

import os

import pytest
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from disclosure_engine.engine.safe_builtins import ExpressionTimeout
from disclosure_engine.engine.script_engine import (
    SafeEnvironment,
    UnsafeExpression,
    make_script_engine,
)

PAYLOADS_EVAL = [
    "__import__('os').system('touch /tmp/pwned')",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd').read()",
    "eval('1+1')",
]
PAYLOADS_EXEC = ["import os\nos.system('true')", "exec('x = 1')", "x = open('/etc/passwd')"]


def test_engine_environment_is_the_safe_one_not_the_default():
    engine = make_script_engine()
    assert isinstance(engine.environment, SafeEnvironment)
    assert not isinstance(engine.environment, TaskDataEnvironment)


@pytest.mark.parametrize("payload", PAYLOADS_EVAL)
def test_environment_refuses_unsafe_expressions(payload):
    env = SafeEnvironment()
    with pytest.raises(UnsafeExpression, match="refused to run"):
        env.evaluate(payload, {})


@pytest.mark.parametrize("payload", PAYLOADS_EXEC)
def test_environment_refuses_unsafe_scripts(payload):
    env = SafeEnvironment()
    data: dict = {}
    with pytest.raises(UnsafeExpression):
        env.execute(payload, data)
    assert data == {}


def test_environment_evaluates_with_external_context_like_spiff_dmn():
    env = SafeEnvironment()
    assert env.evaluate("dmninputexpr >= 20", {"a": 1}, {"dmninputexpr": 25}) is True


def test_environment_time_bound_is_configurable():
    env = SafeEnvironment(timeout_ms=20)
    with pytest.raises(ExpressionTimeout):
        env.execute("for i in range(1000000):\n    for j in range(1000000):\n        pass", {})


def test_service_calls_are_refused():
    with pytest.raises(UnsafeExpression, match="service tasks are not supported"):
        SafeEnvironment().call_service({}, operation_name="http/GetRequest")


def test_nothing_was_written_by_payloads():
    assert not os.path.exists("/tmp/pwned")
