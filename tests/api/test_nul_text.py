"""Text with a NUL character is refused before it reaches the database (PostgreSQL cannot store
it: it used to be a 500 there, found by the schemathesis run), on every kind of input."""
from __future__ import annotations

from .conftest import case_body
from .test_endpoints import assert_error


def test_a_nul_in_a_json_field_a_query_or_the_path_is_a_400_naming_it(clients, kent_case):
    officer = clients["officer"]
    err = assert_error(officer.post(f"/api/v1/cases/{kent_case['id']}/processes",
                                    json={"workflow": "s327a\x00consideration"}), 400)
    assert list(err["errors"]) == ["workflow"]
    body = case_body("KNT-2026-000777")
    body["convictions"][0]["statute"] = "Sexual Offences Act\x002003"
    err = assert_error(officer.post("/api/v1/cases", json=body), 400)
    assert list(err["errors"]) == ["convictions.0.statute"]
    assert officer.get("/api/v1/cases?reference=KNT-2026-000777").get_json()["total"] == 0
    assert list(assert_error(officer.get("/api/v1/cases?reference=A%00B"), 400)["errors"]) == ["query.reference"]
    assert "path" in assert_error(officer.get("/api/v1/workflows/s327a%00x/versions/1"), 400)["errors"]


def test_the_same_requests_without_the_nul_still_work(clients, kent_case):
    officer = clients["officer"]
    assert officer.get("/api/v1/cases?reference=KNT-2026-000001").get_json()["total"] == 1
    resp = officer.post(f"/api/v1/cases/{kent_case['id']}/processes", json={"workflow": "urgent_disclosure"})
    assert resp.status_code == 201
