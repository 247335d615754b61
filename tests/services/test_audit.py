"""The audit chain proves nobody rewrote or removed an event (DPA 2018 s.62 integrity)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from disclosure_engine.domain.roles import SYSTEM, Actor
from disclosure_engine.services import audit

OFFICER = Actor(user_id=7, username="kent.officer", roles=frozenset({"officer"}), areas=frozenset({"kent"}))


def _write(db, n: int = 5) -> None:
    for i in range(n):
        with db.transaction() as s:
            audit.record(s, OFFICER, "case.viewed", "case", i + 1, area="kent",
                         justification="MAPPA review", detail={"n": i, "note": "ünïcode"})


def test_empty_chain_verifies(db):
    assert audit.verify_chain(db).line() == "OK 0 events"


def test_intact_chain_verifies(db):
    _write(db, 5)
    report = audit.verify_chain(db)
    assert report.ok and report.count == 5


@pytest.mark.parametrize("column,value", [
    ("actor_name", "'someone.else'"), ("action", "'case.created'"), ("subject_id", "'99'"),
    ("area", "'essex'"), ("justification", "'edited'"), ("recipient", "'a journalist'"),
    ("source", "'10.0.0.1'"), ("actor_id", "8"), ("prev_hash", "'" + "1" * 64 + "'"),
    ("hash", "'" + "2" * 64 + "'"),
])
def test_tampering_with_any_field_is_detected(db, column, value):
    _write(db, 5)
    with db.engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_event SET {column} = {value} WHERE seq = 3"))
    report = audit.verify_chain(db)
    assert not report.ok
    assert report.broken_seq == 3
    assert "3" in report.line()


def test_tampering_with_time_and_detail_is_detected(db):
    _write(db, 3)
    with db.engine.begin() as conn:
        row = conn.execute(text("SELECT occurred_at FROM audit_event WHERE seq = 2")).scalar_one()
    from datetime import timedelta
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET occurred_at = :t WHERE seq = 2"),
                     {"t": row + timedelta(seconds=1) if not isinstance(row, str) else "2020-01-01 00:00:00.000000"})
    assert audit.verify_chain(db).broken_seq == 2


def test_detail_tampering_is_detected(db):
    _write(db, 3)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET detail = :d WHERE seq = 1"), {"d": '{"n": 5}'})
    assert audit.verify_chain(db).broken_seq == 1


def test_deleting_a_middle_event_is_detected(db):
    _write(db, 5)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    report = audit.verify_chain(db)
    assert not report.ok and report.broken_seq == 2 and "missing" in report.reason


def test_deleting_the_last_event_is_detected(db):
    _write(db, 5)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 5"))
    report = audit.verify_chain(db)
    assert not report.ok and report.broken_seq == 5


def test_event_rolls_back_with_the_change(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as s:
            audit.record(s, SYSTEM, "workflow.deployed", "workflow", "x")
            raise RuntimeError("the change failed")
    assert audit.verify_chain(db).line() == "OK 0 events"


def test_concurrent_writers_do_not_fork_the_chain(db):
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            _write(db, 10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = audit.verify_chain(db)
    assert report.ok and report.count == 40
