"""Policy reviewers see exactly what a new version changes before it goes live."""
from __future__ import annotations

import json
from pathlib import Path

from disclosure_engine.engine.bundle import bundle_from_files, bundle_from_path
from disclosure_engine.engine.spec_diff import diff_bundles

ROOT = Path(__file__).resolve().parents[3]
S327A = ROOT / "workflows" / "s327a_consideration.bpmn"


def _variant(edit_bpmn=None, edit_forms=None):
    base = bundle_from_path(S327A)
    files = dict(base.files)
    if edit_bpmn:
        files[base.primary] = edit_bpmn(files[base.primary].decode()).encode()
    for name, edit in (edit_forms or {}).items():
        files[name] = json.dumps(edit(json.loads(files[name]))).encode()
    return base, bundle_from_files(files)


def test_identical_versions_have_no_diff():
    base, same = _variant()
    assert diff_bundles(base, same).empty


def test_a_changed_due_period_is_named_on_its_task():
    old, new = _variant(lambda x: x.replace('name="due_period" value="P3D"', 'name="due_period" value="P5D"', 1))
    (change,) = diff_bundles(old, new).elements
    assert change.element_id == "chair_signoff" and change.change == "changed"
    assert [(f.field, f.old, f.new) for f in change.fields] == [("property.due_period", "P3D", "P5D")]


def test_a_changed_condition_and_a_renamed_task():
    old, new = _variant(lambda x: x.replace('value="P28D"', 'value="P21D"')
                        .replace('name="Record the offender\'s representations"', 'name="Record representations"'))
    diff = diff_bundles(old, new)
    rec = next(e for e in diff.elements if e.element_id == "record_representations")
    assert {f.field for f in rec.fields} >= {"name"}


def test_added_and_removed_elements_and_form_fields():
    def add_task(xml: str) -> str:
        return xml.replace("</bpmn:process>", '<bpmn:manualTask id="brief_chair" name="Brief the chair" /></bpmn:process>', 1)

    def add_field(schema):
        schema["properties"]["meeting_reference"] = {"type": "string", "title": "Meeting reference"}
        return schema

    old, new = _variant(add_task, {"s327a_consideration--decide.schema.json": add_field})
    diff = diff_bundles(old, new).to_dict()
    assert {"element_id": "brief_chair", "kind": "manualTask", "name": "Brief the chair",
            "change": "added", "fields": []} in diff["elements"]
    assert diff["forms"]["s327a_consideration--decide.schema.json"]["added"] == ["meeting_reference"]
    removed = diff_bundles(new, old).to_dict()
    assert any(e["element_id"] == "brief_chair" and e["change"] == "removed" for e in removed["elements"])


def test_diagram_moves_are_layout_changes_not_element_changes():
    def move(xml: str) -> str:
        i = xml.index('bpmnElement="identify_children"')
        j = xml.index('x="', i)
        k = xml.index('"', j + 3)
        return xml[:j] + 'x="' + str(float(xml[j + 3:k]) + 40) + xml[k:]

    old, new = _variant(move)
    diff = diff_bundles(old, new)
    assert diff.elements == [] and diff.layout_changed == ["identify_children"]
