"""The ``disclosure-engine`` command (public contract: design brief section 3).

Exit codes: 0 ok, 1 a check failed, 2 bad usage or input; every failure prints one line on
stderr, because operators script against it (cron, CI) and a traceback or a help page is not a
reason. Settings are checked as they load (exit 2 naming the variable), database errors say what
to do (exit 1), and anything unforeseen is one line too (exit 1; the traceback goes to the
``disclosure_engine.cli`` logger at debug level). Commands are thin: they parse, build an
Actor, and call one service.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from disclosure_engine.config import Settings, load_settings
from disclosure_engine.domain.errors import DisclosureError, ValidationFailed
from disclosure_engine.engine import time_limit

PROG = "disclosure-engine"
log = logging.getLogger(__name__)


def fail(message: str, code: int = 2) -> NoReturn:
    """The contract's failure: ONE line on stderr (multi-line messages are joined), then exit."""
    line = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    click.echo(f"{PROG}: {line or 'failed'}", err=True)
    sys.exit(code)


class Context:
    """Lazily built settings and database, so `--help` never touches the database."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._db: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
            time_limit.configure(self._settings.expression_timeout_ms)
        return self._settings

    @property
    def db(self) -> Any:
        if self._db is None:
            from disclosure_engine.persistence.db import Database

            self._db = Database(self.settings.database_url)
        return self._db


pass_ctx = click.make_pass_decorator(Context, ensure=True)


@click.group(help="Workflow engine for the s.327A duty to consider disclosure.")
def cli() -> None:
    pass


@cli.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Migrate to the latest schema and deploy the release's shipped workflows (never over "
                             "a version a policy team deployed).")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    from disclosure_engine.persistence.migrate import upgrade

    upgrade(ctx.settings.database_url)
    try:
        from disclosure_engine.services.workflows import deploy_shipped
    except ImportError:  # services land in slices; the schema is still upgraded
        click.echo("database upgraded")
        return
    from disclosure_engine.services.workflows import shipped_state

    deployed = deploy_shipped(ctx.db, ctx.settings)
    for key, version in deployed:
        click.echo(f"deployed shipped workflow {key} version {version}")
    for key, version in shipped_state(ctx.db, ctx.settings).held:
        click.echo(f"kept {key} version {version} (deployed by your policy team): this release changes "
                   f"workflows/{key}.bpmn; review it and deploy it with `workflows deploy` if you want it")
    click.echo("database upgraded")


@cli.group(help="The hash-chained audit log.")
def audit() -> None:
    pass


@audit.command("verify", help="Prove the audit chain; exit 1 naming the first broken event.")
@pass_ctx
def audit_verify(ctx: Context) -> None:
    from disclosure_engine.services.audit import verify_chain

    report = verify_chain(ctx.db)
    if report.ok:
        click.echo(report.line())
        return
    fail(report.line(), 1)


def _register_optional_commands() -> None:
    """Command groups that live in their own modules (keeps this file small)."""
    from disclosure_engine import cli_authoring, cli_commands

    cli_commands.register(cli, pass_ctx, fail)
    cli_authoring.register(cli, pass_ctx, fail)


def usage_line(exc: click.UsageError) -> str:
    """Click's usage message for one line on stderr. A group run without a subcommand raises
    NoArgsIsHelpError, whose message is the whole help: name the subcommands instead."""
    no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
    ctx = exc.ctx
    if no_args and isinstance(exc, no_args) and ctx is not None and isinstance(ctx.command, click.Group):
        names = ", ".join(ctx.command.list_commands(ctx))
        return f"missing command (one of: {names}); see `{ctx.command_path} --help`"
    return exc.format_message() or "bad usage; see --help"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command; every failure ends here as one line on stderr and exit 1 or 2."""
    try:
        _register_optional_commands()
    except ImportError:
        pass
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name=PROG, standalone_mode=False)
    except click.UsageError as exc:
        fail(usage_line(exc))
    except click.Abort:
        fail("aborted")
    except ValidationFailed as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
        fail(f"{exc.message}{' (' + details + ')' if details else ''}")
    except DisclosureError as exc:
        fail(exc.message, 2)
    except SQLAlchemyError as exc:  # database down, refused, not migrated: say so in one line
        from disclosure_engine.persistence.db import error_line

        log.debug("database error", exc_info=exc)
        fail(error_line(exc), 1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        fail(exc.format_message())
    except Exception as exc:  # noqa: BLE001 - last resort: a bug must still be one line, not a traceback
        log.debug("unexpected error", exc_info=exc)
        first = (str(exc).strip().splitlines() or [""])[0]
        fail(f"unexpected error: {type(exc).__name__}{': ' + first if first else ''}", 1)
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
