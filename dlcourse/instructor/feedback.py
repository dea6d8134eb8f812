"""Per-student HTML feedback that never shows hidden tests or rubrics.

nbgrader's ``generate_feedback`` renders the autograded notebook, and autograde has restored the
*hidden* tests into every test cell (and their tracebacks run through them): its feedback shows the
hidden tests. Here feedback is built from the autograded notebook and the grading record instead:

* every test (and locked) cell's source is replaced by the source cell with the hidden-test region
  removed, i.e. exactly the text the student saw in the release; any other cell is cleaned too; rubric
  cells (graders only) are left out;
* every error output is reduced to ``ExceptionName: message`` (no traceback: tracebacks of a test
  cell run through the hidden code);
* a summary table at the top and a line after each test cell give the test's name, its points and
  the assertion message ("passed" when it passed);
* a notebook that could not be graded gets a page with the reason and the problems found.

``write_feedback`` is called by the grader for each submission; ``./course feedback`` regenerates
all feedback from ``autograded/`` (no notebook is executed again).
"""

import html
import shutil
from pathlib import Path

import nbformat

from dlcourse.instructor.config import source_notebooks
from dlcourse.instructor.markers import (cell_kind, contains_marker, grade_id, is_test_cell, strip_hidden_tests,
                                         strip_mark_scheme, strip_solution_markers)
from dlcourse.instructor.mathjax import page_url
from dlcourse.instructor.nbgrader_ext import reduce_error_outputs
from dlcourse.instructor.notebooks import notebook_html
from dlcourse.instructor.records import all_records, autograded_points

MESSAGE_LIMIT = 1500


def _message_of(cell):
    """'ExceptionName: message' of a test cell's first error, or '' if it raised nothing."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
            return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " [...]"
    return ""


def _result_text(entry, message):
    if entry is None:
        return "not graded"
    if entry["type"] == "manual":
        return "written answer: pending (graded by hand)" if entry["score"] is None else "written answer: graded"
    if entry["score"] == entry["max_score"]:
        return "passed"
    return message or "failed"


def _points(entry):
    if entry is None:
        return "-"
    score = "pending" if entry["score"] is None else f"{entry['score']:g}"
    return f"{score} / {entry['max_score']:g}"


def _summary_html(record, notebook_name, rows):
    got, possible = autograded_points(record, notebook_name)
    parts = [f"<h1>Feedback: {html.escape(record['assignment'])} / {html.escape(notebook_name)}</h1>",
             f"<p>Student: <b>{html.escape(record['student'])}</b>. Autograded tests of this notebook: "
             f"<b>{got:g} / {possible:g}</b> points (whole assignment: {record['score']:g} / "
             f"{record['max_score']:g}).</p>"]
    if record.get("status") != "graded":
        parts.append(f"<p class='feedback-not-graded'><b>Not graded:</b> {html.escape(record['reason'])}</p>")
    if record.get("problems"):
        parts.append("<p><b>Problems found in the submission:</b></p><ul>"
                     + "".join(f"<li>{html.escape(p)}</li>" for p in record["problems"]) + "</ul>")
    parts.append("<table class='feedback-tests'><thead><tr><th>Test</th><th>Points</th><th>Result</th>"
                 "</tr></thead><tbody>")
    for name, entry, message in rows:
        parts.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{_points(entry)}</td>"
                     f"<td><pre style='white-space: pre-wrap; margin: 0'>"
                     f"{html.escape(_result_text(entry, message))}</pre></td></tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


def feedback_notebook(record, notebook_name, source, autograded=None):
    """The notebook rendered as feedback.

    Inputs:
    - record: the grading record (dlcourse.instructor.records); notebook_name: e.g. "02_numpy_mlp.ipynb".
    - source: the source notebook (with hidden tests; used only to take the visible text of test cells).
    - autograded: the autograded notebook, or None when it could not be graded.
    Returns:
    - a NotebookNode without any hidden test source, rubric or traceback.
    """
    entries = record.get("notebooks", {}).get(notebook_name, {})
    visible = {grade_id(cell): strip_solution_markers(strip_hidden_tests(cell.source)) for cell in source.cells
               if grade_id(cell) and cell.cell_type == "code" and cell_kind(cell) in ("test", "locked")}
    body = []
    messages = {}
    if autograded is not None:
        messages = {grade_id(c): _message_of(c) for c in autograded.cells if is_test_cell(c)}
        for cell in autograded.cells:
            if cell_kind(cell) == "rubric":
                continue
            cell = nbformat.from_dict(dict(cell))
            cell_grade_id = grade_id(cell)
            if cell.cell_type == "code":
                cell.source = visible.get(cell_grade_id, strip_hidden_tests(cell.source))
                reduce_error_outputs(cell)
            else:
                cell.source = strip_mark_scheme(strip_hidden_tests(cell.source))
            cell.metadata = {}
            body.append(cell)
            entry = entries.get(cell_grade_id) if cell_grade_id else None
            if entry is not None:
                message = messages.get(cell_grade_id, "")
                note = (f"<div class='feedback-test'><b>{'Test' if entry['type'] == 'test' else 'Answer'} "
                        f"<code>{html.escape(cell_grade_id)}</code>: {_points(entry)} points.</b> "
                        f"<pre style='white-space: pre-wrap'>{html.escape(_result_text(entry, message))}"
                        f"</pre></div>")
                body.append(nbformat.v4.new_markdown_cell(note))
    rows = [(grade_id(c), entries[grade_id(c)], messages.get(grade_id(c), "")) for c in source.cells
            if grade_id(c) in entries]
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": dict(source.metadata.get("kernelspec", {})),
                         "language_info": {"name": "python"}}
    notebook.cells = [nbformat.v4.new_markdown_cell(_summary_html(record, notebook_name, rows))] + body
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"feedback-{index}"
    return notebook


def to_html(notebook, mathjax_url=""):
    """The feedback page; fails closed: a page that would show any marker is never written.
    ``mathjax_url``: where the page finds MathJax (mathjax.page_url; else the Jupyter server serving it)."""
    body = notebook_html(notebook, mathjax_url=mathjax_url)
    marker = contains_marker(body)
    if marker:
        raise RuntimeError(f"feedback would contain the marker {marker!r}")
    return body


def write_feedback(root, student, assignment, record):
    """Write feedback/<student>/<assignment>/<notebook>.html for every notebook of the assignment.

    Returns:
    - the list of HTML paths written.
    """
    root = Path(root)
    folder = root / "feedback" / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    written = []
    for name in source_notebooks(root, assignment):
        source_path = root / "source" / assignment / name
        source = nbformat.read(source_path, as_version=4)
        graded = root / "autograded" / student / assignment / source_path.name
        autograded = None
        if record.get("status") == "graded" and graded.is_file():
            autograded = nbformat.read(graded, as_version=4)
        notebook = feedback_notebook(record, source_path.name, source, autograded)
        target = folder / (source_path.stem + ".html")
        target.write_text(to_html(notebook, page_url(target, root)), encoding="utf-8")
        written.append(target)
    return written


def regenerate(root, students=None):
    """Rewrite the feedback of every graded submission (from autograded/ and the grading records)."""
    written = []
    for record in all_records(root, students):
        written += write_feedback(root, record["student"], record["assignment"], record)
    return written
