"""The executed solutions: each source notebook run once with its hidden tests (every test must pass),
then written to ``solutions/<a>/<n>.ipynb`` for reading: outputs and plots kept, markers, grading metadata
and hidden tests removed, graders' rubrics kept as plain text (teaching assistants read them there)."""

import time
from pathlib import Path

import nbformat

from dlcourse.instructor.config import ROOT, assignments_present, log, source_notebooks
from dlcourse.instructor.markers import (MARK_SCHEME_BEGIN, MARK_SCHEME_END, is_test_cell, strip_hidden_tests,
                                         strip_solution_markers)
from dlcourse.instructor.nbgrader_ext import StderrToStdout
from dlcourse.instructor.notebooks import execute_notebook
from dlcourse.instructor.records import sha256_file


def strip_for_reading(notebook):
    """Remove nbgrader metadata, solution and mark-scheme markers and hidden tests from a notebook (outputs
    kept). Changes it in place and returns it."""
    for cell in notebook.cells:
        for key in ("nbgrader", "deletable", "editable", "dlcourse"):
            cell.metadata.pop(key, None)
        source = strip_solution_markers(cell.source)
        if cell.cell_type == "code":
            source = strip_hidden_tests(source)
        else:
            source = "\n".join(line for line in source.splitlines()
                               if MARK_SCHEME_BEGIN not in line and MARK_SCHEME_END not in line)
        cell.source = source.rstrip()
    return notebook


def failed_test_cells(notebook):
    """{grade_id: "error"} of the test cells of an executed notebook that did not get full marks."""
    from nbgrader.utils import determine_grade

    guard = StderrToStdout()
    failed = {}
    for index, cell in enumerate(notebook.cells):
        if not is_test_cell(cell):
            continue
        guard.preprocess_cell(cell, {}, index)
        score, max_score = determine_grade(cell)
        if score != max_score:
            errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs if o.output_type == "error"]
            failed[cell.metadata.nbgrader.grade_id] = "; ".join(errors) or f"scored {score}/{max_score}"
    return failed


def solution_is_fresh(source, target):
    """True when target (solutions/<a>/<n>.ipynb) was executed from the current source notebook."""
    if not Path(target).is_file():
        return False
    meta = nbformat.read(target, as_version=4).metadata.get("dlcourse", {})
    return meta.get("source_sha256") == sha256_file(source)


def _execute_one(source, target):
    """Execute one source notebook; write it for reading. Returns the {grade_id: error} that failed."""
    notebook = nbformat.read(source, as_version=4)
    execute_notebook(notebook, cwd=source.parent, allow_errors=True)
    failed = failed_test_cells(notebook)
    if not failed:
        notebook = strip_for_reading(notebook)
        notebook.metadata["dlcourse"] = {"source_sha256": sha256_file(source), "generated_by": "./course solutions"}
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
    return failed


def execute_solutions(root=ROOT, force=False):
    """Write solutions/<a>/<n>.ipynb for every source notebook that changed (or all, with ``force``).

    The sha256 of the source notebook is recorded in the notebook's metadata (``dlcourse.source_sha256``).
    Raises RuntimeError listing every test cell that fails on the reference solution.
    """
    root = Path(root)
    failures = {}
    for name in assignments_present(root):
        for notebook_name in source_notebooks(root, name):
            source = root / "source" / name / notebook_name
            target = root / "solutions" / name / notebook_name
            if not force and solution_is_fresh(source, target):
                log(f"solutions/{name}/{notebook_name} is up to date")
                continue
            start = time.perf_counter()
            failed = _execute_one(source, target)
            if failed:
                failures[f"{name}/{notebook_name}"] = failed
                log(f"source/{name}/{notebook_name}: {len(failed)} test cell(s) FAIL on the reference solution")
            else:
                log(f"solutions/{name}/{notebook_name} executed, every test passed "
                    f"({time.perf_counter() - start:.1f} s)")
    if failures:
        lines = [f"  {nb}: {gid}: {error[:300]}" for nb, cells in failures.items() for gid, error in cells.items()]
        raise RuntimeError("the reference solutions fail their own tests:\n" + "\n".join(lines))
