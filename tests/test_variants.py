"""dlcourse/instructor/variants.py: a notebook run with cells replaced, its test cells scored as nbgrader
scores them; tests/harness.py's score_variant is this core (same classes, same results).

A small demo notebook (built here from a lesson text) keeps each kernel run to a second or two.
"""

import nbformat
import pytest

import harness
from dlcourse.instructor import lessons, variants

LESSON = '''# %% locked id=setup
from dlcourse.checks import assert_close
# %% solution id=add
def add(a, b):
    """Inputs: - a, b: numbers. Returns: - their sum."""
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION
# %% tests id=add_test points=2
# Checks: add on small numbers
assert_close(add(1, 2), 3, "add(1, 2)")
print("add: checks passed")
# %% id=slow
import time
time.sleep(30)
# %% tests id=bonus_test bonus=1
# Checks: add of negative numbers (extra credit)
assert_close(add(-1, -2), -3, "add(-1, -2)")
print("bonus: checks passed")
'''
SUBTRACT = "def add(a, b):\n    return a - b"


@pytest.fixture(scope="module")
def demo():
    return lessons.build_notebook(LESSON, "demo")


def test_harness_exports_the_variant_classes_unchanged():
    """Other tests build on harness.CellResult/VariantResult/score_cells/replace_cells: the same objects."""
    assert harness.CellResult is variants.CellResult and harness.VariantResult is variants.VariantResult
    assert harness.score_cells is variants.score_cells and harness.replace_cells is variants.replace_cells
    result = variants.VariantResult({"a": variants.CellResult("a", 1.0, 2.0, "CheckError: x"),
                                     "b": variants.CellResult("b", 3.0, 3.0)})
    assert result.failed() == {"a": "CheckError: x"} and result.passed() == ["b"] and result.total() == (4.0, 5.0)


def test_select_cells_skips_and_stops_and_names_a_wrong_stop(demo):
    kept = variants.select_cells(variants.replace_cells(demo, {}), skip=("slow",), stop_after="bonus_test")
    assert [cell.get("id") for cell in kept.cells if cell.cell_type == "code"] == [
        "setup", "add", "add_test", "bonus_test"]
    with pytest.raises(KeyError, match="stop_after='nowhere' is not a cell id of demo.ipynb"):
        variants.select_cells(variants.replace_cells(demo, {}), stop_after="nowhere", name="demo.ipynb")


def test_run_variant_scores_a_replaced_cell_like_nbgrader(demo, tmp_path):
    """A wrong answer scores 0 with its check's message; a cell that did not run is not scored."""
    result = variants.run_variant(demo, tmp_path, {"add": SUBTRACT}, stop_after="add_test")
    assert set(result.cells) == {"add_test"}
    assert result.cells["add_test"].score == 0 and result.cells["add_test"].max_score == 2
    assert "CheckError" in result.cells["add_test"].error and "add(1, 2)" in result.cells["add_test"].error
    assert "add" in demo.cells[1].source and "a + b" in variants.cell_by_id(demo, "add").source  # not changed


def test_run_cells_stops_early_applies_the_prelude_and_reports_timeouts(demo, tmp_path):
    """The prelude runs before the first cell; ``stop`` ends the run after a failing cell (the slow cell
    never starts); a cell over its timeout ends the run as a failure instead of raising."""
    notebook = variants.replace_cells(demo, {"add": "def add(a, b):\n    return a + b + OFFSET"})
    outcome = variants.run_cells(notebook, tmp_path, prelude=["OFFSET = 1"],
                                 stop=lambda cell, scored: scored is not None and not scored.passed)
    assert outcome.stopped_after == "add_test" and not outcome.failure
    assert set(outcome.result.cells) == {"add_test"} and "slow" not in outcome.seconds
    assert len(notebook.cells) == len(demo.cells) and "OFFSET = 1" not in [c.source for c in notebook.cells]

    outcome = variants.run_cells(variants.replace_cells(demo, {}), tmp_path,
                                 timeout_of=lambda cell: 3 if cell.get("id") == "slow" else 60)
    assert outcome.failure == "timeout in slow (3 s)", outcome.failure
    assert outcome.result.cells["add_test"].passed and "bonus_test" not in outcome.result.cells
