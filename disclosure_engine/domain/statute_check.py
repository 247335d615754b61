"""Spotting a mistyped statute or section before it silently fails to match Schedule 34A.

A conviction recorded as "Sexual Offenses Act 2003" or "Sexual Offences Act 2003, s.nine"
matches no paragraph, and the case would simply not be a child sex offender's. Matching stays
exact (a near miss is never counted as a match: only a person can say what was meant), but a
near miss becomes a question for a person:

- ``check_statute``: the statute is not one the schedule lists, but a listed one of the
  **same year** differs from it only by a typing slip (names compared without the year, so
  the Criminal Justice Act 1987 is never taken for the 1988 Act). Answered by correcting the
  statute, or by confirming it is right as recorded (``statute_confirmed``);
- ``check_section``: the statute is listed, but the section cannot be read as a section
  number. Answered by correcting the section.
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher

#: how alike two statute names (without the year) must be to ask: one or two slips in a name
NEAR = 0.85
_WITH_YEAR = re.compile(r"^(.*\S)\s+(\d{4})$")


def near_statute(statute_key: str, listed: dict[str, str]) -> str | None:
    """The listed statute (as the schedule spells it) that ``statute_key`` (normalised) is a
    slip for, or None. ``listed`` maps normalised names to the schedule's spelling."""
    if statute_key in listed:
        return None
    found = _WITH_YEAR.match(statute_key)
    if not found:
        return None
    name, year = found.groups()
    best, best_ratio = None, 0.0
    for key, spelling in listed.items():
        other = _WITH_YEAR.match(key)
        if other is None or other.group(2) != year:
            continue
        ratio = SequenceMatcher(None, name, other.group(1)).ratio()
        if ratio > best_ratio:
            best, best_ratio = spelling, ratio
    return best if best_ratio >= NEAR else None
