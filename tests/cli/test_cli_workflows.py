"""`workflows validate` and `workflows deploy` take the BPMN with its DMN and form files, as
policy teams name them: files from several directories, or a directory; problems name the
paths as given, and both commands refuse exactly the same files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from disclosure_engine.engine.bundle import bundle_from_path
from disclosure_engine.services.workflows import get_version

from .test_cli import MINI, ROOT, run  # noqa: F401  (fixture)

WORKFLOWS = ROOT / "workflows"
URGENT = WORKFLOWS / "urgent_disclosure.bpmn"


def _mini_copy(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for f in MINI.parent.iterdir():
        shutil.copy(f, directory / f.name)
    return directory / MINI.name


def _urgent_split(tmp_path: Path) -> tuple[Path, list[Path]]:
    """The BPMN alone in one directory, its DMN and forms in another."""
    (tmp_path / "dir2").mkdir()
    (tmp_path / "dir").mkdir()
    bpmn = Path(shutil.copy(URGENT, tmp_path / "dir2" / URGENT.name))
    others = [Path(shutil.copy(f, tmp_path / "dir" / f.name))
              for f in sorted(WORKFLOWS.glob("urgent_*")) if f.suffix in (".dmn", ".json")]
    return bpmn, others


def _problem_lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line]


def test_validate_takes_the_dmn_and_form_files_given_with_the_bpmn(run):
    result = run("workflows", "validate", "workflows/urgent_disclosure.bpmn", "workflows/urgent_presumption.dmn",
                 "workflows/urgent_disclosure--immediate_safeguarding.schema.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "OK 1 workflow file(s)"


def test_deploy_takes_the_bpmn_with_dmn_and_forms_from_another_directory(run, db, tmp_path):
    bpmn, others = _urgent_split(tmp_path)
    validated = run("workflows", "validate", str(bpmn), *map(str, others))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    deployed = run("workflows", "deploy", str(bpmn), *map(str, others))
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert deployed.stdout.strip() == "urgent_disclosure 1"
    stored = get_version(db, "urgent_disclosure", 1)
    assert set(stored["files"]) == set(bundle_from_path(URGENT).files), "the same bundle as from workflows/"


def test_a_given_form_is_deployed_instead_of_the_one_beside_the_bpmn(run, db, tmp_path):
    bpmn = _mini_copy(tmp_path / "checkout")
    changed = tmp_path / "scratch" / "mini--assess.schema.json"
    changed.parent.mkdir()
    schema = json.loads((MINI.parent / changed.name).read_text())
    schema["title"] = "Assess serious harm (revised)"
    changed.write_text(json.dumps(schema))
    result = run("workflows", "deploy", str(bpmn), str(changed))
    assert result.returncode == 0, result.stdout + result.stderr
    stored = get_version(db, "mini_decision", 1)["content"]
    assert json.loads(stored["mini--assess.schema.json"])["title"] == "Assess serious harm (revised)"


def test_a_problem_in_a_given_file_names_that_file_as_given(run, tmp_path):
    bpmn, others = _urgent_split(tmp_path)
    dmn = next(f for f in others if f.suffix == ".dmn")
    dmn.write_text(dmn.read_text().replace("<text>serious_harm_risk</text>",
                                           "<text>__import__('os').getcwd()</text>", 1))
    given = os.path.relpath(dmn, ROOT)  # relative to the command's working directory
    paths = [str(bpmn), given, *(str(f) for f in others if f != dmn)]
    validated = run("workflows", "validate", *paths)
    assert validated.returncode == 1
    lines = _problem_lines(validated)
    assert lines and all(line.startswith(f"{given}:") for line in lines), lines
    assert lines[0].startswith(f"{given}:7: urgent_presumption_in_0: ")
    deployed = run("workflows", "deploy", *paths)
    assert deployed.returncode == 1 and _problem_lines(deployed) == lines


def test_a_given_file_no_bpmn_uses_is_reported_and_nothing_is_deployed(run):
    unused = "workflows/urgent_presumption.dmn"
    validated = run("workflows", "validate", str(MINI), unused)
    assert validated.returncode == 1
    assert _problem_lines(validated) == [f"{unused}:1: -: no given BPMN file uses this file (a BPMN uses a "
                                         "form it names in formJsonSchemaFilename or formUiSchemaFilename, "
                                         "and a DMN whose decision it calls with calledDecisionId)"]
    deployed = run("workflows", "deploy", str(MINI), unused)
    assert deployed.returncode == 1 and _problem_lines(deployed) == _problem_lines(validated)
    assert deployed.stderr.strip() == "disclosure-engine: nothing deployed: 1 problem(s)"
    assert run("workflows", "list").stdout == ""


def test_no_bpmn_at_all_is_bad_usage_in_one_line(run):
    for command in ("validate", "deploy"):
        result = run("workflows", command, "workflows/urgent_presumption.dmn",
                     "workflows/urgent_disclosure--immediate_safeguarding.schema.json")
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr == ("disclosure-engine: no .bpmn file given: DMN and form files are validated and "
                                 "deployed with the BPMN that uses them\n")


def test_another_kind_of_file_is_bad_usage(run):
    for command in ("validate", "deploy"):
        result = run("workflows", command, str(MINI), "README.md")
        assert result.returncode == 2
        assert result.stderr == "disclosure-engine: README.md: not a .bpmn, .dmn or .json (form) file\n"


def test_validate_and_deploy_take_a_directory(run, tmp_path):
    _mini_copy(tmp_path / "mini")
    validated = run("workflows", "validate", str(tmp_path / "mini"))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.strip() == "OK 1 workflow file(s)"
    deployed = run("workflows", "deploy", str(tmp_path / "mini"))
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert deployed.stdout.strip() == "mini_decision 1"
    whole = run("workflows", "validate", "workflows")
    assert whole.returncode == 0 and whole.stdout.strip() == "OK 4 workflow file(s)"


def test_deploy_names_problem_files_as_given_like_validate(run, tmp_path):
    bad = _mini_copy(tmp_path / "sub")
    bad.write_text(bad.read_text().replace('"P1D"', "P1D"))
    given = "./" + os.path.relpath(bad, ROOT)  # exactly as typed, "./" and all
    validated = run("workflows", "validate", given)
    deployed = run("workflows", "deploy", given)
    assert validated.returncode == deployed.returncode == 1
    lines = _problem_lines(deployed)
    assert lines and all(line.startswith(f"{given}:") for line in lines), lines
    assert lines == _problem_lines(validated)


def test_validate_applies_max_upload_bytes_as_deploy_does(db, database_url, tmp_path):
    limit = MINI.stat().st_size - 1
    env = {**os.environ, "DATABASE_URL": database_url, "DISCLOSURE_ENV": "test",
           "DISCLOSURE_INSTANCE_DIR": str(tmp_path / "instance"), "MAX_UPLOAD_BYTES": str(limit)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "disclosure_engine.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120, cwd=ROOT)

    validated = run("workflows", "validate", str(MINI))
    deployed = run("workflows", "deploy", str(MINI))
    assert validated.returncode == deployed.returncode == 1
    expected = f"{MINI}:1: -: file is {MINI.stat().st_size} bytes, larger than the {limit}-byte limit"
    assert _problem_lines(validated) == _problem_lines(deployed) == [expected]
