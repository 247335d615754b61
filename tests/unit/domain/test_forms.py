"""Form validation: conditional rules land on the field to fill, messages are human."""
from __future__ import annotations

from datetime import date

import pytest

from disclosure_engine.domain.forms import (
    FORM_KEY,
    apply_defaults,
    apply_read_only,
    check_form_schema,
    coerce_submission,
    validate_submission,
)

GOOD_REASON = "The offender has unsupervised contact with the children at weekends."

DECISION_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["serious_harm_risk", "disclosure_necessary", "decision", "decision_reasons"],
    "properties": {
        "serious_harm_risk": {"title": "Serious harm risk", "type": "string", "enum": ["yes", "no"]},
        "serious_harm_reasons": {"title": "Serious harm reasons", "type": "string"},
        "disclosure_necessary": {"title": "Whether disclosure is necessary", "type": "string",
                                 "enum": ["yes", "no"]},
        "decision": {"title": "Decision", "type": "string",
                     "enum": ["disclose", "do_not_disclose", "defer"]},
        "decision_reasons": {"title": "Reasons for the decision", "type": "string"},
        "presumption_rebuttal_reasons": {"title": "Presumption rebuttal reasons", "type": "string"},
        "review_date": {"title": "Review date", "type": "string", "format": "date"},
        "conditions_note": {"title": "Conditions note", "type": "string", "x-reason": True},
        "recipients": {"title": "Recipients", "type": "array", "minItems": 1,
                       "items": {"type": "object", "required": ["relationship"],
                                 "properties": {"relationship": {"title": "Relationship",
                                                                 "type": "string"}}}},
        "representations_sought": {"title": "Representations sought", "type": "boolean"},
        "attendees": {"title": "Attendees", "type": "integer", "minimum": 1},
    },
    "dependentRequired": {"serious_harm_risk": ["serious_harm_reasons"]},
    "allOf": [
        {"if": {"properties": {"serious_harm_risk": {"const": "yes"},
                               "disclosure_necessary": {"const": "yes"},
                               "decision": {"not": {"const": "disclose"}}},
                "required": ["serious_harm_risk", "disclosure_necessary", "decision"]},
         "then": {"required": ["presumption_rebuttal_reasons"]}},
        {"if": {"properties": {"decision": {"const": "defer"}}, "required": ["decision"]},
         "then": {"required": ["review_date"]},
         "else": {"not": {"required": ["review_date"]}}},
    ],
}


def valid(**overrides):
    data = {"serious_harm_risk": "no", "serious_harm_reasons": GOOD_REASON,
            "disclosure_necessary": "no", "decision": "do_not_disclose",
            "decision_reasons": GOOD_REASON}
    data.update(overrides)
    return data


def test_valid_submission_has_no_errors():
    assert validate_submission(DECISION_FORM, valid()) == {}


def test_required_missing_uses_title_and_verb():
    errors = validate_submission(DECISION_FORM, {})
    assert errors["decision_reasons"] == ["Enter the reasons for the decision"]
    assert errors["decision"] == ["Select decision"]
    assert errors["serious_harm_risk"] == ["Select serious harm risk"]


def test_then_required_is_reported_on_the_missing_property():
    errors = validate_submission(DECISION_FORM, valid(
        serious_harm_risk="yes", disclosure_necessary="yes", decision="do_not_disclose"))
    assert errors == {"presumption_rebuttal_reasons": ["Enter the presumption rebuttal reasons"]}


def test_then_branch_not_triggered_when_decision_is_disclose():
    data = valid(serious_harm_risk="yes", disclosure_necessary="yes", decision="disclose")
    assert validate_submission(DECISION_FORM, data) == {}


def test_defer_needs_review_date_and_date_format_is_checked():
    assert validate_submission(DECISION_FORM, valid(decision="defer")) == {
        "review_date": ["Enter the review date"]}
    errors = validate_submission(DECISION_FORM, valid(decision="defer", review_date="2027-02-30"))
    assert errors["review_date"] == ["Review date must be a real date, for example 2027-03-27"]
    errors = validate_submission(DECISION_FORM, valid(decision="defer", review_date="1/4/2027"))
    assert "review_date" in errors
    assert validate_submission(DECISION_FORM, valid(decision="defer", review_date="2027-04-01")) == {}


def test_dependent_required_lands_on_the_dependent_field():
    data = valid()
    del data["serious_harm_reasons"]
    assert validate_submission(DECISION_FORM, data) == {
        "serious_harm_reasons": ["Enter the serious harm reasons"]}


def test_additional_properties_are_refused_by_name():
    errors = validate_submission(DECISION_FORM, valid(offender_name="x"))
    assert errors == {"offender_name": ["This answer is not part of this form"]}


def test_enum_type_and_minimum_messages():
    errors = validate_submission(DECISION_FORM, valid(decision="maybe", attendees=0,
                                                      representations_sought="yes"))
    assert errors["decision"] == ["Select decision from the options"]
    assert errors["attendees"] == ["Attendees must be at least 1"]
    assert errors["representations_sought"] == ["Select yes or no for representations sought"]


def test_nested_array_errors_use_dotted_paths():
    errors = validate_submission(DECISION_FORM, valid(recipients=[{"relationship": "parent"}, {}]))
    assert errors == {"recipients.1.relationship": ["Enter the relationship"]}
    assert validate_submission(DECISION_FORM, valid(recipients=[])) == {
        "recipients": ["Select or enter recipients"]}


# --- reason rules -----------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["n/a", "N/A.", "none", "see above", "too short"])
def test_reason_fields_must_be_real_reasons(bad):
    errors = validate_submission(DECISION_FORM, valid(decision_reasons=bad))
    assert list(errors) == ["decision_reasons"]


def test_blank_reason_counts_as_missing():
    errors = validate_submission(DECISION_FORM, valid(decision_reasons="   "))
    assert errors == {"decision_reasons": ["Enter the reasons for the decision"]}


def test_x_reason_marks_a_field_as_a_reason():
    errors = validate_submission(DECISION_FORM, valid(conditions_note="n/a"))
    assert list(errors) == ["conditions_note"]
    assert validate_submission(DECISION_FORM, valid(conditions_note=GOOD_REASON)) == {}


def test_optional_reason_absent_is_fine_and_schema_error_is_not_doubled():
    assert "presumption_rebuttal_reasons" not in validate_submission(DECISION_FORM, valid())
    schema = {"type": "object", "properties": {"dissent_reasons": {"type": "string",
                                                                   "maxLength": 5}}}
    errors = validate_submission(schema, {"dissent_reasons": "x" * 30})
    assert errors == {"dissent_reasons": ["Dissent reasons must be 5 characters or fewer"]}


def test_reasons_inside_nested_objects_are_checked():
    schema = {"type": "object", "properties": {"recipients": {"type": "array", "items": {
        "type": "object", "properties": {"ability_reasons": {"type": "string"}}}}}}
    errors = validate_submission(schema, {"recipients": [{"ability_reasons": "ok"}]})
    assert list(errors) == ["recipients.0.ability_reasons"]


# --- drafts, custom messages, root errors -------------------------------------------------

def test_draft_07_schema_is_honoured():
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {"decision": {"enum": ["disclose", "defer"]},
                             "review_date": {"title": "Review date", "type": "string",
                                             "format": "date"}},
              "dependencies": {"decision": ["review_date"]},
              "if": {"properties": {"decision": {"const": "defer"}}},
              "then": {"required": ["review_date"]}}
    assert validate_submission(schema, {"decision": "defer"}) == {
        "review_date": ["Enter the review date"]}
    assert validate_submission(schema, {"decision": "defer", "review_date": "2027-13-01"}) == {
        "review_date": ["Review date must be a real date, for example 2027-03-27"]}


def test_custom_messages_and_ui_schema_titles():
    schema = {"type": "object", "required": ["a", "b"], "properties": {
        "a": {"type": "string", "x-messages": {"required": "Tell us who was told"}},
        "b": {"type": "string"}}}
    errors = validate_submission(schema, {}, ui_schema={"b": {"ui:title": "Method of disclosure"}})
    assert errors == {"a": ["Tell us who was told"], "b": ["Enter the method of disclosure"]}


def test_root_level_error_is_keyed_form():
    errors = validate_submission({"type": "object", "minProperties": 1}, {})
    assert list(errors) == [FORM_KEY]


def test_check_form_schema():
    assert check_form_schema(DECISION_FORM) == []
    assert check_form_schema({"type": "objekt"}) != []


# --- coercion ---------------------------------------------------------------------------

COERCE_FORM = {"type": "object", "properties": {
    "representations_sought": {"type": "boolean"},
    "attendees": {"type": "integer"},
    "score": {"type": ["number", "null"]},
    "disclosers": {"type": "array", "items": {"type": "string"}},
    "years": {"type": "array", "items": {"type": "integer"}},
    "decision": {"type": "string"},
}, "allOf": [{"if": {}, "then": {"properties": {"undertaking_signed": {"type": "boolean"}}}}]}


def test_coerce_html_strings_to_schema_types():
    out = coerce_submission(COERCE_FORM, {
        "representations_sought": "yes", "attendees": " 4 ", "score": "2.5",
        "disclosers": ["police", "probation", ""], "years": ["2026", "x"],
        "decision": "defer", "undertaking_signed": "no", "csrf_token": "t", "other": "kept",
    })
    assert out == {"representations_sought": True, "attendees": 4, "score": 2.5,
                   "disclosers": ["police", "probation"], "years": [2026, "x"],
                   "decision": "defer", "undertaking_signed": False, "other": "kept"}


def test_coerce_leaves_unconvertible_values_for_validation():
    out = coerce_submission(COERCE_FORM, {"representations_sought": "maybe", "attendees": "four"})
    assert out == {"representations_sought": "maybe", "attendees": "four"}
    errors = validate_submission(COERCE_FORM, out)
    assert set(errors) == {"representations_sought", "attendees"}


def test_coerce_drops_blank_answers_and_wraps_single_array_values():
    out = coerce_submission(COERCE_FORM, {"decision": "  ", "attendees": "", "disclosers": "police"})
    assert out == {"disclosers": ["police"]}


# -- defaults -------------------------------------------------------------------------------

MARKED_FORM = {
    "type": "object",
    "properties": {
        "presumption_applies": {"type": "boolean", "readOnly": True, "default": False},
        "security_marking": {"type": "string", "enum": ["OFFICIAL", "OFFICIAL-SENSITIVE"],
                             "default": "OFFICIAL-SENSITIVE"},
        "legal_basis": {"type": "string", "enum": ["s327a", "common_law"], "default": "s327a"},
        "conditions": {"type": "array", "items": {"type": "string"}, "default": []},
        "decision_reasons": {"type": "string"},
        "recipients": {"type": "array", "items": {"type": "object", "properties": {
            "relationship": {"type": "string", "default": "parent"}}}},
    },
}


def test_an_omitted_field_takes_the_forms_default():
    out = apply_defaults(MARKED_FORM, {"decision_reasons": GOOD_REASON})
    assert out == {"decision_reasons": GOOD_REASON, "security_marking": "OFFICIAL-SENSITIVE",
                   "legal_basis": "s327a", "conditions": []}


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_a_null_or_blank_answer_is_omitted_and_takes_the_default(blank):
    assert apply_defaults(MARKED_FORM, {"security_marking": blank})["security_marking"] == "OFFICIAL-SENSITIVE"


def test_an_answer_given_is_kept_and_defaults_are_copies():
    out = apply_defaults(MARKED_FORM, {"security_marking": "OFFICIAL", "legal_basis": "common_law"})
    assert (out["security_marking"], out["legal_basis"]) == ("OFFICIAL", "common_law")
    out["conditions"].append("changed")
    assert MARKED_FORM["properties"]["conditions"]["default"] == []


def test_read_only_and_nested_fields_are_not_defaulted():
    out = apply_defaults(MARKED_FORM, {"recipients": [{}]})
    assert "presumption_applies" not in out and out["recipients"] == [{}]


def test_a_completed_task_gets_defaults_and_read_only_values_from_the_process():
    """What the server takes when a task is completed (services.completion, path tests)."""
    out = apply_read_only(MARKED_FORM, {"presumption_applies": False, "decision_reasons": GOOD_REASON},
                          {"presumption_applies": True})
    assert out["presumption_applies"] is True
    assert out["security_marking"] == "OFFICIAL-SENSITIVE"


def test_every_shipped_form_default_is_applied_and_valid():
    import json
    from pathlib import Path

    forms = sorted((Path(__file__).resolve().parents[3] / "workflows").glob("*.schema.json"))
    defaulted = 0
    for form in forms:
        schema = json.loads(form.read_text())
        declared = {name: prop["default"] for name, prop in schema["properties"].items()
                    if "default" in prop and not prop.get("readOnly")}
        out = apply_defaults(schema, {})
        assert {k: out[k] for k in declared} == declared, form.name
        for name in declared:  # the default is itself an answer the form accepts
            assert name not in validate_submission(schema, out), (form.name, name)
        defaulted += len(declared)
    assert defaulted >= 10


# -- x-after-today --------------------------------------------------------------------------

REVIEW_FORM = {
    "type": "object",
    "properties": {
        "review_date": {"title": "Review date", "type": "string", "format": "date", "x-after-today": True},
        "target": {"title": "Target", "type": "string", "format": "date", "x-after-today": True,
                   "x-messages": {"x-after-today": "Choose a target date after today"}},
        "when": {"title": "When", "type": "string", "format": "date-time", "x-after-today": True},
        "asked_on": {"title": "Asked on", "type": "string", "format": "date"},
        "steps": {"type": "array", "items": {"type": "object", "properties": {
            "due": {"title": "Due", "type": "string", "format": "date", "x-after-today": True}}}},
    },
}
TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("value", ["2026-12-02", "2026-12-01", "2020-01-01"])
def test_a_date_after_today_refuses_today_and_the_past(value):
    errors = validate_submission(REVIEW_FORM, {"review_date": value}, today=TODAY)
    assert errors == {"review_date": ["Review date must be a date after today"]}


def test_a_date_after_today_accepts_tomorrow_and_leaves_other_dates_alone():
    assert validate_submission(REVIEW_FORM, {"review_date": "2026-12-03", "asked_on": "2020-01-01"},
                               today=TODAY) == {}


def test_after_today_uses_custom_messages_nested_fields_and_london_dates_of_date_times():
    errors = validate_submission(REVIEW_FORM, {
        "target": "2026-11-30", "steps": [{"due": "2027-01-01"}, {"due": "2026-12-02"}],
        # 23:30 at UTC-1 is 00:30 on the 3rd in London: after today
        "when": "2026-12-02T23:30:00-01:00"}, today=TODAY)
    assert errors == {"target": ["Choose a target date after today"],
                      "steps.1.due": ["Due must be a date after today"]}
    errors = validate_submission(REVIEW_FORM, {"when": "2026-12-02T23:30:00+00:00"}, today=TODAY)
    assert errors == {"when": ["When must be a date after today"]}


def test_a_date_that_is_not_a_date_gets_one_message_and_today_defaults_to_london(monkeypatch):
    errors = validate_submission(REVIEW_FORM, {"review_date": "2020-02-30"}, today=TODAY)
    assert errors == {"review_date": ["Review date must be a real date, for example 2027-03-27"]}
    from disclosure_engine.domain import forms

    monkeypatch.setattr(forms, "london_today", lambda: date(2030, 1, 1))
    assert "review_date" in validate_submission(REVIEW_FORM, {"review_date": "2029-12-31"})


# -- fields a form does not declare ------------------------------------------------------------

from disclosure_engine.domain.forms import undeclared_fields  # noqa: E402

OPEN_FORM = {"type": "object", "required": ["decision"],
             "properties": {"decision": {"type": "string"}},
             "allOf": [{"if": {"properties": {"decision": {"const": "defer"}}},
                        "then": {"properties": {"review_date": {"type": "string"}}}}],
             "dependentSchemas": {"decision": {"properties": {"decision_reasons": {"type": "string"}}}},
             "$defs": {"extra": {"properties": {"security_marking": {"type": "string"}}}},
             "anyOf": [{"$ref": "#/$defs/extra"}]}


def test_fields_a_form_does_not_declare_are_named_for_dropping():
    submitted = {"decision": "defer", "review_date": "2027-01-01", "decision_reasons": GOOD_REASON,
                 "security_marking": "OFFICIAL", "decision_route": "lead_agency", "chair_outcome": "endorsed"}
    assert undeclared_fields(OPEN_FORM, submitted) == ["chair_outcome", "decision_route"]


@pytest.mark.parametrize("opening", [{"additionalProperties": True}, {"additionalProperties": {"type": "string"}},
                                     {"unevaluatedProperties": True}, {"patternProperties": {"^x_": {}}}])
def test_a_form_opened_on_purpose_keeps_extra_fields(opening):
    assert undeclared_fields({**OPEN_FORM, **opening}, {"decision": "defer", "anything": 1}) == []


def test_a_closed_form_refuses_extra_fields_instead_of_dropping_them():
    assert undeclared_fields(DECISION_FORM, valid(unexpected="x")) == []
    assert "unexpected" in validate_submission(DECISION_FORM, valid(unexpected="x"))


def test_a_form_that_declares_no_fields_keeps_what_is_sent():
    assert undeclared_fields({"type": "object"}, {"approved": True}) == []
