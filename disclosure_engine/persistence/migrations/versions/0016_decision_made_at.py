"""A decision record says when the decision was taken, apart from when its version was written.

- ``decision.made_at``: for a version a decision step recorded, when it was recorded (its
  ``decided_at``); for a correction, the ``made_at`` of the version it corrects. Area
  statistics count decisions by it, so a decision corrected after the end of a reporting year
  still counts in the year it was taken (before, the correction moved it to the next year).
- ``ix_decision_made`` (``area_id``, ``made_at``): the statistics' period filter.

Existing rows: ``made_at`` is filled from the records as they stand. A correction is the version
that supersedes one written by the same task (``services.decisions.supersede`` keeps the task);
a decision step that records again (a ratification, a reconsideration) is a new task, so it is
a new decision with its own time.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

from disclosure_engine.persistence.models.base import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("made_at", UTCDateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    decision = sa.table("decision", sa.column("id", sa.Integer), sa.column("supersedes_id", sa.Integer),
                        sa.column("task_id", sa.Integer), sa.column("decided_at", UTCDateTime(timezone=True)),
                        sa.column("made_at", UTCDateTime(timezone=True)))
    rows = conn.execute(sa.select(decision.c.id, decision.c.supersedes_id, decision.c.task_id,
                                  decision.c.decided_at).order_by(decision.c.id)).all()
    by_id = {row.id: row for row in rows}
    made: dict[int, object] = {}
    for row in rows:  # ids grow with time: a superseded version is always met first
        older = by_id.get(row.supersedes_id) if row.supersedes_id is not None else None
        corrects = older is not None and row.task_id is not None and older.task_id == row.task_id
        made[row.id] = made.get(older.id, older.decided_at) if corrects else row.decided_at
    update = sa.update(decision).where(decision.c.id == sa.bindparam("d_id")).values(made_at=sa.bindparam("d_made"))
    items = [{"d_id": i, "d_made": m} for i, m in made.items()]
    for start in range(0, len(items), _BATCH):
        conn.execute(update, items[start:start + _BATCH])
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.alter_column("made_at", existing_type=UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_decision_made", ["area_id", "made_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_made")
        batch_op.drop_column("made_at")
