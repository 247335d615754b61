"""What every benchmark needs: a freshly created, migrated database."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from disclosure_engine.config import normalise_database_url
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.migrate import upgrade


def fresh_database(url: str) -> Database:
    """Drop and recreate the PostgreSQL database named in ``url`` (SQLite: just migrate), then
    migrate it to the latest schema."""
    url = normalise_database_url(url)
    if url.startswith("postgresql"):
        server, _, name = url.rpartition("/")
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    upgrade(url)
    return Database(url)
