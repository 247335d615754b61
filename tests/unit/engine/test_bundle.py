"""Bundles collect exactly the files a workflow needs, and hash them stably."""
from __future__ import annotations

import pytest

from disclosure_engine.engine.bundle import (
    bundle_from_files,
    bundle_from_path,
    content_hash,
)
from disclosure_engine.engine.problems import InvalidWorkflow

from .conftest import BAD, GOOD


def test_bundle_from_path_collects_forms_and_referenced_dmn_only(review_bundle):
    assert review_bundle.key == "review_flow"
    assert review_bundle.primary == "review_flow.bpmn"
    assert set(review_bundle.files) == {
        "review_flow.bpmn", "assess.schema.json", "assess.uischema.json",
        "approve.schema.json", "risk_band.dmn",
    }  # unrelated.dmn defines no referenced decision


def test_content_hash_is_order_independent_and_content_sensitive(review_bundle):
    files = dict(review_bundle.files)
    assert content_hash(dict(reversed(list(files.items())))) == review_bundle.content_hash
    files["assess.schema.json"] += b" "
    assert content_hash(files) != review_bundle.content_hash


def test_bundle_from_files_matches_bundle_from_path(review_bundle):
    uploaded = bundle_from_files({f"some/dir/{k}": v for k, v in review_bundle.files.items()})
    assert uploaded.key == "review_flow" and uploaded.primary == "review_flow.bpmn"
    assert uploaded.content_hash == review_bundle.content_hash


def test_bundle_from_files_needs_a_bpmn():
    with pytest.raises(InvalidWorkflow, match="no .bpmn"):
        bundle_from_files({"form.json": b"{}"})


def test_bundle_from_files_refuses_two_primaries():
    one = (GOOD / "review_flow.bpmn").read_bytes()
    two = (BAD / "no_form.bpmn").read_bytes()
    with pytest.raises(InvalidWorkflow, match="exactly one BPMN"):
        bundle_from_files({"a.bpmn": one, "b.bpmn": two})


def test_bundle_from_files_refuses_unsafe_xml():
    with pytest.raises(InvalidWorkflow, match="DOCTYPE"):
        bundle_from_files({"x.bpmn": (BAD / "xxe.bpmn").read_bytes()})


def test_missing_referenced_form_is_left_for_validation(tmp_path):
    (tmp_path / "flow.bpmn").write_bytes((GOOD / "review_flow.bpmn").read_bytes())
    bundle = bundle_from_path(tmp_path / "flow.bpmn")
    assert set(bundle.files) == {"flow.bpmn"}


def test_bundle_from_files_refuses_oversize_files():
    with pytest.raises(InvalidWorkflow, match="larger than"):
        bundle_from_files({"x.bpmn": b"<a/>", "form.json": b" " * 200}, max_bytes=100)
