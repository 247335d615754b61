"""CLI command groups beyond the core (workflows, users, tokens, sweep, demo data, serve, worker)."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from disclosure_engine.domain.roles import ROLES, SYSTEM


def register(cli: click.Group, pass_ctx: Callable[..., Any], fail: Callable[..., Any]) -> None:
    @cli.group(help="Validate, deploy and list BPMN workflows.")
    def workflows() -> None:
        pass

    @workflows.command("validate", help="Check BPMN files (with their DMN and forms); exit 1 on problems.")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
    def workflows_validate(paths: tuple[Path, ...]) -> None:
        from disclosure_engine.engine.validate import validate_paths

        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            fail(f"no such file: {missing[0]}")
        problems = validate_paths(list(paths))
        for problem in problems:
            click.echo(str(problem))
        if problems:
            click.echo(f"{len(problems)} problem(s) in {len(paths)} file(s)", err=True)
            sys.exit(1)
        click.echo(f"OK {len(paths)} file(s)")

    @workflows.command("deploy", help="Validate and deploy BPMN files as new versions (all or nothing).")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
    @click.option("--note", default=None, help="Why this version exists (shown to policy teams).")
    @pass_ctx
    def workflows_deploy(ctx: Any, paths: tuple[Path, ...], note: str | None) -> None:
        from disclosure_engine.engine.problems import InvalidWorkflow
        from disclosure_engine.services.workflows import deploy_paths

        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            fail(f"no such file: {missing[0]}")
        try:
            results = deploy_paths(ctx.db, SYSTEM, list(paths), note=note,
                                   max_bytes=ctx.settings.max_upload_bytes)
        except InvalidWorkflow as exc:
            for problem in exc.problems:
                click.echo(str(problem))
            fail(f"nothing deployed: {len(exc.problems)} problem(s)", 1)
        for r in results:
            click.echo(f"{r.key} {r.version}" + ("" if r.created else " (unchanged)"))

    @workflows.command("list", help="Deployed workflows and versions.")
    @pass_ctx
    def workflows_list(ctx: Any) -> None:
        from disclosure_engine.services.workflows import list_definitions

        for d in list_definitions(ctx.db):
            click.echo(f"{d['key']}\t{d['version']}\t{d['content_hash'][:12]}\t{d['deployed_at']}\t"
                       f"{d['deployed_by']}\t{d['note'] or ''}")

    @cli.group(help="Local user accounts.")
    def users() -> None:
        pass

    @users.command("create", help="Create a user with a role (and area for area roles).")
    @click.argument("name")
    @click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
    @click.option("--area", "areas", multiple=True, help="Area slug, e.g. kent (repeatable).")
    @click.option("--national", is_flag=True, default=None, help="See every area.")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    @pass_ctx
    def users_create(ctx: Any, name: str, roles: tuple[str, ...], areas: tuple[str, ...],
                     national: bool | None, password_stdin: bool) -> None:
        from disclosure_engine.services.users import create_user

        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        user = create_user(ctx.db, name, roles=list(roles), areas=list(areas), password=password,
                           national=national)
        scope = "national" if user.national else ", ".join(user.areas)
        click.echo(f"created user {user.username} ({', '.join(user.roles)}; {scope})")

    @cli.group(help="API bearer tokens.")
    def tokens() -> None:
        pass

    @tokens.command("create", help="Create a token for user NAME; the token is the last line printed.")
    @click.argument("name")
    @click.option("--label", default="cli", help="What the token is for.")
    @pass_ctx
    def tokens_create(ctx: Any, name: str, label: str) -> None:
        from disclosure_engine.services.users import create_token

        token = create_token(ctx.db, name, label)
        click.echo(f"token for {name} (shown once; store it safely):")
        click.echo(token)

    @cli.command(help="Run one timer and escalation sweep now and print what it did.")
    @pass_ctx
    def sweep(ctx: Any) -> None:
        from disclosure_engine.services.timers import sweep_timers

        report = sweep_timers(ctx.db)
        click.echo(f"timers: {report.due} due, {report.fired} fired, {len(report.failed)} failed")
        for instance_id, reason in report.failed:
            click.echo(f"  process {instance_id}: {reason}", err=True)
        if report.failed:
            sys.exit(1)

    @cli.command("demo-data", help="Create fictional cases across all 42 areas and demo users.")
    @click.option("--cases", "count", default=200, show_default=True, type=click.IntRange(0, 1_000_000))
    @click.option("--seed", default=2026, show_default=True, type=int)
    @click.option("--if-empty", is_flag=True, help="Do nothing when cases already exist.")
    @pass_ctx
    def demo_data(ctx: Any, count: int, seed: int, if_empty: bool) -> None:
        from disclosure_engine.services.demo import DEMO_PASSWORD, create_demo_data

        result = create_demo_data(ctx.db, ctx.settings, cases=count, seed=seed, if_empty=if_empty,
                                  progress=_progress if count >= 500 else None)
        if result.skipped:
            click.echo("demo data already present; nothing to do")
        else:
            click.echo(f"created {result.cases} cases, {result.processes} processes, "
                       f"{result.completed_tasks} completed tasks, {result.decisions} decisions")
        click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
        for username, description in result.logins:
            click.echo(f"  {username:<22} {description}")

    @cli.command(help="Serve the web app on the embedded defaults.")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @pass_ctx
    def serve(ctx: Any, host: str, port: int) -> None:
        import importlib

        web = importlib.import_module("web")
        app = web.create_app(ctx.settings)
        click.echo(f"disclosure-engine at http://{host}:{port}/ (Ctrl+C to stop)")
        app.run(host=host, port=port, debug=False, use_reloader=False)


def _progress(done: int, total: int) -> None:
    width = 40
    filled = int(width * done / max(total, 1))
    click.echo(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", nl=done >= total, err=True)
