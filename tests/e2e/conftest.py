"""Browser tests: a real server on 127.0.0.1 with a fresh database and demo users, driven by
Playwright in Debian's Chromium (never a downloaded browser).

The database is a SQLite temp file, or a new PostgreSQL database on the server named by
DATABASE_URL (dropped afterwards). A missing /usr/bin/chromium FAILS these tests: CI must
install it (scripts/test does), so a silent skip can never hide a broken front end.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "demo-password-2026"
PATHS = {p["name"]: p for p in json.loads((ROOT / "workflows/tests/s327a_consideration.json").read_text())["paths"]}
LEVEL2 = "level 2, officer proposes, chair signs off"

SERVER = """
import sys
from werkzeug.serving import run_simple
from web import create_app
run_simple("127.0.0.1", int(sys.argv[1]), create_app(), threaded=True, use_reloader=False)
"""

SEED = """
import json, sys
from disclosure_engine.config import load_settings
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.migrate import upgrade
from disclosure_engine.services import cases
from disclosure_engine.services.demo import create_demo_data
settings = load_settings()
upgrade(settings.database_url)
db = Database(settings.database_url)
create_demo_data(db, settings, cases=0)
conviction = {"statute": "Sexual Offences Act 2003", "section": "9", "date": "2019-03-14",
              "disposal": "conviction", "victim_age": 9, "jurisdiction": "england-wales"}
case = cases.create_case(db, SYSTEM, {"reference": "KNT-2027-000417", "area": "kent", "category": 1, "level": 2,
    "lead_agency": "police", "offender": {"visor_ref": "VS7654321", "pnc_ref": "19/654321B"},
    "convictions": [conviction]})
age_unknown = {"statute": "Sexual Offences Act 2003", "section": "1", "date": "2016-08-11",
               "disposal": "conviction", "jurisdiction": "england-wales"}
waiting = cases.create_case(db, SYSTEM, {"reference": "KNT-2027-000418", "area": "kent", "category": 1, "level": 1,
    "lead_agency": "probation", "offender": {"ndelius_crn": "X123456"}, "convictions": [age_unknown]})
paused = cases.create_case(db, SYSTEM, {"reference": "KNT-2027-000419", "area": "kent", "category": 1, "level": 2,
    "lead_agency": "police", "offender": {"visor_ref": "VS1112223"}, "convictions": [conviction]})
print(json.dumps({"case_id": case["id"], "reference": case["reference"],
                  "waiting_case_id": waiting["id"], "waiting_reference": waiting["reference"],
                  "pause_case_id": paused["id"]}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(tmp: Path) -> tuple[str, Any]:
    base = os.environ.get("DATABASE_URL")
    if not base or base.startswith("sqlite"):
        return f"sqlite:///{tmp / 'e2e.db'}", None
    from sqlalchemy import create_engine, text

    from disclosure_engine.config import normalise_database_url

    server = normalise_database_url(base).rpartition("/")[0]
    name = f"de_e2e_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{server}/{name}", drop


@contextlib.contextmanager
def running_server(tmp: Path) -> Iterator[dict[str, Any]]:
    """A fresh database seeded with the demo users, and the app served on a free local port."""
    url, drop = _database(tmp)
    env = {**os.environ, "DISCLOSURE_ENV": "test", "DATABASE_URL": url,
           "DISCLOSURE_INSTANCE_DIR": str(tmp / "instance"), "SECRET_KEY": uuid.uuid4().hex * 2,
           "WORKFLOWS_DIR": str(ROOT / "workflows")}
    env.pop("REDIS_URL", None)
    seeded = subprocess.run([sys.executable, "-c", SEED], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    facts = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env, cwd=ROOT, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError("server did not start: " + (tmp / "server.log").read_text()[-3000:])
                time.sleep(0.2)
        yield {"base": base, "database_url": url, **facts, "log": tmp / "server.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if drop:
            drop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path_factory.mktemp("e2e")) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing (/usr/bin/chromium): install it with "
                    "`apt-get install -y chromium` (scripts/test does); browser tests must not be skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture()
def new_page(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    """``new_page()`` -> a page in a fresh context (own cookies) that records CSP violations."""
    contexts = []

    def make() -> Any:
        ctx = browser.new_context(base_url=server["base"], accept_downloads=True, viewport={"width": 1280, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.csp_violations = []
        page.on("console", lambda m: page.csp_violations.append(m.text)
                if "Content Security Policy" in m.text else None)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _run_axe(page: Any) -> dict[str, Any]:
    """Evaluate axe on the page once it has loaded.

    A link click returns once the next page's navigation has committed, not loaded: axe run at
    that instant finds no document (CI failed once so). Waiting for "load" closes that gap; one
    retry covers a navigation that had not committed yet when the wait began.
    """
    for attempt in (1, 2):
        page.wait_for_load_state("load")
        try:
            if not page.evaluate("() => typeof window.axe !== 'undefined'"):
                page.evaluate("(source) => { (0, eval)(source) }", AXE.read_text(encoding="utf-8"))
            return page.evaluate("""async () => await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})""")
        except Exception as error:  # playwright's Error: the document was replaced mid-run
            transient = "documentElement" in str(error) or "context was destroyed" in str(error)
            if attempt == 2 or not transient:
                raise
    raise AssertionError("unreachable")


def axe_check(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe-core on the page; returns serious/critical violations (and saves all to artifacts).

    The pages' CSP (rightly) refuses ``page.add_script_tag``'s inline script, and bypassing CSP
    would stop these tests noticing CSP violations, so axe's source is evaluated through the
    DevTools protocol instead (not subject to the page's CSP).
    """
    result = _run_axe(page)
    out = SHOTS.parent / "axe"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(
        [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
         for v in result["violations"]], indent=2))
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
