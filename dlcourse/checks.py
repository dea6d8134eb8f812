"""Comparisons used by every visible and hidden test; their messages speak to students.

Why this module looks paranoid: autograded code runs in the same kernel as the tests. A submission
can rebind ``np.allclose``, ``np.testing.assert_allclose``, ``torch.allclose`` or ``math.isclose``,
or return an object whose ``__eq__`` always answers True. So:

* every NumPy function used here is captured when this module is imported (the notebooks import it
  in a locked cell at the very top, before any student code runs);
* student output is first converted to a plain float64 ``numpy.ndarray`` (a torch or TensorFlow
  tensor is read out explicitly); anything that is not made of numbers fails with a message;
* shape is checked before values, exactly (a (5,) array never passes for (1, 5));
* values are compared with array arithmetic, never with ``==`` on the student's object.
"""

import numpy as _np

# Captured at import: later rebinding of these names by student code does not reach us.
_array = _np.array
_abs = _np.abs
_max = _np.max
_argmax = _np.argmax
_isfinite = _np.isfinite
_isnan = _np.isnan
_unravel_index = _np.unravel_index
_count_nonzero = _np.count_nonzero
_float64 = _np.float64
_ndarray = _np.ndarray
_prod = _np.prod
_dtype = _np.dtype
_bool_ = _np.bool_
_where = _np.where


class CheckError(AssertionError):
    """A failed check; the message says what was expected and what was found."""


def _framework_to_numpy(value):
    """Read a torch or TensorFlow tensor out as a NumPy array, or return None for anything else."""
    module = type(value).__module__ or ""
    if module.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().double().numpy()
    if (module.startswith("tensorflow") or module.startswith("keras")) and hasattr(value, "numpy"):
        return value.numpy()
    return None


def to_float_array(value, name="value"):
    """Convert a student's value to a float64 NumPy array, or fail with a message saying why not.

    Inputs:
    - value: a number, a nested list, a NumPy array, a torch tensor or a TensorFlow tensor.
    - name: what the value is, for the message.
    Returns:
    - a float64 ``numpy.ndarray`` of the same shape (0-d for a scalar).
    """
    if value is None:
        raise CheckError(f"{name} is None: the function still returns the stub's None "
                         "(did you fill in the code between the markers and return the result?)")
    if isinstance(value, (str, bytes)):
        raise CheckError(f"{name} should be numeric, got the string {value!r}")
    converted = _framework_to_numpy(value)
    if converted is not None:
        value = converted
    try:
        array = _array(value, dtype=_float64)
    except (TypeError, ValueError) as exc:
        raise CheckError(f"{name} should be numeric (a number or an array of numbers), "
                         f"got an object of type {type(value).__name__}: {exc}") from None
    if type(array) is not _ndarray:  # an ndarray subclass could override arithmetic
        array = _array(array.tolist(), dtype=_float64)
    return array


def _describe_shape(shape):
    return "a scalar ()" if shape == () else f"shape {tuple(shape)}"


def check_shape(actual, expected_shape, name="output"):
    """Fail unless ``actual`` has exactly ``expected_shape``.

    Inputs:
    - actual: the student's value (anything ``to_float_array`` accepts).
    - expected_shape: a tuple of ints.
    Returns:
    - the value as a float64 array.
    """
    array = to_float_array(actual, name)
    expected_shape = tuple(int(n) for n in expected_shape)
    if tuple(array.shape) != expected_shape:
        hint = ""
        if tuple(reversed(array.shape)) == expected_shape:
            hint = " (the transpose of what is expected)"
        elif array.size == _prod(expected_shape, dtype=int):
            hint = " (same number of elements: a missing reshape, transpose or keepdims?)"
        raise CheckError(f"{name} has the wrong shape: expected {_describe_shape(expected_shape)}, "
                         f"got {_describe_shape(array.shape)}{hint}")
    return array


def check_dtype(actual, expected_kind, name="output"):
    """Fail unless ``actual``'s dtype is of the given kind ('f' float, 'i' signed int, 'b' bool...).

    Inputs:
    - actual: a NumPy array, torch tensor or TensorFlow tensor.
    - expected_kind: a NumPy dtype kind character, or a string of accepted kinds ('iu').
    """
    dtype = getattr(actual, "dtype", None)
    if dtype is None:
        raise CheckError(f"{name} should be an array with a dtype, got {type(actual).__name__}")
    try:
        kind = _dtype(getattr(dtype, "as_numpy_dtype", dtype)).kind
    except TypeError:
        text = str(dtype)
        kind = "f" if "float" in text else "i" if "int" in text else "b" if "bool" in text else "?"
    if kind not in expected_kind:
        names = {"f": "floating point", "i": "integer", "u": "unsigned integer", "b": "boolean"}
        wanted = " or ".join(names.get(k, k) for k in expected_kind)
        raise CheckError(f"{name} should have a {wanted} dtype, got {dtype}")


def _worst_index(mask_values, shape):
    flat = int(_argmax(mask_values))
    return _unravel_index(flat, shape) if shape else ()


def assert_close(actual, expected, name="output", rtol=1e-6, atol=1e-8):
    """Fail unless ``actual`` matches ``expected`` in shape and, elementwise, in value.

    An element passes when ``|actual - expected| <= atol + rtol * |expected|``.
    Inputs:
    - actual: the student's value; expected: the reference value (same shape).
    - name: what is compared, for the message; rtol, atol: tolerances.
    Returns:
    - the student's value as a float64 array.
    """
    want = to_float_array(expected, f"expected {name}")
    got = check_shape(actual, want.shape, name)
    bad_finite = ~_isfinite(got) & _isfinite(want)
    if _count_nonzero(bad_finite):
        index = _worst_index(bad_finite, got.shape)
        where = f" at index {tuple(int(i) for i in index)}" if got.shape else ""
        raise CheckError(f"{name} contains {got[index]} (not a finite number){where}, "
                         f"expected {float(want[index]):.8g}: overflow, log(0) or division by zero?")
    excess = _abs(got - want) - (atol + rtol * _abs(want))
    excess = _where(_isnan(excess), 0.0, excess)  # both NaN or both the same infinity: equal
    if _count_nonzero(excess > 0):
        index = _worst_index(excess, got.shape)
        where = f" at index {tuple(int(i) for i in index)}" if got.shape else ""
        count = int(_count_nonzero(excess > 0))
        raise CheckError(f"{name} has wrong values: {count} of {got.size} element(s) differ; "
                         f"worst{where}: expected {float(want[index]):.8g}, got {float(got[index]):.8g} "
                         f"(tolerance rtol={rtol:g}, atol={atol:g})")
    return got


def assert_equal(actual, expected, name="output"):
    """Fail unless ``actual`` equals ``expected`` exactly (integers, labels, counts), shape included."""
    return assert_close(actual, expected, name, rtol=0.0, atol=0.0)


def relative_error(actual, expected, eps=1e-8):
    """The scale-relative error ``max|a - b| / max(eps, max(|a| + |b|))`` of two arrays, in float64.

    It is relative to the largest magnitude in the pair, so elements that are near zero in both
    (where finite differences are all noise) do not blow it up.
    Inputs:
    - actual, expected: arrays of the same shape.
    Returns:
    - a Python float, 0.0 for identical arrays.
    """
    a = to_float_array(actual, "actual")
    b = to_float_array(expected, "expected")
    if a.shape != b.shape:
        raise CheckError(f"relative_error needs equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = float(_max(_abs(a) + _abs(b)))
    return float(_max(_abs(a - b))) / max(eps, scale)


def assert_gradient_close(actual, expected, name="gradient", tol=1e-6):
    """Fail unless the gradient ``actual`` matches ``expected`` (shape, then relative error <= tol).

    Inputs:
    - actual: the student's gradient; expected: a reference (finite differences or autograd).
    - tol: the largest accepted ``relative_error``.
    Returns:
    - the relative error, a float.
    """
    want = to_float_array(expected, f"expected {name}")
    got = check_shape(actual, want.shape, name)
    if not bool(_isfinite(got).all()):
        raise CheckError(f"{name} contains NaN or infinity")
    error = relative_error(got, want)
    if not error <= tol:
        difference = _abs(got - want)
        index = _worst_index(difference, got.shape)
        where = f" at index {tuple(int(i) for i in index)}" if got.shape else ""
        ratio = ""
        if float(_max(_abs(want))) > 0 and float(_max(_abs(got))) > 0:
            scale = float(_max(_abs(got))) / float(_max(_abs(want)))
            if abs(scale - 1) > 1e-3:
                ratio = f"; your largest entry is {scale:.4g} times the expected one"
        if bool((_abs(got + want) <= 1e-9 + 1e-6 * _abs(want)).all()):
            ratio = "; it is the expected gradient with the opposite sign"
        raise CheckError(f"{name} is wrong: relative error {error:.3g} > {tol:g}; worst element{where}: "
                         f"expected {float(want[index]):.8g}, got {float(got[index]):.8g}{ratio}")
    return error


def assert_scalar_in_range(actual, low, high, name="value"):
    """Fail unless ``actual`` is one finite number with ``low <= actual <= high``."""
    value = check_shape(actual, (), name)
    number = float(value)
    if not (low <= number <= high):
        raise CheckError(f"{name} = {number:.6g} is outside the expected range [{low:g}, {high:g}]")
    return number


def assert_true(condition, message):
    """Fail with ``message`` unless ``condition`` is exactly the boolean True (or a NumPy True)."""
    if not (condition is True or (isinstance(condition, _bool_) and bool(condition) is True)):
        raise CheckError(message)
