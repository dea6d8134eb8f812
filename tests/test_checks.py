"""dlcourse.checks: shape before value, float64 conversion, messages, and resistance to cheating."""

import math

import numpy as np
import pytest
import torch

from dlcourse import checks
from dlcourse.checks import (CheckError, assert_close, assert_equal, assert_gradient_close,
                             assert_scalar_in_range, assert_true, check_dtype, check_shape,
                             relative_error, to_float_array)


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


class EqualFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__


def test_a_row_vector_does_not_pass_for_a_flat_vector():
    with pytest.raises(CheckError, match=r"expected shape \(1, 5\), got shape \(5,\)"):
        assert_close(np.ones(5), np.ones((1, 5)))


def test_the_transpose_is_named_in_the_shape_message():
    with pytest.raises(CheckError, match=r"got shape \(3, 2\) \(the transpose of what is expected\)"):
        check_shape(np.ones((3, 2)), (2, 3), "W")
    with pytest.raises(CheckError, match="a missing reshape, transpose or keepdims"):
        check_shape(np.ones((6,)), (2, 3), "W")


def test_wrong_value_message_names_the_worst_element():
    expected = np.arange(6.0).reshape(2, 3)
    actual = expected.copy()
    actual[1, 2] += 0.5
    with pytest.raises(CheckError, match=r"1 of 6 element\(s\) differ; worst at index \(1, 2\): expected 5, got 5.5"):
        assert_close(actual, expected, "out")


def test_close_values_pass_and_are_returned_as_float64():
    result = assert_close([1.0, 2.0 + 1e-9], np.array([1, 2]))
    assert type(result) is np.ndarray and result.dtype == np.float64


def test_an_always_equal_object_fails():
    with pytest.raises(CheckError, match="should be numeric"):
        assert_close(AlwaysEqual(), 3.0)


def test_a_float_subclass_that_equals_everything_is_compared_by_value():
    with pytest.raises(CheckError, match="expected 3, got 1"):
        assert_close(EqualFloat(1.0), 3.0)


def test_an_array_of_always_equal_objects_fails():
    with pytest.raises(CheckError, match="should be numeric"):
        assert_close(np.array([AlwaysEqual(), AlwaysEqual()], dtype=object), [1.0, 2.0])


def test_none_says_the_stub_still_returns_none():
    with pytest.raises(CheckError, match="stub"):
        assert_close(None, 1.0)


def test_nan_and_inf_are_reported_as_such():
    with pytest.raises(CheckError, match="not a finite number"):
        assert_close([1.0, np.nan], [1.0, 2.0])


def test_torch_tensors_are_read_out_including_gradients():
    t = torch.tensor([[1.0, 2.0]], requires_grad=True) * 2
    assert_close(t, [[2.0, 4.0]])
    with pytest.raises(CheckError, match="wrong shape"):
        assert_close(t, [2.0, 4.0])


def test_tensorflow_tensors_are_read_out():
    tf = pytest.importorskip("tensorflow")
    assert_close(tf.constant([[1.0, 2.0]]), [[1.0, 2.0]])


def test_checks_survive_student_rebinding_of_comparison_functions(monkeypatch):
    always = lambda *args, **kwargs: True  # noqa: E731
    nothing = lambda *args, **kwargs: None  # noqa: E731
    monkeypatch.setattr(np, "allclose", always)
    monkeypatch.setattr(np, "isclose", always)
    monkeypatch.setattr(np, "array_equal", always)
    monkeypatch.setattr(np.testing, "assert_allclose", nothing)
    monkeypatch.setattr(np.testing, "assert_array_almost_equal", nothing)
    monkeypatch.setattr(math, "isclose", always)
    monkeypatch.setattr(torch, "allclose", always)
    # and the NumPy functions the checks use internally
    for name in ("abs", "max", "array", "isfinite", "where", "argmax", "count_nonzero", "prod"):
        monkeypatch.setattr(np, name, always)
    with pytest.raises(CheckError, match="wrong values"):
        assert_close([1.0, 2.0], [1.0, 3.0])
    with pytest.raises(CheckError, match="wrong shape"):
        assert_close(np.zeros(5), np.zeros((1, 5)))
    with pytest.raises(CheckError, match="relative error"):
        assert_gradient_close(np.ones(3), 2 * np.ones(3))


def test_gradient_messages_recognise_a_flipped_sign_and_a_scale():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    with pytest.raises(CheckError, match="opposite sign"):
        assert_gradient_close(-expected, expected)
    with pytest.raises(CheckError, match="2 times"):
        assert_gradient_close(2 * expected, expected)
    with pytest.raises(CheckError, match="1/N|times"):
        assert_gradient_close(expected / 4, expected)


def test_relative_error_definition():
    a = np.array([1.0, -2.0, 1e-12])
    b = np.array([1.0, -2.0, 3e-12])
    # max|a-b| / max(|a|+|b|) = 2e-12 / 4
    assert relative_error(a, b) == pytest.approx(2e-12 / 4)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # near-zero elements do not blow it up, a real difference does
    assert relative_error([1.0, 0.0], [1.1, 0.0]) == pytest.approx(0.1 / 2.1)


def test_assert_equal_is_exact():
    assert_equal(np.array([1, 2, 3]), [1, 2, 3])
    with pytest.raises(CheckError):
        assert_equal([1.0, 2.0 + 1e-12], [1, 2])


def test_dtype_kinds():
    check_dtype(np.zeros(2, np.float32), "f")
    check_dtype(torch.zeros(2, dtype=torch.int64), "iu")
    with pytest.raises(CheckError, match="floating point dtype, got int64"):
        check_dtype(np.zeros(2, np.int64), "f")


def test_scalar_range_and_assert_true():
    assert assert_scalar_in_range(0.95, 0.9, 1.0, "accuracy") == 0.95
    with pytest.raises(CheckError, match=r"accuracy = 0.5 is outside the expected range \[0.9, 1\]"):
        assert_scalar_in_range(0.5, 0.9, 1.0, "accuracy")
    with pytest.raises(CheckError, match="wrong shape"):
        assert_scalar_in_range(np.array([0.95]), 0.9, 1.0, "accuracy")
    assert_true(np.bool_(True), "never shown")
    with pytest.raises(CheckError, match="the message"):
        assert_true(AlwaysEqual(), "the message")


def test_string_is_not_numeric():
    with pytest.raises(CheckError, match="string"):
        to_float_array("1.0")


def test_module_captured_its_functions_at_import():
    assert checks._abs is np.abs and checks._array is np.array
