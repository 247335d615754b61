"""Four-eyes on sign-off: whoever proposed a decision cannot sign it off or ratify it, even when
they hold the chair role too (BPMN property ``not_completed_by``), at claim, draft, reassign
and completion; and the completion still reads everything in its one locked read.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from disclosure_engine.domain.errors import Forbidden, ValidationFailed
from disclosure_engine.persistence.models import HumanTask
from disclosure_engine.services import assignment, cases, processes, tasks
from disclosure_engine.services.workflows import deploy_shipped

from .helpers import case_payload, complete_step, make_actor, shipped_path

LEVEL2 = "level 2, officer proposes, chair signs off"
RETURNED = "level 3, chair returns, then signs off"
OUT_OF_MEETING = "level 2 out of meeting, then ratified at the next meeting"


@pytest.fixture()
def world(db, settings):
    from disclosure_engine.services.users import create_user

    deploy_shipped(db, settings)
    dual_user = create_user(db, "dual.kent", roles=["officer", "chair"], areas=["kent"])
    from disclosure_engine.domain.roles import Actor

    dual = Actor(user_id=dual_user.id, username=dual_user.username, roles=frozenset(dual_user.roles),
                 areas=frozenset(dual_user.areas))
    return {"db": db, "dual": dual, "officer": make_actor(db, "officer.kent", "officer"),
            "chair": make_actor(db, "chair.kent", "chair"), "manager": make_actor(db, "manager.kent", "manager")}


def _process(world, level: int) -> int:
    world["cases"] = world.get("cases", 0) + 1
    case = cases.create_case(world["db"], world["officer"],
                             case_payload(f"KNT-2026-{world['cases']:06d}", level=level))
    return case["processes"][0]["id"]


def _run(world, process_id: int, steps: list[dict], who: list[str]) -> None:
    for step, name in zip(steps, who, strict=True):
        complete_step(world["db"], world[name], process_id, step)


def _open(world, process_id: int, element_id: str) -> dict:
    view = processes.get_process(world["db"], world["manager"], process_id)
    return next(t for t in view["open_tasks"] if t["element_id"] == element_id)


def _proposed_by_dual(world, path: str = LEVEL2, level: int = 2) -> tuple[int, list[dict]]:
    """The consideration up to the proposal, every step by the officer-and-chair user."""
    steps = shipped_path("s327a_consideration", path)
    upto = next(i for i, s in enumerate(steps) if s["task"] == "propose_decision") + 1
    process_id = _process(world, level)
    _run(world, process_id, steps[:upto], ["dual"] * upto)
    return process_id, steps[upto:]


def test_the_proposer_cannot_claim_draft_or_complete_the_sign_off(world):
    db, dual = world["db"], world["dual"]
    process_id, rest = _proposed_by_dual(world)
    signoff = _open(world, process_id, "chair_signoff")
    expected = ("You completed ‘Propose the decision to the MAPP meeting’ in this process, so another chair "
                "must do ‘Chair signs off the decision’ (four-eyes rule)")
    with pytest.raises(Forbidden) as claim:
        tasks.claim(db, dual, signoff["id"])
    assert claim.value.message == expected
    with pytest.raises(Forbidden):
        tasks.save_draft(db, dual, signoff["id"], {"chair_outcome": "agreed"})
    with pytest.raises(Forbidden) as complete:
        tasks.complete(db, dual, signoff["id"], rest[0]["data"])
    assert complete.value.message == expected
    assert tasks.work_refusal(db, dual, signoff["id"]) == expected
    with db.transaction() as session:
        row = session.get(HumanTask, signoff["id"])
        assert (row.status, row.assignee_id, row.draft_data) == ("open", None, None)
    # another chair signs it off
    assert tasks.work_refusal(db, world["chair"], signoff["id"]) is None
    tasks.claim(db, world["chair"], signoff["id"])
    done = tasks.complete(db, world["chair"], signoff["id"], rest[0]["data"])
    assert done["decision_id"] and done["process"]["status"] == "completed"


def test_steps_before_the_proposal_do_not_bar_the_chair(world):
    """Only the named step counts: a chair who identified the children and assessed the tests
    may sign off a proposal a colleague made."""
    steps = shipped_path("s327a_consideration", LEVEL2)
    process_id = _process(world, 2)
    _run(world, process_id, steps, ["dual"] * 4 + ["officer", "dual"])
    assert processes.get_process(world["db"], world["manager"], process_id)["status"] == "completed"


def test_a_proposal_made_again_by_a_colleague_may_be_signed_off_by_the_first_proposer(world):
    """The latest run of the named step counts: returned by the chair and proposed again by
    another officer, the decision is no longer the first proposer's."""
    db, dual = world["db"], world["dual"]
    process_id, rest = _proposed_by_dual(world, RETURNED, 3)
    returned, again, signed = rest  # chair returns, officer proposes again, chair signs off
    complete_step(db, world["chair"], process_id, returned)
    complete_step(db, world["officer"], process_id, again)
    done = complete_step(db, dual, process_id, signed)
    assert done["decision_id"]


def test_the_proposer_cannot_ratify_an_out_of_meeting_decision(world):
    db = world["db"]
    process_id, rest = _proposed_by_dual(world, OUT_OF_MEETING)
    signoff, ratify = rest
    complete_step(db, world["chair"], process_id, signoff)
    task = _open(world, process_id, "ratify_decision")
    with pytest.raises(Forbidden) as refused:
        tasks.complete(db, world["dual"], task["id"], ratify["data"])
    assert "Propose the decision to the MAPP meeting" in refused.value.message
    assert complete_step(db, world["chair"], process_id, ratify)["decision_id"]


def test_the_authorising_manager_cannot_ratify_their_emergency_decision(world):
    from disclosure_engine.domain.roles import Actor
    from disclosure_engine.services.users import create_user

    db = world["db"]
    user = create_user(db, "senior.kent", roles=["manager", "chair"], areas=["kent"])
    senior = Actor(user_id=user.id, username=user.username, roles=frozenset(user.roles), areas=frozenset(user.areas))
    case = cases.create_case(db, world["officer"], case_payload())
    process_id = processes.start_process(db, world["officer"], case["id"], "urgent_disclosure",
                                         data={"trigger": "police_report"})["id"]
    steps = shipped_path("urgent_disclosure", "emergency disclosure authorised, made and ratified")
    for step in steps:
        task = _open(world, process_id, step["task"])
        if step["task"] == "ratify_emergency_decision":
            with pytest.raises(Forbidden) as refused:
                tasks.claim(db, senior, task["id"])
            assert "Authorise emergency disclosure" in refused.value.message
            complete_step(db, world["chair"], process_id, step)
        else:
            complete_step(db, senior if task["candidate_role"] == "manager" else world["officer"], process_id, step)
    assert processes.get_process(db, world["manager"], process_id)["status"] == "completed"


def test_reassigning_offers_and_accepts_only_another_chair(world):
    db, manager = world["db"], world["manager"]
    process_id, _rest = _proposed_by_dual(world)
    signoff = _open(world, process_id, "chair_signoff")
    offered = [p["username"] for p in assignment.candidates(db, manager, signoff["id"])]
    assert offered == ["chair.kent"]
    with pytest.raises(ValidationFailed) as refused:
        assignment.reassign(db, manager, signoff["id"], "dual.kent")
    assert refused.value.errors["username"][0].startswith("dual.kent completed ‘Propose the decision")
    assert assignment.reassign(db, manager, signoff["id"], "chair.kent")["assignee"] == "chair.kent"


def _round_trips(db, action) -> tuple[list[bool], list[str]]:
    """What ``action`` sends: each pipeline round trip (True when it commits), and any statement
    sent outside the pipeline."""
    from disclosure_engine.persistence.pg_pipeline import Pipeline

    sends: list[bool] = []
    statements: list[str] = []
    real_send = Pipeline._send

    def counting(self, calls, *, commit):
        sends.append(commit)
        return real_send(self, calls, commit=commit)

    def on_execute(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    Pipeline._send = counting
    try:
        action()
    finally:
        Pipeline._send = real_send
        event.remove(db.engine, "before_cursor_execute", on_execute)
    return sends, statements


def test_a_guarded_sign_off_is_still_read_in_one_round_trip(world):
    """PostgreSQL: with the four-eyes rule on the task, the completion still sends its reads
    with BEGIN and its writes with COMMIT and nothing else (who proposed is read with the task
    rows); the proposer's refusal costs the read alone."""
    db = world["db"]
    if db.dialect != "postgresql":
        pytest.skip("the pipelined completion is PostgreSQL's")
    steps = shipped_path("s327a_consideration", LEVEL2)
    by_officer = _process(world, 2)
    _run(world, by_officer, steps[:-1], ["officer"] * (len(steps) - 1))
    by_dual, _rest = _proposed_by_dual(world)
    mine = _open(world, by_dual, "chair_signoff")
    theirs = _open(world, by_officer, "chair_signoff")

    def refused():
        with pytest.raises(Forbidden):
            tasks.complete(db, world["dual"], mine["id"], steps[-1]["data"])

    assert _round_trips(db, refused) == ([False], [])
    sends, others = _round_trips(db, lambda: tasks.complete(db, world["dual"], theirs["id"], steps[-1]["data"]))
    assert (sends, others) == ([False, True], [])
    with db.transaction() as session:
        assert session.execute(select(HumanTask.completed_by_id).where(HumanTask.id == theirs["id"])).scalar_one() \
            == world["dual"].user_id
