"""The student's check (dlcourse/instructor/validate.py, ``./course validate``), beside ``nbgrader validate``.

On the demo assignment of tests/test_grading.py (and one real release):
* an untouched notebook gets one line per failed check and its unanswered answer apart; nbgrader's own
  validate prints the test cells and their tracebacks;
* a correct notebook whose code writes a library warning to stderr during a check passes (nbgrader's
  validate fails it: the noise is really in the test cell), with its answer answered;
* wrong code gets the check's message; an error in the student's own cell is named;
* the notebook's bytes and modification time never change; an unreadable file is reported.
The Validate button's endpoint (instructor.jupyter_ext) is tested in a real JupyterLab: test_browser.py.
"""

import os

import nbformat
import pytest

from dlcourse.instructor import cli, validate
from dlcourse.instructor.jupyter_ext import nbgrader_reply
from dlcourse.instructor.notebooks import run_nbgrader
from harness import ROOT
from test_grading import CORRECT, DEMO, PARTIAL, _release, _with, make_demo_root

NOISY_ADD = ("def add(a, b):\n    import sys, warnings\n"
             "    print('I0000 port.cc:153] oneDNN custom operations are on.', file=sys.stderr)\n"
             "    warnings.warn('this API is deprecated', DeprecationWarning, stacklevel=2)\n"
             "    return a + b")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_root(tmp_path_factory.mktemp("validate") / "course")


def _notebook(demo, name, replacements):
    path = demo / "work" / name / "demo.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_with(_release(demo), replacements), path)
    return path


def _validated(path):
    """(report, text) of the course's validate, checking that the notebook file was not written."""
    before, mtime = path.read_bytes(), os.stat(path).st_mtime_ns
    report = validate.validate_notebook(path)
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == mtime, "validate wrote the notebook"
    assert not list(path.parent.glob(".ipynb_checkpoints")), "validate left files beside the notebook"
    return report, validate.format_report(report)


def _lines_of(report, kind):
    return {f.name: f.message for f in report.of_kind(kind)}


@pytest.mark.slow
def test_untouched_notebook_one_line_per_check_and_answers_apart(demo):
    path = _notebook(demo, "untouched", {})
    report, text = _validated(path)
    assert _lines_of(report, "failed") == {"add_test": "NotImplementedError: not written yet",
                                           "mul_test": "NotImplementedError: not written yet"}
    assert list(_lines_of(report, "unanswered")) == ["q_explain"] and not report.ok
    assert "Traceback" not in text and "assert_close(" not in text and "---" not in text
    assert len(text.splitlines()) <= 7, text
    theirs = run_nbgrader(["validate", str(path)], cwd=path.parent).stdout
    assert "assert_close(add(1, 2)" in theirs and "Traceback" in theirs, "nbgrader's validate changed"
    assert len(theirs.splitlines()) > 3 * len(text.splitlines())


@pytest.mark.slow
def test_library_stderr_in_a_check_is_no_failure(demo):
    path = _notebook(demo, "noisy", dict(CORRECT, add=NOISY_ADD))
    report, text = _validated(path)
    assert report.ok, text
    assert (report.checks, report.points, report.passed_points) == (2, 5.0, 5.0)
    assert text.endswith("ready to submit."), text
    theirs = run_nbgrader(["validate", str(path)], cwd=path.parent).stdout
    assert "VALIDATION FAILED" in theirs and "oneDNN" in theirs, "the noise must reach the test cell"


@pytest.mark.slow
def test_wrong_code_gets_the_checks_message_and_broken_code_is_named(demo):
    path = _notebook(demo, "wrong", dict(PARTIAL, add="def add(a, b):\n    return a +"))
    report, text = _validated(path)
    failed = _lines_of(report, "failed")
    assert set(failed) == {"add_test", "mul_test"}
    assert "mul(2, 3)" in failed["mul_test"] and failed["mul_test"].startswith("CheckError"), failed
    assert failed["add_test"].startswith("NameError"), failed
    errors = _lines_of(report, "code-error")
    assert list(errors) == ["add"] and errors["add"].startswith("SyntaxError"), errors
    assert list(_lines_of(report, "unanswered")) == ["q_explain"]
    reply = nbgrader_reply(validate.report_json(report))
    sources = [entry["source"] for entry in reply["value"]["failed"]]
    assert sources[1:] == ["check add_test (2 points)", "check mul_test (3 points)", "your code: add",
                           "written answer q_explain (1 point)"], sources


def test_an_unreadable_notebook_is_reported(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json", encoding="utf-8")
    report, text = _validated(path)
    assert not report.ok and report.of_kind("problem") and "not a readable notebook" in text


def test_a_ready_report_is_nbgraders_success():
    report = validate.Report(notebook="n.ipynb", checks=2, points=5.0, passed_points=5.0)
    assert nbgrader_reply(validate.report_json(report)) == {"success": True, "value": {}}


@pytest.mark.slow
def test_course_validate_on_a_real_untouched_release_is_short(capsys):
    release = sorted((ROOT / "release").glob("01_*/*.ipynb"))
    if not release:
        pytest.skip("no release yet")
    before, mtime = release[0].read_bytes(), os.stat(release[0]).st_mtime_ns
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["validate", str(release[0])])
    assert exit_status.value.code == 1, "an untouched notebook is not ready to submit"
    assert release[0].read_bytes() == before and os.stat(release[0]).st_mtime_ns == mtime
    text = capsys.readouterr().out
    notebook = nbformat.read(release[0], as_version=4)
    tests = [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
             and c.metadata.nbgrader.get("points")]
    answers = [c for c in notebook.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")]
    failed = [line for line in text.splitlines() if ": NotImplementedError: not written yet" in line]
    assert len(failed) == len(tests), text
    assert len(text.splitlines()) <= len(tests) + len(answers) + 5, text
    assert "Traceback" not in text and "# Checks:" not in text
