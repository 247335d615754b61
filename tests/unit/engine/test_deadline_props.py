"""Process-level deadline defaults, overridable per task (docs/workflows-deadlines.md)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from disclosure_engine.engine import runtime
from disclosure_engine.engine.bundle import bundle_from_files, bundle_from_path
from disclosure_engine.engine.deadline_props import bundle_defaults, merge
from disclosure_engine.engine.validate import validate_bundle

MINI = Path(__file__).resolve().parents[2] / "fixtures" / "mini" / "mini_decision.bpmn"
DEFAULTS = ('<bpmn:process id="mini_decision" name="Mini decision" isExecutable="true">'
            '<bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="due_working_days" value="5" />'
            '<spiffworkflow:property name="escalate_after" value="P2D" />'
            '<spiffworkflow:property name="escalate_to_role" value="manager" />'
            '</spiffworkflow:properties></bpmn:extensionElements>')


def test_task_wins_and_due_kinds_exclude_each_other():
    defaults = {"due_working_days": "5", "reminder_before": "P1D", "escalate_after": "P2D"}
    assert merge(defaults, {"due_period": "PT4H"}) == {"due_period": "PT4H", "reminder_before": "P1D",
                                                        "escalate_after": "P2D"}
    assert merge(defaults, {"reminder_before": ""}) == {"due_working_days": "5", "escalate_after": "P2D"}
    assert merge({}, {"due_period": "P5D", "formJsonSchemaFilename": "f.json"})["formJsonSchemaFilename"] == "f.json"


def _bundle(drop_task_due: bool):
    base = bundle_from_path(MINI)
    xml = base.files[base.primary].decode().replace(
        '<bpmn:process id="mini_decision" name="Mini decision" isExecutable="true">', DEFAULTS)
    if drop_task_due:
        xml = xml.replace('<spiffworkflow:property name="due_period" value="P5D" />', "")
    return bundle_from_files({**base.files, base.primary: xml.encode()})


def test_a_task_without_its_own_due_period_uses_the_process_default():
    bundle = _bundle(drop_task_due=True)
    assert validate_bundle(bundle) == []
    assert bundle_defaults(bundle) == {"due_working_days": "5", "escalate_after": "P2D", "escalate_to_role": "manager"}
    wf = runtime.start_workflow(runtime.compile_bundle(bundle), {})
    (task,) = runtime.ready_user_tasks(wf)
    props = merge(bundle_defaults(bundle), task.properties)
    assert props["due_working_days"] == "5" and "due_period" not in props
    from disclosure_engine.domain.deadlines import due_at_for

    plan = due_at_for(props, datetime(2026, 12, 18, 10, tzinfo=timezone.utc))  # Friday before Christmas
    assert plan.due_at is not None and plan.due_at.date().isoformat() == "2026-12-29"  # skips 25th and the 28th (Boxing Day substitute)
    assert plan.escalate_to_role == "manager"


def test_without_any_due_period_lint_still_refuses():
    base = bundle_from_path(MINI)
    xml = base.files[base.primary].decode().replace('<spiffworkflow:property name="due_period" value="P5D" />', "")
    problems = validate_bundle(bundle_from_files({**base.files, base.primary: xml.encode()}))
    assert any(p.element_id == "assess" and "due period" in p.message for p in problems)
