"""In-app notifications (a page and a count in the header) and e-mail through SMTP.

Rules:

- A notification is written **inside the caller's transaction** (the escalation step that
  caused it), so it exists exactly when the step does.
- Messages carry only opaque references (task id, case reference, area, the BPMN step name)
  and a link to the task; never offender details, conviction data or task form data.
- E-mail is sent *after* the transaction commits, never inside it (SMTP is slow and can hang).
  Each row keeps its e-mail state: ``pending`` when written, ``sending`` while a worker holds
  it, then ``sent`` or, after ``MAX_EMAIL_ATTEMPTS``, ``failed``. A worker that dies between
  commit and send leaves the row ``pending`` (or ``sending``) and a later sweep finds it, so
  e-mail is at-least-once: a crash in the instant between the SMTP server accepting the
  message and the row being marked ``sent`` can repeat that one e-mail, never lose it.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from disclosure_engine.config import Settings
from disclosure_engine.domain.errors import NotFound
from disclosure_engine.domain.roles import Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    Notification,
    User,
    UserArea,
    UserRole,
    utcnow,
)

log = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 5
#: a pending e-mail younger than this belongs to the job that wrote it; the sweep leaves it alone
EMAIL_PICKUP_AFTER = timedelta(seconds=60)
#: a row stuck in ``sending`` this long was held by a worker that died; send it again
EMAIL_STALE_SENDING = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 10


def task_link(settings: Settings | None, task_id: int) -> str:
    base = (settings.base_url if settings else "").rstrip("/")
    return f"{base}/tasks/{task_id}"


@dataclass(frozen=True)
class Recipient:
    id: int
    username: str
    email: str | None


def users_with_role(session: Session, area_id: int, role: str) -> list[Recipient]:
    """Active users holding ``role`` with a membership of the area (national users are not
    paged for an area's work unless they are also members of it)."""
    q = (select(User.id, User.username, User.email).join(UserRole, UserRole.user_id == User.id)
         .join(UserArea, UserArea.user_id == User.id)
         .where(UserRole.role == role, UserArea.area_id == area_id, User.active.is_(True))
         .order_by(User.id))
    return [Recipient(r.id, r.username, r.email) for r in session.execute(q)]


def users_with_roles(session: Session, area_id: int, roles: set[str]) -> dict[str, list[Recipient]]:
    """``users_with_role`` for several roles in one query."""
    out: dict[str, list[Recipient]] = {r: [] for r in roles}
    if not roles:
        return out
    q = (select(UserRole.role, User.id, User.username, User.email).join(User, UserRole.user_id == User.id)
         .join(UserArea, UserArea.user_id == User.id)
         .where(UserRole.role.in_(sorted(roles)), UserArea.area_id == area_id, User.active.is_(True))
         .order_by(User.id))
    for row in session.execute(q):
        out[row.role].append(Recipient(row.id, row.username, row.email))
    return out


def users_by_id(session: Session, ids: list[int]) -> list[Recipient]:
    q = select(User.id, User.username, User.email).where(User.id.in_(ids), User.active.is_(True))
    return [Recipient(r.id, r.username, r.email) for r in session.execute(q.order_by(User.id))]


def notify_batch(session: Session, messages: list[tuple[list[Recipient], dict[str, Any]]], *,
                 email: bool = False, now: datetime | None = None) -> list[int]:
    """Several messages (each to its recipients) in ONE insert; returns ids with e-mail to send."""
    now = now or utcnow()
    rows = [{"user_id": r.id, "created_at": now, "kind": m["kind"], "subject": m["subject"][:200],
             "body": m["body"], "link": m.get("link"), "task_id": m.get("task_id"),
             "step_id": m.get("step_id"), "email_status": "pending" if email and r.email else None,
             "email_attempts": 0}
            for recipients, m in messages for r in recipients]
    if not rows:
        return []
    result = session.execute(insert(Notification).returning(Notification.id, Notification.email_status,
                                                            sort_by_parameter_order=True), rows)
    return [nid for nid, status in result.all() if status == "pending"]


def notify_many(session: Session, recipients: list[Recipient], *, kind: str, subject: str, body: str,
                link: str | None = None, task_id: int | None = None, step_id: int | None = None,
                email: bool = False, now: datetime | None = None) -> list[int]:
    """Add one notification per recipient in the caller's transaction (one INSERT); returns the
    ids of those with an e-mail to send (wanted, and the user has an address)."""
    if not recipients:
        return []
    now = now or utcnow()
    rows = [{"user_id": r.id, "created_at": now, "kind": kind, "subject": subject[:200], "body": body,
             "link": link, "task_id": task_id, "step_id": step_id,
             "email_status": "pending" if email and r.email else None, "email_attempts": 0}
            for r in recipients]
    result = session.execute(insert(Notification).returning(Notification.id, Notification.email_status,
                                                            sort_by_parameter_order=True), rows)
    return [nid for nid, status in result.all() if status == "pending"]


def notify(session: Session, user: Recipient | User, *, kind: str, subject: str, body: str,
           link: str | None = None, task_id: int | None = None, step_id: int | None = None,
           email: bool = False, now: datetime | None = None) -> Notification:
    """Add one notification in the caller's transaction; e-mail is queued only if wanted and
    the user has an address."""
    row = Notification(user_id=user.id, created_at=now or utcnow(), kind=kind, subject=subject[:200],
                       body=body, link=link, task_id=task_id, step_id=step_id,
                       email_status="pending" if email and user.email else None, email_attempts=0)
    session.add(row)
    return row


# -- what the UI calls ------------------------------------------------------------------------

def unread_count(db: Database, actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    with db.transaction() as session:
        return int(session.execute(
            select(func.count()).select_from(Notification)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))).scalar_one())


def list_notifications(db: Database, actor: Actor, *, limit: int = 50) -> list[dict[str, Any]]:
    """The actor's own notifications, newest first."""
    if actor.user_id is None:
        return []
    with db.transaction() as session:
        rows = session.execute(
            select(Notification).where(Notification.user_id == actor.user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(min(max(limit, 1), 200))).scalars()
        return [notification_view(n) for n in rows]


def mark_read(db: Database, actor: Actor, notification_id: int) -> None:
    """Mark one of the actor's notifications read (someone else's is NotFound)."""
    with db.transaction() as session:
        row = session.get(Notification, notification_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFound(f"Notification {notification_id} not found")
        if row.read_at is None:
            row.read_at = utcnow()


def mark_all_read(db: Database, actor: Actor) -> int:
    with db.transaction() as session:
        result = session.execute(update(Notification)
                                 .where(Notification.user_id == actor.user_id,
                                        Notification.read_at.is_(None))
                                 .values(read_at=utcnow()))
        return int(result.rowcount or 0)


def notification_view(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "created_at": n.created_at.isoformat(), "kind": n.kind, "subject": n.subject,
            "body": n.body, "link": n.link, "task_id": n.task_id, "read": n.read_at is not None}


# -- e-mail -----------------------------------------------------------------------------------

def pending_emails(db: Database, now: datetime | None = None, *, limit: int = 1000) -> list[int]:
    """E-mails a sweep should (re)send: pending past the pick-up delay, or stuck in sending."""
    now = now or utcnow()
    with db.transaction() as session:
        pending = session.execute(
            select(Notification.id).where(Notification.email_status == "pending",
                                          Notification.created_at <= now - EMAIL_PICKUP_AFTER)
            .order_by(Notification.created_at).limit(limit)).scalars()
        stuck = session.execute(
            select(Notification.id).where(Notification.email_status == "sending",
                                          Notification.email_attempt_at <= now - EMAIL_STALE_SENDING)
            .limit(limit)).scalars()
        return sorted(set(pending) | set(stuck))


def send_email(db: Database, settings: Settings, notification_id: int) -> str:
    """Send one notification's e-mail; returns its new status ("skipped" if not ours to send)."""
    if not settings.smtp_host:
        return "skipped"
    now = utcnow()
    with db.transaction() as session:
        claimed = session.execute(
            update(Notification)
            .where(Notification.id == notification_id,
                   (Notification.email_status == "pending")
                   | ((Notification.email_status == "sending")
                      & (Notification.email_attempt_at <= now - EMAIL_STALE_SENDING)))
            .values(email_status="sending", email_attempt_at=now,
                    email_attempts=Notification.email_attempts + 1))
        if not claimed.rowcount:
            return "skipped"
        row = session.get(Notification, notification_id)
        assert row is not None
        user = session.get(User, row.user_id)
        address = user.email if user is not None and user.active else None
        subject, body, link, attempts = row.subject, row.body, row.link, row.email_attempts
    if not address:
        return _finish(db, notification_id, "failed", "recipient has no e-mail address")
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = address
    message["Subject"] = subject
    message.set_content(f"{body}\n\n{link or ''}\n\nThis message contains references only. "
                        "Sign in to see the task.\n")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        status = "failed" if attempts >= MAX_EMAIL_ATTEMPTS else "pending"
        log.warning("e-mail for notification %s failed (attempt %s): %s", notification_id, attempts, exc)
        return _finish(db, notification_id, status, f"{type(exc).__name__}: {exc}"[:255])
    return _finish(db, notification_id, "sent", None)


def _finish(db: Database, notification_id: int, status: str, error: str | None) -> str:
    with db.transaction() as session:
        session.execute(update(Notification).where(Notification.id == notification_id)
                        .values(email_status=status, email_error=error))
    return status


def send_pending_for(db: Database, settings: Settings, notification_ids: list[int]) -> int:
    """Send the e-mails just written by a committed step; returns how many were sent."""
    if not settings.smtp_host:
        return 0
    return sum(1 for nid in notification_ids if send_email(db, settings, nid) == "sent")
