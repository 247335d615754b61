"""Static checks on the shipped process models: they validate as shipped workflows, every
flow node has a diagram shape, every user task carries the properties policy relies on, and
every form follows the decision vocabulary conventions."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from disclosure_engine.domain.roles import ROLES
from disclosure_engine.domain.vocabulary import REASON_PAIRS, is_reason_field
from disclosure_engine.engine.path_tests import WORKFLOWS_DIR
from disclosure_engine.engine.validate import validate_paths

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "bpmndi": DI, "spiffworkflow": SPIFF}
SHIPPED = ("s327a_consideration", "disclosure_delivery", "csods_application", "urgent_disclosure")
FORMS = sorted(WORKFLOWS_DIR.glob("*.schema.json"))


def test_shipped_workflows_validate_clean() -> None:
    problems = validate_paths([WORKFLOWS_DIR / f"{k}.bpmn" for k in SHIPPED], shipped=True)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("key", SHIPPED)
def test_model_shape(key: str) -> None:
    root = etree.parse(str(WORKFLOWS_DIR / f"{key}.bpmn")).getroot()
    process = root.find("bpmn:process", NS)
    assert process.get("id") == key
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    for node in process:
        if not isinstance(node.tag, str):
            continue
        kind = etree.QName(node).localname
        if kind in ("laneSet", "documentation", "extensionElements"):
            continue
        if kind == "sequenceFlow":
            assert node.get("id") in edges, f"{node.get('id')} has no diagram edge"
        else:
            assert node.get("id") in shapes, f"{node.get('id')} has no diagram shape"
    for task in process.iterfind("bpmn:userTask", NS):
        props = {p.get("name"): p.get("value")
                 for p in task.iterfind(".//spiffworkflow:property", NS)}
        tid = task.get("id")
        assert props.get("candidate_role") in ROLES, tid
        assert props.get("due_period") or props.get("due_working_days"), tid
        assert (WORKFLOWS_DIR / props["formJsonSchemaFilename"]).is_file(), tid
        assert props["formJsonSchemaFilename"] == f"{key}--{tid}.schema.json"
        assert (task.findtext(".//spiffworkflow:instructionsForEndUser", namespaces=NS) or "").strip(), tid
    # a decision is recorded on every route that ends in an outcome
    recording = [t.get("id") for t in process.iterfind("bpmn:userTask", NS)
                 if any(p.get("name") == "records_decision" and p.get("value") == "true"
                        for p in t.iterfind(".//spiffworkflow:property", NS))]
    assert recording, f"{key} records no decision"
    for timer in process.iterfind(".//bpmn:timeDate", NS):
        assert "+00:00" in (timer.text or ""), "timeDate needs an explicit UTC offset"
    for timer in process.iterfind(".//bpmn:timeDuration", NS):
        assert (timer.text or "").strip().startswith('"'), "literal durations must be quoted"


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_form_conventions(form: Path) -> None:
    schema = json.loads(form.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["title"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert set(schema["required"]) <= set(props)
    for answer, reasons in REASON_PAIRS.items():
        if answer in props:
            assert set(reasons) & set(props), f"{answer} without its reasons field"
    for name, prop in props.items():
        assert prop.get("title"), f"{name} has no title"
        if is_reason_field(name):
            assert prop["type"] == "string" and prop["minLength"] >= 20, name
            assert prop.get("description"), f"{name} has no hint"
    ui = json.loads(form.with_name(form.name.replace(".schema.json", ".uischema.json")).read_text())
    assert set(ui["ui:order"]) == set(props)
