"""Shared fixtures: a migrated database per test session, emptied between tests.

The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL is set (CI). Each
xdist worker gets its own PostgreSQL database so parallel runs never share rows.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from disclosure_engine.config import Settings, load_settings, normalise_database_url
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
KEEP_TABLES = {"area", "alembic_version"}


def _postgres_url(worker: str) -> str | None:
    base = os.environ.get("DATABASE_URL")
    if not base or base.startswith("sqlite"):
        return None
    base = normalise_database_url(base)
    server, _, _db = base.rpartition("/")
    name = f"de_test_{worker}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


def _drop_postgres(url: str) -> None:
    server, _, name = url.rpartition("/")
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = _postgres_url(worker)
    if url is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    yield url
    if url.startswith("postgresql"):
        _drop_postgres(url)


@pytest.fixture(scope="session")
def _session_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


def _empty(db: Database) -> None:
    from disclosure_engine.persistence.models import Base

    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP_TABLES]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            # processes and decisions refer to each other (carries_decision_id): break the loop first
            conn.execute(text("UPDATE process_instance SET carries_decision_id = NULL"))
            for name in reversed(tables):
                conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, :h)"),
                     {"h": "0" * 64})
        # areas are kept (seeded by a migration), their settings put back to the defaults
        conn.execute(text("UPDATE area SET review_period_level1 = NULL, review_period_level2 = 'P16W', "
                          "review_period_level3 = 'P8W'"))


@pytest.fixture()
def db(_session_db: Database) -> Iterator[Database]:
    """A migrated, empty database (areas seeded, audit chain at genesis)."""
    _empty(_session_db)
    yield _session_db


@pytest.fixture()
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings({
        "DISCLOSURE_ENV": "test",
        "DATABASE_URL": database_url,
        "DISCLOSURE_INSTANCE_DIR": str(tmp_path / "instance"),
        "WORKFLOWS_DIR": str(ROOT / "workflows"),
    })
