"""MAPPA review periods on the web: supervisors and auditors read them; administrators change
an area's three periods at once, with field errors, in one audited transaction."""
from __future__ import annotations

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.services import audit, reviews
from disclosure_engine.services.users import create_user
from tests.web.conftest import PASSWORD, csrf_token


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_an_administrator_changes_an_areas_review_periods(world, signed_in):
    create_user(world["db"], "admin.user", roles=["admin"], areas=[], password=PASSWORD)
    admin = signed_in("admin.user")
    listing = _html(admin.get("/areas"))
    assert "MAPPA review periods" in listing and "Every 16 weeks" in listing and "No automatic review" in listing
    url = "/areas/kent/review-periods"
    assert 'href="/areas/kent/review-periods">Change<span class="govuk-visually-hidden"> the review periods for Kent' \
        in listing
    form = _html(admin.get(url))
    assert 'for="level_2">Level 2 review period</label>' in form and 'value="P16W"' in form

    refused = admin.post(url, data={"csrf_token": csrf_token(admin, url), "level_1": "sometimes",
                                    "level_2": "P2D", "level_3": "P8W"})
    assert refused.status_code == 422
    body = _html(refused)
    assert "There is a problem" in body and "Level 1 review period" in body and "one week" in body
    assert 'href="#level_1"' in body and 'href="#level_2"' in body
    kent = next(a for a in reviews.list_areas(world["db"]) if a["area"] == "kent")
    assert kent["review_periods"] == {"1": None, "2": "P16W", "3": "P8W"}, "nothing saved from a refused form"

    done = admin.post(url, data={"csrf_token": csrf_token(admin, url), "level_1": "p26w", "level_2": "P12W",
                                 "level_3": "P8W"})
    assert done.status_code == 302
    kent = next(a for a in reviews.list_areas(world["db"]) if a["area"] == "kent")
    assert kent["review_periods"] == {"1": "P26W", "2": "P12W", "3": "P8W"}
    events = audit.list_events(world["db"], SYSTEM, action="area.review_period_set")
    assert sorted(e["detail"]["level"] for e in events) == [1, 2], "one event per level that changed"
    assert "Every 26 weeks" in _html(admin.get(done.headers["Location"]))


def test_managers_read_the_periods_and_officers_see_nothing(world, signed_in):
    manager = signed_in("manager.kent")
    assert "Review periods" in _html(manager.get("/tasks"))
    listing = _html(manager.get("/areas"))
    assert "Every 8 weeks" in listing and "/review-periods" not in listing
    assert manager.get("/areas/kent/review-periods").status_code == 403
    officer = signed_in("officer.kent")
    assert officer.get("/areas").status_code == 403
    assert "Review periods" not in _html(officer.get("/tasks"))
