"""A process records the decision it carries out, so one decision is not delivered twice at once.

- ``process_instance.carries_decision_id``: the decision named by the process's ``decision_id``
  start field (a disclosure delivery's). A second process carrying a decision of the same
  consideration is refused while one runs (``services.processes.running_carrier``); a hand-off
  finding one running starts nothing.
- ``ix_process_instance_carries_decision_id``: that lookup.

Existing rows: filled from the audit log, whose ``process.started`` events have recorded the
``decision_id`` of every start that had one since the first release.

Revision ID: 0017
Revises: 0016
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carries_decision_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_process_instance_carries_decision_id_decision", "decision",
                                    ["carries_decision_id"], ["id"])
        batch_op.create_index("ix_process_instance_carries_decision_id", ["carries_decision_id"], unique=False)
    conn = op.get_bind()
    events = conn.execute(sa.text("SELECT subject_id, detail FROM audit_event WHERE action = 'process.started'"))
    decisions = set(conn.execute(sa.text("SELECT id FROM decision")).scalars())
    carried = []
    for subject_id, detail in events:
        if isinstance(detail, str):
            detail = json.loads(detail)
        decision_id = (detail or {}).get("decision_id")
        if isinstance(decision_id, int) and decision_id in decisions and str(subject_id).isdigit():
            carried.append({"p_id": int(subject_id), "d_id": decision_id})
    update = sa.text("UPDATE process_instance SET carries_decision_id = :d_id WHERE id = :p_id")
    for start in range(0, len(carried), 1000):
        conn.execute(update, carried[start:start + 1000])


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instance_carries_decision_id")
        batch_op.drop_constraint("fk_process_instance_carries_decision_id_decision", type_="foreignkey")
        batch_op.drop_column("carries_decision_id")
