"""The web app, the workers and ``/readyz`` know whether the database is at this release's
migration (``persistence.migrate.schema_problem``): a replica started before ``db upgrade``
must neither take traffic nor fail every page with "no such table"."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from disclosure_engine.config import load_settings
from disclosure_engine.persistence.migrate import head_revision, schema_problem, upgrade


def _problem(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return schema_problem(engine)
    finally:
        engine.dispose()


def test_at_head_there_is_no_problem(database_url):
    assert _problem(database_url) is None


def test_empty_behind_and_unknown_schemas_each_say_what_to_do(tmp_path):
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    assert _problem(url) == "the database has no schema yet: run `disclosure-engine db upgrade` first"
    upgrade(url, "0014")
    assert head_revision() != "0014", "a release with a newer migration: pick an older one here"
    assert _problem(url) == (f"the database is at migration 0014 and this release needs {head_revision()}: "
                             "run `disclosure-engine db upgrade` first")
    engine = create_engine(url)
    with engine.begin() as conn:  # as a newer release would leave it
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert _problem(url) == ("the database is at migration 9999, which this release does not know "
                             "(migrated by a newer release?): run the release that migrated it")


def test_readyz_is_not_ready_on_an_unmigrated_database_and_ready_once_upgraded(tmp_path):
    from web import create_app

    url = f"sqlite:///{tmp_path / 'ready.db'}"
    app = create_app(load_settings({"DISCLOSURE_ENV": "test", "DATABASE_URL": url,
                                    "DISCLOSURE_INSTANCE_DIR": str(tmp_path / "instance")}))
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "not migrated" and response.get_json()["status"] == "unavailable"
    upgrade(url)
    response = client.get("/readyz")
    assert response.get_json()["database"] == "ok", response.get_json()
