"""Move running instances to a newer (or older) version of their workflow, and revert.

Policy teams see, per old version, which running instances can move safely (nothing they have
already done was changed or removed). Migrating keeps every deadline: BPMN timers keep their
due times and open task rows keep their due dates, assignee and escalation level. Each
migration is its own transaction, logged with both content hashes and the state before it,
so it can be reverted exactly while the instance has not moved on.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from disclosure_engine.domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from disclosure_engine.domain.roles import POLICY_ROLES, Actor
from disclosure_engine.engine import runtime
from disclosure_engine.engine.migration import check_migration, migrate_if_safe
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    ProcessMigration,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.access import area_slug, visible_area_ids
from disclosure_engine.services.instances import lock_instance, persist
from disclosure_engine.services.views import iso
from disclosure_engine.services.workflows import compiled, latest_definition

RUNNING = ("waiting", "error")


class UnsafeMigration(Conflict):
    """The instance has done something the new version changed or removed."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("Not safe to migrate: " + "; ".join(reasons))
        self.reasons = reasons


def _require_policy(actor: Actor) -> None:
    if not actor.has_role(*POLICY_ROLES):
        raise Forbidden("Only the policy role or an administrator may migrate instances")


def migration_candidates(db: Database, actor: Actor, key: str, to_version: int | None = None) -> dict[str, Any]:
    """Running instances on other versions of ``key``, each with whether it can move safely."""
    _require_policy(actor)
    with db.transaction() as session:
        target = latest_definition(session, key, to_version)
        q = (select(ProcessInstance).join(ProcessDefinition)
             .where(ProcessDefinition.key == key, ProcessInstance.definition_id != target.id,
                    ProcessInstance.status.in_(RUNNING)).order_by(ProcessDefinition.version, ProcessInstance.id))
        ids = visible_area_ids(session, actor)
        if ids is not None:
            q = q.where(ProcessInstance.area_id.in_(ids))
        new = compiled(target)
        by_version: dict[int, list[dict[str, Any]]] = {}
        for inst in session.execute(q).scalars():
            check = check_migration(compiled(inst.definition), new, inst.state)
            by_version.setdefault(inst.definition.version, []).append({
                "id": inst.id, "case_id": inst.case_id, "area": area_slug(session, inst.area_id),
                "status": inst.status, "started_at": iso(inst.started_at), "safe": check.safe,
                "reasons": check.reasons, "changed_elements": check.changed_elements,
                "removed_elements": check.removed_elements})
        return {"key": key, "to_version": target.version, "to_hash": target.content_hash,
                "versions": [{"version": v, "instances": items,
                              "safe": sum(1 for i in items if i["safe"])} for v, items in sorted(by_version.items())]}


def migrate_instances(db: Database, actor: Actor, key: str, to_version: int, *,
                      instance_ids: Iterable[int] | None = None, all_safe: bool = False) -> dict[str, Any]:
    """Migrate the chosen instances (or every safe one); unsafe ones are skipped with reasons."""
    _require_policy(actor)
    if instance_ids is None and not all_safe:
        raise ValidationFailed("Choose instances to migrate", {"instances": ["Select instances or choose all safe ones"]})
    if instance_ids is None:  # every running instance on another version; unsafe ones are skipped
        chosen = _running_elsewhere(db, actor, key, to_version)
    else:
        chosen = sorted(set(int(i) for i in instance_ids))
    migrated, skipped = [], []
    for instance_id in chosen:
        try:
            migrated.append(migrate_one(db, actor, instance_id, key, to_version))
        except UnsafeMigration as exc:
            if not all_safe:  # chosen by hand: say why it stayed; "all safe" leaves these quietly
                skipped.append({"id": instance_id, "reasons": exc.reasons})
        except (Conflict, NotFound) as exc:
            skipped.append({"id": instance_id, "reasons": [exc.message]})
    return {"key": key, "to_version": to_version, "migrated": migrated, "skipped": skipped}


def _running_elsewhere(db: Database, actor: Actor, key: str, to_version: int) -> list[int]:
    with db.transaction() as session:
        target = latest_definition(session, key, to_version)
        q = (select(ProcessInstance.id).join(ProcessDefinition)
             .where(ProcessDefinition.key == key, ProcessInstance.definition_id != target.id,
                    ProcessInstance.status.in_(RUNNING)).order_by(ProcessInstance.id))
        ids = visible_area_ids(session, actor)
        if ids is not None:
            q = q.where(ProcessInstance.area_id.in_(ids))
        return list(session.execute(q).scalars())


def migrate_one(db: Database, actor: Actor, instance_id: int, key: str, to_version: int,
                *, reverts: ProcessMigration | None = None) -> dict[str, Any]:
    """One instance to ``key`` version ``to_version``, in one transaction."""
    _require_policy(actor)
    now = utcnow()
    with db.transaction() as session:
        instance = lock_instance(session, instance_id)
        ids = visible_area_ids(session, actor)
        if instance.definition.key != key or (ids is not None and instance.area_id not in ids):
            raise NotFound(f"Process {instance_id} of {key} not found")
        if instance.status not in RUNNING:
            raise Conflict(f"Process {instance_id} is {instance.status}; only running instances move")
        if instance.paused_at is not None:
            raise Conflict(f"Process {instance_id} is paused; resume it before moving it to another version")
        target = latest_definition(session, key, to_version)
        if target.id == instance.definition_id:
            raise Conflict(f"Process {instance_id} already runs version {to_version}")
        old_def, old, new = instance.definition, compiled(instance.definition), compiled(target)
        if reverts is None:
            check, wf = migrate_if_safe(old, new, instance.state)
            if wf is None:
                raise UnsafeMigration(check.reasons)
        else:
            wf = runtime.load_state(new, reverts.state_before)
        before = instance.state
        instance.definition = target
        _carry_task_rows(session, instance, wf)
        persist(session, instance, wf, new, now)
        log = ProcessMigration(instance_id=instance.id, from_definition_id=old_def.id, to_definition_id=target.id,
                               from_hash=old_def.content_hash, to_hash=target.content_hash, state_before=before,
                               lock_version_after=instance.lock_version, reverts_id=reverts.id if reverts else None,
                               migrated_by_name=actor.username, migrated_at=now)
        session.add(log)
        session.flush()
        audit.record(session, actor, "process.reverted" if reverts else "process.migrated", "process", instance.id,
                     area=area_slug(session, instance.area_id),
                     detail={"migration_id": log.id, "from_version": old_def.version, "to_version": target.version,
                             "from_hash": old_def.content_hash, "to_hash": target.content_hash,
                             "reverts": reverts.id if reverts else None})
        return {"id": instance.id, "migration_id": log.id, "from_version": old_def.version,
                "to_version": target.version}


def revert_migration(db: Database, actor: Actor, migration_id: int) -> dict[str, Any]:
    """Put an instance back exactly as it was before ``migration_id``, if it has not moved since."""
    _require_policy(actor)
    with db.transaction() as session:
        log = session.get(ProcessMigration, migration_id)
        if log is None:
            raise NotFound(f"Migration {migration_id} not found")
        instance = session.get(ProcessInstance, log.instance_id)
        assert instance is not None
        if instance.lock_version != log.lock_version_after or instance.definition_id != log.to_definition_id:
            raise Conflict("The process has moved on since this migration; migrate it back instead")
        source = session.get(ProcessDefinition, log.from_definition_id)
        assert source is not None
        key, version, instance_id = source.key, source.version, instance.id
        session.expunge(log)
    return migrate_one(db, actor, instance_id, key, version, reverts=log)


def migration_history(db: Database, actor: Actor, key: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Past migrations of this workflow's instances, newest first, each saying whether it can
    still be reverted (the instance has not moved on since) and which migration it reverted."""
    _require_policy(actor)
    source, target = aliased(ProcessDefinition), aliased(ProcessDefinition)
    with db.transaction() as session:
        latest_definition(session, key)  # an unknown workflow is NotFound, as for the candidates
        rows = session.execute(
            select(ProcessMigration, source.version, target.version, ProcessInstance.lock_version,
                   ProcessInstance.definition_id, ProcessInstance.area_id)
            .join(source, source.id == ProcessMigration.from_definition_id)
            .join(target, target.id == ProcessMigration.to_definition_id)
            .join(ProcessInstance, ProcessInstance.id == ProcessMigration.instance_id)
            .where(target.key == key)
            .order_by(ProcessMigration.id.desc()).limit(min(max(limit, 1), 500))
        ).all()
        return [{"id": m.id, "process_id": m.instance_id, "area": area_slug(session, area_id),
                 "from_version": from_version, "to_version": to_version, "from_hash": m.from_hash,
                 "to_hash": m.to_hash, "migrated_by": m.migrated_by_name, "migrated_at": iso(m.migrated_at),
                 "reverts": m.reverts_id,
                 "revertable": lock_version == m.lock_version_after and definition_id == m.to_definition_id}
                for m, from_version, to_version, lock_version, definition_id, area_id in rows]


def _carry_task_rows(session: Any, instance: ProcessInstance, wf: Any) -> None:
    """Point open task rows at the migrated tasks (same element) so deadlines are kept."""
    ready = runtime.ready_user_tasks(wf)
    ready_ids = {t.id for t in ready}
    rows = list(session.execute(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalars())
    unmatched = [t for t in ready if t.id not in {r.spiff_task_id for r in rows}]
    for row in rows:
        if row.spiff_task_id in ready_ids:
            continue
        twin = next((t for t in unmatched if t.element_id == row.element_id), None)
        if twin is not None:
            row.spiff_task_id = twin.id
            unmatched.remove(twin)
    for row in rows:
        match = next((t for t in ready if t.id == row.spiff_task_id), None)
        if match is not None:  # new wording, form and instructions; the deadline stays as it was
            row.name, row.form_name, row.ui_form_name = match.name, match.form_name, match.ui_form_name
            row.instructions = match.instructions
    session.flush()
