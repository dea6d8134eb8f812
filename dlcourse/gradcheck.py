"""Numerical gradients by centred finite differences in float64, and the checks built on them.

Centred differences ``(f(x + h) - f(x - h)) / 2h`` have a truncation error of order h**2; in float64
with h = 1e-6 the rounding error is about 1e-10 relative to f, far below the tolerances we use.
"""

import numpy as _np

from dlcourse.checks import CheckError, assert_gradient_close, relative_error

_zeros_like = _np.zeros_like
_nditer = _np.nditer
_float64 = _np.float64
_ndarray = _np.ndarray


def _scalar(value, name):
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise CheckError(f"{name} should return one number, got {type(value).__name__}") from None
    return result


def numerical_gradient(f, x, h=1e-6):
    """Centred finite-difference gradient of a scalar function at ``x``.

    Inputs:
    - f: a function taking an array shaped like x and returning one number.
    - x: a float64 array (any shape); it is perturbed in place and restored.
    - h: the step.
    Returns:
    - grad: a float64 array shaped like x.
    """
    if not (isinstance(x, _ndarray) and x.dtype == _float64):
        raise TypeError("numerical_gradient needs a float64 NumPy array (float32 is too coarse)")
    grad = _zeros_like(x)
    iterator = _nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in iterator:
        index = iterator.multi_index
        original = x[index]
        x[index] = original + h
        plus = _scalar(f(x), "f")
        x[index] = original - h
        minus = _scalar(f(x), "f")
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_params(loss, params, h=1e-6):
    """Centred finite-difference gradients of ``loss()`` with respect to every array in ``params``.

    Inputs:
    - loss: a function of no arguments returning one number, reading the arrays in params.
    - params: a dict name -> float64 array, perturbed in place and restored.
    - h: the step.
    Returns:
    - a dict name -> float64 gradient array shaped like params[name].
    """
    return {name: numerical_gradient(lambda _value: loss(), value, h) for name, value in params.items()}


def check_gradient(f, x, analytic, tol=1e-6, h=1e-6, name="gradient"):
    """Compare an analytic gradient with centred finite differences of ``f`` at ``x``.

    Inputs:
    - f, x, h: as in ``numerical_gradient``; analytic: the gradient to check, shaped like x.
    - tol: the largest accepted relative error.
    Returns:
    - the relative error (raises CheckError with the worst element when it exceeds tol).
    """
    expected = numerical_gradient(f, x, h)
    return assert_gradient_close(analytic, expected, name, tol)


def check_gradients(loss, params, analytic, tol=1e-6, h=1e-6):
    """Check a dict of analytic gradients against finite differences of ``loss()``.

    Inputs:
    - loss, params, h: as in ``numerical_gradient_params``.
    - analytic: a dict with the same keys as params.
    - tol: the largest accepted relative error for each parameter.
    Returns:
    - a dict name -> relative error.
    """
    missing = set(params) - set(analytic)
    if missing:
        raise CheckError(f"gradients are missing for {sorted(missing)}")
    numeric = numerical_gradient_params(loss, params, h)
    return {name: assert_gradient_close(analytic[name], numeric[name], f"gradient of {name}", tol)
            for name in params}


__all__ = ["numerical_gradient", "numerical_gradient_params", "check_gradient", "check_gradients",
           "relative_error"]
