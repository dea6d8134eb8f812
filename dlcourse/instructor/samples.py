"""Sample submissions of every practical, in nbgrader layout, built from release/ and the replacements.

For each practical with ``samples/<a>/alternative.py`` and ``samples/<a>/partial.py`` (replacement cells
headed ``# %% id=<cell id>`` for code and ``# %% [markdown] id=<cell id>`` for a written answer, in the
lesson format; see ``read_replacements``):

    samples/submitted/sample-correct/<a>/<notebook>.ipynb     release + alternative.py (full marks)
    samples/submitted/sample-untouched/<a>/<notebook>.ipynb   the release as it is (zero)
    samples/submitted/sample-partial/<a>/<notebook>.ipynb     release + partial.py (in between)

Deterministic (same inputs, same bytes), so a test can rebuild them in memory and compare.
"""

import copy
import json
import shutil
from pathlib import Path

import nbformat

from dlcourse.instructor.gradebook import apply_manual_grades, has_submission
from dlcourse.instructor.lessons import parse_lesson

SUBMITTED = Path("samples") / "submitted"
TA_GRADES = "ta_grades.json"  # samples/<a>/ta_grades.json: {student: {grade id: {"score", "comment"}}}
STUDENTS = {"sample-correct": "alternative.py", "sample-untouched": None, "sample-partial": "partial.py"}


def read_replacements(path):
    """Read a replacements file: each cell, headed '# %% id=<cell id>' (code) or '# %% [markdown] id=<cell id>'
    (a written answer), is the new source of that cell.

    Returns:
    - {cell id: source}
    """
    path = Path(path)
    replacements = {}
    for cell in parse_lesson(path.read_text(encoding="utf-8"), str(path)):
        if cell.kind or not cell.id:
            raise ValueError(f"{path}: every cell of a replacements file is headed '# %% id=<cell id>' or "
                             "'# %% [markdown] id=<cell id>', with no kind")
        replacements[cell.id] = cell.source
    return replacements


def notebook_text(notebook):
    return nbformat.writes(notebook) + "\n"


def has_samples(root, assignment):
    folder = Path(root) / "samples" / assignment
    return all((folder / name).is_file() for name in ("alternative.py", "partial.py"))


def sample_notebooks(root, assignment):
    """{student: {notebook file name: NotebookNode}} of the three sample students of an assignment."""
    root = Path(root)
    release = {path.name: nbformat.read(path, as_version=4)
               for path in sorted((root / "release" / assignment).glob("*.ipynb"))}
    if not release:
        raise FileNotFoundError(f"release/{assignment} has no notebook: run ./course release")
    result = {}
    for student, filename in STUDENTS.items():
        notebooks = copy.deepcopy(release)
        if filename:
            replacements = read_replacements(root / "samples" / assignment / filename)
            unused = set(replacements)
            for notebook in notebooks.values():
                for cell in notebook.cells:
                    if cell.get("id") in replacements:
                        cell.source = replacements[cell.id]
                        unused.discard(cell.id)
            if unused:
                raise KeyError(f"samples/{assignment}/{filename}: no cell with id {sorted(unused)} in release/")
        result[student] = notebooks
    return result


def build_samples(root, assignments):
    """Write samples/submitted/<student>/<a>/ for the given assignments; returns the assignments done."""
    root = Path(root)
    done = []
    for assignment in assignments:
        if not has_samples(root, assignment):
            continue
        for student, notebooks in sample_notebooks(root, assignment).items():
            folder = root / SUBMITTED / student / assignment
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            for name, notebook in notebooks.items():
                (folder / name).write_text(notebook_text(notebook), encoding="utf-8")
        done.append(assignment)
    return done


def apply_ta_grades(root, db_url, assignments):
    """The scripted grading pass of the sample submissions' written answers: the scores and comments of
    samples/<a>/ta_grades.json entered through nbgrader's gradebook API, as a TA would in formgrader.

    Returns:
    - [(student, assignment)] whose grades were entered.
    """
    done = []
    for assignment in assignments:
        path = Path(root) / "samples" / assignment / TA_GRADES
        if not path.is_file():
            continue
        for student, grades in json.loads(path.read_text(encoding="utf-8")).items():
            if has_submission(db_url, assignment, student):
                apply_manual_grades(db_url, assignment, student, grades)
                done.append((student, assignment))
    return done
