"""PUT /cases/<id>/convictions: answering the Schedule 34A questions through the API."""
from __future__ import annotations

from .conftest import case_body
from .test_endpoints import assert_error

AGE_UNKNOWN = {"statute": "Sexual Offences Act 2003", "section": "1", "date": "2015-06-02",
               "disposal": "conviction", "jurisdiction": "england-wales"}
WHY = "Victim's date of birth confirmed from the CPS file: she was 15 at the time of the offence."


def _waiting_case(client, reference="KNT-2026-000555"):
    resp = client.post("/api/v1/cases", json={**case_body(reference), "convictions": [AGE_UNKNOWN]})
    assert resp.status_code == 201
    return resp.get_json()


def test_a_case_waiting_for_a_judgement_is_listed_and_answered(clients):
    officer = clients["officer"]
    case = _waiting_case(officer)
    assert case["schedule_34a_review_needed"] is True and case["processes"] == []
    assert case["schedule_34a_review"][0]["kind"] == "needs_victim_age"
    listed = officer.get("/api/v1/cases?needs_review=true").get_json()
    assert [c["reference"] for c in listed["items"]] == ["KNT-2026-000555"]
    assert listed["items"][0]["schedule_34a_review_needed"] is True

    resp = officer.open(f"/api/v1/cases/{case['id']}/convictions", method="PUT",
                        json={"convictions": [{**AGE_UNKNOWN, "victim_age": 15}], "reason": WHY})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["child_sex_offender"] is True and body["schedule_34a_review"] == []
    assert body["consideration_started"] == body["processes"][0]["id"]
    assert body["processes"][0]["workflow"] == "s327a_consideration"
    assert officer.get("/api/v1/cases?needs_review=true").get_json()["total"] == 0
    audit = clients["auditor"].get(f"/api/v1/audit?subject=case:{case['id']}").get_json()
    assert "case.convictions_amended" in [e["action"] for e in audit["items"]]


def test_bad_changes_are_422_with_field_errors_and_other_areas_404(clients):
    officer = clients["officer"]
    case = _waiting_case(officer)
    url = f"/api/v1/cases/{case['id']}/convictions"
    err = assert_error(officer.open(url, method="PUT", json={"convictions": [{**AGE_UNKNOWN, "victim_age": -1}],
                                                             "reason": "n/a"}), 422)
    assert set(err["errors"]) == {"convictions.0.victim_age", "reason"}
    assert_error(officer.open(url, method="PUT", data="{", content_type="application/json"), 400)
    assert_error(clients["essex"].open(url, method="PUT", json={"convictions": [AGE_UNKNOWN], "reason": WHY}), 404)
    assert_error(clients["auditor"].open(url, method="PUT", json={"convictions": [AGE_UNKNOWN], "reason": WHY}), 403)
    assert officer.get(f"/api/v1/cases/{case['id']}").get_json()["schedule_34a_review_needed"] is True
