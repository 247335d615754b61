"""Paths as a user names them: BPMN files and directories, with DMN and form files given
alongside taking the place of same-named files beside the BPMN."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from disclosure_engine.domain.errors import BadInput
from disclosure_engine.engine.bundle import bundle_from_path
from disclosure_engine.engine.given_paths import NO_BPMN, bundles_from_paths, classify
from disclosure_engine.engine.validate import validate_paths

from .conftest import GOOD


def _review_copy(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for f in GOOD.iterdir():
        shutil.copy(f, directory / f.name)
    return directory / "review_flow.bpmn"


def test_bpmn_paths_are_main_files_and_the_others_join_them_by_name(tmp_path):
    bpmn = _review_copy(tmp_path / "a")
    given = classify([bpmn, GOOD / "risk_band.dmn", GOOD / "assess.schema.json", tmp_path / "a"])
    assert given.bpmn == (str(bpmn), str(tmp_path / "a" / "two_timers.bpmn")), "each BPMN once"
    assert dict(given.extras) == {"risk_band.dmn": str(GOOD / "risk_band.dmn"),
                                  "assess.schema.json": str(GOOD / "assess.schema.json")}
    assert given.refused == ()


@pytest.mark.parametrize("paths, line", [
    (["missing.bpmn"], "missing.bpmn: no such file or directory"),
    ([str(GOOD / "risk_band.dmn")], NO_BPMN),
    ([str(GOOD / "review_flow.bpmn"), str(Path(__file__))], f"{Path(__file__)}: not a .bpmn, .dmn or .json"),
])
def test_unusable_paths_are_refused_in_one_line(paths, line):
    given = classify(paths)
    with pytest.raises(BadInput) as refused:
        given.require_usable()
    assert refused.value.message.startswith(line)


def test_two_given_files_of_one_name_are_refused(tmp_path):
    other = tmp_path / "risk_band.dmn"
    shutil.copy(GOOD / "risk_band.dmn", other)
    given = classify([GOOD / "review_flow.bpmn", GOOD / "risk_band.dmn", other])
    assert [r.line() for r in given.refused] == [
        f"{other}: has the same file name as {GOOD / 'risk_band.dmn'}; a workflow holds one file of each name"]


def test_a_directory_without_bpmn_is_named_when_nothing_else_is_given(tmp_path):
    given = classify([tmp_path])
    assert given.refused[0].line() == f"{NO_BPMN} (none under {tmp_path})"
    assert validate_paths([tmp_path])[0].message.startswith(NO_BPMN)


def test_a_given_file_replaces_the_same_name_beside_the_bpmn(tmp_path):
    bpmn = _review_copy(tmp_path / "a")
    replacement = tmp_path / "b" / "assess.schema.json"
    replacement.parent.mkdir()
    replacement.write_bytes(b'{"type": "object", "title": "given"}')
    built = bundles_from_paths(classify([bpmn, replacement]), max_bytes=1 << 20)
    assert built.problems == []
    [item] = built.bundles
    assert item.bundle.files["assess.schema.json"] == replacement.read_bytes()
    assert item.sources["assess.schema.json"] == str(replacement)
    assert item.sources["risk_band.dmn"] == str(tmp_path / "a" / "risk_band.dmn")


def test_a_decision_is_found_in_a_given_dmn_before_the_ones_beside(tmp_path):
    bpmn = _review_copy(tmp_path / "a")
    elsewhere = tmp_path / "b" / "bands_v2.dmn"
    elsewhere.parent.mkdir()
    shutil.copy(GOOD / "risk_band.dmn", elsewhere)
    bundle = bundle_from_path(bpmn, extras={"bands_v2.dmn": elsewhere.read_bytes()})
    assert "bands_v2.dmn" in bundle.files and "risk_band.dmn" not in bundle.files
    assert validate_paths([bpmn, elsewhere]) == []


def test_a_given_file_no_bpmn_uses_is_a_problem_naming_it(tmp_path):
    unused = GOOD / "unrelated.dmn"
    problems = validate_paths([GOOD / "review_flow.bpmn", unused])
    assert [(p.path, p.message.split(" (")[0]) for p in problems] == [
        (str(unused), "no given BPMN file uses this file")]
