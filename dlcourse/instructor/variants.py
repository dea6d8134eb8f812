"""A notebook run with some cells replaced, and its test cells scored as nbgrader scores them.

A *variant* of a source notebook (hidden tests included, exactly the test code that ``nbgrader
autograde`` restores into a submission) has some solution cells replaced by other code (a buggy or an
alternative answer, a mutant). Executing it and scoring every executed test cell with nbgrader's own
``determine_grade``, after the course's stderr guard (``nbgrader_ext.StderrToStdout``), gives the points a
submission with that code would get: a cell that raised scores 0, as in autograde. Cells can be left out
(expensive training that the variant does not touch) or the run stopped early.

Two ways to run one:

- ``run_variant``: the whole selection in one nbclient execution (tests/harness.py's ``score_variant``;
  a timeout or a dead kernel raises, as nbclient does);
- ``run_cells``: cell by cell, with a per-cell timeout, commands run first in the kernel (a memory limit),
  and a ``stop`` test after each cell; a timeout or a dead kernel ends the run and is reported in the
  outcome instead of raised (``./course mutants``: a mutant is decided by its first failing test cell).
"""

import asyncio
import copy
import time
from dataclasses import dataclass, field

from nbgrader.utils import determine_grade, is_grade

from dlcourse.instructor.config import CELL_TIMEOUT, KERNEL_NAME
from dlcourse.instructor.nbgrader_ext import StderrToStdout
from dlcourse.instructor.notebooks import execute_notebook


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


@dataclass
class RunOutcome:
    """What ``run_cells`` did: the scored test cells, each executed cell's seconds, and how it ended."""
    result: VariantResult
    seconds: dict = field(default_factory=dict)  # cell id -> wall seconds of its execution
    stopped_after: str = ""  # the cell id after which ``stop`` ended the run ("" when it ran to the end)
    failure: str = ""  # "timeout in <cell id> (<s> s)" or "kernel died in <cell id>", "" when none


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


def select_cells(notebook, skip=(), stop_after=None, name="the notebook"):
    """The notebook (changed in place) without the cells in ``skip`` and after the cell ``stop_after``."""
    kept = []
    for cell in notebook.cells:
        if cell.get("id") in skip:
            continue
        kept.append(cell)
        if stop_after and cell.get("id") == stop_after:
            break
    else:
        if stop_after:
            raise KeyError(f"stop_after={stop_after!r} is not a cell id of {name}")
    notebook.cells = kept
    return notebook


def score_cell(cell, index=0, guard=None):
    """The CellResult of one executed test cell (None for any other cell, or one that did not run)."""
    if cell.cell_type != "code" or not is_grade(cell) or cell.get("execution_count") is None:
        return None
    (guard or StderrToStdout()).preprocess_cell(cell, {}, index)
    score, max_score = determine_grade(cell)
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs if o.output_type == "error"]
    errors += [o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    return CellResult(cell.metadata.nbgrader.grade_id, score, max_score, "\n".join(errors))


def score_cells(notebook):
    """Score every executed test cell of ``notebook`` as nbgrader's SaveAutoGrades would."""
    guard = StderrToStdout()
    result = VariantResult()
    for index, cell in enumerate(notebook.cells):
        scored = score_cell(cell, index, guard)
        if scored is not None:
            result.cells[scored.grade_id] = scored
    return result


def run_variant(notebook, cwd, replacements=None, skip=(), stop_after=None, timeout=300, name="the notebook"):
    """Execute a copy of ``notebook`` with cells replaced and left out, in one kernel; score its test cells.

    Inputs:
    - notebook: a source notebook node (not changed); cwd: the kernel's working directory.
    - replacements: cell id -> the code that replaces that cell.
    - skip: cell ids not to execute; stop_after: the last cell id to execute; timeout: seconds per cell.
    Returns:
    - a VariantResult with one CellResult per executed test cell.
    """
    variant = select_cells(replace_cells(notebook, replacements or {}), skip, stop_after, name)
    execute_notebook(variant, cwd=cwd, timeout=timeout, allow_errors=True)
    return score_cells(variant)


def run_cells(notebook, cwd, prelude=(), timeout_of=None, stop=None):
    """Execute ``notebook`` (changed in place) cell by cell in a new course kernel; score its test cells.

    Inputs:
    - prelude: code run in the kernel before the first cell (not part of the notebook, not scored).
    - timeout_of: cell -> seconds allowed for that cell (default: the course's CELL_TIMEOUT).
    - stop: (cell, CellResult or None) -> True to end the run after that cell.
    Returns:
    - a RunOutcome; a cell timeout or a dead kernel ends the run and is named in ``failure``.
    """
    from nbclient import NotebookClient

    timeout_of = timeout_of or (lambda cell: CELL_TIMEOUT)
    # the kernel's own warnings (a TCP transport on localhost) would be repeated for every run
    client = NotebookClient(notebook, kernel_name=KERNEL_NAME, allow_errors=True, timeout_func=timeout_of,
                            resources={"metadata": {"path": str(cwd)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    outcome = RunOutcome(VariantResult())
    asyncio.run(_run_cells(client, list(prelude), stop or (lambda cell, scored: False), outcome))
    return outcome


async def _run_cells(client, prelude, stop, outcome):
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell

    async with client.async_setup_kernel():
        for code in prelude:  # nbclient writes an executed cell back at its index: give it one, then remove it
            client.nb.cells.insert(0, new_code_cell(code))
            try:
                await client.async_execute_cell(client.nb.cells[0], 0, store_history=False)
            finally:
                client.nb.cells.pop(0)
        guard = StderrToStdout()
        for index, cell in enumerate(client.nb.cells):
            start = time.perf_counter()
            try:
                await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            except CellTimeoutError:
                outcome.failure = f"timeout in {cell.get('id')} ({client._get_timeout(cell):.0f} s)"
            except DeadKernelError:
                outcome.failure = f"kernel died in {cell.get('id')}"
            outcome.seconds[cell.get("id")] = time.perf_counter() - start
            if outcome.failure:
                return
            scored = score_cell(cell, index, guard)
            if scored is not None:
                outcome.result.cells[scored.grade_id] = scored
            if stop(cell, scored):
                outcome.stopped_after = cell.get("id")
                return
