"""Security headers on every response, registered app-wide (pages and API alike).

The Content-Security-Policy is the one checked in ../shared/web-notes.md: scripts only from
this origin plus a per-request nonce, used once, for GOV.UK Frontend's body-class snippet in
the page template. No inline script otherwise, no inline style attributes, no framing.
A response that already carries its own CSP (for example an API documentation page that
needs a different policy) keeps it; every other header is always set.
"""
from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This request's nonce (made on first use)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = CSP.format(nonce=csp_nonce())
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    # personal data must not stay in a browser's or a proxy's cache: pages and the whole API
    if response.mimetype == "text/html" or request.path.startswith(
            ("/sign-in", "/tasks", "/cases", "/decisions", "/audit", "/api/")):
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    if app.extensions.get("ui_security_headers"):
        return
    app.extensions["ui_security_headers"] = True
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
