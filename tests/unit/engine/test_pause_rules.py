"""``pause_extends`` on a date timer event: policy marks the windows a pause must give back
(the representations window); the lint refuses it where it could mean nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from disclosure_engine.engine.bundle import WorkflowBundle, bundle_from_path
from disclosure_engine.engine.pause_rules import extended_timers
from disclosure_engine.engine.validate import validate_bundle

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"
NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')
PROPS = ('<spiffworkflow:property name="formJsonSchemaFilename" value="windowed--reply.schema.json" />'
         '<spiffworkflow:property name="candidate_role" value="officer" />'
         '<spiffworkflow:property name="due_period" value="P28D" />')
FORM = b'{"type": "object", "properties": {"note": {"type": "string"}}}'


def _flag(value: str) -> str:
    return ('<bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="pause_extends" value="{value}" />'
            '</spiffworkflow:properties></bpmn:extensionElements>')


def _bundle(*, window: str = "", wait: str = "", task: str = "") -> WorkflowBundle:
    """start -> reply (a user task, closed by a date timer ``window``) -> wait (a duration timer)
    -> end; each argument is extension XML for that element."""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="windowed" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_reply</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_reply" sourceRef="start" targetRef="reply" />
    <bpmn:userTask id="reply" name="Record the reply">
      <bpmn:extensionElements><spiffworkflow:properties>{PROPS}{task}</spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>to_reply</bpmn:incoming><bpmn:outgoing>to_wait</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="window_closed" attachedToRef="reply" cancelActivity="true">{window}
      <bpmn:outgoing>to_end_lapsed</bpmn:outgoing>
      <bpmn:timerEventDefinition id="window_timer">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"2030-01-31T23:59:59+00:00"</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="to_end_lapsed" sourceRef="window_closed" targetRef="end_lapsed" />
    <bpmn:endEvent id="end_lapsed"><bpmn:incoming>to_end_lapsed</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_wait" sourceRef="reply" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">{wait}
      <bpmn:incoming>to_wait</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"P7D"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="to_end" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
    return WorkflowBundle.build("windowed", "windowed.bpmn",
                                {"windowed.bpmn": xml.encode(), "windowed--reply.schema.json": FORM})


def _problems(bundle: WorkflowBundle) -> list[tuple[str, str]]:
    return [(p.element_id, p.message) for p in validate_bundle(bundle)]


def test_a_date_timer_marked_pause_extends_is_accepted_and_read():
    assert _problems(_bundle()) == []
    assert extended_timers(_bundle()) == frozenset()
    marked = _bundle(window=_flag("true"))
    assert _problems(marked) == []
    assert extended_timers(marked) == {"window_closed"}
    assert extended_timers(_bundle(window=_flag("false"))) == frozenset(), "false: the date stays"


@pytest.mark.parametrize("where, element, expected", [
    ({"wait": _flag("true")}, "wait", "pause_extends is for date timers (timeDate): a timeDuration timer waits "
                                      "as much longer after a pause by itself"),
    ({"window": _flag("yes")}, "window_closed", "pause_extends 'yes' on a timer event must be true or false"),
    ({"task": '<spiffworkflow:property name="pause_extends" value="true" />'}, "reply",
     "pause_extends is read only on a bpmn:process (the date fields a pause pushes back) or on a timer event "
     "with a timeDate"),
])
def test_pause_extends_where_it_means_nothing_is_refused(where, element, expected):
    found = _problems(_bundle(**where))
    assert any(e == element and expected in m for e, m in found), found


def test_the_shipped_representations_window_is_given_back_after_a_pause_and_the_review_date_is_not():
    s327a = bundle_from_path(WORKFLOWS / "s327a_consideration.bpmn")
    assert extended_timers(s327a) == {"representations_window_lapsed"}
