"""A change of a case's MAPPA level, as a person records it.

Cases sit at the lowest level that gives a defensible risk management plan, and the level is
reviewed (domain: MAPPA levels). The level decides who takes the disclosure decision (level 1
the lead agency; levels 2 and 3 the MAPP meeting) and how often the duty is considered again,
so a change is made with a reason, like a change of convictions.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.vocabulary import change_reason

LEVEL_CHANGE_FIELDS = frozenset({"level", "reason"})


@dataclass(frozen=True)
class LevelChange:
    level: int
    reason: str


def validate_level_change(payload: object, *, current: int | None = None) -> LevelChange:
    """``{"level": 1-3, "reason": "..."}``, or ValidationFailed listing every problem; the
    case's ``current`` level is refused as "no change" (nothing would be recorded)."""
    if not isinstance(payload, Mapping):
        raise ValidationFailed("The change must be a JSON object",
                               {"_form": ["Send the level and the reason as a JSON object"]})
    errors: dict[str, list[str]] = {}
    for key in payload:
        if key not in LEVEL_CHANGE_FIELDS:
            errors.setdefault(str(key), []).append(f"Remove {key}: only the level and the reason are changed here")
    level: Any = payload.get("level")
    if not (isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 3):
        errors.setdefault("level", []).append("Select a MAPPA level from 1 to 3")
    elif current is not None and level == current:
        errors.setdefault("level", []).append(f"The case is already at level {current}: select another level")
    reason, problem = change_reason(payload.get("reason"), missing="Enter why the level is changing")
    if problem is not None:
        errors.setdefault("reason", []).append(problem)
    if errors:
        raise ValidationFailed("The level change has errors", errors)
    return LevelChange(level=int(level), reason=reason)
