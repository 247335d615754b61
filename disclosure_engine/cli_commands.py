"""CLI command groups beyond the core (workflows, users, tokens, sweep, demo data, serve, worker)."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from disclosure_engine.domain.roles import ROLES, SYSTEM


def register(cli: click.Group, pass_ctx: Callable[..., Any], fail: Callable[..., Any]) -> None:
    @cli.group(help="Validate, deploy and list BPMN workflows.")
    def workflows() -> None:
        pass

    @workflows.command("validate", help="Check BPMN files (or every .bpmn under a directory) with "
                                        "their DMN and form files, given as further paths or found "
                                        "beside the BPMN; exit 1 on problems.")
    @click.argument("paths", nargs=-1, required=True, type=click.Path())  # str, not Path: problems show paths as typed
    def workflows_validate(paths: tuple[str, ...]) -> None:
        from disclosure_engine.config import max_upload_bytes
        from disclosure_engine.engine.given_paths import classify
        from disclosure_engine.engine.validate import check_paths

        given = classify(paths)
        given.require_usable()
        _, problems = check_paths(given, max_bytes=max_upload_bytes())
        for problem in problems:
            click.echo(str(problem))
        count = f"{len(given.bpmn)} workflow file(s)"
        if problems:
            click.echo(f"{len(problems)} problem(s) in {count}", err=True)
            sys.exit(1)
        click.echo(f"OK {count}")

    @workflows.command("deploy", help="Validate and deploy BPMN files (or every .bpmn under a "
                                      "directory) with their DMN and form files, given as further "
                                      "paths or found beside the BPMN, as new versions (all or nothing).")
    @click.argument("paths", nargs=-1, required=True, type=click.Path())  # str, not Path: problems show paths as typed
    @click.option("--note", default=None, help="Why this version exists (shown to policy teams).")
    @pass_ctx
    def workflows_deploy(ctx: Any, paths: tuple[str, ...], note: str | None) -> None:
        from disclosure_engine.engine.problems import InvalidWorkflow
        from disclosure_engine.services.workflows import deploy_paths

        try:
            results = deploy_paths(ctx.db, SYSTEM, list(paths), note=note,
                                   max_bytes=ctx.settings.max_upload_bytes)
        except InvalidWorkflow as exc:
            for problem in exc.problems:
                click.echo(str(problem))
            fail(f"nothing deployed: {len(exc.problems)} problem(s)", 1)
        for r in results:  # stdout stays `KEY N` for scripts; what did not happen goes to stderr
            click.echo(f"{r.key} {r.version}")
            if not r.created:
                click.echo(f"disclosure-engine: {unchanged_line(r, note)}", err=True)

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

        # rstrip("\r\n"): a password piped from a Windows file or `echo` on some terminals ends
        # in CRLF, and a stored "\r" would make the password impossible to type at sign-in
        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
        user = create_user(ctx.db, name, roles=list(roles), areas=list(areas), password=password,
                           national=national)
        scope = "national" if user.national else ", ".join(user.areas)
        click.echo(f"created user {user.username} ({', '.join(user.roles)}; {scope})")
        if password is None:
            click.echo(f"{user.username} has no password: it cannot sign in and can only use API tokens "
                       f"(`disclosure-engine tokens create {user.username}`); no command sets a password "
                       "later, so create accounts that sign in with --password-stdin")

    @cli.group(help="MAPPA areas and their review periods.")
    def areas() -> None:
        pass

    @areas.command("list", help="Every area with its review period per MAPPA level (none: no automatic review).")
    @pass_ctx
    def areas_list(ctx: Any) -> None:
        from disclosure_engine.services.reviews import list_areas

        for a in list_areas(ctx.db):
            periods = a["review_periods"]
            click.echo(f"{a['area']}\t" + "\t".join(f"level {n}: {periods[n] or 'none'}" for n in ("1", "2", "3")))

    @areas.command("review-period", help="Set how long after a completed s.327A consideration the next one "
                                         "starts, for one area and MAPPA level (PERIOD: an ISO 8601 duration "
                                         "from P1W to P104W, or none).")
    @click.argument("area")
    @click.option("--level", type=click.IntRange(1, 3), required=True)
    @click.argument("period")
    @pass_ctx
    def areas_review_period(ctx: Any, area: str, level: int, period: str) -> None:
        from disclosure_engine.domain.roles import SYSTEM
        from disclosure_engine.services.reviews import set_review_period

        view = set_review_period(ctx.db, SYSTEM, area, level, period)
        click.echo(f"{view['area']}: level {level} review period {view['review_periods'][str(level)] or 'none'} "
                   "(cases already scheduled keep their date)")

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

    @tokens.command("list", help="List API tokens (never the tokens themselves): id, user, name, "
                                 "prefix, created, last used, revoked.")
    @click.option("--user", "username", default=None, help="Only this user's tokens.")
    @pass_ctx
    def tokens_list(ctx: Any, username: str | None) -> None:
        from disclosure_engine.services.users import list_tokens

        def when(value: Any) -> str:
            return value.isoformat(timespec="minutes") if value else "-"

        for t in list_tokens(ctx.db, username=username):
            click.echo(f"{t['id']}\t{t['user']}\t{t['name']}\t{t['prefix']}...\tcreated {when(t['created_at'])}"
                       f"\tlast used {when(t['last_used_at'])}\t{'revoked ' + when(t['revoked_at']) if t['revoked_at'] else 'active'}")

    @tokens.command("revoke", help="Revoke the token with this ID (see tokens list); it stops working at once.")
    @click.argument("token_id", type=int)
    @pass_ctx
    def tokens_revoke(ctx: Any, token_id: int) -> None:
        from disclosure_engine.services.users import revoke_token

        row = revoke_token(ctx.db, token_id)
        click.echo(f"revoked token {row['id']} ({row['name']}, {row['prefix']}...)")

    @cli.command(help="Run one sweep now, in this process (no Redis needed): fire due timers, "
                      "start the follow-on processes of hand-offs, resume the processes an ended urgent "
                      "route interrupted, schedule and start MAPPA review "
                      "considerations, escalate; print what it did.")
    @pass_ctx
    def sweep(ctx: Any) -> None:
        from disclosure_engine.services.escalation import sweep_escalations
        from disclosure_engine.services.handoffs import sweep_handoffs
        from disclosure_engine.services.interruptions import sweep_interruptions
        from disclosure_engine.services.reviews import sweep_reviews
        from disclosure_engine.services.timers import sweep_timers

        report = sweep_timers(ctx.db)
        handoffs = sweep_handoffs(ctx.db)  # after the timers: a timer may have ended a process
        resumed = sweep_interruptions(ctx.db)  # so may have: the processes it interrupted resume
        reviews = sweep_reviews(ctx.db)
        escalations = sweep_escalations(ctx.db, settings=ctx.settings)
        line = (f"timers: {report.due} due, {report.fired} fired, {len(report.failed)} failed; "
                f"{handoffs.line()}; {reviews.line()}; {escalations.line()}")
        if escalations.failed:
            line += f", {len(escalations.failed)} failed"
        if escalations.emails_sent:
            line += f"; e-mails sent {escalations.emails_sent}"
        if resumed.pending:
            line += f"; interrupted processes: {resumed.resumed} resumed, {len(resumed.failed)} failed"
        click.echo(line)
        for instance_id, reason in report.failed:
            click.echo(f"  process {instance_id}: {reason}", err=True)
        for instance_id, reason in handoffs.failed:
            click.echo(f"  hand-off of process {instance_id}: {reason}", err=True)
        for instance_id, reason in resumed.failed:
            click.echo(f"  resuming process {instance_id}: {reason}", err=True)
        for what, reason in reviews.failed:
            click.echo(f"  review of {what}: {reason}", err=True)
        for task_id, reason in escalations.failed:
            click.echo(f"  task {task_id}: {reason}", err=True)
        if report.failed or handoffs.failed or resumed.failed or reviews.failed or escalations.failed:
            sys.exit(1)

    @cli.command(help="Run an RQ worker for escalations, timers and e-mail; it also keeps the "
                      "periodic sweep (every SWEEP_SECONDS) scheduled. Needs REDIS_URL.")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    @click.option("--no-sweep", is_flag=True, help="Run jobs only; do not schedule sweeps.")
    @click.option("--name", default=None, help="Worker name shown by `rq info`.")
    @click.option("--worker-ttl", default=60, show_default=True, type=click.IntRange(15, 3600))
    @click.option("--maintenance-interval", default=30, show_default=True, type=click.IntRange(1, 3600))
    @click.option("--job-monitoring-interval", default=10, show_default=True, type=click.IntRange(1, 600))
    @click.option("--quiet", is_flag=True, help="Log warnings only.")
    @pass_ctx
    def worker(ctx: Any, burst: bool, no_sweep: bool, name: str | None, worker_ttl: int,
               maintenance_interval: int, job_monitoring_interval: int, quiet: bool) -> None:
        from disclosure_engine.jobs.worker import RedisUnreachable, run_worker

        settings = ctx.settings
        if not settings.redis_url:
            fail("REDIS_URL is not set (`disclosure-engine serve` starts an embedded Redis and a worker)")
        _require_schema(ctx, fail)
        try:
            run_worker(settings, settings.redis_url, burst=burst, sweep=not no_sweep, name=name,
                       worker_ttl=worker_ttl, maintenance_interval=maintenance_interval,
                       job_monitoring_interval=job_monitoring_interval,
                       logging_level="WARNING" if quiet else "INFO")
        except RedisUnreachable as exc:  # --burst only: a long-running worker waits for Redis
            fail(f"{exc}; no job was run (check REDIS_URL)", code=1)

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
            if result.states is not None:
                click.echo(result.states.line())
        click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
        for username, description in result.logins:
            click.echo(f"  {username:<22} {description}")

    @cli.command(help="Serve the web app on the embedded defaults (with no REDIS_URL it also "
                      "starts an embedded Redis and a worker, and stops them on exit).")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @pass_ctx
    def serve(ctx: Any, host: str, port: int) -> None:
        import dataclasses
        import importlib
        import os
        import signal
        import subprocess

        from disclosure_engine.jobs.connection import EmbeddedRedis, die_with_parent

        settings = ctx.settings
        _require_schema(ctx, fail)
        embedded: EmbeddedRedis | None = None
        worker_proc: subprocess.Popen[bytes] | None = None

        def _stop(*_: Any) -> None:
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            if not settings.redis_url:
                EmbeddedRedis.refuse_in(settings)
                embedded = EmbeddedRedis(settings.instance_dir)
                url = embedded.start()
                settings = dataclasses.replace(settings, redis_url=url)
                worker_proc = subprocess.Popen(
                    [sys.executable, "-m", "disclosure_engine.cli", "worker", "--quiet", "--name",
                     f"embedded-{os.getpid()}"], env={**os.environ, "REDIS_URL": url},
                    preexec_fn=die_with_parent())  # a killed serve leaves no worker behind
                click.echo(f"embedded Redis at {url} (data in {embedded.data_dir}); "
                           f"worker pid {worker_proc.pid}, sweep every {settings.sweep_seconds} s")
            else:
                click.echo("using REDIS_URL; run `disclosure-engine worker` for escalations and timers")
            web = importlib.import_module("web")
            app = web.create_app(settings)
            click.echo(f"disclosure-engine at http://{host}:{port}/ (Ctrl+C to stop)")
            app.run(host=host, port=port, debug=False, use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            if worker_proc is not None and worker_proc.poll() is None:
                worker_proc.terminate()  # warm shutdown: finishes the current job
                try:
                    worker_proc.wait(30)
                except subprocess.TimeoutExpired:
                    worker_proc.kill()
                    worker_proc.wait()
            if embedded is not None:
                embedded.stop()
                click.echo("embedded Redis and worker stopped")


def unchanged_line(result: Any, note: str | None) -> str:
    """Why a deploy printed an existing version: identical content is never stored twice, so
    its note is not recorded either, and an older version does not become the latest again."""
    line = f"{result.key} {result.version} unchanged: identical content is already deployed, not deployed again"
    if note and note.strip():
        line += "; the --note was not recorded"
    if result.latest > result.version:
        line += f"; version {result.latest} is still the latest, which new processes start on"
    return line


def _progress(done: int, total: int) -> None:
    width = 40
    filled = int(width * done / max(total, 1))
    click.echo(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", nl=done >= total, err=True)


def _require_schema(ctx: Any, fail: Callable[..., Any]) -> None:
    """Refuse to start the web app or a worker on a database this release cannot use (exit 1,
    as for any database error): otherwise they start, then fail on every page and job."""
    from disclosure_engine.persistence.migrate import schema_problem

    problem = schema_problem(ctx.db.engine)
    if problem is not None:
        fail(problem, 1)

