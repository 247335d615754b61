"""The HTTP API under /api/v1: JSON, bearer tokens, OpenAPI 3 at /api/v1/openapi.json.

flask-smorest builds the OpenAPI document from the blueprints and marshmallow schemas in this
package; ``/api/v1/docs`` is a self-hosted, script-free page generated from that document
(no CDN, CSP ``default-src 'none'``). Errors everywhere under /api/ share one shape
(``web.api.errors``). Authorisation by role and area is the services' job.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, render_template_string
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from web.api import areas, audit, authoring, cases, decisions, processes, statistics, tasks, workflows
from web.api.errors import ErrorSchema, install_boundary

PREFIX = "/api/v1"
API_VERSION = "1.0"
#: (blueprint, path under /api/v1)
RESOURCES = ((cases.blp, "/cases"), (processes.blp, "/processes"), (tasks.blp, "/tasks"),
             (decisions.blp, "/decisions"), (audit.blp, "/audit"), (workflows.blp, "/workflows"),
             (areas.blp, "/areas"), (statistics.blp, "/statistics")) + authoring.RESOURCES

DESCRIPTION = """\
The disclosure-engine API for MAPPA Responsible Authorities (CJA 2003 s.327A).

* Authenticate every request with `Authorization: Bearer <token>` (`disclosure-engine tokens create NAME`).
* What you see and may do follows your roles **and areas**: a case, task or decision in an area
  you do not work in is 404, exactly as if it did not exist.
* Errors are `{"message": str, "errors": {field: [messages]}}`; nested fields use dotted paths.
* Bad tokens are counted per client address: after too many within the window (20 in 15
  minutes by default) a bad token is answered 429 with `Retry-After` (seconds); a good token
  always works.
* Lists are pages: `{"items": [...], "total", "limit", "offset"}` (audit: `next_before`).
* Reads of cases, tasks, processes and decisions, and every change or export, are audit events.
"""


class DisclosureApi(Api):
    """flask-smorest Api whose errors use our shape, scoped to /api/ (pages keep theirs)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        install_boundary(self._app)

    def _register_responses(self) -> None:
        """flask-smorest's response per status, but 429 also documents ``Retry-After``."""
        super()._register_responses()
        response = {"description": "The bearer token is not valid and this address has sent too many bad "
                                   "tokens within the window; try again after Retry-After seconds "
                                   "(a valid token always works).",
                    "schema": self.ERROR_SCHEMA,
                    "headers": {"Retry-After": {"description": "Seconds until this address may try again",
                                                "schema": {"type": "integer", "minimum": 1}}}}
        prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response("TOO_MANY_REQUESTS", response, lazy=True)  # replaces the default

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """As flask-smorest's, but the OpenAPI tag is the resource name (``blp.tag``)."""
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blp.name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=blp.name, parameters=parameters)
        self.spec.tag({"name": blp.tag, "description": blp.description})


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "disclosure-engine")
    app.config.setdefault("API_VERSION", API_VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": DESCRIPTION},
        "security": [{"bearerAuth": []}],
    })
    api = DisclosureApi(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "A token from `disclosure-engine tokens create USERNAME`"})
    for blp, path in RESOURCES:
        api.register_blueprint(blp, url_prefix=PREFIX + path)
    app.register_blueprint(docs_blueprint())
    app.extensions["disclosure_api"] = api


def openapi_document(app: Flask | None = None) -> dict[str, Any]:
    app = app or current_app
    return app.extensions["disclosure_api"].spec.to_dict()


def docs_blueprint() -> Blueprint:
    bp = Blueprint("api_docs_page", __name__, url_prefix=PREFIX)

    @bp.get("/docs")
    def docs() -> Any:
        spec = openapi_document()
        operations = []
        for path, item in spec.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in ("get", "post", "put", "patch", "delete"):
                op = item.get(method)
                if op is None:
                    continue
                params = [p for p in shared + op.get("parameters", []) if "$ref" not in p]
                body = op.get("requestBody", {}).get("content", {})
                operations.append({
                    "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                    "description": op.get("description", ""), "tag": (op.get("tags") or [""])[0],
                    "params": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                                "type": _type(p.get("schema", {})), "description": p.get("description", "")}
                               for p in params],
                    "body": [{"type": ct, "schema": _type(c.get("schema", {}))} for ct, c in body.items()],
                    "responses": [{"status": code, "description": r.get("description", "") if "$ref" not in r
                                   else r["$ref"].rsplit("/", 1)[-1].replace("_", " ").lower(),
                                   "schema": ", ".join(_type(c.get("schema", {}))
                                                       for c in r.get("content", {}).values())}
                                  for code, r in op.get("responses", {}).items()],
                })
        html = render_template_string(DOCS_TEMPLATE, spec=spec, operations=operations,
                                      schemas=spec.get("components", {}).get("schemas", {}),
                                      json_url=f"{PREFIX}/openapi.json", dumps=_dumps)
        return html, 200, {"Content-Security-Policy": "default-src 'none'; base-uri 'none'; "
                                                      "form-action 'none'; frame-ancestors 'none'",
                           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    return bp


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return f"{kind} ({' | '.join(map(str, schema['enum']))})"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=False)


DOCS_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ spec.info.title }} API {{ spec.info.version }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<header><h1>{{ spec.info.title }} API {{ spec.info.version }}</h1>
<p>Machine-readable document: <a href="{{ json_url }}">{{ json_url }}</a> (OpenAPI {{ spec.openapi }}).</p></header>
<main>
<pre>{{ spec.info.description }}</pre>
<nav aria-label="Operations"><h2>Operations</h2><ul>
{% for op in operations %}<li><a href="#op-{{ loop.index }}"><code>{{ op.method }} {{ op.path }}</code></a>
 {{ op.summary }}</li>{% endfor %}
</ul></nav>
{% for op in operations %}
<section id="op-{{ loop.index }}" aria-labelledby="op-{{ loop.index }}-h">
<h2 id="op-{{ loop.index }}-h"><code>{{ op.method }} {{ op.path }}</code></h2>
<p><strong>{{ op.summary }}</strong>{% if op.tag %} ({{ op.tag }}){% endif %}</p>
{% if op.description %}<pre>{{ op.description }}</pre>{% endif %}
{% if op.params %}<table><caption>Parameters</caption>
<thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th>
<th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>
{% for p in op.params %}<tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td><td>{{ p.type }}</td>
<td>{{ "yes" if p.required else "no" }}</td><td>{{ p.description }}</td></tr>{% endfor %}
</tbody></table>{% endif %}
{% if op.body %}<p>Request body: {% for b in op.body %}<code>{{ b.type }}</code> {{ b.schema }}{% if not loop.last %}; {% endif %}{% endfor %}</p>{% endif %}
<table><caption>Responses</caption><thead><tr><th scope="col">Status</th><th scope="col">Meaning</th>
<th scope="col">Body</th></tr></thead><tbody>
{% for r in op.responses %}<tr><td>{{ r.status }}</td><td>{{ r.description }}</td><td>{{ r.schema }}</td></tr>{% endfor %}
</tbody></table>
</section>
{% endfor %}
<section aria-labelledby="schemas-h"><h2 id="schemas-h">Schemas</h2>
{% for name, schema in schemas.items() %}<h3 id="schema-{{ name }}">{{ name }}</h3>
<pre>{{ dumps(schema) }}</pre>{% endfor %}
</section>
</main>
</body></html>
"""
