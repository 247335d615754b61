"""Real SpiffArena models: each is accepted or refused with PATH:LINE: element-id: message,
the validator never raises, and what it accepts can be started."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from disclosure_engine.domain.errors import DisclosureError
from disclosure_engine.engine.bundle import bundle_from_path
from disclosure_engine.engine.runtime import (
    compile_bundle,
    start_workflow,
    workflow_status,
)
from disclosure_engine.engine.validate import validate_paths

CORPUS = Path("/work/shared/corpus/spiffarena-examples")
FILES = sorted(CORPUS.rglob("*.bpmn")) if CORPUS.is_dir() else []
LINE = re.compile(r"^.+:\d+: [^:\s]+: \S.*$")

pytestmark = pytest.mark.skipif(not FILES, reason="corpus not present on this machine")


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_corpus_file_is_accepted_or_refused_with_a_named_reason(path: Path):
    problems = validate_paths([path])
    for problem in problems:
        text = str(problem)
        assert LINE.match(text) and "\n" not in text, text
        assert problem.line >= 1
        assert "Traceback" not in text and "internal error" not in text, text
    if not problems:
        compiled = compile_bundle(bundle_from_path(path))
        try:
            wf = start_workflow(compiled, {})
        except DisclosureError:
            return  # one of ours (e.g. data the model expects is missing): acceptable
        assert workflow_status(wf) in ("completed", "waiting", "error")


def test_corpus_is_mostly_refused_for_product_reasons():
    problems = validate_paths([CORPUS])
    messages = " ".join(p.message for p in problems)
    assert "service tasks are not supported" in messages
    assert "has no candidate role" in messages
    assert len({p.path for p in problems}) < len(FILES) + 1
