"""The course's gradebook (nbgrader's database, the one formgrader reads and writes): the one truth that
feedback and the grades tables read. Only the grading run's single writer calls ``record_submission``.

Any SQLAlchemy URL works (``--db-url``, else ``$DLCOURSE_DB_URL``, which ``nbgrader_config.py`` gives
nbgrader's ``db_url`` too): SQLite ``gradebook.db`` at the course root by default, PostgreSQL
(``postgresql+psycopg://user@host/db``) for a course that outgrows it (docs/scaling.md).

What the writer keeps from before: a manual score and comment a grader entered for a written answer
survive a regrade of the same submission unless that answer's text changed (the record keeps the
sha256 of each answer). A review flag sets nbgrader's ``flagged`` on the submission.
"""

import os
import warnings
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import parse_utc
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, ClearSolutions, ComputeChecksums, LockCells,
                                    SaveCells)
from sqlalchemy.exc import SAWarning

from dlcourse.instructor.config import CODE_STUB, GRADEBOOK_URL_VARIABLE, TEXT_STUB, put_tools_on_path

NOT_ANSWERED = "Not answered yet."


def gradebook_url(root, db_url=None):
    """The gradebook's SQLAlchemy URL: ``db_url`` when given, else ``$DLCOURSE_DB_URL``, else root/gradebook.db
    (SQLite)."""
    return db_url or os.environ.get(GRADEBOOK_URL_VARIABLE) or f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"


def open_gradebook(db_url):
    put_tools_on_path()
    return Gradebook(db_url)


def sync_assignment(db_url, root, assignment):
    """Record the assignment's notebooks and cells in the gradebook exactly as ``nbgrader generate_assignment``
    does (its own preprocessors, in process: LockCells, ClearSolutions, ComputeChecksums, SaveCells)."""
    with open_gradebook(db_url) as gradebook:  # (also puts alembic on PATH for SaveCells)
        gradebook.update_or_create_assignment(assignment)
    steps = [LockCells(), ClearSolutions(code_stub={"python": CODE_STUB}, text_stub=TEXT_STUB), ClearOutput(),
             CheckCellMetadata(), ComputeChecksums(), SaveCells()]
    for path in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": path.stem}}
        for step in steps:
            notebook, resources = step.preprocess(notebook, resources)


def _set_test(grade, comment, entry):
    score = min(max(float(entry["score"] or 0.0), 0.0), float(entry["max_score"]))
    grade.auto_score, grade.needs_manual_grade = score, False
    if entry.get("bonus_max"):
        grade.extra_credit = min(float(entry.get("bonus") or 0.0), float(entry["bonus_max"]))
    if comment is not None:
        comment.auto_comment = entry.get("message") or None


def _set_answer(grade, comment, entry, previous):
    changed = previous is None or previous.get("sha256") != entry.get("sha256")
    if changed:
        grade.manual_score, grade.extra_credit = None, None
        if comment is not None:
            comment.manual_comment = None
    grade.auto_score = None
    grade.needs_manual_grade = grade.manual_score is None
    if comment is not None:
        comment.auto_comment = None if entry.get("answered") else NOT_ANSWERED


def record_submission(db_url, record, previous=None):
    """Write one graded submission into the gradebook.

    Inputs:
    - record: its grading record (records.py); previous: the record it replaces (None for a first grading),
      whose answer digests decide which manual grades survive.
    """
    assignment, student = record["assignment"], record["student"]
    old = (previous or {}).get("notebooks", {})
    # nbgrader builds its objects in a way SQLAlchemy 2 warns about (harmless)
    with warnings.catch_warnings(), open_gradebook(db_url) as gradebook:
        warnings.simplefilter("ignore", SAWarning)
        gradebook.update_or_create_student(student)
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            submission = gradebook.add_submission(assignment, student)
        submission.flagged = bool(record.get("flags"))
        if record.get("timestamp"):
            submission.timestamp = parse_utc(record["timestamp"])
        for notebook in submission.notebooks:
            entries = record["notebooks"].get(f"{notebook.name}.ipynb", {})
            comments = {comment.name: comment for comment in notebook.comments}
            for grade in notebook.grades:
                entry = entries.get(grade.name)
                if entry is None:
                    continue
                if entry["type"] == "test":
                    _set_test(grade, comments.get(grade.name), entry)
                else:
                    previous_entry = old.get(f"{notebook.name}.ipynb", {}).get(grade.name)
                    _set_answer(grade, comments.get(grade.name), entry, previous_entry)
        gradebook.db.commit()


def submission_grades(db_url, assignment, student):
    """{notebook file: {grade id: {"score", "max_score", "manual_score", "needs_manual_grade", "comment"}}}
    of one submission as the gradebook has it now ({} when it has none)."""
    found = {}
    with open_gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return {}
        for notebook in submission.notebooks:
            comments = {c.name: (c.manual_comment or c.auto_comment or "") for c in notebook.comments}
            found[f"{notebook.name}.ipynb"] = {
                grade.name: {"score": grade.score, "max_score": grade.max_score, "manual_score": grade.manual_score,
                             "auto_score": grade.auto_score, "extra_credit": grade.extra_credit or 0.0,
                             "needs_manual_grade": bool(grade.needs_manual_grade),
                             "comment": comments.get(grade.name, "")} for grade in notebook.grades}
    return found


def has_submission(db_url, assignment, student):
    with open_gradebook(db_url) as gradebook:
        try:
            gradebook.find_submission(assignment, student)
        except MissingEntry:
            return False
    return True


def apply_manual_grades(db_url, assignment, student, grades):
    """Enter manual scores and comments for one submission's written answers, as a grader would in
    formgrader (nbgrader's gradebook API).

    Inputs:
    - grades: {grade id: {"score": points, "comment": text}}; a score above the cell's maximum is refused.
    Returns:
    - the grade ids written.
    """
    written = []
    with warnings.catch_warnings(), open_gradebook(db_url) as gradebook:
        warnings.simplefilter("ignore", SAWarning)
        submission = gradebook.find_submission(assignment, student)
        for notebook in submission.notebooks:
            comments = {comment.name: comment for comment in notebook.comments}
            for grade in notebook.grades:
                if grade.name not in grades:
                    continue
                score = float(grades[grade.name]["score"])
                if not 0 <= score <= grade.max_score:
                    raise ValueError(f"{student}/{assignment}/{grade.name}: score {score} is not in [0, {grade.max_score}]")
                grade.manual_score, grade.needs_manual_grade = score, False
                if grade.name in comments:
                    comments[grade.name].manual_comment = grades[grade.name].get("comment") or None
                written.append(grade.name)
        gradebook.db.commit()
    return written


def seconds_late(db_url, assignment, student):
    """How late the submission was, from its time stamp and the assignment's due date (0 without either)."""
    with open_gradebook(db_url) as gradebook:
        try:
            return float(gradebook.find_submission(assignment, student).total_seconds_late or 0.0)
        except MissingEntry:
            return 0.0
