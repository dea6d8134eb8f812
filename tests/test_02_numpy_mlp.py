"""Tests of practical 02 (a NumPy MLP with backpropagation).

* the reference notebook passes every test cell;
* every bug listed in the issue, injected into the reference solution, makes the test cell meant to
  catch it fail with a message that names the problem (and leaves the cells before it passing);
* the alternative solution (samples/02_numpy_mlp/alternative.py: einsum, examples as columns of
  Fortran-ordered arrays) passes every test cell;
* the real ``nbgrader autograde`` gives the alternative full marks and the partial sample
  (samples/02_numpy_mlp/partial.py) a score strictly between 0 and the maximum.
"""

import ast
from pathlib import Path

import nbformat
import pytest

from harness import ROOT, autograde_variants, load_replacements, mutate, score_variant, source_notebook_path

ASSIGNMENT = "02_numpy_mlp"
SAMPLES = ROOT / "samples" / ASSIGNMENT
TEST_CELLS = {
    "layer_forward_test": 2, "layer_backward_test": 3, "layer_update_test": 1, "softmax_forward_test": 1,
    "softmax_cost_test": 1, "softmax_backward_test": 1, "mlp_forward_test": 2, "mlp_backward_test": 2,
    "mlp_update_test": 1, "gradient_check_test": 2, "count_parameters_test": 1, "train_test": 1,
    "accuracy_test": 2,
}
SOLUTION_CELLS = ["layer", "softmax", "mlp", "gradient_check", "count_parameters", "train"]
MAX_SCORE = sum(TEST_CELLS.values())


def _notebook():
    return nbformat.read(source_notebook_path(ASSIGNMENT), as_version=4)


def _cells(kind):
    return [cell for cell in _notebook().cells
            if cell.get("metadata", {}).get("nbgrader", {}).get(kind) and cell.cell_type == "code"]


# ---------------------------------------------------------------- static checks (fast)

def test_source_notebook_is_the_build_of_the_lesson():
    from dlcourse.instructor.lessons import lesson_to_ipynb_text

    lesson = ROOT / "lessons" / ASSIGNMENT / f"{ASSIGNMENT}.py"
    assert source_notebook_path(ASSIGNMENT).read_text(encoding="utf-8") == lesson_to_ipynb_text(lesson), \
        "source/02_numpy_mlp is stale: run ./course lessons"


def test_graded_cells_are_the_expected_ones():
    notebook = _notebook()
    grades = {cell.metadata.nbgrader.grade_id: cell.metadata.nbgrader.get("points")
              for cell in notebook.cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
              and cell.cell_type == "code"}
    assert grades == TEST_CELLS
    solutions = [cell.id for cell in notebook.cells if cell.cell_type == "code"
                 and cell.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert solutions == SOLUTION_CELLS
    answers = [cell.id for cell in notebook.cells if cell.cell_type == "markdown"
               and cell.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert len(answers) >= 6, answers


def test_test_cells_end_without_a_value():
    """nbgrader reads a test cell's displayed value as a partial score: no test cell may end with one."""
    for cell in _cells("grade"):
        tree = ast.parse(cell.source.replace("### BEGIN HIDDEN TESTS", "").replace("### END HIDDEN TESTS", ""))
        last = tree.body[-1]
        value_shown = isinstance(last, ast.Expr) and not (
            isinstance(last.value, ast.Call) and getattr(last.value.func, "id", None) == "print")
        assert not value_shown, f"{cell.id} ends with an expression whose value nbgrader would read as a score"
        assert cell.source.startswith("# Checks: "), f"{cell.id} does not start with '# Checks: ...'"


def test_samples_replace_every_solution_cell():
    for name in ("alternative", "partial"):
        assert sorted(load_replacements(SAMPLES / f"{name}.py")) == sorted(SOLUTION_CELLS), name


# ---------------------------------------------------------------- the reference and the alternative

def _assert_all_pass(result):
    assert result.failed() == {}, result.failed()
    assert sorted(result.cells) == sorted(TEST_CELLS), sorted(result.cells)
    assert result.total() == (MAX_SCORE, MAX_SCORE)


@pytest.mark.slow
def test_reference_passes_every_test_cell():
    _assert_all_pass(score_variant(ASSIGNMENT))


# ---------------------------------------------------------------- one test per bug of the issue
# Each bug is the reference solution with one textual change (mutate: it fails if the text is gone).
# bug id -> (cell, [(old, new, occurrences)], test cells that must fail, words each of their messages
#            must contain, test cells that must still pass)
BUGS = {
    "missing_transpose_grad_in": ("layer", [("grad_in = delta @ self.W.T", "grad_in = delta @ self.W", 1)],
                                  ["layer_backward_test"], ["transpose"], ["layer_forward_test"]),
    "missing_transpose_grad_W": ("layer", [("self.grad_W = self.X.T @ delta", "self.grad_W = delta.T @ self.X", 1)],
                                 ["layer_backward_test"], ["transpose"], ["layer_forward_test"]),
    "bias_gradient_not_summed": ("layer", [("self.grad_b = delta.sum(axis=0)", "self.grad_b = delta", 1)],
                                 ["layer_backward_test"], ["not summed over the batch"], ["layer_forward_test"]),
    "bias_gradient_mean": ("layer", [("self.grad_b = delta.sum(axis=0)", "self.grad_b = delta.mean(axis=0)", 1)],
                           ["layer_backward_test"], ["gradient_bias()", "averages over the batch", "should sum"],
                           ["layer_forward_test"]),
    "tanh_derivative": ("layer", [("delta = grad_out * (1.0 - self.A ** 2)", "delta = grad_out * (1.0 - self.A)", 1)],
                        ["layer_backward_test"], ["derivative of tanh"], ["layer_forward_test"]),
    "sigmoid_derivative": ("layer", [("delta = grad_out * (self.A * (1.0 - self.A))",
                                      "delta = grad_out * (self.Z * (1.0 - self.Z))", 1)],
                           ["layer_backward_test"], ["derivative of sigmoid"], ["layer_forward_test"]),
    "relu_derivative": ("layer", [("delta = grad_out * (self.Z > 0)", "delta = grad_out * self.A", 1)],
                        ["layer_backward_test"], ["derivative of relu"], ["layer_forward_test"]),
    "backprop_modifies_grad_out": ("layer", [("delta = grad_out * (1.0 - self.A ** 2)",
                                              "delta = grad_out  # reuse the array\n            delta *= 1.0 - self.A ** 2", 1)],
                                   ["layer_backward_test"], ["modified in place", "grad_out"], ["layer_forward_test"]),
    "update_wrong_sign": ("layer", [("- learning_rate *", "+ learning_rate *", 2)],
                          ["layer_update_test"], ["wrong sign"], ["layer_forward_test"]),
    "update_ignores_learning_rate": ("layer", [("learning_rate * self.grad_", "self.grad_", 2)],
                                     ["layer_update_test"], ["ignores the learning rate"], ["layer_forward_test"]),
    "cost_sum_not_mean": ("softmax", [("cost = float(-(Y * self.log_P).sum() / Y.shape[0])",
                                       "cost = float(-(Y * self.log_P).sum())", 1)],
                          ["softmax_cost_test", "mlp_forward_test"], ["sum over the batch", "mean"],
                          ["softmax_forward_test", "softmax_backward_test"]),
    "gradient_sum_not_mean": ("softmax", [("grad_Z = (self.P - Y) / Y.shape[0]", "grad_Z = self.P - Y", 1)],
                              ["softmax_backward_test", "mlp_backward_test"], ["N times too large"],
                              ["softmax_forward_test", "softmax_cost_test", "mlp_forward_test"]),
    "unstable_softmax": ("softmax", [("shifted = Z - Z.max(axis=1, keepdims=True)", "shifted = Z", 1)],
                         ["softmax_forward_test"], ["unstable softmax", "overflow"], []),
    "softmax_modifies_its_input": ("softmax", [("shifted = Z - Z.max(axis=1, keepdims=True)",
                                                "Z -= Z.max(axis=1, keepdims=True)  # in place\n        shifted = Z", 1)],
                                   ["softmax_forward_test"], ["modified in place", "logits Z"],
                                   ["softmax_cost_test", "softmax_backward_test"]),
    "output_layer_not_identity": ("mlp", [('self.layers.append(Layer(layer_sizes[-2], layer_sizes[-1], "identity"))',
                                           "self.layers.append(Layer(layer_sizes[-2], layer_sizes[-1], activation))", 1)],
                                  ["mlp_forward_test"], ["output layer"], []),
    "gradient_check_first_layer_only": ("gradient_check", [("zip(mlp.layers, analytic)", "zip(mlp.layers[:1], analytic)", 1)],
                                        ["gradient_check_test"], ["does not look at every W and b"], []),
    "count_parameters_no_bias": ("count_parameters", [("n_in * n_out + n_out", "n_in * n_out", 1)],
                                 ["count_parameters_test"], ["biases are not counted"], []),
    "train_no_decay": ("train", [("rate = learning_rate * lr_decay ** epoch", "rate = learning_rate", 1)],
                       ["train_test"], ["does not decay"], []),
}
# Bugs in different cells whose catching test cells do not depend on each other's cells share one
# notebook run (at most one bug per cell, except that a Layer update bug can join a Layer backward bug
# that does not crash: layer_update_test uses the layer's own gradients, and only sigmoid, relu and
# identity layers). Run -> (bugs, last cell to execute).
RUNS = {
    "run1": (["missing_transpose_grad_in", "count_parameters_no_bias"], "count_parameters_test"),
    "run2": (["missing_transpose_grad_W", "cost_sum_not_mean"], "mlp_forward_test"),
    "run3": (["bias_gradient_not_summed", "unstable_softmax"], "softmax_forward_test"),
    "run4": (["bias_gradient_mean", "update_wrong_sign", "output_layer_not_identity"], "mlp_forward_test"),
    "run5": (["tanh_derivative", "update_ignores_learning_rate", "softmax_modifies_its_input"], "softmax_backward_test"),
    "run6": (["sigmoid_derivative", "gradient_check_first_layer_only"], "gradient_check_test"),
    "run7": (["relu_derivative", "gradient_sum_not_mean"], "mlp_backward_test"),
    "run8": (["backprop_modifies_grad_out", "train_no_decay"], "train_test"),
}
RUN_OF = {bug: run for run, (bugs, _) in RUNS.items() for bug in bugs}
_results = {}


def _variant(bugs):
    """The reference solution with the given bugs injected (each cell at most once through mutate)."""
    replacements = {}
    for bug in bugs:
        cell, edits, *_ = BUGS[bug]
        for old, new, count in edits:
            if cell in replacements:
                code = replacements[cell]
                assert code.count(old) == count, f"{bug}: {old!r} occurs {code.count(old)} times"
                replacements[cell] = code.replace(old, new)
            else:
                replacements.update(mutate(ASSIGNMENT, cell, old, new, count=count))
    return replacements


def _run(run):
    if run not in _results:
        bugs, stop_after = RUNS[run]
        _results[run] = score_variant(ASSIGNMENT, _variant(bugs), stop_after=stop_after,
                                      skip=("run_gradient_check", "timing"))
    return _results[run]


def test_every_bug_has_one_run():
    assert sorted(RUN_OF) == sorted(BUGS)
    for bugs, _ in RUNS.values():
        cells = [BUGS[bug][0] for bug in bugs if not bug.startswith("update_")]
        assert len(set(cells)) == len(cells), bugs
        assert sum(bug.startswith("update_") for bug in bugs) <= 1, bugs


@pytest.mark.slow
class TestBugs:
    """One test per bug; xdist's loadscope sends this class to one worker (its runs are cached there)."""

    @pytest.mark.parametrize("bug", sorted(BUGS))
    def test_bug_is_caught_with_a_message(self, bug):
        _, _, must_fail, words, must_pass = BUGS[bug]
        failed = _run(RUN_OF[bug]).failed()
        for grade_id in must_fail:
            assert grade_id in failed, f"{grade_id} did not catch the bug; failed: {failed}"
            message = failed[grade_id]
            assert "CheckError" in message, f"{grade_id} failed without a CheckError message: {message}"
            for word in words:
                assert word in message, f"{grade_id}'s message does not name the problem ({word!r}): {message}"
        for grade_id in must_pass:
            assert grade_id not in failed, f"{grade_id} should not be affected by this bug: {failed[grade_id]}"

    def test_training_on_one_minibatch_per_epoch_fails_the_accuracy_test(self):
        """A train() that takes a single minibatch per epoch: train_test and the MNIST accuracy test fail."""
        buggy = mutate(ASSIGNMENT, "train", "for first in range(0, N, batch_size):",
                       "for first in range(0, batch_size, batch_size):")
        failed = score_variant(ASSIGNMENT, buggy, skip=("run_gradient_check", "timing")).failed()
        assert "minibatches" in failed.get("train_test", ""), failed
        assert "below 0.92" in failed.get("accuracy_test", ""), failed
        assert "count_parameters_test" not in failed, failed


@pytest.mark.slow
class TestAlternative:
    """A class of its own: xdist's loadscope can give it to the worker that finishes its bug runs first."""

    def test_alternative_passes_every_test_cell(self):
        _assert_all_pass(score_variant(ASSIGNMENT, load_replacements(SAMPLES / "alternative.py")))


# ---------------------------------------------------------------- the real nbgrader

@pytest.fixture(scope="module")
def autograded():
    variants = {name: load_replacements(SAMPLES / f"{name}.py") for name in ("alternative", "partial")}
    scores, process = autograde_variants(ASSIGNMENT, variants)
    return scores, process


@pytest.mark.slow
def test_nbgrader_gives_the_alternative_full_marks(autograded):
    scores, process = autograded
    cells = scores["alternative"].get(f"{ASSIGNMENT}", scores["alternative"])
    assert set(cells) == set(TEST_CELLS), (cells, process.stdout[-3000:], process.stderr[-3000:])
    for grade_id, (score, max_score) in cells.items():
        assert score == max_score == TEST_CELLS[grade_id], (grade_id, score, max_score)


@pytest.mark.slow
def test_nbgrader_gives_the_partial_sample_some_marks(autograded):
    scores, process = autograded
    cells = scores["partial"].get(f"{ASSIGNMENT}", scores["partial"])
    assert set(cells) == set(TEST_CELLS), (cells, process.stdout[-3000:], process.stderr[-3000:])
    total = sum(score for score, _ in cells.values())
    assert 0 < total < MAX_SCORE, cells
    # the cells its bugs touch lose their points, the others keep them
    for grade_id in ("softmax_cost_test", "softmax_backward_test", "count_parameters_test"):
        assert cells[grade_id][0] == 0, (grade_id, cells[grade_id])
    for grade_id in ("layer_forward_test", "layer_backward_test", "gradient_check_test"):
        assert cells[grade_id][0] == cells[grade_id][1], (grade_id, cells[grade_id])
