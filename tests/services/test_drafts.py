"""Policy teams edit a draft, validate it against lint and the BPMN unit tests, then deploy."""
from __future__ import annotations

import pytest

from disclosure_engine.domain.errors import Forbidden, ValidationFailed
from disclosure_engine.services import drafts
from disclosure_engine.services.workflows import deploy_shipped, list_definitions

from .helpers import make_actor

XXE = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')


@pytest.fixture()
def policy(db, settings):
    deploy_shipped(db, settings)
    return make_actor(db, "policy.lead", "policy", area=None)


def _versions(db, key="s327a_consideration"):
    return [d["version"] for d in list_definitions(db) if d["key"] == key]


def test_change_a_due_period_validate_diff_and_deploy(db, settings, policy):
    draft = drafts.create_draft(db, policy, "s327a_consideration")
    assert draft["base_version"] == 1
    files = drafts.get_draft(db, policy, draft["id"])["content"]
    bpmn = "s327a_consideration.bpmn"
    files[bpmn] = files[bpmn].replace('name="due_period" value="P3D"', 'name="due_period" value="P4D"', 1)
    drafts.save_draft(db, policy, draft["id"], files)
    report = drafts.validate_draft(db, policy, draft["id"], settings)
    assert report["problems"] == [] and report["ok"]
    assert len(report["paths"]) >= 10 and all(p["ok"] for p in report["paths"])
    diff = drafts.diff_draft(db, policy, draft["id"])
    (change,) = diff["elements"]
    assert change["element_id"] == "chair_signoff"
    assert change["fields"] == [{"field": "property.due_period", "old": "P3D", "new": "P4D"}]
    with pytest.raises(ValidationFailed):
        drafts.deploy_draft(db, policy, draft["id"], settings, note=" ")
    result = drafts.deploy_draft(db, policy, draft["id"], settings, note="Chair sign-off within 4 days")
    assert (result.key, result.version, result.created) == ("s327a_consideration", 2, True)


def test_a_draft_that_breaks_a_path_test_cannot_deploy(db, settings, policy):
    draft = drafts.create_draft(db, policy, "s327a_consideration")
    files = drafts.get_draft(db, policy, draft["id"])["content"]
    bpmn = "s327a_consideration.bpmn"
    shorter = files[bpmn].replace("timedelta(days=28)", "timedelta(days=7)")  # the lapse path waits 27 days
    assert shorter != files[bpmn]
    files[bpmn] = shorter
    drafts.save_draft(db, policy, draft["id"], files)
    report = drafts.validate_draft(db, policy, draft["id"], settings)
    assert not report["ok"] and any(not p["ok"] for p in report["paths"])
    with pytest.raises(ValidationFailed) as refused:
        drafts.deploy_draft(db, policy, draft["id"], settings, note="shorter window")
    assert any("path" in m for m in refused.value.errors["files"])
    assert _versions(db) == [1]


def test_hostile_content_is_reported_and_never_deployed(db, settings, policy):
    draft = drafts.create_draft(db, policy, "s327a_consideration")
    files = drafts.get_draft(db, policy, draft["id"])["content"]
    files["s327a_consideration.bpmn"] = XXE
    drafts.save_draft(db, policy, draft["id"], files)
    report = drafts.validate_draft(db, policy, draft["id"], settings)
    assert not report["ok"] and report["problems"]
    assert any("DTD" in p["message"] or "DOCTYPE" in p["message"] or "entit" in p["message"].lower()
               for p in report["problems"])
    with pytest.raises(ValidationFailed):
        drafts.deploy_draft(db, policy, draft["id"], settings, note="hostile")
    assert _versions(db) == [1]


def test_a_new_workflow_from_the_template_is_valid(db, settings, policy):
    draft = drafts.create_draft(db, policy, "area_briefing", name="Area briefing")
    assert draft["base_version"] is None and draft["files"] == [
        "area_briefing--first_step.schema.json", "area_briefing.bpmn"]
    report = drafts.validate_draft(db, policy, draft["id"], settings)
    assert report["ok"], report
    assert drafts.deploy_draft(db, policy, draft["id"], settings, note="new").version == 1


def test_bad_file_names_and_keys_are_field_errors(db, policy):
    with pytest.raises(ValidationFailed) as bad_key:
        drafts.create_draft(db, policy, "Bad Key!")
    assert "key" in bad_key.value.errors
    draft = drafts.create_draft(db, policy, "s327a_consideration")
    with pytest.raises(ValidationFailed) as bad_name:
        drafts.save_draft(db, policy, draft["id"], {"../etc/passwd": "x"})
    assert any(k.startswith("files.") for k in bad_name.value.errors)


def test_only_policy_and_admin_may_author(db, policy):
    officer = make_actor(db, "officer.kent", "officer")
    with pytest.raises(Forbidden):
        drafts.create_draft(db, officer, "s327a_consideration")
    with pytest.raises(Forbidden):
        drafts.list_drafts(db, officer)
