"""Checks used by the tests of practical 02 (a NumPy multi-layer perceptron).

They complement ``dlcourse.checks`` with what a backpropagation exercise needs to explain failures:

* ``call`` runs student code and turns a crash into a ``CheckError`` that names the call and, for a
  shape error in a matrix product, suggests a missing or extra transpose;
* ``check_close`` / ``check_gradient_close`` compare like ``assert_close`` / ``assert_gradient_close``
  and, on failure, say which classic mistake the wrong value matches (given by the test as
  ``(wrong value, explanation)`` pairs computed from the test's own inputs);
* ``check_unchanged`` catches in-place modification of an input batch;
* ``hint`` adds a sentence to any check that fails inside a ``with`` block;
* ``graded_with`` runs a check of a later exercise with the course's own versions of the earlier
  classes it builds on, when the graded (hidden) tests have provided them, so that a bug in ``Layer``
  costs only ``Layer``'s points;
* ``forbidden`` is a tripwire: within its block, calling a given helper (a course helper that
  computes what the exercise asks, or PyTorch's autograd) fails with a message.

No reference solution lives here: expected values and the course's reference classes are defined
inside the hidden tests.
As in ``dlcourse.checks``, NumPy functions are captured at import, before any student code runs.
"""

import contextlib
import types

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


# ---------------------------------------------------------------- one exercise per test

REFERENCES = "_mlp_references"  # the notebook global where the hidden tests put the course's classes


def _names(names):
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


@contextlib.contextmanager
def graded_with(namespace, what, names):
    """Run a check of ``what`` with the course's own versions of the earlier classes it uses.

    When the graded tests have stored the course's reference classes in ``namespace[REFERENCES]`` (a
    dict name -> class), the names in ``names`` are rebound to them within the block and restored
    afterwards, whatever happens, so that ``what`` is judged on its own. Otherwise (your copy of the
    notebook) the block runs with your own classes.
    Inputs:
    - namespace: the notebook's globals(); what: the exercise under test, e.g. "MLP".
    - names: the global names of the earlier exercises it uses, e.g. ("Layer", "Softmax").
    Returns:
    - nothing; a CheckError raised inside gets a sentence saying which versions were used.
    """
    references = namespace.get(REFERENCES) or {}
    used = [name for name in names if name in references]
    saved = {name: namespace.get(name) for name in used}
    if used:
        note = (f"(This test ran {what} with the course's own {_names(used)}, so the problem is in {what}; "
                f"remember that {what} may use only the documented methods and attributes of {_names(used)}.)")
    else:
        note = (f"(This check runs {what} with your own {_names(list(names))}: if one of them fails its "
                f"own test, fix it first. When graded, {what} is tested with the course's versions of them.)")
    try:
        namespace.update({name: references[name] for name in used})
        yield
    except CheckError as error:
        raise CheckError(f"{error} {note}") from None
    finally:
        namespace.update(saved)


class ForbiddenCall(CheckError):
    """A tripwired helper was called inside a ``forbidden`` block."""


_ACTIVE = []  # stack of (what, advice, calls) of the forbidden blocks being executed


def _trip(label):
    """Called by a tripwired function: record the call and fail with the innermost block's message."""
    if not _ACTIVE:  # cannot happen while the code is swapped, but never fail silently
        raise ForbiddenCall(f"{label} is not available here")
    what, advice, calls = _ACTIVE[-1]
    calls.append(label)
    raise ForbiddenCall(f"{what} called {label}: {advice}")


def _tripwire_code(label):
    source = (f"def tripwire(*args, **kwargs):\n    import dlcourse.mlp_checks as _checks\n"
              f"    _checks._trip({label!r})\n")
    scope = {}
    exec(compile(source, f"<tripwire {label}>", "exec"), scope)  # noqa: S102 - our own fixed template
    return scope["tripwire"].__code__


@contextlib.contextmanager
def forbidden(targets, what, advice):
    """A tripwire: within the block, calling any of ``targets`` fails with a CheckError.

    Each target is a Python function, or a pair (owner, attribute name) such as
    ``(dlcourse.gradcheck, "numerical_gradient")``. The attribute is replaced and the function's code
    is swapped too, so that a reference taken earlier (``from dlcourse.gradcheck import ...``) trips
    as well. A call that the code inside the block catches is still reported when the block ends.
    Inputs:
    - targets: the functions to forbid; what: who must not call them (e.g. "gradient_check").
    - advice: what to do instead, appended to the message.
    Returns:
    - nothing; everything is restored when the block ends.
    """
    calls = []
    codes, attributes = [], []  # (function, its code, the tripwire code); (owner, name, original value)
    for target in targets:
        if isinstance(target, tuple):
            owner, name = target
            original = getattr(owner, name)
            label = f"{getattr(owner, '__name__', type(owner).__name__)}.{name}"
        else:
            owner, name, original = None, None, target
            label = getattr(target, "__qualname__", repr(target))
        function = getattr(original, "__func__", original)
        if isinstance(function, types.FunctionType) and not function.__code__.co_freevars:
            codes.append((function, function.__code__, _tripwire_code(label)))
        elif owner is not None:  # not Python code (or a closure): replace the attribute only
            attributes.append((owner, name, original, label))

    def refuse(label):
        def replacement(*args, **kwargs):
            _trip(label)
        return replacement

    _ACTIVE.append((what, advice, calls))
    try:
        for function, _original, tripwire in codes:
            function.__code__ = tripwire
        for owner, name, _original, label in attributes:
            setattr(owner, name, refuse(label))
        yield calls
    except Exception:
        if calls:  # the tripwire, even if the code inside went on and failed for another reason
            raise ForbiddenCall(f"{what} called {calls[0]}: {advice}") from None
        raise
    finally:
        for function, original, _tripwire in codes:
            function.__code__ = original
        for owner, name, original, _label in attributes:
            setattr(owner, name, original)
        _ACTIVE.pop()
    if calls:  # a call whose error the code inside caught
        raise ForbiddenCall(f"{what} called {calls[0]}: {advice}")


__all__ = ["call", "hint", "check_close", "check_gradient_close", "check_unchanged", "snapshot", "graded_with",
           "forbidden", "ForbiddenCall", "REFERENCES"]
