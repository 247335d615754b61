"""Cases waiting for a Schedule 34A judgement: listed from the inbox, explained on the case
page, and answered on a page of their own, which matches again and starts the consideration."""
from __future__ import annotations

from sqlalchemy import select

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import AuditEvent
from disclosure_engine.services import cases as case_service
from tests.web.conftest import case_payload, csrf_token

AGE_UNKNOWN = {"statute": "Sexual Offences Act 2003", "section": "1", "date": "2015-06-02",
               "disposal": "conviction", "jurisdiction": "england-wales"}
FOREIGN = {"statute": "Code penal", "section": "227-25", "date": "2016-01-20", "disposal": "conviction",
           "jurisdiction": "france"}
WHY = "Victim's date of birth confirmed from the CPS file: she was 15 at the time of the offence."


def _html(response) -> str:
    return response.get_data(as_text=True)


def _waiting_case(world, *convictions, reference="KNT-2026-000901"):
    return case_service.create_case(world["db"], SYSTEM, {**case_payload(reference), "convictions": list(convictions)})


def test_the_inbox_points_to_cases_waiting_and_the_case_page_says_why(world, signed_in):
    case = _waiting_case(world, AGE_UNKNOWN)
    c = signed_in("officer.kent")
    inbox = _html(c.get("/tasks"))
    assert "1 case is waiting for a Schedule 34A judgement" in inbox
    listed = _html(c.get("/cases/waiting"))
    assert case["reference"] in listed and f'href="/cases/{case["id"]}"' in listed
    page = _html(c.get(f"/cases/{case['id']}"))
    assert "Schedule 34A questions" in page and "A judgement is needed" in page
    assert "record the victim&#39;s age" in page or "record the victim's age" in page
    assert f'href="/cases/{case["id"]}/convictions/0"' in page
    # another area sees nothing of it
    essex = signed_in("officer.essex")
    assert "waiting for a Schedule 34A judgement" not in _html(essex.get("/tasks"))
    assert case["reference"] not in _html(essex.get("/cases/waiting"))
    assert essex.get(f"/cases/{case['id']}/convictions/0").status_code == 404


def test_answering_the_victims_age_matches_again_and_starts_the_consideration(world, signed_in):
    case = _waiting_case(world, AGE_UNKNOWN)
    c = signed_in("officer.kent")
    url = f"/cases/{case['id']}/convictions/0"
    form = _html(c.get(url))
    assert '<label class="govuk-label" for="victim_age">Victim&#39;s age at the time of the offence</label>' in form
    assert '<label class="govuk-label" for="reason">Why you are recording this</label>' in form

    refused = c.post(url, data={"csrf_token": csrf_token(c, url), "victim_age": "fifteen", "reason": "n/a"})
    assert refused.status_code == 422
    body = _html(refused)
    assert "There is a problem" in body and "whole number" in body
    assert case_service.get_case(world["db"], SYSTEM, case["id"])["child_sex_offender"] is False

    done = c.post(url, data={"csrf_token": csrf_token(c, url), "victim_age": "15", "reason": WHY})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case['id']}")
    page = _html(c.get(done.headers["Location"]))
    assert "the s.327A consideration has started" in page
    assert "Schedule 34A questions" not in page
    now = case_service.get_case(world["db"], SYSTEM, case["id"])
    assert now["child_sex_offender"] is True and [p["workflow"] for p in now["processes"]] == ["s327a_consideration"]
    with world["db"].transaction() as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "case.convictions_amended")).scalar_one()
    assert event.actor_name == "officer.kent" and event.justification == WHY


def test_a_placeholder_reason_and_a_weak_opinion_are_field_errors(world, signed_in):
    case = _waiting_case(world, FOREIGN, reference="KNT-2026-000902")
    c = signed_in("officer.kent")
    url = f"/cases/{case['id']}/convictions/0"
    assert 'for="equivalent_statute">Equivalent England and Wales statute</label>' in _html(c.get(url))
    refused = c.post(url, data={"csrf_token": csrf_token(c, url), "equivalent_statute": "Sexual Offences Act 2003",
                                "equivalent_section": "9", "opinion_reasons": "same", "opinion_by": "",
                                "reason": "n/a"})
    assert refused.status_code == 422
    body = _html(refused)
    assert 'id="opinion_reasons-error"' in body and 'id="opinion_by-error"' in body and 'id="reason-error"' in body


def test_only_roles_that_may_change_a_case_get_the_form(world, signed_in):
    case = _waiting_case(world, AGE_UNKNOWN)
    auditor = signed_in("auditor")
    assert auditor.get(f"/cases/{case['id']}/convictions/0").status_code == 403
    assert f'href="/cases/{case["id"]}/convictions/0"' not in _html(auditor.get(f"/cases/{case['id']}"))
    officer = signed_in("officer.kent")
    no_csrf = officer.post(f"/cases/{case['id']}/convictions/0", data={"victim_age": "15", "reason": WHY})
    assert no_csrf.status_code == 400
    assert case_service.get_case(world["db"], SYSTEM, case["id"])["child_sex_offender"] is False


def test_a_mistyped_statute_is_asked_about_and_corrected_on_the_page(world, signed_in):
    typo = {"statute": "Sexual Offenses Act 2003", "section": "9", "date": "2018-04-04", "disposal": "conviction",
            "victim_age": 12, "jurisdiction": "england-wales"}
    case = _waiting_case(world, typo, reference="KNT-2026-000903")
    assert [q["kind"] for q in case["schedule_34a_review"]] == ["check_statute"] and case["processes"] == []
    c = signed_in("officer.kent")
    url = f"/cases/{case['id']}/convictions/0"
    form = _html(c.get(url))
    assert "No: it should be the Sexual Offences Act 2003" in form and 'for="statute_answer-confirm"' in form
    refused = c.post(url, data={"csrf_token": csrf_token(c, url), "reason": WHY})
    assert refused.status_code == 422 and 'id="statute_answer-error"' in _html(refused)
    done = c.post(url, data={"csrf_token": csrf_token(c, url), "statute_answer": "correct",
                             "reason": "The PNC print shows the Sexual Offences Act 2003; the 'Offenses' was a typing slip."})
    assert done.status_code == 302
    now = case_service.get_case(world["db"], SYSTEM, case["id"])
    assert now["convictions"][0]["statute"] == "Sexual Offences Act 2003" and now["child_sex_offender"] is True
    assert [p["workflow"] for p in now["processes"]] == ["s327a_consideration"]


def test_a_statute_confirmed_as_recorded_ends_the_question(world, signed_in):
    odd = {"statute": "Sexual Offence Act 2003", "section": "9", "date": "2018-04-04", "disposal": "conviction",
           "jurisdiction": "england-wales"}
    case = _waiting_case(world, odd, reference="KNT-2026-000904")
    c = signed_in("officer.kent")
    url = f"/cases/{case['id']}/convictions/0"
    assert [q["kind"] for q in case["schedule_34a_review"]] == ["check_statute"]
    done = c.post(url, data={"csrf_token": csrf_token(c, url), "statute_answer": "confirm", "reason": WHY})
    assert done.status_code == 302
    now = case_service.get_case(world["db"], SYSTEM, case["id"])
    assert now["schedule_34a_review"] == [] and now["convictions"][0]["statute_confirmed"] is True
    assert now["child_sex_offender"] is False
