"""The audit log (DPA 2018 s.62) for managers, auditors and administrators."""
from __future__ import annotations

from typing import Any

from disclosure_engine.domain.errors import Forbidden, ValidationFailed
from disclosure_engine.domain.roles import AUDIT_ROLES
from disclosure_engine.services import audit
from web.api import schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint

blp = ApiBlueprint("api_audit", __name__, description="Hash-chained audit events and chain verification")


@blp.route("", methods=["GET"])
@blp.arguments(s.AuditQuery, location="query", as_kwargs=True)
@blp.response(200, s.AuditPage)
@blp.errors(401, 403, 422)
def list_events(subject: str | None = None, subject_type: str | None = None, subject_id: str | None = None,
                action: str | None = None, limit: int = 100, before: int | None = None) -> Any:
    """List audit events, newest first (managers and auditors see their areas)

    Filter by ``subject=TYPE:ID`` (or ``subject_type`` and ``subject_id``) and ``action``.
    Pages by sequence number: pass ``next_before`` back as ``before``.
    """
    if subject:
        kind, sep, ident = subject.partition(":")
        if not sep or not kind or not ident:
            raise ValidationFailed("Invalid subject", {"subject": ["Use TYPE:ID, for example case:12"]})
        if (subject_type and subject_type != kind) or (subject_id and subject_id != ident):
            raise ValidationFailed("Conflicting subject", {"subject": ["Give subject or subject_type/subject_id, "
                                                                       "not different ones"]})
        subject_type, subject_id = kind, ident
    items = audit.list_events(db(), current_actor(), subject_type=subject_type, subject_id=subject_id,
                              action=action, limit=limit, before_seq=before)
    next_before = items[-1]["seq"] if len(items) == limit and items[-1]["seq"] > 1 else None
    return {"items": items, "limit": limit, "next_before": next_before}


@blp.route("/verify", methods=["GET"])
@blp.response(200, s.ChainReportOut)
@blp.errors(401, 403)
def verify() -> Any:
    """Verify the hash chain of the whole log (what `disclosure-engine audit verify` does)

    ``ok`` false names the first broken event (``broken_seq``) and why (``reason``).
    """
    actor = current_actor()
    if not actor.has_role(*AUDIT_ROLES):
        raise Forbidden("Only managers, auditors and administrators may verify the audit log")
    report = audit.verify_chain(db())
    return {"ok": report.ok, "count": report.count, "broken_seq": report.broken_seq,
            "reason": report.reason, "line": report.line()}
