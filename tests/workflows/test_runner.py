"""The path-test runner itself: it must fail paths that are wrong, not only pass good ones."""
from __future__ import annotations

import copy
import json
from functools import lru_cache

import pytest

from disclosure_engine.engine import runtime
from disclosure_engine.engine.bundle import bundle_from_path
from disclosure_engine.engine.path_tests import (
    WORKFLOWS_DIR,
    PathFileError,
    parse_duration,
    reason_limb_problems,
    run_path,
    run_path_file,
)


@lru_cache(maxsize=None)
def s327a():
    return runtime.compile_bundle(bundle_from_path(WORKFLOWS_DIR / "s327a_consideration.bpmn"))


def good_path() -> dict:
    content = json.loads((WORKFLOWS_DIR / "tests" / "s327a_consideration.json").read_text())
    return copy.deepcopy(content["paths"][0])


def test_run_path_file_returns_one_result_per_path() -> None:
    results = run_path_file(WORKFLOWS_DIR / "tests" / "disclosure_delivery.json")
    assert len(results) >= 3 and all(r.ok for r in results), [r.message for r in results]


def test_wrong_end_event_fails() -> None:
    path = good_path()
    path["expect"]["end_event"] = "end_no_disclosure"
    result = run_path(s327a(), path)
    assert not result.ok and "end event" in result.message


def test_invalid_step_data_fails_with_field_errors() -> None:
    path = good_path()
    path["steps"][1]["data"]["serious_harm_reasons"] = "n/a"
    result = run_path(s327a(), path)
    assert not result.ok
    assert "step 2 (assess_tests)" in result.message and "serious_harm_reasons" in result.message


def test_expect_errors_that_do_not_happen_fail() -> None:
    path = good_path()
    step = copy.deepcopy(path["steps"][1])
    step["expect_errors"] = ["serious_harm_reasons"]
    path["steps"].insert(1, step)
    result = run_path(s327a(), path)
    assert not result.ok and "expected form errors" in result.message


def test_task_not_ready_fails() -> None:
    path = good_path()
    path["steps"].insert(0, {"task": "decide", "data": {}})
    result = run_path(s327a(), path)
    assert not result.ok and "not ready" in result.message and "identify_children" in result.message


def test_read_only_derived_values_cannot_be_overwritten() -> None:
    path = good_path()
    path["steps"][-1]["data"]["presumption_applies"] = False
    result = run_path(s327a(), path)
    assert result.ok, result.message
    assert result.end_data["presumption_applies"] is True


def test_limb_check_spots_missing_reasons() -> None:
    result = run_path(s327a(), good_path())
    data = dict(result.end_data)
    assert reason_limb_problems("s327a_consideration", data) == []
    del data["necessity_reasons"]
    assert any("disclosure_necessary" in p for p in reason_limb_problems("s327a_consideration", data))


def test_durations() -> None:
    assert parse_duration("P29D").days == 29
    assert parse_duration("PT4H").total_seconds() == 4 * 3600
    with pytest.raises(PathFileError):
        parse_duration("P1M")


def test_wrong_records_fail() -> None:
    path = good_path()  # level 1: one record, at decide
    assert run_path(s327a(), path).ok
    for records, message in [
        ([], "records: expected 0 (none), got 1 (decide)"),
        ([{"task": "chair_signoff"}], "expected a record at chair_signoff"),
        ([{"task": "decide", "record": {"decision": "defer"}}], "records[1] (decide).decision: expected 'defer'"),
        ([{"task": "decide", "absent": ["decision_reasons"]}], "records[1] (decide): should not hold decision_reasons"),
        ({"task": "decide"}, "bad path: expect.records must be a list of objects"),
    ]:
        path["expect"]["records"] = records
        result = run_path(s327a(), path)
        assert not result.ok and message in result.message, (records, result.message)


def test_records_hold_what_the_engine_writes() -> None:
    result = run_path(s327a(), good_path())
    (record,) = result.records
    assert record["decision_task"] == "decide" and record["security_marking"] == "OFFICIAL-SENSITIVE"
    # what the decision stands on is kept with it; process plumbing is not
    assert record["risk_assessment_reference"] == "ARMS 2027-02-28"
    assert record["alternatives_considered"].startswith("A licence condition")
    assert "trigger" not in record and "mappa_level" not in record
