"""Every ```sh example in docs/api.md runs, in order, against the app (via the Flask test client).

Each block is one curl command; ``# expect N`` sets the expected status (default 200).
$API, the tokens and the ids are substituted from a small world built here.
"""
from __future__ import annotations

import io
import re
import shlex
from urllib.parse import urlsplit

import pytest

from .conftest import ROOT, case_body, open_task

DOC = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text())


def parse_curl(text: str) -> dict:
    expect = 200
    lines = []
    for line in text.splitlines():
        m = re.match(r"\s*#\s*expect\s+(\d{3})", line)
        if m:
            expect = int(m.group(1))
        elif not line.strip().startswith("#"):
            lines.append(line)
    argv = shlex.split(" ".join(lines).replace("\\ ", " "))
    assert argv[0] == "curl", text
    req = {"method": None, "headers": {}, "data": None, "form": [], "url": None, "expect": expect}
    it = iter(argv[1:])
    for arg in it:
        if arg in ("-s", "--silent", "-S", "-f", "--fail"):
            continue
        if arg in ("-X", "--request"):
            req["method"] = next(it)
        elif arg in ("-H", "--header"):
            k, _, v = next(it).partition(":")
            req["headers"][k.strip()] = v.strip()
        elif arg in ("-d", "--data", "--data-raw"):
            req["data"] = next(it)
        elif arg in ("-F", "--form"):
            req["form"].append(next(it))
        elif arg in ("-o", "--output"):
            next(it)
        elif arg.startswith("-"):
            raise AssertionError(f"curl option {arg} is not understood by this test: {text}")
        else:
            req["url"] = arg
    req["method"] = req["method"] or ("POST" if req["data"] is not None or req["form"] else "GET")
    return req


@pytest.fixture()
def world(clients, tokens, decided):
    second = clients["officer"].post("/api/v1/cases", json=case_body("KNT-2026-000050")).get_json()
    process_id = second["processes"][0]["id"]
    task = open_task(clients["officer"], process_id, "identify_children")
    return {"API": "http://127.0.0.1:5000/api/v1", "TOKEN": tokens["officer"],
            "MANAGER_TOKEN": tokens["manager"], "POLICY_TOKEN": tokens["policy"], "ADMIN_TOKEN": tokens["admin"],
            "CASE_ID": str(second["id"]), "PROCESS_ID": str(process_id), "TASK_ID": str(task["id"]),
            "DECISION_ID": str(decided["decision_id"])}


def substitute(value: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Z_]+)\}?", lambda m: env[m.group(1)], value)


def test_docs_have_examples_for_every_endpoint():
    text = "\n".join(blocks())
    for needle in ("/areas", "/cases\"", "/cases?", "/cases/$CASE_ID\"", "/processes", "/tasks?", "/claim",
                   "/draft", "/complete", "/release", "/decisions?", "/decisions/$DECISION_ID\"",
                   "/supersede", "/convictions", "/level", "/review-periods", "/pause", "/resume",
                   "needs_review=true", "format=csv", "/audit?", "/audit/verify", "/workflows\"", "/versions/",
                   "/diff?"):
        assert needle in text, needle


def test_every_curl_example_runs(app, world):
    client = app.test_client()
    for text in blocks():
        req = parse_curl(text)
        url = substitute(req["url"], world)
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:5000"), url
        headers = {k: substitute(v, world) for k, v in req["headers"].items()}
        kwargs: dict = {"method": req["method"], "headers": headers, "query_string": parts.query}
        if req["data"] is not None:
            kwargs["data"] = substitute(req["data"], world)
        if req["form"]:
            data: dict = {}
            for item in req["form"]:
                key, _, value = item.partition("=")
                if value.startswith("@"):
                    path = ROOT / value[1:]
                    data.setdefault(key, []).append((io.BytesIO(path.read_bytes()), path.name))
                else:
                    data[key] = value
            kwargs["data"] = data
            kwargs["content_type"] = "multipart/form-data"
        resp = client.open(parts.path, **kwargs)
        assert resp.status_code == req["expect"], (text, resp.status_code, resp.get_data(as_text=True)[:400])
