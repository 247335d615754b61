"""Roles and what each may do; area scoping is decided here, not per view.

An actor sees a case only if they hold a role in the case's area, or a national role
(a user with no area memberships and the auditor/admin role, or an explicit national flag).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    CHAIR = "chair"
    MANAGER = "manager"
    POLICY = "policy"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)


def normalise_role(value: object) -> str | None:
    """A role name as a BPMN author wrote it (lane name, ``candidate_role``, ``escalate_to_role``)
    in the one form task rows store and every check compares: surrounding whitespace dropped and
    lower-cased, so "Chair", " chair " and "CHAIR" are the same role; None when blank.

    It does not check that the result is a role: callers say what is wrong in their own terms.
    """
    if value is None:
        return None
    text = str(value).strip().lower()
    return text or None
#: roles that may work cases (see case data, hold tasks)
CASE_ROLES = frozenset({Role.OFFICER, Role.CHAIR, Role.MANAGER, Role.AUDITOR, Role.ADMIN})
#: roles that may reassign tasks and see who viewed a case
SUPERVISOR_ROLES = frozenset({Role.CHAIR, Role.MANAGER, Role.ADMIN})
#: roles that may deploy workflows
POLICY_ROLES = frozenset({Role.POLICY, Role.ADMIN})
#: roles that may read the audit log
AUDIT_ROLES = frozenset({Role.MANAGER, Role.AUDITOR, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """Who is acting: passed to every service so authorisation and audit use one identity."""

    user_id: int | None
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    areas: frozenset[str] = field(default_factory=frozenset)
    national: bool = False

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def in_area(self, area_slug: str) -> bool:
        return self.national or area_slug in self.areas

    def can_see_case_in(self, area_slug: str) -> bool:
        return self.in_area(area_slug) and bool(self.roles & CASE_ROLES)


#: the identity used by the engine's own jobs (timer sweeps, escalations) in the audit log
SYSTEM = Actor(user_id=None, username="system", roles=frozenset({Role.ADMIN}), national=True)
