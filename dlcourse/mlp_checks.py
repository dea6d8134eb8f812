"""Checks used by the tests of practical 02 (a NumPy multi-layer perceptron).

They complement ``dlcourse.checks`` with what a backpropagation exercise needs to explain failures:

* ``call`` runs student code and turns a crash into a ``CheckError`` that names the call and, for a
  shape error in a matrix product, suggests a missing or extra transpose;
* ``check_close`` / ``check_gradient_close`` compare like ``assert_close`` / ``assert_gradient_close``
  and, on failure, say which classic mistake the wrong value matches (given by the test as
  ``(wrong value, explanation)`` pairs computed from the test's own inputs);
* ``check_unchanged`` catches in-place modification of an input batch;
* ``hint`` adds a sentence to any check that fails inside a ``with`` block.

No reference solution lives here: expected values are computed inside the (hidden) tests.
As in ``dlcourse.checks``, NumPy functions are captured at import, before any student code runs.
"""

import contextlib

import numpy as _np

from dlcourse.checks import (CheckError, assert_close, assert_equal, assert_gradient_close, relative_error,
                             to_float_array)

_ndarray = _np.ndarray
_copy = _np.copy
_abs = _np.abs
_max = _np.max

_SHAPE_WORDS = ("matmul", "shapes", "shape mismatch", "broadcast", "aligned", "core dimension", "einstein",
                "operand", "dimension")


def _describe(value):
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    return type(value).__name__


def call(what, function, *args, **kwargs):
    """Call student code; turn any exception other than a CheckError into a CheckError naming the call.

    Inputs:
    - what: how the call reads in a message, e.g. "Layer(4, 3, 'tanh').propagate(X)".
    - function, args, kwargs: the call.
    Returns:
    - whatever the call returns.
    """
    try:
        return function(*args, **kwargs)
    except CheckError:
        raise
    except NotImplementedError:
        raise CheckError(f"{what} is not implemented yet (it raised NotImplementedError)") from None
    except Exception as exc:  # noqa: BLE001 - every crash of student code becomes a message
        text = str(exc)
        hint = ""
        if isinstance(exc, ValueError) and any(word in text for word in _SHAPE_WORDS):
            hint = " Check the shapes of your matrix products: is a transpose missing (or one too many)?"
        arguments = ", ".join(_describe(a) for a in args)
        called_with = f" (called with {arguments})" if arguments else ""
        raise CheckError(f"{what}{called_with} raised {type(exc).__name__}: {text}.{hint}") from exc


@contextlib.contextmanager
def hint(text):
    """Append ``text`` to the message of any CheckError raised inside the block."""
    try:
        yield
    except CheckError as error:
        raise CheckError(f"{error}. {text}") from None


def _matches(actual, wrong, tol=1e-6):
    try:
        got = to_float_array(actual)
        bad = to_float_array(wrong)
    except CheckError:
        return False
    if got.shape != bad.shape:
        return False
    if got.size == 0:
        return True
    return relative_error(got, bad) <= tol


def _diagnosed(check, actual, mistakes):
    try:
        return check()
    except CheckError as error:
        for wrong, explanation in mistakes:
            if _matches(actual, wrong):
                raise CheckError(f"{error}. It looks like {explanation}") from None
        raise


def check_close(actual, expected, name, rtol=1e-6, atol=1e-8, mistakes=()):
    """``assert_close``, and when it fails, name the known mistake that the wrong value matches.

    Inputs:
    - actual, expected, name, rtol, atol: as in ``dlcourse.checks.assert_close``.
    - mistakes: (wrong value, explanation) pairs; a failing value within relative error 1e-6 of a
      wrong value gets "It looks like <explanation>" appended to the message.
    Returns:
    - the student's value as a float64 array.
    """
    return _diagnosed(lambda: assert_close(actual, expected, name, rtol, atol), actual, mistakes)


def check_gradient_close(actual, expected, name, tol=1e-6, mistakes=()):
    """``assert_gradient_close`` with the same diagnosis of known mistakes as ``check_close``."""
    return _diagnosed(lambda: assert_gradient_close(actual, expected, name, tol), actual, mistakes)


def check_unchanged(original, current, name, advice="work on a copy instead of modifying it in place"):
    """Fail unless ``current`` still holds exactly the values of ``original`` (a copy taken before a call).

    Inputs:
    - original: a copy of the array taken before the call; current: the array passed to the call.
    - name: what the array is, e.g. "the input batch X of Layer.propagate".
    """
    try:
        assert_equal(current, original, name)
    except CheckError as error:
        raise CheckError(f"{name} was modified in place by your code ({error}): {advice}") from None


def snapshot(array):
    """A private copy of a test input, to compare with ``check_unchanged`` after the call."""
    return _copy(array)


__all__ = ["call", "hint", "check_close", "check_gradient_close", "check_unchanged", "snapshot"]
