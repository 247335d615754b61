"""A policy lead changes a deadline in the browser, deploys it and migrates a running case.

Real server + Debian Chromium, as the other browser tests, but on a server of its own: the
test needs the database too (to start cases before and after the deploy and to read task due
dates), and must not share versions of s327a_consideration with the officer journey. axe-core
must find no serious or critical violation on the editor, diff and migration pages, and no page
may trigger a Content-Security-Policy violation.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import PASSWORD, SHOTS, axe_check, running_server, shot

KEY = "s327a_consideration"


@pytest.fixture(scope="module")
def policy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app on a fresh database (demo users), plus that database for in-process services."""
    from disclosure_engine.persistence.db import Database

    with running_server(tmp_path_factory.mktemp("policy-e2e")) as running:
        db = Database(running["database_url"])
        try:
            yield {"base": running["base"], "db": db}
        finally:
            db.dispose()


def _start_case(db: Any, reference: str) -> int:
    """A Kent level 2 child sex offender case; its s.327A consideration starts at once."""
    from disclosure_engine.domain.roles import SYSTEM
    from disclosure_engine.services import cases

    case = cases.create_case(db, SYSTEM, {
        "reference": reference, "area": "kent", "category": 1, "level": 2, "lead_agency": "police",
        "offender": {"visor_ref": "VS7654321", "pnc_ref": "19/654321B"},
        "convictions": [{"statute": "Sexual Offences Act 2003", "section": "9", "date": "2019-03-14",
                         "disposal": "conviction", "victim_age": 9, "jurisdiction": "england-wales"}]})
    return case["processes"][0]["id"]


def _version_and_due(db: Any, process_id: int) -> tuple[int, list[Any]]:
    from disclosure_engine.persistence.models import HumanTask, ProcessInstance

    with db.transaction() as session:
        instance = session.get(ProcessInstance, process_id)
        due = list(session.execute(select(HumanTask.due_at).where(
            HumanTask.instance_id == process_id, HumanTask.status == "open").order_by(HumanTask.id)).scalars())
        return instance.definition.version, due


def _docs_shot(page: Any, name: str) -> None:
    """The page's main content only (no header or footer): the images in docs/policy-guide.md
    are copies of these (docs/images/policy-*.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("main").screenshot(path=str(SHOTS / f"docs-{name}.png"))


def _axe(page: Any, name: str) -> None:
    serious = axe_check(page, name)
    assert serious == [], f"axe on {name}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['nodes']}" for v in serious)


def test_policy_changes_a_deadline_deploys_and_migrates(browser, policy_server):
    db = policy_server["db"]
    earlier = _start_case(db, "KNT-2027-000901")
    version_n, due_before = _version_and_due(db, earlier)
    assert due_before, "the earlier case has an open task with a due date"

    ctx = browser.new_context(base_url=policy_server["base"], viewport={"width": 1400, "height": 950})
    page = ctx.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/sign-in")
    page.get_by_label("Username").fill("policy.lead")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    # -- open s327a_consideration and edit the chair's deadline in the sidebar --------------------
    page.goto("/workflows")
    page.locator(f'form[action="/workflows/{KEY}/edit"] button').click()
    page.wait_for_selector("#editor.app-editor--ready")
    assert re.search(r"/workflows/drafts/\d+$", page.url)
    page.locator('#canvas [data-element-id="chair_signoff"]').first.click()
    due = page.get_by_label("Due period", exact=True)
    assert due.input_value() == "P3D"
    assert page.get_by_label("Candidate role", exact=True).input_value() == "chair"
    due.fill("P4D")
    due.press("Tab")
    page.wait_for_selector("#editor-status:has-text('Unsaved changes')")
    shot(page, "policy-01-editor")
    _docs_shot(page, "policy-editor")
    _axe(page, "policy-editor")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector("#editor-status:has-text('Saved at')")

    # -- validate: no problems, every path test passes -------------------------------------------
    page.get_by_role("button", name="Validate").click()
    page.wait_for_selector("#validation-heading", timeout=60_000)
    assert page.locator("#validation-heading").inner_text() == "Validation passed: this draft can be deployed"
    assert "No problems found" in page.locator("#validation").inner_text()
    passed = page.locator("#validation .govuk-tag--green")
    assert passed.count() >= 5 and page.locator("#validation .govuk-tag--red").count() == 0
    page.locator("#validation").scroll_into_view_if_needed()
    shot(page, "policy-02-validated")
    _docs_shot(page, "policy-validate")

    # -- the diff: list and diagram both show the changed task -----------------------------------
    page.get_by_role("link", name="Compare with deployed version").click()
    page.wait_for_selector("#visual-diff.app-visual-diff--ready")
    row = page.locator('#change-list tr[data-element-id="chair_signoff"]', has_text="property.due_period")
    assert row.count() == 1 and "P3D" in row.inner_text() and "P4D" in row.inner_text()
    assert page.locator('#change-list tr[data-element-id]').evaluate_all(
        "rows => [...new Set(rows.map(r => r.dataset.elementId))]") == ["chair_signoff"]
    assert page.locator('#diagram-after .diff-changed[data-element-id="chair_signoff"]').count() == 1
    assert page.locator('#diagram-before .diff-changed[data-element-id="chair_signoff"]').count() == 1
    assert page.locator("#diagram-after .diff-added, #diagram-before .diff-removed").count() == 0
    shot(page, "policy-03-diff")
    _docs_shot(page, "policy-diff")
    _axe(page, "policy-diff")

    # -- deploy N+1 with a note ---------------------------------------------------------------------
    page.get_by_role("link", name="Deploy", exact=True).click()
    page.get_by_label("Why does this version exist?").fill("Chair sign-off within 4 days (guidance 2026/3)")
    page.get_by_role("button", name="Deploy", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text(f"Version {version_n + 1} of {KEY} deployed.")

    later = _start_case(db, "KNT-2027-000902")
    assert _version_and_due(db, later)[0] == version_n + 1
    assert _version_and_due(db, earlier)[0] == version_n

    # -- migrate the earlier case: safe, moved, deadline kept ----------------------------------------
    page.reload()
    row = page.locator(f'tr[data-process-id="{earlier}"]')
    assert "Safe" in row.inner_text() and page.locator(f'tr[data-process-id="{later}"]').count() == 0
    _axe(page, "policy-migrations")
    page.get_by_label(re.compile(f"^Select process {earlier} ")).check()
    page.get_by_role("button", name="Migrate selected").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text(f"1 migrated to version {version_n + 1}, 0 skipped.")
    revert = re.compile(f"^Revert migration \\d+ of process {earlier}$")
    assert page.locator("#migrated").get_by_role("button", name=revert).count() == 1
    assert page.locator("#migration-history").get_by_role("button", name=revert).count() == 1, \
        "the history offers the same revert"
    shot(page, "policy-04-migrated")
    _docs_shot(page, "policy-migrate")
    _axe(page, "policy-migrated")
    version_after, due_after = _version_and_due(db, earlier)
    assert version_after == version_n + 1
    assert due_after == due_before, "migration must keep the task's deadline"
    assert csp == [], csp
    ctx.close()
