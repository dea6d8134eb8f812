"""Practical 04_pytorch: buggy variants lose points, the alternative gets full marks.

Each group of bugs below is one notebook execution (``score_variant``) restricted to the cells it needs;
bugs placed in the same group sit in different functions whose test cells do not depend on each other
(the backward tests, for instance, build their own forward outputs). Every bug has its own test, which
asserts that the test cell meant to catch it fails with a CheckError whose message names the problem.
"""

import functools

import nbformat
import pytest

from harness import ROOT
from harness import assert_fails as harness_assert_fails, assert_passes, graded_cell_points
from harness import (autograde_variants, load_replacements, mutate, score_variant, solution_code,
                     source_notebook_path)

A = "04_pytorch"
SAMPLES = ROOT / "samples" / A
SOURCE = nbformat.read(source_notebook_path(A), as_version=4)
ALL_IDS = [cell.get("id") for cell in SOURCE.cells]
TEST_CELLS = graded_cell_points(SOURCE)
MAX_SCORE = sum(TEST_CELLS.values())
EXPERIMENTS = ["experiment_batch_size", "experiment_learning_rate"]  # no test cell reads them

UNITS = ["setup", "init_params", "init_params_shapes", "init_params_statistics", "forward", "forward_values",
         "forward_stable", "loss_accuracy", "loss_accuracy_values", "loss_safe", "backward",
         "backward_gradients", "backward_no_autograd", "sgd", "sgd_update", "evaluate", "train",
         "manual_step_update", "train_loop"]
AUTOGRAD_UNITS = ["autograd_step", "autograd_step_update"]
NN_UNITS = ["build_model", "build_model_structure", "train_nn", "train_nn_steps"]
TRAINING = ["train_circles", "circles_accuracy", "mnist_data", "train_mnist", "mnist_accuracy"]


def run_only(ids, replacements=None):
    """score_variant executing only the cells ``ids`` (markdown cells have no effect)."""
    keep = set(ids)
    return score_variant(A, replacements, skip=[i for i in ALL_IDS if i not in keep])


def bug(cell_id, *changes):
    """The reference solution of ``cell_id`` with each (old, new) textual change applied (old must occur once)."""
    code = solution_code(A, cell_id)
    for old, new in changes:
        assert code.count(old) == 1, f"mutation of {cell_id}: {old!r} occurs {code.count(old)} times"
        code = code.replace(old, new)
    return {cell_id: code}


def assert_fails(result, cell_id, *words):
    """As harness.assert_fails; autograd detected inside backward fails with AutogradUsed."""
    harness_assert_fails(result, cell_id, *words, errors=("CheckError", "AutogradUsed"))


# ------------------------------------------------------------------------------------ the bugs

AUTOGRAD_BACKWARD = '''
def backward(params, outputs, Y):
    """Gradients through autograd: recompute the forward pass on leaves and call .backward()."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    Yhat, _ = forward(leaves, outputs["X"])
    loss, _ = loss_accuracy(Yhat, Y)
    loss.backward()
    return {k: v.grad for k, v in leaves.items()}
'''

POOR_CIRCLES = '''
seed_everything(0)
Xc_train, Yc_train, Xc_test, Yc_test = make_circles_data(n_samples=1000, noise=0.1, factor=0.5, seed=0)
params_circles, history_circles = train(init_params(2, 10, 2), Xc_train, Yc_train, eta=0.05, batch_size=200, epochs=2)
'''

POOR_MNIST = '''
seed_everything(0)
params_mnist, history_mnist = train(init_params(784, 100, 10), X_train, Y_train, eta=0.01, batch_size=256, epochs=1,
                                    X_test=X_test, Y_test=Y_test)
'''


@functools.lru_cache(maxsize=None)
def group(name):
    """Run one group of bugs once; the tests below read its per-cell results."""
    groups = {
        # backward without the mean; weights drawn with the variance 0.09 as standard deviation; naive softmax
        "mean_std_softmax": (UNITS, {
            **mutate(A, "backward", 'd_ytilde = (outputs["yhat"] - Y) / N', 'd_ytilde = outputs["yhat"] - Y'),
            **bug("init_params", ("torch.randn(nh, nx) * 0.3", "torch.randn(nh, nx) * 0.09"),
                  ("torch.randn(ny, nh) * 0.3", "torch.randn(ny, nh) * 0.09")),
            **bug("forward", ('shifted = outputs["ytilde"] - outputs["ytilde"].max(dim=1, keepdim=True).values',
                              'shifted = outputs["ytilde"]'))}),
        # derivative of tanh taken as 1 - h; random biases; log(0) in the loss
        "tanh_bias_log": (UNITS, {
            **mutate(A, "backward", '(1 - outputs["h"] ** 2)', '(1 - outputs["h"])'),
            **mutate(A, "init_params", 'params["bh"] = torch.zeros(nh)', 'params["bh"] = torch.randn(nh) * 0.3'),
            **mutate(A, "loss_accuracy", "torch.log(torch.clamp(Yhat, min=1e-12))", "torch.log(Yhat)")}),
        # transposed weight gradients; the loss summed over the batch; sgd climbing the gradient
        "transpose_sum_sign": (UNITS, {
            **bug("backward", ('grads["Wy"] = d_ytilde.T @ outputs["h"]', 'grads["Wy"] = outputs["h"].T @ d_ytilde'),
                  ('grads["Wh"] = d_htilde.T @ outputs["X"]', 'grads["Wh"] = outputs["X"].T @ d_htilde')),
            **mutate(A, "loss_accuracy", ".sum(dim=1).mean()", ".sum()"),
            **mutate(A, "sgd", "{k: params[k] - eta * grads[k]", "{k: params[k] + eta * grads[k]")}),
        # bias gradients not summed over the batch; autograd gradients never zeroed; torch.nn loss summed
        "bias_zero_grad_nn_sum": (UNITS + AUTOGRAD_UNITS + NN_UNITS, {
            **bug("backward", ('grads["by"] = d_ytilde.sum(dim=0)', 'grads["by"] = d_ytilde'),
                  ('grads["bh"] = d_htilde.sum(dim=0)', 'grads["bh"] = d_htilde')),
            **mutate(A, "autograd_step", "            p.grad.zero_()\n", ""),
            **mutate(A, "train_nn", "torch.nn.CrossEntropyLoss()", 'torch.nn.CrossEntropyLoss(reduction="sum")')}),
        # autograd inside the manual backward; too little training on the circles and on MNIST
        "autograd_accuracy": (UNITS + TRAINING, {
            "backward": AUTOGRAD_BACKWARD, "train_circles": POOR_CIRCLES, "train_mnist": POOR_MNIST}),
    }
    ids, replacements = groups[name]
    return run_only(ids, replacements)


# One class per group: pytest-xdist (--dist loadscope) keeps a class on one worker, so each group runs once.

class TestMissingMeanWrongStdUnstableSoftmax:
    def test_backward_missing_mean_over_the_batch(self):
        result = group("mean_std_softmax")
        assert_fails(result, "backward_gradients", "gradient of Wy", "the mean over the batch is missing")
        assert_passes(result, "sgd_update", "train_loop", "loss_accuracy_values")

    def test_init_wrong_standard_deviation(self):
        result = group("mean_std_softmax")
        assert_fails(result, "init_params_statistics", "standard deviation", "0.09", "variance")
        assert_passes(result, "init_params_shapes")

    def test_unstable_softmax(self):
        result = group("mean_std_softmax")
        assert_fails(result, "forward_stable", "NaN or inf", "maximum")
        assert_passes(result, "forward_values")  # ordinary logits: the naive softmax is right there


class TestTanhDerivativeNonZeroBiasLogZero:
    def test_backward_wrong_tanh_derivative(self):
        result = group("tanh_bias_log")
        assert_fails(result, "backward_gradients", "gradient of Wh", "derivative of tanh")
        assert_passes(result, "sgd_update", "forward_values")

    def test_init_non_zero_biases(self):
        result = group("tanh_bias_log")
        assert_fails(result, "init_params_shapes", "bh", "should start at zero")
        assert_passes(result, "init_params_statistics")

    def test_log_of_zero_in_the_loss(self):
        result = group("tanh_bias_log")
        assert_fails(result, "loss_safe", "probabilit", "log(0)")
        assert_passes(result, "loss_accuracy_values")


class TestTransposeSumSign:
    def test_backward_transposed_weight_gradients(self):
        assert_fails(group("transpose_sum_sign"), "backward_gradients", "gradient of Wy", "transpose")

    def test_loss_summed_instead_of_averaged(self):
        assert_fails(group("transpose_sum_sign"), "loss_accuracy_values", "sum instead of mean")

    def test_sgd_wrong_sign(self):
        assert_fails(group("transpose_sum_sign"), "sgd_update", "after one step")


class TestBiasNotSummedGradientsNotZeroedNnSum:
    def test_backward_bias_gradient_not_summed(self):
        assert_fails(group("bias_zero_grad_nn_sum"), "backward_gradients", "gradient of by",
                     "not summed over the batch")

    def test_autograd_gradients_not_zeroed(self):
        result = group("bias_zero_grad_nn_sum")
        assert_fails(result, "autograd_step_update", "zero the gradients")
        assert_passes(result, "build_model_structure")

    def test_nn_loss_summed(self):
        assert_fails(group("bias_zero_grad_nn_sum"), "train_nn_steps", "summed over the batch instead of averaged")


class TestAutogradInBackwardAndLowAccuracy:
    def test_autograd_inside_manual_backward(self):
        result = group("autograd_accuracy")
        assert_fails(result, "backward_no_autograd", "backward", "autograd")
        assert_passes(result, "backward_gradients")  # the values are right: only the method is wrong

    def test_circles_accuracy_below_095(self):
        assert_fails(group("autograd_accuracy"), "circles_accuracy", "circles", "< 0.95")

    def test_mnist_accuracy_below_092(self):
        assert_fails(group("autograd_accuracy"), "mnist_accuracy", "MNIST", "< 0.92")


# ------------------------------------------------------------------------ whole notebooks

def test_no_test_cell_ends_with_a_value():
    """nbgrader reads a test cell's displayed value as partial credit: a cell ending with, say,
    ``assert_close(...)`` (which returns the checked array) or a float would be scored by that value.
    Every test cell, with and without its hidden part, ends with a statement that displays nothing."""
    import ast
    import re

    from dlcourse.instructor.markers import strip_hidden_tests

    for cell in SOURCE.cells:
        if cell.get("id") not in TEST_CELLS:
            continue
        for version in (cell.source, strip_hidden_tests(cell.source)):
            code = re.sub(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS[ \t]*$", "", version, flags=re.MULTILINE)
            last = ast.parse(code).body[-1]
            if isinstance(last, ast.Expr):
                called = getattr(getattr(last.value, "func", None), "id", None)
                assert called in ("print", "assert_true", "check_zero_bias", "check_normal_init", "check_mlp_gradients"), \
                    f"test cell {cell.get('id')} ends with a displayed value: {ast.unparse(last)[:80]}"


class TestReference:
    def test_reference_passes_every_test_cell(self):
        result = score_variant(A)
        assert result.failed() == {}, result.failed()
        assert sorted(result.cells) == sorted(TEST_CELLS)
        assert result.total() == (MAX_SCORE, MAX_SCORE)


class TestAlternative:
    def test_alternative_passes_every_test_cell(self):
        replacements = load_replacements(SAMPLES / "alternative.py")
        result = score_variant(A, replacements, skip=EXPERIMENTS)
        assert result.failed() == {}, result.failed()
        assert sorted(result.cells) == sorted(TEST_CELLS)


@pytest.mark.slow
class TestNbgrader:
    def test_autograde_alternative_full_marks_and_partial_in_between(self):
        alternative = load_replacements(SAMPLES / "alternative.py")
        partial = load_replacements(SAMPLES / "partial.py")
        scores, process = autograde_variants(A, {"alternative": alternative, "partial": partial})
        notebook = source_notebook_path(A).stem
        assert notebook in scores["alternative"], f"alternative not graded: {scores}\n{process.stdout[-3000:]}"
        cells = scores["alternative"][notebook]
        assert sorted(cells) == sorted(TEST_CELLS)
        lost = {gid: (score, max_score) for gid, (score, max_score) in cells.items() if score != max_score}
        assert lost == {}, f"the alternative lost points: {lost}\n{process.stdout[-3000:]}"
        got = sum(score for score, _ in scores["partial"][notebook].values())
        assert 0 < got < MAX_SCORE, f"partial scored {got} of {MAX_SCORE}: {scores['partial']}"
        partial_lost = {gid for gid, (score, max_score) in scores["partial"][notebook].items() if score != max_score}
        assert {"forward_stable", "loss_safe", "autograd_step_update"} <= partial_lost, partial_lost
