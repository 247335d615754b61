"""The JSON Schema -> GOV.UK form renderer and parser, and the instructions renderer."""
from __future__ import annotations

import json
from pathlib import Path

from werkzeug.datastructures import MultiDict

from disclosure_engine.domain.forms import validate_submission
from web.ui.forms_parse import parse_form
from web.ui.forms_render import RenderContext, error_summary, render_fields
from web.ui.instructions import render_instructions

WF = Path(__file__).resolve().parents[2] / "workflows"


def _form(name: str) -> tuple[dict, dict]:
    return (json.loads((WF / f"s327a_consideration--{name}.schema.json").read_text()),
            json.loads((WF / f"s327a_consideration--{name}.uischema.json").read_text()))


def test_every_shipped_form_renders_with_labels():
    for path in sorted(WF.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        ui_path = path.with_name(path.name.replace(".schema.json", ".uischema.json"))
        ui = json.loads(ui_path.read_text()) if ui_path.exists() else {}
        html = str(render_fields(schema, ui, RenderContext(values={}, errors={}, process_data={})))
        for name, prop in schema.get("properties", {}).items():
            if not prop.get("readOnly"):
                assert f'name="{name}' in html or f'name="{name}.0' in html or f'name="{name}-day"' in html, (path.name, name)


def test_parse_round_trip_of_nested_rows_dates_and_types():
    schema, ui = _form("identify_children")
    post = MultiDict({"children_at_risk.0.name_or_description": "Child A", "children_at_risk.0.age": "9",
                      "children_at_risk.1.name_or_description": "", "recipients.0.name_or_role": "Mother",
                      "recipients.0.relationship": "Parent", "recipients.0.ability_to_protect": "Lives with A",
                      "identification_reasons": "  School and GP records checked for the household  "})
    data = parse_form(schema, ui, post)
    assert data["children_at_risk"] == [{"name_or_description": "Child A", "age": 9}]
    assert data["recipients"][0]["name_or_role"] == "Mother"
    assert validate_submission(schema, data) == {}
    schema, ui = _form("consider_representations")
    data = parse_form(schema, ui, MultiDict({"representations_sought": "yes", "representations_requested_on-day": "3",
                                             "representations_requested_on-month": "2",
                                             "representations_requested_on-year": "2027"}))
    assert data == {"representations_sought": "yes", "representations_requested_on": "2027-02-03"}
    bad = parse_form(schema, ui, MultiDict({"representations_sought": "yes", "representations_requested_on-day": "30",
                                            "representations_requested_on-month": "2",
                                            "representations_requested_on-year": "2027"}))
    errors = validate_submission(schema, bad)
    assert "representations_requested_on" in errors
    assert error_summary(schema, ui, errors)[0]["href"] == "#representations_requested_on-day"


def test_values_and_errors_are_escaped_and_linked():
    schema, ui = _form("assess_tests")
    html = str(render_fields(schema, ui, RenderContext(
        values={"serious_harm_reasons": "</textarea><script>alert(1)</script>"},
        errors={"serious_harm_reasons": ["Enter the reasons"]}, process_data={})))
    assert "<script>" not in html and "&lt;/textarea&gt;&lt;script&gt;" in html
    assert 'aria-describedby="serious_harm_reasons-hint serious_harm_reasons-error"' in html
    assert "govuk-form-group--error" in html and "govuk-textarea--error" in html


def test_instructions_are_sanitised_and_placeholders_escaped():
    html = str(render_instructions("## Case {{ case_reference }}\n\n<script>x()</script> [a](javascript:x()) {{ who }}",
                                   {"case_reference": "KNT-1", "who": "<img src=x onerror=alert(1)>"}))
    assert '<h3 class="govuk-heading-s">Case KNT-1</h3>' in html
    assert "<script>" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
