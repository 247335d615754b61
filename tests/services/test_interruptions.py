"""The urgent route interrupts the others: starting an urgent disclosure pauses the case's
running consideration (and CSODS application, and delivery) with a reason naming it; when it
ends, the sweep resumes them once, giving their deadlines the time back."""
from __future__ import annotations

import pytest

from disclosure_engine.domain.errors import Conflict
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.services import audit, cases, interruptions, pauses, processes, tasks

from .helpers import (  # noqa: F401 (staff is a fixture)
    case_payload,
    complete_step,
    new_consideration,
    replay_path,
    shipped_path,
    staff,
)

RATIFIED = "emergency disclosure authorised, made and ratified"
URGENT = "Urgent risk: emergency disclosure"
LEVEL1 = "level 1, presumption applies, disclose"


def _urgent(db, people, case_id: int) -> dict:
    return processes.start_process(db, people["officer"], case_id, "urgent_disclosure",
                                   data={"trigger": "police_report"})


def test_an_urgent_disclosure_pauses_the_consideration_until_it_ends(db, staff):  # noqa: F811
    case_id, consideration = new_consideration(db, staff)
    complete_step(db, staff["officer"], consideration, shipped_path("s327a_consideration", LEVEL1)[0])
    (waiting,) = processes.get_process(db, staff["officer"], consideration)["open_tasks"]
    assert waiting["element_id"] == "assess_tests"

    urgent = _urgent(db, staff, case_id)
    assert urgent["interrupted"] == [consideration] and urgent["paused"] is None
    view = processes.get_process(db, staff["manager"], consideration)
    assert view["paused"]["by_process"] == urgent["id"] and view["paused"]["by"] == "officer.kent"
    assert f"Interrupted by {URGENT} (process {urgent['id']})" in view["paused"]["reason"]
    assert [t["status"] for t in view["open_tasks"]] == ["paused"]
    with pytest.raises(Conflict, match="paused"):
        tasks.claim(db, staff["officer"], waiting["id"])
    assert interruptions.sweep_interruptions(db).pending == 0, "the urgent route is still running"

    replay_path(db, staff, urgent["id"], "urgent_disclosure", RATIFIED)
    assert processes.get_process(db, staff["manager"], urgent["id"])["status"] == "completed"
    swept = interruptions.sweep_interruptions(db)
    assert (swept.pending, swept.resumed, swept.failed) == (1, 1, [])
    view = processes.get_process(db, staff["manager"], consideration)
    assert view["paused"] is None and [t["status"] for t in view["open_tasks"]] == ["open"]
    assert processes.get_process(db, staff["manager"], urgent["id"])["interrupted"] == []
    assert interruptions.sweep_interruptions(db).pending == 0, "resumed once"

    (paused,) = audit.list_events(db, SYSTEM, action="process.paused", subject_id=str(consideration))
    (resumed,) = audit.list_events(db, SYSTEM, action="process.resumed", subject_id=str(consideration))
    assert paused["actor_name"] == "officer.kent" and paused["detail"]["by_process"] == urgent["id"]
    assert resumed["actor_name"] == "system" and resumed["detail"]["by_process"] == urgent["id"]
    assert "has ended at" in resumed["justification"]
    # the consideration carries on where it was
    complete_step(db, staff["officer"], consideration, shipped_path("s327a_consideration", LEVEL1)[1])


def test_only_running_unpaused_processes_of_the_same_case_are_interrupted(db, staff):  # noqa: F811
    case_id, consideration = new_consideration(db, staff)
    _other_case, elsewhere = new_consideration(db, staff, reference="KNT-2026-000002")
    pauses.pause(db, staff["manager"], consideration,
                 {"reason": "Waiting for the court's decision on the appeal, listed for 9 January."})
    urgent = _urgent(db, staff, case_id)
    assert urgent["interrupted"] == [], "paused by a person already: left as it is"
    assert processes.get_process(db, staff["manager"], elsewhere)["paused"] is None, "another case"
    assert processes.get_process(db, staff["manager"], consideration)["paused"]["by_process"] is None


def test_a_manager_may_resume_an_interrupted_process_early_and_the_sweep_then_leaves_it(db, staff):  # noqa: F811
    case_id, consideration = new_consideration(db, staff)
    urgent = _urgent(db, staff, case_id)
    assert urgent["interrupted"] == [consideration]
    second = _urgent(db, staff, case_id)
    assert second["interrupted"] == [], "the urgent route does not interrupt itself, nor the paused"
    with pytest.raises(Conflict, match="paused since"):
        pauses.pause(db, staff["manager"], consideration, {"reason": "Paused again for the court's decision."})
    pauses.resume(db, staff["manager"], consideration,
                  {"reason": "The emergency is in hand; the consideration must go on meanwhile."})
    replay_path(db, staff, urgent["id"], "urgent_disclosure", RATIFIED)
    assert interruptions.sweep_interruptions(db).pending == 0
    assert processes.get_process(db, staff["manager"], consideration)["paused"] is None


def test_a_csods_application_is_interrupted_too(db, staff):  # noqa: F811
    case_id = cases.create_case(db, staff["officer"], case_payload(cso=False))["id"]
    application = processes.start_process(db, staff["officer"], case_id, "csods_application",
                                          data={"scheme_route": "right_to_know"})
    assert _urgent(db, staff, case_id)["interrupted"] == [application["id"]]


def test_a_process_started_while_the_urgent_route_runs_waits_for_it_too(db, staff):  # noqa: F811
    case_id, consideration = new_consideration(db, staff)
    urgent = _urgent(db, staff, case_id)
    application = processes.start_process(db, staff["officer"], case_id, "csods_application",
                                          data={"scheme_route": "right_to_know"})
    assert application["paused"]["by_process"] == urgent["id"]
    assert f"Started while {URGENT} (process {urgent['id']})" in application["paused"]["reason"]
    assert [t["status"] for t in application["open_tasks"]] == ["paused"]
    assert processes.get_process(db, staff["manager"], urgent["id"])["interrupted"] == [consideration,
                                                                                        application["id"]]
    replay_path(db, staff, urgent["id"], "urgent_disclosure", RATIFIED)
    assert interruptions.sweep_interruptions(db).resumed == 2
    assert processes.get_process(db, staff["manager"], application["id"])["paused"] is None


def test_the_case_page_reads_every_process_as_one_read_would_and_audits_the_case_once(db, staff):  # noqa: F811
    """``case_processes`` (the case page) gives each process exactly as ``get_process`` does,
    interruptions, pauses, open tasks and history included, in one read that writes no
    ``process.viewed`` event per process (the page's ``case.viewed`` is the consultation)."""
    case_id, consideration = new_consideration(db, staff)
    complete_step(db, staff["officer"], consideration, shipped_path("s327a_consideration", LEVEL1)[0])
    csods = processes.start_process(db, staff["officer"], case_id, "csods_application",
                                    data={"scheme_route": "right_to_ask"})["id"]
    urgent = _urgent(db, staff, case_id)
    assert sorted(urgent["interrupted"]) == sorted([consideration, csods])
    before = len(audit.list_events(db, SYSTEM, action="process.viewed"))
    together = processes.case_processes(db, staff["manager"], case_id)
    assert len(audit.list_events(db, SYSTEM, action="process.viewed")) == before
    one_by_one = [processes.get_process(db, staff["manager"], p) for p in (consideration, csods, urgent["id"])]
    assert together == one_by_one
    assert together[2]["interrupted"] == sorted([consideration, csods]) and together[0]["paused"]["by"] == "officer.kent"
    assert together[0]["history"] and together[0]["open_tasks"]
