"""Render a task's JSON Schema (+ UI schema) as GOV.UK form markup, and parse the post back.

Widgets, chosen from the schema and the UI hints:

- ``enum`` / ``oneOf`` of ``const`` / ``boolean`` -> radios (yes/no inline);
- ``format: date`` -> the GOV.UK date input (day, month, year; joined to YYYY-MM-DD);
- ``ui:widget: textarea``, reason fields and long strings -> textarea;
- ``integer`` / ``number`` -> numeric text input;
- arrays of strings -> a list of text inputs, arrays of objects -> repeated fieldsets, both
  with server-side "Add another" / "Remove" buttons (no JavaScript needed);
- arrays of enums -> checkboxes;
- ``readOnly`` (or ``ui:readonly``) -> a summary list row showing the derived value, never an
  input (the server takes the value from the process anyway: ``forms.apply_read_only``).

Field names in the HTML are the error keys of ``domain.forms.validate_submission``: dotted
paths such as ``recipients.0.name_or_role``. Ids replace dots with hyphens, so the error
summary links straight to the control. Everything is escaped with ``markupsafe``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from disclosure_engine.domain.forms import FORM_KEY
from disclosure_engine.domain.vocabulary import is_reason_field

VALUE_LABELS: dict[str, str] = {
    "yes": "Yes", "no": "No",
    "disclose": "Disclose", "do_not_disclose": "Do not disclose", "defer": "Defer",
    "s327a": "s.327A Criminal Justice Act 2003", "common_law": "Common law powers",
    "csods": "Child Sex Offender Disclosure Scheme",
    "agreed": "Agreed", "returned": "Returned for reconsideration",
    "ratified": "Ratified", "not_ratified": "Not ratified",
}
ITEM_NAMES: dict[str, str] = {
    "children_at_risk": "Child at risk", "recipients": "Possible recipient",
    "decision_makers": "Decision maker", "attendees": "Attendee", "disclosers": "Discloser",
}
_INDEX = re.compile(r"^(?P<name>[^.]+)\.(?P<i>\d+)(?:\.(?P<sub>[^.]+))?$")
_DATE_PARTS = ("day", "month", "year")


#: the field that names a row of a list, shown for the row in summaries
_ROW_NAMES = ("name_or_description", "name_or_role", "name", "title", "description")


def value_label(value: Any, prop: Mapping[str, Any] | None = None) -> str:
    """Human text for a stored answer (enum value, boolean, list)."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        if not value:
            return "None recorded"
        return ("; " if any(isinstance(v, Mapping) for v in value) else ", ").join(value_label(v, None) for v in value)
    if isinstance(value, Mapping):  # a row of a list (a child at risk, a recipient): its name first
        named = next((value[k] for k in _ROW_NAMES if isinstance(value.get(k), str) and value[k].strip()), None)
        return str(named) if named is not None else ", ".join(
            value_label(v, None) for v in value.values() if v not in (None, "", [], {}))
    if prop:
        for option in prop.get("oneOf") or prop.get("anyOf") or []:
            if isinstance(option, dict) and option.get("const") == value and option.get("title"):
                return str(option["title"])
    if isinstance(value, str):
        return VALUE_LABELS.get(value, value)
    return "" if value is None else str(value)


def field_id(key: str) -> str:
    return key.replace(".", "-")


def ordered_properties(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    props = schema.get("properties") or {}
    order = [n for n in (ui.get("ui:order") or []) if n in props and n != "*"]
    rest = [n for n in props if n not in order]
    return [(n, props[n]) for n in order + rest if isinstance(props[n], dict)]


def _types(prop: Mapping[str, Any]) -> list[str]:
    kind = prop.get("type")
    if isinstance(kind, list):
        return [k for k in kind if k != "null"]
    return [kind] if kind else []


def _options(prop: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    if "enum" in prop:
        names = prop.get("ui:enumNames") or []
        return [(str(v).lower() if isinstance(v, bool) else str(v),
                 names[i] if i < len(names) else value_label(v)) for i, v in enumerate(prop["enum"])]
    options = prop.get("oneOf") or prop.get("anyOf")
    if options and all(isinstance(o, dict) and "const" in o for o in options):
        return [(str(o["const"]), str(o.get("title") or value_label(o["const"]))) for o in options]
    if "boolean" in _types(prop):
        return [("yes", "Yes"), ("no", "No")]
    return None


def widget(name: str, prop: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    hints = ui.get(name) if isinstance(ui.get(name), Mapping) else {}
    if prop.get("readOnly") or hints.get("ui:readonly"):
        return "readonly"
    kinds = _types(prop)
    if "array" in kinds:
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        if _types(items) == ["object"] or "properties" in items:
            return "group"
        if _options(items):
            return "checkboxes"
        return "list"
    if _options(prop):
        return "radios"
    if prop.get("format") == "date":
        return "date"
    if hints.get("ui:widget") == "textarea" or is_reason_field(name) or (prop.get("maxLength") or 0) > 500:
        return "textarea"
    if "integer" in kinds or "number" in kinds:
        return "number"
    return "text"


# -- rendering ----------------------------------------------------------------------------------

@dataclass
class RenderContext:
    values: Mapping[str, Any]
    errors: Mapping[str, list[str]]
    process_data: Mapping[str, Any]
    extra_rows: Mapping[str, int] = field(default_factory=dict)


def _error_html(key: str, ctx: RenderContext) -> Markup:
    messages = ctx.errors.get(key)
    if not messages:
        return Markup("")
    return Markup('<p id="{id}-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {msg}</p>').format(
        id=field_id(key), msg=" ".join(messages))


def _hint(key: str, prop: Mapping[str, Any], hints: Mapping[str, Any]) -> tuple[Markup, list[str]]:
    texts = [t for t in (prop.get("description"), hints.get("ui:help")) if t]
    if not texts:
        return Markup(""), []
    return (Markup('<div id="{id}-hint" class="govuk-hint">{text}</div>').format(
        id=field_id(key), text=" ".join(str(t) for t in texts)), [f"{field_id(key)}-hint"])


def _describedby(ids: list[str], key: str, ctx: RenderContext) -> Markup:
    ids = list(ids)
    if ctx.errors.get(key):
        ids.append(f"{field_id(key)}-error")
    return Markup(' aria-describedby="{}"').format(" ".join(ids)) if ids else Markup("")


def _group_class(key: str, ctx: RenderContext) -> str:
    return "govuk-form-group govuk-form-group--error" if ctx.errors.get(key) else "govuk-form-group"


def _title(name: str, prop: Mapping[str, Any], hints: Mapping[str, Any]) -> str:
    return str(prop.get("title") or hints.get("ui:title") or name.replace("_", " ").capitalize())


def _scalar(key: str, name: str, prop: Mapping[str, Any], hints: Mapping[str, Any], value: Any,
            ctx: RenderContext, *, label: str | None = None, kind: str | None = None) -> Markup:
    kind = kind or widget(name, prop, {name: hints})
    title = label or _title(name, prop, hints)
    fid = field_id(key)
    hint, hint_ids = _hint(key, prop, hints)
    error = _error_html(key, ctx)
    has_error = bool(ctx.errors.get(key))
    if kind == "radios":
        options = _options(prop) or []
        current = value_label(value) if isinstance(value, bool) else ("" if value is None else str(value))
        if isinstance(value, bool):
            current = "yes" if value else "no"
        inline = len(options) == 2 and all(len(text) <= 12 for _, text in options)
        items = []
        for i, (val, text) in enumerate(options):
            rid = fid if i == 0 else f"{fid}-{i + 1}"
            items.append(Markup(
                '<div class="govuk-radios__item"><input class="govuk-radios__input" id="{rid}" name="{name}" '
                'type="radio" value="{val}"{checked}><label class="govuk-label govuk-radios__label" for="{rid}">'
                '{text}</label></div>').format(rid=rid, name=key, val=val, text=text,
                                              checked=Markup(" checked") if val == current else Markup("")))
        return Markup(
            '<div class="{group}"><fieldset class="govuk-fieldset"{described}>'
            '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{title}</legend>{hint}{error}'
            '<div class="govuk-radios{inline}" data-module="govuk-radios">{items}</div></fieldset></div>').format(
            group=_group_class(key, ctx), described=_describedby(hint_ids, key, ctx), title=title, hint=hint,
            error=error, inline=" govuk-radios--inline" if inline else "", items=Markup("").join(items))
    if kind == "date":
        parts = (str(value).split("-") + ["", "", ""])[:3] if value else ["", "", ""]
        year, month, day = parts
        inputs = []
        for part, val, width in (("day", day, 2), ("month", month, 2), ("year", year, 4)):
            err = " govuk-input--error" if has_error else ""
            inputs.append(Markup(
                '<div class="govuk-date-input__item"><div class="govuk-form-group">'
                '<label class="govuk-label govuk-date-input__label" for="{fid}-{part}">{cap}</label>'
                '<input class="govuk-input govuk-date-input__input govuk-input--width-{w}{err}" id="{fid}-{part}" '
                'name="{key}-{part}" type="text" inputmode="numeric" value="{val}"></div></div>').format(
                fid=fid, part=part, cap=part.capitalize(), w=width, err=err, key=key, val=val))
        return Markup(
            '<div class="{group}"><fieldset class="govuk-fieldset" role="group"{described}>'
            '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{title}</legend>{hint}{error}'
            '<div class="govuk-date-input" id="{fid}">{inputs}</div></fieldset></div>').format(
            group=_group_class(key, ctx), described=_describedby(hint_ids, key, ctx), title=title, hint=hint,
            error=error, fid=fid, inputs=Markup("").join(inputs))
    if kind == "textarea":
        rows = 8 if is_reason_field(name) or (prop.get("minLength") or 0) >= 20 else 5
        return Markup(
            '<div class="{group}"><label class="govuk-label govuk-label--s" for="{fid}">{title}</label>{hint}{error}'
            '<textarea class="govuk-textarea{err}" id="{fid}" name="{key}" rows="{rows}"{described}>{val}</textarea>'
            '</div>').format(group=_group_class(key, ctx), fid=fid, title=title, hint=hint, error=error,
                             err=" govuk-textarea--error" if has_error else "", key=key, rows=rows,
                             described=_describedby(hint_ids, key, ctx), val="" if value is None else value)
    width = ""
    extra = Markup("")
    if kind == "number":
        width = " govuk-input--width-4"
        extra = Markup(' inputmode="numeric" spellcheck="false"')
    return Markup(
        '<div class="{group}"><label class="govuk-label govuk-label--s" for="{fid}">{title}</label>{hint}{error}'
        '<input class="govuk-input{width}{err}" id="{fid}" name="{key}" type="text" value="{val}"{extra}{described}>'
        '</div>').format(group=_group_class(key, ctx), fid=fid, title=title, hint=hint, error=error, width=width,
                         err=" govuk-input--error" if has_error else "", key=key,
                         val="" if value is None else value, extra=extra, described=_describedby(hint_ids, key, ctx))


def _item_name(name: str, prop: Mapping[str, Any], hints: Mapping[str, Any]) -> str:
    return str(hints.get("ui:itemTitle") or ITEM_NAMES.get(name) or _title(name, prop, hints))


def _buttons_row(name: str, index: int, item: str) -> Markup:
    return Markup(
        '<button type="submit" class="govuk-button govuk-button--secondary app-remove-button" name="_action" '
        'value="remove:{name}:{i}" formnovalidate>Remove<span class="govuk-visually-hidden"> {item} {n}</span>'
        '</button>').format(name=name, i=index, item=item.lower(), n=index + 1)


def _repeated(name: str, prop: Mapping[str, Any], hints: Mapping[str, Any], kind: str,
              ctx: RenderContext) -> Markup:
    rows = ctx.values.get(name)
    rows = list(rows) if isinstance(rows, list) else []
    count = max(len(rows), 1) + ctx.extra_rows.get(name, 0)
    rows += [None] * (count - len(rows))
    title = _title(name, prop, hints)
    item = _item_name(name, prop, hints)
    hint, hint_ids = _hint(name, prop, hints)
    parts: list[Markup] = []
    for i, row in enumerate(rows):
        key = f"{name}.{i}"
        if kind == "list":
            inner = _scalar(key, name, prop.get("items") or {}, {}, row, ctx,
                            label=f"{item} {i + 1}", kind="text")
            parts.append(Markup('<div class="app-repeat-row">{inner}{remove}</div>').format(
                inner=inner, remove=_buttons_row(name, i, item)))
        else:
            item_schema = prop.get("items") or {}
            subs = [_scalar(f"{key}.{sub}", sub, sub_prop, {}, (row or {}).get(sub) if isinstance(row, dict) else None, ctx)
                    for sub, sub_prop in ordered_properties(item_schema, {})]
            parts.append(Markup(
                '<fieldset class="govuk-fieldset app-repeat-group"><legend class="govuk-fieldset__legend '
                'govuk-fieldset__legend--s">{item} {n}</legend>{subs}{error}{remove}</fieldset>').format(
                item=item, n=i + 1, subs=Markup("").join(subs), error=_error_html(key, ctx),
                remove=_buttons_row(name, i, item)))
    add = Markup(
        '<button type="submit" class="govuk-button govuk-button--secondary" name="_action" value="add:{name}" '
        'formnovalidate>Add another<span class="govuk-visually-hidden"> {item}</span></button>').format(
        name=name, item=item.lower())
    return Markup(
        '<div class="{group}" id="{fid}-group"><fieldset class="govuk-fieldset"{described}>'
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--m">{title}</legend>{hint}{error}'
        '{rows}{add}</fieldset></div>').format(
        group=_group_class(name, ctx), fid=field_id(name), described=_describedby(hint_ids, name, ctx),
        title=title, hint=hint, error=_error_html(name, ctx), rows=Markup("").join(parts), add=add)


def _checkboxes(name: str, prop: Mapping[str, Any], hints: Mapping[str, Any], ctx: RenderContext) -> Markup:
    options = _options(prop.get("items") or {}) or []
    chosen = {str(v) for v in (ctx.values.get(name) or [])}
    fid = field_id(name)
    hint, hint_ids = _hint(name, prop, hints)
    items = [Markup(
        '<div class="govuk-checkboxes__item"><input class="govuk-checkboxes__input" id="{cid}" name="{name}" '
        'type="checkbox" value="{val}"{checked}><label class="govuk-label govuk-checkboxes__label" for="{cid}">'
        '{text}</label></div>').format(cid=fid if i == 0 else f"{fid}-{i + 1}", name=name, val=val, text=text,
                                      checked=Markup(" checked") if val in chosen else Markup(""))
        for i, (val, text) in enumerate(options)]
    return Markup(
        '<div class="{group}"><fieldset class="govuk-fieldset"{described}><legend class="govuk-fieldset__legend '
        'govuk-fieldset__legend--s">{title}</legend>{hint}{error}<div class="govuk-checkboxes" '
        'data-module="govuk-checkboxes">{items}</div></fieldset></div>').format(
        group=_group_class(name, ctx), described=_describedby(hint_ids, name, ctx), title=_title(name, prop, hints),
        hint=hint, error=_error_html(name, ctx), items=Markup("").join(items))


def render_fields(schema: Mapping[str, Any], ui: Mapping[str, Any], ctx: RenderContext) -> Markup:
    """The form's questions (no <form> element, no buttons)."""
    readonly_rows: list[Markup] = []
    parts: list[Markup] = []
    for name, prop in ordered_properties(schema, ui):
        hints = ui.get(name) if isinstance(ui.get(name), Mapping) else {}
        kind = widget(name, prop, ui)
        if kind == "readonly":
            value = ctx.process_data.get(name, ctx.values.get(name))
            shown = value_label(value, prop) if value is not None else "Not yet worked out"
            readonly_rows.append(Markup(
                '<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{title}</dt>'
                '<dd class="govuk-summary-list__value">{value}{hint}</dd></div>').format(
                title=_title(name, prop, hints), value=shown,
                hint=Markup('<p class="govuk-hint govuk-!-margin-bottom-0">{}</p>').format(prop["description"])
                if prop.get("description") else Markup("")))
        elif kind in ("group", "list"):
            parts.append(_repeated(name, prop, hints, kind, ctx))
        elif kind == "checkboxes":
            parts.append(_checkboxes(name, prop, hints, ctx))
        else:
            parts.append(_scalar(name, name, prop, hints, ctx.values.get(name), ctx))
    head = Markup("")
    if readonly_rows:
        head = Markup('<dl class="govuk-summary-list app-readonly-answers">{}</dl>').format(Markup("").join(readonly_rows))
    return head + Markup("").join(parts)


def error_summary(schema: Mapping[str, Any], ui: Mapping[str, Any], errors: Mapping[str, list[str]]) -> list[dict[str, str]]:
    """``[{"text", "href"}]`` in form order, each linking to the control to fix."""
    order = {name: i for i, (name, _) in enumerate(ordered_properties(schema, ui))}
    props = dict(ordered_properties(schema, ui))

    def sort_key(key: str) -> tuple[int, str]:
        return (order.get(key.split(".")[0], len(order) + 1), key)

    items = []
    for key in sorted(errors, key=sort_key):
        for message in errors[key]:
            items.append({"text": message, "href": "#" + _anchor(key, props, ui)})
    return items


def _anchor(key: str, props: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    if key == FORM_KEY:
        return "task-form"
    name, *rest = key.split(".")
    prop = props.get(name)
    if prop is None:
        return "task-form"
    kind = widget(name, prop, ui)
    if kind == "date":
        return f"{field_id(key)}-day"
    if kind in ("group", "list") and not rest:
        if kind == "list":
            return f"{field_id(name)}-0"
        items = prop.get("items") or {}
        first = next(iter(ordered_properties(items, {})), (None, None))[0]
        return f"{field_id(name)}-0-{first}" if first else f"{field_id(name)}-group"
    if kind == "group" and len(rest) == 2:
        sub_prop = ((prop.get("items") or {}).get("properties") or {}).get(rest[1]) or {}
        if widget(rest[1], sub_prop, {}) == "date":
            return f"{field_id(key)}-day"
    return field_id(key)


def answers_summary(schema: Mapping[str, Any], ui: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, str]]:
    """``[{"key", "value"}]`` for a completed task's answers (check-answers style)."""
    rows = []
    for name, prop in ordered_properties(schema, ui):
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            item_props = (prop.get("items") or {}).get("properties") or {}
            text = "; ".join(", ".join(f"{(item_props.get(k) or {}).get('title', k)}: {value_label(v)}"
                                       for k, v in row.items()) for row in value)
        else:
            text = value_label(value, prop)
        rows.append({"key": _title(name, prop, {}), "value": text or "None given"})
    return rows


