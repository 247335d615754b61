"""Render a BPMN task's instructions (Markdown with ``{{ name }}`` placeholders) safely.

The Markdown comes from deployed workflows (policy-owned data), and placeholder values come
from task data (which officers type), so neither may inject markup:

- markdown-it-py in CommonMark mode with raw HTML **disabled** (HTML in the source is shown
  as text) and its link validation (no ``javascript:``, ``vbscript:``, ``file:`` or ``data:``
  links other than images), plus GFM tables (SpiffArena instructions use them);
- placeholders are swapped for inert markers before parsing, and the values are put into the
  parsed tokens, so a value can never become Markdown syntax; the renderer escapes them;
- a value that lands in a link or image target is checked with markdown-it's own
  ``normalizeLink``/``validateLink`` *after* substitution (the marker alone passed the check
  at parse time): an unsafe one leaves the link text as plain text, the image as its alt text;
- an unknown placeholder renders as "[not recorded]" rather than an error;
- GOV.UK Frontend classes are set on the tokens (not by rewriting the HTML).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_URL_ATTRS = ("href", "src")
#: token type -> (tag to render instead or None, GOV.UK class)
_GOVUK: dict[str, tuple[str | None, str]] = {
    "paragraph_open": (None, "govuk-body"),
    "bullet_list_open": (None, "govuk-list govuk-list--bullet"),
    "ordered_list_open": (None, "govuk-list govuk-list--number"),
    "blockquote_open": ("div", "govuk-inset-text"),
    "table_open": (None, "govuk-table"),
    "thead_open": (None, "govuk-table__head"),
    "tbody_open": (None, "govuk-table__body"),
    "tr_open": (None, "govuk-table__row"),
    "th_open": (None, "govuk-table__header"),
    "td_open": (None, "govuk-table__cell"),
    "link_open": (None, "govuk-link"),
}
#: headings move one level down: the page's own h1/h2 come first
_HEADINGS = {"h1": ("h2", "govuk-heading-m"), "h2": ("h3", "govuk-heading-s"),
             "h3": ("h4", "govuk-heading-s")}


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


def _safe_url(url: str) -> str | None:
    """The URL as markdown-it would emit it from the source, or None if it refuses it."""
    normalised = _md.normalizeLink(url)
    return normalised if _md.validateLink(normalised) else None


def _fill(tokens: list[Token], fill: Callable[[str], str], marker: re.Pattern[str]) -> None:
    """Put the values into the tokens (content, titles, link and image targets), in place."""
    for index, token in enumerate(tokens):
        if token.children:
            _fill(token.children, fill, marker)
        if token.content and marker.search(token.content):
            token.content = fill(token.content)
        for name, value in list(token.attrs.items()):
            if not isinstance(value, str) or not marker.search(value):
                continue
            if name not in _URL_ATTRS:
                token.attrs[name] = fill(value)
                continue
            url = _safe_url(fill(value))
            if url is not None:
                token.attrs[name] = url
            else:
                _unlink(tokens, index)


def _unlink(tokens: list[Token], index: int) -> None:
    """Drop an unsafe link (its text stays) or image (its alt text stays)."""
    token = tokens[index]
    if token.type == "image":
        alt = _md.renderer.renderInlineAsText(token.children or [], _md.options, {})
        tokens[index] = Token("text", "", 0, content=alt)
        return
    token.hidden = True
    token.attrs.pop("href", None)
    for later in tokens[index + 1:]:
        if later.type == "link_close":
            later.hidden = True
            break


def _govuk(tokens: list[Token]) -> None:
    """GOV.UK Frontend classes and tags, on the tokens."""
    for token in tokens:
        if token.children:
            _govuk(token.children)
        if token.type in ("heading_open", "heading_close") and token.tag in _HEADINGS:
            tag, css = _HEADINGS[token.tag]
            token.tag = tag
            if token.nesting == 1:
                token.attrSet("class", css)
        elif token.type == "blockquote_close":
            token.tag = "div"
        elif token.type in _GOVUK:
            tag, css = _GOVUK[token.type]
            token.tag = tag or token.tag
            _cell_alignment(token)
            token.attrSet("class", f"{css} {token.attrs.pop('class')}" if "class" in token.attrs else css)
            if token.type == "link_open":
                token.attrSet("rel", "noreferrer noopener")
            elif token.type == "th_open":
                token.attrSet("scope", "col")


def _cell_alignment(token: Token) -> None:
    """GFM alignment arrives as ``style="text-align:..."``, which the Content-Security-Policy
    (``style-src 'self'``) blocks: right alignment becomes GOV.UK's numeric modifier, the rest
    the default left."""
    style = str(token.attrs.pop("style", ""))
    if token.type in ("th_open", "td_open") and "text-align:right" in style:
        base = "govuk-table__header" if token.type == "th_open" else "govuk-table__cell"
        token.attrSet("class", f"{base}--numeric")


def render_instructions(source: str | None, data: Mapping[str, Any]) -> Markup:
    """The instructions as GOV.UK-styled HTML, with ``{{ name }}`` filled from ``data``."""
    if not source or not source.strip():
        return Markup("")
    values: list[str] = []
    nonce = secrets.token_hex(6)  # the source cannot spell a marker it does not know
    marker = re.compile(rf"PLACEHOLDER{nonce}Q(\d+)Q")

    def stash(match: re.Match[str]) -> str:
        values.append(_text(_lookup(data, match.group(1))))
        return f"PLACEHOLDER{nonce}Q{len(values) - 1}Q"

    def fill(text: str) -> str:
        return marker.sub(lambda m: values[int(m.group(1))], text)

    tokens = _md.parse(_PLACEHOLDER.sub(stash, source))
    _fill(tokens, fill, marker)
    _govuk(tokens)
    return Markup(_md.renderer.render(tokens, _md.options, {}))
