"""Headers and proxies: personal data is never cached, and the audited address is the client's."""
from __future__ import annotations

import dataclasses

from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.services import audit
from tests.web.conftest import sign_in


def test_api_answers_are_never_cached(app):
    response = app.test_client().get("/api/v1/areas")
    assert response.status_code == 401 and response.headers["Cache-Control"] == "no-store"


def test_the_client_address_behind_a_trusted_proxy_is_what_the_audit_records(world):
    from web import create_app

    # (over https a browser sends its Referer, which CSRF protection checks)
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "Referer": "https://localhost/sign-in"}
    direct = create_app(world["settings"], TESTING=True).test_client()
    sign_in(direct, "officer.kent")  # a header anyone can send is not trusted by default
    behind = create_app(dataclasses.replace(world["settings"], trusted_proxy_hops=1), TESTING=True).test_client()
    behind.environ_base.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in forwarded.items()})
    response = sign_in(behind, "officer.kent")
    assert response.status_code == 302 and "Strict-Transport-Security" in response.headers  # https, as the proxy said
    logins = audit.list_events(world["db"], SYSTEM, action="auth.login")
    assert [e["source"] for e in logins][:2] == ["203.0.113.7", "127.0.0.1"]
