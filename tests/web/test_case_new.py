"""Add a case from the browser: every problem shown at its field (the service's own checks
included), nothing half-written, and a child sex offender's consideration starting at once."""
from __future__ import annotations

from sqlalchemy import func, select

from disclosure_engine.persistence.models import Case
from tests.web.conftest import csrf_token

URL = "/cases/new"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _form(c, **extra) -> dict:
    data = {"csrf_token": csrf_token(c, URL), "reference": "KNT-2027-000777", "area": "kent", "category": "1",
            "level": "2", "lead_agency": "police", "visor_ref": "VS7654321",
            "convictions-0-statute": "Sexual Offences Act 2003", "convictions-0-section": "9",
            "convictions-0-date-day": "14", "convictions-0-date-month": "3", "convictions-0-date-year": "2019",
            "convictions-0-disposal": "conviction", "convictions-0-victim_age": "13",
            "convictions-0-jurisdiction": "england-wales"}
    data.update(extra)
    return data


def _cases(world) -> int:
    with world["db"].transaction() as session:
        return session.execute(select(func.count()).select_from(Case)).scalar_one()


def test_an_officer_adds_a_child_sex_offenders_case_and_its_consideration_starts(world, signed_in):
    c = signed_in("officer.kent")
    assert 'href="/cases/new">Add a case' in _html(c.get("/cases"))
    page = _html(c.get(URL))
    for label in ('for="reference">Case reference', 'for="area">MAPPA area', 'for="visor_ref">ViSOR reference',
                  'for="convictions-0-statute">Statute', 'for="convictions-0-date-day">Day',
                  'for="convictions-0-disposal">Disposal'):
        assert label in page, label
    done = c.post(URL, data=_form(c), follow_redirects=True)
    text = _html(done)
    assert done.status_code == 200 and "Case KNT-2027-000777 added. Its s.327A consideration has started." in text
    assert "Paragraph" in text and "Sexual Offences Act 2003 s.9" in text
    with world["db"].transaction() as session:
        case = session.execute(select(Case).where(Case.reference == "KNT-2027-000777")).scalar_one()
        assert (case.level, case.visor_ref, case.child_sex_offender) == (2, "VS7654321", True)
        assert [(cv.statute, cv.section, cv.date.isoformat(), cv.victim_age) for cv in case.convictions] == \
            [("Sexual Offences Act 2003", "9", "2019-03-14", 13)]


def test_every_problem_is_shown_at_its_field_and_nothing_is_written(world, signed_in):
    c = signed_in("officer.kent")
    empty = c.post(URL, data={"csrf_token": csrf_token(c, URL), "area": "kent"})
    page = _html(empty)
    assert empty.status_code == 422 and "There is a problem" in page
    for field in ("reference", "category", "level", "lead_agency", "convictions-0-statute", "convictions-0-section",
                  "convictions-0-date", "convictions-0-disposal"):
        assert f'id="{field}-error"' in page, field
    half_date = c.post(URL, data=_form(c, **{"convictions-0-date-month": ""}))
    assert half_date.status_code == 422 and "Enter the date in full: day, month and year" in _html(half_date)
    # the service's own checks land on the right row, though a blank row sits between
    second = c.post(URL, data=_form(c, **{"convictions-2-statute": "Protection of Children Act 1978",
                                          "convictions-2-section": "1; DROP", "convictions-2-date-day": "1",
                                          "convictions-2-date-month": "2", "convictions-2-date-year": "2030"}))
    page = _html(second)
    assert second.status_code == 422
    assert 'id="convictions-2-section-error"' in page and 'id="convictions-2-date-error"' in page
    assert 'id="convictions-2-disposal-error"' in page and 'id="convictions-1-statute-error"' not in page
    assert 'value="Protection of Children Act 1978"' in page, "what was typed is kept"
    assert _cases(world) == 0


def test_a_reference_in_use_and_another_areas_case_are_refused(world, signed_in, make_case):
    existing = make_case("kent")
    c = signed_in("officer.kent")
    taken = c.post(URL, data=_form(c, reference=existing["reference"]))
    assert taken.status_code == 422 and f"A case with reference {existing['reference']} already exists" in _html(taken)
    essex = signed_in("officer.essex")
    forged = essex.post(URL, data=_form(essex, area="kent"))
    assert forged.status_code == 422 and "Select the MAPPA area the case is managed in" in _html(forged)
    assert signed_in("auditor").get(URL).status_code == 403
    assert _cases(world) == 1


def test_an_officer_adds_a_conviction_and_the_case_becomes_a_child_sex_offenders(world, signed_in):
    c = signed_in("officer.kent")
    data = _form(c, reference="KNT-2027-000778", **{"convictions-0-statute": "Theft Act 1968",
                                                      "convictions-0-section": "1", "convictions-0-victim_age": ""})
    case_page = _html(c.post(URL, data=data, follow_redirects=True))
    assert "Its s.327A consideration has started" not in case_page
    with world["db"].transaction() as session:
        case_id = session.execute(select(Case.id).where(Case.reference == "KNT-2027-000778")).scalar_one()
    url = f"/cases/{case_id}/convictions/new"
    assert f'href="{url}">Add a conviction' in case_page
    row = {"convictions-0-statute": "Sexual Offences Act 2003", "convictions-0-section": "9",
           "convictions-0-date-day": "2", "convictions-0-date-month": "5", "convictions-0-date-year": "2021",
           "convictions-0-disposal": "conviction", "convictions-0-victim_age": "12",
           "convictions-0-jurisdiction": "england-wales"}
    no_reason = c.post(url, data={"csrf_token": csrf_token(c, url), **row})
    assert no_reason.status_code == 422 and 'id="reason-error"' in _html(no_reason)
    bad_row = c.post(url, data={"csrf_token": csrf_token(c, url), **row, "convictions-0-section": "9; x",
                                "reason": "PNC check of 3 December showed a conviction not recorded before."})
    assert bad_row.status_code == 422 and 'id="convictions-0-section-error"' in _html(bad_row)
    done = c.post(url, data={"csrf_token": csrf_token(c, url), **row,
                             "reason": "PNC check of 3 December showed a conviction not recorded before."},
                  follow_redirects=True)
    assert "Conviction added; Schedule 34A matched again." in _html(done)
    with world["db"].transaction() as session:
        case = session.get(Case, case_id)
        assert case.child_sex_offender and [cv.statute for cv in case.convictions] == \
            ["Theft Act 1968", "Sexual Offences Act 2003"]
    assert signed_in("officer.essex").get(url).status_code == 404
    assert signed_in("auditor").get(url).status_code == 403


def test_an_officer_corrects_a_recorded_conviction(world, signed_in, make_case):
    case = make_case("kent")  # SOA 2003 s.9, 14 March 2019, victim 13: a child sex offender
    c = signed_in("officer.kent")
    url = f"/cases/{case['id']}/convictions/0/change"
    assert f'href="{url}">Change' in _html(c.get(f"/cases/{case['id']}"))
    form = _html(c.get(url))
    assert "Change conviction 1" in form and 'value="Sexual Offences Act 2003"' in form
    assert 'id="convictions-0-date-day" name="convictions-0-date-day" type="text" inputmode="numeric" value="14"' in form
    row = {"convictions-0-statute": "Sexual Offences Act 2003", "convictions-0-section": "9",
           "convictions-0-date-day": "14", "convictions-0-date-month": "3", "convictions-0-date-year": "2019",
           "convictions-0-disposal": "conviction", "convictions-0-victim_age": "19",
           "convictions-0-jurisdiction": "england-wales"}
    done = c.post(url, data={"csrf_token": csrf_token(c, url), **row,
                             "reason": "The victim's age was mistyped: the CPS file gives 19 at the offence."},
                  follow_redirects=True)
    assert "Conviction 1 changed; Schedule 34A matched again." in _html(done)
    with world["db"].transaction() as session:
        stored = session.get(Case, case["id"])
        assert [cv.victim_age for cv in stored.convictions] == [19]
    assert c.get(f"/cases/{case['id']}/convictions/5/change").status_code == 404


def test_a_conviction_recorded_by_mistake_is_removed_with_the_reason_but_never_the_last(world, signed_in,
                                                                                       make_case):
    case = make_case("kent")
    c = signed_in("officer.kent")
    only = f"/cases/{case['id']}/convictions/0/remove"
    assert "only conviction, so it cannot be removed" in _html(c.get(only))
    assert 'convictions/0/remove"' not in _html(c.get(f"/cases/{case['id']}")), "no Remove link for the last one"
    add = f"/cases/{case['id']}/convictions/new"
    c.post(add, data={"csrf_token": csrf_token(c, add), "convictions-0-statute": "Theft Act 1968",
                      "convictions-0-section": "1", "convictions-0-date-day": "1", "convictions-0-date-month": "6",
                      "convictions-0-date-year": "2020", "convictions-0-disposal": "caution",
                      "convictions-0-jurisdiction": "england-wales",
                      "reason": "PNC check of 3 December showed a caution not recorded before."})
    url = f"/cases/{case['id']}/convictions/1/remove"
    assert f'href="{url}">Remove' in _html(c.get(f"/cases/{case['id']}"))
    refused = c.post(url, data={"csrf_token": csrf_token(c, url), "reason": "n/a"})
    assert refused.status_code == 422 and 'id="reason-error"' in _html(refused)
    done = c.post(url, data={"csrf_token": csrf_token(c, url),
                             "reason": "The caution belongs to another offender with a similar PNC number."},
                  follow_redirects=True)
    assert "Conviction 2 removed; Schedule 34A matched again." in _html(done)
    with world["db"].transaction() as session:
        assert [cv.statute for cv in session.get(Case, case["id"]).convictions] == ["Sexual Offences Act 2003"]
    assert c.post(only, data={"csrf_token": csrf_token(c, only), "reason": "Recorded by mistake, it is not his."}) \
        .status_code == 200, "the only conviction: nothing is sent to the service"
    assert signed_in("auditor").get(url).status_code == 403


def test_changing_a_convictions_statute_keeps_that_it_was_an_attempt(world, signed_in):
    from disclosure_engine.domain.roles import SYSTEM
    from disclosure_engine.services import cases as case_service

    case = case_service.create_case(world["db"], SYSTEM, {
        "reference": "KNT-2027-000779", "area": "kent", "category": 1, "level": 1, "lead_agency": "police",
        "convictions": [{"statute": "Sexual Offences Act 2003", "section": "8", "date": "2019-03-14",
                         "disposal": "conviction", "victim_age": 11, "inchoate": "attempt"}]})
    c = signed_in("officer.kent")
    url = f"/cases/{case['id']}/convictions/0/change"
    row = {"convictions-0-statute": "Sexual Offences Act 2003", "convictions-0-section": "9",
           "convictions-0-date-day": "14", "convictions-0-date-month": "3", "convictions-0-date-year": "2019",
           "convictions-0-disposal": "conviction", "convictions-0-victim_age": "11",
           "convictions-0-jurisdiction": "england-wales"}
    done = c.post(url, data={"csrf_token": csrf_token(c, url), **row,
                             "reason": "The section was mistyped: the certificate of conviction says s.9."})
    assert done.status_code == 302
    with world["db"].transaction() as session:
        (stored,) = session.get(Case, case["id"]).convictions
        assert (stored.section, stored.inchoate) == ("9", "attempt")
