"""Parse a posted GOV.UK form back into submission data typed by the task's JSON Schema.

The inverse of ``forms_render``: dotted field names (``recipients.0.name_or_role``), date
inputs split into day/month/year, repeated rows with server-side "Add another"/"Remove".
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from disclosure_engine.domain.forms import coerce_submission
from web.ui.forms_render import _DATE_PARTS, _INDEX, ordered_properties, widget


def _date_value(form: Mapping[str, Any], key: str) -> str | None:
    parts = [(_get(form, f"{key}-{p}") or "").strip() for p in _DATE_PARTS]
    if not any(parts):
        return None
    day, month, year = parts
    pad = (lambda v: v.zfill(2) if v.isdigit() and len(v) < 2 else v)
    return f"{year}-{pad(month)}-{pad(day)}"


def _get(form: Any, key: str) -> str | None:
    value = form.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _getlist(form: Any, key: str) -> list[str]:
    if hasattr(form, "getlist"):
        return list(form.getlist(key))
    value = form.get(key)
    return list(value) if isinstance(value, list) else ([value] if value is not None else [])


def _indexes(form: Iterable[str], name: str) -> list[int]:
    found = set()
    for key in form:
        m = _INDEX.match(key.removesuffix("-day").removesuffix("-month").removesuffix("-year"))
        if m and m.group("name") == name:
            found.add(int(m.group("i")))
    return sorted(found)


def parse_form(schema: Mapping[str, Any], ui: Mapping[str, Any], form: Any, *,
               keep_blank_rows: bool = False) -> dict[str, Any]:
    """The task data a GOV.UK form post stands for, in the schema's types.

    Blank answers are dropped (a blank answer is no answer); blank repeated rows are dropped
    unless ``keep_blank_rows`` (used when adding or removing a row, so indexes stay put).
    Arrays are always present (possibly empty) so "required" means "answer the question".
    """
    out: dict[str, Any] = {}
    scalars: dict[str, str] = {}
    for name, prop in ordered_properties(schema, ui):
        kind = widget(name, prop, ui)
        if kind == "readonly":
            continue
        if kind == "date":
            value = _date_value(form, name)
            if value is not None:
                out[name] = value
        elif kind == "checkboxes":
            out[name] = coerce_submission({"properties": {name: prop}}, {name: _getlist(form, name)}).get(name, [])
        elif kind == "list":
            items = prop.get("items") or {}
            values = []
            for i in _indexes(form, name):
                raw = (_get(form, f"{name}.{i}") or "").strip()
                if raw:
                    values.append(coerce_submission({"properties": {"v": items}}, {"v": raw})["v"])
                elif keep_blank_rows:
                    values.append("")
            out[name] = values
        elif kind == "group":
            item_schema = prop.get("items") or {}
            rows = []
            for i in _indexes(form, name):
                raw: dict[str, Any] = {}
                row: dict[str, Any] = {}
                for sub, sub_prop in ordered_properties(item_schema, {}):
                    key = f"{name}.{i}.{sub}"
                    if widget(sub, sub_prop, {}) == "date":
                        value = _date_value(form, key)
                        if value is not None:
                            row[sub] = value
                    else:
                        text = _get(form, key)
                        if text is not None:
                            raw[sub] = text
                row.update(coerce_submission(item_schema, raw))
                if row or keep_blank_rows:
                    rows.append(row)
            out[name] = rows
        else:
            text = _get(form, name)
            if text is not None:
                scalars[name] = text
    out.update(coerce_submission(schema, scalars))
    return out


def apply_row_action(data: dict[str, Any], action: str) -> dict[str, int]:
    """Apply an "add:<field>" or "remove:<field>:<index>" button; returns extra blank rows."""
    kind, _, rest = action.partition(":")
    if kind == "add" and rest:
        return {rest: 1}
    if kind == "remove":
        name, _, index = rest.rpartition(":")
        rows = data.get(name)
        if isinstance(rows, list) and index.isdigit() and int(index) < len(rows):
            rows.pop(int(index))
    return {}


