"""A decision to disclose hands off to delivery: the end event's ``start_process`` marks the
instance, the sweep starts the follow-on for the same case with the decision, exactly once.

Paths are replayed from the shipped BPMN unit tests (workflows/tests/*.json), through the
services, so these tests follow the policy's own forms.
"""
from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.engine import runtime
from disclosure_engine.persistence.models import Decision, ProcessInstance
from disclosure_engine.services import audit, cases, decisions, handoffs, processes
from disclosure_engine.services.workflows import compiled, deploy_shipped

from .helpers import WORKFLOWS as WORKFLOWS_DIR
from .helpers import case_payload, make_actor, new_consideration, replay_path, staff  # noqa: F401 (fixture)

DISCLOSE = "level 1, presumption applies, disclose"
NOT_DISCLOSE = "test (a) not met, do not disclose"
RATIFIED = "level 2 out of meeting, then ratified at the next meeting"


def _follow_ons(db, origin_id: int) -> list[ProcessInstance]:
    with db.transaction() as session:
        return list(session.execute(select(ProcessInstance).where(ProcessInstance.started_from_id == origin_id))
                    .scalars())


def _start_data(db, instance: ProcessInstance) -> dict[str, Any]:
    """What the follow-on's first task reads (its start data flows into every task)."""
    with db.transaction() as session:
        row = session.get(ProcessInstance, instance.id)
        wf = runtime.load_state(compiled(row.definition), row.state)
    (first,) = runtime.ready_user_tasks(wf)
    return first.data


def _current_decision(db, process_id: int) -> Decision:
    with db.transaction() as session:
        return session.execute(select(Decision).where(Decision.process_id == process_id)
                               .order_by(Decision.version.desc()).limit(1)).scalar_one()


def test_a_decision_to_disclose_starts_delivery_for_the_same_case_after_a_sweep(db, staff):
    case_id, consideration = new_consideration(db, staff)
    done = replay_path(db, staff, consideration, "s327a_consideration", DISCLOSE)
    assert done["process"] == {"id": consideration, "status": "completed", "end_event": "end_disclose"}
    with db.transaction() as session:
        assert session.get(ProcessInstance, consideration).handoff_pending is True
    assert _follow_ons(db, consideration) == [], "nothing starts inside the completing step"

    report = handoffs.sweep_handoffs(db)
    assert (report.pending, report.started, report.failed) == (1, 1, [])
    (delivery,) = _follow_ons(db, consideration)
    decision = _current_decision(db, consideration)
    assert (delivery.case_id, delivery.definition.key, delivery.status) == (case_id, "disclosure_delivery", "waiting")
    data = _start_data(db, delivery)
    assert data["decision_id"] == decision.id == done["decision_id"]
    assert data["legal_basis"] == decision.legal_basis == "s327a"
    assert (data["case_id"], data["trigger"]) == (case_id, "handoff")
    with db.transaction() as session:
        assert session.get(ProcessInstance, consideration).handoff_pending is False

    view = processes.get_process(db, staff["officer"], delivery.id)
    assert [t["element_id"] for t in view["open_tasks"]] == ["prepare_disclosure"]
    assert view["started_from"] == consideration and view["case_id"] == case_id

    handed = audit.list_events(db, SYSTEM, action="process.handed_off")
    assert [(e["subject_id"], e["actor_name"], e["detail"]["to_process"], e["detail"]["decision_id"]) for e in handed] \
        == [(str(consideration), "system", delivery.id, decision.id)]
    (started,) = [e for e in audit.list_events(db, SYSTEM, action="process.started")
                  if e["subject_id"] == str(delivery.id)]
    assert started["actor_name"] == "system"
    assert started["detail"] | {"content_hash": None} == {
        "case_id": case_id, "workflow": "disclosure_delivery", "version": delivery.definition.version,
        "content_hash": None, "trigger": "handoff", "started_from": consideration, "decision_id": decision.id}
    assert audit.verify_chain(db).ok


def test_two_sweeps_start_one_delivery(db, staff):
    _case_id, consideration = new_consideration(db, staff)
    replay_path(db, staff, consideration, "s327a_consideration", DISCLOSE)
    assert handoffs.sweep_handoffs(db).started == 1
    again = handoffs.sweep_handoffs(db)
    assert (again.pending, again.started) == (0, 0)
    assert handoffs.hand_off(db, consideration) is None, "a direct retry finds nothing to do"
    assert len(_follow_ons(db, consideration)) == 1
    assert len(audit.list_events(db, SYSTEM, action="process.handed_off")) == 1


def test_concurrent_sweeps_start_one_delivery_each(db, staff):
    """Two sweeps in threads over the same pending instances (on PostgreSQL, each skips the rows
    the other holds; on SQLite writers queue). Every consideration gets exactly one delivery."""
    origins = [new_consideration(db, staff, f"KNT-2026-00000{i}")[1] for i in range(1, 5)]
    for origin in origins:
        replay_path(db, staff, origin, "s327a_consideration", DISCLOSE)
    barrier = threading.Barrier(2)
    reports: list[handoffs.HandoffSweep] = []

    def sweep() -> None:
        barrier.wait()
        reports.append(handoffs.sweep_handoffs(db))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(reports) == 2 and all(r.failed == [] for r in reports)
    assert sum(r.started for r in reports) == len(origins)
    for origin in origins:
        assert len(_follow_ons(db, origin)) == 1
    with db.transaction() as session:
        deliveries = session.execute(select(func.count()).select_from(ProcessInstance)
                                     .where(ProcessInstance.started_from_id.is_not(None))).scalar_one()
    assert deliveries == len(origins)
    assert len(audit.list_events(db, SYSTEM, action="process.handed_off")) == len(origins)
    assert audit.verify_chain(db).ok


def test_a_sweep_skips_an_instance_another_sweep_holds_instead_of_waiting(db, staff):
    """PostgreSQL: FOR UPDATE SKIP LOCKED. While one transaction holds the origin's row, a
    sweep passes it by at once (no wait, no second start); once released, it is handed off."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): a second sweep waits its turn")
    import time

    _case_id, consideration = new_consideration(db, staff)
    replay_path(db, staff, consideration, "s327a_consideration", DISCLOSE)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction() as session:
            session.execute(select(ProcessInstance.id).where(ProcessInstance.id == consideration)
                            .with_for_update())
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(30)
    began = time.monotonic()
    try:
        assert handoffs.hand_off(db, consideration) is None
        assert time.monotonic() - began < 5, "skipped, not waited for"
    finally:
        release.set()
        holder.join(30)
    assert _follow_ons(db, consideration) == []
    assert handoffs.hand_off(db, consideration) is not None
    assert len(_follow_ons(db, consideration)) == 1


def test_the_unique_link_refuses_a_second_follow_on_even_past_the_flag(db, staff):
    """The flag set again (by hand, say): the re-check under the lock finds the follow-on and
    clears it. And a second start that got past every check is refused by the UNIQUE
    started_from_id, whole."""
    from sqlalchemy.exc import IntegrityError

    from disclosure_engine.persistence.models import Case

    case_id, consideration = new_consideration(db, staff)
    replay_path(db, staff, consideration, "s327a_consideration", DISCLOSE)
    assert handoffs.sweep_handoffs(db).started == 1
    with db.transaction() as session:
        session.get(ProcessInstance, consideration).handoff_pending = True
    assert handoffs.hand_off(db, consideration) is None
    with db.transaction() as session:
        assert session.get(ProcessInstance, consideration).handoff_pending is False
    events = audit.chain_head(db)["seq"]
    with pytest.raises(IntegrityError), db.transaction() as session:
        origin = session.get(ProcessInstance, consideration)
        processes.start_in_session(session, SYSTEM, session.get(Case, case_id), "disclosure_delivery",
                                   started_from=origin)
    assert len(_follow_ons(db, consideration)) == 1
    assert audit.chain_head(db)["seq"] == events, "nothing of the refused start was written"


def test_a_ratified_decision_hands_off_its_current_version(db, staff):
    _case_id, consideration = new_consideration(db, staff, level=2)
    replay_path(db, staff, consideration, "s327a_consideration", RATIFIED)
    handoffs.sweep_handoffs(db)
    (delivery,) = _follow_ons(db, consideration)
    current = _current_decision(db, consideration)
    assert current.version == 2 and current.supersedes_id is not None
    assert _start_data(db, delivery)["decision_id"] == current.id


def test_a_decision_not_to_disclose_starts_nothing(db, staff):
    _case_id, consideration = new_consideration(db, staff)
    done = replay_path(db, staff, consideration, "s327a_consideration", NOT_DISCLOSE)
    assert done["process"]["end_event"] == "end_no_disclosure"
    with db.transaction() as session:
        assert session.get(ProcessInstance, consideration).handoff_pending is False
    assert handoffs.sweep_handoffs(db).pending == 0
    assert _follow_ons(db, consideration) == []
    assert audit.list_events(db, SYSTEM, action="process.handed_off") == []


def test_a_hand_off_that_cannot_start_keeps_its_flag_and_does_not_block_others(db, staff, monkeypatch):
    first = new_consideration(db, staff, "KNT-2026-000001")[1]
    second = new_consideration(db, staff, "KNT-2026-000002")[1]
    for origin in (first, second):
        replay_path(db, staff, origin, "s327a_consideration", DISCLOSE)
    real = handoffs.start_in_session

    def not_deployed_for_the_first(session, actor, case, key, **kw):
        if kw["started_from"].id == first:
            from disclosure_engine.domain.errors import NotFound

            raise NotFound(f"Workflow {key} is not deployed")
        return real(session, actor, case, key, **kw)

    monkeypatch.setattr(handoffs, "start_in_session", not_deployed_for_the_first)
    report = handoffs.sweep_handoffs(db)
    assert report.started == 1 and [pid for pid, _ in report.failed] == [first]
    assert "not deployed" in report.failed[0][1]
    assert len(_follow_ons(db, second)) == 1 and _follow_ons(db, first) == []
    with db.transaction() as session:
        assert session.get(ProcessInstance, first).handoff_pending is True, "kept for the next sweep"

    monkeypatch.setattr(handoffs, "start_in_session", real)
    assert handoffs.sweep_handoffs(db).started == 1, "the next sweep retries it"
    assert len(_follow_ons(db, first)) == 1


# -- starting delivery by hand: the decision must be this case's current decision to disclose --

def _disclosed(db, staff, reference: str = "KNT-2026-000001") -> tuple[int, int, int]:
    """(case id, consideration id, decision id) of a consideration decided 'disclose'."""
    case_id, consideration = new_consideration(db, staff, reference)
    done = replay_path(db, staff, consideration, "s327a_consideration", DISCLOSE)
    return case_id, consideration, done["decision_id"]


def _refused(db, actor, case_id: int, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationFailed) as refused:
        processes.start_process(db, actor, case_id, "disclosure_delivery", data=data)
    assert set(refused.value.errors) == {"data.decision_id"}, refused.value.errors
    return refused.value.errors["data.decision_id"]


def test_delivery_by_hand_with_this_cases_decision_to_disclose_starts(db, staff):
    case_id, _consideration_id, decision_id = _disclosed(db, staff)
    view = processes.start_process(db, staff["officer"], case_id, "disclosure_delivery",
                                   data={"decision_id": str(decision_id), "legal_basis": "s327a"})
    with db.transaction() as session:
        instance = session.get(ProcessInstance, view["id"])
    assert _start_data(db, instance)["decision_id"] == decision_id, "given as text, kept as the id"
    assert view["started_from"] is None


@pytest.mark.parametrize("bogus", [99999, 0, -1, "x", True, 1.5])
def test_delivery_by_hand_with_a_made_up_decision_id_is_refused(db, staff, bogus):
    case_id, _c, _d = _disclosed(db, staff)
    _refused(db, staff["officer"], case_id, {"decision_id": bogus})
    with db.transaction() as session:
        keys = session.execute(select(ProcessInstance.id).where(ProcessInstance.case_id == case_id)).all()
    assert len(keys) == 1, "nothing started"


def test_delivery_by_hand_with_another_cases_decision_is_refused_without_saying_more(db, staff):
    _case_a, _c, decision_a = _disclosed(db, staff, "KNT-2026-000001")
    case_b = cases.create_case(db, staff["officer"], case_payload("KNT-2026-000002"))["id"]
    (message,) = _refused(db, staff["officer"], case_b, {"decision_id": decision_a})
    (unknown,) = _refused(db, staff["officer"], case_b, {"decision_id": 99999})
    assert message == unknown.replace("99999", str(decision_a)), "the same answer as for no decision at all"


def test_delivery_by_hand_from_a_decision_not_to_disclose_is_refused(db, staff):
    case_id, consideration = new_consideration(db, staff)
    done = replay_path(db, staff, consideration, "s327a_consideration", NOT_DISCLOSE)
    (message,) = _refused(db, staff["officer"], case_id, {"decision_id": done["decision_id"]})
    assert "do_not_disclose" in message and "disclose" in message


def test_delivery_by_hand_from_a_superseded_version_is_refused(db, staff):
    case_id, _consideration_id, decision_id = _disclosed(db, staff)
    newer = decisions.supersede(db, staff["manager"], decision_id,
                                {"conditions": "Not to tell anyone but the named carer, without asking first."},
                                "The conditions were recorded incompletely at the meeting.")
    (message,) = _refused(db, staff["officer"], case_id, {"decision_id": decision_id})
    assert f"decision {newer['id']}" in message
    processes.start_process(db, staff["officer"], case_id, "disclosure_delivery",
                            data={"decision_id": newer["id"]})


def test_delivery_by_hand_without_a_decision_id_carries_out_the_cases_one_decision(db, staff):
    case_id, _consideration_id, decision_id = _disclosed(db, staff)
    view = processes.start_process(db, staff["officer"], case_id, "disclosure_delivery")
    with db.transaction() as session:
        instance = session.get(ProcessInstance, view["id"])
    data = _start_data(db, instance)
    assert (data["decision_id"], data["legal_basis"]) == (decision_id, "s327a"), \
        "linked to the decision, with its legal basis"


def test_delivery_by_hand_without_a_decision_id_is_refused_when_none_or_several_qualify(db, staff):
    case_id, consideration = new_consideration(db, staff)
    (none,) = _refused(db, staff["officer"], case_id, {})
    assert "no current decision to disclose is recorded on this case" in none
    replay_path(db, staff, consideration, "s327a_consideration", NOT_DISCLOSE)
    assert _refused(db, staff["officer"], case_id, {}) == [none], "a decision not to disclose is not one"
    first = _disclosed(db, staff, "KNT-2026-000002")
    second = processes.start_process(db, staff["officer"], first[0], "s327a_consideration")
    done = replay_path(db, staff, second["id"], "s327a_consideration", DISCLOSE)
    (several,) = _refused(db, staff["officer"], first[0], {})
    assert f"decisions {first[2]}, {done['decision_id']}" in several


def test_a_hand_off_whose_decision_was_corrected_away_from_disclose_waits_and_says_why(db, staff):
    """A correction between the decision and the sweep that changes the outcome: the follow-on
    is refused like a start by hand, the flag stays, and the sweep reports the field error."""
    _case_id, consideration, decision_id = _disclosed(db, staff)
    decisions.supersede(db, staff["manager"], decision_id,
                        {"decision": "do_not_disclose", "presumption_rebuttal_reasons":
                         "The recipient has since moved away and has no contact with the children."},
                        "The meeting's decision was recorded wrongly; the minutes say do not disclose.")
    report = handoffs.sweep_handoffs(db)
    assert report.started == 0 and len(report.failed) == 1
    assert "data.decision_id" in report.failed[0][1]
    assert _follow_ons(db, consideration) == []


# -- deploying a hand-off: the workflow it names must exist --------------------------------------

def _ending(start_process: str) -> dict[str, bytes]:
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="x">
  <bpmn:process id="local_review" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_end</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_end" sourceRef="start" targetRef="end_reviewed" />
    <bpmn:endEvent id="end_reviewed">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="start_process" value="{start_process}" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>to_end</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
    return {"local_review.bpmn": xml.encode()}


def test_deploy_refuses_a_hand_off_to_a_workflow_that_is_not_deployed(db):
    from disclosure_engine.engine.problems import InvalidWorkflow
    from disclosure_engine.services.workflows import deploy_uploaded

    from .helpers import deploy_mini

    policy = make_actor(db, "policy.lead", "policy", area=None)
    with pytest.raises(InvalidWorkflow) as refused:
        deploy_uploaded(db, policy, _ending("local_delivery"))
    (problem,) = refused.value.problems
    assert (problem.path, problem.element_id) == ("local_review.bpmn", "end_reviewed")
    assert "'local_delivery', which is not deployed" in problem.message
    assert deploy_uploaded(db, policy, _ending("disclosure_delivery")).version == 1, \
        "a shipped key is known before it is deployed (db upgrade deploys them together)"
    deploy_mini(db)
    assert deploy_uploaded(db, policy, _ending("mini_decision")).version == 2


def test_a_process_that_ends_at_a_hand_off_as_it_starts_is_handed_off_too(db, settings):
    """The mark is set by whatever step completes the instance: here its start."""
    from disclosure_engine.services.workflows import deploy_uploaded

    deploy_shipped(db, settings)
    policy = make_actor(db, "policy.lead", "policy", area=None)
    officer = make_actor(db, "officer.kent", "officer")
    deploy_uploaded(db, policy, _ending("s327a_consideration"))
    case_id = cases.create_case(db, officer, case_payload(cso=False))["id"]
    started = processes.start_process(db, officer, case_id, "local_review")
    assert (started["status"], started["handoff_pending"]) == ("completed", True)
    assert handoffs.sweep_handoffs(db).started == 1
    (follow_on,) = _follow_ons(db, started["id"])
    assert "decision_id" not in _start_data(db, follow_on), "no decision recorded: none passed"


def test_no_delivery_starts_without_a_decision_to_disclose(db, settings):
    """A delivery carries out a recorded decision: a hand-off from a process that decided
    nothing is refused (and retried), never started with no decision behind it."""
    from disclosure_engine.services.workflows import deploy_uploaded

    deploy_shipped(db, settings)
    policy = make_actor(db, "policy.lead", "policy", area=None)
    officer = make_actor(db, "officer.kent", "officer")
    deploy_uploaded(db, policy, _ending("disclosure_delivery"))
    case_id = cases.create_case(db, officer, case_payload(cso=False))["id"]
    started = processes.start_process(db, officer, case_id, "local_review")
    report = handoffs.sweep_handoffs(db)
    assert report.started == 0 and [pid for pid, _ in report.failed] == [started["id"]]
    assert "no current decision to disclose" in report.failed[0][1]
    assert _follow_ons(db, started["id"]) == []
    assert processes.get_process(db, officer, started["id"])["handoff_pending"] is True


def test_after_an_upgrade_running_considerations_hand_off_once_migrated(db, settings, tmp_path):
    """The release's path for a live deployment: considerations started on the old version
    (no hand-off property) stay on it and end without a delivery, unless a policy user
    migrates them to the new version; a migrated one hands off like a new one."""
    import shutil

    from disclosure_engine.services import migration
    from disclosure_engine.services.workflows import deploy_paths

    old = tmp_path / "old"
    shutil.copytree(WORKFLOWS_DIR, old, ignore=shutil.ignore_patterns("tests"))
    bpmn = old / "s327a_consideration.bpmn"
    text = bpmn.read_text()
    start = text.index("<bpmn:extensionElements>", text.index('id="end_disclose"'))
    end = text.index("</bpmn:extensionElements>", start) + len("</bpmn:extensionElements>")
    bpmn.write_text(text[:start] + text[end:])
    deploy_paths(db, SYSTEM, [bpmn, old / "disclosure_delivery.bpmn"], note="before hand-offs")
    staff = {role: make_actor(db, f"{role}.kent", role) for role in ("officer", "chair", "manager")}
    policy = make_actor(db, "policy.lead", "policy", area=None)
    _c1, stays = new_consideration(db, staff, "KNT-2026-000001")
    _c2, moves = new_consideration(db, staff, "KNT-2026-000002")
    deploy_paths(db, SYSTEM, [WORKFLOWS_DIR / "s327a_consideration.bpmn"], note="hand-off to delivery")
    done = migration.migrate_instances(db, policy, "s327a_consideration", 2, instance_ids=[moves])
    assert [m["id"] for m in done["migrated"]] == [moves], done
    for origin in (stays, moves):
        replay_path(db, staff, origin, "s327a_consideration", DISCLOSE)
    assert handoffs.sweep_handoffs(db).started == 1
    assert _follow_ons(db, stays) == [] and len(_follow_ons(db, moves)) == 1


def test_the_deliverys_records_carry_the_decision_they_deliver(db, staff):
    """record_delivery (and a reconsideration) write decision records of their own; each names
    the consideration's decision it delivers, as a context field of the record."""
    _case_id, consideration, decision_id = _disclosed(db, staff)
    handoffs.sweep_handoffs(db)
    (delivery,) = _follow_ons(db, consideration)
    done = replay_path(db, staff, delivery.id, "disclosure_delivery",
                       "undertaking refused, manager proceeds without it")
    assert done["process"]["status"] == "completed"
    records = decisions.list_decisions(db, staff["manager"], process_id=delivery.id, current_only=False)
    assert {r["decision_task"] for r in records} == {"reconsider_without_undertaking", "record_delivery"}
    assert all(r["decision_id"] == decision_id for r in records), records
    consideration_record = decisions.get_decision(db, staff["manager"], decision_id)
    assert consideration_record.get("decision_id") is None, "only a delivery's records name another decision"


CSODS_MANAGED = "right to know, managed offender, non-disclosure letter with s.327A hand-off"
CSODS_NOT_MANAGED = "presumption applies, other safeguarding action with rebuttal reasons"


def _csods(db, staff, reference: str, route: str = "right_to_know") -> tuple[int, int]:
    """A case that is not itself a child sex offender's (no consideration starts with it) and a
    Sarah's Law application about the person."""
    case = cases.create_case(db, staff["officer"], case_payload(reference, cso=False))
    started = processes.start_process(db, staff["officer"], case["id"], "csods_application",
                                      data={"scheme_route": route, "application_reference": "RTK-1"})
    return case["id"], started["id"]


def _waiting(db, case_id: int, key: str) -> list[ProcessInstance]:
    with db.transaction() as session:
        return [p for p in session.execute(select(ProcessInstance).where(
            ProcessInstance.case_id == case_id, ProcessInstance.status == "waiting")).scalars()
            if p.definition.key == key]


def test_a_csods_application_about_a_managed_offender_starts_the_s327a_consideration(db, staff):
    case_id, application = _csods(db, staff, "KNT-2026-000301")
    replay_path(db, staff, application, "csods_application", CSODS_MANAGED)
    assert handoffs.sweep_handoffs(db).started == 1
    (consideration,) = _follow_ons(db, application)
    assert consideration.case_id == case_id and consideration.definition.key == "s327a_consideration"
    assert _start_data(db, consideration)["application_reference"] == "RTK-1"
    assert _start_data(db, consideration)["trigger"] == "handoff"


def test_no_hand_off_when_the_offender_is_not_managed_or_a_consideration_is_running(db, staff):
    _case_id, application = _csods(db, staff, "KNT-2026-000302", "right_to_ask")
    replay_path(db, staff, application, "csods_application", CSODS_NOT_MANAGED)
    with db.transaction() as session:
        assert session.get(ProcessInstance, application).handoff_pending is False  # the condition is false
    assert handoffs.sweep_handoffs(db).pending == 0

    case_id, running = new_consideration(db, staff, reference="KNT-2026-000303")
    application = processes.start_process(db, staff["officer"], case_id, "csods_application",
                                          data={"scheme_route": "right_to_know"})["id"]
    replay_path(db, staff, application, "csods_application", CSODS_MANAGED)
    report = handoffs.sweep_handoffs(db)
    assert (report.pending, report.started, report.failed) == (1, 0, [])
    assert [p.id for p in _waiting(db, case_id, "s327a_consideration")] == [running]
    (event,) = audit.list_events(db, SYSTEM, action="process.handoff_not_needed", limit=10)
    assert event["detail"]["running_process"] == running
    with db.transaction() as session:
        assert session.get(ProcessInstance, application).handoff_pending is False


def test_one_decision_is_not_delivered_twice_at_once(db, staff):  # noqa: F811
    """A delivery started by hand before the sweep's hand-off is the one that runs (the sweep
    starts none), a second start by hand is refused while it runs, also for a corrected
    version of the decision, and allowed again once it has ended."""
    case_id, consideration = new_consideration(db, staff)
    replay_path(db, staff, consideration, "s327a_consideration", DISCLOSE)
    decision = _current_decision(db, consideration)
    by_hand = processes.start_process(db, staff["manager"], case_id, "disclosure_delivery",
                                      data={"decision_id": decision.id})
    report = handoffs.sweep_handoffs(db)
    assert (report.pending, report.started, report.failed) == (1, 0, [])
    assert _follow_ons(db, consideration) == []
    (skipped,) = audit.list_events(db, SYSTEM, action="process.handoff_not_needed")
    assert skipped["detail"]["running_process"] == by_hand["id"]

    with pytest.raises(ValidationFailed) as twice:
        processes.start_process(db, staff["manager"], case_id, "disclosure_delivery")
    assert f"Process {by_hand['id']} is already carrying out this decision" in twice.value.errors["data.decision_id"][0]
    corrected = decisions.supersede(db, staff["manager"], decision.id,
                                    {"information_disclosed": "The conviction for the offence against a child."},
                                    "The record left out what the meeting agreed to disclose.")
    with pytest.raises(ValidationFailed, match="Invalid start data"):
        processes.start_process(db, staff["manager"], case_id, "disclosure_delivery",
                                data={"decision_id": corrected["id"]})
    with db.transaction() as session:  # the first delivery ends (cancelled by the test)
        session.get(ProcessInstance, by_hand["id"]).status = "cancelled"
    again = processes.start_process(db, staff["manager"], case_id, "disclosure_delivery",
                                    data={"decision_id": corrected["id"]})
    assert again["status"] == "waiting"
