"""CLI for policy authoring: diff two versions, migrate running instances, revert a migration."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from disclosure_engine.domain.roles import SYSTEM


def register(cli: click.Group, pass_ctx: Callable[..., Any], fail: Callable[..., Any]) -> None:
    workflows = cli.commands["workflows"]
    assert isinstance(workflows, click.Group)

    @workflows.command("diff", help="What changed between two deployed versions of KEY.")
    @click.argument("key")
    @click.option("--from", "from_version", type=int, required=True)
    @click.option("--to", "to_version", type=int, required=True)
    @click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
    @pass_ctx
    def workflows_diff(ctx: Any, key: str, from_version: int, to_version: int, as_json: bool) -> None:
        from disclosure_engine.services.workflows import diff_versions

        diff = diff_versions(ctx.db, key, from_version, to_version)
        if as_json:
            click.echo(json.dumps(diff, indent=2))
            return
        click.echo(f"{key} {from_version} -> {to_version}: {diff['summary']['added']} added, "
                   f"{diff['summary']['removed']} removed, {diff['summary']['changed']} changed")
        for e in diff["elements"]:
            click.echo(f"  {e['change']:<8} {e['kind']:<18} {e['element_id']}  {e['name'] or ''}")
            for f in e["fields"]:
                click.echo(f"           {f['field']}: {f['old']!r} -> {f['new']!r}")
        for name, fields in diff["forms"].items():
            click.echo(f"  form {name}: " + "; ".join(f"{k} {', '.join(v)}" for k, v in fields.items() if v))
        if diff["layout_changed"]:
            click.echo(f"  layout only: {', '.join(diff['layout_changed'])}")

    @workflows.command("migrate", help="Move running instances of KEY to version N (safe ones only).")
    @click.argument("key")
    @click.option("--to", "to_version", type=int, required=True)
    @click.option("--instance", "instances", type=int, multiple=True, help="Process id (repeatable).")
    @click.option("--all-safe", is_flag=True, help="Every instance that can move safely.")
    @click.option("--dry-run", is_flag=True, help="Only list which instances can move and why not.")
    @pass_ctx
    def workflows_migrate(ctx: Any, key: str, to_version: int, instances: tuple[int, ...], all_safe: bool,
                          dry_run: bool) -> None:
        from disclosure_engine.services.migration import (
            migrate_instances,
            migration_candidates,
        )

        if dry_run:
            plan = migration_candidates(ctx.db, SYSTEM, key, to_version)
            for v in plan["versions"]:
                click.echo(f"version {v['version']}: {len(v['instances'])} running, {v['safe']} safe")
                for i in v["instances"]:
                    click.echo(f"  process {i['id']} ({i['area']}): " + ("safe" if i["safe"] else "; ".join(i["reasons"])))
            return
        if not instances and not all_safe:
            fail("choose --instance ID (repeatable) or --all-safe")
        result = migrate_instances(ctx.db, SYSTEM, key, to_version,
                                   instance_ids=list(instances) if instances else None, all_safe=all_safe)
        for m in result["migrated"]:
            click.echo(f"migrated process {m['id']} {m['from_version']} -> {m['to_version']} (migration {m['migration_id']})")
        for s in result["skipped"]:
            click.echo(f"skipped process {s['id']}: {'; '.join(s['reasons'])}", err=True)
        if result["skipped"]:
            sys.exit(1)

    @workflows.command("revert", help="Undo migration MIGRATION_ID (if the process has not moved since).")
    @click.argument("migration_id", type=int)
    @pass_ctx
    def workflows_revert(ctx: Any, migration_id: int) -> None:
        from disclosure_engine.services.migration import revert_migration

        r = revert_migration(ctx.db, SYSTEM, migration_id)
        click.echo(f"reverted: process {r['id']} back to version {r['to_version']} (migration {r['migration_id']})")
