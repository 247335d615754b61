"""Schedule 34A questions kept with the case, and the condition answer kept with a conviction.

- ``case_record.schedule_34a_review``: the questions a person must answer before the matching
  is complete (victim's age unknown, a paragraph's condition unconfirmed, a foreign conviction
  without an equivalence opinion). Until this release they were only in the creation reply.
- ``case_record.schedule_34a_review_needed``: nothing matched yet but something might: whether
  the s.327A duty applies is undecided. Partial index by area for the "waiting for a judgement"
  lists.
- ``conviction.condition_met``: the answer to a paragraph's extra condition, which was checked
  at creation but not kept, so a re-match could not see it.

Existing cases are filled in by matching their stored convictions again with the matcher of
this release (pure code, no I/O): questions on a conviction that already produced a stored
match are left out, since its condition answer was not kept and the match stands.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_34a_review", _JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("schedule_34a_review_needed", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("conviction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("condition_met", sa.Boolean(), nullable=True))
    op.create_index("ix_case_record_review_needed", "case_record", ["area_id"], unique=False,
                    postgresql_where=sa.text("schedule_34a_review_needed"),
                    sqlite_where=sa.text("schedule_34a_review_needed"))
    _fill_in(op.get_bind())


def _fill_in(conn: sa.engine.Connection) -> None:
    from disclosure_engine.domain.cases import ConvictionInput, EquivalenceOpinion
    from disclosure_engine.domain.schedule34a import match_convictions

    cases = sa.table("case_record", sa.column("id"), sa.column("child_sex_offender", sa.Boolean),
                     sa.column("schedule_34a_matches", _JSON), sa.column("schedule_34a_review", _JSON),
                     sa.column("schedule_34a_review_needed", sa.Boolean))
    convictions = sa.table("conviction", sa.column("case_id"), sa.column("position"), sa.column("statute"),
                           sa.column("section"), sa.column("date", sa.Date), sa.column("disposal"),
                           sa.column("victim_age"), sa.column("jurisdiction"), sa.column("inchoate"),
                           sa.column("equivalence_opinion", _JSON))
    by_case: dict[int, list] = {}
    for row in conn.execute(sa.select(convictions).order_by(convictions.c.case_id, convictions.c.position)):
        opinion = row.equivalence_opinion
        by_case.setdefault(row.case_id, []).append(ConvictionInput(
            statute=row.statute, section=row.section, date=row.date, disposal=row.disposal,
            victim_age=row.victim_age, jurisdiction=row.jurisdiction, inchoate=row.inchoate,
            equivalence_opinion=EquivalenceOpinion(**opinion) if opinion else None))
    for case in conn.execute(sa.select(cases.c.id, cases.c.child_sex_offender, cases.c.schedule_34a_matches)):
        result = match_convictions(by_case.get(case.id, []))
        matched = {m.get("conviction_index") for m in case.schedule_34a_matches or []}
        review = [item for item in result.review() if item["conviction_index"] not in matched]
        if review:
            conn.execute(sa.update(cases).where(cases.c.id == case.id).values(
                schedule_34a_review=review,
                schedule_34a_review_needed=not case.child_sex_offender))


def downgrade() -> None:
    op.drop_index("ix_case_record_review_needed", table_name="case_record")
    with op.batch_alter_table("conviction", schema=None) as batch_op:
        batch_op.drop_column("condition_met")
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_column("schedule_34a_review_needed")
        batch_op.drop_column("schedule_34a_review")
