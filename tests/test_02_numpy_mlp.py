"""Tests of practical 02 (a NumPy MLP with backpropagation).

* the reference notebook passes every test cell;
* every bug of the list below, injected into the reference solution, makes the test cell meant to
  catch it fail with a message that names the problem, and costs only the points of its own exercise
  (the tests of later exercises run them with the course's reference classes);
* a buggy exercise A and a correct exercise B: B's test cells all pass (15 pairs, three runs);
* the course's helpers are no answer: a gradient_check built on dlcourse.gradcheck and a backward
  pass built on PyTorch's autograd score nothing (tripwires);
* the alternative solution (samples/02_numpy_mlp/alternative.py: einsum, examples as columns of
  Fortran-ordered arrays) passes every test cell;
* the real ``nbgrader autograde`` gives the alternative full marks and the partial sample
  (samples/02_numpy_mlp/partial.py) a score strictly between 0 and the maximum;
* every written answer has a rubric, and the numbers its model answer quotes are printed by the
  executed notebook (a stricter variant of tests/test_model_answers.py: rubric cells, which repeat
  the model answer, do not count as the task's own numbers);
* opt-in (DLCOURSE_SEED_SWEEP=1): the accuracy threshold sits below the reference's worst result over
  the seeds 0-9 by the margin the notebook states.
"""

import ast
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from harness import (ROOT, autograde_variants, load_replacements, mutate, score_variant, solution_code,
                     source_notebook_path)

ASSIGNMENT = "02_numpy_mlp"
SAMPLES = ROOT / "samples" / ASSIGNMENT
TEST_CELLS = {
    "layer_forward_test": 2, "layer_backward_test": 3, "layer_update_test": 1, "softmax_forward_test": 1,
    "softmax_cost_test": 1, "softmax_backward_test": 1, "mlp_forward_test": 2, "mlp_backward_test": 2,
    "mlp_update_test": 1, "gradient_check_test": 2, "count_parameters_test": 1, "train_test": 1,
    "accuracy_test": 2,
}
SOLUTION_CELLS = ["layer", "softmax", "mlp", "gradient_check", "count_parameters", "train"]
EXERCISE_OF = {cell: "train" if cell == "accuracy_test" else next(ex for ex in SOLUTION_CELLS if cell.startswith(ex + "_"))
               for cell in TEST_CELLS}
ANSWERS = ["q_cost_depth", "q_architecture", "q_softmax_ce", "q_batch_timing", "q_shallow_deep", "q_settings",
           "q_gd_variants", "q_learning_rate"]
MAX_SCORE = sum(TEST_CELLS.values())
# ordinary cells that only show experiments: no test needs them
EXPERIMENTS = ("run_gradient_check", "timing", "train_shallow", "train_deep", "plot_curves", "other_seeds",
               "settings_experiment")


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
    assert answers == ANSWERS


def test_every_written_answer_has_a_rubric_saying_what_earns_full_half_and_no_points():
    cells = _notebook().cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade"):
            rubric = cells[index + 1]
            assert rubric.metadata.get("dlcourse", {}).get("rubric_for") == cell.id, f"{cell.id} has no rubric"
            for words in ("**Full", "**Half", "**No points"):
                assert words in rubric.source, f"the rubric of {cell.id} does not say {words!r}"


def test_test_cells_end_without_a_value():
    """nbgrader reads a test cell's displayed value as a partial score: no test cell may end with one."""
    for cell in _cells("grade"):
        tree = ast.parse(cell.source.replace("### BEGIN HIDDEN TESTS", "").replace("### END HIDDEN TESTS", ""))
        last = tree.body[-1]
        value_shown = isinstance(last, ast.Expr) and not (
            isinstance(last.value, ast.Call) and getattr(last.value.func, "id", None) == "print")
        assert not value_shown, f"{cell.id} ends with an expression whose value nbgrader would read as a score"
        assert cell.source.startswith("# Checks: "), f"{cell.id} does not start with '# Checks: ...'"


def test_no_locked_cell_hands_out_numerical_gradients():
    """The students' cells must not import the finite differences that gradient_check is about."""
    for cell in _notebook().cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("locked") and not meta.get("grade"):
            assert "gradcheck" not in cell.source, f"locked cell {cell.id} imports dlcourse.gradcheck"
    release = nbformat.read(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in release.cells:
        assert "numerical_gradient" not in cell.source and "_finite_differences" not in cell.source, \
            f"release cell {cell.id} shows a finite-difference helper"


def test_samples_replace_every_solution_cell_and_answer_every_question():
    for name in ("alternative", "partial"):
        replaced = load_replacements(SAMPLES / f"{name}.py")
        assert sorted(set(replaced) & set(SOLUTION_CELLS)) == sorted(SOLUTION_CELLS), name
        answered = set(replaced) & set(ANSWERS)
        if name == "alternative":
            assert answered == set(ANSWERS), f"{name} leaves {set(ANSWERS) - answered} unanswered"
        else:
            assert 0 < len(answered) < len(ANSWERS), f"{name} should leave at least one question unanswered"


def test_ta_grades_cover_the_samples_answers_within_their_points():
    grades = json.loads((SAMPLES / "ta_grades.json").read_text())
    points = {cell.metadata.nbgrader.grade_id: cell.metadata.nbgrader.points for cell in _notebook().cells
              if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade")}
    assert set(grades) == {"sample-correct", "sample-partial"}
    assert set(grades["sample-correct"]) == set(ANSWERS)
    answered = set(load_replacements(SAMPLES / "partial.py")) & set(ANSWERS)
    assert set(grades["sample-partial"]) == answered
    for student, marks in grades.items():
        for question, mark in marks.items():
            assert 0 <= mark["score"] <= points[question] and mark["comment"].strip(), (student, question, mark)
    partial = grades["sample-partial"]
    assert any(0 < mark["score"] < points[q] for q, mark in partial.items()), "no half-right answer in partial"
    assert any(mark["score"] == 0 for mark in partial.values()), "no wrong answer in partial"


def test_model_answers_quote_only_printed_numbers_rubric_cells_excluded():
    """tests/test_model_answers.py counts every number of a markdown cell outside the solution markers as a
    number the task sets; a rubric cell repeats the model answer outside them, which would let every quoted
    number pass. Here the rubric (mark-scheme) cells are left out of the task's numbers."""
    from test_model_answers import answer_cells, matches, printed_numbers, quoted_numbers, task_numbers

    source = _notebook()
    without_rubrics = nbformat.from_dict(source)
    without_rubrics.cells = [cell for cell in source.cells if "rubric_for" not in cell.metadata.get("dlcourse", {})]
    executed = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    printed, given = printed_numbers(executed), task_numbers(without_rubrics)
    unsupported = [f"{grade_id}: {quoted!r}" for grade_id, answer in answer_cells(source)
                   for quoted, value, is_percent in quoted_numbers(answer)
                   if not (value in given or (is_percent and value / 100 in given)
                           or matches(value, is_percent, printed))]
    assert not unsupported, f"model answers quote numbers the executed notebook does not print: {unsupported}"


# ---------------------------------------------------------------- the reference and the alternative

def _assert_all_pass(result):
    assert result.failed() == {}, result.failed()
    assert sorted(result.cells) == sorted(TEST_CELLS), sorted(result.cells)
    assert result.total() == (MAX_SCORE, MAX_SCORE)


@pytest.mark.slow
def test_reference_passes_every_test_cell():
    _assert_all_pass(score_variant(ASSIGNMENT, skip=EXPERIMENTS))


# ---------------------------------------------------------------- one test per bug
# Each bug is the reference solution with textual changes (mutate: it fails if the text is gone).
# bug id -> (cell, [(old, new, occurrences)], test cells that must fail, words each of their messages
#            must contain)
GC = dict(
    built_on_dlcourse=(
        "from dlcourse.gradcheck import numerical_gradient\n\n\n"
        "def gradient_check(mlp, X, Y, epsilon=1e-6):\n"
        "    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)\n"
        "    for layer in mlp.layers:\n"
        "        layer.W, layer.b = np.array(layer.W, dtype=np.float64), np.array(layer.b, dtype=np.float64)\n"
        "    mlp.cost(X, Y)\n"
        "    mlp.backpropagate(Y)\n"
        "    pairs = [(p, np.array(g())) for layer in mlp.layers\n"
        "             for p, g in ((layer.W, layer.gradient_weights), (layer.b, layer.gradient_bias))]\n"
        "    return max(relative_error(g, numerical_gradient(lambda _: mlp.cost(X, Y), p, epsilon))\n"
        "               for p, g in pairs)\n"),
)
HISTORY = ('        history["cost"].append(float(mlp.cost(X, Y)))\n'
           '        history["train_error"].append(float(mlp.error_rate(X, Y)))\n'
           '        history["test_error"].append(float(mlp.error_rate(X_test, Y_test)))\n')
BUGS = {
    # Layer
    "missing_transpose_grad_in": ("layer", [("grad_in = delta @ self.W.T", "grad_in = delta @ self.W", 1)],
                                  ["layer_backward_test"], ["transpose"]),
    "missing_transpose_grad_W": ("layer", [("self.grad_W = self.X.T @ delta", "self.grad_W = delta.T @ self.X", 1)],
                                 ["layer_backward_test"], ["transpose"]),
    "bias_gradient_not_summed": ("layer", [("self.grad_b = delta.sum(axis=0)", "self.grad_b = delta", 1)],
                                 ["layer_backward_test"], ["not summed over the batch"]),
    "bias_gradient_mean": ("layer", [("self.grad_b = delta.sum(axis=0)", "self.grad_b = delta.mean(axis=0)", 1)],
                           ["layer_backward_test"], ["gradient_bias()", "averages over the batch", "should sum"]),
    "tanh_derivative": ("layer", [("delta = grad_out * (1.0 - self.A ** 2)", "delta = grad_out * (1.0 - self.A)", 1)],
                        ["layer_backward_test"], ["derivative of tanh"]),
    "sigmoid_derivative": ("layer", [("delta = grad_out * (self.A * (1.0 - self.A))",
                                      "delta = grad_out * (self.Z * (1.0 - self.Z))", 1)],
                           ["layer_backward_test"], ["derivative of sigmoid"]),
    "relu_derivative": ("layer", [("delta = grad_out * (self.Z > 0)", "delta = grad_out * self.A", 1)],
                        ["layer_backward_test"], ["derivative of relu"]),
    "backprop_modifies_grad_out": ("layer", [("delta = grad_out * (1.0 - self.A ** 2)",
                                              "delta = grad_out  # reuse the array\n            delta *= 1.0 - self.A ** 2", 1)],
                                   ["layer_backward_test"], ["modified in place", "grad_out"]),
    "bias_not_added": ("layer", [("self.Z = X @ self.W + self.b", "self.Z = X @ self.W", 1)],
                       ["layer_forward_test"], ["bias b is not added"]),
    "init_small": ("layer", [("scale = np.sqrt(2.0 / (self.n_in + self.n_out))", "scale = 0.01", 1)],
                   ["layer_forward_test"], ["starts with a standard deviation of 0.00", "between 0.5/sqrt(n_in) and 1.5/sqrt(n_in)"]),
    "init_unit": ("layer", [("scale = np.sqrt(2.0 / (self.n_in + self.n_out))", "scale = 1.0", 1)],
                  ["layer_forward_test"], ["starts with a standard deviation of 0.99", "between 0.5/sqrt(n_in)"]),
    "init_uncentred": ("layer", [("self.W = np.random.normal(0.0, scale, size=(self.n_in, self.n_out))",
                                  "self.W = np.random.uniform(0.0, scale * 12 ** 0.5, size=(self.n_in, self.n_out))", 1)],
                       ["layer_forward_test"], ["centred on 0"]),
    "update_wrong_sign": ("layer", [("- learning_rate *", "+ learning_rate *", 2)],
                          ["layer_update_test"], ["wrong sign"]),
    "update_ignores_learning_rate": ("layer", [("learning_rate * self.grad_", "self.grad_", 2)],
                                     ["layer_update_test"], ["ignores the learning rate"]),
    # Softmax
    "cost_sum_not_mean": ("softmax", [("cost = float(-(Y * self.log_P).sum() / Y.shape[0])",
                                       "cost = float(-(Y * self.log_P).sum())", 1)],
                          ["softmax_cost_test"], ["sum over the batch", "mean"]),
    "gradient_sum_not_mean": ("softmax", [("grad_Z = (self.P - Y) / Y.shape[0]", "grad_Z = self.P - Y", 1)],
                              ["softmax_backward_test"], ["N times too large"]),
    "unstable_softmax": ("softmax", [("shifted = Z - Z.max(axis=1, keepdims=True)", "shifted = Z", 1)],
                         ["softmax_forward_test"], ["logits of ±1000", "subtract each row's largest logit"]),
    "softmax_modifies_its_input": ("softmax", [("shifted = Z - Z.max(axis=1, keepdims=True)",
                                                "Z -= Z.max(axis=1, keepdims=True)  # in place\n        shifted = Z", 1)],
                                   ["softmax_forward_test"], ["modified in place", "logits Z"]),
    "clipped_log": ("softmax", [("self.log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                                 "self.log_P = np.log(np.clip(np.exp(shifted) / np.exp(shifted).sum(axis=1, "
                                 "keepdims=True), 1e-15, None))", 1)],
                    ["softmax_cost_test"], ["clipped at (or offset by) 1e-15"]),
    "softmax_columns": ("softmax", [("axis=1, keepdims=True", "axis=0, keepdims=True", 2)],
                        ["softmax_forward_test"], ["normalises columns"]),
    # MLP
    "output_layer_not_identity": ("mlp", [('self.layers.append(Layer(layer_sizes[-2], layer_sizes[-1], "identity"))',
                                           "self.layers.append(Layer(layer_sizes[-2], layer_sizes[-1], activation))", 1)],
                                  ["mlp_forward_test"], ["output layer uses tanh"]),
    "error_rate_is_accuracy": ("mlp", [("(self.predict(X) != Y.argmax(axis=1))", "(self.predict(X) == Y.argmax(axis=1))", 1)],
                               ["mlp_forward_test"], ["returns the accuracy"]),
    "backprop_skips_first_layer": ("mlp", [("for layer in reversed(self.layers):", "for layer in reversed(self.layers[1:]):", 1)],
                                   ["mlp_backward_test"], ["layers[0].gradient_weights()", "course's own Layer"]),
    "update_skips_last_layer": ("mlp", [("for layer in self.layers:\n            layer.update_params",
                                         "for layer in self.layers[:-1]:\n            layer.update_params", 1)],
                                ["mlp_update_test"], ["does not update layer 2"]),
    "predict_wrong_axis": ("mlp", [("labels = self.propagate(X).argmax(axis=1)", "labels = self.propagate(X).argmax(axis=0)", 1)],
                           ["mlp_forward_test"], ["predict(X)"]),
    # gradient_check
    "gradient_check_first_layer_only": ("gradient_check", [("zip(mlp.layers, analytic)", "zip(mlp.layers[:1], analytic)", 1)],
                                        ["gradient_check_test"], ["did not change when layers[1].gradient_weights() did"]),
    "gradient_check_ignores_epsilon": ("gradient_check", [("    X = np.asarray(X, dtype=np.float64)\n",
                                                           "    epsilon = 1e-6\n    X = np.asarray(X, dtype=np.float64)\n", 1)],
                                       ["gradient_check_test"], ["epsilon=1e-2", "use the epsilon given"]),
    "gradient_check_one_sided": ("gradient_check", [("param[index] = saved - epsilon", "param[index] = saved", 1),
                                                    ("(plus - minus) / (2 * epsilon)", "(plus - minus) / epsilon", 1)],
                                 ["gradient_check_test"], ["less than 3e-7"]),
    "gradient_check_not_restored": ("gradient_check", [("                param[index] = saved\n", "", 1)],
                                    ["gradient_check_test"], ["put back every parameter"]),
    "gradient_check_sums": ("gradient_check", [("worst = max(worst, relative_error(grad, numeric))",
                                                "worst = worst + relative_error(grad, numeric)", 1)],
                            ["gradient_check_test"], ["adds up the relative errors"]),
    "gradient_check_float32": ("gradient_check", [("layer.W = np.array(layer.W, dtype=np.float64)", "layer.W = layer.W", 1),
                                                  ("layer.b = np.array(layer.b, dtype=np.float64)", "layer.b = layer.b", 1)],
                               ["gradient_check_test"], ["float32", "float64"]),
    # count_parameters
    "count_parameters_no_bias": ("count_parameters", [("n_in * n_out + n_out", "n_in * n_out", 1)],
                                 ["count_parameters_test"], ["biases are not counted"]),
    "count_parameters_input_bias": ("count_parameters", [("for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))",
                                                         "for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])) "
                                                         "+ layer_sizes[0]", 1)],
                                    ["count_parameters_test"], ["input layer has no bias"]),
    "count_parameters_skips_output": ("count_parameters", [("zip(layer_sizes[:-1], layer_sizes[1:])",
                                                            "zip(layer_sizes[:-2], layer_sizes[1:-1])", 1)],
                                      ["count_parameters_test"], ["count_parameters([784, 100, 200, 50, 10])"]),
    # train
    "train_no_decay": ("train", [("rate = learning_rate * lr_decay ** epoch", "rate = learning_rate", 1)],
                       ["train_test"], ["does not decay"]),
    "train_decays_early": ("train", [("lr_decay ** epoch", "lr_decay ** (epoch + 1)", 1)],
                           ["train_test"], ["one epoch too early"]),
    "train_no_shuffle": ("train", [("order = rng.permutation(N)", "order = np.arange(N)", 1)],
                         ["train_test"], ["original order"]),
    "train_shuffles_once": ("train", [("    for epoch in range(epochs):\n", "    order = rng.permutation(N)\n"
                                       "    for epoch in range(epochs):\n", 1),
                                      ("        order = rng.permutation(N)\n", "", 1)],
                            ["train_test"], ["same order in every epoch"]),
    "train_global_generator": ("train", [("order = rng.permutation(N)", "order = np.random.permutation(N)", 1)],
                               ["train_test"], ["called twice, used different minibatches"]),
    "train_drops_last_batch": ("train", [("for first in range(0, N, batch_size):",
                                          "for first in range(0, N - batch_size + 1, batch_size):", 1)],
                               ["train_test"], ["minibatches holding"]),
    "train_mean_minibatch_cost": ("train", [("        order = rng.permutation(N)\n",
                                             "        order = rng.permutation(N)\n        costs = []\n", 1),
                                            ("            mlp.cost(X[batch], Y[batch])\n",
                                             "            costs.append(mlp.cost(X[batch], Y[batch]))\n", 1),
                                            ('history["cost"].append(float(mlp.cost(X, Y)))',
                                             'history["cost"].append(float(np.mean(costs)))', 1)],
                                  ["train_test"], ["mean of the minibatch costs"]),
    "train_test_error_on_training_set": ("train", [("mlp.error_rate(X_test, Y_test)", "mlp.error_rate(X, Y)", 1)],
                                         ["train_test"], ["measured on the training set"]),
    "train_history_before_updates": ("train", [(HISTORY, "", 1),
                                               ("        order = rng.permutation(N)\n",
                                                "        order = rng.permutation(N)\n" + HISTORY, 1)],
                                     ["train_test"], ["before the epoch's updates"]),
}
# One notebook run tries at most one bug per exercise (they are graded independently), except that a
# Layer initialisation bug (layer_forward_test only) and an update bug (layer_update_test, which uses the
# layer's own gradients and only sigmoid, relu and identity layers) can join a Layer backward bug that
# does not crash. Run -> (bugs, last cell to execute).
RUNS = {
    "run1": (["bias_gradient_mean", "init_small", "update_wrong_sign", "cost_sum_not_mean", "output_layer_not_identity",
              "gradient_check_first_layer_only", "count_parameters_no_bias", "train_no_decay"], "train_test"),
    "run2": (["tanh_derivative", "init_unit", "update_ignores_learning_rate", "gradient_sum_not_mean",
              "error_rate_is_accuracy", "gradient_check_ignores_epsilon", "count_parameters_input_bias",
              "train_decays_early"], "train_test"),
    "run3": (["missing_transpose_grad_in", "init_uncentred", "unstable_softmax", "backprop_skips_first_layer",
              "gradient_check_one_sided", "count_parameters_skips_output", "train_no_shuffle"], "train_test"),
    "run4": (["missing_transpose_grad_W", "softmax_modifies_its_input", "update_skips_last_layer",
              "gradient_check_not_restored", "train_shuffles_once"], "train_test"),
    "run5": (["bias_gradient_not_summed", "clipped_log", "predict_wrong_axis", "gradient_check_sums",
              "train_global_generator"], "train_test"),
    "run6": (["sigmoid_derivative", "softmax_columns", "gradient_check_float32", "train_drops_last_batch"], "train_test"),
    "run7": (["relu_derivative", "train_mean_minibatch_cost"], "train_test"),
    "run8": (["backprop_modifies_grad_out", "train_test_error_on_training_set"], "train_test"),
    "run9": (["bias_not_added", "train_history_before_updates"], "train_test"),
}
RUN_OF = {bug: run for run, (bugs, _) in RUNS.items() for bug in bugs}
_results = {}


def _variant(bugs):
    """The reference solution with the given bugs injected (each cell through mutate, edits chained)."""
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
        _results[run] = score_variant(ASSIGNMENT, _variant(bugs), stop_after=stop_after, skip=EXPERIMENTS)
    return _results[run]


def test_every_bug_has_one_run():
    assert sorted(RUN_OF) == sorted(BUGS)
    for bugs, _ in RUNS.values():
        exercises = [BUGS[bug][0] for bug in bugs]
        layer_kinds = ["init" if bug.startswith("init_") else "update" if bug.startswith("update_w") or
                       bug.startswith("update_i") else "other" for bug in bugs if BUGS[bug][0] == "layer"]
        assert all(layer_kinds.count(kind) <= 1 for kind in ("init", "update", "other")), bugs
        others = [ex for ex in exercises if ex != "layer"]
        assert len(set(others)) == len(others), bugs


@pytest.mark.slow
class TestBugs:
    """One test per bug; xdist's loadscope sends this class to one worker (its runs are cached there)."""

    @pytest.mark.parametrize("bug", sorted(BUGS))
    def test_bug_is_caught_with_a_message(self, bug):
        _, _, must_fail, words = BUGS[bug]
        failed = _run(RUN_OF[bug]).failed()
        for grade_id in must_fail:
            assert grade_id in failed, f"{grade_id} did not catch the bug; failed: {failed}"
            message = failed[grade_id]
            assert "CheckError" in message or "ForbiddenCall" in message, \
                f"{grade_id} failed without a CheckError message: {message}"
            for word in words:
                assert word in message, f"{grade_id}'s message does not name the problem ({word!r}): {message}"

    @pytest.mark.parametrize("run", sorted(RUNS))
    def test_bugs_cost_only_their_own_exercises_points(self, run):
        bugs, _ = RUNS[run]
        buggy = {BUGS[bug][0] for bug in bugs}
        result = _run(run)
        wrongly_failed = {cell: error for cell, error in result.failed().items() if EXERCISE_OF[cell] not in buggy}
        assert not wrongly_failed, f"bugs {bugs} cost points of other exercises: {wrongly_failed}"

    def test_training_on_one_minibatch_per_epoch_fails_train_and_the_accuracy_test(self):
        buggy = mutate(ASSIGNMENT, "train", "for first in range(0, N, batch_size):",
                       "for first in range(0, batch_size, batch_size):")
        failed = score_variant(ASSIGNMENT, buggy, skip=EXPERIMENTS).failed()
        assert "minibatches" in failed.get("train_test", ""), failed
        assert "below 0.92" in failed.get("accuracy_test", ""), failed
        assert "course's own MLP" in failed.get("accuracy_test", ""), failed
        assert set(failed) == {"train_test", "accuracy_test"}, failed


# ---------------------------------------------------------------- one exercise, one test
# A buggy exercise A, every other exercise correct: each other exercise's test cells all pass. The
# three exercises that later ones build on (Layer, Softmax, MLP), each with a bug that breaks the
# networks built on it, give 15 pairs (A, B) in three runs.
PAIRS = {
    "layer": "relu_derivative",
    "softmax": "gradient_sum_not_mean",
    "mlp": "backprop_skips_first_layer",
}


@pytest.mark.slow
@pytest.mark.parametrize("exercise", sorted(PAIRS))
def test_a_bug_in_one_exercise_costs_none_of_the_others_points(exercise):
    bug = PAIRS[exercise]
    result = score_variant(ASSIGNMENT, _variant([bug]), skip=EXPERIMENTS)
    assert sorted(result.cells) == sorted(TEST_CELLS)
    assert set(BUGS[bug][2]) <= set(result.failed()), result.failed()
    others = sorted({EXERCISE_OF[cell] for cell in TEST_CELLS} - {exercise})
    for other in others:
        cells = [cell for cell in TEST_CELLS if EXERCISE_OF[cell] == other]
        assert all(result.cells[cell].passed for cell in cells), (exercise, other, result.failed())
    assert len(others) == 5


# ---------------------------------------------------------------- the course's helpers are no answer

HELPER_ANSWERS = {
    # a gradient_check built on dlcourse.gradcheck.numerical_gradient (correct otherwise)
    "gradient_check_on_dlcourse": ({"gradient_check": GC["built_on_dlcourse"]}, "gradient_check_test",
                                   ["gradient_check called dlcourse.gradcheck.numerical_gradient"]),
    # a Layer whose backward pass asks PyTorch's autograd for the gradients
    "layer_on_autograd": ("layer", "layer_backward_test", ["called", "autograd"]),
}


def _autograd_layer():
    code = solution_code(ASSIGNMENT, "layer")
    start = code.index("    def backpropagate(self, grad_out):")
    end = code.index("    def gradient_weights(self):")
    backward = '''    def backpropagate(self, grad_out):
        """Backward pass by PyTorch's autograd (a shortcut the exercise forbids)."""
        import torch
        X = torch.tensor(self.X, requires_grad=True)
        W = torch.tensor(self.W, requires_grad=True)
        b = torch.tensor(self.b, requires_grad=True)
        Z = X @ W + b
        A = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}[self.activation](Z)
        (A * torch.tensor(grad_out)).sum().backward()
        self.grad_W, self.grad_b = W.grad.numpy(), b.grad.numpy()
        return X.grad.numpy()

'''
    return {"layer": code[:start] + backward + code[end:]}


@pytest.mark.slow
def test_course_helpers_posing_as_answers_score_nothing():
    variant = dict(HELPER_ANSWERS["gradient_check_on_dlcourse"][0])
    variant.update(_autograd_layer())
    result = score_variant(ASSIGNMENT, variant, stop_after="gradient_check_test", skip=EXPERIMENTS)
    for name, (_, cell, words) in HELPER_ANSWERS.items():
        assert not result.cells[cell].passed, f"{name} passed {cell}"
        for word in words:
            assert word in result.cells[cell].error, (name, result.cells[cell].error)
    # the shortcuts give the right values: only the tripwires stop them, and the other cells pass
    assert set(result.failed()) == {"gradient_check_test", "layer_backward_test"}, result.failed()


def test_tripwire_catches_a_helper_imported_before_the_block_and_restores_it():
    import numpy as np

    import dlcourse.gradcheck as gradcheck
    from dlcourse.gradcheck import numerical_gradient
    from dlcourse.mlp_checks import ForbiddenCall, forbidden

    x = np.arange(3.0)
    with pytest.raises(ForbiddenCall, match="called dlcourse.gradcheck.numerical_gradient"):
        with forbidden([(gradcheck, "numerical_gradient")], "gradient_check", "do it yourself"):
            numerical_gradient(lambda v: float((v ** 2).sum()), x)
    with pytest.raises(ForbiddenCall, match="do it yourself"):  # a caught call is still reported
        with forbidden([(gradcheck, "numerical_gradient")], "gradient_check", "do it yourself"):
            try:
                gradcheck.numerical_gradient(lambda v: float((v ** 2).sum()), x)
            except Exception:  # noqa: BLE001 - the student's code swallowing the error
                pass
    assert list(numerical_gradient(lambda v: float((v ** 2).sum()), x)) == pytest.approx([0.0, 2.0, 4.0])


def test_graded_with_rebinds_only_when_references_exist_and_always_restores():
    from dlcourse.checks import CheckError
    from dlcourse.mlp_checks import graded_with

    namespace = {"Layer": "yours"}
    with pytest.raises(CheckError, match="runs MLP with your own Layer"):
        with graded_with(namespace, "MLP", ("Layer",)):
            assert namespace["Layer"] == "yours"
            raise CheckError("wrong")
    namespace["_mlp_references"] = {"Layer": "course"}
    with pytest.raises(CheckError, match="ran MLP with the course's own Layer"):
        with graded_with(namespace, "MLP", ("Layer",)):
            assert namespace["Layer"] == "course"
            raise CheckError("wrong")
    assert namespace["Layer"] == "yours"


@pytest.mark.slow
class TestAlternative:
    """A class of its own: xdist's loadscope can give it to the worker that finishes its bug runs first."""

    def test_alternative_passes_every_test_cell(self):
        code = {cell: source for cell, source in load_replacements(SAMPLES / "alternative.py").items()
                if cell in SOLUTION_CELLS}
        _assert_all_pass(score_variant(ASSIGNMENT, code, skip=EXPERIMENTS))


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
    assert set(TEST_CELLS) <= set(cells), (cells, process.stdout[-3000:], process.stderr[-3000:])
    for grade_id in TEST_CELLS:
        score, max_score = cells[grade_id]
        assert score == max_score == TEST_CELLS[grade_id], (grade_id, score, max_score)


@pytest.mark.slow
def test_nbgrader_gives_the_partial_sample_some_marks(autograded):
    scores, process = autograded
    cells = scores["partial"].get(f"{ASSIGNMENT}", scores["partial"])
    assert set(TEST_CELLS) <= set(cells), (cells, process.stdout[-3000:], process.stderr[-3000:])
    total = sum(cells[grade_id][0] for grade_id in TEST_CELLS)
    assert 0 < total < MAX_SCORE, cells
    # the cells its bugs touch lose their points, the others keep them
    for grade_id in ("softmax_cost_test", "softmax_backward_test", "count_parameters_test"):
        assert cells[grade_id][0] == 0, (grade_id, cells[grade_id])
    for grade_id in ("layer_forward_test", "layer_backward_test", "mlp_forward_test", "mlp_backward_test",
                     "gradient_check_test", "train_test", "accuracy_test"):
        assert cells[grade_id][0] == cells[grade_id][1], (grade_id, cells[grade_id])


# ---------------------------------------------------------------- thresholds with margin (opt-in)

SWEEP_SEEDS = range(10)
THRESHOLD = 0.92
STATED = re.compile(r"reaches at least (0\.\d+) \(shallow\)\s+and\s+(0\.\d+) \(deep\): the threshold is\s+"
                    r"more than (\d+(?:\.\d+)?) points below its worst result")


@pytest.mark.seed_sweep
@pytest.mark.skipif(os.environ.get("DLCOURSE_SEED_SWEEP") != "1", reason="set DLCOURSE_SEED_SWEEP=1 to run it")
def test_seed_sweep_accuracy_threshold_has_the_stated_margin():
    """The reference trains the shallow and the deep network (the cells train_shallow and train_deep)
    and the graded accuracy test trains the course's shallow network, with seed_everything(0) and the
    shuffling seed=0 replaced by each seed 0..9; the worst accuracies must match what the notebook states
    and sit above 0.92 by the stated margin."""
    from nbclient import NotebookClient

    source = _notebook()
    by_id = {cell.get("id"): cell for cell in source.cells}
    keep = [cell for cell in source.cells if cell.get("id") in ("setup", "load_data", *SOLUTION_CELLS)
            or cell.get("id") in ("mlp_forward_test", "gradient_check_test")]  # they define the references
    cells = [nbformat.from_dict(cell) for cell in keep]
    for seed in SWEEP_SEEDS:
        for cell_id in ("train_shallow", "train_deep", "accuracy_test"):
            cell = nbformat.from_dict(by_id[cell_id])
            cell.source = cell.source.replace("seed_everything(0)", f"seed_everything({seed})").replace(
                "seed=0", f"seed={seed}")
            cells.append(cell)
        cells.append(nbformat.v4.new_code_cell(
            "import json\n"
            f"print('SWEEP ' + json.dumps([{seed}, 1 - history_shallow['test_error'][-1], "
            "1 - history_deep['test_error'][-1], graded_accuracy]))"))
    notebook = nbformat.from_dict(source)
    notebook.cells = cells
    NotebookClient(notebook, kernel_name="dlcourse", timeout=600, allow_errors=False,
                   resources={"metadata": {"path": str(source_notebook_path(ASSIGNMENT).parent)}}).execute()
    rows = [json.loads(line[6:]) for cell in notebook.cells for output in cell.get("outputs", [])
            if output.get("output_type") == "stream" for line in output["text"].splitlines()
            if line.startswith("SWEEP ")]
    print("\nseed   shallow   deep   graded (course's shallow trained by train)")
    for seed, shallow, deep, graded in rows:
        print(f"{seed:>4}   {shallow:.4f}   {deep:.4f}   {graded:.4f}")
    assert [row[0] for row in rows] == list(SWEEP_SEEDS)
    worst_shallow = min(row[1] for row in rows + [[0, row[3]] for row in rows])
    worst_deep = min(row[2] for row in rows)
    print(f"worst: shallow {worst_shallow:.4f}, deep {worst_deep:.4f}; threshold {THRESHOLD}")
    text = " ".join(cell.source for cell in source.cells if cell.cell_type == "markdown")
    stated = STATED.search(text)
    assert stated, "the notebook does not state the reference's worst accuracies and the margin"
    shallow_text, deep_text, margin_text = stated.groups()
    assert f"{worst_shallow:.4f}" == shallow_text and f"{worst_deep:.4f}" == deep_text, \
        f"the notebook states {shallow_text} and {deep_text}, the sweep measured {worst_shallow:.4f} and {worst_deep:.4f}"
    assert min(worst_shallow, worst_deep) - THRESHOLD > float(margin_text) / 100, (worst_shallow, worst_deep)
