"""PostgreSQL's completion in two round trips: what it must still guarantee.

The completion reads the audit chain's head without locking it and sends its writes with
COMMIT in one go, guarded on the head not having moved; it runs on the pool's connection in
autocommit with its own BEGIN. These tests pin what users rely on through all that: the chain
stays whole when other transactions append meanwhile, a refused write keeps nothing, and the
connection goes back to the pool as an ordinary transactional one.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from disclosure_engine.domain.errors import Conflict, ValidationFailed
from disclosure_engine.persistence.models import AuditEvent, Decision, HumanTask, ProcessInstance
from disclosure_engine.services import audit, cases, completion, processes, tasks

from .helpers import REASON, case_payload, deploy_mini, make_actor


@pytest.fixture()
def started(db):
    if db.dialect != "postgresql":
        pytest.skip("the pipelined completion is PostgreSQL's; SQLite writes one statement at a time")
    deploy_mini(db)
    officer = make_actor(db, "officer.kent", "officer")
    case = cases.create_case(db, officer, case_payload(cso=False))
    return officer, case, processes.start_process(db, officer, case["id"], "mini_decision")


def _actions_after(db, seq: int) -> list[str]:
    with db.transaction() as session:
        return list(session.execute(select(AuditEvent.action).where(AuditEvent.seq > seq)
                                    .order_by(AuditEvent.seq)).scalars())


def test_events_appended_by_others_meanwhile_are_chained_before_the_completions(db, started, monkeypatch):
    """Another officer views the case while the completion is between its read of the chain's
    head and its write: the completion's write is refused on the moved head, chained again
    behind the view, and succeeds; the chain verifies and holds both, in commit order."""
    officer, case, process = started
    viewer = make_actor(db, "viewer.kent", "officer")
    task_id = process["open_tasks"][0]["id"]
    before = audit.chain_head(db)["seq"]
    real_validate = completion.validate_submission

    def view_meanwhile(schema, data):
        other = threading.Thread(target=cases.get_case, args=(db, viewer, case["id"]))
        other.start()
        other.join(timeout=30)
        return real_validate(schema, data)

    monkeypatch.setattr(completion, "validate_submission", view_meanwhile)
    result = tasks.complete(db, officer, task_id, {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    assert result["task"]["status"] == "completed"
    actions = _actions_after(db, before)
    assert actions[0] == "case.viewed"
    assert "task.completed" in actions[1:]
    report = audit.verify_chain(db)
    assert report.ok, report.line()
    assert report.count == audit.chain_head(db)["seq"]


def test_a_completion_without_others_writes_its_events_on_the_head_it_read(db, started):
    officer, _case, process = started
    before = audit.chain_head(db)
    tasks.complete(db, officer, process["open_tasks"][0]["id"],
                   {"serious_harm_risk": "no", "serious_harm_reasons": REASON})
    with db.transaction() as session:
        first = session.execute(select(AuditEvent).where(AuditEvent.seq == before["seq"] + 1)).scalar_one()
    assert (first.action, first.prev_hash) == ("task.completed", before["hash"])
    assert audit.verify_chain(db).ok


def test_a_failed_completion_returns_an_ordinary_connection_to_the_pool(db, started):
    """After a refused completion (here: a form error after the pipelined read), the next
    transaction on the same pooled connection must be atomic again: a failure half-way keeps
    nothing. A connection left in autocommit would keep the first insert."""
    officer, _case, process = started
    with pytest.raises(ValidationFailed):
        tasks.complete(db, officer, process["open_tasks"][0]["id"], {"serious_harm_risk": "maybe"})
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            session.execute(text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (2, 0, 'x')"))
            raise RuntimeError("half-way")
    with db.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM audit_head")).scalar_one() == 1
    assert audit.verify_chain(db).ok


def _make_version_stale(monkeypatch):
    """Make the completion see its instance's version one behind, as a write slipping past the
    lock would; returns the real ``lock_for_task`` to put back."""
    import dataclasses

    from disclosure_engine.services import task_lock

    real_lock = task_lock.lock_for_task

    def stale_version(*args, **kwargs):
        locked = real_lock(*args, **kwargs)
        locked.instance = dataclasses.replace(locked.instance, lock_version=locked.instance.lock_version - 1)
        return locked

    monkeypatch.setattr(completion, "lock_for_task", stale_version)
    return real_lock


def test_a_write_refused_by_its_guard_keeps_nothing_and_the_transaction_is_undone(db, started, monkeypatch):
    """The write goes with COMMIT in one round trip, guarded on the instance's version. When
    the guard refuses (here the version read is made stale, as a write slipping past the lock
    would make it), the COMMIT must not run: nothing of the completion is kept, the caller gets
    a Conflict, and the instance is not left locked (a second attempt succeeds)."""
    officer, _case, process = started
    task_id = process["open_tasks"][0]["id"]
    with db.transaction() as session:
        version = session.get(ProcessInstance, process["id"]).lock_version
    before = audit.chain_head(db)["seq"]
    real_lock = _make_version_stale(monkeypatch)
    with pytest.raises(Conflict):
        tasks.complete(db, officer, task_id, {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    monkeypatch.setattr(completion, "lock_for_task", real_lock)
    with db.transaction() as session:
        assert session.get(ProcessInstance, process["id"]).lock_version == version
        assert session.get(HumanTask, task_id).status == "open"
        assert session.execute(select(Decision)).all() == []
    assert audit.chain_head(db)["seq"] == before
    done = tasks.complete(db, officer, task_id, {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    assert done["task"]["status"] == "completed"
    assert audit.verify_chain(db).ok


def test_the_write_guard_function_is_installed(db):
    if db.dialect != "postgresql":
        pytest.skip("de_guard is PostgreSQL's")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT de_guard(true, 'x')")).scalar_one() is True
        with pytest.raises(Exception) as refused:
            conn.execute(text("SELECT de_guard(false, 'audit_head')"))
        assert getattr(refused.value.orig, "sqlstate", None) == "DE409"
        assert "audit_head" in str(refused.value)


def test_pipelined_statements_bind_and_read_values_as_sqlalchemy_does(db):
    """Statements sent through the pipeline take SQLAlchemy's parameter processing (a naive
    datetime for a UTC column is refused, JSON is wrapped) and give datetimes back in UTC
    whatever the server's time zone, as the ORM's UTCDateTime columns do."""
    if db.dialect != "postgresql":
        pytest.skip("the pipeline is PostgreSQL's")
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import JSON, bindparam, func

    from disclosure_engine.persistence.models.base import UTCDateTime
    from disclosure_engine.persistence.pg_pipeline import PgStatement, pipelined

    dialect = db.engine.dialect
    zone = PgStatement(select(func.set_config("TimeZone", "Europe/London", True)), dialect)
    echo = PgStatement(select(bindparam("at", type_=UTCDateTime).label("at"),
                              bindparam("doc", type_=JSON).label("doc")), dialect)
    with pytest.raises(ValueError):
        echo.params({"at": datetime(2026, 7, 1, 12, 0), "doc": {}})
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    with db.transaction() as session, pipelined(session) as pipe:
        _, (row,) = pipe.run((zone, {}), (echo, {"at": summer, "doc": {"b": [1, 2], "a": "x"}}))
    assert row.at == summer and row.at.utcoffset() == timedelta(0)
    assert row.doc == {"b": [1, 2], "a": "x"}


def test_without_a_pipeline_postgresql_completes_and_guards_the_same_way(db, started, monkeypatch):
    """The statement-by-statement path also runs on PostgreSQL (a transaction that has already
    sent statements gets no pipeline): the same write, guarded the same way."""
    import contextlib

    officer, _case, process = started
    task_id = process["open_tasks"][0]["id"]
    monkeypatch.setattr(completion, "pipelined", lambda session: contextlib.nullcontext(None))
    real_lock = _make_version_stale(monkeypatch)
    with pytest.raises(Conflict):
        tasks.complete(db, officer, task_id, {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    monkeypatch.setattr(completion, "lock_for_task", real_lock)
    done = tasks.complete(db, officer, task_id, {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    assert done["task"]["status"] == "completed"
    with db.transaction() as session:
        assert session.get(HumanTask, task_id).completed_by_id == officer.user_id
    assert audit.verify_chain(db).ok
