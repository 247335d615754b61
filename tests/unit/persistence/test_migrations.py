"""Migrations 0008 (hand-offs), 0009 (Schedule 34A questions), 0010 (sign-in throttle), 0012
(MAPPA reviews), 0013 (pauses), 0016 (when a decision was taken) and 0017 (the decision a
process carries out) upgrade an existing database and downgrade cleanly, on SQLite and, with
DATABASE_URL set, on PostgreSQL (a database of its own, not the suite's)."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from disclosure_engine.persistence.migrate import alembic_config, current_revision, upgrade
from tests.conftest import _drop_postgres, _postgres_url


@pytest.fixture()
def fresh_url(tmp_path) -> Iterator[str]:
    url = _postgres_url(f"mig{os.getpid()}")
    if url is None:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    try:
        yield url
    finally:
        _drop_postgres(url)


def _instance_columns(url: str) -> dict[str, dict]:
    engine = create_engine(url)
    try:
        insp = inspect(engine)
        columns = {c["name"]: c for c in insp.get_columns("process_instance")}
        columns["__indexes__"] = {i["name"]: i for i in insp.get_indexes("process_instance")}
        columns["__unique__"] = {u["name"]: u for u in insp.get_unique_constraints("process_instance")}
        return columns
    finally:
        engine.dispose()


def _seed_one_instance(url: str) -> None:
    """A completed instance as 0007 stored it (before hand-offs existed)."""
    engine = create_engine(url)
    now = "2026-11-30 10:00:00+00:00"
    with engine.begin() as conn:
        area = conn.execute(text("SELECT id FROM area WHERE slug = 'kent'")).scalar_one()
        conn.execute(text(
            "INSERT INTO process_definition (id, key, version, content_hash, primary_file, deployed_at, "
            "deployed_by_name) VALUES (1, 's327a_consideration', 1, :h, 's327a_consideration.bpmn', :now, 'system')"),
            {"h": "a" * 64, "now": now})
        conn.execute(text(
            "INSERT INTO case_record (id, reference, area_id, category, level, lead_agency, child_sex_offender, "
            "schedule_34a_matches, schedule_34a_version, created_at) "
            "VALUES (1, 'KNT-MIG-1', :area, 1, 1, 'police', true, '[]', 'v1', :now)"), {"area": area, "now": now})
        conn.execute(text(
            "INSERT INTO process_instance (id, definition_id, case_id, area_id, status, state, lock_version, "
            "started_at, updated_at, end_event) VALUES (1, 1, 1, :area, 'completed', '{}', 3, :now, :now, "
            "'end_disclose')"), {"area": area, "now": now})
    engine.dispose()


def test_0008_upgrades_an_existing_database_and_downgrades(fresh_url):
    upgrade(fresh_url, "0007")
    _seed_one_instance(fresh_url)
    assert "handoff_pending" not in _instance_columns(fresh_url)

    upgrade(fresh_url, "0008")  # not head: later migrations must not break this test
    assert current_revision(fresh_url) == "0008"
    cols = _instance_columns(fresh_url)
    assert cols["handoff_pending"]["nullable"] is False
    assert cols["started_from_id"]["nullable"] is True
    assert "uq_process_instance_started_from_id" in cols["__unique__"]
    index = cols["__indexes__"]["ix_process_instance_handoff_pending"]
    assert index["column_names"] == ["id"]
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        # instances that completed before the release are not handed off retroactively
        assert conn.execute(text("SELECT handoff_pending FROM process_instance WHERE id = 1")).scalar_one() in (False, 0)
        if engine.dialect.name == "postgresql":
            where = conn.execute(text("SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                                      "WHERE indexrelid = 'ix_process_instance_handoff_pending'::regclass")).scalar_one()
        else:
            where = conn.execute(text("SELECT sql FROM sqlite_master "
                                      "WHERE name = 'ix_process_instance_handoff_pending'")).scalar_one()
            where = where.split(" WHERE ", 1)[1]  # the index's predicate, not its column list
        assert "handoff_pending" in where, "a partial index of the pending rows only"
    engine.dispose()

    command.downgrade(alembic_config(fresh_url), "0007")
    assert current_revision(fresh_url) == "0007"
    cols = _instance_columns(fresh_url)
    assert "handoff_pending" not in cols and "started_from_id" not in cols
    assert "ix_process_instance_handoff_pending" not in cols["__indexes__"]

    upgrade(fresh_url, "0008")  # and up again: the downgrade left nothing behind that blocks it
    assert current_revision(fresh_url) == "0008"


def test_the_unique_key_refuses_a_second_follow_on(fresh_url):
    upgrade(fresh_url, "0007")
    _seed_one_instance(fresh_url)
    upgrade(fresh_url)
    engine = create_engine(fresh_url)
    insert = text("INSERT INTO process_instance (id, definition_id, case_id, area_id, status, state, lock_version, "
                  "started_at, updated_at, started_from_id) VALUES (:id, 1, 1, (SELECT area_id FROM case_record), "
                  "'waiting', '{}', 1, '2026-12-01 10:00:00+00:00', '2026-12-01 10:00:00+00:00', 1)")
    with engine.begin() as conn:
        conn.execute(insert, {"id": 2})
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="started_from_id|UNIQUE"), engine.begin() as conn:
        conn.execute(insert, {"id": 3})
    engine.dispose()


def _seed_cases_for_0009(url: str) -> None:
    """Three cases as 0008 stored them: one waiting on a victim's age, one a child sex offender
    with an open question on another conviction, one plainly not a child sex offender."""
    engine = create_engine(url)
    now = "2026-11-30 10:00:00+00:00"
    match = ('[{"paragraph": "7", "statute": "Sexual Offences Act 2003", "section": "9", "conviction_index": 0, '
             '"reason": "Conviction for Sexual Offences Act 2003 s.9 is listed"}]')
    with engine.begin() as conn:
        area = conn.execute(text("SELECT id FROM area WHERE slug = 'kent'")).scalar_one()
        for case_id, cso, matches in ((1, False, "[]"), (2, True, match), (3, False, "[]")):
            conn.execute(text(
                "INSERT INTO case_record (id, reference, area_id, category, level, lead_agency, child_sex_offender, "
                "schedule_34a_matches, schedule_34a_version, created_at) "
                "VALUES (:id, :ref, :area, 1, 1, 'police', :cso, :m, '2008-original', :now)"),
                {"id": case_id, "ref": f"KNT-MIG-{case_id}", "area": area, "cso": cso, "m": matches, "now": now})
        rows = [(1, 0, "1", None), (2, 0, "9", 12), (2, 1, "1", None), (3, 0, "1", 30)]
        for case_id, position, section, age in rows:
            conn.execute(text(
                "INSERT INTO conviction (case_id, position, statute, section, date, disposal, victim_age, "
                "jurisdiction) VALUES (:c, :p, 'Sexual Offences Act 2003', :s, '2015-06-02', 'conviction', :age, "
                "'england-wales')"), {"c": case_id, "p": position, "s": section, "age": age})
    engine.dispose()


def test_0009_keeps_the_schedule_34a_questions_of_existing_cases(fresh_url):
    import json

    upgrade(fresh_url, "0008")
    _seed_cases_for_0009(fresh_url)
    upgrade(fresh_url, "0009")
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(text(
            "SELECT id, schedule_34a_review, schedule_34a_review_needed FROM case_record ORDER BY id"))}
        condition = conn.execute(text("SELECT condition_met FROM conviction WHERE case_id = 1")).scalar_one()
    engine.dispose()

    def review(row):
        value = row.schedule_34a_review
        return json.loads(value) if isinstance(value, str) else value

    assert bool(rows[1].schedule_34a_review_needed) is True
    assert [(q["conviction_index"], q["kind"]) for q in review(rows[1])] == [(0, "needs_victim_age")]
    # a child sex offender: the question on the other conviction is listed, nothing waits on it
    assert bool(rows[2].schedule_34a_review_needed) is False
    assert [(q["conviction_index"], q["kind"]) for q in review(rows[2])] == [(1, "needs_victim_age")]
    assert bool(rows[3].schedule_34a_review_needed) is False and review(rows[3]) == []
    assert condition is None

    command.downgrade(alembic_config(fresh_url), "0008")
    upgrade(fresh_url, "0009")
    assert current_revision(fresh_url) == "0009"


def test_0010_adds_the_sign_in_failure_table_and_downgrades(fresh_url):
    upgrade(fresh_url, "0009")
    upgrade(fresh_url, "0010")
    engine = create_engine(fresh_url)
    try:
        insp = inspect(engine)
        assert {c["name"] for c in insp.get_columns("sign_in_failure")} == {"id", "source", "kind", "attempted_at"}
        indexes = {i["name"]: i["column_names"] for i in insp.get_indexes("sign_in_failure")}
        assert indexes == {"ix_sign_in_failure_source_kind_attempted_at": ["source", "kind", "attempted_at"],
                           "ix_sign_in_failure_attempted_at": ["attempted_at"]}
    finally:
        engine.dispose()
    command.downgrade(alembic_config(fresh_url), "0009")
    engine = create_engine(fresh_url)
    try:
        assert "sign_in_failure" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    upgrade(fresh_url, "0010")
    assert current_revision(fresh_url) == "0010"


def test_0012_marks_each_cases_latest_completed_consideration_and_downgrades(fresh_url):
    upgrade(fresh_url, "0011")
    _seed_one_instance(fresh_url)  # case 1: a consideration completed (id 1)
    engine = create_engine(fresh_url)
    insert = text("INSERT INTO process_instance (id, definition_id, case_id, area_id, status, state, lock_version, "
                  "started_at, updated_at) VALUES (:id, 1, 1, (SELECT area_id FROM case_record), :status, '{}', 1, "
                  "'2026-12-01 10:00:00+00:00', '2026-12-01 10:00:00+00:00')")
    with engine.begin() as conn:
        conn.execute(insert, {"id": 2, "status": "completed"})  # a later one: the latest
        conn.execute(insert, {"id": 3, "status": "waiting"})
    engine.dispose()

    upgrade(fresh_url, "0012")
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        marked = conn.execute(text("SELECT id FROM process_instance WHERE review_pending ORDER BY id")).scalars().all()
        assert marked == [2], "only the case's latest completed consideration schedules its review"
        periods = conn.execute(text("SELECT review_period_level1, review_period_level2, review_period_level3 "
                                    "FROM area WHERE slug = 'kent'")).one()
        assert tuple(periods) == (None, "P16W", "P8W")
        assert conn.execute(text("SELECT next_review_at FROM case_record WHERE id = 1")).scalar_one() is None
    engine.dispose()

    command.downgrade(alembic_config(fresh_url), "0011")
    assert "review_pending" not in _instance_columns(fresh_url)
    upgrade(fresh_url, "0012")
    assert current_revision(fresh_url) == "0012"


def test_0013_adds_the_pause_columns_and_a_downgrade_opens_paused_tasks_again(fresh_url):
    upgrade(fresh_url, "0012")
    _seed_one_instance(fresh_url)
    upgrade(fresh_url, "0013")
    columns = _instance_columns(fresh_url)
    assert {"paused_at", "paused_reason", "paused_by_id"} <= set(columns)
    assert all(columns[name]["nullable"] for name in ("paused_at", "paused_reason", "paused_by_id"))
    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT paused_at FROM process_instance WHERE id = 1")).scalar_one() is None
        conn.execute(text(
            "INSERT INTO human_task (id, instance_id, case_id, area_id, workflow_key, spiff_task_id, element_id, name, "
            "candidate_role, status, created_at, escalation_level, records_decision) VALUES (1, 1, 1, "
            "(SELECT area_id FROM case_record), 's327a_consideration', '00000000-0000-0000-0000-000000000001', "
            "'decide', 'Decide', 'officer', 'paused', '2026-12-01 10:00:00+00:00', 0, false)"))
    engine.dispose()
    command.downgrade(alembic_config(fresh_url), "0012")
    assert "paused_at" not in _instance_columns(fresh_url)
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM human_task WHERE id = 1")).scalar_one() == "open"
    engine.dispose()
    upgrade(fresh_url, "0013")
    assert current_revision(fresh_url) == "0013"


def _by_id(url: str, query: str) -> dict[int, object]:
    """{id: value} of a two-column query, on an engine of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text(query)).all())
    finally:
        engine.dispose()


def test_0016_dates_each_decision_when_it_was_taken_and_a_correction_keeps_that_date(fresh_url):
    upgrade(fresh_url, "0015")
    _seed_one_instance(fresh_url)
    engine = create_engine(fresh_url)
    task = text(
        "INSERT INTO human_task (id, instance_id, case_id, area_id, workflow_key, spiff_task_id, element_id, name, "
        "candidate_role, status, created_at, escalation_level, records_decision) VALUES (:id, 1, 1, "
        "(SELECT area_id FROM case_record), 's327a_consideration', :uuid, :element, 'Step', 'chair', 'completed', "
        "'2027-03-01 10:00:00+00:00', 0, true)")
    decision = text(
        "INSERT INTO decision (id, case_id, process_id, area_id, workflow_key, task_id, version, supersedes_id, "
        "supersede_reason, outcome, overdue_at_decision, record, decided_by_name, decided_at) VALUES (:id, 1, 1, "
        "(SELECT area_id FROM case_record), 's327a_consideration', :task, :version, :supersedes, :reason, "
        "'disclose', false, '{}', 'chair.kent', :at)")
    with engine.begin() as conn:
        conn.execute(task, {"id": 1, "uuid": "00000000-0000-0000-0000-000000000001", "element": "decide_out_of_meeting"})
        conn.execute(task, {"id": 2, "uuid": "00000000-0000-0000-0000-000000000002", "element": "ratify_decision"})
        rows = [(1, 1, 1, None, None, "2027-03-20 10:00:00+00:00"),  # taken out of meeting in March
                (2, 1, 2, 1, "The wrong recipient was recorded.", "2027-04-10 10:00:00+00:00"),  # corrected
                (3, 2, 3, 2, "Ratified at the MAPP meeting.", "2027-04-20 10:00:00+00:00"),  # ratified: a new step
                (4, 2, 4, 3, "The meeting's date was mistyped.", "2027-05-02 10:00:00+00:00")]  # its correction
        for id_, task_id, version, supersedes, reason, at in rows:
            conn.execute(decision, {"id": id_, "task": task_id, "version": version, "supersedes": supersedes,
                                    "reason": reason, "at": at})
    engine.dispose()

    upgrade(fresh_url, "0016")
    days = {i: str(m)[:10] for i, m in _by_id(fresh_url, "SELECT id, made_at FROM decision ORDER BY id").items()}
    assert days == {1: "2027-03-20", 2: "2027-03-20", 3: "2027-04-20", 4: "2027-04-20"}
    command.downgrade(alembic_config(fresh_url), "0015")
    upgrade(fresh_url, "0016")
    assert current_revision(fresh_url) == "0016"


def test_0017_finds_the_decision_each_process_carries_out_in_the_audit_log(fresh_url):
    upgrade(fresh_url, "0016")
    _seed_one_instance(fresh_url)  # process 1: a consideration that decided
    engine = create_engine(fresh_url)
    now = "2027-03-01 10:00:00+00:00"
    event = text("INSERT INTO audit_event (seq, occurred_at, actor_name, action, subject_type, subject_id, detail, "
                 "prev_hash, hash) VALUES (:seq, :now, 'system', 'process.started', 'process', :subject, :detail, "
                 ":h, :h)")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO decision (id, case_id, process_id, area_id, workflow_key, version, outcome, "
            "overdue_at_decision, record, decided_by_name, decided_at, made_at) VALUES (1, 1, 1, "
            "(SELECT area_id FROM case_record), 's327a_consideration', 1, 'disclose', false, '{}', 'manager.kent', "
            ":now, :now)"), {"now": now})
        for pid in (2, 3):
            conn.execute(text(
                "INSERT INTO process_instance (id, definition_id, case_id, area_id, status, state, lock_version, "
                "started_at, updated_at) VALUES (:id, 1, 1, (SELECT area_id FROM case_record), 'waiting', '{}', 1, "
                ":now, :now)"), {"id": pid, "now": now})
        conn.execute(event, {"seq": 1, "now": now, "subject": "2", "h": "a" * 64,
                             "detail": '{"workflow": "disclosure_delivery", "decision_id": 1}'})
        conn.execute(event, {"seq": 2, "now": now, "subject": "3", "h": "b" * 64,
                             "detail": '{"workflow": "csods_application"}'})
    engine.dispose()

    upgrade(fresh_url, "0017")
    carried = _by_id(fresh_url, "SELECT id, carries_decision_id FROM process_instance ORDER BY id")
    assert carried == {1: None, 2: 1, 3: None}
    command.downgrade(alembic_config(fresh_url), "0016")
    assert "carries_decision_id" not in _instance_columns(fresh_url)
    upgrade(fresh_url, "0017")
