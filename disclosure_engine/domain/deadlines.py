"""Deadlines from BPMN user task properties: ISO 8601 durations and England and Wales working days.

Policy teams set ``due_period`` (calendar time) or ``due_working_days`` on a user task, with an
optional ``reminder_before``, ``escalate_after`` and ``escalate_to_role``. This module turns
those strings into instants so task rows carry plain ``due_at`` columns and the sweep needs no
calendar logic.

Calendar rules, and why:

- Day, week, month and year parts move the *local wall clock* in Europe/London, so "P1D" from
  09:00 is 09:00 the next day even across a clock change (23 or 25 real hours): officers think
  in days, not in 24-hour blocks. Hour, minute and second parts are *exact elapsed time*, so
  "PT24H" across a clock change is 24 real hours. A wall time that does not exist (inside the
  spring-forward gap) moves forward by the gap.
- Working days skip Saturdays, Sundays and England and Wales bank holidays from the
  ``holidays`` package. England and Wales share one set of bank holidays: the package's "ENG"
  and "WLS" subdivisions give identical dates (checked in the tests), so "ENG" stands for both.
- Results are aware datetimes in Europe/London. Subtract or compare them via UTC
  (``astimezone(UTC)``): Python treats two datetimes with the same zone as wall times.
- A working-day deadline falls due at the **end of the working day** (17:00 local by default),
  not at the time of day the task was created. A task created at 16:55 or 09:05 with
  "2 working days" is due at the same moment, which is what "within 2 working days" means to a
  team and avoids deadlines that expire at 08:00 before anyone is in.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.roles import ROLES, normalise_role

LONDON = "Europe/London"
END_OF_WORKING_DAY = time(17, 0)
MAX_WORKING_DAYS = 366

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """A parsed ISO 8601 duration; calendar parts and exact parts are kept apart on purpose."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: float = 0.0

    @property
    def exact(self) -> timedelta:
        return timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)

    def is_zero(self) -> bool:
        # not via ``exact``: a huge hour count overflows timedelta, and that is "too long"
        return not (self.years or self.months or self.weeks or self.days or self.hours
                    or self.minutes or self.seconds)


def london_date(when: datetime) -> date:
    """The calendar day an instant falls on in England and Wales."""
    return when.astimezone(ZoneInfo(LONDON)).date()


def parse_duration(text: str, *, field: str = "duration") -> Duration:
    """Parse PnYnMnDTnHnMnS or PnW (weeks may also combine with other parts, as ISO 8601-2
    allows). Negative, empty ("P", "PT") and fractional parts other than seconds are refused."""
    value = text.strip().upper() if isinstance(text, str) else ""
    found = _DURATION.match(value)
    if not found or value.endswith("T"):
        raise ValidationFailed(
            f"{field} is not an ISO 8601 duration",
            {field: [f"{field} {text!r} is not an ISO 8601 duration: use whole numbers such as "
                     "P10D, PT4H, P2W or P1W2D (only seconds may have a fraction)"]})
    parts = {k: v for k, v in found.groupdict().items() if v is not None}
    seconds = float(parts.pop("seconds", "0").replace(",", "."))
    return Duration(seconds=seconds, **{k: int(v) for k, v in parts.items()})


def _add_months(day: date, months: int) -> date:
    """Month arithmetic that clamps to the month's end (31 January + P1M is 28/29 February)."""
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _localise(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall time, moving times in a spring-forward gap forward by the gap."""
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz)


def _require_aware(start: datetime) -> None:
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be a timezone-aware datetime")


def add_duration(start: datetime, iso: str | Duration, *, tz: str = LONDON,
                 sign: int = 1) -> datetime:
    """``start`` plus (or, with ``sign=-1``, minus) the duration; the result is in ``tz``."""
    _require_aware(start)
    zone = ZoneInfo(tz)
    duration = iso if isinstance(iso, Duration) else parse_duration(iso)
    local = start.astimezone(zone)
    day = _add_months(local.date(), sign * (duration.years * 12 + duration.months))
    day += timedelta(days=sign * (duration.weeks * 7 + duration.days))
    moved = _localise(datetime.combine(day, local.time()), zone) if day != local.date() else local
    return (moved.astimezone(UTC) + sign * duration.exact).astimezone(zone)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: datetime, n: int, *, tz: str = LONDON,
                     end_of_day: time | None = END_OF_WORKING_DAY) -> datetime:
    """The end of the ``n``-th working day after ``start``'s local date.

    The start day itself never counts (work received on Friday with n=1 is due Monday).
    ``n=0`` means the end of today if today is a working day, else of the next one.
    ``end_of_day=None`` keeps the start's time of day instead.
    """
    _require_aware(start)
    if n < 0:
        raise ValueError("n must be zero or more")
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    day = local.date()
    if n == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    at = end_of_day if end_of_day is not None else local.time().replace(tzinfo=None)
    return _localise(datetime.combine(day, at), zone)


@dataclass(frozen=True)
class DeadlinePlan:
    due_at: datetime | None
    reminder_at: datetime | None = None
    escalate_at: datetime | None = None
    escalate_to_role: str | None = None


def _fail(prop: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid task property {prop}", {prop: [message]})


def _duration_property(properties: Mapping[str, str], prop: str) -> Duration | None:
    raw = properties.get(prop)
    if raw is None or str(raw).strip() == "":
        return None
    duration = parse_duration(str(raw), field=prop)
    if duration.is_zero():
        raise _fail(prop, f"{prop} must be longer than zero")
    return duration


def _shift(prop: str, start: datetime, duration: Duration, tz: str, sign: int = 1) -> datetime:
    """:func:`add_duration` with a duration too long for the calendar (``P9999Y``,
    ``PT99999999999H``) refused as the property's fault: Python raises OverflowError or
    ValueError for those, which would otherwise be a server error when the task is created."""
    try:
        return add_duration(start, duration, tz=tz, sign=sign)
    except (OverflowError, ValueError):
        raise _fail(prop, f"{prop} is too long") from None


def deadline_instant(value: object, *, tz: str = LONDON) -> datetime | None:
    """The instant a ``due_by`` value names: a date is the end of that day in England and Wales
    (23:59:59 London time, so "by 5 March" includes 5 March), a date-time is itself (naive read
    as UTC), ISO text of either is parsed; None is no deadline. Anything else is a ValueError."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DAY.match(text):
            value = date.fromisoformat(text)
        else:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO date or date-time") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tzinfo=ZoneInfo(tz))
    raise ValueError(f"{value!r} is not a date or a date-time")


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def due_at_for(properties: Mapping[str, str], start: datetime, *, tz: str = LONDON,
               end_of_day: time | None = END_OF_WORKING_DAY,
               closes_at: datetime | None = None) -> DeadlinePlan:
    """Read a user task's deadline properties and compute its instants from ``start``.

    ``closes_at`` is when the task is taken away (an interrupting boundary timer: the
    representations window) or an overall deadline it falls under (``due_by``): the task is due
    then if that is earlier than its own period, and the reminder counts back from it, so the
    inbox shows the date the work must really be done by.

    A reminder that would fall before the task existed is moved to ``start`` (send it now).
    Reminder and escalation without a due time are refused: there is nothing to count from.
    ``escalate_to_role`` is read like every role in the BPMN (``roles.normalise_role``: any
    case, surrounding spaces ignored). This is the only reader of these properties: the lint
    calls it too (``engine.task_checks``), so what it refuses is refused before deploy.
    """
    _require_aware(start)
    period = _duration_property(properties, "due_period")
    raw_days = properties.get("due_working_days")
    days: int | None = None
    if raw_days is not None and str(raw_days).strip() != "":
        text = str(raw_days).strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_WORKING_DAYS:
            raise _fail("due_working_days", f"due_working_days must be a whole number from 1 to "
                                            f"{MAX_WORKING_DAYS} (got {raw_days!r})")
        days = int(text)
    if period is not None and days is not None:
        raise _fail("due_working_days", "Set due_period or due_working_days, not both")

    reminder = _duration_property(properties, "reminder_before")
    escalate = _duration_property(properties, "escalate_after")
    raw_role = properties.get("escalate_to_role")
    role = normalise_role(raw_role)
    if role is not None and role not in ROLES:
        raise _fail("escalate_to_role", f"escalate_to_role must be one of {', '.join(ROLES)} "
                                        f"(got {raw_role!r})")
    if escalate is not None and role is None:
        raise _fail("escalate_to_role", "escalate_after needs escalate_to_role (who is told "
                                        "when the task is escalated)")

    if period is not None:
        due_at: datetime | None = _shift("due_period", start, period, tz)
    elif days is not None:
        due_at = add_working_days(start, days, tz=tz, end_of_day=end_of_day)
    else:
        due_at = None
    if closes_at is not None:
        _require_aware(closes_at)
        if due_at is None or closes_at.astimezone(UTC) < due_at.astimezone(UTC):
            due_at = closes_at.astimezone(ZoneInfo(tz))

    if due_at is None:
        for prop, value in (("reminder_before", reminder), ("escalate_after", escalate)):
            if value is not None:
                raise _fail(prop, f"{prop} needs due_period or due_working_days")
        return DeadlinePlan(due_at=None, escalate_to_role=role)

    reminder_at = None
    if reminder is not None:
        reminder_at = _shift("reminder_before", due_at, reminder, tz, sign=-1)
        # compare as UTC: Python compares same-zone datetimes by wall time (wrong in the fold)
        if reminder_at.astimezone(UTC) < start.astimezone(UTC):
            reminder_at = start.astimezone(ZoneInfo(tz))
    escalate_at = _shift("escalate_after", due_at, escalate, tz) if escalate is not None else None
    return DeadlinePlan(due_at=due_at, reminder_at=reminder_at, escalate_at=escalate_at,
                        escalate_to_role=role)
