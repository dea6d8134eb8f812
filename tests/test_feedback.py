"""Feedback (dlcourse/instructor/feedback.py): each test's name, points and message; never hidden tests.

On the demo assignment of tests/test_grading.py, a submission fails a *hidden* test: nbgrader's own
``generate_feedback`` shows the hidden test's source (the problem), ours shows the test's name, points
and assertion message and nothing of the hidden code or its traceback. The committed feedback of the
real practicals' samples is checked for hidden-test lines too.
"""

import html
import re
from pathlib import Path

import nbformat
import pytest

from dlcourse.instructor import feedback
from dlcourse.instructor.config import ROOT, assignments_present
from dlcourse.instructor.notebooks import run_nbgrader
from test_grading import DEMO, _release, _with, _write, grade, make_demo_root, make_demo_submissions

TOKEN = "hidden_secret_token_42"  # a name that only the demo's hidden test uses


def page_text(page):
    """The visible text of an HTML page (tags removed, entities decoded)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", Path(page).read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("feedback")
    root = make_demo_root(base / "course")
    submitted = make_demo_submissions(root, base / "submitted", ["badjson"])
    # passes add's visible check, fails its hidden one; mul is right
    code = "def add(a, b):\n    return a + b if a < 5 else 0"
    _write(submitted, "hiddenfail", _with(_release(root), {"add": code, "mul": "def mul(a, b):\n    return a * b"}))
    records = grade(root, submitted, "--workers", 2)
    return root, {r["student"]: r for r in records}


@pytest.mark.slow
def test_feedback_shows_names_points_messages_and_no_hidden_test(graded):
    root, records = graded
    assert records["hiddenfail"]["score"] == 3.0
    autograded = (root / "autograded" / "hiddenfail" / DEMO / "demo.ipynb").read_text()
    assert TOKEN in autograded, "autograde no longer restores hidden tests: this test proves nothing"
    page = root / "feedback" / "hiddenfail" / DEMO / "demo.html"
    raw = page.read_text(encoding="utf-8")
    text = page_text(page)
    assert TOKEN not in raw and "HIDDEN TESTS" not in raw
    assert "Traceback" not in text and "File \"" not in text
    # name, points and message of each test, in the summary table and after the test cell
    assert re.search(r"add_test\s*0 / 2\s*CheckError: add\(10, -4\)", text), text[:3000]
    assert re.search(r"mul_test\s*3 / 3\s*passed", text)
    assert re.search(r"q_explain\s*pending / 1\s*not answered yet: pending", text)  # never "graded" by itself
    assert 'assert_close(add(1, 2), 3, "add(1, 2)")' in text  # the visible test is shown
    assert "Autograded tests: 3 / 5 points" in text and "1 point of written answers still pending" in text


@pytest.mark.slow
def test_nbgraders_own_feedback_hides_hidden_tests_too(graded):
    """nbgrader's generate_feedback renders the autograded notebook (which holds the hidden tests, see
    above); the course's nbgrader_config.py adds nbgrader_ext.HideGraderOnlyContent to it."""
    root, _ = graded
    run_nbgrader(["generate_feedback", DEMO, "--student", "hiddenfail", "--force"], cwd=root)
    theirs = (root / "feedback" / "hiddenfail" / DEMO / "demo.html").read_text(encoding="utf-8")
    assert "add(10, -4)" in theirs and TOKEN not in theirs and "HIDDEN TESTS" not in theirs
    # formulas offline: the course's MathJax macro replaced nbgrader's CDN one (nbgrader_config.py)
    assert "cdnjs" not in theirs and "static/jupyter_server_mathjax/MathJax.js" in theirs
    # ./course feedback rewrites ours from autograded/ (nothing executed again)
    written = feedback.regenerate(root)
    assert root / "feedback" / "hiddenfail" / DEMO / "demo.html" in written


@pytest.mark.slow
def test_feedback_of_an_ungradable_submission_says_why(graded):
    root, records = graded
    text = page_text(root / "feedback" / "badjson" / DEMO / "demo.html")
    assert "Not graded:" in text and "not valid JSON" in text
    assert re.search(r"add_test\s*0 / 2", text) and re.search(r"mul_test\s*0 / 3", text)


def _hidden_lines(source_path):
    """Lines of a source notebook's hidden tests that appear nowhere else in it."""
    notebook = nbformat.read(source_path, as_version=4)
    hidden, visible = set(), []
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside:
                hidden.add(line.strip())
            else:
                visible.append(line)
    everywhere = "\n".join(visible)
    return sorted(line for line in hidden if len(line) >= 20 and line not in everywhere)


SAMPLE_PAGES = [(a, page) for a in assignments_present(ROOT)
                for page in sorted((ROOT / "feedback").glob(f"sample-*/{a}/*.html"))]


@pytest.mark.parametrize("assignment,page", SAMPLE_PAGES or [pytest.param(None, None, marks=pytest.mark.skip(
    reason="no committed sample feedback yet"))], ids=lambda v: getattr(v, "name", v))
def test_committed_sample_feedback_has_no_hidden_test_line(assignment, page):
    text = page_text(page)
    source = ROOT / "source" / assignment / (page.stem + ".ipynb")
    submitted = ROOT / "samples" / "submitted" / page.parent.parent.name / assignment / source.name
    own = "\n".join(cell.source for cell in nbformat.read(submitted, as_version=4).cells)
    leaked = [line for line in _hidden_lines(source) if line in text and line not in own]
    assert not leaked, f"{page} shows hidden-test lines: {leaked[:3]}"
    assert "Traceback (most recent call last)" not in text
    assert "The feedback page of this notebook is withheld" not in text, (
        f"{page}: the sample's feedback page is withheld (feedback.leaked_lines found a grader-only line in it)")
