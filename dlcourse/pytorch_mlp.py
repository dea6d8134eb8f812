"""Practical 04_pytorch: its data helpers, its decision-boundary plot and the diagnostic checks of its tests.

Nothing here computes the network (no forward pass, loss, accuracy or gradient): the reference
computations live in the hidden tests. What lives here are the *diagnoses* that turn a wrong gradient or a wrong
initialisation into a message naming the likely bug (missing mean, transposed gradient, bias gradient
not summed, derivative of tanh, standard deviation of the weights, autograd inside a manual backward).

Like ``dlcourse.checks``, the NumPy functions used are captured at import time (the notebook imports
this module in its locked setup cell, before any student code runs).
"""

import contextlib

import numpy as _np
import torch

from dlcourse.checks import CheckError, assert_close, assert_gradient_close, check_shape, to_float_array

_abs = _np.abs
_max = _np.max
_min = _np.min
_mean = _np.mean
_sqrt = _np.sqrt
_isfinite = _np.isfinite
_count_nonzero = _np.count_nonzero
_float64 = _np.float64
_tanh = _np.tanh

PARAM_SHAPES = {"Wh": ("nh", "nx"), "bh": ("nh",), "Wy": ("ny", "nh"), "by": ("ny",)}


# ----------------------------------------------------------------------------------------------- data

def one_hot(labels, classes):
    """One-hot rows of integer labels.

    Inputs:
    - labels: (N,) integer array or tensor; classes: the number of classes.
    Returns:
    - (N, classes) float32 tensor.
    """
    labels = torch.as_tensor(_np.asarray(labels), dtype=torch.long)
    return torch.nn.functional.one_hot(labels, classes).to(torch.float32)


def make_circles_data(n_samples=1000, noise=0.1, factor=0.5, seed=0, test_fraction=0.2):
    """Two concentric noisy circles (scikit-learn's make_circles), split into training and test sets.

    Inputs:
    - n_samples: points in all; noise: std of the Gaussian noise; factor: inner radius / outer radius.
    - seed: the generator's seed; test_fraction: the share of points held out.
    Returns:
    - X_train (N, 2), Y_train (N, 2) one-hot, X_test, Y_test: float32 tensors.
    """
    from sklearn.datasets import make_circles

    points, labels = make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    n_test = int(round(n_samples * test_fraction))
    X = torch.tensor(points, dtype=torch.float32)
    Y = one_hot(labels, 2)
    return X[n_test:], Y[n_test:], X[:n_test], Y[:n_test]


def plot_decision_boundary(ax, predict, X, Y, title=None, resolution=150):
    """Draw a 2-D classifier's probability of class 1 over the plane, its 0.5 contour, and the points.

    Inputs:
    - ax: a matplotlib Axes.
    - predict: a function taking an (M, 2) float32 tensor and returning (M, 2) class probabilities.
    - X: (N, 2) points; Y: (N, 2) one-hot labels (tensors or arrays).
    - title: the panel's title; resolution: grid points per axis.
    Returns:
    - the Axes.
    """
    X = to_float_array(X, "X")
    labels = to_float_array(Y, "Y").argmax(axis=1)
    low = X.min(axis=0) - 0.3
    high = X.max(axis=0) + 0.3
    xs = _np.linspace(low[0], high[0], resolution)
    ys = _np.linspace(low[1], high[1], resolution)
    grid_x, grid_y = _np.meshgrid(xs, ys)
    grid = torch.tensor(_np.stack([grid_x.ravel(), grid_y.ravel()], axis=1), dtype=torch.float32)
    with torch.no_grad():
        probability = to_float_array(predict(grid), "predicted probabilities")[:, 1].reshape(grid_x.shape)
    ax.contourf(grid_x, grid_y, probability, levels=20, cmap="RdBu_r", alpha=0.6, vmin=0, vmax=1)
    ax.contour(grid_x, grid_y, probability, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="RdBu_r", s=8, edgecolors="k", linewidths=0.3)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------------------------------- diagnostics

def _close(got, want, rtol=1e-5, atol=1e-9):
    return bool((_abs(got - want) <= atol + rtol * _abs(want)).all())


def check_param_dict(params, sizes, name="params"):
    """Fail unless ``params`` is a dict of torch tensors with the keys and shapes of the network.

    Inputs:
    - params: the student's dict; sizes: {"nx": .., "nh": .., "ny": ..}.
    Returns:
    - {name: float64 array}.
    """
    if not isinstance(params, dict):
        raise CheckError(f"{name} should be a dict with keys Wh, bh, Wy, by, got {type(params).__name__}")
    missing = [key for key in PARAM_SHAPES if key not in params]
    if missing:
        raise CheckError(f"{name} is missing the key(s) {missing} (expected Wh, bh, Wy, by)")
    arrays = {}
    for key, dims in PARAM_SHAPES.items():
        value = params[key]
        if not isinstance(value, torch.Tensor):
            raise CheckError(f"{name}['{key}'] should be a torch tensor, got {type(value).__name__}")
        if not value.is_floating_point():
            raise CheckError(f"{name}['{key}'] should be a floating-point tensor, got {value.dtype}")
        shape = tuple(sizes[d] for d in dims)
        spelled = "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")
        array = to_float_array(value, f"{name}['{key}']")
        if tuple(array.shape) != shape:
            raise CheckError(f"{name}['{key}'] has shape {tuple(array.shape)}, expected {spelled} = {shape}"
                             + (" (the transpose)" if tuple(array.shape) == shape[::-1] else ""))
        arrays[key] = array
    return arrays


def check_normal_init(weights, name, std=0.3):
    """Fail unless the entries of ``weights`` look like independent draws from N(0, std**2).

    Checked statistically (the entries are many): sample mean, sample standard deviation, and the share
    of entries within one standard deviation of the mean (68.3% for a normal law, 57.7% for a uniform
    one). A failure reports every statistic that is off; it names a likely cause only when the
    statistics fit that cause alone (for instance "the variance was used as the standard deviation"
    only for centred, normally shaped entries whose standard deviation is std**2).
    Inputs:
    - weights: a tensor or array with at least 10,000 entries; name: its name for the messages.
    Returns:
    - nothing; raises CheckError on failure.
    """
    values = to_float_array(weights, name).ravel()
    n = values.size
    if not bool(_isfinite(values).all()):
        raise CheckError(f"{name} contains NaN or infinity")
    mean = float(_mean(values))
    sample_std = float(_sqrt(_mean((values - mean) ** 2)))
    if sample_std == 0.0:
        raise CheckError(f"{name} is constant ({mean:.4g} everywhere): weights must be drawn at random "
                         f"from N(0, {std}^2), e.g. torch.randn(...) * {std}")
    within = float(_count_nonzero(_abs(values - mean) <= sample_std)) / n
    spread = float(_max(values) - _min(values)) / sample_std  # sqrt(12) = 3.464 for a uniform law

    # Tolerances: about 6 standard errors of each statistic for this many entries.
    def std_is(target):
        return abs(sample_std - target) <= 6 * target / _sqrt(2 * n) + 1e-3 * target

    share_tol = 6 * _sqrt(0.6827 * 0.3173 / n) + 2e-3
    normal_shape = abs(within - 0.6827) <= share_tol
    uniform_shape = abs(within - 0.5774) <= share_tol and abs(spread - 12 ** 0.5) <= 0.02 * 12 ** 0.5
    centred = abs(mean) <= 6 * sample_std / _sqrt(n) + 1e-3 * sample_std

    problems = []
    if not std_is(std):
        problems.append(f"standard deviation {sample_std:.4g} (expected {std})")
    if abs(mean) > 6 * std / _sqrt(n) + 1e-3:
        problems.append(f"mean {mean:.4g} (expected 0)")
    if not normal_shape:
        problems.append(f"{100 * within:.1f}% of the entries within one standard deviation of the mean "
                        "(a normal law puts 68.3% there)")
    if not problems:
        return
    hint = ""
    if centred and normal_shape and std_is(std ** 2):
        hint = f": {std}^2 = {std ** 2:g}, the variance was used as the standard deviation"
    elif centred and normal_shape and std_is(1.0):
        hint = f": standard normal draws that were not multiplied by {std}"
    elif centred and normal_shape and std_is(std ** 0.5):
        hint = f": sqrt({std}) = {std ** 0.5:.4g}, {std} was used as the variance"
    elif uniform_shape:
        hint = (": the entries are spread evenly over an interval, like a uniform law (torch.rand, "
                "torch.empty(...).uniform_()): draw them from a normal law, torch.randn(...) * " + str(std))
    raise CheckError(f"{name} does not look like draws from N(0, {std}^2) over its {n} entries: "
                     + "; ".join(problems) + hint)


def check_zero_bias(bias, name):
    """Fail unless every entry of the bias ``bias`` is exactly 0."""
    values = to_float_array(bias, name)
    nonzero = int(_count_nonzero(values))
    if nonzero:
        raise CheckError(f"{name} should start at zero, but {nonzero} of its {values.size} entries are not 0 "
                         f"(largest {float(_max(_abs(values))):.4g}): initialise biases with torch.zeros")


def _scale_hint(got, want, batch_size):
    if not bool(_isfinite(got).all()) or float(_max(_abs(want))) == 0.0:
        return ""
    if _close(got, -want):
        return "it is the expected gradient with the opposite sign"
    if batch_size > 1 and _close(got, batch_size * want):
        return (f"it is {batch_size} (= N, the batch size) times the expected one: the loss is the *mean* "
                "over the batch, so its gradient carries a factor 1/N (the mean over the batch is missing)")
    if batch_size > 1 and _close(got, want / batch_size):
        return (f"it is 1/{batch_size} (1/N) of the expected one: the factor 1/N of the mean was applied "
                "twice (a bias gradient sums, with .sum(0), the per-example gradients that already carry 1/N)")
    return ""


def assert_mean_loss_close(loss, expected, batch_size, name="loss", rtol=1e-5, atol=1e-7, classes=None):
    """Compare a mean loss with its expected value, naming the sum-instead-of-mean bug when it is that.

    Inputs:
    - loss: the student's loss (one number); expected: the reference mean loss; batch_size: N.
    - classes: ny, when given (and different from N) a loss ny times too small is named as the mean
      over all the N * ny entries of Y * log(Yhat).
    Returns:
    - the loss as a float64 array.
    """
    got = check_shape(to_float_array(loss, name), (), name)
    want = to_float_array(expected, f"expected {name}")

    def is_multiple(factor):
        target = factor * float(want)
        return bool(_isfinite(got)) and float(want) != 0 and abs(float(got) - target) <= 1e-5 * abs(target)

    if batch_size > 1 and is_multiple(batch_size):
        raise CheckError(f"{name} is {float(got):.6g}, {batch_size} (= N, the batch size) times the expected "
                         f"{float(want):.6g}: sum instead of mean over the batch")
    if classes and classes > 1 and classes != batch_size and is_multiple(1.0 / classes):
        raise CheckError(f"{name} is {float(got):.6g}, 1/{classes} (1/ny) of the expected {float(want):.6g}: the "
                         "mean was taken over all the N * ny entries of Y * log(Yhat); sum over the classes, "
                         "then average over the examples")
    return assert_close(got, want, name, rtol=rtol, atol=atol)


def diagnose_update(new, old, expected, batch_size, name):
    """Fail with a message naming the bug when a parameter's update is a multiple of the expected one.

    Inputs:
    - new: the parameter after the student's training; old: before; expected: after a correct training.
    - batch_size: N, for the sum-instead-of-mean diagnosis; name: the parameter's name.
    """
    new, old, want = (to_float_array(v, name) for v in (new, old, expected))
    step, want_step = new - old, want - old
    if float(_max(_abs(want_step))) == 0.0 or not bool(_isfinite(step).all()):
        return
    if _close(step, 0 * want_step, atol=1e-12):
        raise CheckError(f"{name} did not change during training: are the optimizer's step and the loss's "
                         "backward called for every minibatch?")
    if batch_size > 1 and _close(step, batch_size * want_step, rtol=1e-3, atol=1e-9):
        raise CheckError(f"{name} moved {batch_size} (= N, the batch size) times too far: the loss is summed over "
                         "the batch instead of averaged (the mean cross-entropy, CrossEntropyLoss's default reduction)")
    if _close(step, -want_step, rtol=1e-3, atol=1e-9):
        raise CheckError(f"{name} moved up the gradient instead of down")


def check_mlp_gradients(grads, expected, batch_size, tol=1e-5, source="torch.autograd"):
    """Compare a manual backward's gradients with reference ones, naming the likely bug on failure.

    The output layer (Wy, by) is checked first: when it is right and the hidden layer is wrong, the
    error lies in the backpropagation through tanh.
    Inputs:
    - grads: the student's dict; expected: {name: reference gradient} (arrays or tensors).
    - batch_size: N, the number of examples the mean loss averages over.
    - tol: the largest relative error; source: what computed the reference, for the messages.
    """
    if not isinstance(grads, dict):
        raise CheckError(f"backward should return a dict with keys Wh, bh, Wy, by, got {type(grads).__name__}")
    missing = [key for key in PARAM_SHAPES if key not in grads]
    if missing:
        raise CheckError(f"backward's dict is missing the key(s) {missing}: it needs the keys of params "
                         "(Wh, bh, Wy, by)")
    output_layer_right = True
    for key in ("Wy", "by", "Wh", "bh"):
        name = f"gradient of {key}"
        want = to_float_array(expected[key], f"expected {name}")
        got = to_float_array(grads[key], name)
        if tuple(got.shape) != tuple(want.shape):
            if len(want.shape) == 1 and tuple(got.shape) == (batch_size,) + tuple(want.shape):
                raise CheckError(
                    f"{name} has shape {tuple(got.shape)} (one row per example, N={batch_size}), expected "
                    f"{tuple(want.shape)} like {key}: the bias gradient was not summed over the batch "
                    f"(a bias is used by every example: add up their gradients, .sum(0))")
            if len(want.shape) == 2 and tuple(got.shape) == tuple(want.shape)[::-1]:
                raise CheckError(
                    f"{name} has shape {tuple(got.shape)}, the transpose of {key}'s shape {tuple(want.shape)}: "
                    f"the weight gradient is transposed (a gradient has the shape of its parameter)")
            check_shape(got, want.shape, name)
        hint = _scale_hint(got, want, batch_size)
        if hint:
            raise CheckError(f"{name} is wrong (compared with {source}): {hint}")
        if key in ("Wh", "bh") and output_layer_right and bool(_isfinite(got).all()):
            try:
                assert_gradient_close(got, want, name, tol)
            except CheckError as error:
                raise CheckError(
                    f"{error} (compared with {source}). The output layer's gradients are right, so the error "
                    "is in the backpropagation through the hidden layer: the derivative of tanh is "
                    "1 - tanh(htilde)^2 = 1 - h^2, applied elementwise to the gradient of h") from None
        else:
            try:
                assert_gradient_close(got, want, name, tol)
            except CheckError as error:
                output_layer_right = False
                raise CheckError(f"{error} (compared with {source})") from None


class AutogradUsed(CheckError):
    """Raised when a function meant to compute gradients by hand called autograd."""


@contextlib.contextmanager
def autograd_forbidden(what="backward"):
    """Within the block, any call of autograd (Tensor.backward, torch.autograd.backward/grad) fails.

    The block also runs in ``torch.inference_mode()``: no graph is recorded, so a gradient cannot be
    obtained through autograd even by a reference to ``torch.autograd.grad`` taken earlier.
    """
    calls = []
    originals = (torch.autograd.backward, torch.autograd.grad, torch.Tensor.backward)

    def refuse(name):
        def replacement(*args, **kwargs):
            calls.append(name)
            raise AutogradUsed(f"{what} called {name}: compute the gradients by hand with tensor operations "
                               "(matrix products, sums, elementwise products), without autograd")
        return replacement

    torch.autograd.backward = refuse("torch.autograd.backward")
    torch.autograd.grad = refuse("torch.autograd.grad")
    torch.Tensor.backward = refuse(".backward()")
    try:
        with torch.inference_mode():
            yield calls
    except AutogradUsed:
        raise
    except RuntimeError as error:
        text = str(error)
        if "grad" in text or "inference" in text.lower():
            raise AutogradUsed(f"{what} failed once autograd was unavailable ({type(error).__name__}: "
                               f"{text.splitlines()[0]}): it relies on autograd (requires_grad, .backward(), "
                               "torch.autograd); compute the gradients by hand") from None
        raise
    finally:
        torch.autograd.backward, torch.autograd.grad, torch.Tensor.backward = originals
    if calls:
        raise AutogradUsed(f"{what} called {calls[0]}: compute the gradients by hand with tensor operations")


__all__ = ["one_hot", "make_circles_data", "plot_decision_boundary", "check_param_dict", "check_normal_init",
           "check_zero_bias", "check_mlp_gradients", "assert_mean_loss_close", "diagnose_update", "autograd_forbidden", "AutogradUsed"]
