"""Checks of Keras models for practical 05_keras_convnets (structure, outputs, loss, accuracy).

Nothing here builds or trains a model: these helpers only inspect what a student's function
returned, and raise ``CheckError`` with a message that says what is wrong. Every NumPy function
used is captured at import (the notebook imports this module in a locked cell, before student code).
"""

import numpy as _np

from dlcourse.checks import CheckError, check_shape, to_float_array

_abs = _np.abs
_argmax = _np.argmax
_log = _np.log
_maximum = _np.maximum
_mean = _np.mean
_min = _np.min
_max = _np.max
_arange = _np.arange
_count_nonzero = _np.count_nonzero
_isfinite = _np.isfinite
_float32 = _np.float32
_default_rng = _np.random.default_rng


def all_layers(model):
    """Every layer of a Keras model, nested models (Sequential inside a Model...) flattened."""
    found = []
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers") and getattr(layer, "layers", None) is not None and layer is not model:
            found.extend(all_layers(layer))
        else:
            found.append(layer)
    return found


def layer_kinds(model):
    """The class names of every layer of a model, in order (nested models flattened)."""
    return [type(layer).__name__ for layer in all_layers(model)]


def check_keras_model(model, name):
    """Fail unless ``model`` is a compiled ``keras.Model``; return it."""
    import keras

    if model is None:
        raise CheckError(f"{name} returned None: the function still returns the stub's None")
    if not isinstance(model, keras.Model):
        raise CheckError(f"{name} should return a keras.Model, got {type(model).__name__}")
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise CheckError(f"{name} returned a model that is not compiled: call model.compile(optimizer=..., "
                         "loss=..., metrics=[...]) before returning it")
    return model


def model_outputs(model, inputs, name):
    """Call ``model`` on a NumPy batch and return its output as a float64 array (a clear message if it fails)."""
    try:
        outputs = model(inputs, training=False)
    except Exception as exc:  # noqa: BLE001 - any failure is reported to the student
        raise CheckError(f"{name} fails on a batch of shape {tuple(inputs.shape)}: "
                         f"{type(exc).__name__}: {str(exc)[:300]}") from None
    if isinstance(outputs, (list, tuple)):
        raise CheckError(f"{name} should have one output, it has {len(outputs)}")
    return to_float_array(outputs, f"{name}'s output")


def check_probabilities(probabilities, name):
    """Fail unless every row of ``probabilities`` is a probability vector (the output of a softmax)."""
    if not bool(_isfinite(probabilities).all()):
        raise CheckError(f"{name}'s outputs contain NaN or infinity")
    sums = probabilities.sum(axis=1)
    worst = float(_max(_abs(sums - 1.0)))
    smallest = float(_min(probabilities))
    if smallest < -1e-6 or worst > 1e-3:
        raise CheckError(f"{name}'s outputs are not probabilities: rows sum to values between "
                         f"{float(_min(sums)):.4g} and {float(_max(sums)):.4g}, smallest entry {smallest:.4g}; "
                         "the output layer needs activation='softmax' (10 classes, rows summing to 1)")


def declared_input_shape(model):
    """The shape of the one input a Keras model declares, batch dimension dropped (None for a dimension of
    any size), or None when it declares none yet (a Sequential without ``keras.Input``, a subclassed model)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1:
        return None
    return tuple(inputs[0].shape)[1:]


def input_shape_contradiction(declared, expected):
    """True when a declared input shape cannot be the expected one: a known size differs. Axes of size 1
    are ignored ((28, 28) declares the same images as (28, 28, 1)); None matches any size."""
    if None in declared:
        return len(declared) == len(expected) and any(d is not None and d != e for d, e in zip(declared, expected))
    return [d for d in declared if d != 1] != [e for e in expected if e != 1]


def check_classifier(model, name, n_classes=10, input_shape=(28, 28, 1), seed=0):
    """Check a compiled MNIST classifier: input and output shapes, softmax outputs, sparse cross-entropy loss.

    Inputs:
    - model: what the student's builder returned; name: e.g. "build_mlp()".
    Returns:
    - the class names of its layers (nested models flattened).
    """
    check_keras_model(model, name)
    declared = declared_input_shape(model)
    if declared is not None and input_shape_contradiction(declared, tuple(input_shape)):
        shown = ", ".join(["N"] + [str(d) for d in declared])
        raise CheckError(f"{name} declares inputs of shape ({shown}), but the images are "
                         f"(N, {', '.join(str(d) for d in input_shape)}): declare "
                         f"keras.Input(shape={tuple(input_shape)}) (Keras may still run such a model on the "
                         "images, by accident of the layers' sizes)")
    rng = _default_rng(seed)
    batch = rng.uniform(0, 1, size=(5,) + tuple(input_shape)).astype(_float32)
    probabilities = check_shape(model_outputs(model, batch, name), (5, n_classes),
                                f"{name}'s output on a batch of 5 images")
    check_probabilities(probabilities, name)
    labels = rng.integers(0, n_classes, size=5)
    try:
        scores = model.evaluate(batch, labels, verbose=0, return_dict=True)
    except Exception as exc:  # noqa: BLE001
        raise CheckError(f"{name}.evaluate(images, integer labels) fails: {type(exc).__name__}: "
                         f"{str(exc)[:300]}; the labels are integers 0-9: compile with "
                         "loss='sparse_categorical_crossentropy'") from None
    expected_loss = float(_mean(-_log(_maximum(probabilities[_arange(5), labels], 1e-7))))
    loss = float(scores.get("loss", float("nan")))
    if not abs(loss - expected_loss) <= 1e-3 + 1e-3 * abs(expected_loss):
        raise CheckError(f"{name}'s compiled loss is {loss:.5g} on a test batch, the cross-entropy of its "
                         f"outputs with the integer labels is {expected_loss:.5g}: compile with "
                         "loss='sparse_categorical_crossentropy' (and no regularisation for this check)")
    if not any("acc" in key for key in scores):
        raise CheckError(f"{name} is compiled without an accuracy metric (evaluate returns {sorted(scores)}): "
                         "compile with metrics=['accuracy'] so the learning curves have it")
    return layer_kinds(model)


def count_parameters(model):
    """The number of trainable scalars of a Keras model."""
    return int(sum(int(_np.prod(weight.shape)) for weight in model.trainable_weights))


def hidden_activations(model):
    """How many nonlinear activations a model applies before its last layer (Dense activations,
    Activation/ReLU-like layers, Conv2D activations)."""
    layers = all_layers(model)
    count = 0
    for layer in layers[:-1]:
        activation = getattr(layer, "activation", None)
        activation_name = getattr(activation, "__name__", str(activation)) if activation is not None else ""
        if type(layer).__name__ in ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"):
            if type(layer).__name__ != "Activation" or activation_name != "linear":
                count += 1
        elif activation is not None and activation_name not in ("linear", "None"):
            count += 1
    return count


def accuracy(model, images, labels, name, batch_size=1000):
    """The classification accuracy of ``model`` on ``images`` (argmax of its outputs), as a float."""
    outputs = []
    for start in range(0, len(images), batch_size):
        outputs.append(model_outputs(model, images[start:start + batch_size], name))
    probabilities = _np.concatenate(outputs)
    check_shape(probabilities, (len(images), 10), f"{name}'s outputs")
    if not bool(_isfinite(probabilities).all()):
        raise CheckError(f"{name}'s outputs contain NaN or infinity (did training diverge?)")
    predictions = _argmax(probabilities, axis=1)
    return float(_count_nonzero(predictions == labels)) / len(labels)


__all__ = ["all_layers", "layer_kinds", "check_keras_model", "model_outputs", "check_probabilities",
           "check_classifier", "count_parameters", "hidden_activations", "accuracy"]
