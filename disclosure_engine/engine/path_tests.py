"""Data-driven BPMN path tests: policy teams describe a route through a workflow as JSON and
this module runs it, as the test suite does for every shipped workflow and the policy editor
does before a deploy.

A path file (``workflows/tests/<key>.json``)::

    {"workflow": "s327a_consideration",
     "paths": [{
        "name": "level 1, presumption applies, disclose",
        "start_data": {"case_reference": "KENT/2027/0001", "mappa_level": 1, ...},
        "steps": [
            {"task": "identify_children", "data": {...}},          # complete a ready user task
            {"task": "decide", "data": {...}, "expect_errors": ["presumption_rebuttal_reasons"]},
            {"advance": "P29D"},                                    # move the simulated clock
            {"expect_ready": ["record_representations"]},           # assert what is open now
            ...],
        "expect": {"status": "completed", "end_event": "end_disclose",
                   "ready_tasks": [...], "visited": [...], "not_visited": [...],
                   "data": {"decision": "disclose"},
                   "records": [{"task": "decide", "record": {"decision": "disclose"},
                                "absent": ["review_date"]}]}}]}

Rules the runner applies, so a passing path means the same thing in production:

- the instance is saved and loaded (``dump_state`` -> JSON text -> ``load_state``) after the
  start and after **every** step, as a web request and a worker would;
- each step's data is validated against the task's form exactly as a submission is
  (:func:`disclosure_engine.domain.forms.validate_submission`); invalid data fails the path
  with the field errors. Fields the form marks ``readOnly`` (derived values such as
  ``presumption_applies``) are filled from the task's data, never from the step, because the
  server does not let a submission overwrite derived values;
- "today" for a form's ``x-after-today`` dates is the simulated clock's date;
- a step with ``expect_errors`` asserts the form refuses the data with errors on (at least)
  those fields; the task is left open and the path goes on;
- the clock starts at the real time and only moves with ``advance`` (ISO 8601 durations such
  as ``P29D``, ``PT4H``); timers due at the simulated time fire;
- a step records a decision when the task's ``records_decision`` and ``records_decision_when``
  say so (``engine.decision_rules``), and the record holds what the engine would write
  (``domain.record_content``: the step's own form fields from its answers only);
  ``expect.records`` lists every record the path writes, in order: each entry's ``task``, a
  subset of its ``record`` and the fields ``absent`` from it (a previous round's answers must
  not reach a later record);
- strings ``$today``, ``$today+P14D``, ``$today-P1D``, ``$now`` and ``$now+PT2H`` anywhere in
  start or step data become dates (``YYYY-MM-DD``) or UTC date-times relative to that clock,
  so review dates and response windows need no fixed calendar.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from disclosure_engine.domain.record_content import decision_data, record_answers
from disclosure_engine.domain.vocabulary import (
    REASON_PAIRS,
    is_reason_field,
    reason_problem,
)
from disclosure_engine.engine import decision_rules, runtime
from disclosure_engine.engine.bundle import bundle_from_path

__all__ = [
    "PathResult", "PathFileError", "run_path_file", "run_path", "load_path_file",
    "path_files", "decision_task_ids", "end_event_ids", "reason_limb_problems",
    "validate_step_data", "parse_duration", "iter_paths", "record_problems",
]

#: the shipped workflows and their path files
WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"

#: limbs whose reasons a completed s.327A decision must hold (answer field -> reasons fields)
S327A_LIMBS: dict[str, tuple[str, ...]] = {
    "serious_harm_risk": ("serious_harm_reasons",),
    "disclosure_necessary": ("necessity_reasons",),
    "proportionality": ("proportionality_reasons",),
    "representations_sought": ("representations_reasons", "representations_summary"),
    "decision": ("decision_reasons",),
}

_LONDON = ZoneInfo("Europe/London")
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")
_PLACEHOLDER = re.compile(r"^\$(?P<kind>today|now)(?:(?P<sign>[+-])(?P<dur>P[0-9WDTHMS]+))?$")


class PathFileError(ValueError):
    """The path file itself is malformed (not a failing path)."""


@dataclass(frozen=True)
class PathResult:
    """One path's outcome. ``message`` says what failed (or summarises a pass)."""

    name: str
    ok: bool
    message: str
    workflow: str = ""
    status: str | None = None
    end_event: str | None = None
    completed_path: tuple[str, ...] = ()
    end_data: dict[str, Any] = field(default_factory=dict, repr=False)
    decisions_recorded: tuple[str, ...] = ()
    #: what each recorded decision holds (``record_answers`` of the completed task), in order
    records: tuple[dict[str, Any], ...] = field(default=(), repr=False)


class _PathFailed(Exception):
    pass


# -- helpers ----------------------------------------------------------------------------------

def parse_duration(text: str) -> timedelta:
    """ISO 8601 duration in weeks/days/hours/minutes/seconds (no months or years)."""
    match = _DURATION.match(str(text).strip())
    if not match or str(text).strip() in ("P", "PT"):
        raise PathFileError(f"{text!r} is not an ISO 8601 duration such as P29D or PT4H")
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    return timedelta(weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"],
                     seconds=parts["s"])


def resolve_placeholders(value: Any, clock: datetime) -> Any:
    """Turn `$today`, `$today+P14D`, `$now-PT2H` (anywhere in ``value``) into dates or UTC
    date-times relative to ``clock``; path files and the demo use them so no date is fixed."""
    if isinstance(value, str):
        match = _PLACEHOLDER.match(value)
        if not match:
            return value
        moment = clock
        if match["dur"]:
            delta = parse_duration(match["dur"])
            moment = clock + delta if match["sign"] == "+" else clock - delta
        if match["kind"] == "today":
            return moment.date().isoformat()
        return moment.replace(microsecond=0).isoformat()
    if isinstance(value, Mapping):
        return {k: resolve_placeholders(v, clock) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_placeholders(v, clock) for v in value]
    return value


def validate_step_data(schema: dict[str, Any], data: Mapping[str, Any], *,
                       clock: datetime | None = None) -> dict[str, list[str]]:
    """Field -> messages, exactly as the task service validates a submission; "today" (for
    ``x-after-today``) is the simulated ``clock``'s date in England and Wales."""
    from disclosure_engine.domain.forms import validate_submission
    today = clock.astimezone(_LONDON).date() if clock is not None else None
    return validate_submission(schema, data, today=today)


def _undeclared(schema: dict[str, Any], submission: Mapping[str, Any]) -> list[str]:
    from disclosure_engine.domain.forms import undeclared_fields

    return undeclared_fields(schema, submission)


def _fill_read_only(schema: dict[str, Any], submission: dict[str, Any],
                    task_data: Mapping[str, Any]) -> dict[str, Any]:
    from disclosure_engine.domain.forms import apply_read_only

    return apply_read_only(schema, submission, task_data)


def decision_task_ids(compiled: Any) -> set[str]:
    """Element ids of user tasks whose completion can write a decision record
    (``records_decision``; ``records_decision_when`` may still say an answer decides nothing)."""
    ids = set()
    for name, spec in compiled.spec.task_specs.items():
        props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
        if decision_rules.records_decision(props):
            ids.add(getattr(spec, "bpmn_id", None) or name)
    return ids


def end_event_ids(compiled: Any) -> set[str]:
    ids = set()
    specs = [compiled.spec, *compiled.subprocess_specs.values()]
    for process in specs:
        for name, spec in process.task_specs.items():
            if type(spec).__name__ == "EndEvent" and getattr(spec, "bpmn_id", None):
                ids.add(spec.bpmn_id)
    return ids


def reason_limb_problems(workflow: str, data: Mapping[str, Any]) -> list[str]:
    """What a decision's final data lacks for judicial review: every answered yes/no limb needs
    its reasons, every reasons field must be a real reason, and an s.327A decision must carry
    reasons for each statutory limb (and rebuttal reasons when the presumption is not followed).
    """
    problems: list[str] = []
    limbs: dict[str, tuple[str, ...]] = dict(REASON_PAIRS)
    if workflow == "s327a_consideration":
        for limb, reasons in S327A_LIMBS.items():
            if not any(r in data for r in reasons):
                problems.append(f"no reasons recorded for {limb} ({' or '.join(reasons)})")
    for answer, reasons in limbs.items():
        if answer in data and not any(r in data for r in reasons):
            problems.append(f"{answer} is answered but none of {', '.join(reasons)} is recorded")
    for name, value in data.items():
        if is_reason_field(name):
            problem = reason_problem(value)
            if problem:
                problems.append(f"{name}: {problem}")
    if data.get("presumption_applies") is True and data.get("decision") not in (None, "disclose") \
            and "presumption_rebuttal_reasons" not in data:
        problems.append("the presumption applied and was not followed, but no "
                        "presumption_rebuttal_reasons are recorded")
    return problems


def _round_trip(compiled: Any, wf: Any) -> Any:
    text = json.dumps(runtime.dump_state(wf))
    return runtime.load_state(compiled, json.loads(text))


def _subset_mismatch(expected: Any, actual: Any, where: str) -> str | None:
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}.{key}: missing"
            problem = _subset_mismatch(value, actual[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if expected != actual:
        return f"{where}: expected {expected!r}, got {actual!r}"
    return None


# -- running ----------------------------------------------------------------------------------

def run_path(compiled: Any, path: Mapping[str, Any], *, now: datetime | None = None) -> PathResult:
    """Run one path (a dict from a path file) against a compiled workflow."""
    name = str(path.get("name") or "unnamed path")
    clock = now or datetime.now(timezone.utc)
    wf = None
    ends = end_event_ids(compiled)
    recorded: list[str] = []
    records: list[dict[str, Any]] = []

    def fail(message: str) -> PathResult:
        done = tuple(runtime.completed_path(wf)) if wf is not None else ()
        return PathResult(name, False, message, compiled.key, completed_path=done,
                          decisions_recorded=tuple(recorded), records=tuple(records))

    try:
        wf = runtime.start_workflow(compiled, resolve_placeholders(dict(path.get("start_data") or {}), clock))
        wf = _round_trip(compiled, wf)
        for number, step in enumerate(path.get("steps") or [], start=1):
            where = f"step {number}"
            if not isinstance(step, Mapping):
                raise PathFileError(f"{where}: a step must be an object")
            if "advance" in step:
                clock = clock + parse_duration(step["advance"])
                runtime.advance_timers(wf, now=clock)
            elif "expect_ready" in step:
                ready = sorted(t.element_id for t in runtime.ready_user_tasks(wf))
                if sorted(step["expect_ready"]) != ready:
                    return fail(f"{where}: expected ready tasks {sorted(step['expect_ready'])}, "
                                f"got {ready} (status {runtime.workflow_status(wf)})")
                continue
            elif "task" in step:
                element = step["task"]
                where = f"step {number} ({element})"
                ready = runtime.ready_user_tasks(wf)
                matches = [t for t in ready if t.element_id == element]
                if not matches:
                    waiting = ", ".join(sorted(t.element_id for t in ready)) or "none"
                    return fail(f"{where}: task is not ready (ready tasks: {waiting}; "
                                f"status {runtime.workflow_status(wf)})")
                task = matches[0]
                schema = compiled.forms.get(task.form_name or "")
                if schema is None:
                    return fail(f"{where}: form {task.form_name!r} is not in the bundle")
                submission = resolve_placeholders(copy.deepcopy(dict(step.get("data") or {})), clock)
                extra = _undeclared(schema, submission)
                if extra:  # the server would drop them: a path relying on them tests nothing real
                    return fail(f"{where}: fields not on the form {task.form_name!r}: {', '.join(extra)} "
                                "(a completion drops them; declare them in the form or remove them)")
                submission = _fill_read_only(schema, submission, task.data)
                errors = validate_step_data(schema, submission, clock=clock)
                if "expect_errors" in step:
                    missing = [f for f in step["expect_errors"] if f not in errors]
                    if missing:
                        got = json.dumps(errors, sort_keys=True) if errors else "none"
                        return fail(f"{where}: expected form errors on {', '.join(missing)}; "
                                    f"errors were: {got}")
                    continue  # the form refused it; the task stays open
                if errors:
                    detail = "; ".join(f"{k}: {' / '.join(v)}" for k, v in sorted(errors.items()))
                    return fail(f"{where}: the form refuses the data: {detail}")
                decided = decision_rules.decides(task.properties, {**task.data, **submission},
                                                 element_id=element)
                runtime.complete_user_task(wf, task.id, submission)
                if decided:
                    recorded.append(element)
                    answers = record_answers(decision_data(task.data, submission, schema))
                    records.append({**answers, "decision_task": element})
            else:
                raise PathFileError(f"{where}: a step needs 'task', 'advance' or 'expect_ready'")
            wf = _round_trip(compiled, wf)
    except PathFileError as exc:
        return fail(f"bad path: {exc}")
    except Exception as exc:  # engine failures fail the path, with the element when known
        return fail(f"{type(exc).__name__}: {exc}")

    status = runtime.workflow_status(wf)
    done = tuple(runtime.completed_path(wf))
    reached = [e for e in done if e in ends]
    end_event = reached[-1] if reached else None
    data = runtime.end_data(wf)
    result = dict(name=name, workflow=compiled.key, status=status, end_event=end_event,
                  completed_path=done, end_data=data, decisions_recorded=tuple(recorded),
                  records=tuple(records))
    expect = path.get("expect") or {}
    problems = []
    if "status" in expect and expect["status"] != status:
        problems.append(f"status: expected {expect['status']}, got {status}")
    if "end_event" in expect and expect["end_event"] != end_event:
        problems.append(f"end event: expected {expect['end_event']}, got {end_event}")
    if "ready_tasks" in expect:
        ready = sorted(t.element_id for t in runtime.ready_user_tasks(wf))
        if sorted(expect["ready_tasks"]) != ready:
            problems.append(f"ready tasks: expected {sorted(expect['ready_tasks'])}, got {ready}")
    for element in expect.get("visited", []):
        if element not in done:
            problems.append(f"{element} was not visited")
    for element in expect.get("not_visited", []):
        if element in done:
            problems.append(f"{element} was visited but should not have been")
    if "data" in expect:
        mismatch = _subset_mismatch(expect["data"], data, "data")
        if mismatch:
            problems.append(mismatch)
    if "records" in expect:
        try:
            problems.extend(record_problems(expect["records"], records))
        except PathFileError as exc:
            problems.append(f"bad path: {exc}")
    if problems:
        return PathResult(ok=False, message="; ".join(problems), **result)
    return PathResult(ok=True, message=f"{status} at {end_event or 'no end event'} after "
                                       f"{len(done)} elements", **result)


def record_problems(expected: Any, records: list[dict[str, Any]]) -> list[str]:
    """``expect.records`` against the records a path wrote (one entry per record, in order; each
    record holds ``decision_task``). The services' path test checks the real decision log too."""
    if not isinstance(expected, list) or not all(isinstance(e, Mapping) for e in expected):
        raise PathFileError("expect.records must be a list of objects")
    written = [r["decision_task"] for r in records]
    if len(expected) != len(records):
        wanted = [e.get("task", "?") for e in expected]
        return [f"records: expected {len(expected)} ({', '.join(wanted) or 'none'}), "
                f"got {len(records)} ({', '.join(written) or 'none'})"]
    problems = []
    for number, (entry, record) in enumerate(zip(expected, records), start=1):
        where = f"records[{number}] ({record['decision_task']})"
        if "task" in entry and entry["task"] != record["decision_task"]:
            problems.append(f"{where}: expected a record at {entry['task']}")
            continue
        mismatch = _subset_mismatch(entry.get("record") or {}, record, where)
        if mismatch:
            problems.append(mismatch)
        leaked = [k for k in entry.get("absent") or [] if k in record]
        if leaked:
            problems.append(f"{where}: should not hold {', '.join(leaked)} "
                            f"(holds {', '.join(f'{k}={record[k]!r}' for k in leaked)})")
    return problems


def load_path_file(path: Path) -> dict[str, Any]:
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PathFileError(f"{path}: cannot read path file: {exc}") from None
    if not isinstance(content, dict) or not isinstance(content.get("workflow"), str) \
            or not isinstance(content.get("paths"), list):
        raise PathFileError(f"{path}: a path file is {{\"workflow\": KEY, \"paths\": [...]}}")
    return content


def run_path_file(path: Path, *, workflows_dir: Path | None = None,
                  compiled: Any = None) -> list[PathResult]:
    """Run every path in ``path``. The workflow is ``<workflows_dir>/<key>.bpmn``; by default
    the directory above the path file's ``tests/`` folder."""
    path = Path(path)
    content = load_path_file(path)
    key = content["workflow"]
    if compiled is None:
        directory = workflows_dir or (path.parent.parent if path.parent.name == "tests"
                                      else WORKFLOWS_DIR)
        compiled = runtime.compile_bundle(bundle_from_path(directory / f"{key}.bpmn"))
    return [run_path(compiled, p) for p in content["paths"]]


def path_files(directory: Path | None = None) -> list[Path]:
    """The path files of a workflows directory (``<dir>/tests/*.json``)."""
    return sorted(Path(directory or WORKFLOWS_DIR).joinpath("tests").glob("*.json"))


def iter_paths(files: Iterable[Path]) -> Iterable[tuple[Path, str, dict[str, Any]]]:
    for file in files:
        content = load_path_file(file)
        for item in content["paths"]:
            yield file, content["workflow"], item
