"""Area statistics: the disclosure figures of a period, per area, counted from the records."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from disclosure_engine.domain.errors import Forbidden, ValidationFailed
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.services import audit, cases, handoffs, statistics

from .helpers import case_payload, make_actor, new_consideration, replay_path, staff  # noqa: F401

DISCLOSE = "level 1, presumption applies, disclose"
REBUTTED = "level 1, presumption applies, do not disclose with rebuttal reasons"
NOT_MET = "test (a) not met, do not disclose"


def _kent(result):
    (row,) = [r for r in result["areas"] if r["area"] == "kent"]
    return row


def test_the_figures_count_what_was_decided_and_delivered(db, staff):  # noqa: F811
    for i, path in enumerate((DISCLOSE, REBUTTED, NOT_MET), start=1):
        _case, process = new_consideration(db, staff, f"KNT-2026-00000{i}", level=1)
        replay_path(db, staff, process, "s327a_consideration", path)
    new_consideration(db, staff, "KNT-2026-000004", level=2)  # started, not decided
    cases.create_case(db, staff["officer"], case_payload("KNT-2026-000005", cso=False))  # not counted
    handoffs.sweep_handoffs(db)  # the decision to disclose starts its delivery
    essex = make_actor(db, "officer.essex", "officer", "essex")
    cases.create_case(db, essex, case_payload("ESX-2026-000001", "essex"))
    result = statistics.area_statistics(db, staff["manager"])
    assert [r["area"] for r in result["areas"]] == ["kent"], "only the manager's own areas"
    kent = _kent(result)
    assert kent["cases"] == {"1": 3, "2": 1, "3": 0}
    assert (kent["considerations_started"], kent["considerations_completed"]) == (4, 3)
    assert kent["decisions"] == {"s327a_consideration": {"disclose": 1, "do_not_disclose": 2}}
    assert kent["presumption_rebutted"] == 1
    assert kent["disclosures_delivered"] == 0, "the delivery has started, not been made"
    assert result["totals"]["cases"] == kent["cases"]
    national = statistics.area_statistics(db, SYSTEM)
    assert len(national["areas"]) == 42 and national["totals"]["cases"]["1"] == 4
    (event,) = audit.list_events(db, SYSTEM, action="statistics.viewed", limit=1)
    assert event["detail"]["areas"] == [r["area"] for r in national["areas"]]


def test_a_period_before_anything_happened_counts_no_activity(db, staff):  # noqa: F811
    _case, process = new_consideration(db, staff, level=1)
    replay_path(db, staff, process, "s327a_consideration", DISCLOSE)
    last_year = date.today() - timedelta(days=400)
    kent = _kent(statistics.area_statistics(db, staff["manager"], date_from=last_year,
                                            date_to=last_year + timedelta(days=30)))
    assert kent["decisions"] == {} and kent["considerations_started"] == 0
    assert kent["cases"]["1"] == 1, "cases are counted as they are now"


def test_the_default_period_is_the_reporting_year_to_date(db, staff):  # noqa: F811
    result = statistics.area_statistics(db, staff["manager"])
    start, _end = statistics.reporting_year(date.today())
    assert result["from"] == start.isoformat() and start.month == 4 and start.day == 1
    assert statistics.reporting_year(date(2027, 3, 31)) == (date(2026, 4, 1), date(2027, 3, 31))
    assert statistics.reporting_year(date(2027, 4, 1)) == (date(2027, 4, 1), date(2028, 3, 31))


def test_officers_may_not_read_statistics_and_bad_periods_are_field_errors(db, staff):  # noqa: F811
    with pytest.raises(Forbidden):
        statistics.area_statistics(db, staff["officer"])
    with pytest.raises(ValidationFailed) as backwards:
        statistics.area_statistics(db, staff["manager"], date_from=date(2027, 1, 2), date_to=date(2027, 1, 1))
    assert "to" in backwards.value.errors
    with pytest.raises(ValidationFailed) as elsewhere:
        statistics.area_statistics(db, staff["manager"], area="essex")
    assert "area" in elsewhere.value.errors, "another area's figures are not shown"


def test_a_decision_corrected_after_the_year_ends_still_counts_in_the_year_it_was_taken(db, staff):  # noqa: F811
    """The annual report counts what was decided in its year: before, a correction made after
    31 March moved the decision into the next year's figures (a correction is dated when it is
    written) and out of the year it was taken."""
    from sqlalchemy import select

    from disclosure_engine.persistence.models import Decision
    from disclosure_engine.services import decisions

    _case, process = new_consideration(db, staff, level=1)
    replay_path(db, staff, process, "s327a_consideration", REBUTTED)
    last_year = date.today() - timedelta(days=400)
    with db.transaction() as session:  # the decision was taken last year (moved back by the test)
        (row,) = session.execute(select(Decision).where(Decision.process_id == process)).scalars()
        row.decided_at -= timedelta(days=400)
        row.made_at -= timedelta(days=400)
        decision = row.id
    decisions.supersede(db, staff["manager"], decision, {"decision": "disclose",
                                                         "decision_reasons": "The chair's minute records disclosure."},
                        "The record gave the outcome the meeting rejected.")
    then = _kent(statistics.area_statistics(db, staff["manager"], date_from=last_year - timedelta(days=1),
                                            date_to=last_year + timedelta(days=1)))
    assert then["decisions"] == {"s327a_consideration": {"disclose": 1}}, "the corrected outcome, in its year"
    assert _kent(statistics.area_statistics(db, staff["manager"]))["decisions"] == {}
