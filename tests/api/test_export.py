"""GET /decisions?format=csv: streamed, justified, audited, same filters and area scope as the log."""
from __future__ import annotations

import csv
import io

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.domain.vocabulary import DECISION_FIELDS
from disclosure_engine.services import audit, exports

from .conftest import case_body, run_to_decision

JUSTIFICATION = "Quarterly MAPPA performance review for the SMB, March 2026."


def _rows(resp):
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def test_csv_export_streams_with_headers_rows_and_audit(clients, decided, db):
    resp = clients["manager"].get(f"/api/v1/decisions?format=csv&justification={JUSTIFICATION}")
    assert resp.status_code == 200
    assert resp.is_streamed
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="decisions-')
    assert resp.headers["X-Export-Rows"] == "1"
    rows = _rows(resp)
    assert len(rows) == 1
    row = rows[0]
    assert set(DECISION_FIELDS) <= set(row)
    assert row["id"] == str(decided["decision_id"]) and row["decision"] == "disclose" and row["area"] == "kent"
    assert row["decided_by"] == "manager.kent" and row["case_reference"] == "KNT-2026-000001"
    [event] = audit.list_events(db, SYSTEM, action="decisions.exported")
    assert event["justification"] == JUSTIFICATION and event["actor_name"] == "manager.kent"
    assert event["detail"]["rows"] == 1 and event["detail"]["filters"] == {"current_only": True}


def test_csv_export_header_justification_filters_and_scope(clients, decided, db):
    headers = {"X-Justification": JUSTIFICATION}
    none = clients["manager"].get("/api/v1/decisions?format=csv&outcome=defer", headers=headers)
    assert none.status_code == 200 and _rows(none) == [] and none.headers["X-Export-Rows"] == "0"
    other_area = clients["essex_manager"].get("/api/v1/decisions?format=csv", headers=headers)
    assert _rows(other_area) == []
    national = clients["auditor"].get("/api/v1/decisions?format=csv&area=kent&presumption_applied=true",
                                      headers=headers)
    assert len(_rows(national)) == 1
    events = audit.list_events(db, SYSTEM, action="decisions.exported")
    assert {"area": "kent", "presumption_applied": True, "current_only": True} in [e["detail"]["filters"] for e in events]


def test_csv_export_refuses_a_placeholder_reason_and_non_exporting_roles(clients, decided, db):
    for url in ("/api/v1/decisions?format=csv&justification=n/a", "/api/v1/decisions?format=csv&justification=tbc"):
        resp = clients["manager"].get(url)
        assert resp.status_code == 422 and "justification" in resp.get_json()["errors"]
    headers = {"X-Justification": "n/a"}
    assert clients["manager"].get("/api/v1/decisions?format=csv", headers=headers).status_code == 422
    assert clients["officer"].get(f"/api/v1/decisions?format=csv&justification={JUSTIFICATION}").status_code == 403
    assert clients["anonymous"].get(f"/api/v1/decisions?format=csv&justification={JUSTIFICATION}").status_code == 401
    assert audit.list_events(db, SYSTEM, action="decisions.exported") == []


def test_csv_export_without_a_reason_is_streamed_and_audited_as_given_none(clients, decided, db):
    """The contract's plain ``format=csv`` works for an API client; the auditors see that no
    reason was given (the web page always asks for one)."""
    resp = clients["manager"].get("/api/v1/decisions?format=csv&area=")
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and len(_rows(resp)) == 1
    (event,) = audit.list_events(db, SYSTEM, action="decisions.exported")
    assert event["justification"] is None and event["detail"]["justification_given"] is False
    given = clients["manager"].get("/api/v1/decisions?format=csv", headers={"X-Justification": JUSTIFICATION})
    assert given.status_code == 200
    latest = audit.list_events(db, SYSTEM, action="decisions.exported")[0]
    assert latest["justification"] == JUSTIFICATION and latest["detail"]["justification_given"] is True


def test_csv_cells_neutralise_formulas():
    assert exports.cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert exports.cell("-12") == "-12" and exports.cell("@cmd") == "'@cmd"
    assert exports.cell(["a", "b"]) == '["a", "b"]' and exports.cell(True) == "true" and exports.cell(None) == ""


def test_export_in_batches_is_a_fixed_snapshot(clients, decided, db):
    """Small batches exercise the keyset/yield_per paging; a correction made after the count
    does not change what the export streams."""
    manager = clients["manager"]
    second = manager.post("/api/v1/cases", json=case_body("KNT-2026-000002"))
    run_to_decision(clients, second.get_json())
    actor = _actor(db, "manager.kent")
    export = exports.export_decisions(db, actor, justification=JUSTIFICATION, batch=1)
    assert export.count == 2
    manager.post(f"/api/v1/decisions/{decided['decision_id']}/supersede",
                 json={"changes": {"legal_basis": "common_law"}, "reason": "Corrected after the export began."})
    text = "".join(export.chunks())
    ids = [r["id"] for r in csv.DictReader(io.StringIO(text))]
    assert len(ids) == 2 and str(decided["decision_id"]) in ids


def _actor(db, username):
    from sqlalchemy import select

    from disclosure_engine.persistence.models import User
    from disclosure_engine.services.users import actor_for

    with db.transaction() as s:
        return actor_for(s.execute(select(User).where(User.username == username)).scalar_one())


def test_listing_and_exporting_the_log_are_audited_where_the_area_can_see_them(clients, decided, db):
    """A page of full decision records is a consultation of each (DPA 2018 s.62); the area's
    own managers find both the page and the export in their audit log."""
    manager = clients["manager"]
    page = manager.get("/api/v1/decisions?limit=500").get_json()
    ids = [d["id"] for d in page["items"]]
    assert ids
    listed = audit.list_events(db, SYSTEM, action="decisions.listed")
    assert listed[0]["detail"]["ids"] == ids and listed[0]["actor_name"] == "manager.kent"
    assert listed[0]["area"] == "kent"
    manager.get("/api/v1/decisions?format=csv", headers={"X-Justification": JUSTIFICATION})
    own = manager.get("/api/v1/audit?action=decisions.exported").get_json()["items"]
    assert [e["area"] for e in own] == ["kent"]
    assert [e["detail"]["ids"] for e in manager.get("/api/v1/audit?action=decisions.listed").get_json()["items"]] == [ids]
