"""The per-source sign-in throttle: a source with too many failures in the window is refused
without a password check and without an audit event per attempt; one ``auth.source_throttled``
event when it crosses the limit; the window slides on an injected clock (no sleeping)."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from disclosure_engine.domain.errors import Throttled
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import AuditEvent, SignInFailure, User
from disclosure_engine.services import audit, users
from disclosure_engine.services.sign_in_throttle import SourceLimit, source_key
from disclosure_engine.services.users import authenticate, authenticate_token, create_token, create_user

PASSWORD = "correct horse battery staple"
SOURCE = "203.0.113.7"
LIMIT = SourceLimit(limit=3, window=timedelta(minutes=15))
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class CountingHasher(PasswordHasher):
    """Cheap argon2 that counts verifications: a refused attempt must not reach one."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verifications = 0

    def verify(self, hash, password):
        self.verifications += 1
        return super().verify(hash, password)


@pytest.fixture()
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(users, "_hasher", counting)
    monkeypatch.setattr(users, "_DUMMY_HASH", [])
    return counting


@pytest.fixture()
def kent(db, hasher):
    create_user(db, "officer.kent", roles=["officer"], areas=["kent"], password=PASSWORD)
    create_user(db, "chair.kent", roles=["chair"], areas=["kent"], password=PASSWORD)
    return db


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fail(db, minutes: float, username: str = "officer.kent", source: str | None = SOURCE) -> None:
    assert authenticate(db, username, "not the password", source=source, limit=LIMIT, now=at(minutes)) is None


def actions(db) -> list[str]:
    with db.transaction() as session:
        return list(session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def failure_rows(db) -> int:
    with db.transaction() as session:
        return session.execute(select(func.count()).select_from(SignInFailure)).scalar_one()


def test_a_source_at_the_limit_is_refused_without_a_password_check_or_an_audit_event(kent, hasher):
    fail(kent, 0, "officer.kent")
    fail(kent, 1, "chair.kent")   # spraying across usernames
    fail(kent, 2, "no.such.user")  # and guessing names that do not exist
    checks, events = hasher.verifications, actions(kent)
    for minute in (3, 4, 5):
        with pytest.raises(Throttled) as refused:  # even with the right password
            authenticate(kent, "officer.kent", PASSWORD, source=SOURCE, limit=LIMIT, now=at(minute))
    assert hasher.verifications == checks, "a refused attempt must do no argon2 work"
    assert actions(kent) == events, "a refused attempt writes no audit event"
    assert failure_rows(kent) == 3, "a refused attempt is not counted (it could not have succeeded)"
    # room again when the first failure (minute 0) leaves the window: minute 15, 10 minutes on
    assert refused.value.status == 429 and refused.value.retry_after == 10 * 60
    assert refused.value.message == ("Too many failed sign-in attempts from your network. "
                                     "Try again in 10 minutes.")
    with kent.transaction() as session:
        user = session.execute(select(User).where(User.username == "officer.kent")).scalar_one()
        assert user.failed_logins == 1 and user.locked_until is None, "the account lockout is untouched"


def test_crossing_the_limit_is_audited_once_and_the_chain_still_verifies(kent):
    for minute in range(3):
        fail(kent, minute)
    for minute in range(3, 8):
        with pytest.raises(Throttled):
            fail(kent, minute)
    assert actions(kent)[-4:] == ["auth.login_failed"] * 3 + ["auth.source_throttled"]
    [event] = [e for e in audit.list_events(kent, SYSTEM, action="auth.source_throttled")]
    assert event["subject_type"] == "source" and event["subject_id"] == SOURCE and event["source"] == SOURCE
    assert event["detail"] == {"source": SOURCE, "kind": "password", "failures": 3, "window_minutes": 15}
    report = audit.verify_chain(kent)
    assert report.ok, report.line()


def test_the_window_slides_room_lets_attempts_through_and_a_new_crossing_is_audited_again(kent):
    for minute in (0, 1, 2):
        fail(kent, minute)
    with pytest.raises(Throttled) as refused:
        fail(kent, 14.5)
    assert refused.value.retry_after == 30
    assert refused.value.message.endswith("Try again in 1 minute.")
    # at minute 15 the minute-0 failure is out of the window: one attempt may be checked
    assert authenticate(kent, "officer.kent", PASSWORD, source=SOURCE, limit=LIMIT, now=at(15)) is not None
    fail(kent, 15.5)  # back at the limit (minutes 1, 2 and 15.5): a second crossing, a second event
    with pytest.raises(Throttled):
        fail(kent, 15.75)
    assert actions(kent).count("auth.source_throttled") == 2
    assert actions(kent).count("auth.login") == 1


def test_a_success_does_not_clear_the_sources_failures(kent):
    fail(kent, 0, "chair.kent")
    fail(kent, 1, "chair.kent")
    assert authenticate(kent, "officer.kent", PASSWORD, source=SOURCE, limit=LIMIT, now=at(2)) is not None
    fail(kent, 3, "chair.kent")
    with pytest.raises(Throttled):
        authenticate(kent, "officer.kent", PASSWORD, source=SOURCE, limit=LIMIT, now=at(4))


def test_other_sources_and_no_source_are_not_throttled(kent):
    for minute in range(3):
        fail(kent, minute, "no.such.user")
    assert authenticate(kent, "officer.kent", PASSWORD, source="198.51.100.1", limit=LIMIT, now=at(4)) is not None
    for minute in range(10):  # the command line and tests: the account lockout only
        fail(kent, minute, "no.such.user", source=None)
    assert authenticate(kent, "officer.kent", PASSWORD, source=None, limit=LIMIT, now=at(11)) is not None
    assert failure_rows(kent) == 3


def test_ipv6_sources_count_by_their_64_network(kent):
    for i, minute in enumerate(range(3), start=1):
        fail(kent, minute, source=f"2001:db8:aa:bb::{i}")
    with pytest.raises(Throttled):
        fail(kent, 3, source="2001:db8:aa:bb:ffff:1:2:3")
    assert authenticate(kent, "officer.kent", PASSWORD, source="2001:db8:aa:bc::1", limit=LIMIT, now=at(3))
    assert source_key("::ffff:203.0.113.7") == SOURCE
    assert source_key("2001:db8:aa:bb::9") == "2001:db8:aa:bb::/64"
    assert source_key("not an address") == "not an address"


def test_expired_failures_are_pruned_when_failures_are_recorded(kent):
    for minute in range(3):
        fail(kent, minute, source="198.51.100.9")
    fail(kent, 40, source=SOURCE)  # another source, long after: the old rows are deleted
    with kent.transaction() as session:
        assert list(session.execute(select(SignInFailure.source)).scalars()) == [SOURCE]


def test_the_account_lockout_still_applies_under_the_source_limit(kent):
    wide = SourceLimit(limit=20, window=timedelta(minutes=15))
    for minute in range(5):
        assert authenticate(kent, "officer.kent", "wrong", source=SOURCE, limit=wide, now=at(minute)) is None
    assert authenticate(kent, "officer.kent", PASSWORD, source=SOURCE, limit=wide, now=at(5)) is None
    assert authenticate(kent, "officer.kent", PASSWORD, source=SOURCE, limit=wide, now=at(21)) is not None


def test_bad_bearer_tokens_are_limited_per_source_apart_from_passwords(kent):
    good = create_token(kent, "officer.kent", "integration")
    for minute in range(3):
        assert authenticate_token(kent, "de_guessed-token", source=SOURCE, path="/api/v1/cases", limit=LIMIT,
                                  now=at(minute)) is None
    before = actions(kent)
    with pytest.raises(Throttled) as refused:
        authenticate_token(kent, "de_another-guess", source=SOURCE, limit=LIMIT, now=at(5))
    assert refused.value.message == ("Too many requests with a bad bearer token from your network. "
                                     "Try again in 10 minutes.")
    assert actions(kent) == before, "refused bad tokens are not audited one by one"
    assert before[-4:] == ["auth.token_rejected"] * 3 + ["auth.source_throttled"]
    assert authenticate_token(kent, good, source=SOURCE, limit=LIMIT, now=at(5)).username == "officer.kent"
    # bad tokens do not lock the source's people out of the sign-in page
    assert authenticate(kent, "officer.kent", PASSWORD, source=SOURCE, limit=LIMIT, now=at(5)) is not None


def test_concurrent_failures_from_one_source_are_all_counted_and_cross_once(kent):
    """Eight sign-ins at once, three rounds: every checked failure is counted (none lost),
    exactly one crossing is audited, and once the count is in, everything is refused."""
    limit = SourceLimit(limit=5, window=timedelta(minutes=15))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(username: str) -> None:
        try:
            authenticate(kent, username, "not the password", source=SOURCE, limit=limit, now=at(1))
            result = "checked"
        except Throttled:
            result = "refused"
        with lock:
            outcomes.append(result)

    for _round in range(3):
        threads = [threading.Thread(target=attempt, args=(f"user{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    checked = outcomes.count("checked")
    assert len(outcomes) == 24 and checked >= limit.limit
    assert failure_rows(kent) == checked == actions(kent).count("auth.login_failed")
    assert actions(kent).count("auth.source_throttled") == 1
    with pytest.raises(Throttled):
        fail(kent, 2)
    assert audit.verify_chain(kent).ok
