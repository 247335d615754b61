"""POST /processes/<id>/pause and /resume: with a reason, by a chair or manager of the area."""
from __future__ import annotations

from .conftest import case_body
from .test_endpoints import assert_error

WHY = "Waiting for the court's decision on the appeal, listed for 9 January."


def test_pause_and_resume_through_the_api(clients):
    case = clients["officer"].post("/api/v1/cases", json=case_body("KNT-2026-000880")).get_json()
    process_id = case["processes"][0]["id"]
    url = f"/api/v1/processes/{process_id}"
    resp = clients["manager"].post(f"{url}/pause", json={"reason": WHY})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["paused"]["reason"] == WHY
    view = clients["officer"].get(url).get_json()
    assert view["paused"]["by"] == "manager.kent" and [t["status"] for t in view["open_tasks"]] == ["paused"]
    task_id = view["open_tasks"][0]["id"]
    assert_error(clients["officer"].post(f"/api/v1/tasks/{task_id}/claim"), 409)
    assert_error(clients["manager"].post(f"{url}/pause", json={"reason": WHY}), 409)
    assert_error(clients["officer"].post(f"{url}/resume", json={"reason": WHY}), 403)
    assert_error(clients["essex_manager"].post(f"{url}/resume", json={"reason": WHY}), 404)
    err = assert_error(clients["manager"].post(f"{url}/resume", json={"reason": "ok"}), 422)
    assert set(err["errors"]) == {"reason"}
    resumed = clients["manager"].post(f"{url}/resume", json={"reason": "The appeal was dismissed this morning."})
    assert resumed.status_code == 200 and resumed.get_json()["paused"] is None
    assert clients["officer"].post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
