"""The course in a real browser: JupyterLab, the Assignments panel, the Validate button, formgrader, feedback.

One Jupyter server (``jupyter lab``, a free port, a token) runs for the module in a temporary copy of the
course: its nbgrader config, source/, release/, the committed sample results (autograded/, feedback/,
grades/samples/), an exchange made by ``./course exchange-setup`` with 01 published, and a gradebook.
Headless Chromium (tests/browser.py) reaches 127.0.0.1 only; nothing is fetched from the internet.

The gradebook is built as ``./course build`` leaves it: every committed sample record written into it (the
records are fresh, so nothing is regraded), the scripted TA pass over the written answers, the tables again.
Formgrader's totals equal the grades tables'; a manual score and comment entered in formgrader reach the
regenerated feedback page and grades table.

With DLCOURSE_SCREENSHOTS set (``./course screenshots``) each test saves its page as a PNG.
"""

import csv
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from browser import MARKDOWN_TEXT, Browser, screenshot, typeset_counts, wait_for_typeset
from dlcourse.instructor import cli, feedback, grading, mathjax, samples, tables
from dlcourse.instructor.config import ROOT, assignments_present, tool_environment
from dlcourse.instructor.gradebook import gradebook_url
from dlcourse.instructor.notebooks import run_nbgrader
from dlcourse.instructor.records import Job, all_records
from test_mathjax import RAW_MATH

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not list((ROOT / "autograded").glob("sample-*/*/grading.json")),
                                 reason="no committed sample results yet")]
FIRST = "01_computational_graph"
KERNEL_DISPLAY_NAME = "Python 3 (deep-learning course)"
WAIT = 180_000  # ms: this machine is shared and slow; every wait is on a selector, never a sleep
COPIED = ["nbgrader_config.py", "source", "release", "autograded", "feedback", "grades", "samples"]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_gradebook(course):
    """The course's gradebook as ./course build leaves it: every sample record in it (the committed records
    are fresh: grading fills the gradebook without regrading), the scripted TA pass, the tables again."""
    run_nbgrader(["generate_assignment", "*", "--force"], cwd=course)
    url = gradebook_url(course)
    grading.fill_gradebook(course, url, [Job(r["student"], r["assignment"], course) for r in all_records(course)])
    samples.apply_ta_grades(course, url, assignments_present(course))
    cli.write_tables(course, course / samples.SUBMITTED, course / "grades" / "samples")
    return course / "gradebook.db"


def make_course_copy(base):
    course = base / "course"
    course.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, course / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        elif source.is_file():
            shutil.copy(source, course / name)
    mathjax.install_copy(course)
    cli.main(["exchange-setup", "--root", str(course)])
    cli.main(["publish", FIRST, "--root", str(course)])
    build_gradebook(course)
    return course


class JupyterServer:
    """``jupyter lab`` in ``course`` on a free port with a token; the course's server extension enabled."""

    def __init__(self, course, base):
        self.course, self.port, self.token = course, _free_port(), secrets.token_hex(16)
        config_dir = base / "jupyter-config"
        config_dir.mkdir()
        settings = base / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)  # no "official Jupyter news?" toast over the screenshots
        (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        (config_dir / "jupyter_server_config.json").write_text(
            '{"ServerApp": {"jpserver_extensions": {"dlcourse.instructor.jupyter_ext": true}}}')
        env = tool_environment({"JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_RUNTIME_DIR": str(base / "rt"),
                                "JUPYTERLAB_SETTINGS_DIR": str(base / "lab-settings"),
                                "JUPYTERLAB_WORKSPACES_DIR": str(base / "lab-workspaces")})
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                   f"--port={self.port}", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={course}", "--LabApp.expose_app_in_browser=True",
                   "--ServerApp.port_retries=0"]
        self.log = open(base / "jupyter.log", "w", encoding="utf-8")
        self.process = subprocess.Popen(command, cwd=course, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self._wait_until_up()

    def url(self, path):
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{separator}token={self.token}"

    def _wait_until_up(self, timeout=240):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {Path(self.log.name).read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)  # polling a port that is not open yet (not a wait in a page)
        raise RuntimeError(f"jupyter lab did not start in {timeout} s: {Path(self.log.name).read_text()[-3000:]}")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def course_server():
    base = Path(tempfile.mkdtemp(prefix="dlcourse-browser-"))
    server = None
    try:
        course = make_course_copy(base)
        server = JupyterServer(course, base)
        yield server
    finally:
        if server:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    instance = Browser()
    yield instance
    instance.close()


@pytest.fixture
def page(browser, course_server, request):
    failed_before = request.session.testsfailed
    context = browser.local_context()
    # the token on every request (formgrader's pages fetch their data with XHRs that carry no token)
    context.set_extra_http_headers({"Authorization": f"token {course_server.token}"})
    result = context.new_page()
    result.set_default_timeout(WAIT)
    yield result
    if request.session.testsfailed > failed_before:  # what the page showed when the test failed
        folder = Path(tempfile.gettempdir()) / "dlcourse-browser-failures"
        folder.mkdir(exist_ok=True)
        result.screenshot(path=str(folder / f"{request.node.name}.png"))
        print(f"screenshot of the failure: {folder / request.node.name}.png")
    assert not [u for u in context.blocked if "cdn" in u or "mathjax" in u.lower()], context.blocked
    context.close()


def test_jupyterlab_opens_a_release_notebook_with_the_course_kernel(page, course_server):
    page.goto(course_server.url(f"lab/tree/release/{FIRST}/{FIRST}.ipynb"))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    kernel = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName, .jp-NotebookPanel-toolbar "
                          "[data-jp-item-name='kernelName']").first
    kernel.wait_for()
    page.wait_for_function(f"document.body.innerText.includes({KERNEL_DISPLAY_NAME!r})")
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()  # the kernel is ready
    cell = page.locator(".jp-CodeCell").first
    cell.click()
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
    cell.locator(".jp-InputPrompt").filter(has_text="[1]").wait_for()
    assert not cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
    screenshot(page, "jupyterlab-release-notebook")


def test_assignments_panel_lists_the_released_assignment(page, course_server):
    page.goto(course_server.url("lab?reset"))  # a clean workspace: only the panel in the main area
    page.locator("#jp-main-dock-panel").wait_for()
    page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand("
                           "'nbgrader:open-assignment-list')")
    page.evaluate("window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
    released = page.locator("#released_assignments_list").first
    released.get_by_text(FIRST, exact=True).first.wait_for()
    assert "Error" not in released.inner_text()
    screenshot(page, "assignments-panel")


def _csv_totals(course, assignment):
    with open(course / "grades" / "samples" / f"{assignment}.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: f"{float(row['total']):g} / {float(row['max_score']):g}"
                for row in csv.DictReader(handle)}


def _formgrader_totals(page, course_server, assignment):
    page.goto(course_server.url(f"formgrader/manage_submissions/{assignment}"))
    page.locator("td.student-id").first.wait_for()
    rows = page.locator("tbody tr")
    totals = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        score = row.locator("td.score").inner_text().strip()
        totals[row.locator("td.student-id").inner_text().strip()] = " / ".join(
            f"{float(part):g}" for part in score.split("/")) if "/" in score else score
    return totals


def test_formgrader_lists_every_graded_sample(page, course_server):
    course = course_server.course
    for assignment in assignments_present(course):
        listed = _formgrader_totals(page, course_server, assignment)
        assert set(listed) == set(_csv_totals(course, assignment)), (assignment, listed)
        if assignment == FIRST:
            screenshot(page, "formgrader-submissions")


def test_formgrader_totals_are_the_grades_tables(page, course_server):
    course = course_server.course
    differences = {}
    for assignment in assignments_present(course):
        listed, table = _formgrader_totals(page, course_server, assignment), _csv_totals(course, assignment)
        differences.update({(assignment, s): (listed.get(s), t) for s, t in table.items() if listed.get(s) != t})
    assert not differences, f"formgrader vs grades table (score / max): {differences}"


def _submission_notebook_id(course, assignment, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return gradebook.find_submission_notebook(assignment, assignment, student).id


def _manual_grade(course, assignment, student, grade_id):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(grade_id, assignment, assignment, student)
        comment = gradebook.find_comment(grade_id, assignment, assignment, student)
        return grade.manual_score, comment.manual_comment


MANUAL = {"student": "sample-correct", "grade_id": "q_sigmoid_derivative", "score": "1.5",
          "comment": "Right chain rule; say why sigma(1 - sigma) peaks at 1/4."}


def test_formgrader_saves_a_manual_score_and_comment_and_typesets(page, course_server):
    course = course_server.course
    submission = _submission_notebook_id(course, FIRST, MANUAL["student"])
    page.goto(course_server.url(f"formgrader/submissions/{submission}/"))
    wait_for_typeset(page)
    assert typeset_counts(page)[0] > 0, "formgrader typeset no formula"
    score = page.locator(f"input.score#{MANUAL['grade_id']}")
    with page.expect_response(lambda r: "/api/grade/" in r.url and r.request.method == "PUT"):
        score.fill(MANUAL["score"])
        score.press("Tab")
    comment = page.locator(f"textarea#{MANUAL['grade_id']}-comment")
    with page.expect_response(lambda r: "/api/comment/" in r.url and r.request.method == "PUT"):
        comment.fill(MANUAL["comment"])
        comment.press("Tab")
    assert _manual_grade(course, FIRST, MANUAL["student"], MANUAL["grade_id"]) == (1.5, MANUAL["comment"])
    score.scroll_into_view_if_needed()
    screenshot(page, "formgrader-manual-grading")


def test_a_manual_score_reaches_the_feedback_page_and_the_grades_table(course_server):
    course = course_server.course
    if _manual_grade(course, FIRST, MANUAL["student"], MANUAL["grade_id"])[0] != 1.5:
        pytest.skip("the manual score was not saved (see the formgrader test)")
    feedback.regenerate(course, [MANUAL["student"]])
    tables.write_grades(course, course / "grades" / "loop", [MANUAL["student"]])
    page_text = (course / "feedback" / MANUAL["student"] / FIRST / f"{FIRST}.html").read_text(encoding="utf-8")
    assert "1.5 / 2" in page_text and MANUAL["comment"] in page_text.replace("&#39;", "'")
    with open(course / "grades" / "loop" / f"{FIRST}.csv", newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["student"] == MANUAL["student"])
    assert float(row["manual"]) >= 1.5 and float(row["total"]) == float(row["autograded"]) + float(row["manual"])


def test_a_feedback_page_is_typeset_served_in_and_away_from_the_course(page, course_server):
    """In the course (its mathjax/ copy, by a relative path) and where a student's fetched feedback lands
    (no copy there: the Jupyter server's own MathJax)."""
    course = course_server.course
    source = max(course.glob("feedback/sample-correct/*/*.html"),
                 key=lambda p: len(RAW_MATH.findall(p.read_text(encoding="utf-8"))))
    fetched = course / "home" / "student" / source.parent.name / "feedback" / "2026-01-01 10:00:00 UTC"
    fetched.mkdir(parents=True)
    shutil.copy(source, fetched / source.name)
    for path, expected in [(source, "/files/mathjax/MathJax.js"),
                           (fetched / source.name, "/static/jupyter_server_mathjax/MathJax.js")]:
        page.goto(course_server.url("files/" + str(path.relative_to(course))))
        wait_for_typeset(page)
        assert typeset_counts(page)[0] > 0
        assert not RAW_MATH.findall(page.evaluate(MARKDOWN_TEXT))
        assert expected in page.evaluate("document.documentElement.getAttribute('data-mathjax-source')")
    page.locator(".MathJax").first.scroll_into_view_if_needed()
    screenshot(page, "feedback-page-served")


def test_the_validate_button_runs_the_course_check(page, course_server):
    """nbgrader's Validate button in a release notebook: one line per failed check, answers apart."""
    page.goto(course_server.url(f"lab/tree/release/{FIRST}/{FIRST}.ipynb"))
    button = page.locator(".jp-NotebookPanel-toolbar .validate-button, .jp-NotebookPanel-toolbar "
                          "jp-button:has-text('Validate')").first
    button.wait_for()
    page.wait_for_function(f"document.body.innerText.includes({KERNEL_DISPLAY_NAME!r})")
    button.click()
    dialog = page.locator(".jp-Dialog #validation-message")
    dialog.wait_for(timeout=600_000)
    text = dialog.inner_text()
    assert "0 of 11 checks passed" in text and "check topological_order_tests (2 points)" in text, text[:2000]
    assert "written answer q_sigmoid_derivative (2 points)" in text and "not answered yet" in text
    assert "Traceback" not in text and "# Checks:" not in text
    height = dialog.evaluate("e => e.scrollHeight")
    assert height < 3000, f"the report is {height} px high"
    screenshot(page, "validate-button")


def test_readme_links_every_screenshot_the_tests_take():
    """The screenshots the browser tests write (./course screenshots) are committed and linked from README."""
    import re

    names = set()
    for module in ("test_browser.py", "test_mathjax.py"):
        text = (ROOT / "tests" / module).read_text(encoding="utf-8")
        names |= set(re.findall(r'screenshot\(page, "([a-z-]+)"', text))
        if 'f"{kind}-page-formulas"' in text:  # test_mathjax: one per kind of page
            names |= {"feedback-page-formulas", "solutions-page-formulas"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(n for n in names if f"docs/screenshots/{n}.png" not in readme)
    absent = sorted(n for n in names if not (ROOT / "docs" / "screenshots" / f"{n}.png").is_file())
    assert not missing and not absent, f"README lacks {missing}; docs/screenshots lacks {absent}: ./course screenshots"
