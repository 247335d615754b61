"""Every /api/v1 endpoint: success shapes (design brief section 3) and 401/403/404/409/422 paths."""
from __future__ import annotations

import io
from typing import Any

from disclosure_engine.domain.vocabulary import DECISION_FIELDS

from .conftest import ROOT, case_body, open_task, path_steps

CASE_KEYS = {"id", "reference", "area", "category", "level", "lead_agency", "offender", "convictions",
             "child_sex_offender", "schedule_34a_matches", "processes"}
TASK_KEYS = {"id", "case_id", "process_id", "workflow", "element_id", "name", "candidate_role", "area",
             "assignee", "status", "due_at", "overdue", "escalation_level"}
DECISION_KEYS = {"id", "case_id", "process_id", "version", "supersedes", "decided_by", "decided_at"}


def assert_error(resp, status):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"message", "errors"} and isinstance(body["message"], str)
    assert isinstance(body["errors"], dict)
    return body


# -- authentication -----------------------------------------------------------------------------

def test_missing_unknown_and_malformed_tokens_are_401_with_www_authenticate(clients, app, db):
    from disclosure_engine.domain.roles import SYSTEM
    from disclosure_engine.services import audit

    anon = clients["anonymous"]
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer de_not-a-real-token"}, {"Authorization": "Bearer " + "x" * 5000}):
        resp = anon.get("/api/v1/cases", headers=headers)
        body = assert_error(resp, 401)
        assert body["errors"] == {}
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    rejected = audit.list_events(db, SYSTEM, action="auth.token_rejected")
    assert rejected and all("de_not-a-r" in e["subject_id"] or e["subject_id"] for e in rejected)
    assert not any("not-a-real-token" in e["subject_id"] for e in rejected)


def test_revoked_token_is_401(clients, db, tokens):
    from sqlalchemy import update

    from disclosure_engine.persistence.models import ApiToken, utcnow

    assert clients["officer"].get("/api/v1/areas").status_code == 200
    with db.transaction() as s:
        s.execute(update(ApiToken).values(revoked_at=utcnow()))
    assert_error(clients["officer"].get("/api/v1/areas"), 401)



def test_bad_tokens_from_one_address_are_429_with_retry_after_once_over_the_limit(clients, app, db):
    from dataclasses import replace

    from disclosure_engine.domain.roles import SYSTEM
    from disclosure_engine.services import audit

    app.config["SETTINGS"] = replace(app.config["SETTINGS"], sign_in_source_limit=3)
    anon, bad = clients["anonymous"], {"Authorization": "Bearer de_not-a-real-token"}
    for _ in range(3):
        assert_error(anon.get("/api/v1/cases", headers=bad), 401)
    resp = anon.get("/api/v1/cases", headers=bad)
    body = assert_error(resp, 429)
    assert body == {"message": "Too many requests with a bad bearer token from your network. "
                               "Try again in 15 minutes.", "errors": {}}
    assert 14 * 60 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert_error(anon.get("/api/v1/areas", headers=bad), 429)
    assert len(audit.list_events(db, SYSTEM, action="auth.token_rejected")) == 3, "refused ones are not audited"
    [throttled] = audit.list_events(db, SYSTEM, action="auth.source_throttled")
    assert throttled["detail"]["kind"] == "token" and throttled["detail"]["failures"] == 3
    assert clients["officer"].get("/api/v1/areas").status_code == 200, "a valid token always works"
    assert_error(anon.get("/api/v1/cases", headers=bad, environ_base={"REMOTE_ADDR": "198.51.100.4"}), 401)


def test_the_openapi_document_gives_every_authenticated_operation_a_429_with_retry_after(app):
    from web.api import openapi_document

    with app.app_context():
        doc = openapi_document(app)
    operations = [op for methods in doc["paths"].values() for op in methods.values()
                  if isinstance(op, dict) and "401" in op.get("responses", {})]
    assert operations and all(op["responses"]["429"] == {"$ref": "#/components/responses/TOO_MANY_REQUESTS"}
                              for op in operations)
    assert "Retry-After" in doc["components"]["responses"]["TOO_MANY_REQUESTS"]["headers"]

# -- areas ----------------------------------------------------------------------------------------

def test_areas_lists_the_42_slugs(officer):
    body = officer.get("/api/v1/areas").get_json()
    assert len(body) == 42
    assert {"slug": "kent", "name": "Kent"} in body and {"slug": "avon-and-somerset", "name": "Avon and Somerset"} in body


# -- cases ----------------------------------------------------------------------------------------

def test_create_case_returns_the_contract_shape_and_starts_the_consideration(officer, kent_case):
    assert CASE_KEYS <= set(kent_case)
    assert kent_case["child_sex_offender"] is True and kent_case["schedule_34a_matches"]
    assert kent_case["offender"] == {"visor_ref": "VS1234567", "pnc_ref": "19/123456A"}
    assert kent_case["convictions"][0]["section"] == "9"
    [proc] = kent_case["processes"]
    assert proc["workflow"] == "s327a_consideration" and proc["status"] == "waiting"
    got = officer.get(f"/api/v1/cases/{kent_case['id']}")
    assert got.status_code == 200 and got.get_json()["reference"] == "KNT-2026-000001"


def test_create_case_location_header(officer):
    resp = officer.post("/api/v1/cases", json=case_body("KNT-2026-000009"))
    assert resp.headers["Location"].endswith(f"/api/v1/cases/{resp.get_json()['id']}")


def test_create_case_field_errors_are_dotted_paths(officer):
    body = case_body()
    body["convictions"][0]["date"] = "2019-02-30"
    body["category"] = 7
    body["colour"] = "blue"
    err = assert_error(officer.post("/api/v1/cases", json=body), 422)
    assert set(err["errors"]) >= {"convictions.0.date", "category", "colour"}
    assert all(isinstance(m, list) and m for m in err["errors"].values())


def test_create_case_duplicate_reference_is_409(officer, kent_case):
    assert_error(officer.post("/api/v1/cases", json=case_body()), 409)


def test_create_case_malformed_bodies_are_400_or_422_never_500(officer):
    assert_error(officer.post("/api/v1/cases", data="{not json", content_type="application/json"), 400)
    assert_error(officer.post("/api/v1/cases", data="reference=x", content_type="application/x-www-form-urlencoded"), 400)
    assert_error(officer.post("/api/v1/cases", json=[1, 2]), 422)
    assert_error(officer.post("/api/v1/cases", json="text"), 422)
    assert_error(officer.post("/api/v1/cases"), 422)


def test_create_case_in_another_area_is_403_and_policy_may_not(clients):
    assert_error(clients["officer"].post("/api/v1/cases", json=case_body("ESX-1", "essex")), 403)
    assert_error(clients["policy"].post("/api/v1/cases", json=case_body("KNT-9")), 403)


def test_list_cases_is_paginated_filtered_and_area_scoped(clients, kent_case, essex_case):
    body = clients["officer"].get("/api/v1/cases").get_json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert [c["reference"] for c in body["items"]] == ["KNT-2026-000001"] and body["total"] == 1
    national = clients["auditor"].get("/api/v1/cases?area=essex").get_json()
    assert [c["reference"] for c in national["items"]] == ["ESX-2026-000001"]
    assert clients["auditor"].get("/api/v1/cases?reference=KNT-2026-000001").get_json()["total"] == 1
    assert clients["auditor"].get("/api/v1/cases?limit=1&offset=1").get_json()["items"][0]["reference"] == "KNT-2026-000001"
    by_visor = clients["auditor"].get(f"/api/v1/cases?visor_ref={kent_case['offender']['visor_ref']}").get_json()
    assert "KNT-2026-000001" in [c["reference"] for c in by_visor["items"]]
    assert clients["officer"].get("/api/v1/cases?visor_ref=VS0000000").get_json()["total"] == 0
    assert_error(clients["officer"].get("/api/v1/cases?area=atlantis"), 422)
    assert_error(clients["officer"].get("/api/v1/cases?limit=0"), 422)
    assert_error(clients["officer"].get("/api/v1/cases?bogus=1"), 422)


def test_area_isolation_kent_officer_gets_404_for_essex(clients, essex_case):
    kent = clients["officer"]
    assert_error(kent.get(f"/api/v1/cases/{essex_case['id']}"), 404)
    process_id = essex_case["processes"][0]["id"]
    assert_error(kent.get(f"/api/v1/processes/{process_id}"), 404)
    task = open_task(clients["essex"], process_id)
    for resp in (kent.get(f"/api/v1/tasks/{task['id']}"), kent.post(f"/api/v1/tasks/{task['id']}/claim"),
                 kent.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}),
                 kent.post(f"/api/v1/cases/{essex_case['id']}/processes", json={"workflow": "disclosure_delivery"})):
        assert_error(resp, 404)
    assert kent.get(f"/api/v1/tasks?scope=all&case_id={essex_case['id']}").get_json()["items"] == []
    assert_error(kent.get("/api/v1/cases/999999"), 404)


def test_policy_role_may_not_read_cases(clients, kent_case):
    assert_error(clients["policy"].get(f"/api/v1/cases/{kent_case['id']}"), 403)
    assert_error(clients["policy"].get("/api/v1/decisions"), 403)


# -- processes ------------------------------------------------------------------------------------

def test_start_process_and_read_it(clients, kent_case):
    officer = clients["officer"]
    resp = officer.post(f"/api/v1/cases/{kent_case['id']}/processes", json={"workflow": "s327a_consideration"})
    assert resp.status_code == 201, resp.get_json()
    proc = resp.get_json()
    assert proc["workflow"] == "s327a_consideration" and proc["version"] == 1 and proc["status"] == "waiting"
    assert proc["open_tasks"] and TASK_KEYS <= set(proc["open_tasks"][0]) and proc["history"] == []
    got = officer.get(f"/api/v1/processes/{proc['id']}").get_json()
    assert got["id"] == proc["id"] and got["case_id"] == kent_case["id"]


def test_every_shipped_workflow_started_as_the_contract_starts_it_is_a_201_or_a_field_error(clients, kent_case):
    """POST {"workflow": KEY} with no start data: never a 500. A CSODS application without its
    route asks the officer for it; a delivery without a decision to disclose is refused."""
    officer = clients["officer"]
    url = f"/api/v1/cases/{kent_case['id']}/processes"
    csods = officer.post(url, json={"workflow": "csods_application"})
    assert csods.status_code == 201, csods.get_json()
    assert [t["element_id"] for t in csods.get_json()["open_tasks"]] == ["record_route"]
    urgent = officer.post(url, json={"workflow": "urgent_disclosure"})
    assert urgent.status_code == 201, urgent.get_json()
    refused = assert_error(officer.post(url, json={"workflow": "disclosure_delivery"}), 422)
    assert "no current decision to disclose" in refused["errors"]["data.decision_id"][0]


def test_start_delivery_needs_a_current_decision_to_disclose_on_this_case(clients, decided):
    officer = clients["officer"]
    url = f"/api/v1/cases/{decided['case']['id']}/processes"
    for bogus in (99999, "abc", None):
        body = assert_error(officer.post(url, json={"workflow": "disclosure_delivery",
                                                    "data": {"decision_id": bogus}}), 422)
        assert list(body["errors"]) == ["data.decision_id"], body
    other = clients["essex"].post("/api/v1/cases", json=case_body("ESX-2026-000009", "essex"))
    assert other.status_code == 201
    essex_url = f"/api/v1/cases/{other.get_json()['id']}/processes"
    refused = assert_error(clients["essex"].post(essex_url, json={"workflow": "disclosure_delivery",
                                                                  "data": {"decision_id": decided["decision_id"]}}), 422)
    assert "not a decision recorded on this case" in refused["errors"]["data.decision_id"][0]
    resp = officer.post(url, json={"workflow": "disclosure_delivery",
                                   "data": {"decision_id": decided["decision_id"], "legal_basis": "s327a"}})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["started_from"] is None and resp.get_json()["handoff_pending"] is False
    consideration = officer.get(f"/api/v1/processes/{decided['result']['process']['id']}").get_json()
    assert (consideration["end_event"], consideration["handoff_pending"]) == ("end_disclose", True)


def test_start_process_errors(clients, kent_case):
    officer = clients["officer"]
    url = f"/api/v1/cases/{kent_case['id']}/processes"
    assert "workflow" in assert_error(officer.post(url, json={"workflow": "nope"}), 422)["errors"]
    assert "version" in assert_error(officer.post(url, json={"workflow": "s327a_consideration", "version": 99}), 422)["errors"]
    assert "workflow" in assert_error(officer.post(url, json={}), 422)["errors"]
    assert "extra" in assert_error(officer.post(url, json={"workflow": "s327a_consideration", "extra": 1}), 422)["errors"]
    assert_error(officer.post("/api/v1/cases/424242/processes", json={"workflow": "s327a_consideration"}), 404)
    assert_error(clients["auditor"].post(url, json={"workflow": "s327a_consideration"}), 403)
    assert_error(officer.get("/api/v1/processes/424242"), 404)


# -- tasks ----------------------------------------------------------------------------------------

def test_inbox_scopes_and_task_detail_with_form(clients, kent_case):
    officer = clients["officer"]
    available = officer.get("/api/v1/tasks?scope=available").get_json()
    assert set(available) == {"items", "total", "limit", "offset"} and available["total"] == 1
    item = available["items"][0]
    assert TASK_KEYS <= set(item) and item["area"] == "kent" and item["assignee"] is None
    assert officer.get("/api/v1/tasks?scope=mine").get_json()["items"] == []
    # no scope is everything I may see: the task a new case opened is found by its case id
    found = officer.get(f"/api/v1/tasks?case_id={kent_case['id']}").get_json()["items"]
    assert [t["id"] for t in found] == [item["id"]]
    blank = officer.get("/api/v1/tasks?case_id=&overdue=&area=").get_json()  # blank filters: none
    assert blank["total"] == 1
    detail = officer.get(f"/api/v1/tasks/{item['id']}").get_json()
    assert TASK_KEYS | {"form", "data"} <= set(detail)
    assert detail["form"]["type"] == "object" and detail["data"] == {}
    assert detail["due_at"] and detail["overdue"] is False and detail["escalation_level"] == 0
    assert officer.get(f"/api/v1/tasks?scope=all&case_id={kent_case['id']}").get_json()["total"] == 1
    assert officer.get("/api/v1/tasks?scope=available&overdue=true").get_json()["total"] == 0
    assert officer.get("/api/v1/tasks?scope=available&status=completed").get_json()["total"] == 0
    assert officer.get("/api/v1/tasks?scope=available&area=essex").get_json()["total"] == 0
    assert_error(officer.get("/api/v1/tasks?scope=everything"), 422)
    assert_error(officer.get("/api/v1/tasks?overdue=maybe"), 422)
    assert_error(officer.get("/api/v1/tasks/987654"), 404)


def test_overdue_view(clients, kent_case, db):
    from datetime import timedelta

    from sqlalchemy import update

    from disclosure_engine.persistence.models import HumanTask, utcnow

    with db.transaction() as s:
        s.execute(update(HumanTask).values(due_at=utcnow() - timedelta(days=2)))
    body = clients["officer"].get("/api/v1/tasks?scope=available&overdue=true").get_json()
    assert body["total"] == 1 and body["items"][0]["overdue"] is True
    assert clients["manager"].get("/api/v1/tasks?scope=all&overdue=true").get_json()["total"] == 1


def test_claim_release_conflicts(clients, kent_case):
    one, two = clients["officer"], clients["officer2"]
    task = open_task(one, kent_case["processes"][0]["id"])
    claimed = one.post(f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "officer.kent"
    assert one.get("/api/v1/tasks?scope=mine").get_json()["total"] == 1
    assert_error(two.post(f"/api/v1/tasks/{task['id']}/claim"), 409)
    assert_error(two.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}), 409)
    assert_error(two.post(f"/api/v1/tasks/{task['id']}/release"), 403)
    assert_error(clients["chair"].post(f"/api/v1/tasks/{task['id']}/claim"), 403)  # not the chair's role
    released = one.post(f"/api/v1/tasks/{task['id']}/release")
    assert released.status_code == 200 and released.get_json()["assignee"] is None
    assert released.get_json()["area"] == "kent"


def test_draft_then_complete_with_field_errors_then_409(clients, kent_case):
    officer = clients["officer"]
    process_id = kent_case["processes"][0]["id"]
    task = open_task(officer, process_id, "identify_children")
    draft = officer.post(f"/api/v1/tasks/{task['id']}/draft", json={"data": {"identification_reasons": "draft"}})
    assert draft.status_code == 200 and draft.get_json()["data"] == {"identification_reasons": "draft"}
    assert officer.get(f"/api/v1/tasks/{task['id']}").get_json()["data"]["identification_reasons"] == "draft"
    err = assert_error(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}), 422)
    assert err["errors"]
    assert_error(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={}), 422)
    assert_error(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": []}), 422)
    assert_error(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}, "x": 1}), 422)
    assert_error(officer.post(f"/api/v1/tasks/{task['id']}/complete", data="{", content_type="application/json"), 400)
    good = path_steps("level 1, presumption applies, disclose")[0]["data"]
    done = officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": good})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["task"]["status"] == "completed" and body["process"]["status"] == "waiting"
    assert body["next_tasks"][0]["name"] and body["decision_id"] is None
    assert_error(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": good}), 409)
    assert_error(officer.post(f"/api/v1/tasks/{task['id']}/claim"), 409)
    assert_error(officer.post(f"/api/v1/tasks/{task['id']}/draft", json={"data": {}}), 409)
    history = officer.get(f"/api/v1/processes/{process_id}").get_json()["history"]
    assert [h["element_id"] for h in history] == ["identify_children"]
    assert history[0]["completed_by"] == "officer.kent"


def _up_to_decide(officer: Any, process_id: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The officer completes every step of a level 1 path before the decision; returns the
    open decision task as the officer sees it."""
    for step in steps[:-1]:
        task = open_task(officer, process_id, step["task"])
        assert officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": step["data"]}).status_code == 200
    return open_task(officer, process_id, "decide")


def test_an_admin_cannot_take_the_decision(clients, kent_case):
    """The level 1 decision step records the decision: an administrator without the manager
    role gets 403 claiming or completing it (releasing and reassigning stay theirs: services)."""
    officer, admin = clients["officer"], clients["admin"]
    process_id = kent_case["processes"][0]["id"]
    steps = path_steps("level 1, presumption applies, disclose")
    decide = _up_to_decide(officer, process_id, steps)
    refused = assert_error(admin.post(f"/api/v1/tasks/{decide['id']}/complete", json={"data": steps[-1]["data"]}), 403)
    assert "records or signs off a decision" in refused["message"]
    assert_error(admin.post(f"/api/v1/tasks/{decide['id']}/claim"), 403)
    assert open_task(officer, process_id, "decide")["assignee"] is None


def test_at_level_1_a_manager_takes_the_decision_not_the_officer(clients, kent_case):
    """Domain: at level 1 the lead agency decides, by an authorised manager. The officer who
    assessed the case sees the decision step but may neither claim nor complete it."""
    officer, manager = clients["officer"], clients["manager"]
    process_id = kent_case["processes"][0]["id"]
    steps = path_steps("level 1, presumption applies, disclose")
    decide = _up_to_decide(officer, process_id, steps)
    assert decide["candidate_role"] == "manager"
    refused = assert_error(officer.post(f"/api/v1/tasks/{decide['id']}/complete", json={"data": steps[-1]["data"]}), 403)
    assert "manager role" in refused["message"]
    assert_error(officer.post(f"/api/v1/tasks/{decide['id']}/claim"), 403)
    available = manager.get("/api/v1/tasks?scope=available").get_json()["items"]
    assert decide["id"] in [t["id"] for t in available]
    done = manager.post(f"/api/v1/tasks/{decide['id']}/complete", json={"data": steps[-1]["data"]})
    assert done.status_code == 200 and done.get_json()["decision_id"]


def test_placeholder_reason_is_a_field_error(clients, kent_case):
    officer = clients["officer"]
    process_id = kent_case["processes"][0]["id"]
    steps = path_steps("level 1, presumption applies, disclose")
    first = open_task(officer, process_id, "identify_children")
    assert officer.post(f"/api/v1/tasks/{first['id']}/complete", json={"data": steps[0]["data"]}).status_code == 200
    task = open_task(officer, process_id, "assess_tests")
    data = {**steps[1]["data"], "serious_harm_reasons": "n/a"}
    err = assert_error(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}), 422)
    assert "serious_harm_reasons" in err["errors"]


# -- decisions ------------------------------------------------------------------------------------

def test_full_path_records_a_decision_in_the_contract_shape(clients, decided):
    officer = clients["officer"]
    decision = officer.get(f"/api/v1/decisions/{decided['decision_id']}").get_json()
    assert DECISION_KEYS | set(DECISION_FIELDS) <= set(decision)
    assert decision["decision"] == "disclose" and decision["legal_basis"] == "s327a"
    assert decision["presumption_applies"] in (True, "yes")
    assert decision["version"] == 1 and decision["supersedes"] is None and decision["decided_by"] == "manager.kent"
    assert decision["case_id"] == decided["case"]["id"] and decision["versions"][0]["version"] == 1
    process = officer.get(f"/api/v1/processes/{decision['process_id']}").get_json()
    assert process["status"] == "completed" and process["open_tasks"] == []


def test_decision_log_filters(clients, decided):
    manager = clients["manager"]
    page = manager.get("/api/v1/decisions").get_json()
    assert set(page) == {"items", "total", "total_capped", "limit", "offset"} and page["total"] == 1
    assert page["total_capped"] is False
    assert DECISION_KEYS <= set(page["items"][0])
    today = page["items"][0]["decided_at"][:10]
    hits = ["area=kent", "outcome=disclose", f"from={today}", f"to={today}", "workflow=s327a_consideration",
            "officer=manager.kent", "presumption_applied=true", "overdue_at_decision=false",
            f"case_id={decided['case']['id']}"]
    for q in hits:
        assert manager.get(f"/api/v1/decisions?{q}").get_json()["total"] == 1, q
    misses = ["area=essex", "outcome=defer", "from=2999-01-01", "to=2000-01-01", "workflow=csods_application",
              "officer=chair.kent", "presumption_applied=false", "overdue_at_decision=true"]
    for q in misses:
        assert manager.get(f"/api/v1/decisions?{q}").get_json()["total"] == 0, q
    assert clients["essex_manager"].get("/api/v1/decisions").get_json()["total"] == 0
    assert clients["auditor"].get("/api/v1/decisions").get_json()["total"] == 1
    assert_error(manager.get("/api/v1/decisions?outcome=maybe"), 422)
    assert "from" in assert_error(manager.get("/api/v1/decisions?from=2026-02-01&to=2026-01-01"), 422)["errors"]
    assert_error(manager.get("/api/v1/decisions?from=yesterday"), 422)
    assert_error(manager.get("/api/v1/decisions?from=2026-01-01T09:00:00"), 422)  # an instant needs its offset
    # blank filters are no filters; instants (ISO 8601 with an offset) bound to the moment
    assert manager.get("/api/v1/decisions?area=&outcome=&from=&to=").get_json()["total"] == 1
    decided_at = page["items"][0]["decided_at"]
    instant = decided_at.replace("+00:00", "Z")
    assert manager.get(f"/api/v1/decisions?from={instant}&to={instant}").get_json()["total"] == 1
    later = "2999-01-01T00:00:00%2B01:00"  # +01:00, escaped as a query string needs it
    assert manager.get(f"/api/v1/decisions?from={later}").get_json()["total"] == 0
    assert manager.get(f"/api/v1/decisions?to={later}").get_json()["total"] == 1


def test_decision_area_isolation(clients, decided):
    assert_error(clients["essex"].get(f"/api/v1/decisions/{decided['decision_id']}"), 404)
    assert_error(clients["essex_manager"].post(f"/api/v1/decisions/{decided['decision_id']}/supersede",
                                               json={"changes": {}, "reason": "A real reason that is long enough to count."}), 404)
    assert_error(clients["manager"].get("/api/v1/decisions/99999"), 404)


def test_supersede_makes_a_new_version(clients, decided):
    manager, url = clients["manager"], f"/api/v1/decisions/{decided['decision_id']}/supersede"
    reason = "The chair recorded the wrong legal basis at the meeting on 3 March."
    assert_error(clients["officer"].post(url, json={"changes": {"legal_basis": "common_law"}, "reason": reason}), 403)
    assert "reason" in assert_error(manager.post(url, json={"changes": {"legal_basis": "common_law"}, "reason": "n/a"}), 422)["errors"]
    assert "colour" in assert_error(manager.post(url, json={"changes": {"colour": "red"}, "reason": reason}), 422)["errors"]
    assert "reason" in assert_error(manager.post(url, json={"changes": {}}), 422)["errors"]
    resp = manager.post(url, json={"changes": {"legal_basis": "common_law"}, "reason": reason})
    assert resp.status_code == 201, resp.get_json()
    new = resp.get_json()
    assert new["version"] == 2 and new["supersedes"] == decided["decision_id"] and new["legal_basis"] == "common_law"
    assert new["supersede_reason"] == reason and new["decided_by"] == "manager.kent"
    assert_error(manager.post(url, json={"changes": {"legal_basis": "csods"}, "reason": reason}), 409)
    log = manager.get("/api/v1/decisions").get_json()
    assert [d["id"] for d in log["items"]] == [new["id"]]
    both = manager.get("/api/v1/decisions?include_superseded=true").get_json()
    assert both["total"] == 2
    assert {d["id"]: d["current"] for d in both["items"]} == {new["id"]: True, decided["decision_id"]: False}


def test_supersede_refuses_a_record_that_breaks_the_statutory_rules(clients, decided):
    """The presumption applies to this record: not disclosing needs the rebuttal and real
    reasons; presumption_applies is derived, never corrected; answers are allowed values.
    422 naming each field, and no new version."""
    manager, url = clients["manager"], f"/api/v1/decisions/{decided['decision_id']}/supersede"
    reason = "The meeting recorded the wrong outcome for this case on 3 March."
    body = assert_error(manager.post(url, json={"changes": {"decision": "do_not_disclose", "decision_reasons": "n/a"},
                                                "reason": reason}), 422)
    assert set(body["errors"]) == {"decision_reasons", "presumption_rebuttal_reasons"}
    body = assert_error(manager.post(url, json={"changes": {"presumption_applies": False, "serious_harm_risk": "banana"},
                                                "reason": reason}), 422)
    assert set(body["errors"]) == {"presumption_applies", "serious_harm_risk"}
    assert manager.get("/api/v1/decisions?include_superseded=true").get_json()["total"] == 1


# -- audit ----------------------------------------------------------------------------------------

def test_audit_list_filters_and_roles(clients, kent_case):
    officer, manager = clients["officer"], clients["manager"]
    officer.get(f"/api/v1/cases/{kent_case['id']}")
    assert_error(officer.get("/api/v1/audit"), 403)
    body = manager.get(f"/api/v1/audit?subject=case:{kent_case['id']}").get_json()
    actions = [e["action"] for e in body["items"]]
    assert "case.viewed" in actions and "case.created" in actions
    assert {"seq", "occurred_at", "actor_name", "action", "subject_type", "subject_id", "hash", "prev_hash"} <= set(body["items"][0])
    same = manager.get(f"/api/v1/audit?subject_type=case&subject_id={kent_case['id']}&action=case.viewed").get_json()
    assert [e["action"] for e in same["items"]] == ["case.viewed"]
    assert clients["essex_manager"].get(f"/api/v1/audit?subject=case:{kent_case['id']}").get_json()["items"] == []
    page = clients["auditor"].get("/api/v1/audit?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next_before"] == page["items"][-1]["seq"]
    nxt = clients["auditor"].get(f"/api/v1/audit?limit=2&before={page['next_before']}").get_json()
    assert nxt["items"][0]["seq"] < page["next_before"]
    assert_error(manager.get("/api/v1/audit?subject=case"), 422)


def test_audit_verify(clients, kent_case, db):
    body = clients["auditor"].get("/api/v1/audit/verify").get_json()
    assert body["ok"] is True and body["count"] > 0 and body["line"] == f"OK {body['count']} events"
    assert_error(clients["officer"].get("/api/v1/audit/verify"), 403)
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 2"))
    broken = clients["auditor"].get("/api/v1/audit/verify").get_json()
    assert broken["ok"] is False and broken["broken_seq"] == 2 and broken["reason"]


# -- workflows ------------------------------------------------------------------------------------

def _bundle(key: str = "s327a_consideration") -> list[tuple[io.BytesIO, str]]:
    from disclosure_engine.engine.bundle import bundle_from_path

    bundle = bundle_from_path(ROOT / "workflows" / f"{key}.bpmn")
    return [(io.BytesIO(content), name) for name, content in bundle.files.items()]


def test_list_workflows_and_read_a_version(officer):
    body = officer.get("/api/v1/workflows").get_json()
    keys = {w["key"] for w in body}
    assert {"s327a_consideration", "disclosure_delivery", "csods_application", "urgent_disclosure"} <= keys
    s327a = next(w for w in body if w["key"] == "s327a_consideration")
    assert s327a["latest_version"] == 1 and s327a["versions"][0]["content_hash"]
    version = officer.get("/api/v1/workflows/s327a_consideration/versions/1").get_json()
    assert version["key"] == "s327a_consideration" and "s327a_consideration.bpmn" in version["content"]
    assert "<bpmn:" in version["content"]["s327a_consideration.bpmn"] or "<" in version["content"]["s327a_consideration.bpmn"]
    assert_error(officer.get("/api/v1/workflows/s327a_consideration/versions/9"), 404)
    assert_error(officer.get("/api/v1/workflows/nope/versions/1"), 404)


def test_deploy_requires_policy_validates_and_diffs(clients):
    policy = clients["policy"]
    files = _bundle()
    assert_error(clients["officer"].post("/api/v1/workflows", data={"files": _bundle()},
                                         content_type="multipart/form-data"), 403)
    same = policy.post("/api/v1/workflows", data={"files": files, "note": "same again"},
                       content_type="multipart/form-data")
    assert same.status_code == 201 and same.get_json()["created"] is False and same.get_json()["version"] == 1
    changed = []
    for fh, name in _bundle():
        content = fh.getvalue()
        if name == "s327a_consideration.bpmn":
            content = content.replace(b'name="Identify children', b'name="Identify the children', 1)
            assert b"Identify the children" in content
        changed.append((io.BytesIO(content), name))
    resp = policy.post("/api/v1/workflows", data={"files": changed, "note": "rename"},
                       content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["key"] == "s327a_consideration" and body["version"] == 2 and len(body["content_hash"]) == 64
    diff = policy.get("/api/v1/workflows/s327a_consideration/diff?from=1&to=2").get_json()
    assert diff["from"] == 1 and diff["to"] == 2 and diff["added"] == [] and diff["removed"] == []
    [change] = diff["changed"]
    assert change["id"] == "identify_children" and "name" in change["changes"]
    assert change["changes"]["name"]["to"].startswith("Identify the children")
    assert diff["files"]["changed"] == ["s327a_consideration.bpmn"]
    assert_error(policy.get("/api/v1/workflows/s327a_consideration/diff?from=1&to=7"), 404)
    assert_error(policy.get("/api/v1/workflows/nope/diff?from=1&to=2"), 404)
    assert_error(policy.get("/api/v1/workflows/s327a_consideration/diff?from=1"), 422)


def test_deploy_invalid_bundle_is_422_with_problem_lines_and_deploys_nothing(clients):
    policy = clients["policy"]
    broken = [(fh, name) for fh, name in _bundle() if not name.endswith(".dmn")]
    err = assert_error(policy.post("/api/v1/workflows", data={"files": broken}, content_type="multipart/form-data"), 422)
    assert err["errors"]["files"] and all(":" in p for p in err["errors"]["files"])
    bad_xml = [(io.BytesIO(b"<bpmn:definitions"), "x.bpmn")]
    err = assert_error(policy.post("/api/v1/workflows", data={"files": bad_xml}, content_type="multipart/form-data"), 422)
    assert err["errors"]["files"][0].startswith("x.bpmn:")
    assert_error(policy.post("/api/v1/workflows", data={}, content_type="multipart/form-data"), 422)
    assert_error(policy.post("/api/v1/workflows", json={"files": []}), 400)
    assert_error(policy.post("/api/v1/workflows", data={"files": _bundle(), "colour": "x"},
                             content_type="multipart/form-data"), 422)
    versions = [w for w in policy.get("/api/v1/workflows").get_json() if w["key"] == "s327a_consideration"]
    assert versions[0]["latest_version"] == 1


# -- errors everywhere ----------------------------------------------------------------------------

def test_unknown_paths_and_methods_are_json(officer):
    assert_error(officer.get("/api/v1/nothing-here"), 404)
    assert_error(officer.get("/api/v2/cases"), 404)
    resp = officer.open("/api/v1/cases", method="DELETE")
    assert_error(resp, 405)
    assert "GET" in resp.headers["Allow"]
    assert_error(officer.open("/api/v1/tasks/1/claim", method="GET"), 405)


def test_too_large_body_is_413_json(app, officer):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    assert_error(officer.post("/api/v1/cases", data="x" * 5000, content_type="application/json"), 413)


def test_unexpected_exception_is_json_500_without_trace(app, tokens, monkeypatch):
    from disclosure_engine.services import cases

    def boom(*a, **k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(cases, "list_cases", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = app.test_client().get("/api/v1/cases", headers={"Authorization": f"Bearer {tokens['officer']}"})
    body = assert_error(resp, 500)
    assert "secret" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)
    assert body["errors"] == {}


def test_openapi_document_and_docs_page(app):
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    expected = {
        ("/api/v1/cases", "post"), ("/api/v1/cases", "get"), ("/api/v1/cases/{case_id}", "get"),
        ("/api/v1/cases/{case_id}/processes", "post"), ("/api/v1/processes/{process_id}", "get"),
        ("/api/v1/tasks", "get"), ("/api/v1/tasks/{task_id}", "get"), ("/api/v1/tasks/{task_id}/claim", "post"),
        ("/api/v1/tasks/{task_id}/release", "post"), ("/api/v1/tasks/{task_id}/complete", "post"),
        ("/api/v1/tasks/{task_id}/draft", "post"), ("/api/v1/decisions", "get"),
        ("/api/v1/decisions/{decision_id}", "get"), ("/api/v1/decisions/{decision_id}/supersede", "post"),
        ("/api/v1/audit", "get"), ("/api/v1/audit/verify", "get"), ("/api/v1/workflows", "get"),
        ("/api/v1/workflows", "post"), ("/api/v1/workflows/{key}/versions/{version}", "get"),
        ("/api/v1/workflows/{key}/diff", "get"), ("/api/v1/areas", "get"),
    }
    have = {(p, m) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert expected <= have
    # every documented filter is in the document (a client generator sees them all)
    log_params = {(p["in"], p["name"]) for p in spec["paths"]["/api/v1/decisions"]["get"]["parameters"]}
    assert {("query", name) for name in ("area", "outcome", "from", "to", "format", "justification")} <= log_params
    assert ("header", "X-Justification") in log_params
    task_params = {p["name"] for p in spec["paths"]["/api/v1/tasks"]["get"]["parameters"]}
    assert {"scope", "status", "overdue", "case_id"} <= task_params
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(spec["components"]["schemas"]["Error"]["properties"]) == {"message", "errors"}
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "text/html" in page.content_type
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert "POST /api/v1/cases" in html and "<script" not in html and "https://" not in html


def test_a_server_fault_answers_a_plain_500_and_logs_what_failed(clients, kent_case, db, caplog):
    """A corrupt instance state is the product's fault, not the client's: the client gets the
    documented error shape without internals, the operator's log names the failure."""
    from sqlalchemy import update

    from disclosure_engine.persistence.models import ProcessInstance

    officer = clients["officer"]
    (task,) = officer.get(f"/api/v1/tasks?case_id={kent_case['id']}").get_json()["items"]
    officer.post(f"/api/v1/tasks/{task['id']}/claim")
    with db.transaction() as session:
        session.execute(update(ProcessInstance).where(ProcessInstance.id == task["process_id"])
                        .values(state={"tasks": "not a task tree"}))
    with caplog.at_level("ERROR"):
        resp = officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert resp.status_code == 500
    assert resp.get_json() == {"message": "Internal server error", "errors": {}}
    assert "cannot restore instance state" not in resp.get_data(as_text=True)
    assert any("cannot restore instance state" in r.getMessage() and f"/tasks/{task['id']}/complete" in r.getMessage()
               for r in caplog.records)


def test_statistics_count_my_areas_cases_and_refuse_officers(clients, kent_case, essex_case):
    figures = clients["manager"].get("/api/v1/statistics")
    assert figures.status_code == 200, figures.get_json()
    body = figures.get_json()
    assert [a["area"] for a in body["areas"]] == ["kent"]
    assert body["areas"][0]["cases"] == {"1": 1, "2": 0, "3": 0} and body["areas"][0]["considerations_started"] == 1
    assert body["from"].endswith("-04-01")
    assert_error(clients["officer"].get("/api/v1/statistics"), 403)
    refused = assert_error(clients["manager"].get("/api/v1/statistics?from=2027-02-01&to=2027-01-01"), 422)
    assert "to" in refused["errors"]
    assert "from" in assert_error(clients["manager"].get("/api/v1/statistics?from=soon"), 422)["errors"]
