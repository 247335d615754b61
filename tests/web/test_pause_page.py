"""Pause and resume from the case page: for chairs and managers of the case's area, with the
reason; the case and task pages say the process is paused and why."""
from __future__ import annotations

from datetime import datetime

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.services import processes as process_service
from tests.web.conftest import csrf_token
from web.ui.filters import uk_datetime

WHY = "Partner agency check outstanding: the health visitor is on leave until the 14th."


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_a_manager_pauses_and_resumes_a_process_from_the_case_page(world, signed_in, make_case):
    case = make_case(level=1)
    process_id = case["processes"][0]["id"]
    c = signed_in("manager.kent")
    page = _html(c.get(f"/cases/{case['id']}"))
    url = f"/processes/{process_id}/pause"
    assert f'href="{url}">Pause this process' in page
    form = _html(c.get(url))
    assert 'for="reason">Why the process is being paused</label>' in form

    refused = c.post(url, data={"csrf_token": csrf_token(c, url), "reason": "n/a"})
    assert refused.status_code == 422 and "There is a problem" in _html(refused)
    assert process_service.get_process(world["db"], SYSTEM, process_id)["paused"] is None

    done = c.post(url, data={"csrf_token": csrf_token(c, url), "reason": WHY})
    assert done.status_code == 302
    paused_page = _html(c.get(f"/cases/{case['id']}"))
    assert "Paused since" in paused_page and "health visitor" in paused_page
    assert f'href="/processes/{process_id}/resume">Resume this process' in paused_page
    (task,) = process_service.get_process(world["db"], SYSTEM, process_id)["open_tasks"]
    officer = signed_in("officer.kent")
    assert "its process is paused" in _html(officer.get(f"/tasks/{task['id']}"))
    assert officer.get(f"/processes/{process_id}/resume").status_code == 403
    work = _html(c.get("/work?view=paused"))
    assert "Paused (1)" in work and f'href="/tasks/{task["id"]}"' in work and "Reassign" not in work

    resume = f"/processes/{process_id}/resume"
    back = c.post(resume, data={"csrf_token": csrf_token(c, resume), "reason": "The health visitor is back at work."})
    assert back.status_code == 302
    assert process_service.get_process(world["db"], SYSTEM, process_id)["paused"] is None
    assert "Paused since" not in _html(c.get(f"/cases/{case['id']}"))
    assert signed_in("officer.essex").get(resume).status_code == 404


def test_resuming_says_when_the_representations_window_now_closes(world, signed_in, make_case):
    from datetime import timedelta

    from disclosure_engine.engine.path_tests import resolve_placeholders
    from disclosure_engine.persistence.models import utcnow
    from disclosure_engine.services import pauses, tasks
    from tests.web.conftest import actor, open_task, step_data

    db = world["db"]
    process_id = make_case(level=1)["processes"][0]["id"]
    officer = actor(db, "officer.kent")
    path = "representations sought and received"
    for element in ("identify_children", "assess_tests", "assess_proportionality", "consider_representations"):
        data = resolve_placeholders(step_data(path, element), utcnow())
        tasks.complete(db, officer, open_task(db, process_id, element).id, data)
    window = datetime.fromisoformat(process_service.get_process(db, SYSTEM, process_id)["next_timer_at"])
    pauses.pause(db, actor(db, "manager.kent"), process_id, {"reason": WHY}, now=utcnow() - timedelta(days=20))

    c = signed_in("manager.kent")
    resume = f"/processes/{process_id}/resume"
    back = c.post(resume, data={"csrf_token": csrf_token(c, resume), "reason": "The health visitor is back at work."},
                  follow_redirects=True)
    closes = window + timedelta(days=20)
    assert f"“28-day window lapsed” now falls due on {uk_datetime(closes)}." in _html(back)
    assert datetime.fromisoformat(process_service.get_process(db, SYSTEM, process_id)["next_timer_at"]) == closes
