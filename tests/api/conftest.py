"""API fixtures: the real app (web.create_app) on the test database, shipped workflows deployed,
users of each role in Kent and Essex with bearer tokens, and a helper that speaks JSON."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from disclosure_engine.services.users import create_token, create_user
from disclosure_engine.services.workflows import deploy_shipped

ROOT = Path(__file__).resolve().parents[2]
PATHS = json.loads((ROOT / "workflows" / "tests" / "s327a_consideration.json").read_text())


def path_steps(name: str) -> list[dict[str, Any]]:
    """The steps of one realistic path through s327a_consideration (workflows/tests)."""
    return next(p for p in PATHS["paths"] if p["name"] == name)["steps"]


def case_body(reference: str = "KNT-2026-000001", area: str = "kent", *, cso: bool = True) -> dict[str, Any]:
    conviction = ({"statute": "Sexual Offences Act 2003", "section": "9", "date": "2019-03-14",
                   "disposal": "conviction", "victim_age": 13, "jurisdiction": "england-wales"}
                  if cso else
                  {"statute": "Theft Act 1968", "section": "1", "date": "2019-03-14",
                   "disposal": "conviction", "jurisdiction": "england-wales"})
    return {"reference": reference, "area": area, "category": 1, "level": 1, "lead_agency": "police",
            "offender": {"visor_ref": "VS1234567", "pnc_ref": "19/123456A"}, "convictions": [conviction]}


@dataclass
class Client:
    """A test client that sends the bearer token of ``user`` (None: no Authorization header)."""

    flask_client: Any
    token: str | None

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token is not None:
            out.setdefault("Authorization", f"Bearer {self.token}")
        return out

    def get(self, path: str, **kw: Any) -> Any:
        return self.flask_client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.flask_client.post(path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def open(self, path: str, **kw: Any) -> Any:
        return self.flask_client.open(path, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture()
def app(db, settings):
    from web import create_app

    deploy_shipped(db, settings)
    application = create_app(settings, TESTING=True)
    application.extensions["db"].dispose()
    application.extensions["db"] = db
    yield application


USERS = {
    "officer": ("officer.kent", ["officer"], ["kent"]),
    "officer2": ("officer2.kent", ["officer"], ["kent"]),
    "chair": ("chair.kent", ["chair"], ["kent"]),
    "manager": ("manager.kent", ["manager"], ["kent"]),
    "essex": ("officer.essex", ["officer"], ["essex"]),
    "essex_manager": ("manager.essex", ["manager"], ["essex"]),
    "auditor": ("auditor", ["auditor"], []),
    "policy": ("policy", ["policy"], []),
    "admin": ("admin", ["admin"], []),
}


@pytest.fixture()
def tokens(app, db) -> dict[str, str]:
    out = {}
    for key, (name, roles, areas) in USERS.items():
        create_user(db, name, roles=roles, areas=areas)
        out[key] = create_token(db, name, "tests")
    return out


@pytest.fixture()
def clients(app, tokens) -> dict[str, Client]:
    base = app.test_client()
    out = {k: Client(base, t) for k, t in tokens.items()}
    out["anonymous"] = Client(base, None)
    return out


@pytest.fixture()
def officer(clients):
    return clients["officer"]


@pytest.fixture()
def kent_case(officer) -> dict[str, Any]:
    resp = officer.post("/api/v1/cases", json=case_body())
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.fixture()
def essex_case(clients) -> dict[str, Any]:
    resp = clients["essex"].post("/api/v1/cases", json=case_body("ESX-2026-000001", "essex"))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def open_task(client: Client, process_id: int, element_id: str | None = None) -> dict[str, Any]:
    body = client.get(f"/api/v1/processes/{process_id}").get_json()
    tasks = [t for t in body["open_tasks"] if element_id is None or t["element_id"] == element_id]
    assert tasks, body
    return tasks[0]


def run_to_decision(clients: dict[str, Client], case: dict[str, Any],
                    path: str = "level 1, presumption applies, disclose") -> dict[str, Any]:
    """Complete the s.327A consideration of ``case`` along a shipped path; the last completion."""
    process_id = case["processes"][0]["id"]
    result: dict[str, Any] = {}
    for step in path_steps(path):
        if "task" not in step or step.get("expect_errors"):
            continue
        task = open_task(clients["officer"], process_id, step["task"])
        who = clients[{"chair": "chair", "manager": "manager"}.get(task["candidate_role"], "officer")]
        resp = who.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": step["data"]})
        assert resp.status_code == 200, (step["task"], resp.get_json())
        result = resp.get_json()
    return result


@pytest.fixture()
def decided(clients, kent_case) -> dict[str, Any]:
    result = run_to_decision(clients, kent_case)
    assert result["decision_id"], result
    return {"case": kent_case, "decision_id": result["decision_id"], "result": result}
