"""Refuse text holding NUL characters before any view sees it.

PostgreSQL cannot store U+0000 in text or JSON, so a NUL anywhere in a query string, a form
field, a JSON body or the path (a workflow key, a username) used to reach the database and end
as a 500, after part of the request's work. No legitimate answer contains one, so every request
is checked first: the API answers 400 in its error shape naming the fields, a page answers its
400 page. (SQLite would store it, and the two databases must behave alike.)
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, abort, request

from web.api.errors import error_response

NUL = "\x00"
MESSAGE = "Text may not contain NUL characters (U+0000)"


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)


def _refuse_nul() -> Any:
    fields = [f"query.{k}" for k, values in request.args.lists() if NUL in k or any(NUL in v for v in values)]
    if request.mimetype == "application/x-www-form-urlencoded":
        # read from the kept raw body, not request.form: parsing the form would use up the body
        # that an API view reads (and refuses: it wants JSON)
        pairs = parse_qsl(request.get_data(cache=True).decode("utf-8", "replace"), keep_blank_values=True)
        fields += sorted({k for k, v in pairs if NUL in k or NUL in v})
    elif request.mimetype == "multipart/form-data":  # parsed once; views read the same parse
        fields += [k for k, values in request.form.lists() if NUL in k or any(NUL in v for v in values)]
    if request.is_json:
        # parsed here on its own: get_json(silent=True) would cache "no body" for a malformed
        # one, and the view must still answer that with its own 400
        try:
            body = json.loads(request.get_data(cache=True))
        except ValueError:
            body = None
        fields += list(_nul_paths(body, ""))
    if NUL in request.path:
        fields.append("path")
    if not fields:
        return None
    if request.path.startswith("/api/"):
        return error_response(400, MESSAGE, {field or "_body": [MESSAGE] for field in fields})
    abort(400)


def _nul_paths(value: Any, path: str, depth: int = 0) -> list[str]:
    if depth > 64:
        return []
    if isinstance(value, str):
        return [path] if NUL in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                found.append(where)
            found += _nul_paths(item, where, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _nul_paths(item, f"{path}.{i}" if path else str(i), depth + 1)
    return found
