"""The API's Blueprint: bearer authentication, the JSON error shape, strict argument parsing."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

import flask
import marshmallow as ma
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort

from web.api.auth import authenticate
from web.api.errors import register_on_blueprint

#: responses every authenticated operation may give, documented on each
COMMON_ERRORS = (401, 403, 404, 422)


class ApiParser(FlaskParser):
    """webargs parser: unknown query parameters are refused (422) like unknown body fields,
    and a body that is not JSON is a 400 rather than silently read as empty."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": ma.RAISE, "querystring": ma.RAISE, "json": ma.RAISE}

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not core.is_json(req.mimetype):
            if req.content_length or req.headers.get("Transfer-Encoding"):
                abort(400, message="Send the body as JSON with Content-Type: application/json",
                      errors={})
            return core.missing
        return core.parse_json(req.get_data(cache=True))


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiParser()

    def __init__(self, name: str, import_name: str, *, description: str = "", auth: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(name, import_name, description=description, **kwargs)
        #: the OpenAPI tag (Flask names carry an ``api_`` prefix so pages may use the plain ones)
        self.tag = name.removeprefix("api_")
        register_on_blueprint(self)
        if auth:
            self.before_request(authenticate)

    def route(self, rule: str, *, parameters: Any = None, tags: Any = None, **options: Any) -> Any:
        return super().route(rule, parameters=parameters, tags=tags or [self.tag], **options)

    def errors(self, *statuses: int) -> Any:
        """Document error responses (all share the ErrorSchema shape). An operation that can
        answer 401 can also answer 429: a bad token from an address that sent too many."""
        if 401 in statuses and 429 not in statuses:
            statuses = (*statuses, 429)

        def decorator(func: Any) -> Any:
            for status in statuses:
                func = self.alt_response(status, response=HTTPStatus(status).name)(func)
            return func
        return decorator



def json_body() -> Any:
    """The request body parsed as JSON, for views whose domain validator words the errors.

    No body is ``{}`` (the validator then lists what is missing); a body that is not JSON, or
    is sent with another content type, is a 400.
    """
    import json

    raw = flask.request.get_data(cache=True)
    if not raw.strip():
        return {}
    if not core.is_json(flask.request.mimetype):
        abort(400, message="Send the body as JSON with Content-Type: application/json", errors={})
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        abort(400, message="The request body is not valid JSON", errors={})


def fast_json(payload: Any, status: int = 200) -> flask.Response:
    """Serialise a service view that already has the documented shape, skipping marshmallow.

    Used for the large pages (inbox, decision log), where dumping 50 items field by field
    costs more than the query; the schemathesis test checks these bodies against the schema.
    """
    resp = flask.jsonify(payload)
    resp.status_code = status
    return resp
