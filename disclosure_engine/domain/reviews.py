"""MAPPA reviews: the s.327A duty is considered again at every review of the case.

Reviews are commonly every 16 weeks at level 2 and every 8 weeks at level 3; level 1 reviews
are the lead agency's own. Each area sets its periods (``area.review_period_level1..3``); the
next consideration starts that long after the last one completed (``services.reviews``).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from disclosure_engine.domain.deadlines import add_duration, parse_duration
from disclosure_engine.domain.errors import ValidationFailed

#: the workflow whose completion schedules the next review, and which the review starts
CONSIDERATION = "s327a_consideration"
#: the trigger the review's consideration starts with (shown to the officer at its first step)
REVIEW_TRIGGER = "mappa_review"
DEFAULT_PERIODS = {1: None, 2: "P16W", 3: "P8W"}
#: a review period between one week and two years: shorter would restart a consideration
#: before the last one could have been acted on, longer is no review cadence at all
SHORTEST, LONGEST = timedelta(weeks=1), timedelta(weeks=104)


def check_period(value: str | None, *, field: str = "period") -> str | None:
    """A review period as stored: an ISO 8601 duration of one week to two years, or None
    ("none", empty) for no automatic review; else a ValidationFailed naming ``field``."""
    if value is None or value.strip().lower() in ("", "none"):
        return None
    text = value.strip().upper()
    duration = parse_duration(text, field=field)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    span = add_duration(start, duration) - start
    if not SHORTEST <= span <= LONGEST:
        raise ValidationFailed("Invalid review period",
                               {field: ["A review period is from one week (P1W) to two years (P104W)"]})
    return text


def next_review(completed_at: datetime, period: str | None) -> datetime | None:
    """When the next consideration starts, ``period`` after the last one completed."""
    if period is None:
        return None
    return add_duration(completed_at, period)


_UNITS = (("years", "year"), ("months", "month"), ("weeks", "week"), ("days", "day"))


def describe_period(period: str | None) -> str:
    """A stored period as people say it ("every 16 weeks", "every 6 months"), for pages."""
    if period is None:
        return "No automatic review"
    duration = parse_duration(period)
    parts = [f"{n} {plural if n != 1 else singular}" for plural, singular in _UNITS
             if (n := getattr(duration, plural, 0) or 0)]
    return "Every " + " and ".join(parts) if parts else period
