"""Inbox, claim/release/reassign and the task page (form rendering, errors, drafts, completion)."""
from __future__ import annotations

from sqlalchemy import select

from disclosure_engine.persistence.models import AuditEvent, HumanTask
from tests.web.conftest import (
    LEVEL1,
    LEVEL2,
    advance,
    csrf_token,
    open_task,
    post_form,
    step_data,
)


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_inbox_tabs_and_available_task(make_case, signed_in, world):
    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    c = signed_in("officer.kent")
    html = _html(c.get("/tasks"))
    assert "My tasks (0)" in html and "Available to claim (1)" in html and "Overdue (0)" in html
    html = _html(c.get("/tasks?tab=available"))
    assert case["reference"] in html and task.name in html and "Kent" in html and "Due in" in html
    assert f'action="/tasks/{task.id}/claim"' in html
    assert "Reassign" not in html  # officers cannot reassign


def test_claim_and_release(make_case, signed_in, world):
    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    c = signed_in("officer.kent")
    token = csrf_token(c, "/tasks")
    r = c.post(f"/tasks/{task.id}/claim", data={"csrf_token": token, "return_to": "/tasks?tab=available"})
    assert r.status_code == 302 and r.headers["Location"] == "/tasks?tab=available"
    for elsewhere in ("//evil.example/x", "/\t/evil.example/x", "/\\evil.example", "https://evil.example/"):
        c.post(f"/tasks/{task.id}/release", data={"csrf_token": token})
        r = c.post(f"/tasks/{task.id}/claim", data={"csrf_token": token, "return_to": elsewhere})
        assert r.status_code == 302 and r.headers["Location"] == "/tasks", elsewhere  # never off the site
    assert case["reference"] in _html(c.get("/tasks?tab=mine"))
    other = signed_in("officer2.kent")
    token2 = csrf_token(other, "/tasks")
    assert other.post(f"/tasks/{task.id}/claim", data={"csrf_token": token2}).status_code == 409
    c.post(f"/tasks/{task.id}/release", data={"csrf_token": token})
    assert "My tasks (0)" in _html(c.get("/tasks"))


def test_inbox_is_sorted_and_paginated(make_case, signed_in):
    for _ in range(27):
        make_case("kent")
    c = signed_in("officer.kent")
    html = _html(c.get("/tasks?tab=available"))
    assert "govuk-pagination" in html and "KNT-2026-000001" in html and "KNT-2026-000027" not in html
    assert "KNT-2026-000027" in _html(c.get("/tasks?tab=available&page=2"))


def test_task_page_renders_instructions_form_and_case_summary(make_case, signed_in, world):
    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    html = _html(signed_in("officer.kent").get(f"/tasks/{task.id}"))
    assert "What to do" in html and case["reference"] in html
    assert "Schedule 34A matches" in html and "Earlier decisions" in html
    assert 'for="identification_reasons"' in html and 'id="identification_reasons-hint"' in html
    assert 'name="recipients.0.name_or_role"' in html and 'value="add:recipients"' in html
    assert ">Complete</button>" in html and ">Save draft</button>" in html


def test_missing_rationale_and_placeholder_are_field_errors(make_case, signed_in, world):
    case = make_case("kent")
    pid = case["processes"][0]["id"]
    advance(world["db"], pid, LEVEL1, "assess_tests")
    task = open_task(world["db"], pid, "assess_tests")
    c = signed_in("officer.kent")
    data = step_data(LEVEL1, "assess_tests")
    data.pop("serious_harm_reasons")
    data["necessity_reasons"] = "n/a"
    r = post_form(c, f"/tasks/{task.id}", data, "complete")
    html = _html(r)
    assert r.status_code == 422
    assert "<title>Error:" in html and "govuk-error-summary" in html
    assert 'href="#serious_harm_reasons"' in html and 'id="serious_harm_reasons-error"' in html
    assert "placeholder such as &#34;n/a&#34; is not a reason" in html or "is not a reason" in html
    assert 'href="#necessity_reasons"' in html
    # what was typed is kept
    assert "n/a</textarea>" in html
    assert open_task(world["db"], pid, "assess_tests").status == "open"


def test_save_draft_keeps_answers(make_case, signed_in, world):
    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    c = signed_in("officer.kent")
    data = {"identification_reasons": "Checked school and GP records for the household."}
    r = post_form(c, f"/tasks/{task.id}", data, "save_draft")
    assert r.status_code == 302
    html = _html(c.get(f"/tasks/{task.id}"))
    assert "Your draft was saved" in html and "Checked school and GP records" in html


def test_add_another_and_remove_rows_without_javascript(make_case, signed_in, world):
    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    c = signed_in("officer.kent")
    data = {"recipients": [{"name_or_role": "Mother", "relationship": "Parent", "ability_to_protect": "Lives there"}]}
    html = _html(post_form(c, f"/tasks/{task.id}", data, "add:recipients"))
    assert 'name="recipients.1.name_or_role"' in html and 'value="Mother"' in html
    html = _html(post_form(c, f"/tasks/{task.id}", data, "remove:recipients:0"))
    assert 'value="Mother"' not in html


def test_complete_every_level1_step_through_the_pages(make_case, signed_in, world):
    case = make_case("kent")
    pid = case["processes"][0]["id"]
    officer, manager = signed_in("officer.kent"), signed_in("manager.kent")
    for element in ("identify_children", "assess_tests", "assess_proportionality", "consider_representations", "decide"):
        task = open_task(world["db"], pid, element)
        c = manager if element == "decide" else officer  # level 1: an authorised manager decides
        r = post_form(c, f"/tasks/{task.id}", step_data(LEVEL1, element), "complete")
        assert r.status_code == 302, _html(r)[-3000:]
        html = _html(c.get(r.headers["Location"]))
        assert "Task completed" in html and "What happens next" in html
    assert "View the decision recorded" in html and "process is now finished" in html
    with world["db"].transaction() as session:
        assert session.execute(select(HumanTask).where(HumanTask.instance_id == pid, HumanTask.status == "open")).first() is None


def test_completed_task_shows_answers_not_inputs(make_case, signed_in, world):
    case = make_case("kent")
    pid = case["processes"][0]["id"]
    advance(world["db"], pid, LEVEL1, "assess_tests")
    with world["db"].transaction() as session:
        done = session.execute(select(HumanTask.id).where(HumanTask.instance_id == pid,
                                                          HumanTask.status == "completed")).scalar_one()
    html = _html(signed_in("officer.kent").get(f"/tasks/{done}"))
    assert "Answers" in html and "<textarea" not in html


def test_read_only_presumption_is_shown_not_editable(make_case, signed_in, world):
    case = make_case("kent")
    pid = case["processes"][0]["id"]
    advance(world["db"], pid, LEVEL1, "decide")
    task = open_task(world["db"], pid, "decide")
    html = _html(signed_in("manager.kent").get(f"/tasks/{task.id}"))
    assert "Presumption to disclose applies" in html and 'name="presumption_applies"' not in html
    assert 'value="s327a" checked' in html  # the schema default is preselected


def test_kent_task_is_404_for_essex_officer(make_case, signed_in, world):
    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    c = signed_in("officer.essex")
    assert c.get(f"/tasks/{task.id}").status_code == 404
    assert c.get(f"/cases/{case['id']}").status_code == 404
    token = csrf_token(c, "/tasks")
    assert c.post(f"/tasks/{task.id}/claim", data={"csrf_token": token}).status_code == 404
    assert case["reference"] not in _html(c.get("/tasks?tab=available"))


def test_chair_cannot_complete_an_officer_task(make_case, signed_in, world):
    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    c = signed_in("chair.kent")
    html = _html(c.get(f"/tasks/{task.id}"))
    assert "you can read it but not complete it" in html and 'id="task-form"' not in html
    r = post_form(c, f"/tasks/{task.id}", step_data(LEVEL1, "identify_children"), "complete")
    assert r.status_code == 403


def test_reassign_by_chair_is_audited_and_area_checked(make_case, signed_in, world):
    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    chair = signed_in("chair.kent")
    html = _html(chair.get(f"/tasks/{task.id}/reassign"))
    assert "officer2.kent" in html and "officer.essex" not in html
    token = csrf_token(chair, f"/tasks/{task.id}/reassign")
    r = chair.post(f"/tasks/{task.id}/reassign", data={"csrf_token": token, "username": "officer.essex"})
    assert r.status_code == 422 and "govuk-error-summary" in _html(r)
    r = chair.post(f"/tasks/{task.id}/reassign", data={"csrf_token": token, "username": "officer2.kent"})
    assert r.status_code == 302
    assert case["reference"] in _html(signed_in("officer2.kent").get("/tasks?tab=mine"))
    with world["db"].transaction() as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "task.reassigned")).scalar_one()
        assert event.detail == {"from": None, "to": "officer2.kent"}
    assert signed_in("officer.kent").get(f"/tasks/{task.id}/reassign").status_code == 403


def test_level2_chair_signoff_page(make_case, signed_in, world):
    case = make_case("kent", level=2)
    pid = case["processes"][0]["id"]
    advance(world["db"], pid, LEVEL2, "chair_signoff")
    task = open_task(world["db"], pid, "chair_signoff")
    c = signed_in("chair.kent")
    assert case["reference"] in _html(c.get("/tasks?tab=available"))
    r = post_form(c, f"/tasks/{task.id}", step_data(LEVEL2, "chair_signoff"), "complete")
    assert r.status_code == 302, _html(r)[-2000:]
    assert "View the decision recorded" in _html(c.get(r.headers["Location"]))


def test_the_task_page_says_why_a_proposer_or_an_admin_cannot_do_the_step(make_case, signed_in, world):
    """The page asks the services who may do the task: the proposer who is also a chair sees the
    four-eyes rule, an administrator the decision they may not take; neither gets the form."""
    from disclosure_engine.services import tasks as task_service
    from disclosure_engine.services.users import create_user
    from tests.web.conftest import PASSWORD, actor

    db = world["db"]
    create_user(db, "dual.kent", roles=["officer", "chair"], areas=["kent"], password=PASSWORD)
    create_user(db, "admin", roles=["admin"], areas=[], password=PASSWORD)
    level2 = make_case("kent", level=2)["processes"][0]["id"]
    advance(db, level2, LEVEL2, "propose_decision")
    task_service.complete(db, actor(db, "dual.kent"), open_task(db, level2, "propose_decision").id,
                          step_data(LEVEL2, "propose_decision"))
    signoff = open_task(db, level2, "chair_signoff")
    c = signed_in("dual.kent")
    html = _html(c.get(f"/tasks/{signoff.id}"))
    assert "another chair must do" in html and "four-eyes rule" in html and 'id="task-form"' not in html
    assert f'action="/tasks/{signoff.id}/claim"' not in html
    assert post_form(c, f"/tasks/{signoff.id}", step_data(LEVEL2, "chair_signoff"), "complete").status_code == 403

    level1 = make_case("kent")["processes"][0]["id"]
    advance(db, level1, LEVEL1, "decide")
    decide = open_task(db, level1, "decide")
    html = _html(signed_in("admin").get(f"/tasks/{decide.id}"))
    assert "records or signs off a decision" in html and 'id="task-form"' not in html


def test_the_tests_page_shows_who_was_identified_and_refuses_yes_without_them(make_case, signed_in, world):
    """Tests (a) and (b) are about particular children and a particular person: the page shows
    those recorded at the previous step, and with none recorded a "yes" is a field error."""
    from disclosure_engine.services import tasks as task_service
    from tests.web.conftest import actor

    case = make_case("kent")
    pid = case["processes"][0]["id"]
    advance(world["db"], pid, LEVEL1, "assess_tests")
    shown = _html(signed_in("officer.kent").get(f"/tasks/{open_task(world['db'], pid, 'assess_tests').id}"))
    assert "Children at risk" in shown and "Child A, daughter of the subject" in shown

    other = make_case("kent")
    opid = other["processes"][0]["id"]
    officer = actor(world["db"], "officer.kent")
    task_service.complete(world["db"], officer, open_task(world["db"], opid, "identify_children").id, {
        "children_at_risk": [], "recipients": [],
        "identification_reasons": "Checked with children's social care and the school: no child has contact."})
    task = open_task(world["db"], opid, "assess_tests")
    c = signed_in("officer.kent")
    refused = post_form(c, f"/tasks/{task.id}", {**step_data(LEVEL1, "assess_tests")}, "complete")
    assert refused.status_code == 422
    body = _html(refused)
    assert "Test (a) is about a particular child" in body and "Test (b) is about disclosure to a particular person" in body
    assert "None recorded" in body


def test_an_urgent_disclosure_in_progress_is_flagged_on_the_cases_other_work(make_case, signed_in, world):
    """The urgent route comes first: while one runs, the case's other open tasks say so."""
    from disclosure_engine.domain.roles import SYSTEM
    from disclosure_engine.services import processes

    case = make_case("kent")
    task = open_task(world["db"], case["processes"][0]["id"])
    c = signed_in("officer.kent")
    assert "An urgent disclosure is in progress" not in _html(c.get(f"/tasks/{task.id}"))
    urgent = processes.start_process(world["db"], SYSTEM, case["id"], "urgent_disclosure")
    page = _html(c.get(f"/tasks/{task.id}"))
    assert "An urgent disclosure is in progress" in page and f"#process-{urgent['id']}" in page
    # and it interrupts the consideration: the task waits until the urgent route has ended
    assert urgent["interrupted"] == [case["processes"][0]["id"]]
    assert "its process is paused" in page and "resumes by itself" in page
    assert "An urgent disclosure is in progress" in _html(c.get(f"/cases/{case['id']}"))
    urgent_task = open_task(world["db"], urgent["id"])
    assert "An urgent disclosure is in progress" not in _html(c.get(f"/tasks/{urgent_task.id}"))
