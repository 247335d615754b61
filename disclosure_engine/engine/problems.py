"""Validation problems in the one format every edge prints: ``PATH:LINE: element-id: message``.

Policy authors fix BPMN in a modeller that shows element ids, and in a text editor that shows
lines, so every problem carries both; the CLI prints them one a line and the API returns the
same strings under ``errors["files"]``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from disclosure_engine.domain.errors import ValidationFailed


@dataclass(frozen=True)
class Problem:
    """One reason a workflow file is refused."""

    path: str
    line: int
    element_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.element_id}: {self.message}"


class InvalidWorkflow(ValidationFailed):
    """A workflow bundle was refused; ``problems`` says where and why."""

    def __init__(self, problems: Iterable[Problem], message: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        first = str(self.problems[0]) if self.problems else "workflow is invalid"
        super().__init__(message or first, {"files": [str(p) for p in self.problems]})
