"""Run notebooks the way the autograder does, fast enough to try many buggy variants.

``score_variant`` executes a *source* notebook (hidden tests included, exactly the test code that
``nbgrader autograde`` restores into a submission) with some solution cells replaced by a variant's
code, then scores every test cell with nbgrader's own ``determine_grade``, after the course's
stderr guard. A cell that raised scores 0, as in autograde. Cells can be skipped (expensive training
that a variant does not touch) or the run stopped early.

The real ``nbgrader autograde`` is run by ``autograde_variants`` (and by the foundation tests), which
proves on whole submissions that the scores agree.
"""

import copy
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import determine_grade, is_grade

from dlcourse.autograde import autograde, make_course
from dlcourse.course import ROOT, execute_notebook
from dlcourse.nbgrader_ext import StderrToStdout

SOURCE = ROOT / "source"


@dataclass
class CellResult:
    grade_id: str
    score: float
    max_score: float
    error: str = ""  # "ExceptionName: message" of the cell's error, if any

    @property
    def passed(self):
        return self.score == self.max_score


@dataclass
class VariantResult:
    cells: dict = field(default_factory=dict)  # grade_id -> CellResult (only the cells that ran)

    def failed(self):
        return {gid: cell.error for gid, cell in self.cells.items() if not cell.passed}

    def passed(self):
        return sorted(gid for gid, cell in self.cells.items() if cell.passed)

    def total(self):
        return sum(c.score for c in self.cells.values()), sum(c.max_score for c in self.cells.values())


def source_notebook_path(assignment, notebook=None):
    """The path of source/<assignment>/<notebook>.ipynb (the only notebook when notebook is None)."""
    folder = SOURCE / assignment
    if notebook:
        return folder / f"{notebook}.ipynb"
    found = sorted(folder.glob("*.ipynb"))
    if len(found) != 1:
        raise ValueError(f"{folder} holds {len(found)} notebooks: name one")
    return found[0]


def graded_cell_points(notebook):
    """{grade_id: points} of the autograded (code) test cells of a notebook node."""
    return {cell.metadata.nbgrader.grade_id: cell.metadata.nbgrader.points for cell in notebook.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")}


def cell_by_id(notebook, cell_id):
    for cell in notebook.cells:
        if cell.get("id") == cell_id:
            return cell
    raise KeyError(f"no cell with id {cell_id!r}")


def replace_cells(notebook, replacements):
    """Return a copy of ``notebook`` whose cells named in ``replacements`` (cell id -> code) are replaced."""
    notebook = copy.deepcopy(notebook)
    for cell_id, source in replacements.items():
        cell_by_id(notebook, cell_id).source = source
    return notebook


def score_cells(notebook):
    """Score every executed test cell of ``notebook`` as nbgrader's SaveAutoGrades would."""
    guard = StderrToStdout()
    result = VariantResult()
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not is_grade(cell) or cell.get("execution_count") is None:
            continue
        guard.preprocess_cell(cell, {}, index)
        score, max_score = determine_grade(cell)
        errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs if o.output_type == "error"]
        errors += [o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        result.cells[cell.metadata.nbgrader.grade_id] = CellResult(
            cell.metadata.nbgrader.grade_id, score, max_score, "\n".join(errors))
    return result


def score_variant(assignment, replacements=None, notebook=None, skip=(), stop_after=None, timeout=300):
    """Execute a source notebook with cells replaced, and score its test cells.

    Inputs:
    - assignment: e.g. "02_numpy_mlp"; notebook: its notebook name when it has several.
    - replacements: cell id -> the code that replaces that cell (a buggy or alternative solution).
    - skip: cell ids not to execute; stop_after: the last cell id to execute.
    Returns:
    - a VariantResult with one CellResult per executed test cell.
    """
    path = source_notebook_path(assignment, notebook)
    original = nbformat.read(path, as_version=4)
    variant = replace_cells(original, replacements or {})
    kept = []
    for cell in variant.cells:
        if cell.get("id") in skip:
            continue
        kept.append(cell)
        if stop_after and cell.get("id") == stop_after:
            break
    else:
        if stop_after:
            raise KeyError(f"stop_after={stop_after!r} is not a cell id of {path.name}")
    variant.cells = kept
    execute_notebook(variant, cwd=path.parent, timeout=timeout, allow_errors=True)
    return score_cells(variant)


def release_notebook(assignment, notebook=None):
    """The student version of a source notebook, as nbgrader's generate_assignment builds it."""
    path = ROOT / "release" / assignment / source_notebook_path(assignment, notebook).name
    return nbformat.read(path, as_version=4)


def autograde_variants(assignment, variants, notebook=None, workdir=None):
    """Autograde whole submissions with the real nbgrader.

    Inputs:
    - variants: student id -> {cell id: code} applied to the *release* notebook (the student's
      starting point), or student id -> a notebook node to submit as it is.
    Returns:
    - (scores, nbgrader's CompletedProcess), scores as in dlcourse.autograde.autograde.
    """
    name = source_notebook_path(assignment, notebook).name
    workdir = Path(workdir or tempfile.mkdtemp(prefix=f"autograde-{assignment}-"))
    course = make_course(workdir / "course", [assignment])
    folders = {}
    for student, variant in variants.items():
        folder = workdir / "submissions" / student
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(variant, dict) and not hasattr(variant, "cells"):
            submission = replace_cells(nbformat.read(course / "release" / assignment / name, as_version=4), variant)
        else:
            submission = variant
        nbformat.write(submission, folder / name)
        folders[student] = folder
    try:
        return autograde(course, assignment, folders)
    finally:
        shutil.rmtree(workdir / "submissions", ignore_errors=True)


def solution_code(assignment, cell_id, notebook=None):
    """The reference code of a source cell with the solution markers removed (hidden tests too)."""
    from dlcourse.course import HIDDEN_TESTS, SOLUTION_MARKERS

    cell = cell_by_id(nbformat.read(source_notebook_path(assignment, notebook), as_version=4), cell_id)
    return SOLUTION_MARKERS.sub("", HIDDEN_TESTS.sub("", cell.source))


def mutate(assignment, cell_id, old, new, notebook=None, count=1):
    """A buggy variant of a reference cell: ``old`` replaced by ``new`` in its solution code.

    Fails when ``old`` does not occur exactly ``count`` times, so a variant cannot silently stop
    being buggy when the reference solution is edited.
    Returns:
    - {cell_id: buggy code}, ready for score_variant's ``replacements``.
    """
    code = solution_code(assignment, cell_id, notebook)
    found = code.count(old)
    if found != count:
        raise AssertionError(f"mutation of {assignment}/{cell_id}: {old!r} occurs {found} times, expected {count}")
    return {cell_id: code.replace(old, new)}


def load_replacements(path):
    """{cell_id: source} of a replacements file (dlcourse's samples.read_replacements: the one reader)."""
    from dlcourse.samples import read_replacements

    return read_replacements(path)


def assert_fails(result, cell_id, *words, errors=("CheckError",)):
    """``cell_id`` lost its points, failing with one of ``errors``, with every one of ``words`` in its message."""
    assert cell_id in result.cells, f"{cell_id} did not run: {sorted(result.cells)}"
    cell = result.cells[cell_id]
    assert not cell.passed, f"{cell_id} should fail on this bug, but it scored {cell.score}/{cell.max_score}"
    assert any(name in cell.error for name in errors), \
        f"{cell_id} should fail with a {' or '.join(errors)} message, got: {cell.error}"
    for word in words:
        assert word in cell.error, f"{cell_id}'s message should mention {word!r}: {cell.error}"


def assert_passes(result, *cell_ids):
    """Every one of ``cell_ids`` ran and got full marks."""
    for cell_id in cell_ids:
        assert cell_id in result.cells, f"{cell_id} did not run"
        assert result.cells[cell_id].passed, f"{cell_id} should pass: {result.cells[cell_id].error}"
