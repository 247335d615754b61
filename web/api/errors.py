"""One error shape for everything under /api/: ``{"message": str, "errors": {field: [msgs]}}``.

Services raise DisclosureError subclasses (status on the class); werkzeug raises HTTPExceptions
(routing 404/405, 413, webargs' 400/422). Both become the same JSON here: never an HTML page,
never a stack trace. Field paths of nested input are flattened with dots
(``convictions.0.date``), the same keys the domain validators use.

Handlers are registered on every API blueprint, and the app's own HTTP and unhandled-exception
handling is wrapped for request paths under ``/api/`` only: routing errors (unknown path, wrong
method) happen before a blueprint is chosen, and pages (web.ui) keep their own handlers.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, got_request_exception, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import RequestRedirect

from disclosure_engine.domain.errors import DisclosureError

API_PREFIX = "/api/"
#: what each status means to an integrator, when nothing more specific was said
DEFAULT_MESSAGES = {
    400: "The request could not be understood",
    401: "Authentication required: send Authorization: Bearer <token>",
    403: "You may not do this",
    404: "Not found",
    405: "This method is not allowed here",
    409: "The request conflicts with the current state",
    413: "The request body is too large",
    415: "Unsupported content type",
    422: "There is a problem with the request",
    429: "Too many requests",
    500: "Internal server error",
}


class Unauthorized(DisclosureError):
    """No usable bearer token (missing, unknown, revoked, or the user is disabled)."""

    status = 401


class ErrorSchema(ma.Schema):
    """The error payload of every API response with a 4xx or 5xx status."""

    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), required=True,
        metadata={"description": "Field path (dotted, e.g. convictions.0.date) to messages; "
                                 "empty when the error is not about a field"})


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, message: str | None = None, errors: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    resp = jsonify(message=message or DEFAULT_MESSAGES.get(status, "Error"), errors=dict(errors or {}))
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    if status == 401:
        resp.headers.setdefault("WWW-Authenticate", 'Bearer realm="disclosure-engine"')
    resp.headers["Cache-Control"] = "no-store"
    return resp


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow/webargs nested messages -> ``{"a.0.b": ["msg", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = "_form" if key == "_schema" else str(key)
            path = f"{prefix}.{name}" if prefix and name != "_form" else (prefix or name)
            for k, v in flatten(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, (list, tuple)):
        key = prefix or "_form"
        for item in messages:
            if isinstance(item, (Mapping, list, tuple)):
                for k, v in flatten(item, prefix).items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(key, []).append(str(item))
    elif messages is not None:
        out.setdefault(prefix or "_form", []).append(str(messages))
    return out


def handle_disclosure_error(exc: DisclosureError) -> Response:
    status = exc.status if 400 <= exc.status < 600 else 500
    if status >= 500:
        # the client sees a generic 500; the operator must see what failed (an engine error
        # names the BPMN element)
        current_app.logger.error("%s %s failed: %s", request.method, request.path, exc, exc_info=exc)
        return error_response(500)
    retry_after = getattr(exc, "retry_after", None)  # Throttled: when the client may try again
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return error_response(status, exc.message, getattr(exc, "errors", None), headers)


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    headers: dict[str, str] = {}
    if status == 405:
        allow = [v for k, v in exc.get_headers() if k.lower() == "allow"]
        if allow:
            headers["Allow"] = allow[0]
    headers.update(data.get("headers") or {})
    if "messages" in data:  # webargs: {"json": {...}, "query": {...}}
        messages = data["messages"]
        if status == 400 and isinstance(messages, Mapping) and "json" in messages and isinstance(
                messages["json"], list):
            return error_response(400, "The request body is not valid JSON", {}, headers)
        errors: dict[str, list[str]] = {}
        if isinstance(messages, Mapping):
            for _location, value in messages.items():
                for k, v in flatten(value).items():
                    errors.setdefault(k, []).extend(v)
        else:
            errors = flatten(messages)
        return error_response(status, data.get("message") or DEFAULT_MESSAGES.get(status), errors, headers)
    message = data.get("message") or _description(exc, status)
    if status == 413:
        limit = _max_length()
        message = "The request body is too large" + (f" (limit {limit} bytes)" if limit else "")
    return error_response(status, message, data.get("errors"), headers)


def _description(exc: HTTPException, status: int) -> str:
    if status >= 500:
        return DEFAULT_MESSAGES[500]
    return DEFAULT_MESSAGES.get(status) or (exc.name or "Error")


def _max_length() -> int | None:
    from flask import current_app

    value = current_app.config.get("MAX_CONTENT_LENGTH")
    return int(value) if value else None


def register_on_blueprint(blp: Any) -> None:
    blp.register_error_handler(DisclosureError, handle_disclosure_error)
    blp.register_error_handler(HTTPException, handle_http_exception)


def install_boundary(app: Flask) -> None:
    """Make every error under /api/ JSON, whatever handlers other parts of the app register.

    Wraps the app's HTTP-exception and unhandled-exception entry points (checked per request
    path, so pages are untouched). Redirects (e.g. a missing trailing slash) pass through.
    """
    if app.extensions.get("api_error_boundary"):
        return
    app.extensions["api_error_boundary"] = True
    original_http = app.handle_http_exception
    original_user = app.handle_user_exception
    original_exc = app.handle_exception

    def handle_http(e: HTTPException) -> Any:
        if not is_api_request() or e.code is None or isinstance(e, RequestRedirect):
            return original_http(e)
        return handle_http_exception(e)

    def handle_user(e: Exception) -> Any:
        if is_api_request() and isinstance(e, DisclosureError):
            return handle_disclosure_error(e)
        return original_user(e)

    def handle_exc(e: Exception) -> Any:
        if not is_api_request():
            return original_exc(e)
        got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=e)
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        if propagate is None:
            propagate = app.testing or app.debug
        if propagate:
            if sys.exc_info()[1] is e:
                raise
            raise e
        app.log_exception(sys.exc_info())
        return handle_http_exception(InternalServerError())

    app.handle_http_exception = handle_http  # type: ignore[method-assign]
    app.handle_user_exception = handle_user  # type: ignore[method-assign]
    app.handle_exception = handle_exc  # type: ignore[method-assign]
