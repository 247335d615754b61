"""Render a BPMN task's instructions (Markdown with ``{{ name }}`` placeholders) safely.

The Markdown comes from deployed workflows (policy-owned data), and placeholder values come
from task data (which officers type), so neither may inject markup:

- markdown-it-py in CommonMark mode with raw HTML **disabled** (HTML in the source is shown
  as text) and its link validation (no ``javascript:`` or ``data:`` links);
- placeholders are swapped for inert tokens before rendering and the values, HTML-escaped,
  are put back afterwards, so a value can never become Markdown syntax either;
- an unknown placeholder renders as an empty, visible gap marker rather than an error.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_CLASSES = {
    "<p>": '<p class="govuk-body">',
    "<ul>": '<ul class="govuk-list govuk-list--bullet">',
    "<ol>": '<ol class="govuk-list govuk-list--number">',
    "<h1>": '<h2 class="govuk-heading-m">', "</h1>": "</h2>",
    "<h2>": '<h3 class="govuk-heading-s">', "</h2>": "</h3>",
    "<h3>": '<h4 class="govuk-heading-s">', "</h3>": "</h4>",
    "<blockquote>": '<div class="govuk-inset-text">', "</blockquote>": "</div>",
    "<table>": '<table class="govuk-table">',
}
_TAGS = re.compile("|".join(re.escape(tag) for tag in _CLASSES))


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return "[not recorded]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def render_instructions(source: str | None, data: Mapping[str, Any]) -> Markup:
    if not source or not source.strip():
        return Markup("")
    values: list[str] = []

    def stash(match: re.Match[str]) -> str:
        values.append(_text(_lookup(data, match.group(1))))
        return f"PLACEHOLDERQ{len(values) - 1}Q"

    html = _md.render(_PLACEHOLDER.sub(stash, source))
    html = _TAGS.sub(lambda m: _CLASSES[m.group(0)], html)
    html = re.sub(r'<a href="', '<a class="govuk-link" rel="noreferrer noopener" href="', html)
    html = re.sub(r"PLACEHOLDERQ(\d+)Q", lambda m: str(escape(values[int(m.group(1))])), html)
    return Markup(html)
