"""An upgrade brings the release's changed shipped workflows, unless a policy team has deployed
its own version of one: that is kept, and reported."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from disclosure_engine.services.workflows import (
    SHIPPED_NOTE,
    deploy_paths,
    deploy_shipped,
    list_definitions,
    shipped_state,
)

from .helpers import make_actor

ROOT = Path(__file__).resolve().parents[2]
KEY = "s327a_consideration"


def _release(tmp_path: Path, settings, marker: str):
    """The shipped workflows as a later release ships them, with s327a's documentation changed."""
    target = tmp_path / marker
    shutil.copytree(ROOT / "workflows", target)
    path = target / f"{KEY}.bpmn"
    path.write_text(path.read_text().replace("Criminal Justice Act 2003 s.327A:",
                                             f"Criminal Justice Act 2003 s.327A ({marker}):", 1))
    return dataclasses.replace(settings, workflows_dir=target)


def _versions(db) -> dict[str, int]:
    return {d["key"]: d["version"] for d in list_definitions(db)}  # ordered by version: the newest wins


def test_an_upgrade_deploys_the_changed_shipped_workflow_once(db, settings, tmp_path):
    assert sorted(k for k, _ in deploy_shipped(db, settings)) == sorted(_versions(db))
    assert deploy_shipped(db, settings) == [], "nothing changed: nothing deployed"
    later = _release(tmp_path, settings, "release-2")
    assert deploy_shipped(db, later) == [(KEY, 2)]
    assert deploy_shipped(db, later) == []
    assert _versions(db)[KEY] == 2 and all(v == 1 for k, v in _versions(db).items() if k != KEY)


def test_a_policy_teams_own_version_is_never_replaced(db, settings, tmp_path):
    deploy_shipped(db, settings)
    policy = make_actor(db, "policy.lead", "policy", area=None)
    own = _release(tmp_path, settings, "local-edit")
    deploy_paths(db, policy, [own.workflows_dir / f"{KEY}.bpmn"], note="our chair sign-off wording")
    later = _release(tmp_path, settings, "release-2")
    assert deploy_shipped(db, later) == []
    assert shipped_state(db, later).held == [(KEY, 2)]
    assert _versions(db)[KEY] == 2
    assert SHIPPED_NOTE == "shipped with the release"
