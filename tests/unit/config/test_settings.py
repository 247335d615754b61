"""Settings come from the environment; production refuses embedded defaults."""
from __future__ import annotations

import pytest

from disclosure_engine.config import PROJECT_ROOT, load_settings
from disclosure_engine.domain.errors import BadInput


def test_defaults_are_zero_set_up(tmp_path):
    s = load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'disclosure.db'}"
    assert s.redis_url is None and len(s.secret_key) >= 32
    assert (tmp_path / "secret_key").read_text() == s.secret_key, "kept across restarts"
    assert load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path)}).secret_key == s.secret_key


def test_empty_values_mean_unset():
    s = load_settings({"DISCLOSURE_INSTANCE_DIR": "", "WORKFLOWS_DIR": "", "SECRET_KEY": "x" * 40})
    assert s.instance_dir == PROJECT_ROOT / "instance"
    assert s.workflows_dir == PROJECT_ROOT / "workflows"


def test_platform_database_urls_use_psycopg():
    s = load_settings({"DATABASE_URL": "postgres://app@db:5432/de", "SECRET_KEY": "x" * 40})
    assert s.database_url == "postgresql+psycopg://app@db:5432/de"


@pytest.mark.parametrize("env,needle", [
    ({}, "DATABASE_URL"),
    ({"DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://a@b/c"}, "REDIS_URL"),
    ({"DATABASE_URL": "postgresql://a@b/c", "REDIS_URL": "redis://r:6379/0", "SECRET_KEY": "short"}, "SECRET_KEY"),
])
def test_production_refuses_embedded_defaults(env, needle):
    with pytest.raises(BadInput, match=needle):
        load_settings({"DISCLOSURE_ENV": "production", **env})


def test_bad_values_are_one_line_errors():
    with pytest.raises(BadInput, match="SWEEP_SECONDS"):
        load_settings({"SWEEP_SECONDS": "often", "SECRET_KEY": "x" * 40})
    with pytest.raises(BadInput, match="DISCLOSURE_ENV"):
        load_settings({"DISCLOSURE_ENV": "staging"})
    for limit in ("5", "60001"):
        with pytest.raises(BadInput, match="EXPRESSION_TIMEOUT_MS"):
            load_settings({"EXPRESSION_TIMEOUT_MS": limit, "SECRET_KEY": "x" * 40})


@pytest.mark.parametrize("env, needle", [
    ({"DATABASE_URL": "nonsense"}, "DATABASE_URL is not a database URL"),
    ({"DATABASE_URL": "mysql://x/y"}, "not mysql://"),
    ({"DATABASE_URL": "postgresql+asyncpg://a@b/c"}, "asyncpg driver is not supported"),
    ({"DATABASE_URL": "postgres://a:pw@b:port/c"}, "port that is not a number"),
    ({"REDIS_URL": "notaurl"}, "REDIS_URL must start with redis://, rediss:// or unix://"),
    ({"REDIS_URL": "redis://h:abc/0"}, "REDIS_URL has a port"),
    ({"REDIS_URL": "unix://"}, "socket path"),
])
def test_urls_are_checked_when_settings_load(tmp_path, env, needle):
    with pytest.raises(BadInput, match=needle) as refused:
        load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path), **env})
    assert "pw" not in refused.value.message


@pytest.mark.parametrize("url", ["sqlite:///x.db", "sqlite://", "postgresql://a@b:5432/c",
                                 "postgres://a@b/c", "postgresql+psycopg://a@b/c"])
def test_supported_database_urls_load(tmp_path, url):
    assert load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": url}).database_url


@pytest.mark.parametrize("url", ["redis://r:6379/0", "rediss://u:p@r:6380/1", "unix:///tmp/redis.sock?db=0"])
def test_supported_redis_urls_load(tmp_path, url):
    assert load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path), "REDIS_URL": url}).redis_url == url


def test_sign_in_throttle_settings_default_and_load(tmp_path):
    s = load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path)})
    assert (s.sign_in_source_limit, s.sign_in_source_window_minutes) == (20, 15)
    s = load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path), "SIGN_IN_SOURCE_LIMIT": "50",
                       "SIGN_IN_SOURCE_WINDOW_MINUTES": "60"})
    assert (s.sign_in_source_limit, s.sign_in_source_window_minutes) == (50, 60)


@pytest.mark.parametrize("name, raw, needle", [
    ("SIGN_IN_SOURCE_LIMIT", "many", "SIGN_IN_SOURCE_LIMIT must be an integer, got 'many'"),
    ("SIGN_IN_SOURCE_LIMIT", "0", "SIGN_IN_SOURCE_LIMIT must be positive, got 0"),
    ("SIGN_IN_SOURCE_LIMIT", "1001", "SIGN_IN_SOURCE_LIMIT must be at most 1000, got 1001"),
    ("SIGN_IN_SOURCE_WINDOW_MINUTES", "-5", "SIGN_IN_SOURCE_WINDOW_MINUTES must be positive, got -5"),
    ("SIGN_IN_SOURCE_WINDOW_MINUTES", "1.5", "SIGN_IN_SOURCE_WINDOW_MINUTES must be an integer"),
    ("SIGN_IN_SOURCE_WINDOW_MINUTES", "1441", "SIGN_IN_SOURCE_WINDOW_MINUTES must be at most 1440"),
])
def test_bad_sign_in_throttle_settings_are_refused_at_start(tmp_path, name, raw, needle):
    with pytest.raises(BadInput, match=needle):
        load_settings({"DISCLOSURE_INSTANCE_DIR": str(tmp_path), name: raw})
