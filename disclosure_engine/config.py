"""Every setting comes from the environment, with defaults that give a zero-set-up product.

Settings are validated once at start-up so a misconfigured production deployment refuses to
start rather than running on an embedded database or a guessable secret.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from disclosure_engine.domain.errors import BadInput

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")


def normalise_database_url(url: str) -> str:
    """Accept the ``postgresql://`` / ``postgres://`` forms platforms hand out; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    instance_dir: Path = PROJECT_ROOT / "instance"
    workflows_dir: Path = PROJECT_ROOT / "workflows"
    max_upload_bytes: int = 2 * 1024 * 1024
    expression_timeout_ms: int = 200
    sweep_seconds: int = 30
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "disclosure-engine@localhost"
    base_url: str = "http://127.0.0.1:5000"
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


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read and validate settings; raises BadInput with a one-line reason when invalid."""
    env = dict(os.environ if environ is None else environ)
    name = env.get("DISCLOSURE_ENV", "development")
    if name not in ENVIRONMENTS:
        raise BadInput(f"DISCLOSURE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
    instance_dir = Path(env.get("DISCLOSURE_INSTANCE_DIR") or PROJECT_ROOT / "instance")
    database_url = env.get("DATABASE_URL") or ""
    redis_url = env.get("REDIS_URL") or None
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
        database_url=normalise_database_url(database_url),
        redis_url=redis_url,
        secret_key=secret,
        instance_dir=instance_dir,
        workflows_dir=Path(env.get("WORKFLOWS_DIR") or PROJECT_ROOT / "workflows"),
        max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", 2 * 1024 * 1024),
        expression_timeout_ms=_int(env, "EXPRESSION_TIMEOUT_MS", 200),
        sweep_seconds=_int(env, "SWEEP_SECONDS", 30),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int(env, "SMTP_PORT", 25),
        mail_from=env.get("MAIL_FROM", "disclosure-engine@localhost"),
        base_url=env.get("BASE_URL", "http://127.0.0.1:5000"),
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
