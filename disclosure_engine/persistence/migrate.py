"""Run Alembic migrations without an alembic.ini on disk (works from an installed package)."""
from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


@functools.lru_cache(maxsize=1)
def _revisions() -> tuple[str, frozenset[str]]:
    """This release's head migration and every migration it knows (read once: the scripts
    ship with the code)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = scripts.get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head, frozenset(s.revision for s in scripts.walk_revisions())


def head_revision() -> str:
    """The migration this release's code expects."""
    return _revisions()[0]


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at this release's migration; otherwise one line saying so and
    what to run.

    Checked before the web app or a worker starts (and by ``/readyz``): on a database that is
    missing the schema or behind the code, everything would start and then fail on every page
    and job with "no such table". Ahead of the code (migrated by a newer release, then rolled
    back) is refused too: this code does not know what that schema means. Connection errors
    propagate (the caller says the database is unreachable)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head, known = _revisions()
    if current == head:
        return None
    if current is None:
        return "the database has no schema yet: run `disclosure-engine db upgrade` first"
    if current in known:
        return (f"the database is at migration {current} and this release needs {head}: "
                "run `disclosure-engine db upgrade` first")
    return (f"the database is at migration {current}, which this release does not know "
            "(migrated by a newer release?): run the release that migrated it")
