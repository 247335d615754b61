"""The authoring API: drafts, validate, diff, deploy, migrate, revert; hostile uploads refused.

Every authoring endpoint is 403 for officer, chair, manager and auditor tokens. Each hostile
upload to ``POST /api/v1/workflows`` is a 422 whose message names the problem, and the list of
deployed versions is the same afterwards.
"""
from __future__ import annotations

import io
from typing import Any

import pytest

from disclosure_engine.engine.bundle import bundle_from_path

from .conftest import ROOT, case_body
from .test_endpoints import assert_error

KEY = "s327a_consideration"
CASE_ROLES = ("officer", "chair", "manager", "auditor")


def _files() -> dict[str, bytes]:
    return dict(bundle_from_path(ROOT / "workflows" / f"{KEY}.bpmn").files)


def _versions(client: Any) -> dict[str, list[int]]:
    return {w["key"]: [v["version"] for v in w["versions"]] for w in client.get("/api/v1/workflows").get_json()}


def _put(client: Any, path: str, body: Any) -> Any:
    return client.open(path, method="PUT", json=body)


def _delete(client: Any, path: str) -> Any:
    return client.open(path, method="DELETE")


def _draft(policy: Any, due: str = "P4D") -> dict[str, Any]:
    """A draft of s327a whose chair sign-off is due in ``due`` instead of P3D."""
    created = policy.post(f"/api/v1/workflows/{KEY}/drafts", json={"note": "chair deadline"})
    assert created.status_code == 201, created.get_json()
    draft = policy.get(created.headers["Location"]).get_json()
    content = draft["content"]
    content[f"{KEY}.bpmn"] = content[f"{KEY}.bpmn"].replace(
        '<spiffworkflow:property name="due_period" value="P3D" />',
        f'<spiffworkflow:property name="due_period" value="{due}" />', 1)
    saved = _put(policy, f"/api/v1/drafts/{draft['id']}", {"files": content})
    assert saved.status_code == 200, saved.get_json()
    return draft


@pytest.mark.parametrize("role", CASE_ROLES)
def test_case_roles_get_403_on_every_authoring_endpoint(clients, role):
    draft = _draft(clients["policy"])
    c, d = clients[role], f"/api/v1/drafts/{draft['id']}"
    calls = [c.post(f"/api/v1/workflows/{KEY}/drafts", json={}), c.get("/api/v1/drafts"), c.get(d),
             _put(c, d, {"files": {"a.bpmn": "x"}}), _delete(c, d), c.post(f"{d}/validate"), c.get(f"{d}/diff"),
             c.post(f"{d}/deploy", json={"note": "x"}), c.get(f"/api/v1/workflows/{KEY}/migrations"),
             c.post(f"/api/v1/workflows/{KEY}/migrations", json={"to": 1, "all_safe": True}),
             c.post("/api/v1/migrations/1/revert"), c.get(f"/api/v1/workflows/{KEY}/migrations/history")]
    for response in calls:
        assert_error(response, 403)
    assert clients["policy"].get(d).status_code == 200  # nothing was deleted


def test_draft_cycle_create_save_validate_diff_deploy_delete(clients):
    policy = clients["policy"]
    draft = _draft(policy)
    d = f"/api/v1/drafts/{draft['id']}"
    listed = policy.get("/api/v1/drafts").get_json()
    assert [x["id"] for x in listed] == [draft["id"]] and listed[0]["base_version"] == 1 and "content" not in listed[0]
    report = policy.post(f"{d}/validate").get_json()
    assert report["ok"] is True and report["problems"] == [] and report["paths"] and all(p["ok"] for p in report["paths"])
    diff = policy.get(f"{d}/diff").get_json()
    assert diff["from"] == 1 and diff["to"] == "draft" and diff["added"] == [] and diff["removed"] == []
    [change] = diff["changed"]
    assert change["id"] == "chair_signoff"
    assert change["changes"]["property.due_period"] == {"from": "P3D", "to": "P4D"}
    assert policy.get(f"{d}/diff?against=1").get_json() == diff
    assert_error(policy.get(f"{d}/diff?against=9"), 404)
    assert_error(policy.get(f"{d}/diff?colour=red"), 422)
    assert_error(policy.post(f"{d}/deploy", json={}), 422)
    assert_error(policy.post(f"{d}/deploy", json={"note": "  "}), 422)
    deployed = policy.post(f"{d}/deploy", json={"note": "Chair sign-off within 4 days"})
    assert deployed.status_code == 201 and deployed.get_json()["version"] == 2
    again = policy.post(f"{d}/deploy", json={"note": "again"})
    assert again.status_code == 201 and again.get_json() == {**deployed.get_json(), "created": False}
    assert _versions(policy)[KEY] == [1, 2]
    assert _delete(policy, d).status_code == 204
    assert_error(policy.get(d), 404)
    assert_error(_delete(policy, d), 404)


def test_an_invalid_draft_is_refused_on_deploy_with_its_problems(clients):
    policy = clients["policy"]
    draft = _draft(policy)
    d = f"/api/v1/drafts/{draft['id']}"
    content = policy.get(d).get_json()["content"]
    content[f"{KEY}.bpmn"] = content[f"{KEY}.bpmn"].replace('name="candidate_role" value="chair"',
                                                            'name="candidate_role" value="wizard"', 1)
    assert _put(policy, d, {"files": content, "note": "broken"}).status_code == 200
    report = policy.post(f"{d}/validate").get_json()
    assert report["ok"] is False and report["paths"] == []
    assert any(p["element_id"] == "chair_signoff" and "wizard" in p["text"] for p in report["problems"])
    err = assert_error(policy.post(f"{d}/deploy", json={"note": "try"}), 422)
    assert any("wizard" in line for line in err["errors"]["files"])
    assert _versions(policy)[KEY] == [1]


def test_draft_input_errors(clients):
    policy = clients["policy"]
    new = policy.post("/api/v1/workflows/disclosure_review/drafts", json={"name": "Disclosure review"})
    assert new.status_code == 201 and new.get_json()["base_version"] is None
    content = policy.get(new.headers["Location"]).get_json()["content"]
    assert 'id="disclosure_review"' in content["disclosure_review.bpmn"]
    assert_error(policy.post("/api/v1/workflows/Bad Key/drafts", json={}), 422)
    assert_error(policy.post(f"/api/v1/workflows/{KEY}/drafts", json={"from_version": 9}), 404)
    assert_error(policy.post(f"/api/v1/workflows/{KEY}/drafts", json={"colour": "red"}), 422)
    assert_error(policy.post(f"/api/v1/workflows/{KEY}/drafts", data="not json", content_type="text/plain"), 400)
    d = new.headers["Location"]
    assert_error(_put(policy, d, {"files": {}}), 422)
    assert_error(_put(policy, d, {"files": {"../etc/passwd": "x"}}), 422)
    assert_error(_put(policy, d, {"note": "no files"}), 422)
    assert_error(_put(policy, "/api/v1/drafts/999999", {"files": {"a.bpmn": "<x/>"}}), 404)


def test_migrate_selected_keeps_deadline_then_revert_and_all_safe(clients, app, db):
    from sqlalchemy import select

    from disclosure_engine.persistence.models import HumanTask

    policy, officer = clients["policy"], clients["officer"]
    case = officer.post("/api/v1/cases", json=case_body()).get_json()
    process_id = case["processes"][0]["id"]
    due = lambda: [t["due_at"] for t in officer.get(f"/api/v1/processes/{process_id}").get_json()["open_tasks"]]  # noqa: E731
    before = due()
    draft = _draft(policy)
    assert policy.post(f"/api/v1/drafts/{draft['id']}/deploy", json={"note": "v2"}).status_code == 201
    plan = policy.get(f"/api/v1/workflows/{KEY}/migrations?to=2").get_json()
    assert plan["to_version"] == 2 and len(plan["to_hash"]) == 64
    [v1] = plan["versions"]
    assert v1["version"] == 1 and v1["safe"] == 1 and v1["instances"][0]["id"] == process_id
    assert v1["instances"][0]["safe"] is True and v1["instances"][0]["reasons"] == []
    assert_error(policy.post(f"/api/v1/workflows/{KEY}/migrations", json={"to": 2}), 422)
    assert_error(policy.post(f"/api/v1/workflows/{KEY}/migrations",
                             json={"to": 2, "all_safe": True, "instances": [process_id]}), 422)
    moved = policy.post(f"/api/v1/workflows/{KEY}/migrations", json={"to": 2, "instances": [process_id, 999999]})
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert [m["id"] for m in body["migrated"]] == [process_id] and body["migrated"][0]["from_version"] == 1
    assert [s["id"] for s in body["skipped"]] == [999999]
    assert due() == before
    assert officer.get(f"/api/v1/processes/{process_id}").get_json()["version"] == 2
    migration_id = body["migrated"][0]["migration_id"]
    reverted = policy.post(f"/api/v1/migrations/{migration_id}/revert")
    assert reverted.status_code == 200 and reverted.get_json()["to_version"] == 1
    assert_error(policy.post(f"/api/v1/migrations/{migration_id}/revert"), 409)
    assert_error(policy.post("/api/v1/migrations/999999/revert"), 404)
    history = policy.get(f"/api/v1/workflows/{KEY}/migrations/history").get_json()
    assert [(h["id"], h["reverts"], h["revertable"]) for h in history][-1] == (migration_id, None, False)
    assert history[0]["reverts"] == migration_id and history[0]["revertable"] is True
    assert_error(policy.get("/api/v1/workflows/nope/migrations/history"), 404)
    all_safe = policy.post(f"/api/v1/workflows/{KEY}/migrations", json={"to": 2, "all_safe": True}).get_json()
    assert [m["id"] for m in all_safe["migrated"]] == [process_id]
    assert policy.get(f"/api/v1/workflows/{KEY}/migrations").get_json()["versions"] == []
    assert_error(policy.get("/api/v1/workflows/nope/migrations"), 404)
    with db.transaction() as session:
        assert [t.due_at.isoformat() for t in session.execute(
            select(HumanTask).where(HumanTask.instance_id == process_id, HumanTask.status == "open")).scalars()]


# -- hostile and broken uploads ---------------------------------------------------------------------

def _bpmn_edit(old: str, new: str) -> dict[str, bytes]:
    files = _files()
    text = files[f"{KEY}.bpmn"].decode()
    assert old in text, old
    files[f"{KEY}.bpmn"] = text.replace(old, new, 1).encode()
    return files


XXE = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
       '<bpmn:process id="xxe_test" name="&xxe;" isExecutable="true"/></bpmn:definitions>')
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
          + ']>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
          '<bpmn:process id="lol_test" name="&lol9;" isExecutable="true"/></bpmn:definitions>')


def _hostile() -> dict[str, tuple[dict[str, bytes], str]]:
    """name -> (files, a word the refusal must contain)."""
    files = _files()
    oversize = dict(files)
    oversize[f"{KEY}.bpmn"] = files[f"{KEY}.bpmn"] + b"<!--" + b"x" * (2 * 1024 * 1024) + b"-->"
    no_form = {n: c for n, c in files.items() if n != f"{KEY}--chair_signoff.schema.json"}
    return {
        "xxe": ({"xxe_test.bpmn": XXE.encode()}, "DOCTYPE"),
        "billion laughs": ({"lol_test.bpmn": LAUGHS.encode()}, "DOCTYPE"),
        "import os": (_bpmn_edit('chair_outcome == "returned"', '__import__("os").system("id") == 0'), "__import__"),
        "import os script": (_bpmn_edit('<bpmn:userTask id="chair_signoff"', '<bpmn:scriptTask id="evil" name="Evil">'
                                        '<bpmn:script>import os\nos.system("id")</bpmn:script></bpmn:scriptTask>'
                                        '<bpmn:userTask id="chair_signoff"'), "import"),
        "dunder class": (_bpmn_edit('chair_outcome == "returned"', "().__class__.__bases__[0] == 1"), "__class__"),
        "unquoted timer": (_bpmn_edit('>(parse_date(representations_requested_on) + timedelta(days=28)).isoformat() + '
                                      '"T23:59:59+00:00"<', ">P28D<"), "must be a quoted string"),
        "missing form": (no_form, "chair_signoff.schema.json"),
        "unknown role": (_bpmn_edit('name="candidate_role" value="chair"', 'name="candidate_role" value="wizard"'), "wizard"),
        "oversize": (oversize, "larger than"),
    }


@pytest.mark.parametrize("name", list(_hostile()))
def test_hostile_upload_is_refused_with_a_named_problem_and_nothing_deployed(clients, name):
    policy = clients["policy"]
    files, word = _hostile()[name]
    before = _versions(policy)
    response = policy.post("/api/v1/workflows", data={"files": [(io.BytesIO(c), n) for n, c in files.items()],
                                                      "note": name}, content_type="multipart/form-data")
    err = assert_error(response, 422)
    lines = err["errors"]["files"]
    assert any(word in line for line in lines), (name, lines)
    assert all(":" in line for line in lines)
    assert _versions(policy) == before


def test_a_valid_upload_still_deploys(clients):
    files = _bpmn_edit('name="due_period" value="P3D"', 'name="due_period" value="P4D"')
    response = clients["policy"].post("/api/v1/workflows", data={
        "files": [(io.BytesIO(c), n) for n, c in files.items()], "note": "valid"}, content_type="multipart/form-data")
    assert response.status_code == 201 and response.get_json()["version"] == 2



def test_a_default_cancel_activity_dropped_by_the_modeler_is_not_a_change(clients):
    """bpmn-js does not write BPMN defaults (cancelActivity="true") when it saves a diagram."""
    policy = clients["policy"]
    created = policy.post(f"/api/v1/workflows/{KEY}/drafts", json={}).get_json()
    d = f"/api/v1/drafts/{created['id']}"
    content = policy.get(d).get_json()["content"]
    assert ' cancelActivity="true"' in content[f"{KEY}.bpmn"]
    content[f"{KEY}.bpmn"] = content[f"{KEY}.bpmn"].replace(' cancelActivity="true"', "")
    assert _put(policy, d, {"files": content}).status_code == 200
    diff = policy.get(f"{d}/diff").get_json()
    assert diff["changed"] == [] and diff["files"]["changed"] == [f"{KEY}.bpmn"]
