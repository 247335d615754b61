"""Validating task form submissions against their JSON Schema, with human field messages.

Forms are data (design brief section 2): each user task names a JSON Schema deployed beside
the BPMN. The server is the authority on what a complete answer is, so every submission is
checked here and the errors are returned per field, in GOV.UK style ("Enter the ...",
"Select ..."), never as jsonschema's raw text, which officers would not understand.

Two rules go beyond JSON Schema because the decision record must survive judicial review:

- a blank answer is no answer: whitespace-only strings are removed before validation, so a
  ``required`` reasons field filled with spaces is reported as missing;
- every reason field (``vocabulary.is_reason_field`` or ``"x-reason": true`` in the schema)
  that is answered must pass ``vocabulary.reason_problem`` ("n/a" is not a reason).

A third rule is a keyword of this product: a date field marked ``"x-after-today": true``
must be a date after today (Europe/London), so a deferral's review date cannot be today or in
the past, where its timer would fire at once.

Messages come from the property's ``title`` unless the property carries
``"x-messages": {"<keyword>": "..."}``. Errors that belong to no field are keyed ``"_form"``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.validators import validator_for

from disclosure_engine.domain.vocabulary import is_reason_field, reason_problem

FORM_KEY = "_form"
#: a date field with this keyword set to true must be after today (see the module docstring)
AFTER_TODAY = "x-after-today"
_LONDON = ZoneInfo("Europe/London")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YES = frozenset({"yes", "true", "on", "1"})
_NO = frozenset({"no", "false", "off", "0"})
#: web-layer fields that are never part of a task's data
IGNORED_FORM_FIELDS = frozenset({"csrf_token"})

_FORMATS = FormatChecker()


@_FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    """Strict YYYY-MM-DD that is a real calendar date (2027-02-30 fails)."""
    if not isinstance(value, str):
        return True
    if not _ISO_DATE.match(value):
        return False
    date.fromisoformat(value)
    return True


def _validator(schema: dict[str, Any]) -> Any:
    """A validator per form schema, built once: deployed schemas are shared, read-only objects
    (the compiled version's), so the identity check makes a stale entry impossible."""
    hit = _VALIDATORS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    cls = validator_for(schema, default=Draft202012Validator)
    validator = cls(schema, format_checker=_FORMATS)
    if len(_VALIDATORS) >= 512:
        _VALIDATORS.clear()
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


_VALIDATORS: dict[int, tuple[dict[str, Any], Any]] = {}


def check_form_schema(schema: dict[str, Any]) -> list[str]:
    """Problems with the schema itself (for deploy-time validation); empty when usable."""
    cls = validator_for(schema, default=Draft202012Validator)
    return [f"{'/'.join(map(str, e.absolute_path)) or 'schema'}: {e.message}"
            for e in cls(cls.META_SCHEMA).iter_errors(schema)]


def validate_submission(schema: dict[str, Any], data: Mapping[str, Any], *,
                        ui_schema: dict[str, Any] | None = None,
                        today: date | None = None) -> dict[str, list[str]]:
    """Field -> messages for everything wrong with ``data``; an empty dict means valid.

    ``ui_schema`` is accepted so callers can pass what the task holds; labels are taken from
    its ``ui:title`` when the schema property has no ``title``. ``today`` is the date
    ``x-after-today`` compares with (default: today in Europe/London; path tests pass their
    simulated clock's).
    """
    cleaned = _drop_blanks(dict(data))
    validator = _validator(schema)
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        bucket = errors.setdefault(key, [])
        if message not in bucket:
            bucket.append(message)

    for error in validator.iter_errors(cleaned):
        for key, message in _messages(error, schema, ui_schema or {}):
            add(key, message)

    for path, value, _prop in _reason_values(schema, cleaned, ()):
        key = ".".join(map(str, path))
        if key in errors:
            continue  # one problem at a time per field
        problem = reason_problem(value)
        if problem is not None:
            add(key, problem)

    for path, value, prop in _after_today_values(schema, cleaned, ()):
        key = ".".join(map(str, path))
        if key in errors:
            continue  # e.g. not a real date: that is the problem to fix first
        when = _as_date(value)
        if when is not None and when <= (today or london_today()):
            add(key, _custom(prop, AFTER_TODAY)
                or f"{_cap(_label(prop, str(path[-1]), ui_schema or {}))} must be a date after today")
    return errors


def london_today() -> date:
    """Today's date in England and Wales."""
    return datetime.now(_LONDON).date()


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _as_date(value: Any) -> date | None:
    """A YYYY-MM-DD date, or the London date of an ISO date-time; None when it is neither."""
    if not isinstance(value, str):
        return None
    try:
        if _ISO_DATE.match(value):
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(_LONDON).date() if moment.tzinfo else moment.date()


def _after_today_values(schema: dict[str, Any], data: Any,
                        path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any, dict[str, Any]]]:
    """Every answered field, at any depth, whose property is marked ``x-after-today``."""
    if isinstance(data, Mapping):
        items: Iterator[tuple[Any, Any]] = iter(data.items())
    elif isinstance(data, list):
        items = iter(enumerate(data))
    else:
        return
    for name, value in items:
        sub = path + (name,)
        if isinstance(value, (Mapping, list)):
            yield from _after_today_values(schema, value, sub)
            continue
        prop = _schema_at(schema, sub)
        if prop is not None and prop.get(AFTER_TODAY) is True:
            yield sub, value, prop


def _drop_blanks(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_blanks(v) for k, v in value.items()
                if not (isinstance(v, str) and not v.strip())}
    if isinstance(value, list):
        return [_drop_blanks(v) for v in value]
    return value


def _find_property(schema: Any, name: str, depth: int = 0) -> dict[str, Any] | None:
    """A property's subschema wherever the form declares it (root, then/else, allOf...)."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    props = schema.get("properties")
    if isinstance(props, dict) and isinstance(props.get(name), dict):
        return props[name]
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []) or []:
            found = _find_property(sub, name, depth + 1)
            if found is not None:
                return found
    for key in ("then", "else", "if"):
        found = _find_property(schema.get(key), name, depth + 1)
        if found is not None:
            return found
    return None


def _schema_at(schema: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any] | None:
    """The subschema describing the instance at ``path`` (property names and list indexes)."""
    current: Any = schema
    for step in path:
        if isinstance(step, int):
            current = current.get("items") if isinstance(current, dict) else None
        else:
            current = _find_property(current, step)
        if not isinstance(current, dict):
            return None
    return current


def _label(prop: dict[str, Any] | None, name: str, ui: dict[str, Any]) -> str:
    title = (prop or {}).get("title") or (ui.get(name) or {}).get("ui:title")
    text = str(title) if title else name.replace("_", " ")
    # keep acronyms ("MAPPA") but lower an ordinary leading capital
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def _is_choice(prop: dict[str, Any] | None) -> bool:
    if not prop:
        return False
    if "enum" in prop or "const" in prop or prop.get("type") == "boolean":
        return True
    items = prop.get("items")
    return prop.get("type") == "array" and isinstance(items, dict) and "enum" in items


def _custom(prop: dict[str, Any] | None, keyword: str) -> str | None:
    messages = (prop or {}).get("x-messages")
    return messages.get(keyword) if isinstance(messages, dict) else None


def _missing(prop: dict[str, Any] | None, name: str, ui: dict[str, Any]) -> str:
    custom = _custom(prop, "required")
    if custom:
        return custom
    if _is_choice(prop):
        return f"Select {_label(prop, name, ui)}"
    label = _label(prop, name, ui)
    if re.match(r"(?i)^(how|what|why|when|where|who|which|whether|the|a|an|any|your)\b", label):
        return f"Enter {label[0].lower() + label[1:]}"
    return f"Enter the {label}"


def _messages(error: ValidationError, root: dict[str, Any],
              ui: dict[str, Any]) -> Iterator[tuple[str, str]]:
    path = tuple(error.absolute_path)
    instance = error.instance
    kind = error.validator

    if kind == "required":
        for name in error.validator_value:
            if isinstance(instance, Mapping) and name not in instance:
                prop = (_schema_at(root, path + (name,))
                        or (error.schema.get("properties") or {}).get(name))
                yield _key(path + (name,)), _missing(prop, name, ui)
        return
    if kind in ("dependentRequired", "dependencies"):
        for trigger, needed in (error.validator_value or {}).items():
            if isinstance(instance, Mapping) and trigger in instance and isinstance(needed, list):
                for name in needed:
                    if name not in instance:
                        prop = _schema_at(root, path + (name,))
                        yield _key(path + (name,)), _missing(prop, name, ui)
        return
    if kind in ("additionalProperties", "unevaluatedProperties"):
        declared = set((error.schema.get("properties") or {}).keys())
        patterns = [re.compile(p) for p in (error.schema.get("patternProperties") or {})]
        for name in instance if isinstance(instance, Mapping) else ():
            if name not in declared and not any(p.search(name) for p in patterns):
                yield _key(path + (name,)), "This answer is not part of this form"
        return

    name = str(path[-1]) if path else ""
    prop = _schema_at(root, path) if path else None
    custom = _custom(prop, kind)
    if custom:
        yield _key(path), custom
        return
    label = _label(prop, name, ui) if path else "form"
    yield _key(path), _describe(kind, error, label)


def _key(path: tuple[Any, ...]) -> str:
    return ".".join(map(str, path)) if path else FORM_KEY


def _describe(kind: str, error: ValidationError, label: str) -> str:
    value = error.validator_value
    if kind == "format" and value == "date":
        return f"{label[0].upper()}{label[1:]} must be a real date, for example 2027-03-27"
    if kind == "format":
        return f"Enter {label} in the correct format"
    if kind in ("enum", "const"):
        return f"Select {label} from the options"
    if kind == "type":
        wanted = value if isinstance(value, str) else " or ".join(value)
        return {
            "boolean": f"Select yes or no for {label}",
            "integer": f"{label[0].upper()}{label[1:]} must be a whole number",
            "number": f"{label[0].upper()}{label[1:]} must be a number",
            "array": f"Select or enter one or more {label}",
            "object": f"Enter the details for {label}",
        }.get(wanted, f"Enter {label} as text")
    cap = f"{label[0].upper()}{label[1:]}"
    if kind == "minLength":
        return f"{cap} must be {value} characters or more"
    if kind == "maxLength":
        return f"{cap} must be {value} characters or fewer"
    exclusive = kind.startswith("exclusive")
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{cap} must be {'more than' if exclusive else 'at least'} {value}"
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{cap} must be {'less than' if exclusive else 'no more than'} {value}"
    if kind == "minItems":
        if value == 1:
            return f"Select or enter {label}"
        return f"Select or enter at least {value} {label}"
    if kind == "maxItems":
        return f"Select or enter no more than {value} {label}"
    if kind == "uniqueItems":
        return f"Remove the repeated {label}"
    if kind == "pattern":
        return f"Enter {label} in the correct format"
    if kind in ("oneOf", "anyOf", "not"):
        return f"Check {label}: the answer does not fit the options allowed"
    return f"Check {label}"


def _reason_values(schema: dict[str, Any], data: Any,
                   path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any, dict | None]]:
    """Every answered reason field, at any depth (reasons inside a list of recipients count)."""
    if isinstance(data, Mapping):
        for name, value in data.items():
            sub = path + (name,)
            prop = _schema_at(schema, sub)
            if isinstance(value, (Mapping, list)):
                yield from _reason_values(schema, value, sub)
            elif is_reason_field(str(name)) or (prop or {}).get("x-reason") is True:
                yield sub, value, prop
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _reason_values(schema, item, path + (index,))


def _types(prop: dict[str, Any] | None) -> list[str]:
    if not prop:
        return []
    kind = prop.get("type")
    if isinstance(kind, list):
        return [k for k in kind if k != "null"]
    if kind:
        return [kind]
    if "enum" in prop and prop["enum"] and all(isinstance(v, bool) for v in prop["enum"]):
        return ["boolean"]
    return []


def _coerce_scalar(value: str, prop: dict[str, Any] | None) -> Any:
    """One HTML string to the schema's type; leave it as text when it does not convert, so
    validation reports it against the field instead of this function guessing."""
    text = value.strip()
    kinds = _types(prop)
    if "boolean" in kinds:
        low = text.lower()
        if low in _YES:
            return True
        if low in _NO:
            return False
    if "integer" in kinds and re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if "number" in kinds:
        try:
            number = float(text)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in text else number
    return value


def coerce_submission(schema: dict[str, Any], raw: Mapping[str, str | list[str]]) -> dict[str, Any]:
    """Turn an HTML form post (strings, repeated fields as lists) into the schema's types.

    Blank answers are dropped (a blank answer is no answer). Arrays come from repeated fields
    (checkboxes). Keys the schema does not declare are passed through as text so validation
    can refuse them; ``csrf_token`` is dropped.
    """
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name in IGNORED_FORM_FIELDS:
            continue
        prop = _find_property(schema, name)
        values = value if isinstance(value, list) else [value]
        values = [v for v in values if isinstance(v, str) and v.strip()]
        if "array" in _types(prop):
            items = (prop or {}).get("items")
            out[name] = [_coerce_scalar(v, items if isinstance(items, dict) else None)
                         for v in values]
            continue
        if not values:
            continue
        out[name] = _coerce_scalar(values[0], prop)
    return out


def undeclared_fields(schema: dict[str, Any], submission: Mapping[str, Any]) -> list[str]:
    """Top-level keys of ``submission`` that the form does not declare and the server drops.

    What a task's form submits becomes the process's data, and gateways, DMN tables and later
    steps read that data: a key the form does not ask for (``decision_route``, ``chair_outcome``,
    ``level``) would let whoever posts the form set a variable the process relies on. JSON
    Schema lets undeclared properties through unless told otherwise, so:

    - a form that says nothing about extra properties: they are dropped (this list);
    - ``"additionalProperties": false`` (or ``unevaluatedProperties``) at its root: they are
      refused, as field errors, by :func:`validate_submission` (nothing to drop here);
    - ``true``, a schema, or ``patternProperties``: the policy team opened the form on purpose,
      and they are kept; so are the fields sent to a form that declares none at all (a bare
      ``{"type": "object"}``: nothing says what its fields are).

    Fields are declared under ``properties`` at the root or in its ``allOf``/``anyOf``/
    ``oneOf``/``if``/``then``/``else``/``dependentSchemas`` and local ``$ref`` s.
    """
    if schema.get("patternProperties"):
        return []
    if any(key in schema for key in ("additionalProperties", "unevaluatedProperties")):
        return []  # closed (refused by validation) or opened on purpose (kept)
    declared = _declared_names(schema, schema, 0)
    if not declared:
        return []
    return sorted(k for k in submission if k not in declared)


def _declared_names(schema: Any, root: dict[str, Any], depth: int) -> set[str]:
    if not isinstance(schema, dict) or depth > 8:
        return set()
    names = set(schema.get("properties") or {}) if isinstance(schema.get("properties"), dict) else set()
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        names |= _declared_names(target, root, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            names |= _declared_names(sub, root, depth + 1)
    for key in ("if", "then", "else"):
        names |= _declared_names(schema.get(key), root, depth + 1)
    dependent = schema.get("dependentSchemas")
    if isinstance(dependent, dict):
        for sub in dependent.values():
            names |= _declared_names(sub, root, depth + 1)
    return names


def apply_defaults(schema: dict[str, Any], submission: Mapping[str, Any]) -> dict[str, Any]:
    """The submission with every omitted field that declares a ``default`` set to that default.

    In JSON Schema ``default`` is only an annotation: no validator fills it in. A client that
    leaves out ``security_marking`` would otherwise complete a decision with no marking at all
    while the form says OFFICIAL-SENSITIVE, so the server applies the form's defaults itself,
    for every form. A field is omitted when it is absent, null, or blank text (a blank answer is
    no answer). Only the form's own top-level properties are defaulted (not those inside a list
    of objects or an ``if``/``then`` branch), and never ``readOnly`` ones, which come from the
    process (:func:`apply_read_only`).
    """
    import copy

    result = dict(submission)
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict) or "default" not in prop or prop.get("readOnly"):
            continue
        value = result.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            result[name] = copy.deepcopy(prop["default"])
    return result


def apply_read_only(schema: dict[str, Any], submission: Mapping[str, Any],
                    task_data: Mapping[str, Any]) -> dict[str, Any]:
    """The submission as the server takes it when a task is completed: the form's defaults for
    omitted fields (:func:`apply_defaults`), and every ``readOnly`` field from the task's data.

    Derived values (``presumption_applies`` from the DMN, case facts) are shown on the form
    but can never be overwritten by what a browser or API client sends.
    """
    import copy

    result = apply_defaults(schema, submission)
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("readOnly"):
            if name in task_data:
                result[name] = copy.deepcopy(task_data[name])
            else:
                result.pop(name, None)
    return result
