"""GET /areas/<slug> shows an area's MAPPA review periods; administrators set them with PUT
/areas/<slug>/review-periods (checked together, saved together, audited)."""
from __future__ import annotations

from .test_endpoints import assert_error


def test_anyone_signed_in_reads_an_areas_periods_and_an_admin_sets_them(clients):
    kent = clients["officer"].get("/api/v1/areas/kent").get_json()
    assert kent == {"slug": "kent", "name": "Kent", "review_periods": {"1": None, "2": "P16W", "3": "P8W"}}
    assert_error(clients["officer"].get("/api/v1/areas/atlantis"), 404)
    assert_error(clients["anonymous"].get("/api/v1/areas/kent"), 401)
    url = "/api/v1/areas/kent/review-periods"
    resp = clients["admin"].open(url, method="PUT", json={"level_1": "P26W", "level_3": None})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["review_periods"] == {"1": "P26W", "2": "P16W", "3": None}
    events = clients["auditor"].get("/api/v1/audit?subject=area:" + str(_area_id(clients))).get_json()["items"]
    assert sorted(e["detail"]["level"] for e in events if e["action"] == "area.review_period_set") == [1, 3]


def test_bad_periods_are_field_errors_and_nothing_is_saved(clients):
    url = "/api/v1/areas/kent/review-periods"
    err = assert_error(clients["admin"].open(url, method="PUT", json={"level_1": "P2D", "level_2": "often",
                                                                      "level_3": "P8W"}), 422)
    assert set(err["errors"]) == {"level_1", "level_2"}
    err = assert_error(clients["admin"].open(url, method="PUT", json={"level_4": "P8W", "level_2": 16}), 422)
    assert set(err["errors"]) == {"level_4", "level_2"}
    assert_error(clients["admin"].open(url, method="PUT", json={}), 422)
    assert_error(clients["manager"].open(url, method="PUT", json={"level_2": "P12W"}), 403)
    assert_error(clients["admin"].open("/api/v1/areas/atlantis/review-periods", method="PUT",
                                       json={"level_2": "P12W"}), 404)
    assert clients["officer"].get("/api/v1/areas/kent").get_json()["review_periods"]["2"] == "P16W"


def _area_id(clients) -> int:
    events = clients["auditor"].get("/api/v1/audit?action=area.review_period_set").get_json()["items"]
    return int(events[0]["subject_id"])
