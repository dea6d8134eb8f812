"""Run notebooks the way the autograder does, fast enough to try many buggy variants.

``score_variant`` executes a *source* notebook (hidden tests included, exactly the test code that
``nbgrader autograde`` restores into a submission) with some solution cells replaced by a variant's
code, then scores every test cell with nbgrader's own ``determine_grade``, after the course's
stderr guard. A cell that raised scores 0, as in autograde. Cells can be skipped (expensive training
that a variant does not touch) or the run stopped early. The core is the pipeline's
``dlcourse.instructor.variants`` (``run_variant``), which ``./course mutants`` uses too.

The real ``nbgrader autograde`` is run by ``autograde_variants`` (and by the foundation tests), which
proves on whole submissions that the scores agree.
"""

import copy
import hashlib
import shutil
import tempfile
from pathlib import Path

import nbformat

from dlcourse.instructor.config import ROOT
from dlcourse.instructor.markers import strip_hidden_tests, strip_solution_markers
from dlcourse.instructor.nbgrader_course import autograde, make_course
from dlcourse.instructor.notebooks import execute_notebook
from dlcourse.instructor.samples import read_replacements
# The variant core lives in the pipeline (./course mutants uses it); these names are this module's API too.
from dlcourse.instructor.variants import (CellResult, VariantResult, cell_by_id, replace_cells, run_variant,
                                          score_cells)

SOURCE = ROOT / "source"


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
    return run_variant(nbformat.read(path, as_version=4), path.parent, replacements, skip, stop_after, timeout,
                       name=path.name)


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
    - (scores, nbgrader's CompletedProcess), scores as in dlcourse.instructor.nbgrader_course.autograde.
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
    cell = cell_by_id(nbformat.read(source_notebook_path(assignment, notebook), as_version=4), cell_id)
    return strip_solution_markers(strip_hidden_tests(cell.source)) + "\n"


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
    """{cell_id: source} of a replacements file (dlcourse.instructor.samples.read_replacements: the one reader)."""
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


# ----------------------------------------------------------------------------------------------
# The course's helpers must not be answers: each one tried as the answer of every exercise
# ----------------------------------------------------------------------------------------------

def imported_helpers(notebook):
    """Names of the callables that a notebook's locked cells import from ``dlcourse`` (in order)."""
    import ast

    names = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("locked") or meta.get("grade"):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "dlcourse":
                names += [alias.asname or alias.name for alias in node.names if alias.name != "*"]
    return list(dict.fromkeys(names))


def exercise_names(notebook):
    """Names of the top-level functions and classes that the solution cells define (the exercises)."""
    import ast

    names = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            names += [node.name for node in ast.parse(cell.source).body
                      if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    return list(dict.fromkeys(names))


_HELPER_DRIVER = '''
import json as _dl_json
_dl_results = globals().setdefault("_dl_results", {{}})
for _dl_helper in {helpers!r}:
    _dl_saved = {{name: globals().get(name) for name in {exercises!r}}}
    for _dl_name in {exercises!r}:
        globals()[_dl_name] = (lambda helper: lambda *args, **kwargs: helper(*args, **kwargs))(globals()[_dl_helper])
    try:
        exec(compile({source!r}, "<test cell {grade_id}>", "exec"), globals())
        _dl_passed = True
    except BaseException:
        _dl_passed = False
    finally:
        globals().update(_dl_saved)
    _dl_results.setdefault(_dl_helper, {{}})[{grade_id!r}] = _dl_passed
print("_dl_results=" + _dl_json.dumps(_dl_results))
'''


def helpers_as_answers(assignment, notebook=None, helpers=None, skip=(), timeout=300):
    """Try each dlcourse helper a notebook imports as the answer of every exercise, in one execution.

    The release's stubs stand for the student's code, except that before each test cell every exercise
    function and class (``exercise_names``) is, in turn for each helper, rebound to ``helper(*args,
    **kwargs)`` and the test cell's code (hidden tests included) is run; nothing else changes.
    Inputs:
    - helpers: the names to try (default: every name the locked cells import from dlcourse).
    - skip: cell ids not to execute (expensive ordinary cells no test needs).
    Returns:
    - {helper name: sorted grade ids of the test cells that passed with it as every answer}
    """
    import json

    path = source_notebook_path(assignment, notebook)
    source = nbformat.read(path, as_version=4)
    release = {cell.get("id"): cell for cell in release_notebook(assignment, notebook).cells}
    helpers = list(helpers or imported_helpers(source))
    exercises = exercise_names(source)
    cells = []
    for cell in source.cells:
        if cell.get("id") in skip:
            continue
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            cells.append(copy.deepcopy(release[cell.id]))
        elif cell.cell_type == "code" and meta.get("grade"):
            driver = _HELPER_DRIVER.format(helpers=helpers, exercises=exercises, source=cell.source,
                                           grade_id=meta["grade_id"])
            cells.append(nbformat.v4.new_code_cell(driver))
        else:
            cells.append(cell)
    variant = copy.deepcopy(source)
    variant.cells = cells
    execute_notebook(variant, cwd=path.parent, timeout=timeout, allow_errors=True)
    results = {}
    for cell in variant.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and "_dl_results=" in output.get("text", ""):
                line = [l for l in output["text"].splitlines() if l.startswith("_dl_results=")][-1]
                results = json.loads(line[len("_dl_results="):])
    return {helper: sorted(gid for gid, passed in results.get(helper, {}).items() if passed) for helper in helpers}


def tree_digest(folder):
    """sha256 over every file's relative path and bytes (and mtime) under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
            digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()
