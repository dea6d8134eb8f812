"""dlcourse.gradcheck: centred differences in float64 agree with known and autograd gradients."""

import numpy as np
import pytest
import torch

from dlcourse.checks import CheckError
from dlcourse.gradcheck import check_gradient, check_gradients, numerical_gradient, numerical_gradient_params


def test_numerical_gradient_of_a_known_function():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    np.testing.assert_allclose(grad, np.cos(before) * before + np.sin(before), rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(x, before)  # restored after perturbation


def test_numerical_gradient_agrees_with_torch_autograd():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(4, 3))
    X = rng.normal(size=(5, 4))

    def loss(w):
        return float(np.mean(np.log1p(np.exp(X @ w))))

    tw = torch.tensor(W, requires_grad=True)
    torch.mean(torch.nn.functional.softplus(torch.tensor(X) @ tw)).backward()
    assert check_gradient(loss, W, tw.grad.numpy(), tol=1e-8) < 1e-8


def test_check_gradient_rejects_a_wrong_gradient_with_the_worst_element():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(CheckError, match="gradient is wrong: relative error"):
        check_gradient(lambda v: np.sum(v ** 2), x, 2 * x + np.array([0, 0, 1e-3]))


def test_float32_is_refused():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda v: float(np.sum(v)), np.ones(3, np.float32))


def test_dict_of_parameters():
    rng = np.random.default_rng(2)
    params = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=(3,))}
    X = rng.normal(size=(4, 2))

    def loss():
        return float(np.sum((X @ params["W"] + params["b"]) ** 2))

    out = X @ params["W"] + params["b"]
    analytic = {"W": X.T @ (2 * out), "b": (2 * out).sum(axis=0)}
    errors = check_gradients(loss, params, analytic, tol=1e-8)
    assert set(errors) == {"W", "b"}
    numeric = numerical_gradient_params(loss, params)
    assert numeric["b"].shape == (3,)
    with pytest.raises(CheckError, match="gradient of b"):
        check_gradients(loss, params, {"W": analytic["W"], "b": (2 * out).mean(axis=0)})
    with pytest.raises(CheckError, match="missing"):
        check_gradients(loss, params, {"W": analytic["W"]})
