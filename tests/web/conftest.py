"""Fixtures for the page tests: the Flask app on the test database, demo-style users,
s.327A cases in Kent and Essex, a signed-in test client, and form-post builders."""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from disclosure_engine.config import Settings
from disclosure_engine.domain.roles import SYSTEM, Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import HumanTask, User
from disclosure_engine.services import cases as case_service
from disclosure_engine.services import tasks as task_service
from disclosure_engine.services.users import actor_for, create_user
from disclosure_engine.services.workflows import deploy_shipped

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-password-2026"
USERS = (("officer.kent", "officer", "kent"), ("officer2.kent", "officer", "kent"),
         ("chair.kent", "chair", "kent"), ("manager.kent", "manager", "kent"),
         ("officer.essex", "officer", "essex"), ("auditor", "auditor", None),
         ("policy.lead", "policy", None))
PATHS = {p["name"]: p for p in json.loads((ROOT / "workflows/tests/s327a_consideration.json").read_text())["paths"]}
LEVEL1 = "level 1, presumption applies, disclose"
LEVEL2 = "level 2, officer proposes, chair signs off"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with minimal cost: the page tests create many users, none guard anything real."""
    from argon2 import PasswordHasher

    from disclosure_engine.services import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture()
def world(db: Database, settings: Settings) -> dict[str, Any]:
    """Shipped workflows deployed and one user per role (password ``PASSWORD``)."""
    deploy_shipped(db, settings)
    for username, role, area in USERS:
        create_user(db, username, roles=[role], areas=[area] if area else [], password=PASSWORD,
                    display_name=username.replace(".", " ").title())
    return {"db": db, "settings": settings}


@pytest.fixture()
def app(world: dict[str, Any]) -> Flask:
    from web import create_app

    return create_app(world["settings"], TESTING=True)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    response = client.get(path)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post("/sign-in", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture()
def signed_in(app: Flask) -> Callable[[str], FlaskClient]:
    """``signed_in("officer.kent")`` -> a fresh client signed in as that user."""

    def make(username: str) -> FlaskClient:
        c = app.test_client()
        response = sign_in(c, username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c

    return make


def actor(db: Database, username: str) -> Actor:
    with db.transaction() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return actor_for(user)


def case_payload(reference: str, area: str = "kent", level: int = 1) -> dict[str, Any]:
    return {"reference": reference, "area": area, "category": 1, "level": level, "lead_agency": "police",
            "offender": {"visor_ref": "VS1234567", "pnc_ref": "19/123456A"},
            "convictions": [{"statute": "Sexual Offences Act 2003", "section": "9", "date": "2019-03-14",
                             "disposal": "conviction", "victim_age": 13, "jurisdiction": "england-wales"}]}


@pytest.fixture()
def make_case(world: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    counter = iter(range(1, 10_000))

    def make(area: str = "kent", level: int = 1) -> dict[str, Any]:
        prefix = {"kent": "KNT", "essex": "ESX"}.get(area, "XXX")
        return case_service.create_case(world["db"], SYSTEM, case_payload(f"{prefix}-2026-{next(counter):06d}", area, level))

    return make


def open_task(db: Database, process_id: int, element_id: str | None = None) -> HumanTask:
    with db.transaction() as session:
        q = select(HumanTask).where(HumanTask.instance_id == process_id, HumanTask.status == "open")
        if element_id:
            q = q.where(HumanTask.element_id == element_id)
        task = session.execute(q.order_by(HumanTask.id)).scalars().first()
        assert task is not None, f"no open task {element_id} in process {process_id}"
        session.expunge(task)
        return task


def step_data(path: str, element_id: str) -> dict[str, Any]:
    """The first valid data the BPMN unit tests give for this step of this path."""
    for step in PATHS[path]["steps"]:
        if step.get("task") == element_id and "expect_errors" not in step:
            return dict(step.get("data") or {})
    raise KeyError(element_id)


def advance(db: Database, process_id: int, path: str, until: str) -> None:
    """Complete the path's task steps through the services until ``until`` is the open task."""
    for step in PATHS[path]["steps"]:
        if "task" not in step or "expect_errors" in step:
            continue
        if step["task"] == until:
            return
        task = open_task(db, process_id, step["task"])
        who = {"chair": "chair.kent", "manager": "manager.kent"}.get(task.candidate_role, "officer.kent")
        task_service.complete(db, actor(db, who), task.id, step.get("data", {}))
    raise AssertionError(f"{until} not reached")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def form_fields(data: dict[str, Any]) -> dict[str, str]:
    """Task data as the HTML form posts it (dotted repeat names, split dates, yes/no)."""
    out: dict[str, str] = {}

    def put(key: str, value: Any) -> None:
        if isinstance(value, bool):
            out[key] = "yes" if value else "no"
        elif isinstance(value, str) and _DATE.match(value):
            year, month, day = value.split("-")
            out.update({f"{key}-day": day, f"{key}-month": month, f"{key}-year": year})
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    for sub, v in item.items():
                        put(f"{key}.{i}.{sub}", v)
                else:
                    put(f"{key}.{i}", item)
        elif value is not None:
            out[key] = str(value)

    for key, value in data.items():
        put(key, value)
    return out


def post_form(client: FlaskClient, path: str, data: dict[str, Any], action: str) -> Any:
    token = csrf_token(client, path)
    return client.post(path, data={**form_fields(data), "_action": action, "csrf_token": token})


@pytest.fixture()
def captured_db(world: dict[str, Any]) -> Iterator[Database]:
    yield world["db"]
