"""records_decision / records_decision_when: when a completed task writes a decision record,
and the lint that keeps the condition usable and asks for it where an answer decides nothing."""
from __future__ import annotations

import pytest

from disclosure_engine.engine.bundle import WorkflowBundle, bundle_from_path
from disclosure_engine.engine.decision_rules import condition_problems, decides, read_names
from disclosure_engine.engine.path_tests import WORKFLOWS_DIR
from disclosure_engine.engine.runtime import WorkflowError
from disclosure_engine.engine.validate import validate_bundle

SIGNOFF = {"type": "object", "required": ["chair_outcome", "chair_reasons"], "properties": {
    "chair_outcome": {"type": "string", "enum": ["agreed", "returned"]},
    "chair_reasons": {"type": "string"}, "dissent": {"type": "string"}}}
WHEN = "chair_outcome == 'agreed'"


@pytest.mark.parametrize("props, data, expected", [
    ({}, {"chair_outcome": "agreed"}, False),
    ({"records_decision": "false"}, {}, False),
    ({"records_decision": "true"}, {}, True),
    ({"records_decision": " TRUE "}, {}, True),
    ({"records_decision": "true", "records_decision_when": WHEN}, {"chair_outcome": "agreed"}, True),
    ({"records_decision": "true", "records_decision_when": WHEN}, {"chair_outcome": "returned"}, False),
    ({"records_decision": "true", "records_decision_when": "  "}, {}, True),
    ({"records_decision": "true", "records_decision_when": "x in ('a', 'b')"}, {"x": "b"}, True),
])
def test_whether_a_completion_records_a_decision(props, data, expected):
    assert decides(props, data) is expected


@pytest.mark.parametrize("condition", ["chair_outcome == 'agreed'", "__import__('os')", "open('x')"])
def test_a_condition_that_cannot_be_evaluated_fails_naming_the_element(condition):
    with pytest.raises(WorkflowError) as failed:
        decides({"records_decision": "true", "records_decision_when": condition}, {}, element_id="chair_signoff")
    assert failed.value.element_id == "chair_signoff"
    assert "records_decision_when" in str(failed.value)


def test_read_names_are_the_task_data_an_expression_reads():
    assert read_names("chair_outcome == 'agreed' and len(x) > 0 and all(y for y in z)") == \
        {"chair_outcome", "x", "z"}


@pytest.mark.parametrize("condition, problem", [
    (WHEN, None),
    ("chair_outcome in ('agreed',)", None),
    ("'agreed' == chair_outcome", None),
    ("chair_outcome == 'agree'", "compares 'chair_outcome' with 'agree', which is not one of its answers"),
    ("chair_outcome in ('agreed', 'signed')", "with 'signed', which is not one of its answers"),
    ("dissent == ''", "reads 'dissent', which is not a required field"),
    ("meeting == 'x'", "reads 'meeting', which is not a required field"),
    ("chair_outcome = 'agreed'", "records_decision_when refused: syntax error"),
    ("__import__('os')", "records_decision_when refused"),
])
def test_condition_problems(condition, problem):
    problems = condition_problems(condition, SIGNOFF)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


# -- the lint, on the shipped s.327A model --------------------------------------------------

@pytest.fixture(scope="module")
def s327a() -> WorkflowBundle:
    return bundle_from_path(WORKFLOWS_DIR / "s327a_consideration.bpmn")


def _edited(bundle: WorkflowBundle, old: str, new: str) -> WorkflowBundle:
    text = bundle.files[bundle.primary].decode()
    assert text.count(old) == 1, old
    return WorkflowBundle.build(bundle.key, bundle.primary,
                                {**bundle.files, bundle.primary: text.replace(old, new).encode()})


AGREED = '<spiffworkflow:property name="records_decision_when" value="chair_outcome == \'agreed\'" />'


def test_the_shipped_model_is_clean(s327a):
    assert validate_bundle(s327a, shipped=True) == []


def test_a_sign_off_that_can_return_must_say_which_answer_decides(s327a):
    problems = validate_bundle(_edited(s327a, AGREED, ""))
    assert [p.element_id for p in problems] == ["chair_signoff"]
    assert "answer to 'chair_outcome' chooses the route after it" in problems[0].message
    assert "records_decision_when" in problems[0].message and "chair_outcome == 'agreed'" in problems[0].message


def test_a_condition_naming_an_answer_the_form_does_not_offer_is_refused(s327a):
    problems = validate_bundle(_edited(s327a, AGREED, AGREED.replace("'agreed'", "'agree'")))
    assert [p.element_id for p in problems] == ["chair_signoff"]
    assert "'agree', which is not one of its answers ('agreed', 'returned')" in problems[0].message


def test_a_condition_without_records_decision_is_refused(s327a):
    bundle = _edited(s327a, '<spiffworkflow:property name="escalate_after" value="P1D" />\n'
                            '          <spiffworkflow:property name="escalate_to_role" value="manager" />\n'
                            '          <spiffworkflow:property name="records_decision" value="true" />\n'
                            '          ' + AGREED,
                     '<spiffworkflow:property name="escalate_after" value="P1D" />\n'
                     '          <spiffworkflow:property name="escalate_to_role" value="manager" />\n'
                     '          ' + AGREED)
    problems = validate_bundle(bundle)
    assert [p.element_id for p in problems] == ["chair_signoff"]
    assert "has no effect without records_decision = true" in problems[0].message


def test_a_step_that_asks_the_decision_itself_needs_no_condition(s327a):
    """decide routes on its own ``decision`` answer, and every answer is a decision."""
    assert not [p for p in validate_bundle(s327a) if p.element_id == "decide"]
