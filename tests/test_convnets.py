"""dlcourse/convnets.py: the checks practical 5's test cells apply to a student's Keras model (here on small
real models; the notebook's own runs are in tests/test_05_keras_convnets.py)."""

import pytest

from dlcourse.checks import CheckError
from dlcourse.convnets import check_classifier, declared_input_shape, input_shape_contradiction


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def convnet(keras, *first):
    """A small compiled MNIST convnet; ``first``: the layers before its convolution (e.g. a keras.Input)."""
    layers = keras.layers
    model = keras.Sequential([*first, layers.Conv2D(4, kernel_size=5, activation="relu"),
                              layers.MaxPooling2D(pool_size=2), layers.Flatten(),
                              layers.Dense(8, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("declared, contradicts", [
    ((28, 28, 1), False), ((28, 28), False), ((None, None, 1), False), ((None, 28, 1), False),
    ((29, 28, 1), True), ((28, 29, 1), True), ((None, 27, 1), True), ((784,), True), ((28, 28, 3), True)])
def test_input_shape_contradiction_only_for_a_size_that_differs(declared, contradicts):
    assert input_shape_contradiction(declared, (28, 28, 1)) is contradicts, (
        f"declared {declared} against images (28, 28, 1): expected contradiction={contradicts}")


def test_a_model_declaring_29_rows_fails_though_keras_runs_it_on_28(keras):
    # Conv2D(5) then pooling by 2 gives 12 x 12 from 28 x 28 and from 29 x 28 alike: the model runs on the
    # images, so only the declared shape shows the mistake.
    model = convnet(keras, keras.Input(shape=(29, 28, 1)))
    with pytest.raises(CheckError, match=r"declares inputs of shape \(N, 29, 28, 1\).*keras.Input\(shape=\(28, 28, 1\)\)"):
        check_classifier(model, "build_convnet()")


@pytest.mark.parametrize("declares", [True, False])
def test_correct_ways_to_declare_the_input_pass(keras, declares):
    model = convnet(keras, *([keras.Input(shape=(28, 28, 1))] if declares else []))
    kinds = check_classifier(model, "build_convnet()")
    assert "Conv2D" in kinds and kinds[-1] == "Dense", kinds


def test_declared_input_shape_of_an_undeclared_model_is_none(keras):
    assert declared_input_shape(convnet(keras)) is None, "a Sequential without keras.Input declares nothing yet"
    assert declared_input_shape(convnet(keras, keras.Input(shape=(28, 28, 1)))) == (28, 28, 1)
