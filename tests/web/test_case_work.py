"""The Cases page finds a case by its reference (only in the user's areas, and the page is a
consultation, audited), and "Start a process" on a case page starts a consideration on new
information, a CSODS application, the urgent route or a disclosure delivery, with the start
fields each needs."""
from __future__ import annotations

import re

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import ProcessInstance
from disclosure_engine.services import audit
from disclosure_engine.services import processes as process_service
from disclosure_engine.services import tasks as task_service
from tests.web.conftest import actor, advance, csrf_token, open_task, step_data

DISCLOSE = "level 1, presumption applies, disclose"


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_an_officer_finds_a_case_by_its_reference_in_their_areas_only(world, signed_in, make_case):
    kent = make_case("kent")
    essex = make_case("essex")
    c = signed_in("officer.kent")
    home = _html(c.get("/tasks"))
    assert re.search(r'href="/cases">\s*Cases\s*</a>', home), "Cases is in the menu"
    listed = _html(c.get("/cases"))
    assert f'href="/cases/{kent["id"]}">{kent["reference"]}' in listed and essex["reference"] not in listed
    found = _html(c.get(f"/cases?reference={kent['reference']}"))
    assert 'for="reference">Case reference</label>' in found and "1 case, newest first" in found
    assert kent["reference"] in found
    other = _html(c.get(f"/cases?reference={essex['reference']}"))
    assert f"No case in your areas has the reference {essex['reference']}" in other
    assert essex["reference"] not in other.split("No case in your areas")[0].split("</form>")[-1]
    by_visor = _html(c.get("/cases?visor_ref=VS1234567"))  # both cases' offender has it
    assert kent["reference"] in by_visor and essex["reference"] not in by_visor
    assert "No case in your areas has the ViSOR reference VS0000000" in _html(c.get("/cases?visor_ref=VS0000000"))
    events = audit.list_events(world["db"], SYSTEM, action="cases.listed")
    assert events and all(essex["id"] not in e["detail"]["ids"] for e in events)


def test_an_officer_starts_an_urgent_disclosure_from_the_case_page(world, signed_in, make_case):
    case = make_case("kent")
    (consideration,) = [p["id"] for p in case["processes"]]
    c = signed_in("officer.kent")
    url = f"/cases/{case['id']}/start"
    assert f'href="{url}">Start a process' in _html(c.get(f"/cases/{case['id']}"))
    form = _html(c.get(url))
    assert "<legend" in form and "Which process" in form
    assert 'for="urgent_trigger">A police report of immediate risk</label>' in form
    assert f'#process-{consideration}">' in form, "what is running already is listed"

    missing = c.post(url, data={"csrf_token": csrf_token(c, url)})
    assert missing.status_code == 422 and "Select the process to start" in _html(missing)
    no_trigger = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "urgent_disclosure"})
    assert no_trigger.status_code == 422 and "Select what showed the immediate risk" in _html(no_trigger)
    assert len(process_service.get_process(world["db"], SYSTEM, consideration)["open_tasks"]) == 1

    done = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "urgent_disclosure",
                             "urgent_trigger": "police_report"}, follow_redirects=True)
    page = _html(done)
    assert "Started: Urgent risk: immediate safeguarding and emergency disclosure (process" in page
    assert "It paused the case&#39;s 1 other running process until it ends." in page
    started = [e for e in audit.list_events(world["db"], SYSTEM, action="process.started")
               if e["detail"]["workflow"] == "urgent_disclosure"]
    assert len(started) == 1 and started[0]["actor_name"] == "officer.kent"
    assert started[0]["detail"]["trigger"] == "police_report"
    assert process_service.get_process(world["db"], SYSTEM, consideration)["paused"]["by_process"] \
        == int(started[0]["subject_id"])
    assert f'While it runs, this process of the case waits:\n      <a class="govuk-link" href="#process-{consideration}"' \
        in page


def test_a_csods_application_and_a_consideration_on_new_information_start_with_their_fields(
        world, signed_in, make_case):
    case = make_case("kent")
    c = signed_in("officer.kent")
    url = f"/cases/{case['id']}/start"
    bad = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "csods_application",
                            "scheme_route": "right_to_ask", "application_reference": "<script>"})
    assert bad.status_code == 422 and "Enter the application reference as it is written" in _html(bad)
    ok = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "csods_application",
                           "scheme_route": "right_to_ask", "application_reference": "CSODS/KNT/2026/17"})
    assert ok.status_code == 302
    twice = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "s327a_consideration",
                              "new_information": "new_relationship"})
    assert twice.status_code == 422 and "A consideration is already running for this case" in _html(twice)
    (consideration,) = [p["id"] for p in case["processes"]]
    with world["db"].transaction() as session:  # the case's consideration ends (withdrawn by the test)
        session.get(ProcessInstance, consideration).status = "completed"
    again = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "s327a_consideration",
                              "new_information": "new_relationship"})
    assert again.status_code == 302
    started = {e["detail"]["workflow"]: e["detail"] for e in audit.list_events(world["db"], SYSTEM,
                                                                              action="process.started")}
    assert started["csods_application"]["trigger"] == "manual"
    triggers = sorted(e["detail"]["trigger"] for e in audit.list_events(world["db"], SYSTEM, action="process.started")
                      if e["detail"]["workflow"] == "s327a_consideration")
    assert triggers == ["case_created", "new_relationship"]


def test_who_may_start_a_process(world, signed_in, make_case):
    case = make_case("kent")
    url = f"/cases/{case['id']}/start"
    assert signed_in("officer.essex").get(url).status_code == 404, "another area's case is not found"
    auditor = signed_in("auditor")
    assert auditor.get(url).status_code == 403
    assert 'href="/cases/%d/start"' % case["id"] not in _html(auditor.get(f"/cases/{case['id']}"))
    assert signed_in("officer.kent").post(url, data={"workflow": "urgent_disclosure",
                                                      "urgent_trigger": "police_report"}).status_code == 400


def test_a_delivery_is_started_by_hand_for_the_decision_to_disclose_chosen(world, signed_in, make_case):
    """For when the delivery did not start by itself (a decision corrected to disclose, a
    delivery cancelled): the page offers the case's current decisions to disclose, by name,
    and starts the delivery for the one chosen."""
    db = world["db"]
    case = make_case("kent")
    (consideration,) = [p["id"] for p in case["processes"]]
    c = signed_in("manager.kent")
    url = f"/cases/{case['id']}/start"
    form = _html(c.get(url))
    assert 'for="workflow-4">Disclosure delivery: carry out a decision to disclose</label>' in form
    assert "No current decision to disclose is recorded on this case" in form
    none = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "disclosure_delivery"})
    assert none.status_code == 422 and "record the decision first" in _html(none)

    advance(db, consideration, DISCLOSE, "decide")
    decide = open_task(db, consideration, "decide")
    decided = task_service.complete(db, actor(db, "manager.kent"), decide.id, step_data(DISCLOSE, "decide"))
    decision_id = decided["decision_id"]
    form = _html(c.get(url))
    assert f'value="{decision_id}"' in form and f"Decision {decision_id} (s.327A consideration, version 1)" in form
    unchosen = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "disclosure_delivery"})
    assert unchosen.status_code == 422
    assert "Select the decision to disclose that this delivery carries out" in _html(unchosen)
    forged = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "disclosure_delivery",
                               "decision_id": str(decision_id + 1000)})
    assert forged.status_code == 422, "only a decision the page offered"

    done = c.post(url, data={"csrf_token": csrf_token(c, url), "workflow": "disclosure_delivery",
                             "decision_id": str(decision_id)}, follow_redirects=True)
    assert "Started: Disclosure delivery: carry out a decision to disclose (process" in _html(done)
    (started,) = [e for e in audit.list_events(db, SYSTEM, action="process.started")
                  if e["detail"]["workflow"] == "disclosure_delivery"]
    assert started["detail"]["decision_id"] == decision_id and started["actor_name"] == "manager.kent"
