"""dlcourse.seeding: one call makes random, NumPy, torch and TensorFlow/Keras repeatable."""

import random

import numpy as np
import torch

from dlcourse import seed_everything


def draw():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def test_same_seed_same_draws_other_seed_other_draws():
    seed_everything(3)
    first = draw()
    seed_everything(3)
    assert draw() == first
    seed_everything(4)
    assert draw() != first


def test_returns_a_seeded_generator():
    assert seed_everything(5).normal() == np.random.default_rng(5).normal()


def test_tensorflow_and_keras_are_seeded_when_imported():
    import keras
    import tensorflow as tf

    def keras_draw():
        layer = keras.layers.Dense(3)
        layer.build((None, 2))
        return float(tf.random.uniform(())), layer.kernel.numpy().copy()

    seed_everything(11)
    a_scalar, a_kernel = keras_draw()
    seed_everything(11)
    b_scalar, b_kernel = keras_draw()
    assert a_scalar == b_scalar
    np.testing.assert_array_equal(a_kernel, b_kernel)
