"""The Statistics page: a manager's figures for their areas, as a table and as CSV."""
from __future__ import annotations

import csv
import io


def test_a_manager_sees_their_areas_figures_and_downloads_them(make_case, signed_in):
    make_case("kent", level=2)
    make_case("kent", level=3)
    make_case("essex")
    c = signed_in("manager.kent")
    page = c.get("/statistics")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Area statistics" in html and "Kent" in html and "Essex" not in html
    assert 'href="/statistics"' in html, "in the menu"
    assert "0 / 1 / 1" in html, "child sex offender cases by level"
    download = c.get("/statistics.csv?from=2026-04-01&to=2027-03-31")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [r["area"] for r in rows] == ["kent", "total"]
    assert (rows[0]["cso_cases_level_2"], rows[0]["considerations_started"]) == ("1", "2")


def test_officers_have_no_statistics_and_bad_dates_are_explained(signed_in):
    assert signed_in("officer.kent").get("/statistics").status_code == 403
    bad = signed_in("manager.kent").get("/statistics?from=2027-02-30")
    assert bad.status_code == 422 and "Enter a real date" in bad.get_data(as_text=True)
    backwards = signed_in("manager.kent").get("/statistics?from=2027-02-01&to=2027-01-01")
    assert backwards.status_code == 422 and "must not be before its start" in backwards.get_data(as_text=True)
