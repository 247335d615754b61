"""Policy authoring pages: drafts, editor JSON endpoints, forms preview, diff, deploy, migration.

Every page and endpoint of the ``authoring`` blueprint answers 403 to an officer, chair,
manager and auditor (checked one by one, with a valid CSRF token so the 403 is the role
check and not the CSRF check); the policy lead can do the whole cycle.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from disclosure_engine.persistence.models import HumanTask
from disclosure_engine.services import drafts as draft_service
from disclosure_engine.services import migration as migration_service
from tests.web.conftest import actor, csrf_token
from web.ui.auth import PAGE_ROLES

KEY = "s327a_consideration"
CASE_ROLE_USERS = ("officer.kent", "chair.kent", "manager.kent", "auditor")


def _html(response: Any) -> str:
    return response.get_data(as_text=True)


def _draft_with_due_period(db: Any, period: str = "P4D") -> dict[str, Any]:
    policy = actor(db, "policy.lead")
    draft = draft_service.create_draft(db, policy, KEY)
    content = draft_service.get_draft(db, policy, draft["id"])["content"]
    bpmn = content[f"{KEY}.bpmn"]
    changed = bpmn.replace('<spiffworkflow:property name="due_period" value="P3D" />',
                           f'<spiffworkflow:property name="due_period" value="{period}" />', 1)
    assert changed != bpmn
    draft_service.save_draft(db, policy, draft["id"], {**content, f"{KEY}.bpmn": changed})
    return draft


@pytest.fixture()
def migrated(world: dict[str, Any], make_case: Any) -> dict[str, Any]:
    """A case on version 1, version 2 deployed from a draft, the case migrated (for revert)."""
    db, settings = world["db"], world["settings"]
    case = make_case()
    draft = _draft_with_due_period(db)
    draft_service.deploy_draft(db, actor(db, "policy.lead"), draft["id"], settings, note="4 days")
    done = migration_service.migrate_instances(db, actor(db, "policy.lead"), KEY, 2,
                                               instance_ids=[case["processes"][0]["id"]])
    return {"draft": draft, "case": case, "migration_id": done["migrated"][0]["migration_id"]}


def _requests(draft_id: int, migration_id: int) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every authoring endpoint."""
    d = f"/workflows/drafts/{draft_id}"
    return [("edit", "POST", f"/workflows/{KEY}/edit"), ("new_workflow", "GET", "/workflows/new"),
            ("new_workflow", "POST", "/workflows/new"), ("drafts", "GET", "/workflows/drafts"),
            ("delete", "POST", f"{d}/delete"), ("editor", "GET", d), ("diagram", "GET", f"{d}/diagram.bpmn"),
            ("save", "POST", f"{d}/save"), ("validate", "POST", f"{d}/validate"), ("forms", "GET", f"{d}/forms"),
            ("forms", "POST", f"{d}/forms"), ("diff", "GET", f"{d}/diff"),
            ("compare", "GET", f"/workflows/{KEY}/compare?from=1&to=2"), ("deploy", "GET", f"{d}/deploy"),
            ("deploy", "POST", f"{d}/deploy"), ("migrations", "GET", f"/workflows/{KEY}/migrations"),
            ("migrations", "POST", f"/workflows/{KEY}/migrations"),
            ("revert", "POST", f"/workflows/migrations/{migration_id}/revert")]


def test_every_authoring_endpoint_is_policy_only_in_page_roles(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("authoring.")}
    assert len(endpoints) == 14
    for endpoint in endpoints:
        assert set(PAGE_ROLES[endpoint]) == {"policy", "admin"}, endpoint
    assert {f"authoring.{e}" for e, _, _ in _requests(1, 1)} == endpoints


@pytest.mark.parametrize("username", CASE_ROLE_USERS)
def test_case_roles_get_403_on_every_authoring_page_and_endpoint(signed_in, migrated, username):
    c = signed_in(username)
    token = csrf_token(c, "/workflows")
    for endpoint, method, path in _requests(migrated["draft"]["id"], migrated["migration_id"]):
        if method == "GET":
            response = c.get(path)
        else:
            response = c.post(path, data={"csrf_token": token, "note": "x", "key": "k", "name": "n"},
                              headers={"X-CSRFToken": token})
        assert response.status_code == 403, (username, endpoint, method, path, response.status_code)
    assert "Edit" not in _html(c.get("/workflows")).split("Deployed workflows")[1].split("<table")[0]


def test_edit_opens_the_editor_with_the_modeler_csp_only_there(signed_in):
    c = signed_in("policy.lead")
    token = csrf_token(c, "/workflows")
    response = c.post(f"/workflows/{KEY}/edit", data={"csrf_token": token})
    assert response.status_code == 302
    editor = c.get(response.headers["Location"])
    html = _html(editor)
    assert editor.status_code == 200 and 'id="canvas"' in html and "/static/build/authoring/modeler.js" in html
    config = json.loads(re.search(r'data-config="([^"]+)"', html).group(1).replace("&#34;", '"'))
    assert config["primary"] == f"{KEY}.bpmn" and "policy" in config["roles"]
    assert any(f.endswith("chair_signoff.schema.json") for f in config["forms"])
    assert "style-src-attr 'unsafe-hashes'" in editor.headers["Content-Security-Policy"]
    inline = [tag for tag in re.findall(r"<script[^>]*>", html) if "src=" not in tag]
    assert len(inline) == 1 and "nonce=" in inline[0]  # only GOV.UK's body-class snippet, with the nonce
    assert "style-src-attr" not in c.get("/workflows").headers["Content-Security-Policy"]
    xml = c.get(config["diagramUrl"])
    assert xml.mimetype == "application/xml" and b'id="chair_signoff"' in xml.data
    assert "Draft " in _html(c.get("/workflows/drafts"))


def test_save_and_validate_from_the_editor(signed_in, world):
    c = signed_in("policy.lead")
    draft = draft_service.create_draft(world["db"], actor(world["db"], "policy.lead"), KEY)
    base = f"/workflows/drafts/{draft['id']}"
    token = csrf_token(c, base)
    xml = c.get(f"{base}/diagram.bpmn").get_data(as_text=True).replace(
        'name="due_period" value="P3D"', 'name="due_period" value="P4D"', 1)
    assert c.post(f"{base}/save", json={"bpmn": xml}).status_code == 400  # no CSRF header
    saved = c.post(f"{base}/save", json={"bpmn": xml}, headers={"X-CSRFToken": token})
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    assert 'value="P4D"' in c.get(f"{base}/diagram.bpmn").get_data(as_text=True)
    report = c.post(f"{base}/validate", headers={"X-CSRFToken": token}).get_json()
    assert report["ok"] is True and report["problems"] == [] and report["paths"]
    assert all(p["ok"] for p in report["paths"])
    broken = xml.replace('name="escalate_to_role" value="manager"', 'name="escalate_to_role" value="wizard"', 1)
    c.post(f"{base}/save", json={"bpmn": broken}, headers={"X-CSRFToken": token})
    report = c.post(f"{base}/validate", headers={"X-CSRFToken": token}).get_json()
    assert report["ok"] is False and any("wizard" in p["message"] and p["element_id"] for p in report["problems"])
    assert c.post(f"{base}/save", json={"nope": 1}, headers={"X-CSRFToken": token}).status_code == 400


def test_forms_page_previews_as_officers_see_it_and_saves(signed_in, world):
    c = signed_in("policy.lead")
    draft = draft_service.create_draft(world["db"], actor(world["db"], "policy.lead"), KEY)
    base = f"/workflows/drafts/{draft['id']}/forms"
    name = f"{KEY}--chair_signoff.schema.json"
    page = _html(c.get(f"{base}?file={name}"))
    assert 'for="schema"' in page and "Preview: the form as officers see it" in page and "govuk-radios" in page
    token = csrf_token(c, base)
    bad = c.post(base, data={"csrf_token": token, "file": name, "_action": "preview", "schema": "{nope", "uischema": ""})
    assert bad.status_code == 422 and "not valid JSON" in _html(bad)
    schema = {"title": "Brief the chair", "type": "object",
              "properties": {"briefing_reasons": {"type": "string", "title": "What the chair was told"}}}
    preview = c.post(base, data={"csrf_token": token, "file": name, "_action": "preview",
                                 "schema": json.dumps(schema), "uischema": ""})
    assert preview.status_code == 200 and "What the chair was told" in _html(preview)
    assert "What the chair was told" not in draft_service.get_draft(
        world["db"], actor(world["db"], "policy.lead"), draft["id"])["content"][name]
    saved = c.post(base, data={"csrf_token": token, "file": name, "_action": "save",
                               "schema": json.dumps(schema), "uischema": "{}"})
    assert saved.status_code == 302
    content = draft_service.get_draft(world["db"], actor(world["db"], "policy.lead"), draft["id"])["content"]
    assert json.loads(content[name])["title"] == "Brief the chair"
    added = c.post(base, data={"csrf_token": token, "_action": "add", "new_file": f"{KEY}--brief.schema.json"})
    assert added.status_code == 302 and "brief.schema.json" in added.headers["Location"]
    bad_name = c.post(base, data={"csrf_token": token, "_action": "add", "new_file": "../x.json"})
    assert bad_name.status_code == 422


def test_diff_page_lists_the_changed_property_and_feeds_the_visual_diff(signed_in, world):
    c = signed_in("policy.lead")
    draft = _draft_with_due_period(world["db"])
    html = _html(c.get(f"/workflows/drafts/{draft['id']}/diff"))
    assert "property.due_period" in html and "P3D" in html and "P4D" in html
    assert 'data-element-id="chair_signoff"' in html and "/static/build/authoring/differ.js" in html
    config = json.loads(re.search(r'data-config="([^"]+)"', html).group(1).replace("&#34;", '"'))
    assert config["marks"]["changed"] == ["chair_signoff"]
    assert config["oldUrl"].endswith("/versions/1/diagram.bpmn")


def test_deploy_needs_a_note_and_a_valid_draft_then_migrate_and_revert(signed_in, world, make_case):
    db = world["db"]
    c = signed_in("policy.lead")
    case = make_case()
    process_id = case["processes"][0]["id"]
    with db.transaction() as session:
        due_before = session.execute(select(HumanTask.due_at).where(HumanTask.instance_id == process_id)).scalar_one()
    draft = _draft_with_due_period(db)
    base = f"/workflows/drafts/{draft['id']}/deploy"
    token = csrf_token(c, base)
    assert "Validation passed" in _html(c.get(base))
    no_note = c.post(base, data={"csrf_token": token, "note": " "})
    assert no_note.status_code == 422 and "Enter a note" in _html(no_note)
    done = c.post(base, data={"csrf_token": token, "note": "Chair sign-off within 4 days"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/workflows/{KEY}/migrations")
    page = _html(c.get(done.headers["Location"]))
    assert "Version 2 of s327a_consideration deployed" in page
    assert f'data-process-id="{process_id}"' in page and "Safe" in page
    empty = c.post(f"/workflows/{KEY}/migrations", data={"csrf_token": token, "_action": "selected"})
    assert empty.status_code == 422
    moved = c.post(f"/workflows/{KEY}/migrations", data={"csrf_token": token, "_action": "selected",
                                                        "instances": str(process_id), "to": "2"})
    html = _html(moved)
    assert moved.status_code == 200 and "1 migrated to version 2" in html
    with db.transaction() as session:
        assert session.execute(select(HumanTask.due_at).where(HumanTask.instance_id == process_id)).scalar_one() == due_before
    migration_id = int(re.search(r"/workflows/migrations/(\d+)/revert", html).group(1))
    listed = _html(c.get(f"/workflows/{KEY}/migrations"))
    assert "Past migrations" in listed and f'data-migration-id="{migration_id}"' in listed
    assert f"/workflows/migrations/{migration_id}/revert" in listed, "revert is offered from the history"
    back = c.post(f"/workflows/migrations/{migration_id}/revert", data={"csrf_token": token, "key": KEY})
    back_page = _html(c.get(back.headers["Location"]))
    assert back.status_code == 302 and "reverted" in back_page
    assert f"reverted migration {migration_id}" in back_page and "Moved on since" in back_page
    again = c.post(f"/workflows/{KEY}/migrations", data={"csrf_token": token, "_action": "all_safe"})
    assert "1 migrated to version 2" in _html(again)
    compare = _html(c.get(f"/workflows/{KEY}/compare?from=1&to=2"))
    assert "property.due_period" in compare
    assert "What changed" in _html(c.get("/workflows"))


def test_an_invalid_draft_cannot_be_deployed(signed_in, world):
    db = world["db"]
    c = signed_in("policy.lead")
    policy = actor(db, "policy.lead")
    draft = draft_service.create_draft(db, policy, KEY)
    content = draft_service.get_draft(db, policy, draft["id"])["content"]
    content[f"{KEY}.bpmn"] = content[f"{KEY}.bpmn"].replace('value="chair"', 'value="wizard"', 1)
    draft_service.save_draft(db, policy, draft["id"], content)
    base = f"/workflows/drafts/{draft['id']}/deploy"
    page = _html(c.get(base))
    assert "cannot be deployed yet" in page and "wizard" in page and 'name="note"' not in page
    token = csrf_token(c, f"/workflows/drafts/{draft['id']}")
    refused = c.post(base, data={"csrf_token": token, "note": "try anyway"})
    assert refused.status_code == 422 and "cannot be deployed" in _html(refused)
    assert [v for v in (1, 2) if f"/workflows/{KEY}/versions/{v}" in _html(c.get("/workflows"))] == [1]


def test_new_workflow_from_the_starter_template(signed_in):
    c = signed_in("policy.lead")
    token = csrf_token(c, "/workflows/new")
    missing = c.post("/workflows/new", data={"csrf_token": token, "key": "", "name": ""})
    assert missing.status_code == 422 and "Enter a key" in _html(missing)
    taken = c.post("/workflows/new", data={"csrf_token": token, "key": KEY, "name": "x"})
    assert taken.status_code == 422 and "already deployed" in _html(taken)
    bad = c.post("/workflows/new", data={"csrf_token": token, "key": "Bad Key", "name": "x"})
    assert bad.status_code == 422
    made = c.post("/workflows/new", data={"csrf_token": token, "key": "disclosure_review", "name": "Review"})
    assert made.status_code == 302
    xml = c.get(made.headers["Location"] + "/diagram.bpmn").get_data(as_text=True)
    assert 'id="disclosure_review"' in xml and 'name="Review"' in xml
    draft_id = int(made.headers["Location"].rsplit("/", 1)[1])
    report = c.post(f"/workflows/drafts/{draft_id}/validate", headers={"X-CSRFToken": token}).get_json()
    assert report["ok"] is True, report
    assert c.post(f"/workflows/drafts/{draft_id}/delete", data={"csrf_token": token}).status_code == 302
    assert c.get(f"/workflows/drafts/{draft_id}").status_code == 404
