"""Marshmallow schemas for the authoring API (drafts, validation, draft diff, migration).

Kept apart from ``web.api.schemas`` so the public contract's core file stays readable; the
shapes mirror the plain dicts returned by ``services.drafts`` and ``services.migration``.
Input schemas refuse unknown fields (``Schema.Meta.unknown = RAISE``), so a misspelt
``all_safe`` can never silently migrate nothing or everything.
"""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from web.api.schemas import (
    DiffChanged,
    DiffElement,
    DiffFiles,
    FormFieldChanges,
    Schema,
    _dt,
)

MAX_ID = 2_147_483_647


class DraftCreate(Schema):
    from_version = f.Integer(allow_none=True, validate=v.Range(1, MAX_ID),
                             metadata={"description": "Deployed version to copy (default: the latest; "
                                                      "a key with no version starts from the template)"})
    name = f.String(allow_none=True, validate=v.Length(max=200),
                    metadata={"description": "Process name for a new workflow's template"})
    note = f.String(allow_none=True, validate=v.Length(max=2000))


class DraftSave(Schema):
    files = f.Dict(keys=f.String(validate=v.Length(1, 200)), values=f.String(), required=True,
                   metadata={"description": "The whole bundle: file name -> text (BPMN, DMN, "
                                            "*.schema.json, *.uischema.json). Replaces every file."})
    note = f.String(allow_none=True, validate=v.Length(max=2000))


class DraftOut(Schema):
    id = f.Integer()
    key = f.String()
    base_version = f.Integer(allow_none=True, metadata={"description": "Version it was copied from"})
    note = f.String(allow_none=True)
    files = f.List(f.String())
    created_by = f.String(allow_none=True)
    created_at = _dt()
    updated_by = f.String(allow_none=True)
    updated_at = _dt()


class DraftDetail(DraftOut):
    content = f.Dict(keys=f.String(), values=f.String(), metadata={"description": "File name to its text"})


class ProblemOut(Schema):
    file = f.String()
    line = f.Integer(allow_none=True)
    element_id = f.String(allow_none=True, metadata={"description": "BPMN element to highlight"})
    message = f.String()
    text = f.String(metadata={"description": "PATH:LINE: element-id: message"})


class PathResultOut(Schema):
    name = f.String()
    ok = f.Boolean()
    message = f.String(allow_none=True)


class ValidationOut(Schema):
    ok = f.Boolean(metadata={"description": "No problem and every path test passed: deployable"})
    problems = f.List(f.Nested(ProblemOut))
    paths = f.List(f.Nested(PathResultOut), metadata={"description": "The workflow's BPMN unit tests"})


class DraftDiffQuery(Schema):
    against = f.Integer(validate=v.Range(1, MAX_ID),
                        metadata={"description": "Deployed version to compare with (default: the one "
                                                 "the draft was copied from)"})


class DraftDiffOut(Schema):
    key = f.String()
    from_version = f.Integer(data_key="from")
    to_version = f.String(data_key="to", metadata={"description": "Always 'draft'"})
    layout_changed = f.List(f.String())
    forms = f.Dict(keys=f.String(), values=f.Nested(FormFieldChanges))
    added = f.List(f.Nested(DiffElement))
    removed = f.List(f.Nested(DiffElement))
    changed = f.List(f.Nested(DiffChanged))
    files = f.Nested(DiffFiles)


class DraftDeploy(Schema):
    note = f.String(required=True, validate=v.Length(max=2000),
                    metadata={"description": "Why this version exists (audited with the content hash)"})


class MigrationQuery(Schema):
    to = f.Integer(validate=v.Range(1, MAX_ID), metadata={"description": "Target version (default: latest)"})


class CandidateOut(Schema):
    id = f.Integer(metadata={"description": "Process id"})
    case_id = f.Integer()
    area = f.String()
    status = f.String()
    started_at = _dt()
    safe = f.Boolean()
    reasons = f.List(f.String(), metadata={"description": "Why it is not safe to move"})
    changed_elements = f.List(f.String())
    removed_elements = f.List(f.String())


class VersionCandidatesOut(Schema):
    version = f.Integer()
    safe = f.Integer(metadata={"description": "How many can move safely"})
    instances = f.List(f.Nested(CandidateOut))


class MigrationPlanOut(Schema):
    key = f.String()
    to_version = f.Integer()
    to_hash = f.String()
    versions = f.List(f.Nested(VersionCandidatesOut))


class MigrateIn(Schema):
    to = f.Integer(required=True, validate=v.Range(1, MAX_ID))
    instances = f.List(f.Integer(validate=v.Range(1, MAX_ID)), validate=v.Length(1, 10_000),
                       metadata={"description": "Process ids to migrate"})
    all_safe = f.Boolean(metadata={"description": "Migrate every instance that can move safely"})

    @ma.validates_schema
    def _one_of(self, data: dict, **_: object) -> None:
        if bool(data.get("instances")) == bool(data.get("all_safe")):
            raise ma.ValidationError("Give either instances or all_safe: true", "instances")


class MigratedOut(Schema):
    id = f.Integer(metadata={"description": "Process id"})
    migration_id = f.Integer(metadata={"description": "Use it to revert"})
    from_version = f.Integer()
    to_version = f.Integer()


class PastMigrationOut(Schema):
    id = f.Integer(metadata={"description": "Migration id (revert with POST /migrations/<id>/revert)"})
    process_id = f.Integer()
    area = f.String()
    from_version = f.Integer()
    to_version = f.Integer()
    from_hash = f.String()
    to_hash = f.String()
    migrated_by = f.String()
    migrated_at = _dt()
    reverts = f.Integer(allow_none=True, metadata={"description": "The migration this one reverted"})
    revertable = f.Boolean(metadata={"description": "False once the process has moved on"})


class SkippedOut(Schema):
    id = f.Integer()
    reasons = f.List(f.String())


class MigrationResultOut(Schema):
    key = f.String()
    to_version = f.Integer()
    migrated = f.List(f.Nested(MigratedOut))
    skipped = f.List(f.Nested(SkippedOut))
