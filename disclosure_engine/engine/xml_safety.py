"""Hardened XML parsing for every BPMN and DMN file the product reads.

Workflow files are uploaded by policy users over HTTP, so they are untrusted input: a DOCTYPE
can declare entities that read local files (XXE), fetch URLs, or expand exponentially
("billion laughs"). lxml is configured to resolve nothing, and any DOCTYPE at all is refused,
because BPMN never needs one and refusing is simpler to reason about than neutralising.
"""
from __future__ import annotations

import re

from lxml import etree

from disclosure_engine.engine.problems import InvalidWorkflow, Problem

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, dtd_validation=False, remove_comments=False)


def _refuse(path: str, line: int, message: str) -> InvalidWorkflow:
    return InvalidWorkflow([Problem(path, max(line, 1), "-", message)])


def parse_xml(content: bytes, *, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse ``content`` safely or raise InvalidWorkflow naming the reason and line."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    if len(content) > max_bytes:
        raise _refuse(path, 1, f"file is {len(content)} bytes, larger than the "
                               f"{max_bytes}-byte limit")
    match = _DOCTYPE.search(content)
    if match:
        line = content.count(b"\n", 0, match.start()) + 1
        raise _refuse(path, line, "DOCTYPE and entity declarations are not allowed "
                                  "(they enable XXE and entity-expansion attacks)")
    try:
        root = etree.fromstring(content, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        raise _refuse(path, line, f"not well-formed XML: {exc.msg}") from None
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise _refuse(path, 1, f"not well-formed XML: {exc}") from None
    if root is None:
        raise _refuse(path, 1, "empty XML document")
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise _refuse(path, 1, "DOCTYPE declarations are not allowed")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise _refuse(path, node.sourceline or 1, "entity references are not allowed")
    return root
