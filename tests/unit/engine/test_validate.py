"""Validation and lint: each refusal names the file, the element's line and id, and why."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from disclosure_engine.engine.bundle import WorkflowBundle, bundle_from_path
from disclosure_engine.engine.expressions import QUOTE_HINT, timer_problem
from disclosure_engine.engine.lint import is_generated_id
from disclosure_engine.engine.validate import validate_bundle, validate_paths

from .conftest import BAD, GOOD

LINE = re.compile(r"^(?P<path>.+):(?P<line>\d+): (?P<element>[^:\s]+): (?P<message>.+)$")


def _line_of(path: Path, needle: str) -> int:
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(needle)


def test_good_fixture_is_accepted_even_as_shipped():
    assert validate_paths([GOOD / "review_flow.bpmn"], shipped=True) == []
    assert validate_paths([GOOD / "two_timers.bpmn"], shipped=True) == []


@pytest.mark.parametrize("fixture, element, needle, reason", [
    ("import_script.bpmn", "run_import", "<bpmn:script>", "import is not allowed"),
    ("open_script.bpmn", "read_secrets", "<bpmn:script>", "open() is not allowed"),
    ("eval_script.bpmn", "run_eval", "<bpmn:script>", "eval() is not allowed"),
    ("class_condition.bpmn", "escape", "<bpmn:conditionExpression", "(__class__)"),
    ("unquoted_timer.bpmn", "wait_ten_days", "<bpmn:timeDuration", QUOTE_HINT),
    ("no_form.bpmn", "record_note", '<bpmn:userTask id="record_note"', "user task has no form"),
    ("service_task.bpmn", "call_police_api", '<bpmn:serviceTask',
     "service tasks are not supported"),
])
def test_bad_fixture_is_refused_naming_element_and_line(fixture, element, needle, reason):
    path = BAD / fixture
    problems = validate_paths([path])
    assert problems, fixture
    first = problems[0]
    match = LINE.match(str(first))
    assert match, str(first)
    assert first.path == str(path) and first.element_id == element
    assert first.line == _line_of(path, needle)
    assert reason in first.message


@pytest.mark.parametrize("fixture", ["xxe.bpmn", "billion_laughs.bpmn"])
def test_hostile_xml_is_refused_by_validate_paths(fixture):
    problems = validate_paths([BAD / fixture])
    assert len(problems) == 1 and "DOCTYPE" in problems[0].message
    assert problems[0].path == str(BAD / fixture)


def test_oversize_bpmn_is_refused(tmp_path):
    big = tmp_path / "big.bpmn"
    big.write_bytes(b"<a>" + b" " * (2 * 1024 * 1024) + b"</a>")
    problems = validate_paths([big])
    assert len(problems) == 1 and "larger than" in problems[0].message


def _review_with(review_bundle: WorkflowBundle, **changes: bytes) -> WorkflowBundle:
    files = dict(review_bundle.files)
    files.update(changes)
    return WorkflowBundle.build(review_bundle.key, review_bundle.primary, files)


def _edited(review_bundle: WorkflowBundle, old: str, new: str) -> WorkflowBundle:
    text = review_bundle.files["review_flow.bpmn"].decode()
    assert old in text
    return _review_with(review_bundle, **{"review_flow.bpmn": text.replace(old, new).encode()})


def test_missing_form_file_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / "flow.bpmn").write_bytes((GOOD / "review_flow.bpmn").read_bytes())
    problems = validate_paths([tmp_path / "flow.bpmn"])
    messages = [p.message for p in problems]
    assert any("assess.schema.json is not in the bundle" in m for m in messages)
    assert any("decision 'risk_band' is not defined" in m for m in messages)
    assert all(LINE.match(str(p)) for p in problems)


def test_reason_pairs_are_enforced(review_bundle):
    schema = {"type": "object", "properties": {"decision": {"type": "string"}}}
    bundle = _review_with(review_bundle, **{"approve.schema.json": json.dumps(schema).encode()})
    problems = validate_bundle(bundle)
    assert [p.element_id for p in problems] == ["approve"]
    assert "decision_reasons" in problems[0].message


@pytest.mark.parametrize("prop, ok", [
    ({"type": "string", "format": "date", "x-after-today": True}, True),
    ({"type": "string", "format": "date-time", "x-after-today": True}, True),
    ({"type": "string", "x-after-today": True}, False),
    ({"type": "string", "format": "date", "x-after-today": "yes"}, False),
])
def test_x_after_today_is_only_for_date_fields(review_bundle, prop, ok):
    schema = {"type": "object", "properties": {"approved": {"type": "boolean"}, "review_date": prop}}
    problems = validate_bundle(_review_with(review_bundle, **{"approve.schema.json": json.dumps(schema).encode()}))
    if ok:
        assert problems == []
    else:
        assert [p.element_id for p in problems] == ["approve"]
        assert "'review_date' has 'x-after-today'" in problems[0].message


def test_invalid_json_schema_is_refused(review_bundle):
    bad = json.dumps({"type": "object", "properties": {"x": {"type": 5}}}).encode()
    problems = validate_bundle(_review_with(review_bundle, **{"approve.schema.json": bad}))
    assert problems and "not a valid JSON Schema" in problems[0].message


@pytest.mark.parametrize("old, new, reason", [
    ('<spiffworkflow:property name="due_period" value="P2D" />', "", "no due period"),
    ('value="P2D"', 'value="two days"', "not an ISO 8601 duration"),
    ('name="due_working_days" value="5"', 'name="due_working_days" value="-1"',
     "whole number from 1 to 366"),
    ('<bpmn:lane id="chair_lane" name="Chair">', '<bpmn:lane id="chair_lane" name="Judges">',
     "lane 'Judges' is not a role"),
    ('"P28D"', '"P28X"', "is not an ISO 8601 duration"),
    ('"P28D"', '28', "must evaluate to an ISO 8601 string"),
    ('name="Disclose?"', 'name="Disclose now?"', None),
])
def test_lint_rules(review_bundle, old, new, reason):
    problems = validate_bundle(_edited(review_bundle, old, new))
    if reason is None:
        assert problems == []
    else:
        assert len(problems) == 1 and reason in problems[0].message, problems


def test_candidate_role_property_must_be_a_role(review_bundle):
    bundle = _edited(review_bundle, '<spiffworkflow:property name="due_period" value="P2D" />',
                     '<spiffworkflow:property name="due_period" value="P2D" />'
                     '<spiffworkflow:property name="candidate_role" value="judge" />')
    problems = validate_bundle(bundle)
    assert len(problems) == 1 and "candidate_role 'judge'" in problems[0].message


def test_shipped_workflows_need_stable_ids(review_bundle):
    bundle = _edited(review_bundle, 'id="approve"', 'id="Activity_0x1y2z9"')
    bundle = _edited(bundle, 'targetRef="approve"', 'targetRef="Activity_0x1y2z9"')
    bundle = _edited(bundle, 'sourceRef="approve"', 'sourceRef="Activity_0x1y2z9"')
    bundle = _edited(bundle, ">approve<", ">Activity_0x1y2z9<")
    assert validate_bundle(bundle) == []
    problems = validate_bundle(bundle, shipped=True)
    assert [p.element_id for p in problems] == ["Activity_0x1y2z9"]
    assert "looks generated" in problems[0].message


def test_unsafe_dmn_cell_is_refused(review_bundle):
    dmn = review_bundle.files["risk_band.dmn"].decode().replace('"medium"', "open('x')")
    problems = validate_bundle(_review_with(review_bundle, **{"risk_band.dmn": dmn.encode()}))
    assert len(problems) == 1
    assert problems[0].path == "risk_band.dmn" and problems[0].element_id == "band_medium_out"
    assert "open() is not allowed" in problems[0].message


def test_structure_problems_are_reported(review_bundle):
    problems = validate_bundle(_edited(review_bundle, 'targetRef="classify"', 'targetRef="nowhere"'))
    assert any(p.element_id == "to_classify" and "'nowhere' is not an element" in p.message
               for p in problems)


@pytest.mark.parametrize("kind, text, ok", [
    ("timeDuration", '"P10D"', True), ("timeDuration", "P10D", False),
    ("timeDuration", "due_period", True), ("timeDate", '"2025-01-31T09:00:00+00:00"', True),
    ("timeDate", '"2025-01-31T09:00:00"', False), ("timeDate", "2025-01-31T09:00:00", False),
    ("timeCycle", '"R3/PT1H"', True), ("timeCycle", "R3/PT1H", False),
    ("timeDuration", "__import__('os')", False),
])
def test_timer_expressions(kind, text, ok):
    assert (timer_problem(kind, text) is None) is ok


def test_generated_id_detection():
    assert is_generated_id("Activity_0x1y2z") and is_generated_id("Flow_1bsnw7a")
    assert is_generated_id("node_3fa9c1b2")
    assert not is_generated_id("assess_tests") and not is_generated_id("lane_officer")
    assert not is_generated_id("s327a_consideration")


def test_validate_paths_never_raises_on_garbage(tmp_path):
    (tmp_path / "empty.bpmn").write_bytes(b"")
    (tmp_path / "text.bpmn").write_bytes(b"not xml at all")
    (tmp_path / "wrong_root.bpmn").write_bytes(b"<html><body/></html>")
    (tmp_path / "binary.bpmn").write_bytes(bytes(range(256)))
    problems = validate_paths([tmp_path, tmp_path / "missing.bpmn"])
    assert {Path(p.path).name for p in problems} == {
        "empty.bpmn", "text.bpmn", "wrong_root.bpmn", "binary.bpmn", "missing.bpmn"}
    assert all(LINE.match(str(p)) for p in problems)


def test_bundle_from_path_of_shipped_style_fixture_validates(review_bundle):
    assert bundle_from_path(GOOD / "review_flow.bpmn").content_hash == review_bundle.content_hash


def test_spiff_schema_errors_name_the_element_and_line(review_bundle):
    bundle = _edited(review_bundle, '<bpmn:endEvent id="end_disclosed" name="Disclosed">',
                     '<bpmn:endEvent id="end_disclosed" name="Disclosed"><bpmn:bogus/>')
    problems = validate_bundle(bundle)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.element_id == "end_disclosed" and "bpmn:bogus" in problem.message
    text = bundle.files["review_flow.bpmn"].decode().splitlines()
    assert "bpmn:bogus" in text[problem.line - 1]


def test_spiff_semantic_errors_are_reported(review_bundle):
    problems = validate_bundle(_edited(review_bundle, 'default="route_no"', ""))
    assert [(p.element_id, p.message) for p in problems] == [
        ("route_no", "Non-default exclusive outgoing sequence flow without condition")]


def test_condition_that_would_run_for_seconds_is_refused_quickly_naming_the_element():
    """The validator evaluates conditions against no data: a condition that built gigabytes
    made `workflows validate` take 21.8 s; it is refused before any of that work is done."""
    path = BAD / "big_condition.bpmn"
    started = time.perf_counter()
    problems = validate_paths([path])
    assert time.perf_counter() - started < 2
    assert len(problems) == 1, problems
    match = LINE.match(str(problems[0]))
    assert match, str(problems[0])
    assert problems[0].element_id == "escape"
    assert problems[0].line == _line_of(path, "<bpmn:conditionExpression")
    assert "condition refused when evaluated: result of * would be too large" in problems[0].message


def test_workflows_validate_command_refuses_it_quickly():
    path = BAD / "big_condition.bpmn"
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "disclosure_engine.cli", "workflows", "validate",
                             str(path)], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[3])
    assert time.perf_counter() - started < 10  # the command's own start-up included
    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{path}:{_line_of(path, '<bpmn:conditionExpression')}: escape: "
                            "condition refused when evaluated: "), first
    assert "too large" in first


def test_timer_that_would_build_too_much_is_refused_quickly(review_bundle):
    started = time.perf_counter()
    problems = validate_bundle(_edited(review_bundle, '"P28D"', "str([[None] * 1000] * 400)"))
    assert time.perf_counter() - started < 2
    assert len(problems) == 1 and "would be too long" in problems[0].message, problems


def test_a_boolean_dmn_output_must_be_true_or_false():
    """presumption_applies is tested with == True downstream: a 'yes' would silently take the
    other branch, so it is refused at validation with the cell's id."""
    from lxml import etree

    from disclosure_engine.engine.expressions import dmn_expression_problems

    shipped = (Path(__file__).resolve().parents[3] / "workflows" / "s327a_presumption.dmn").read_text()
    assert list(dmn_expression_problems("s327a_presumption.dmn", etree.fromstring(shipped.encode()))) == []
    broken = shipped.replace("<text>True</text>", "<text>'yes'</text>", 1)
    assert broken != shipped
    problems = list(dmn_expression_problems("s327a_presumption.dmn", etree.fromstring(broken.encode())))
    assert len(problems) == 1
    assert "'yes'" in problems[0].message and "boolean" in problems[0].message
