"""The case page's "Change the MAPPA level": for chairs and managers of the case's area, a form
with the levels and the reason, refusing what the service refuses, CSRF-protected."""
from __future__ import annotations

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.services import cases as case_service
from tests.web.conftest import csrf_token

WHY = "MAPP meeting of 1 December raised the case: new intelligence of contact with a child."


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_a_manager_changes_the_level_from_the_case_page(world, signed_in, make_case):
    case = make_case(level=1)
    c = signed_in("manager.kent")
    page = _html(c.get(f"/cases/{case['id']}"))
    url = f"/cases/{case['id']}/level"
    assert f'href="{url}">Change the MAPPA level</a>' in page
    form = _html(c.get(url))
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--m">New MAPPA level</legend>' in form
    assert 'for="level-3">Level 3</label>' in form and 'for="reason">Why the level is changing</label>' in form

    refused = c.post(url, data={"csrf_token": csrf_token(c, url), "level": "1", "reason": "n/a"})
    assert refused.status_code == 422
    body = _html(refused)
    assert "There is a problem" in body and "already at level 1" in body and 'href="#reason"' in body
    assert c.post(url, data={"level": "3", "reason": WHY}).status_code == 400, "no CSRF token, no change"
    assert case_service.get_case(world["db"], SYSTEM, case["id"])["level"] == 1

    done = c.post(url, data={"csrf_token": csrf_token(c, url), "level": "3", "reason": WHY})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case['id']}")
    after = _html(c.get(done.headers["Location"]))
    assert "The case is now at MAPPA level 3." in after and "Category 1, level 3" in after
    assert case_service.get_case(world["db"], SYSTEM, case["id"])["level"] == 3


def test_officers_and_other_areas_cannot_change_a_level(world, signed_in, make_case):
    case = make_case(level=1)
    officer = signed_in("officer.kent")
    assert "Change the MAPPA level" not in _html(officer.get(f"/cases/{case['id']}"))
    assert officer.get(f"/cases/{case['id']}/level").status_code == 403
    assert signed_in("officer.essex").get(f"/cases/{case['id']}/level").status_code == 404
