"""Deadlines: ISO 8601 durations, clock changes and England and Wales working days."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from disclosure_engine.domain.deadlines import (
    Duration,
    add_duration,
    add_working_days,
    deadline_instant,
    due_at_for,
    is_working_day,
    parse_duration,
)
from disclosure_engine.domain.errors import ValidationFailed

LONDON = ZoneInfo("Europe/London")


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (same-zone subtraction in Python is wall-clock)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def offset_hours(moment: datetime) -> float:
    return moment.utcoffset().total_seconds() / 3600


# --- parsing ----------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("P10D", Duration(days=10)),
    ("P2W", Duration(weeks=2)),
    ("PT4H", Duration(hours=4)),
    ("PT90M", Duration(minutes=90)),
    ("P1Y2M3DT4H5M6S", Duration(years=1, months=2, days=3, hours=4, minutes=5, seconds=6)),
    ("PT0.5S", Duration(seconds=0.5)),
    ("p1d", Duration(days=1)),
    (" P1D ", Duration(days=1)),
])
def test_parse_valid(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "10 days", "1D", "P-1D", "P1.5D",
                                  "PT1H2", "P1H", "P1D2Y", "PP1D", "P 1D"])
def test_parse_rejects_garbage_with_a_clear_message(text):
    with pytest.raises(ValidationFailed) as info:
        parse_duration(text, field="due_period")
    message = info.value.errors["due_period"][0]
    assert "ISO 8601 duration" in message and "P10D" in message


# --- calendar arithmetic ------------------------------------------------------------------

def test_one_day_across_spring_forward_keeps_wall_time():
    start = london(2026, 3, 28, 9, 0)  # GMT
    due = add_duration(start, "P1D")
    assert (due.date(), due.time()) == (date(2026, 3, 29), time(9, 0))
    assert offset_hours(due) == 1
    assert elapsed(start, due) == timedelta(hours=23)


def test_hours_across_spring_forward_are_exact():
    start = london(2026, 3, 28, 9, 0)
    due = add_duration(start, "PT24H")
    assert elapsed(start, due) == timedelta(hours=24)
    assert due.time() == time(10, 0)


def test_one_day_across_fall_back_keeps_wall_time():
    start = london(2026, 10, 24, 9, 0)  # BST
    due = add_duration(start, "P1D")
    assert (due.date(), due.time(), offset_hours(due)) == (date(2026, 10, 25), time(9, 0), 0)
    assert elapsed(start, due) == timedelta(hours=25)


def test_exact_hours_through_the_repeated_hour_at_fall_back():
    first = london(2026, 10, 25, 1, 30)  # BST, the first 01:30
    second = add_duration(first, "PT1H")
    assert (second.time(), second.fold, offset_hours(second)) == (time(1, 30), 1, 0)
    assert elapsed(first, second) == timedelta(hours=1)


def test_wall_time_in_the_spring_gap_moves_forward():
    due = add_duration(london(2026, 3, 28, 1, 30), "P1D")
    assert (due.date(), due.time(), offset_hours(due)) == (date(2026, 3, 29), time(2, 30), 1)


def test_months_clamp_to_month_end_and_years_handle_leap_day():
    assert add_duration(london(2026, 1, 31, 12), "P1M").date() == date(2026, 2, 28)
    assert add_duration(london(2028, 2, 29, 12), "P1Y").date() == date(2029, 2, 28)


def test_utc_start_is_interpreted_in_london():
    start = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    due = add_duration(start, "P1D")
    assert due.tzinfo is not None and due.astimezone(UTC) == datetime(
        2026, 3, 29, 8, 0, tzinfo=UTC)


def test_subtraction_mirrors_addition():
    due = london(2026, 3, 30, 17, 0)
    assert add_duration(due, "P2D", sign=-1) == london(2026, 3, 28, 17, 0)


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        add_duration(datetime(2026, 1, 1), "P1D")
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 1, 1), 1)


# --- working days -----------------------------------------------------------------------

def test_england_and_wales_share_bank_holidays():
    for year in range(2024, 2036):
        eng = holidays.country_holidays("GB", subdiv="ENG", years=year)
        wls = holidays.country_holidays("GB", subdiv="WLS", years=year)
        assert sorted(eng) == sorted(wls), year


@pytest.mark.parametrize("n,expected", [
    (1, date(2026, 12, 29)),  # Fri 25 Christmas, Sat, Sun, Mon 28 Boxing Day (substitute)
    (2, date(2026, 12, 30)),
    (3, date(2026, 12, 31)),
    (4, date(2027, 1, 4)),    # Fri 1 January, then the weekend
])
def test_working_days_across_christmas_and_new_year(n, expected):
    due = add_working_days(london(2026, 12, 24, 10, 0), n)
    assert (due.date(), due.time()) == (expected, time(17, 0))


def test_working_days_across_easter_2027_and_the_clock_change():
    # Good Friday 26 March 2027, clocks go forward Sunday 28 March, Easter Monday 29 March
    due = add_working_days(london(2027, 3, 25, 11, 0), 1)
    assert (due.date(), due.time(), offset_hours(due)) == (date(2027, 3, 30), time(17, 0), 1)
    assert due.astimezone(UTC).hour == 16


def test_working_days_across_fall_back():
    due = add_working_days(london(2026, 10, 23, 9, 0), 1)  # Friday, BST
    assert (due.date(), due.time(), offset_hours(due)) == (date(2026, 10, 26), time(17, 0), 0)


def test_weekend_is_skipped_and_end_of_day_is_the_due_time():
    friday_late = london(2026, 6, 5, 16, 55)
    monday_early = london(2026, 6, 8, 8, 0)
    assert add_working_days(friday_late, 1) == london(2026, 6, 8, 17, 0)
    assert add_working_days(monday_early, 1) == london(2026, 6, 9, 17, 0)
    assert add_working_days(friday_late, 5) == london(2026, 6, 12, 17, 0)


def test_zero_days_means_end_of_this_or_next_working_day():
    assert add_working_days(london(2026, 6, 3, 9), 0) == london(2026, 6, 3, 17, 0)
    assert add_working_days(london(2026, 6, 6, 9), 0) == london(2026, 6, 8, 17, 0)  # Saturday


def test_configurable_time_of_day():
    start = london(2026, 6, 5, 10, 30)
    assert add_working_days(start, 1, end_of_day=None) == london(2026, 6, 8, 10, 30)
    assert add_working_days(start, 1, end_of_day=time(16, 0)) == london(2026, 6, 8, 16, 0)


def test_is_working_day():
    assert not is_working_day(date(2027, 3, 26))  # Good Friday
    assert not is_working_day(date(2026, 8, 31))  # Late Summer bank holiday
    assert not is_working_day(date(2026, 6, 6))   # Saturday
    assert is_working_day(date(2026, 6, 8))


# --- task properties --------------------------------------------------------------------

def test_plan_from_due_period_with_reminder_and_escalation():
    start = london(2026, 3, 27, 9, 0)
    plan = due_at_for({"due_period": "P10D", "reminder_before": "P2D",
                       "escalate_after": "P1D", "escalate_to_role": "manager"}, start)
    assert plan.due_at == london(2026, 4, 6, 9, 0)
    assert plan.reminder_at == london(2026, 4, 4, 9, 0)
    assert plan.escalate_at == london(2026, 4, 7, 9, 0)
    assert plan.escalate_to_role == "manager"


def test_plan_from_working_days():
    plan = due_at_for({"due_working_days": "3", "reminder_before": "PT4H"},
                      london(2026, 12, 23, 15, 0))
    assert plan.due_at == london(2026, 12, 30, 17, 0)
    assert plan.reminder_at == london(2026, 12, 30, 13, 0)
    assert plan.escalate_at is None


def test_plan_without_deadline():
    plan = due_at_for({"formJsonSchemaFilename": "x.json"}, london(2026, 1, 5, 9))
    assert plan.due_at is None and plan.reminder_at is None


def test_a_task_taken_away_earlier_is_due_then_and_reminded_before_then():
    start = london(2026, 3, 2, 9, 0)
    closes = datetime(2026, 3, 20, 23, 59, 59, tzinfo=UTC)
    props = {"due_period": "P28D", "reminder_before": "P3D"}
    plan = due_at_for(props, start, closes_at=closes)
    assert plan.due_at == closes and plan.reminder_at == closes - timedelta(days=3)
    later = due_at_for(props, start, closes_at=london(2026, 5, 1, 9, 0))
    assert later.due_at == london(2026, 3, 30, 9, 0), "a later timer leaves the task's own period"


@pytest.mark.parametrize("value, expected", [
    ("2026-03-05", london(2026, 3, 5, 23, 59, 59)),
    (date(2026, 7, 1), london(2026, 7, 1, 23, 59, 59)),  # summer time: still the London day's end
    ("2026-03-05T10:00:00+00:00", datetime(2026, 3, 5, 10, tzinfo=UTC)),
    (datetime(2026, 3, 5, 10), datetime(2026, 3, 5, 10, tzinfo=UTC)),
    (None, None),
])
def test_an_overall_deadline_names_the_end_of_its_day_or_its_instant(value, expected):
    assert deadline_instant(value) == expected


@pytest.mark.parametrize("value", ["soon", "2026-02-30", 45, ["2026-03-05"]])
def test_an_overall_deadline_that_is_not_a_date_is_refused(value):
    with pytest.raises(ValueError):
        deadline_instant(value)


def test_reminder_before_the_task_existed_is_sent_at_the_start():
    start = london(2026, 6, 1, 9, 0)
    plan = due_at_for({"due_period": "PT2H", "reminder_before": "P1D"}, start)
    assert plan.reminder_at == start


@pytest.mark.parametrize("props,bad", [
    ({"due_period": "ten days"}, "due_period"),
    ({"due_period": "P0D"}, "due_period"),
    ({"due_working_days": "two"}, "due_working_days"),
    ({"due_working_days": "0"}, "due_working_days"),
    ({"due_working_days": "-1"}, "due_working_days"),
    ({"due_period": "P1D", "due_working_days": "1"}, "due_working_days"),
    ({"due_period": "P1D", "reminder_before": "soon"}, "reminder_before"),
    ({"due_period": "P1D", "escalate_after": "P1D"}, "escalate_to_role"),
    ({"due_period": "P1D", "escalate_after": "P1D", "escalate_to_role": "boss"}, "escalate_to_role"),
    ({"reminder_before": "P1D"}, "reminder_before"),
    ({"escalate_after": "P1D", "escalate_to_role": "manager"}, "escalate_after"),
    ({"due_period": "P9999Y"}, "due_period"),
    ({"due_period": "PT99999999999999H"}, "due_period"),
    ({"due_period": "P1D", "reminder_before": "P9999Y"}, "reminder_before"),
    ({"due_period": "P1D", "escalate_after": "P9999Y", "escalate_to_role": "chair"}, "escalate_after"),
])
def test_invalid_properties_name_the_property(props, bad):
    with pytest.raises(ValidationFailed) as info:
        due_at_for(props, london(2026, 6, 1, 9))
    assert list(info.value.errors) == [bad]


def test_escalate_to_role_is_read_in_any_case_like_lane_names():
    plan = due_at_for({"due_period": "P1D", "escalate_after": "P1D", "escalate_to_role": " Manager "},
                      london(2026, 6, 1, 9))
    assert plan.escalate_to_role == "manager"
