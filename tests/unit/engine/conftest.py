"""Shared fixtures: the hand-written BPMN bundles in fixtures/."""
from __future__ import annotations

from pathlib import Path

import pytest

from disclosure_engine.engine.bundle import WorkflowBundle, bundle_from_path
from disclosure_engine.engine.runtime import CompiledWorkflow, compile_bundle

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"


@pytest.fixture()
def review_bundle() -> WorkflowBundle:
    return bundle_from_path(GOOD / "review_flow.bpmn")


@pytest.fixture()
def review(review_bundle: WorkflowBundle) -> CompiledWorkflow:
    return compile_bundle(review_bundle)
