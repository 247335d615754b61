"""A completion keeps only the fields its form declares: nobody posting a form can set a
process variable that a gateway, DMN table or later step relies on."""
from __future__ import annotations

import json
import shutil

from sqlalchemy import select

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import AuditEvent, ProcessInstance
from disclosure_engine.services import cases, processes, tasks
from disclosure_engine.services.workflows import deploy_paths

from .helpers import MINI, REASON, case_payload, make_actor


def _deploy_with_open_assess_form(db, tmp_path) -> None:
    """The mini workflow, its first form saying nothing about extra properties (as forms
    written for SpiffArena often do)."""
    for path in MINI.parent.iterdir():
        shutil.copy(path, tmp_path / path.name)
    form = tmp_path / "mini--assess.schema.json"
    schema = json.loads(form.read_text())
    del schema["additionalProperties"]
    form.write_text(json.dumps(schema))
    deploy_paths(db, SYSTEM, [tmp_path / MINI.name, *tmp_path.glob("*.schema.json")], note="open form")


def test_fields_not_on_the_form_never_reach_the_process(db, tmp_path):
    _deploy_with_open_assess_form(db, tmp_path)
    officer = make_actor(db, "officer.kent", "officer")
    case = cases.create_case(db, officer, case_payload(cso=False))
    process = processes.start_process(db, officer, case["id"], "mini_decision")
    task_id = process["open_tasks"][0]["id"]

    result = tasks.complete(db, officer, task_id, {
        "serious_harm_risk": "yes", "serious_harm_reasons": REASON,
        "decision": "defer", "decision_route": "lead_agency"})

    assert result["ignored_fields"] == ["decision", "decision_route"]
    assert result["task"]["data"] == {"serious_harm_risk": "yes", "serious_harm_reasons": REASON}
    with db.transaction() as session:
        state = session.get(ProcessInstance, process["id"]).state
        detail = session.execute(select(AuditEvent.detail).where(AuditEvent.action == "task.completed")
                                 .order_by(AuditEvent.seq.desc())).scalars().first()
    assert '"decision_route"' not in json.dumps(state) and '"defer"' not in json.dumps(state)
    assert detail["ignored_fields"] == ["decision", "decision_route"]
    assert detail["fields"] == ["serious_harm_reasons", "serious_harm_risk"]


def test_a_submission_with_only_form_fields_ignores_nothing(db, tmp_path):
    _deploy_with_open_assess_form(db, tmp_path)
    officer = make_actor(db, "officer.kent", "officer")
    case = cases.create_case(db, officer, case_payload(cso=False))
    process = processes.start_process(db, officer, case["id"], "mini_decision")
    result = tasks.complete(db, officer, process["open_tasks"][0]["id"],
                            {"serious_harm_risk": "no", "serious_harm_reasons": REASON})
    assert result["ignored_fields"] == []
