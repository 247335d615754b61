"""The whole s.327A journey in a real browser: officer -> chair -> manager -> another area.

Every page is screenshotted to test-artifacts/screenshots/, and axe-core must report no
serious or critical violation on the sign-in, inbox, task, case, decision log and decision
detail pages. No page may trigger a Content-Security-Policy violation.
"""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import LEVEL2, PASSWORD, PATHS, axe_check, shot

AXE_PAGES: dict[str, list] = {}


def _step(element: str) -> dict[str, Any]:
    return next(s["data"] for s in PATHS[LEVEL2]["steps"] if s.get("task") == element)


def sign_in(page: Any, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def fill_task_form(page: Any, data: dict[str, Any]) -> None:
    """Answer a rendered task form like a person would (adding rows with 'Add another')."""
    for key, value in data.items():
        if isinstance(value, list):
            for i, item in enumerate(value):
                if i > 0 and page.locator(f'[name^="{key}.{i}"]').count() == 0:
                    page.locator(f'button[value="add:{key}"]').click()
                    page.wait_for_load_state()
                if isinstance(item, dict):
                    for sub, v in item.items():
                        page.locator(f'[name="{key}.{i}.{sub}"]').fill(str(v))
                else:
                    page.locator(f'[name="{key}.{i}"]').fill(str(item))
        elif isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            y, m, d = value.split("-")
            page.locator(f'[name="{key}-day"]').fill(d)
            page.locator(f'[name="{key}-month"]').fill(m)
            page.locator(f'[name="{key}-year"]').fill(y)
        elif page.locator(f'input[type="radio"][name="{key}"]').count():
            page.locator(f'input[type="radio"][name="{key}"][value="{value}"]').check()
        else:
            page.locator(f'[name="{key}"]').fill(str(value))


def check_axe(page: Any, name: str) -> None:
    AXE_PAGES[name] = axe_check(page, name)
    assert AXE_PAGES[name] == [], f"axe on {name}: " + "; ".join(f"{v['id']} ({v['impact']})" for v in AXE_PAGES[name])


def test_sign_in_page_errors_and_accessibility(new_page):
    page = new_page()
    page.goto("/sign-in")
    shot(page, "01-sign-in")
    check_axe(page, "sign-in")
    page.get_by_label("Username").fill("officer.kent")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title(re.compile("^Error:"))
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    shot(page, "02-sign-in-error")
    check_axe(page, "sign-in-error")
    assert page.csp_violations == []


def test_full_s327a_journey(new_page, server):
    reference, case_id = server["reference"], server["case_id"]

    # -- the officer ---------------------------------------------------------------------------
    officer = new_page()
    sign_in(officer, "officer.kent")
    expect(officer.get_by_role("heading", name="Inbox")).to_be_visible()
    officer.get_by_role("link", name=re.compile(r"^Available to claim \(")).click()
    shot(officer, "03-inbox-available")
    check_axe(officer, "inbox")
    row = officer.locator("tr", has_text=reference)
    assert row.count() == 1
    row.get_by_role("button", name=re.compile("^Claim")).click()
    officer.get_by_role("link", name=re.compile(r"^My tasks \(")).click()
    shot(officer, "04-inbox-mine")
    officer.locator("tr", has_text=reference).get_by_role("link", name=re.compile("^Identify")).click()
    expect(officer.get_by_role("heading", name="What to do")).to_be_visible()
    shot(officer, "05-task-identify-children")
    check_axe(officer, "task")

    # a missing rationale is refused with a field error first
    data = _step("identify_children")
    fill_task_form(officer, {k: v for k, v in data.items() if k != "identification_reasons"})
    officer.get_by_role("button", name="Complete", exact=True).click()
    expect(officer).to_have_title(re.compile("^Error:"))
    summary = officer.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Enter how the children and recipients were identified")
    # one "Save draft" control for assistive technology (the Enter-key default action is hidden)
    assert officer.get_by_role("button", name="Save draft").count() == 1
    expect(officer.locator("#identification_reasons-error")).to_be_visible()
    shot(officer, "06-task-missing-rationale")
    check_axe(officer, "task-with-errors")
    summary.get_by_role("link").first.click()
    fill_task_form(officer, data)
    officer.get_by_role("button", name="Complete", exact=True).click()
    expect(officer.get_by_role("heading", name="Task completed")).to_be_visible()
    shot(officer, "07-completed-identify-children")

    for n, element in enumerate(("assess_tests", "assess_proportionality", "consider_representations",
                                 "propose_decision"), start=8):
        officer.locator(".govuk-list a").first.click()  # the next step, in my Available to claim list
        officer.wait_for_load_state()
        expect(officer.locator("h1")).not_to_have_text("Task completed")
        fill_task_form(officer, _step(element))
        shot(officer, f"{n:02d}-task-{element.replace('_', '-')}")
        officer.get_by_role("button", name="Complete", exact=True).click()
        expect(officer.get_by_role("heading", name="Task completed")).to_be_visible()
    expect(officer.locator("main")).to_contain_text("now with the chair")
    shot(officer, "12-completed-propose-decision")
    sign_out(officer)

    # -- the chair signs off -------------------------------------------------------------------
    chair = new_page()
    sign_in(chair, "chair.kent")
    chair.get_by_role("link", name=re.compile(r"^Available to claim \(")).click()
    chair.locator("tr", has_text=reference).get_by_role("link", name=re.compile("^Chair signs off")).click()
    fill_task_form(chair, _step("chair_signoff"))
    shot(chair, "13-task-chair-signoff")
    chair.get_by_role("button", name="Complete", exact=True).click()
    expect(chair.get_by_role("heading", name="Task completed")).to_be_visible()
    expect(chair.get_by_role("link", name="View the decision recorded")).to_be_visible()
    shot(chair, "14-completed-chair-signoff")

    # -- the manager reviews -------------------------------------------------------------------
    manager = new_page()
    sign_in(manager, "manager.kent")
    manager.get_by_role("link", name="Decision log").click()
    manager.get_by_label("Area").select_option("kent")
    manager.get_by_label("Presumption applied").select_option("yes")
    manager.get_by_role("button", name="Apply filters").click()
    shot(manager, "15-decision-log")
    check_axe(manager, "decision-log")
    manager.locator("tr", has_text=reference).get_by_role("link").first.click()
    expect(manager.get_by_role("heading", name=re.compile("^Decision: Disclose"))).to_be_visible()
    for expected in ("Chair sign-off", "MAPPM/KENT/2027/044", "Housing disagreed", "Supt Amir Khan (chair)",
                     "Who decided", "chair.kent", "Versions"):
        expect(manager.locator("main")).to_contain_text(expected)
    shot(manager, "16-decision-detail")
    check_axe(manager, "decision-detail")

    manager.get_by_role("link", name="Back to the case").click()
    expect(manager.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    expect(manager.locator("main")).to_contain_text("Who viewed this case")
    shot(manager, "17-case")
    check_axe(manager, "case")

    manager.get_by_role("link", name="Change the MAPPA level").click()
    check_axe(manager, "case-level")
    manager.get_by_role("button", name="Change the level").click()
    expect(manager.locator("#level-error")).to_be_visible()  # no level chosen
    check_axe(manager, "case-level-with-errors")
    manager.get_by_label("Level 3").check()
    manager.get_by_label("Why the level is changing").fill("MAPP meeting raised the case: new intelligence of contact.")
    manager.get_by_role("button", name="Change the level").click()
    expect(manager.locator("main")).to_contain_text("The case is now at MAPPA level 3.")
    shot(manager, "17b-case-level-changed")

    manager.get_by_role("link", name="Statistics").click()
    expect(manager.get_by_role("heading", name="Area statistics")).to_be_visible()
    expect(manager.locator("table")).to_contain_text("Kent")
    shot(manager, "17a-statistics")
    check_axe(manager, "statistics")

    manager.get_by_role("link", name="Review periods").click()
    expect(manager.get_by_role("heading", name="MAPPA review periods")).to_be_visible()
    expect(manager.locator("tr", has_text="Kent")).to_contain_text("Every 16 weeks")
    check_axe(manager, "review-periods")

    # a manager pauses another case's consideration, with the reason, and resumes it
    manager.goto(f"/cases/{server['pause_case_id']}")
    manager.get_by_role("link", name=re.compile("^Pause this process")).click()
    check_axe(manager, "process-pause")
    manager.get_by_label("Why the process is being paused").fill("Waiting for the family court's decision on contact.")
    manager.get_by_role("button", name="Pause the process").click()
    expect(manager.locator("main")).to_contain_text("Paused since")
    shot(manager, "17c-case-paused")
    check_axe(manager, "case-paused")
    manager.get_by_role("link", name=re.compile("^Resume this process")).click()
    manager.get_by_label("Why the process is being resumed").fill("The court has decided: contact is supervised.")
    manager.get_by_role("button", name="Resume the process").click()
    expect(manager.locator("main")).to_contain_text("running again")

    # the manager finds that case again from the Cases page and starts a CSODS application on it
    paused_reference = manager.get_by_role("heading", level=1).inner_text().removeprefix("Case ").strip()
    manager.get_by_role("link", name="Cases", exact=True).click()
    check_axe(manager, "cases")
    manager.get_by_label("Case reference").fill(paused_reference)
    manager.get_by_role("button", name="Find cases").click()
    manager.get_by_role("link", name=paused_reference, exact=True).click()
    manager.get_by_role("link", name="Start a process").click()
    check_axe(manager, "case-start")
    manager.get_by_role("button", name="Start the process").click()
    expect(manager.locator("#workflow-error")).to_be_visible()  # nothing chosen
    check_axe(manager, "case-start-with-errors")
    manager.get_by_label("A Child Sex Offender Disclosure Scheme (Sarah's Law) application").check()
    manager.get_by_label("Right to know (the police decide to tell)").check()
    manager.get_by_role("button", name="Start the process").click()
    expect(manager.locator("main")).to_contain_text("Started: A Child Sex Offender Disclosure Scheme")
    shot(manager, "17d-process-started")
    manager.get_by_role("link", name="Cases", exact=True).click()
    manager.get_by_role("link", name="Add a case").click()
    check_axe(manager, "case-new")
    manager.get_by_role("button", name="Add the case").click()
    expect(manager.locator("#reference-error")).to_be_visible()
    check_axe(manager, "case-new-with-errors")
    shot(manager, "17e-case-new-with-errors")
    manager.goto(f"/cases/{server['pause_case_id']}")
    manager.get_by_role("link", name="Add a conviction").click()
    check_axe(manager, "conviction-new")
    manager.get_by_role("button", name="Add the conviction").click()
    expect(manager.locator("#reason-error, #convictions-0-statute-error").first).to_be_visible()
    check_axe(manager, "conviction-new-with-errors")
    manager.goto(f"/cases/{server['pause_case_id']}/convictions/0/remove")
    expect(manager.get_by_role("heading", name="Remove conviction 1")).to_be_visible()
    check_axe(manager, "conviction-remove")

    manager.get_by_role("link", name="Decision log").click()
    manager.get_by_role("button", name="Export CSV").click()
    shot(manager, "18-export")
    manager.get_by_role("button", name="Download CSV").click()
    expect(manager.locator("#justification-error")).to_be_visible()  # a justification is required
    shot(manager, "19-export-needs-justification")
    manager.get_by_label("Why do you need this export?").fill("Quarterly return to the Strategic Management Board")
    with manager.expect_download() as info:
        manager.get_by_role("button", name="Download CSV").click()
    csv_text = open(info.value.path(), encoding="utf-8").read()
    assert csv_text.startswith("id,") and reference in csv_text

    manager.goto("/audit")
    manager.get_by_role("button", name="Verify chain").click()
    expect(manager.locator("main")).to_contain_text("Audit chain verified: OK")
    shot(manager, "20-audit-verified")
    manager.goto("/work")
    shot(manager, "21-overdue-work")
    manager.goto("/workflows/s327a_consideration/versions/1")
    manager.wait_for_selector(".app-diagram--ready svg", timeout=15000)
    shot(manager, "22-workflow-diagram")

    # -- an officer of another area learns nothing ---------------------------------------------
    essex = new_page()
    sign_in(essex, "officer.essex")
    response = essex.goto(f"/cases/{case_id}")
    assert response.status == 404
    expect(essex.get_by_role("heading", name="Page not found")).to_be_visible()
    assert reference not in essex.content()
    shot(essex, "23-other-area-404")

    for page in (officer, chair, manager, essex):
        assert page.csp_violations == [], page.csp_violations


def test_a_case_waiting_for_a_schedule_34a_judgement_is_answered_in_the_browser(new_page, server):
    """The inbox points to the case, the case page says why nothing has started, and answering
    the question on its own page matches again and starts the consideration."""
    officer = new_page()
    sign_in(officer, "officer.kent")
    officer.goto("/tasks")
    officer.get_by_role("link", name="See the cases waiting for a judgement").click()
    officer.wait_for_load_state()
    expect(officer.get_by_role("heading", name="Cases waiting for a Schedule 34A judgement")).to_be_visible()
    check_axe(officer, "cases-waiting")
    officer.get_by_role("link", name=server["waiting_reference"]).click()
    officer.wait_for_load_state()
    expect(officer.locator("main")).to_contain_text("A judgement is needed")
    shot(officer, "30-case-waiting-for-judgement")
    check_axe(officer, "case-waiting")
    officer.get_by_role("link", name="Answer the question on Sexual Offences Act 2003 s.1").click()
    officer.wait_for_load_state()
    officer.get_by_role("button", name="Save and match again").click()
    officer.wait_for_load_state()
    expect(officer.locator("#victim_age-error")).to_be_visible()
    expect(officer.locator("#reason-error")).to_be_visible()
    shot(officer, "31-answer-with-errors")
    check_axe(officer, "answer-with-errors")
    officer.get_by_label("Victim's age at the time of the offence").fill("14")
    officer.get_by_label("Why you are recording this").fill(
        "Victim's date of birth taken from the CPS case file: she was 14 at the time.")
    officer.get_by_role("button", name="Save and match again").click()
    officer.wait_for_load_state()
    expect(officer.locator("main")).to_contain_text("the s.327A consideration has started")
    expect(officer.locator("main")).not_to_contain_text("A judgement is needed")
    shot(officer, "32-answered")
    assert officer.csp_violations == [], officer.csp_violations
