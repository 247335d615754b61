"""The Alembic migrations build exactly the schema the models describe (no drift)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from disclosure_engine.persistence.models import Area, Base


def test_migrations_match_models(db):
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_the_42_areas_are_seeded(db):
    with db.transaction() as session:
        assert session.execute(select(func.count()).select_from(Area)).scalar_one() == 42
        assert session.execute(select(Area.name).where(Area.slug == "avon-and-somerset")).scalar_one() \
            == "Avon and Somerset"


def test_schema_is_at_the_latest_revision(db):
    from alembic.script import ScriptDirectory

    from disclosure_engine.persistence.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
