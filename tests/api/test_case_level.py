"""PUT /cases/<id>/level: a chair or manager moves a case to another MAPPA level, with a reason."""
from __future__ import annotations

from .conftest import case_body
from .test_endpoints import assert_error

WHY = "MAPP meeting of 1 December raised the case: new intelligence of contact with a child."


def test_a_manager_changes_the_level_and_the_consideration_follows(clients):
    officer, manager = clients["officer"], clients["manager"]
    case = officer.post("/api/v1/cases", json=case_body("KNT-2026-000777")).get_json()
    url = f"/api/v1/cases/{case['id']}/level"
    resp = manager.open(url, method="PUT", json={"level": 3, "reason": WHY})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["level"] == 3 and body["processes_updated"] == [case["processes"][0]["id"]]
    assert officer.get(f"/api/v1/cases/{case['id']}").get_json()["level"] == 3
    events = clients["auditor"].get(f"/api/v1/audit?subject=case:{case['id']}").get_json()["items"]
    changed = next(e for e in events if e["action"] == "case.level_changed")
    assert changed["detail"]["reason"] == WHY and (changed["detail"]["before"], changed["detail"]["after"]) == (1, 3)


def test_bad_level_changes_are_field_errors_and_nothing_changes(clients):
    case = clients["officer"].post("/api/v1/cases", json=case_body("KNT-2026-000778")).get_json()
    url = f"/api/v1/cases/{case['id']}/level"
    err = assert_error(clients["manager"].open(url, method="PUT", json={"level": 1, "reason": "n/a"}), 422)
    assert set(err["errors"]) == {"level", "reason"}
    assert "already at level 1" in err["errors"]["level"][0]
    assert_error(clients["manager"].open(url, method="PUT", data="{", content_type="application/json"), 400)
    assert_error(clients["officer"].open(url, method="PUT", json={"level": 2, "reason": WHY}), 403)
    assert_error(clients["essex_manager"].open(url, method="PUT", json={"level": 2, "reason": WHY}), 404)
    assert_error(clients["anonymous"].open(url, method="PUT", json={"level": 2, "reason": WHY}), 401)
    assert clients["officer"].get(f"/api/v1/cases/{case['id']}").get_json()["level"] == 1
