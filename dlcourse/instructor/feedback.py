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
from dlcourse.instructor.gradebook import gradebook_url, submission_grades
from dlcourse.instructor.markers import (cell_kind, contains_marker, grade_id, is_test_cell, replace_solutions,
                                         strip_hidden_tests, strip_mark_scheme, strip_solution_markers)
from dlcourse.instructor.mathjax import page_url
from dlcourse.instructor.nbgrader_ext import reduce_error_outputs
from dlcourse.instructor.notebooks import notebook_html, stylesheet_for
from dlcourse.instructor.records import all_records

MESSAGE_LIMIT = 1500


def _message_of(cell):
    """'ExceptionName: message' of a test cell's first error, or '' if it raised nothing."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
            return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " [...]"
    return ""


def merged_entries(record, notebook_name, grades):
    """The record's entries of one notebook, with each written answer's score and comment from the gradebook
    (``grades``: gradebook.submission_grades), where a grader may have entered them."""
    merged = {}
    for gid, entry in record.get("notebooks", {}).get(notebook_name, {}).items():
        entry = dict(entry)
        grade = grades.get(notebook_name, {}).get(gid)
        if entry["type"] == "manual" and grade:
            entry["score"], entry["comment"] = grade["manual_score"], grade["comment"] if grade["manual_score"] is not None else ""
        merged[gid] = entry
    return merged


def _result_text(entry, message):
    if entry is None:
        return "not graded"
    if entry["type"] == "manual":
        if entry["score"] is None:
            return ("not answered yet: pending" if not entry.get("answered", True)
                    else "written answer: pending (waiting for a grader)")
        comment = entry.get("comment") or ""
        return "graded by hand" + (f": {comment}" if comment else "")
    if entry.get("bonus_max"):
        return f"optional part passed: +{entry['bonus']:g} bonus" if entry.get("bonus") else (
            f"optional part (bonus {entry['bonus_max']:g}): {message or 'not passed'}")
    if entry["score"] == entry["max_score"]:
        return "passed"
    return message or entry.get("message") or "failed"


def _points(entry):
    if entry is None:
        return "-"
    if entry.get("bonus_max"):
        return f"+{entry.get('bonus') or 0:g} / +{entry['bonus_max']:g} bonus"
    score = "pending" if entry["score"] is None else f"{entry['score']:g}"
    return f"{score} / {entry['max_score']:g}"


def _totals_text(entries):
    tests = [e for e in entries.values() if e["type"] == "test"]
    answers = [e for e in entries.values() if e["type"] == "manual"]
    graded = [e for e in answers if e["score"] is not None]
    pending = sum(e["max_score"] for e in answers if e["score"] is None)
    text = (f"Autograded tests: <b>{sum(e['score'] or 0 for e in tests):g} / {sum(e['max_score'] for e in tests):g}</b>"
            f" points; written answers graded: <b>{sum(e['score'] for e in graded):g} / "
            f"{sum(e['max_score'] for e in graded):g}</b>")
    bonus = sum(e.get("bonus") or 0 for e in tests)
    text += f"; bonus: <b>+{bonus:g}</b>" if any(e.get("bonus_max") for e in tests) else ""
    plural = "s" if pending != 1 else ""
    return text + (f"; <b>{pending:g}</b> point{plural} of written answers still pending." if pending else ".")


def _summary_html(record, notebook_name, rows, entries):
    parts = [f"<h1>Feedback: {html.escape(record['assignment'])} / {html.escape(notebook_name)}</h1>",
             f"<p>Student: <b>{html.escape(record['student'])}</b>. {_totals_text(entries)}</p>"]
    if record.get("status") != "graded":
        parts.append(f"<p class='feedback-not-graded'><b>Not graded:</b> {html.escape(record['reason'])}</p>")
    elif record.get("reason"):
        parts.append(f"<p class='feedback-stopped'><b>Grading stopped early:</b> {html.escape(record['reason'])}"
                     " (the tests before that point kept their result)</p>")
    if record.get("problems"):
        parts.append("<p><b>Problems found in the submission:</b></p><ul>"
                     + "".join(f"<li>{html.escape(p)}</li>" for p in record["problems"]) + "</ul>")
    flags = [f for f in record.get("flags", []) if f.get("notebook") == notebook_name]
    if flags:
        parts.append("<p class='feedback-flags'><b>Flagged for review by a grader</b> (code that reaches into the "
                     "grading):</p><ul>" + "".join(
                         f"<li>cell <code>{html.escape(str(f['cell']))}</code>, line {f['line']}: "
                         f"{html.escape(f['what'])}</li>" for f in flags) + "</ul>")
    parts.append("<table class='feedback-tests'><thead><tr><th>Test</th><th>Points</th><th>Result</th>"
                 "</tr></thead><tbody>")
    for name, entry, message in rows:
        parts.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{_points(entry)}</td>"
                     f"<td><pre style='white-space: pre-wrap; margin: 0'>"
                     f"{html.escape(_result_text(entry, message))}</pre></td></tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


def feedback_notebook(record, notebook_name, source, autograded=None, grades=None):
    """The notebook rendered as feedback.

    Inputs:
    - record: the grading record (dlcourse.instructor.records); notebook_name: e.g. "02_numpy_mlp.ipynb".
    - source: the source notebook (with hidden tests; used only to take the visible text of test cells).
    - autograded: the autograded notebook, or None when it could not be graded.
    - grades: the submission's grades in the gradebook (gradebook.submission_grades), for the written answers.
    Returns:
    - a NotebookNode without any hidden test source, rubric or traceback.
    """
    entries = merged_entries(record, notebook_name, grades or {})
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
    notebook.cells = [nbformat.v4.new_markdown_cell(_summary_html(record, notebook_name, rows, entries))] + body
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"feedback-{index}"
    return notebook


def grader_only_lines(source):
    """The lines of a source notebook that only graders may see (hidden tests, rubrics, model answers) and
    that appear nowhere in what the student's copy shows (at least 12 characters, stripped)."""
    hidden, visible = set(), []
    for cell in source.cells:
        text = cell.source
        if cell_kind(cell) == "rubric":
            hidden |= {line.strip() for line in text.splitlines()}
            continue
        shown = strip_solution_markers(strip_hidden_tests(text)) if cell_kind(cell) in ("test", "locked") else (
            replace_solutions(text, ""))
        visible.append(shown)
        hidden |= {line.strip() for line in text.splitlines()} - {line.strip() for line in shown.splitlines()}
    everywhere = "\n".join(visible)
    return sorted(line for line in hidden if len(line) >= 12 and line not in everywhere and not contains_marker(line))


def leaked_lines(notebook, source, own_text):
    """The grader-only lines of ``source`` that the feedback ``notebook`` would show and that are not the
    student's own text (a student may well have written a line that matches)."""
    shown = "\n".join([cell.source for cell in notebook.cells] + [
        str(o.get("text", "")) + str(o.get("evalue", "")) + "".join(map(str, (o.get("data") or {}).values()))
        for cell in notebook.cells for o in cell.get("outputs", [])])
    return [line for line in grader_only_lines(source) if line in shown and line not in own_text]


def withheld_notebook(record, notebook_name, leaked):
    """The page written instead of a feedback page that would show grader-only text (it fails closed)."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(
        f"# Feedback: {html.escape(record['assignment'])} / {html.escape(notebook_name)}\n\n"
        f"The feedback page of this notebook is withheld: it would show {len(leaked)} line(s) that only graders "
        "may see. A grader will review it and send the feedback.")]
    return notebook


def to_html(notebook, mathjax_url="", stylesheet=None):
    """The feedback page. ``mathjax_url``: where the page finds MathJax (mathjax.page_url; else the Jupyter
    server serving it); ``stylesheet``: the URL of feedback/style.css from the page."""
    return notebook_html(notebook, mathjax_url=mathjax_url, stylesheet=stylesheet)


def write_feedback(root, student, assignment, record, db_url=None):
    """Write feedback/<student>/<assignment>/<notebook>.html for every notebook of the assignment, with the
    written answers' scores and comments as the gradebook (``db_url``, default the course's) has them now.

    Returns:
    - the list of HTML paths written.
    """
    root = Path(root)
    grades = submission_grades(gradebook_url(root, db_url), assignment, student)
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
        notebook = feedback_notebook(record, source_path.name, source, autograded, grades)
        # the student's own text, and what a grader wrote to this student (a comment may well repeat words of
        # the rubric: "reuses the forward output"), are not leaks
        own = "\n".join([c.source for c in (autograded.cells if autograded else []) if cell_kind(c) in ("solution", "answer", None)]
                        + [grade["comment"] or "" for grade in grades.get(source_path.name, {}).values()])
        leaked = leaked_lines(notebook, source, own)
        if leaked:  # fail closed: this page is never published
            notebook = withheld_notebook(record, source_path.name, leaked)
        target = folder / (source_path.stem + ".html")
        target.write_text(to_html(notebook, page_url(target, root), stylesheet_for(target, root / "feedback")),
                          encoding="utf-8")
        written.append(target)
    return written


def regenerate(root, students=None, db_url=None):
    """Rewrite the feedback of every graded submission (from autograded/, the grading records and the
    gradebook, e.g. after manual grading in formgrader); nothing is executed again."""
    written = []
    for record in all_records(root, students):
        written += write_feedback(root, record["student"], record["assignment"], record, db_url)
    return written
