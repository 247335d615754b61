"""Marshmallow schemas of the public contract (design brief section 3), for parsing and OpenAPI.

Output schemas mirror the plain-dict views in ``disclosure_engine.services.views`` (the one
place shapes are built); a field a view can leave empty is ``allow_none`` so the OpenAPI
document says ``nullable``. Query schemas refuse unknown parameters (a misspelt filter must
not silently widen an export). The case input schema documents the shape; the domain
validator (``disclosure_engine.domain.cases``) decides validity and words the field errors.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from disclosure_engine.domain.areas import AREA_SLUGS
from disclosure_engine.domain.cases import DISPOSALS, INCHOATE_KINDS, LEAD_AGENCIES
from disclosure_engine.domain.vocabulary import DECISION_FIELDS, DECISION_OUTCOMES
from disclosure_engine.services.decisions import CONTEXT_FIELDS
from disclosure_engine.services.tasks import SCOPES

DATETIME = {"format": "date-time"}


def _dt(**kw: object) -> f.String:
    return f.String(allow_none=True, metadata={**DATETIME, **kw})


class Schema(ma.Schema):
    class Meta:
        ordered = True
        unknown = ma.RAISE


# -- queries ----------------------------------------------------------------------------------

class QuerySchema(Schema):
    """Query parameters: an empty value (``?area=&outcome=``, as a form with blank filters
    sends them) means the filter is not given, not an invalid value."""

    @ma.pre_load
    def _drop_blanks(self, data: object, **_: object) -> object:
        if hasattr(data, "items"):
            return {key: value for key, value in data.items() if value != ""}  # type: ignore[union-attr]
        return data


class DayOrInstant(f.Field):
    """``YYYY-MM-DD`` (a whole UTC day) or an ISO 8601 date-time with an offset (that instant)."""

    default_error_messages = {"invalid": "Not a valid date (YYYY-MM-DD) or date-time (ISO 8601 with an offset)."}

    def _deserialize(self, value: object, attr: object, data: object, **kwargs: object) -> object:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid") from None
        if moment.tzinfo is None:
            raise self.make_error("invalid")
        return moment.astimezone(timezone.utc)


# -- pagination -------------------------------------------------------------------------------

class PageQuery(QuerySchema):
    limit = f.Integer(load_default=50, validate=v.Range(1, 200),
                      metadata={"description": "Page size (1-200)"})
    offset = f.Integer(load_default=0, validate=v.Range(0, 10_000_000),
                       metadata={"description": "Items to skip"})


class PageMeta(Schema):
    total = f.Integer(allow_none=True, metadata={"description": "Items matching the filters (the decision "
                                                   "log counts exactly up to 1,000: see total_capped)"})
    total_capped = f.Boolean(metadata={"description": "True when more items match than total says (decision log)"})
    limit = f.Integer()
    offset = f.Integer()


# -- areas ------------------------------------------------------------------------------------

class AreaOut(Schema):
    slug = f.String(metadata={"example": "kent"})
    name = f.String(metadata={"example": "Kent"})


class AreaDetail(AreaOut):
    review_periods = f.Dict(keys=f.String(), values=f.String(allow_none=True), metadata={
        "description": "By MAPPA level (\"1\", \"2\", \"3\"): how long after a case's last s.327A consideration "
                       "completed the next starts (ISO 8601), or null: no automatic review",
        "example": {"1": None, "2": "P16W", "3": "P8W"}})


class ReviewPeriodsIn(Schema):
    """Levels left out keep their period; the service checks each (P1W to P104W, or null)."""

    level_1 = f.String(allow_none=True, metadata={"example": "P26W"})
    level_2 = f.String(allow_none=True, metadata={"example": "P16W"})
    level_3 = f.String(allow_none=True, metadata={"example": None})


# -- cases ------------------------------------------------------------------------------------

class OffenderRefs(Schema):
    visor_ref = f.String(allow_none=True, metadata={"pattern": "^[A-Za-z0-9/-]{1,40}$"})
    pnc_ref = f.String(allow_none=True, metadata={"pattern": "^[A-Za-z0-9/-]{1,40}$"})
    ndelius_crn = f.String(allow_none=True, metadata={"pattern": "^[A-Za-z0-9/-]{1,40}$"})


class EquivalenceOpinion(Schema):
    equivalent_statute = f.String(required=True)
    equivalent_section = f.String(required=True)
    reasons = f.String(required=True, metadata={"description": "At least 20 characters; not a placeholder"})
    by = f.String(required=True)


class ConvictionIn(Schema):
    statute = f.String(required=True, metadata={"example": "Sexual Offences Act 2003"})
    section = f.String(required=True, metadata={"example": "9"})
    date = f.Date(required=True, metadata={"description": "YYYY-MM-DD, today or earlier"})
    disposal = f.String(required=True, validate=v.OneOf(DISPOSALS))
    victim_age = f.Integer(allow_none=True, validate=v.Range(0, 120))
    jurisdiction = f.String(load_default="england-wales",
                            metadata={"description": "\"england-wales\" or a country slug"})
    inchoate = f.String(allow_none=True, validate=v.OneOf(INCHOATE_KINDS))
    condition_met = f.Boolean(allow_none=True)
    statute_confirmed = f.Boolean(allow_none=True, metadata={
        "description": "The statute is right as recorded (answers a check_statute question)"})
    equivalence_opinion = f.Nested(EquivalenceOpinion, allow_none=True)


class CaseIn(Schema):
    """A case as sent; the domain validator gives the field errors (422) with dotted paths."""

    reference = f.String(required=True, metadata={"example": "KNT-2026-000123",
                                                  "pattern": "^[A-Za-z0-9/-]{3,40}$"})
    area = f.String(required=True, validate=v.OneOf(AREA_SLUGS))
    category = f.Integer(required=True, validate=v.Range(1, 4))
    level = f.Integer(required=True, validate=v.Range(1, 3))
    lead_agency = f.String(required=True, validate=v.OneOf(LEAD_AGENCIES))
    offender = f.Nested(OffenderRefs)
    convictions = f.List(f.Nested(ConvictionIn), required=True, validate=v.Length(1, 200))


class ConvictionsAmendIn(Schema):
    """The whole corrected list of convictions and why; the domain validator gives the field
    errors (422) with dotted paths (``convictions.0.victim_age``, ``reason``)."""

    convictions = f.List(f.Nested(ConvictionIn), required=True, validate=v.Length(1, 200))
    reason = f.String(required=True, metadata={
        "description": "Why the convictions change (at least 20 characters; not a placeholder). Kept in the "
                       "audit log with the list before and after",
        "example": "Victim's date of birth confirmed from the CPS file: she was 15 at the time."})


class CaseLevelIn(Schema):
    """The case's new MAPPA level and why; the domain validator gives the field errors (422)."""

    level = f.Integer(required=True, validate=v.Range(1, 3), metadata={
        "description": "The new MAPPA level (1 to 3), not the one the case is at", "example": 3})
    reason = f.String(required=True, metadata={
        "description": "Why the level changes (at least 20 characters; not a placeholder). Kept in the audit log",
        "example": "MAPP meeting of 1 December raised the case to level 3: new intelligence of contact with a child."})


class Schedule34AQuestion(Schema):
    conviction_index = f.Integer(metadata={"description": "Position in convictions (0-based)"})
    paragraph = f.String(allow_none=True)
    kind = f.String(metadata={"description": "needs_victim_age | needs_condition | needs_equivalence_opinion | "
                                             "check_statute | check_section"})
    note = f.String(metadata={"description": "What to record"})
    suggestion = f.String(metadata={"description": "check_statute only: the listed statute it may be a slip for"})


class ConvictionOut(Schema):
    statute = f.String()
    section = f.String()
    date = f.String(metadata={"format": "date"})
    disposal = f.String()
    victim_age = f.Integer(allow_none=True)
    jurisdiction = f.String()
    inchoate = f.String(allow_none=True)
    equivalence_opinion = f.Dict(allow_none=True)
    condition_met = f.Boolean(allow_none=True)
    statute_confirmed = f.Boolean(allow_none=True)


class ProcessSummary(Schema):
    id = f.Integer()
    workflow = f.String()
    version = f.Integer()
    status = f.String(metadata={"description": "waiting | completed | error | cancelled"})


class CaseOut(Schema):
    id = f.Integer()
    reference = f.String()
    area = f.String()
    category = f.Integer()
    level = f.Integer()
    lead_agency = f.String()
    offender = f.Nested(OffenderRefs)
    convictions = f.List(f.Nested(ConvictionOut))
    child_sex_offender = f.Boolean()
    schedule_34a_matches = f.List(f.Dict())
    schedule_34a_version = f.String(allow_none=True)
    schedule_34a_notes = f.List(f.Raw(), metadata={"description": "Only when the case is created"})
    schedule_34a_review = f.List(f.Nested(Schedule34AQuestion), metadata={
        "description": "Questions a person must answer before the Schedule 34A matching is complete (answer them "
                       "with PUT /cases/<id>/convictions)"})
    schedule_34a_review_needed = f.Boolean(metadata={
        "description": "Nothing matches yet but something might once those questions are answered: whether the "
                       "s.327A duty applies is undecided"})
    consideration_started = f.Integer(allow_none=True, metadata={
        "description": "Only after a change of convictions: the s.327A consideration it started, if any"})
    notices = f.List(f.String(), metadata={
        "description": "Only after a change of convictions or level: what to look at next"})
    processes_updated = f.List(f.Integer(), metadata={
        "description": "Only after a change of level: the running processes whose steps still to come now carry "
                       "the new mappa_level"})
    created_at = _dt()
    next_review_at = _dt(description="When the next s.327A consideration starts by itself (the MAPPA review "
                                     "after the last one completed, by the area's period for the level); null: none")
    processes = f.List(f.Nested(ProcessSummary))


class CaseSummary(Schema):
    id = f.Integer()
    reference = f.String()
    area = f.String()
    category = f.Integer()
    level = f.Integer()
    child_sex_offender = f.Boolean()
    schedule_34a_review_needed = f.Boolean()


class CaseQuery(PageQuery):
    area = f.String(validate=v.OneOf(AREA_SLUGS))
    reference = f.String(validate=v.Length(1, 40))
    visor_ref = f.String(validate=v.Length(1, 40), metadata={"description": "the offender's ViSOR reference, "
                                                                             "exactly as recorded"})
    needs_review = f.Boolean(metadata={"description": "true: only cases waiting for a Schedule 34A judgement "
                                                      "(schedule_34a_review_needed); false: only the others"})


class CasePage(PageMeta):
    items = f.List(f.Nested(CaseSummary))


# -- processes --------------------------------------------------------------------------------

class ProcessStart(Schema):
    workflow = f.String(required=True, validate=v.Length(1, 128), metadata={"example": "disclosure_delivery"})
    version = f.Integer(allow_none=True, validate=v.Range(1, 1_000_000),
                        metadata={"description": "A deployed version; the latest when left out"})
    data = f.Dict(keys=f.String(), allow_none=True, metadata={
        "description": "Start fields the workflow reads (short text, numbers or yes/no; snake_case names), "
                       "e.g. {\"decision_id\": 42, \"legal_basis\": \"s327a\"} for disclosure_delivery. "
                       "A decision_id must name a current decision of this case with the outcome the workflow "
                       "takes (disclosure_delivery: disclose), else 422 on data.decision_id. The case's own "
                       "facts always come from the case.",
        "example": {"decision_id": 42, "legal_basis": "s327a"}})


class TaskSummary(Schema):
    id = f.Integer()
    case_id = f.Integer()
    process_id = f.Integer()
    workflow = f.String()
    element_id = f.String()
    name = f.String()
    candidate_role = f.String()
    area = f.String(allow_none=True)
    assignee = f.String(allow_none=True, metadata={"description": "Username of the holder"})
    status = f.String(metadata={"description": "open | completed | cancelled"})
    created_at = _dt()
    completed_at = _dt()
    due_at = _dt()
    overdue = f.Boolean()
    escalation_level = f.Integer()
    records_decision = f.Boolean()
    instructions = f.String(allow_none=True)


class EscalationStepOut(Schema):
    level = f.Integer(metadata={"description": "1 reminded, 2 overdue, 3 escalated"})
    kind = f.String(metadata={"description": "reminded | overdue | escalated"})
    at = f.String(metadata={"description": "when the step was recorded"})
    scheduled_at = f.String(metadata={"description": "when it was due"})
    target_role = f.String(allow_none=True)
    recipients = f.Integer(metadata={"description": "how many people were told"})


class TaskOut(TaskSummary):
    escalation_history = f.List(f.Nested(EscalationStepOut), metadata={"description": "reminders, overdue notice, escalation"})
    form = f.Dict(metadata={"description": "JSON Schema of the task's form"})
    data = f.Dict(allow_none=True, metadata={"description": "Submitted data (completed) or the saved draft"})


class HistoryItem(Schema):
    task_id = f.Integer()
    element_id = f.String()
    name = f.String()
    status = f.String()
    completed_by = f.String(allow_none=True)
    completed_at = _dt()
    created_at = _dt()


class PauseInfo(Schema):
    at = _dt(description="When the process was paused")
    reason = f.String()
    by = f.String(allow_none=True)


class PauseIn(Schema):
    reason = f.String(required=True, metadata={
        "description": "Why the process is paused or resumed (at least 20 characters; not a placeholder)",
        "example": "Applicant abroad until 14 December; identity check cannot be done before then."})


class PauseOut(Schema):
    id = f.Integer()
    status = f.String()
    paused = f.Nested(PauseInfo, allow_none=True)
    next_timer_at = _dt()


class ProcessOut(ProcessSummary):
    case_id = f.Integer()
    area = f.String()
    started_at = _dt()
    completed_at = _dt()
    end_event = f.String(allow_none=True)
    next_timer_at = _dt()
    started_from = f.Integer(allow_none=True, metadata={
        "description": "The process whose end started this one (a hand-off, e.g. a decision to disclose "
                       "starting disclosure_delivery); null when started by hand or with the case"})
    handoff_pending = f.Boolean(metadata={
        "description": "Ended at a hand-off whose follow-on process the next sweep starts"})
    paused = f.Nested(PauseInfo, allow_none=True, metadata={
        "description": "While paused (POST .../pause): when, why and by whom; its open tasks are then 'paused' "
                       "and its deadlines wait. null while it runs"})
    open_tasks = f.List(f.Nested(TaskSummary))
    history = f.List(f.Nested(HistoryItem))


# -- tasks ------------------------------------------------------------------------------------

class TaskQuery(PageQuery):
    scope = f.String(load_default="all", validate=v.OneOf(SCOPES),
                     metadata={"description": "mine: held by me; available: unclaimed for my roles; "
                                              "all (the default): everything I may see"})
    status = f.String(load_default="open", validate=v.OneOf(("open", "paused", "completed", "cancelled")), metadata={
        "description": "paused: the open tasks of paused processes (they wait until the process resumes)"})
    overdue = f.Boolean(metadata={"description": "true: past due; false: not past due"})
    case_id = f.Integer(validate=v.Range(1, 2**31 - 1))
    process_id = f.Integer(validate=v.Range(1, 2**31 - 1))
    area = f.String(validate=v.OneOf(AREA_SLUGS))
    workflow = f.String(validate=v.Length(1, 128))


class TaskPage(PageMeta):
    items = f.List(f.Nested(TaskSummary))


class TaskData(Schema):
    data = f.Dict(keys=f.String(), required=True,
                  metadata={"description": "Form fields, as described by the task's form (JSON Schema)"})


class NextTask(Schema):
    id = f.Integer()
    name = f.String()
    candidate_role = f.String()
    due_at = _dt()


class ProcessState(Schema):
    id = f.Integer()
    status = f.String()
    end_event = f.String(allow_none=True)


class CompleteOut(Schema):
    task = f.Nested(TaskOut)
    process = f.Nested(ProcessState)
    next_tasks = f.List(f.Nested(NextTask))
    decision_id = f.Integer(allow_none=True, metadata={"description": "The decision record written, if any"})
    ignored_fields = f.List(f.String(), metadata={
        "description": "Submitted fields the task's form does not declare: dropped, never stored in the process's "
                       "data (so no submission can set a variable a gateway or later step reads)"})


# -- decisions --------------------------------------------------------------------------------

class DecisionVersion(Schema):
    id = f.Integer()
    version = f.Integer()
    supersedes = f.Integer(allow_none=True)
    supersede_reason = f.String(allow_none=True)
    decided_by = f.String()
    decided_at = _dt()


_decision_fields: dict[str, f.Field] = {
    "id": f.Integer(),
    "case_id": f.Integer(),
    "process_id": f.Integer(),
    "workflow": f.String(),
    "version": f.Integer(),
    "supersedes": f.Integer(allow_none=True, metadata={"description": "Id of the version this corrects"}),
    "supersede_reason": f.String(allow_none=True),
    "current": f.Boolean(metadata={"description": "False when a newer version supersedes this one"}),
    "case_reference": f.String(allow_none=True),
    "area": f.String(allow_none=True),
    "offender": f.Dict(allow_none=True),
    "mappa_category": f.Integer(allow_none=True),
    "mappa_level": f.Integer(allow_none=True),
    "schedule_34a_matches": f.Raw(allow_none=True),
    "decision_task": f.String(allow_none=True),
}
for _name in (*DECISION_FIELDS, *CONTEXT_FIELDS):
    _decision_fields[_name] = f.Raw(allow_none=True, dump_default=None,
                                    metadata={"description": "Decision vocabulary (design section 4)"
                                              if _name in DECISION_FIELDS else "Process context"})
_decision_fields.update({
    "step_answers": f.Dict(keys=f.String(), values=f.Raw(allow_none=True), metadata={
        "description": "Other reasons and outcomes the process recorded on the way (for example the "
                       "chair's reasons, the ratification outcome), by form field name"}),
    "decided_by": f.String(metadata={"description": "Username of who recorded this version"}),
    "decided_at": _dt(),
    "overdue_at_decision": f.Boolean(),
})
DecisionOut = Schema.from_dict(_decision_fields, name="Decision")
DecisionDetail = Schema.from_dict({**_decision_fields, "versions": f.List(f.Nested(DecisionVersion))},
                                  name="DecisionDetail")


class DecisionQuery(PageQuery):
    limit = f.Integer(load_default=50, validate=v.Range(1, 500), metadata={"description": "Page size (1-500)"})
    area = f.String(validate=v.OneOf(AREA_SLUGS))
    outcome = f.String(validate=v.OneOf(DECISION_OUTCOMES))
    date_from = DayOrInstant(data_key="from", metadata={
        "type": "string", "description": "Decided on or after: a day (YYYY-MM-DD, UTC, from its start) "
                                         "or an instant (ISO 8601 date-time with an offset)"})
    date_to = DayOrInstant(data_key="to", metadata={
        "type": "string", "description": "Decided on or before: a day (YYYY-MM-DD, UTC, to its end) "
                                         "or an instant (ISO 8601 date-time with an offset)"})
    workflow = f.String(validate=v.Length(1, 128))
    officer = f.String(validate=v.Length(1, 64), metadata={"description": "Username who decided"})
    presumption_applied = f.Boolean()
    overdue_at_decision = f.Boolean()
    case_id = f.Integer(validate=v.Range(1, 2**31 - 1))
    process_id = f.Integer(validate=v.Range(1, 2**31 - 1))
    include_superseded = f.Boolean(load_default=False,
                                   metadata={"description": "Also list versions that were corrected"})
    format = f.String(load_default="json", validate=v.OneOf(("json", "csv")),
                      metadata={"description": "csv: stream every matching row as text/csv "
                                               "(audited, with the justification if one is given)"})
    justification = f.String(validate=v.Length(1, 2000),
                             metadata={"description": "Why you export (format=csv); or the "
                                                      "X-Justification header"})

    @ma.validates_schema
    def _range(self, data: dict, **_: object) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and _instant(start, end=False) > _instant(end, end=True):
            raise ma.ValidationError("The start date must be on or before the end date", "from")


def _instant(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value
    start = datetime.combine(value, datetime.min.time(), tzinfo=timezone.utc)
    return start.replace(hour=23, minute=59, second=59, microsecond=999999) if end else start


class ExportHeaders(ma.Schema):
    """The one request header the decision log reads (every other header is left alone)."""

    class Meta:
        unknown = ma.EXCLUDE

    header_justification = f.String(data_key="X-Justification", validate=v.Length(1, 2000), metadata={
        "description": "Why you export (format=csv); alternative to ?justification="})


class DecisionPage(PageMeta):
    items = f.List(f.Nested(DecisionOut))


class SupersedeIn(Schema):
    changes = f.Dict(keys=f.String(), required=True,
                     metadata={"description": "Decision vocabulary fields and their corrected values"})
    reason = f.String(required=True, validate=v.Length(1, 5000),
                      metadata={"description": "Why the record is corrected (at least 20 characters)"})


# -- audit ------------------------------------------------------------------------------------

class AuditQuery(QuerySchema):
    subject = f.String(validate=v.Length(1, 100),
                       metadata={"description": "TYPE:ID, e.g. case:12 (same as subject_type + subject_id)"})
    subject_type = f.String(validate=v.Length(1, 32))
    subject_id = f.String(validate=v.Length(1, 64))
    action = f.String(validate=v.Length(1, 64), metadata={"example": "case.viewed"})
    limit = f.Integer(load_default=100, validate=v.Range(1, 500))
    before = f.Integer(validate=v.Range(1, 2**62), metadata={"description": "Only events with seq below this "
                                                                            "(the previous page's next_before)"})


class AuditEventOut(Schema):
    seq = f.Integer()
    occurred_at = _dt()
    actor_id = f.Integer(allow_none=True)
    actor_name = f.String()
    action = f.String()
    subject_type = f.String()
    subject_id = f.String()
    area = f.String(allow_none=True)
    justification = f.String(allow_none=True)
    recipient = f.String(allow_none=True)
    source = f.String(allow_none=True)
    detail = f.Dict(allow_none=True)
    prev_hash = f.String()
    hash = f.String()


class AuditPage(Schema):
    items = f.List(f.Nested(AuditEventOut))
    limit = f.Integer()
    next_before = f.Integer(allow_none=True, metadata={"description": "Pass as before= for the next page; "
                                                                      "null on the last page"})


class ChainReportOut(Schema):
    ok = f.Boolean()
    count = f.Integer()
    broken_seq = f.Integer(allow_none=True)
    reason = f.String(allow_none=True)
    line = f.String(metadata={"description": "What `disclosure-engine audit verify` prints"})


# -- workflows --------------------------------------------------------------------------------

class WorkflowVersionOut(Schema):
    key = f.String()
    version = f.Integer()
    content_hash = f.String()
    primary_file = f.String()
    note = f.String(allow_none=True)
    deployed_by = f.String(allow_none=True)
    deployed_at = _dt()
    files = f.List(f.String())


class WorkflowVersionDetail(WorkflowVersionOut):
    content = f.Dict(keys=f.String(), values=f.String(), metadata={"description": "File name to its text"})


class WorkflowOut(Schema):
    key = f.String()
    latest_version = f.Integer()
    versions = f.List(f.Nested(WorkflowVersionOut))


class DeployOut(Schema):
    key = f.String()
    version = f.Integer()
    content_hash = f.String()
    created = f.Boolean(metadata={"description": "False when identical content was already deployed"})


class DiffQuery(QuerySchema):
    from_version = f.Integer(data_key="from", required=True, validate=v.Range(1, 1_000_000))
    to_version = f.Integer(data_key="to", required=True, validate=v.Range(1, 1_000_000))


class DiffElement(Schema):
    id = f.String()
    type = f.String()
    name = f.String(allow_none=True)


class ValueChange(Schema):
    before = f.Raw(allow_none=True, data_key="from")
    after = f.Raw(allow_none=True, data_key="to")


class DiffChanged(DiffElement):
    changes = f.Dict(keys=f.String(), values=f.Nested(ValueChange),
                     metadata={"description": "type, name, or property:NAME -> {from, to}"})


class DiffFiles(Schema):
    added = f.List(f.String())
    removed = f.List(f.String())
    changed = f.List(f.String())


class FormFieldChanges(Schema):
    added = f.List(f.String())
    removed = f.List(f.String())
    changed = f.List(f.String())


class DiffOut(Schema):
    key = f.String()
    from_version = f.Integer(data_key="from")
    to_version = f.Integer(data_key="to")
    from_hash = f.String()
    to_hash = f.String()
    layout_changed = f.List(f.String(), metadata={"description": "elements only moved on the diagram"})
    forms = f.Dict(keys=f.String(), values=f.Nested(FormFieldChanges),
                   metadata={"description": "form file -> fields added, removed, changed"})
    added = f.List(f.Nested(DiffElement))
    removed = f.List(f.Nested(DiffElement))
    changed = f.List(f.Nested(DiffChanged))
    files = f.Nested(DiffFiles)
