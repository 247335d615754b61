"""Property-based run of schemathesis over /api/v1/openapi.json, in-process against the WSGI app.

Bounded (25 examples per operation, derandomized) so it finishes in well under two minutes;
it asserts no 5xx, and that statuses, content types, headers and bodies conform to the
document. (The operations are driven one by one with Hypothesis rather than through
``schemathesis.pytest.from_fixture``, which does not work with pytest 9.)
"""
from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.specs.openapi import checks as oa_checks  # noqa: E402

from .conftest import case_body, run_to_decision  # noqa: E402

CHECKS = [schemathesis.checks.not_a_server_error, oa_checks.status_code_conformance,
          oa_checks.content_type_conformance, oa_checks.response_schema_conformance,
          oa_checks.response_headers_conformance]
MAX_EXAMPLES = 25


@pytest.mark.slow
def test_api_conforms_to_its_openapi_document(app, clients, tokens):
    run_to_decision(clients, clients["officer"].post("/api/v1/cases", json=case_body()).get_json())
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 21
    failures: list[str] = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
