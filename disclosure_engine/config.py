"""Every setting comes from the environment, with defaults that give a zero-set-up product.

Settings are validated once at start-up so a misconfigured production deployment refuses to
start rather than running on an embedded database or a guessable secret.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from disclosure_engine.domain.errors import BadInput

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")


def normalise_database_url(url: str) -> str:
    """Accept the ``postgresql://`` / ``postgres://`` forms platforms hand out; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


DATABASE_DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}
REDIS_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def check_database_url(url: str) -> str:
    """The URL normalised for SQLAlchemy, or BadInput naming DATABASE_URL.

    Checked here, not when the engine is created, because SQLAlchemy's own refusals
    (ArgumentError, a missing driver module, a bad port) surface as tracebacks deep in the
    first command that touches the database. Messages name the scheme only: the URL itself
    may hold a password.
    """
    normalised = normalise_database_url(url)
    try:
        parsed: URL = make_url(normalised)
    except ArgumentError:
        raise BadInput("DATABASE_URL is not a database URL (expected postgresql://user@host:port/db "
                       "or sqlite:///path/to/file.db)") from None
    except ValueError:
        raise BadInput("DATABASE_URL has a port that is not a number") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend not in DATABASE_DRIVERS:
        raise BadInput(f"DATABASE_URL must be a PostgreSQL (postgresql:// or postgres://) or SQLite "
                       f"(sqlite:///) URL, not {parsed.drivername}://")
    if driver not in DATABASE_DRIVERS[backend]:
        raise BadInput(f"DATABASE_URL: the {driver} driver is not supported; use "
                       f"{backend}:// (the product uses {DATABASE_DRIVERS[backend][0]})")
    return normalised


def check_redis_url(url: str) -> str:
    """``url`` if redis-py can use it, else BadInput naming REDIS_URL (redis-py's own ValueError
    comes from the first connection, as a traceback)."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise BadInput("REDIS_URL must start with redis://, rediss:// or unix:// "
                       "(e.g. redis://host:6379/0)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise BadInput("REDIS_URL has a port that is not a number") from None
    if parts.scheme == "unix" and not parts.path:
        raise BadInput("REDIS_URL unix:// needs a socket path (unix:///path/to/redis.sock)")
    return url


def max_upload_bytes(environ: dict[str, str] | None = None) -> int:
    """MAX_UPLOAD_BYTES alone, for commands such as ``workflows validate`` that need the limit
    deploy applies but no database, secret or instance folder."""
    env = dict(os.environ if environ is None else environ)
    return _int(env, "MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    instance_dir: Path = PROJECT_ROOT / "instance"
    workflows_dir: Path = PROJECT_ROOT / "workflows"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    expression_timeout_ms: int = 1000
    sweep_seconds: int = 30
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "disclosure-engine@localhost"
    base_url: str = "http://127.0.0.1:5000"
    #: reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none,
    #: the client's address is the socket's; a spoofable header must never reach the audit log)
    trusted_proxy_hops: int = 0
    #: failed sign-ins one source (client address; an IPv6 /64) may make within the window
    #: before its further attempts are refused unchecked (429) until the window has room again
    sign_in_source_limit: int = 20
    sign_in_source_window_minutes: int = 15
    secret_generated: bool = field(default=False, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise BadInput(f"{name} must be positive, got {value}")
    return value


def _int_up_to(env: dict[str, str], name: str, default: int, maximum: int) -> int:
    """A positive integer no larger than ``maximum`` (a bound that keeps the setting sensible:
    a year-long window would keep a year of rows and lock a source out for as long)."""
    value = _int(env, name, default)
    if value > maximum:
        raise BadInput(f"{name} must be at most {maximum}, got {value}")
    return value


def _expression_timeout(env: dict[str, str]) -> int:
    """10 ms to a minute: less refuses ordinary conditions, more is no bound on a request that
    holds an instance's lock (the same bounds as ``engine.time_limit``)."""
    value = _int_up_to(env, "EXPRESSION_TIMEOUT_MS", 1000, 60_000)
    if value < 10:
        raise BadInput(f"EXPRESSION_TIMEOUT_MS must be at least 10, got {value}")
    return value


#: bounds of the sign-in throttle's settings (a day's window; a limit past which it does nothing)
MAX_SIGN_IN_SOURCE_LIMIT = 1000
MAX_SIGN_IN_SOURCE_WINDOW_MINUTES = 24 * 60


def _hops(env: dict[str, str]) -> int:
    raw = env.get("TRUSTED_PROXY_HOPS") or "0"
    if not raw.isdigit() or int(raw) > 5:
        raise BadInput(f"TRUSTED_PROXY_HOPS must be a whole number from 0 to 5, got {raw!r}")
    return int(raw)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read and validate settings; raises BadInput with a one-line reason when invalid."""
    env = dict(os.environ if environ is None else environ)
    name = env.get("DISCLOSURE_ENV", "development")
    if name not in ENVIRONMENTS:
        raise BadInput(f"DISCLOSURE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
    instance_dir = Path(env.get("DISCLOSURE_INSTANCE_DIR") or PROJECT_ROOT / "instance")
    database_url = check_database_url(env["DATABASE_URL"]) if env.get("DATABASE_URL") else ""
    redis_url = check_redis_url(env["REDIS_URL"]) if env.get("REDIS_URL") else None
    secret = env.get("SECRET_KEY") or ""
    generated = False
    if name == "production":
        if not database_url or database_url.startswith("sqlite"):
            raise BadInput("DISCLOSURE_ENV=production needs DATABASE_URL for PostgreSQL")
        if not redis_url:
            raise BadInput("DISCLOSURE_ENV=production needs REDIS_URL (no embedded Redis)")
        if len(secret) < 32:
            raise BadInput("DISCLOSURE_ENV=production needs SECRET_KEY of 32+ characters")
    if not database_url:
        database_url = f"sqlite:///{instance_dir / 'disclosure.db'}"
    if not secret:
        secret, generated = _instance_secret(instance_dir), True
    return Settings(
        env=name,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=secret,
        instance_dir=instance_dir,
        workflows_dir=Path(env.get("WORKFLOWS_DIR") or PROJECT_ROOT / "workflows"),
        max_upload_bytes=max_upload_bytes(env),
        expression_timeout_ms=_expression_timeout(env),
        sweep_seconds=_int(env, "SWEEP_SECONDS", 30),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int(env, "SMTP_PORT", 25),
        mail_from=env.get("MAIL_FROM", "disclosure-engine@localhost"),
        base_url=env.get("BASE_URL", "http://127.0.0.1:5000"),
        trusted_proxy_hops=_hops(env),
        sign_in_source_limit=_int_up_to(env, "SIGN_IN_SOURCE_LIMIT", 20, MAX_SIGN_IN_SOURCE_LIMIT),
        sign_in_source_window_minutes=_int_up_to(env, "SIGN_IN_SOURCE_WINDOW_MINUTES", 15,
                                                 MAX_SIGN_IN_SOURCE_WINDOW_MINUTES),
        secret_generated=generated,
    )


def _instance_secret(instance_dir: Path) -> str:
    """A per-installation secret kept in the instance folder, so sessions survive restarts."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value
