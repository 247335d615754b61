"""Policy teams move running instances to a new version without losing deadlines or history."""
from __future__ import annotations

import shutil

import pytest

from disclosure_engine.domain.errors import Conflict, Forbidden
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.services import audit, cases, migration, processes, tasks
from disclosure_engine.services.workflows import deploy_paths

from .helpers import MINI, REASON, case_payload, deploy_mini, make_actor


@pytest.fixture()
def v2_path(tmp_path):
    for f in MINI.parent.iterdir():
        shutil.copy(f, tmp_path / f.name)
    bpmn = tmp_path / MINI.name
    bpmn.write_text(bpmn.read_text().replace('value="P5D"', 'value="P9D"')
                    .replace('name="Decide"', 'name="Decide and record reasons"'))
    return bpmn


@pytest.fixture()
def world(db, v2_path):
    deploy_mini(db)
    officer = make_actor(db, "officer.kent", "officer")
    policy = make_actor(db, "policy.lead", "policy", area=None)
    started = []
    for i in range(2):
        case = cases.create_case(db, officer, case_payload(reference=f"KNT-2026-00000{i}", cso=False))
        started.append(processes.start_process(db, officer, case["id"], "mini_decision"))
    a, b = started
    tasks.complete(db, officer, b["open_tasks"][0]["id"],
                   {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    deploy_paths(db, SYSTEM, [v2_path], note="longer assessment period")
    return {"db": db, "officer": officer, "policy": policy, "a": a, "b": b}


def test_new_instances_use_the_new_version_running_ones_stay(world):
    db, officer = world["db"], world["officer"]
    case = cases.create_case(db, officer, case_payload(reference="KNT-2026-000009", cso=False))
    c = processes.start_process(db, officer, case["id"], "mini_decision")
    assert c["version"] == 2
    assert processes.get_process(db, officer, world["a"]["id"])["version"] == 1


def test_candidates_say_which_instances_can_move_and_why_not(world):
    plan = migration.migration_candidates(world["db"], world["policy"], "mini_decision")
    assert plan["to_version"] == 2
    (v1,) = plan["versions"]
    by_id = {i["id"]: i for i in v1["instances"]}
    assert by_id[world["a"]["id"]]["safe"] is True
    unsafe = by_id[world["b"]["id"]]
    assert unsafe["safe"] is False and any("assess" in r for r in unsafe["reasons"])
    assert "assess" in unsafe["changed_elements"]


def test_migrating_keeps_the_deadline_and_is_audited_with_both_hashes(world):
    db, policy, officer = world["db"], world["policy"], world["officer"]
    before = world["a"]["open_tasks"][0]
    result = migration.migrate_instances(db, policy, "mini_decision", 2, all_safe=True)
    assert [m["id"] for m in result["migrated"]] == [world["a"]["id"]]
    after = processes.get_process(db, officer, world["a"]["id"])
    assert after["version"] == 2
    (task,) = after["open_tasks"]
    assert task["id"] == before["id"] and task["due_at"] == before["due_at"], "deadline kept"
    events = audit.list_events(db, SYSTEM, action="process.migrated")
    assert events[0]["detail"]["from_hash"] != events[0]["detail"]["to_hash"]
    assert events[0]["detail"]["to_version"] == 2
    done = tasks.complete(db, officer, task["id"], {"serious_harm_risk": "no", "serious_harm_reasons": REASON})
    assert done["next_tasks"][0]["name"] == "Decide and record reasons", "runs on the new version"


def test_unsafe_instances_are_skipped_with_the_reason(world):
    result = migration.migrate_instances(world["db"], world["policy"], "mini_decision", 2,
                                         instance_ids=[world["b"]["id"]])
    assert result["migrated"] == []
    assert "assess" in result["skipped"][0]["reasons"][0]


def test_revert_restores_the_instance_exactly_once(world):
    db, policy, officer = world["db"], world["policy"], world["officer"]
    done = migration.migrate_instances(db, policy, "mini_decision", 2, instance_ids=[world["a"]["id"]])
    migration_id = done["migrated"][0]["migration_id"]
    back = migration.revert_migration(db, policy, migration_id)
    assert back["to_version"] == 1
    view = processes.get_process(db, officer, world["a"]["id"])
    assert view["version"] == 1 and view["open_tasks"][0]["due_at"] == world["a"]["open_tasks"][0]["due_at"]
    with pytest.raises(Conflict):
        migration.revert_migration(db, policy, migration_id)
    assert audit.verify_chain(db).ok


def test_past_migrations_are_listed_newest_first_with_what_can_still_be_reverted(world):
    db, policy = world["db"], world["policy"]
    assert migration.migration_history(db, policy, "mini_decision") == []
    done = migration.migrate_instances(db, policy, "mini_decision", 2, instance_ids=[world["a"]["id"]])
    first = done["migrated"][0]["migration_id"]
    (entry,) = migration.migration_history(db, policy, "mini_decision")
    assert (entry["id"], entry["process_id"], entry["from_version"], entry["to_version"]) == (first, world["a"]["id"], 1, 2)
    assert entry["revertable"] is True and entry["migrated_by"] == "policy.lead" and entry["area"] == "kent"
    back = migration.revert_migration(db, policy, first)
    newest, older = migration.migration_history(db, policy, "mini_decision")
    assert (newest["id"], newest["reverts"], newest["to_version"]) == (back["migration_id"], first, 1)
    assert newest["revertable"] is True and older["revertable"] is False, "the first one has been undone"
    with pytest.raises(Forbidden):
        migration.migration_history(db, world["officer"], "mini_decision")


def test_only_policy_and_admin_may_migrate(world):
    with pytest.raises(Forbidden):
        migration.migration_candidates(world["db"], world["officer"], "mini_decision")
    with pytest.raises(Forbidden):
        migration.migrate_instances(world["db"], world["officer"], "mini_decision", 2, all_safe=True)
