"""The database floor of one task completion: the same reads and writes ``tasks.complete``
makes, sent by raw psycopg with no ORM, no engine and the writes pipelined into one round trip.

What a completion must make durable (and so what no implementation can skip): lock the
instance and its task rows, read the audit chain's head, then update the instance state
(about 11 KB) and the task row, insert the decision record and three audit events, move the
head, commit. Round trips, as the product sends them: [BEGIN + lock + task rows + head],
[writes + COMMIT].

Used by ``engine_overhead.py --floor``; PostgreSQL only.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import psycopg

LOCK = """SELECT pi.id, pi.case_id, pi.area_id, pi.lock_version, pi.state, c.reference, c.visor_ref
FROM process_instance pi JOIN case_record c ON c.id = pi.case_id
WHERE pi.id = (SELECT instance_id FROM human_task WHERE id = %s) FOR UPDATE OF pi"""
TASKS = """SELECT ht.*, (SELECT d.id FROM decision d WHERE d.process_id = %s ORDER BY d.version DESC LIMIT 1),
       nextval(pg_get_serial_sequence('decision', 'id'))
FROM human_task ht WHERE ht.instance_id = (SELECT instance_id FROM human_task WHERE id = %s)
  AND (ht.status = 'open' OR ht.id = %s) FOR UPDATE OF ht"""
HEAD = "SELECT last_seq, last_hash FROM audit_head WHERE id = 1"
UPDATE_INSTANCE = """UPDATE process_instance SET state = %s::json, status = 'completed', next_timer_at = NULL,
  lock_version = lock_version + 1, updated_at = now(), completed_at = now(), end_event = 'end'
WHERE id = %s AND lock_version = %s"""
UPDATE_TASK = """UPDATE human_task SET status = 'completed', data = %s::json, completed_at = now(),
  completed_by_id = %s, assignee_id = %s, claimed_at = now(), draft_data = NULL WHERE id = %s"""
INSERT_DECISION = """INSERT INTO decision (id, case_id, process_id, area_id, workflow_key, task_id, version,
  outcome, presumption_applies, legal_basis, overdue_at_decision, record, decided_by_id, decided_by_name,
  decided_at) VALUES (%s, %s, %s, %s, 's327a_consideration', %s, 1, 'disclose', true, 's327a', false,
  %s::json, %s, 'bench.officer', now())"""
INSERT_EVENTS = """INSERT INTO audit_event (seq, occurred_at, actor_id, actor_name, action, subject_type,
  subject_id, area, detail, prev_hash, hash) VALUES {}"""
UPDATE_HEAD = "UPDATE audit_head SET last_seq = %s, last_hash = %s WHERE id = 1 AND last_seq = %s"


def floor(url: str, task_ids: list[int], user_id: int, data: dict[str, Any]) -> list[float]:
    """Seconds per completion of ``task_ids`` doing only the database work (state rewritten
    as it was read: the engine's output has the same size)."""
    times = []
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        cur = conn.cursor()
        for tid in task_ids:
            t0 = time.perf_counter()
            with conn.pipeline():
                conn.execute("BEGIN")
                locked = conn.execute(LOCK, (tid,))
                tasks = conn.execute(TASKS, (tid, tid, tid))
                head = conn.execute(HEAD)
            instance_id, case_id, area_id, version, state, reference, visor = locked.fetchone()
            rows = tasks.fetchall()
            decision_id = rows[0][-1]
            state_text = json.dumps(state)
            record = json.dumps({**data, "case_reference": reference, "offender": {"visor_ref": visor}})
            seq, prev = head.fetchone()
            head_was = seq
            events, params = [], []
            for action, subject in (("task.completed", tid), ("decision.recorded", decision_id),
                                    ("process.completed", instance_id)):
                seq += 1
                digest = hashlib.sha256(f"{prev}{seq}{action}{subject}".encode()).hexdigest()
                events.append("(%s, now(), %s, 'bench.officer', %s, 'x', %s, 'kent', '{}'::json, %s, %s)")
                params += [seq, user_id, action, str(subject), prev, digest]
                prev = digest
            with conn.pipeline():
                cur.execute(UPDATE_INSTANCE, (state_text, instance_id, version))
                cur.execute(UPDATE_TASK, (json.dumps(data), user_id, user_id, tid))
                cur.execute(INSERT_DECISION, (decision_id, case_id, instance_id, area_id, tid, record, user_id))
                cur.execute(INSERT_EVENTS.format(", ".join(events)), params)
                cur.execute(UPDATE_HEAD, (seq, prev, head_was))
                cur.execute("COMMIT")
            times.append(time.perf_counter() - t0)
    return times
