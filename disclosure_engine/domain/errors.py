"""Errors every layer raises and every edge (CLI, HTTP) maps to an exit code or status.

The web layer maps: ValidationFailed -> 422, NotFound -> 404, Forbidden -> 403,
Conflict -> 409, BadInput -> 400, Throttled -> 429 (with Retry-After). The CLI maps ValidationFailed/BadInput -> exit 2.
Keeping the mapping in one place is why services never raise HTTP or click exceptions.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence


class DisclosureError(Exception):
    """Base of every expected error; anything else is a bug."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(DisclosureError):
    """The request could not be understood at all (malformed body, unknown option)."""

    status = 400


class ValidationFailed(DisclosureError):
    """The input was understood but breaks a rule; ``errors`` maps field -> messages."""

    status = 422

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}


class NotFound(DisclosureError):
    """The thing does not exist *or the actor may not know it exists* (no existence leak)."""

    status = 404


class Forbidden(DisclosureError):
    """The actor may know the thing exists but may not do this to it."""

    status = 403


class Conflict(DisclosureError):
    """The action lost a race or the state moved on (task completed, instance locked)."""

    status = 409


class Throttled(DisclosureError):
    """Too many failed sign-ins from one source: refused without checking the credential.

    ``retry_after`` is whole seconds until the source's window has room again (at least 1),
    for the HTTP ``Retry-After`` header and the message a person reads.
    """

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
