"""Who may do a user task (claim it, save a draft, complete it), decided in one place.

- **The candidate role.** Holders of the task's candidate role may do it. An administrator who
  does not hold it may step in on an ordinary task, but not on one that records a decision
  (``records_decision``) or signs one off (it has a four-eyes rule): administrators keep the
  system running, they are not decision makers. They can still release and reassign any task
  (``tasks.release``, ``assignment.reassign``), which is what unblocking work needs.
- **The four-eyes rule.** A user task's ``not_completed_by`` property (policy-owned, in the BPMN)
  names earlier user tasks of the same workflow. Whoever completed the latest run of any of
  them in this process may not do this one: the officer who proposed a decision cannot sign it
  off, even if they also hold the chair role. A later run by someone else replaces theirs (a
  decision returned and proposed again by a colleague may then be signed off by the first).

Completion checks both on what it already read under the instance's lock (``task_lock`` reads
the actor's own latest steps with the task rows), so the hot path adds no query. Claiming,
drafting, reassigning and the task page read the rule from the task's workflow version (parsed
once per version) and the steps with one small query.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure_engine.domain.errors import Conflict, Forbidden
from disclosure_engine.domain.roles import Actor, Role
from disclosure_engine.engine import task_rules
from disclosure_engine.persistence.models import ProcessDefinition, ProcessInstance


def signs_off(task: Any, properties: Mapping[str, str] | None) -> bool:
    """Whether the task records a decision or signs one off (then only its role may do it)."""
    return bool(task.records_decision) or bool(task_rules.not_completed_by(properties or {}))


def role_refusal(actor: Actor, task: Any, properties: Mapping[str, str] | None = None) -> str | None:
    """Why ``actor``'s roles do not let them do the task, or None when they do. ``properties``
    are the task's BPMN properties; without them only ``records_decision`` marks a decision
    task (callers that can have a four-eyes rule pass them)."""
    if task.candidate_role in actor.roles:
        return None
    if actor.has_role(Role.ADMIN):
        if not signs_off(task, properties):
            return None
        return (f"This task records or signs off a decision, so only the {task.candidate_role} role may "
                "do it; as an administrator you can release it or reassign it")
    return f"This task is for the {task.candidate_role} role"


def may_work(actor: Actor, task: Any, properties: Mapping[str, str] | None = None) -> bool:
    return role_refusal(actor, task, properties) is None


def require_open(task: Any) -> None:
    if task.status == "paused":
        raise Conflict("This task's process is paused: a chair or manager resumes it before anyone can work on it")
    if task.status != "open":
        raise Conflict(f"This task is already {task.status}")


def require_holder(actor: Actor, task: Any, properties: Mapping[str, str] | None = None) -> None:
    """The task is unclaimed or the actor's, and the actor's roles let them do it."""
    if task.assignee_id is not None and task.assignee_id != actor.user_id:
        raise Conflict("This task is claimed by someone else")
    refusal = role_refusal(actor, task, properties)
    if refusal is not None:
        raise Forbidden(refusal)


def four_eyes_refusal(compiled: Any, task: Any, properties: Mapping[str, str], own_steps: frozenset[str],
                      *, who: str | None = None) -> str | None:
    """Why the four-eyes rule bars the user whose latest steps in the process are ``own_steps``
    (``who`` names them; None: the actor, "you"), or None when it does not."""
    for earlier in task_rules.not_completed_by(properties):
        if earlier in own_steps:
            done = task_rules.task_label(task_rules.human_task_spec(compiled, earlier), earlier)
            subject = f"{who} completed" if who else "You completed"
            return (f"{subject} ‘{done}’ in this process, so another {task.candidate_role} must do "
                    f"‘{task.name}’ (four-eyes rule)")
    return None


def require_four_eyes(compiled: Any, task: Any, properties: Mapping[str, str], own_steps: frozenset[str]) -> None:
    refusal = four_eyes_refusal(compiled, task, properties, own_steps)
    if refusal is not None:
        raise Forbidden(refusal)


# -- for a task row outside completion (claim, draft, reassign, the task page) ----------------

def task_setup(session: Session, task: Any) -> tuple[Any, dict[str, str]]:
    """The compiled workflow version of the task's process and the task's BPMN properties."""
    from disclosure_engine.services.workflows import compiled_by_id

    version = session.execute(
        select(ProcessInstance.definition_id, ProcessDefinition.content_hash)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id == task.instance_id)).one()
    compiled = compiled_by_id(session, version.definition_id, version.content_hash)
    spec = task_rules.human_task_spec(compiled, task.element_id)
    return compiled, (task_rules.spec_properties(spec) if spec is not None else {})


def refusal_for(session: Session, actor: Actor, task: Any) -> str | None:
    """Why ``actor`` may not do the task (role, administrator, four-eyes), or None."""
    from disclosure_engine.services.task_lock import own_latest_steps

    compiled, properties = task_setup(session, task)
    refusal = role_refusal(actor, task, properties)
    if refusal is None and task_rules.not_completed_by(properties):
        refusal = four_eyes_refusal(compiled, task, properties,
                                    own_latest_steps(session, task.instance_id, actor.user_id))
    return refusal


def require_may_do(session: Session, actor: Actor, task: Any) -> None:
    refusal = refusal_for(session, actor, task)
    if refusal is not None:
        raise Forbidden(refusal)


def barred_by_four_eyes(session: Session, task: Any, users: Mapping[int, str]) -> dict[int, str]:
    """Of ``users`` (id -> username), those the four-eyes rule bars from the task, with why."""
    from disclosure_engine.services.task_lock import latest_completers

    compiled, properties = task_setup(session, task)
    named = task_rules.not_completed_by(properties)
    if not named:
        return {}
    completers = latest_completers(session, task.instance_id, named)
    barred: dict[int, str] = {}
    for user_id, username in users.items():
        steps = frozenset(element for element, by in completers.items() if by == user_id)
        refusal = four_eyes_refusal(compiled, task, properties, steps, who=username)
        if refusal is not None:
            barred[user_id] = refusal
    return barred
