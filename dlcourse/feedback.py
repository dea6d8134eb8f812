"""Per-student HTML feedback that never shows hidden tests.

nbgrader's ``generate_feedback`` renders the autograded notebook, and autograde has restored the
*hidden* tests into every test cell (and their tracebacks run through them): its feedback shows the
hidden tests. Here feedback is built from the autograded notebook and the grading record instead:

* every test (and locked) cell's source is replaced by the source cell with the hidden-test region
  removed, i.e. exactly the text the student saw in the release; any other cell is cleaned too;
* every error output is reduced to ``ExceptionName: message`` (no traceback: tracebacks of a test
  cell run through the hidden code);
* a summary table at the top and a line after each test cell give the test's name, its points and
  the assertion message ("passed" when it passed);
* a notebook that could not be graded gets a page with the reason and the problems found.

``write_feedback`` is called by the grader for each submission; ``./course feedback`` regenerates
all feedback from ``autograded/`` (no notebook is executed again).
"""

import html
import re
import shutil
from pathlib import Path

import nbformat

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"
MESSAGE_LIMIT = 1500


def strip_hidden_tests(text):
    """Remove every line from one containing 'BEGIN HIDDEN TESTS' to one containing 'END HIDDEN TESTS'.

    Line-based like nbgrader's ClearHiddenTests, and fail-closed: an unterminated region is removed to
    the end of the cell.
    """
    kept, hidden = [], False
    for line in text.splitlines():
        if HIDDEN_BEGIN in line:
            hidden = True
            continue
        if hidden:
            if HIDDEN_END in line:
                hidden = False
            continue
        kept.append(line)
    return "\n".join(kept).rstrip()


def _solution_markers(text):
    return re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", "", text, flags=re.MULTILINE)


def _grade_id(cell):
    return ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")


def _is_test(cell):
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _message_of(cell):
    """'ExceptionName: message' of a test cell's first error, or '' if it raised nothing."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
            return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " [...]"
    return ""


def _clean_outputs(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]


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
    cells = record.get("notebooks", {}).get(notebook_name, {})
    got = sum((c["score"] or 0.0) for c in cells.values() if c["type"] == "test")
    possible = sum(c["max_score"] for c in cells.values() if c["type"] == "test")
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
    - record: the grading record (dlcourse.grading); notebook_name: e.g. "02_numpy_mlp.ipynb".
    - source: the source notebook (with hidden tests; used only to take the visible text of test cells).
    - autograded: the autograded notebook, or None when it could not be graded.
    Returns:
    - a NotebookNode without any hidden test source or traceback.
    """
    entries = record.get("notebooks", {}).get(notebook_name, {})
    visible = {}
    for cell in source.cells:
        grade_id = _grade_id(cell)
        if grade_id and cell.cell_type == "code" and not (cell.metadata.get("nbgrader") or {}).get("solution"):
            visible[grade_id] = _solution_markers(strip_hidden_tests(cell.source))
    rows, body = [], []
    if autograded is not None:
        messages = {_grade_id(c): _message_of(c) for c in autograded.cells if _is_test(c)}
        for cell in autograded.cells:
            cell = nbformat.from_dict(dict(cell))
            grade_id = _grade_id(cell)
            if cell.cell_type == "code":
                cell.source = visible.get(grade_id, strip_hidden_tests(cell.source))
                _clean_outputs(cell)
            else:
                cell.source = strip_hidden_tests(cell.source)
            cell.metadata = {}
            body.append(cell)
            entry = entries.get(grade_id) if grade_id else None
            if entry is not None:
                message = messages.get(grade_id, "")
                note = (f"<div class='feedback-test'><b>{'Test' if entry['type'] == 'test' else 'Answer'} "
                        f"<code>{html.escape(grade_id)}</code>: {_points(entry)} points.</b> "
                        f"<pre style='white-space: pre-wrap'>{html.escape(_result_text(entry, message))}"
                        f"</pre></div>")
                body.append(nbformat.v4.new_markdown_cell(note))
    else:
        messages = {}
    order = [_grade_id(c) for c in source.cells if _grade_id(c) in entries]
    for grade_id in order:
        rows.append((grade_id, entries[grade_id], messages.get(grade_id, "")))
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": dict(source.metadata.get("kernelspec", {})),
                         "language_info": {"name": "python"}}
    notebook.cells = [nbformat.v4.new_markdown_cell(_summary_html(record, notebook_name, rows))] + body
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"feedback-{index}"
    return notebook


def to_html(notebook):
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(notebook)
    if HIDDEN_BEGIN in body or HIDDEN_END in body:  # fail closed: never publish a hidden-test marker
        raise RuntimeError("feedback would contain a hidden-test marker")
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
    for source_path in sorted((root / "source" / assignment).glob("*.ipynb")):
        source = nbformat.read(source_path, as_version=4)
        graded = root / "autograded" / student / assignment / source_path.name
        autograded = None
        if record.get("status") == "graded" and graded.is_file():
            autograded = nbformat.read(graded, as_version=4)
        notebook = feedback_notebook(record, source_path.name, source, autograded)
        target = folder / (source_path.stem + ".html")
        target.write_text(to_html(notebook), encoding="utf-8")
        written.append(target)
    return written


def regenerate(root, students=None):
    """Rewrite the feedback of every graded submission (from autograded/ and the grading records)."""
    from dlcourse.grading import all_records

    written = []
    for record in all_records(root, students):
        written += write_feedback(root, record["student"], record["assignment"], record)
    return written


def _nbgrader_preprocessor_base():
    from nbgrader.preprocessors import NbGraderPreprocessor

    return NbGraderPreprocessor


class HideHiddenTests(_nbgrader_preprocessor_base()):
    """For ``nbgrader generate_feedback`` (configured in nbgrader_config.py): remove the hidden-test
    region from every code cell and reduce every error output to 'ExceptionName: message', so that
    nbgrader's own feedback (e.g. released from formgrader) never shows hidden tests either."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.source = strip_hidden_tests(cell.source)
            _clean_outputs(cell)
        return cell, resources
