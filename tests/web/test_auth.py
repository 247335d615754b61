"""Sign-in, sign-out, sessions, CSRF and security headers."""
from __future__ import annotations

from sqlalchemy import select

from disclosure_engine.persistence.models import AuditEvent
from tests.web.conftest import PASSWORD, csrf_token, sign_in


def test_sign_in_page_has_the_contract_labels_and_headers(client):
    r = client.get("/sign-in")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<label class="govuk-label govuk-label--s" for="username">Username</label>' in html
    assert '<label class="govuk-label govuk-label--s" for="password">Password</label>' in html
    assert ">Sign in</button>" in html
    assert "Disclosure engine" in html and "govuk-phase-banner" in html
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert html.count(f'nonce="{nonce}"') == 1  # the GOV.UK body-class snippet only
    assert html.count("<script") == 2  # that snippet and the external module
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in r.headers


def test_hsts_only_over_tls(client):
    r = client.get("/sign-in", base_url="https://disclosure.example")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_nonce_changes_per_request(client):
    a = client.get("/sign-in").headers["Content-Security-Policy"]
    b = client.get("/sign-in").headers["Content-Security-Policy"]
    assert a != b


def test_sign_in_success_starts_a_fresh_session(client, world):
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    r = sign_in(client, "officer.kent")
    assert r.status_code == 302 and r.headers["Location"].endswith("/tasks")
    cookie = r.headers["Set-Cookie"]
    assert "de_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as s:
        assert "planted" not in s and isinstance(s["sid"], str) and "user_id" not in s
    with world["db"].transaction() as session:
        actions = list(session.execute(select(AuditEvent.action)).scalars())
    assert "auth.login" in actions


def test_sign_in_failure_shows_the_error_summary_and_is_audited(client, world):
    r = sign_in(client, "officer.kent", "wrong-password-123")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "<title>Error: Sign in" in html
    assert "govuk-error-summary" in html and 'href="#username"' in html
    assert "govuk-error-message" in html
    with world["db"].transaction() as session:
        assert "auth.login_failed" in set(session.execute(select(AuditEvent.action)).scalars())


def test_blank_sign_in_names_both_fields(client):
    token = csrf_token(client)
    html = client.post("/sign-in", data={"username": "", "password": "", "csrf_token": token}).get_data(as_text=True)
    assert "Enter your username" in html and "Enter your password" in html


def test_sign_in_is_throttled_after_repeated_failures(client):
    for _ in range(5):
        assert sign_in(client, "officer.kent", "wrong-password-123").status_code == 422
    assert sign_in(client, "officer.kent", PASSWORD).status_code == 422  # locked for 15 minutes


def test_forms_without_a_csrf_token_are_refused(client, signed_in):
    r = client.post("/sign-in", data={"username": "officer.kent", "password": PASSWORD})
    assert r.status_code == 400 and "expired" in r.get_data(as_text=True)
    c = signed_in("officer.kent")
    assert c.post("/sign-out").status_code == 400
    assert c.post("/tasks/1/claim").status_code == 400


def test_pages_need_a_sign_in(client):
    r = client.get("/tasks?tab=available")
    assert r.status_code == 302 and "/sign-in?next=/tasks?tab%3Davailable" in r.headers["Location"]
    assert client.get("/decisions/1").status_code == 302


def test_next_only_goes_to_local_paths(client):
    token = csrf_token(client)
    r = client.post("/sign-in?next=//evil.example/x", data={"username": "officer.kent", "password": PASSWORD,
                                                           "csrf_token": token})
    assert r.headers["Location"] == "/tasks"


def test_sign_out_is_a_post_and_ends_the_session(signed_in):
    c = signed_in("officer.kent")
    assert c.get("/sign-out").status_code == 405
    token = csrf_token(c, "/tasks")
    r = c.post("/sign-out", data={"csrf_token": token})
    assert r.status_code == 302
    assert c.get("/tasks").status_code == 302


def test_unknown_page_is_a_govuk_404(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "Page not found" in r.get_data(as_text=True)


def test_home_sends_each_role_to_its_start_page(signed_in):
    assert signed_in("officer.kent").get("/").headers["Location"].endswith("/tasks")
    assert signed_in("auditor").get("/").headers["Location"].endswith("/decisions")
    assert signed_in("policy.lead").get("/").headers["Location"].endswith("/workflows")


def test_static_assets_are_served(client):
    assert client.get("/static/build/govuk/govuk-frontend.min.css").status_code == 200
    assert client.get("/assets/images/favicon.svg").status_code == 200
    assert client.get("/static/ui/app.mjs").status_code == 200


def test_sign_out_ends_the_session_and_is_audited(client, world):
    sign_in(client, "officer.kent")
    token = csrf_token(client, "/tasks")
    r = client.post("/sign-out", data={"csrf_token": token})
    assert r.status_code == 302
    assert client.get("/tasks").status_code == 302, "signed out: back to sign-in"
    with world["db"].transaction() as session:
        actions = list(session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())
    assert actions[-1] == "auth.logout"


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(app, world):
    """A cookie copied before sign-out (another tab, a shared machine, a stolen cookie) opens
    nothing afterwards; a session also ends 12 hours after sign-in however busy it is."""
    from datetime import timedelta

    from sqlalchemy import update

    from disclosure_engine.persistence.models import WebSession, utcnow

    client = app.test_client()
    assert sign_in(client, "officer.kent").status_code == 302
    cookie = client.get_cookie("de_session").value
    copy = app.test_client()
    copy.set_cookie("de_session", cookie)
    assert copy.get("/tasks").status_code == 200
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/tasks")})
    replay = copy.get("/tasks")
    assert replay.status_code == 302 and "/sign-in" in replay.headers["Location"]

    assert sign_in(client, "officer.kent").status_code == 302
    assert client.get("/tasks").status_code == 200
    with world["db"].transaction() as session:
        session.execute(update(WebSession).where(WebSession.ended_at.is_(None))
                        .values(created_at=utcnow() - timedelta(hours=13)))
    late = client.get("/tasks")
    assert late.status_code == 302 and "/sign-in" in late.headers["Location"]


def _throttling_app(world, **settings):
    from dataclasses import replace

    from web import create_app

    return create_app(replace(world["settings"], sign_in_source_limit=3, **settings), TESTING=True)


def test_a_source_with_too_many_failed_sign_ins_is_answered_429_with_retry_after(world):
    client = _throttling_app(world).test_client()
    for username in ("officer.kent", "chair.kent", "nobody.kent"):  # one address, many usernames
        assert sign_in(client, username, "wrong-password-123").status_code == 422
    r = sign_in(client, "manager.kent")  # the right password, refused without being checked
    html = r.get_data(as_text=True)
    assert r.status_code == 429
    assert 14 * 60 < int(r.headers["Retry-After"]) <= 15 * 60
    assert "<title>Error: Sign in" in html and "govuk-error-summary" in html
    assert "Too many failed sign-in attempts from your network. Try again in 15 minutes." in html
    assert '<label class="govuk-label govuk-label--s" for="username">Username</label>' in html
    assert '<label class="govuk-label govuk-label--s" for="password">Password</label>' in html
    assert ">Sign in</button>" in html and 'value="manager.kent"' in html
    with client.session_transaction() as s:
        assert "sid" not in s, "not signed in"
    with world["db"].transaction() as session:
        actions = list(session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())
    assert actions.count("auth.login_failed") == 3 and actions.count("auth.source_throttled") == 1
    assert "auth.login" not in actions
    assert sign_in(client, "manager.kent").status_code == 429
    with world["db"].transaction() as session:
        assert len(list(session.execute(select(AuditEvent.action)).scalars())) == len(actions), \
            "refused attempts are not audited one by one"
    other = client.post("/sign-in", environ_base={"REMOTE_ADDR": "198.51.100.4"},
                        data={"username": "manager.kent", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert other.status_code == 302, "another address is not held back"


def test_behind_a_trusted_proxy_the_client_address_is_the_source(world):
    client = _throttling_app(world, trusted_proxy_hops=1).test_client()
    token = csrf_token(client)

    def attempt(client_address: str, password: str) -> int:
        return client.post("/sign-in", headers={"X-Forwarded-For": client_address},
                           data={"username": "officer.kent", "password": password, "csrf_token": token}).status_code

    for _ in range(3):
        assert attempt("203.0.113.50", "wrong-password-123") == 422
    assert attempt("203.0.113.50", PASSWORD) == 429
    assert attempt("203.0.113.51", PASSWORD) == 302, "the proxy's own address is not what is counted"


def test_a_nul_in_a_form_field_is_a_400_page_not_a_database_error(client, world):
    from tests.web.conftest import csrf_token

    token = csrf_token(client)
    response = client.post("/sign-in", data={"username": "officer\x00.kent", "password": "x", "csrf_token": token})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
