"""Hostile XML is refused before any parser that could act on it sees it."""
from __future__ import annotations

import pytest

from disclosure_engine.engine.problems import InvalidWorkflow, Problem
from disclosure_engine.engine.xml_safety import parse_xml

from .conftest import BAD


def _refusal(content: bytes, max_bytes: int = 1 << 20) -> Problem:
    with pytest.raises(InvalidWorkflow) as info:
        parse_xml(content, path="upload.bpmn", max_bytes=max_bytes)
    assert len(info.value.problems) == 1
    assert info.value.errors == {"files": [str(info.value.problems[0])]}
    return info.value.problems[0]


def test_xxe_is_refused():
    problem = _refusal((BAD / "xxe.bpmn").read_bytes())
    assert problem.line == 2 and "DOCTYPE" in problem.message
    assert str(problem).startswith("upload.bpmn:2: -: ")


def test_billion_laughs_is_refused_quickly():
    problem = _refusal((BAD / "billion_laughs.bpmn").read_bytes())
    assert "entity" in problem.message.lower()


def test_external_dtd_reference_is_refused():
    content = b'<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "http://example.com/x.dtd">\n<x/>'
    assert "DOCTYPE" in _refusal(content).message


def test_oversize_file_is_refused():
    problem = _refusal(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)
    assert "larger than the 1000-byte limit" in problem.message


def test_malformed_xml_reports_its_line():
    problem = _refusal(b"<a>\n<b>\n</a>")
    assert problem.line >= 2 and "well-formed" in problem.message


def test_undeclared_entity_reference_is_not_expanded():
    problem = _refusal(b"<a>&xxe;</a>")
    assert "xxe" in problem.message


def test_plain_xml_parses():
    root = parse_xml(b"<a><b id='x'/></a>", path="p", max_bytes=100)
    assert root.find("b").get("id") == "x"
