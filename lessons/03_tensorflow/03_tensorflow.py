# %% [markdown]
# # Practical 3: TensorFlow, from static graphs to Keras
#
# TensorFlow started (version 1) as a library of **static computational graphs**: you first
# *declare* a graph of operations on symbolic placeholders, then *use* it, by running parts of it in a
# `Session` that feeds the placeholders with numbers. TensorFlow 2 runs operations **eagerly** (each
# line computes at once, like NumPy), records them on a `tf.GradientTape` to differentiate them, and
# turns Python functions back into graphs with `tf.function`. Keras sits on top of both.
#
# This practical has four parts:
#
# - **A.** the static graph: placeholders, a `Session`, `tf.gradients`; then the same in TF2;
# - **B.** a multilayer perceptron built from low-level operations only, trained on MNIST;
# - **C.** a Keras classifier of the "ocean proximity" of California districts, logged for TensorBoard;
# - **D.** review questions.
#
# About the TF1 API in TensorFlow 2: the old functions live in `tf.compat.v1`. Do **not** call
# `tf.compat.v1.disable_eager_execution()`: it switches the whole process to graph mode and breaks
# Keras 3 in part C. Build every static graph in its own `tf.Graph`:
#
# ```python
# graph = tf.Graph()
# with graph.as_default():          # the ops declared here go into `graph`
#     a = tf.compat.v1.placeholder(tf.float32, shape=(), name="a")
#     ...
# with tf.compat.v1.Session(graph=graph) as session:
#     value = session.run(tensor, feed_dict={a: 4.0})
# ```
# %% locked id=setup
# The course's checks are imported first, before any student code, so they keep their own copies of NumPy's functions.
from dlcourse.checks import (assert_close, assert_equal, assert_gradient_close, assert_true, check_shape,
                             relative_error, CheckError, to_float_array)
from dlcourse.gradcheck import numerical_gradient
from dlcourse.mlp_checks import graded_with
from dlcourse.data import load_mnist, load_housing
from dlcourse.plotting import plot_learning_curves
from dlcourse.tf_tools import new_run_dir, plot_confusion_matrix, read_graphs, read_scalars, scalar_logger
from dlcourse import seed_everything
import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
import keras
tf.get_logger().setLevel("ERROR")  # keep TensorFlow's Python warnings out of the outputs
seed_everything(0)
print("TensorFlow", tf.__version__, "- Keras", keras.__version__, "- eager by default:", tf.executing_eagerly())
# %% [markdown]
# ## Part A. The static graph
#
# ### A.1 Declare, then run: a + b = 9
#
# Write `static_graph_sum(a, b)`: in a new `tf.Graph`, declare two scalar `float32` placeholders and
# their sum; then open a `tf.compat.v1.Session` on that graph and run the sum, feeding `a` and `b`.
# Return the number that `session.run` gives and the graph itself (the tests run your graph again with
# other inputs: a sum computed eagerly, with no placeholder, would not be a graph at all).
# %% solution id=static_graph_sum
def static_graph_sum(a, b):
    """Compute a + b with a static TensorFlow graph.

    Inputs:
    - a, b: two Python floats.
    Returns:
    - value: a + b, the number returned by session.run (a float or NumPy scalar, not a tensor)
    - graph: the tf.Graph holding the two float32 placeholders and their sum
    """
    value, graph = None, None
    ### BEGIN SOLUTION
    graph = tf.Graph()
    with graph.as_default():
        a_in = tf.compat.v1.placeholder(tf.float32, shape=(), name="a")
        b_in = tf.compat.v1.placeholder(tf.float32, shape=(), name="b")
        total = tf.add(a_in, b_in, name="sum")
    with tf.compat.v1.Session(graph=graph) as session:
        value = session.run(total, feed_dict={a_in: a, b_in: b})
    ### END SOLUTION
    return value, graph
# %% tests id=static_graph_sum_tests points=2
# Checks: static_graph_sum returns a + b from a Session, and a tf.Graph with two placeholders and their sum (run again on other inputs)
def _check_graph_sum(a, b):
    result = static_graph_sum(a, b)
    assert_true(isinstance(result, tuple) and len(result) == 2,
                "static_graph_sum should return a tuple (value, graph)")
    value, graph = result
    assert_true(not tf.is_tensor(value),
                f"the value is a TensorFlow tensor ({type(value).__name__}): return the number that "
                "session.run gives; an eager tensor means the sum was computed eagerly, not by a graph")
    assert_close(value, a + b, f"static_graph_sum({a}, {b})'s value", rtol=1e-6)
    assert_true(isinstance(graph, tf.Graph),
                f"the second value returned should be the tf.Graph, got {type(graph).__name__}")
    placeholders = [op for op in graph.get_operations() if op.type == "Placeholder"]
    assert_true(len(placeholders) == 2,
                f"the graph holds {len(placeholders)} placeholder(s), expected 2 (one for a, one for b): "
                "declare them with tf.compat.v1.placeholder inside `with graph.as_default():`; a sum "
                "computed eagerly leaves no placeholder in the graph")
    feeds = {op.outputs[0].ref() for op in placeholders}
    sums = [op for op in graph.get_operations()
            if op.type in ("Add", "AddV2", "AddN") and {t.ref() for t in op.inputs} == feeds]
    assert_true(len(sums) >= 1, "the graph has no Add op whose inputs are the two placeholders: "
                                "declare their sum in the graph")
    with tf.compat.v1.Session(graph=graph) as session:
        again = session.run(sums[0].outputs[0], {placeholders[0].outputs[0]: 2.5,
                                                 placeholders[1].outputs[0]: -7.0})
    assert_close(again, -4.5, "the graph's sum run again with the inputs 2.5 and -7")

_check_graph_sum(4.0, 5.0)  # a + b = 9
print("static_graph_sum: visible checks passed")
### BEGIN HIDDEN TESTS
_check_graph_sum(-1.25, 3.5)
_check_graph_sum(1000.0, 0.5)
print("static_graph_sum: hidden checks passed (two other sums, each graph run again)")
### END HIDDEN TESTS
# %% [markdown]
# ### A.2 Logistic regression with `tf.gradients`
#
# Practical 1 drew the graph of a logistic unit, `out = sigmoid(w . x + b)`, and back-propagated
# through it by hand: with `s = out`,
# `d out/dx = s (1 - s) w`, `d out/dw = s (1 - s) x`, `d out/db = s (1 - s)`.
#
# Build the same graph in TensorFlow: placeholders for `x`, `w` and `b` (use `tf.float64`, the tests
# compare with finite differences), the output, and its gradients with
# `tf.gradients(out, [x, w, b])`: TensorFlow adds the backward ops to the graph for you. Run the
# output and the three gradients in one `session.run`.
# %% solution id=logistic_regression_tf
def logistic_regression_tf(x, w, b):
    """A logistic unit and its gradients, from a static graph and tf.gradients.

    Inputs:
    - x: (D,) float array, the input; w: (D,) float array, the weights; b: a float, the bias
    Returns:
    - out: a float, sigmoid(w . x + b)
    - dx: (D,) d out / d x; dw: (D,) d out / d w; db: a float, d out / d b
    """
    out, dx, dw, db = None, None, None, None
    ### BEGIN SOLUTION
    D = len(x)
    graph = tf.Graph()
    with graph.as_default():
        x_in = tf.compat.v1.placeholder(tf.float64, shape=(D,), name="x")
        w_in = tf.compat.v1.placeholder(tf.float64, shape=(D,), name="w")
        b_in = tf.compat.v1.placeholder(tf.float64, shape=(), name="b")
        z = tf.reduce_sum(w_in * x_in) + b_in  # (D,) * (D,) -> (D,) -> ()
        output = tf.sigmoid(z)
        gradients = tf.gradients(output, [x_in, w_in, b_in])
    with tf.compat.v1.Session(graph=graph) as session:
        out, dx, dw, db = session.run([output] + gradients, feed_dict={x_in: x, w_in: w, b_in: b})
    ### END SOLUTION
    return out, dx, dw, db
# %% tests id=logistic_regression_tf_tests points=3
# Checks: logistic_regression_tf's output, and its gradients against the analytic formulas and centred finite differences
def _check_logistic(x, w, b):
    result = logistic_regression_tf(x, w, b)
    assert_true(isinstance(result, tuple) and len(result) == 4,
                "logistic_regression_tf should return a tuple (out, dx, dw, db)")
    out, dx, dw, db = result
    s = 1.0 / (1.0 + np.exp(-(float(w @ x) + b)))
    assert_close(out, s, "out = sigmoid(w . x + b)", rtol=1e-5)
    # analytic gradients, then finite differences of the output in float64
    assert_gradient_close(dx, s * (1 - s) * w, "dx (d out / d x)", tol=1e-5)
    assert_gradient_close(dw, s * (1 - s) * x, "dw (d out / d w)", tol=1e-5)
    assert_gradient_close(db, s * (1 - s), "db (d out / d b)", tol=1e-5)
    unit = lambda xx, ww, bb: 1.0 / (1.0 + np.exp(-(float(ww @ xx) + float(bb))))
    x64, w64, b64 = np.array(x, dtype=float), np.array(w, dtype=float), np.array(b, dtype=float)
    assert_gradient_close(dx, numerical_gradient(lambda v: unit(v, w64, b64), x64), "dx vs finite differences", 1e-5)
    assert_gradient_close(dw, numerical_gradient(lambda v: unit(x64, v, b64), w64), "dw vs finite differences", 1e-5)
    assert_gradient_close(db, numerical_gradient(lambda v: unit(x64, w64, v), b64), "db vs finite differences", 1e-5)

_check_logistic(np.array([-1.0, -2.0]), np.array([2.0, -3.0]), -3.0)  # practical 1's example: out = sigmoid(1) = 0.731
print("logistic_regression_tf: visible checks passed")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(31)
_check_logistic(_rng.normal(size=5), _rng.normal(size=5), 0.3)
_check_logistic(np.array([0.5, -1.0, 2.0, 1.5]), np.array([1.0, -0.5, 0.25, -2.0]), 1.5)
print("logistic_regression_tf: hidden checks passed (D = 5 and D = 4)")
### END HIDDEN TESTS
# %% [markdown]
# ### A.3 The same in TensorFlow 2: eager execution, `GradientTape`, `tf.function`
#
# In TF2 the same computation is ordinary Python: operations run at once, a `tf.GradientTape`
# records them, and `tape.gradient` back-propagates. Decorating the function with `tf.function`
# traces it **once** into a graph (the static graph comes back, built for you) and runs that graph on
# later calls. Run the cell and compare with your static graph.
# %% id=logistic_tape_demo
@tf.function
def logistic_regression_tape(x, w, b):
    with tf.GradientTape() as tape:
        tape.watch([x, w, b])  # constants are not watched by default
        out = tf.sigmoid(tf.tensordot(w, x, axes=1) + b)
    dx, dw, db = tape.gradient(out, [x, w, b])
    return out, dx, dw, db

x_demo, w_demo, b_demo = np.array([-1.0, -2.0]), np.array([2.0, -3.0]), -3.0
eager_results = logistic_regression_tape(tf.constant(x_demo), tf.constant(w_demo), tf.constant(b_demo, tf.float64))
static_results = logistic_regression_tf(x_demo, w_demo, b_demo)
for name, eager, static in zip(["out", "dx", "dw", "db"], eager_results, static_results):
    print(f"{name}: tape {np.round(eager.numpy(), 6)}   static graph {np.round(np.asarray(static), 6)}")
traced = logistic_regression_tape.get_concrete_function(tf.constant(x_demo), tf.constant(w_demo),
                                                        tf.constant(b_demo, tf.float64))
print(f"tf.function traced a graph of {len(traced.graph.get_operations())} ops:",
      sorted({op.type for op in traced.graph.get_operations()}))
# %% [markdown]
# ### A.4 Eager optimisation: the lecture's `opt.minimize`
#
# The lecture trains a tiny Keras model eagerly with
# `opt.minimize(loss, var_list=model.trainable_variables)`, where `loss` is a Python function of no
# argument computing the loss from the current variables. One call of `minimize` evaluates `loss()`
# under a `tf.GradientTape`, differentiates it with respect to the variables of `var_list` (and only
# those), and lets the optimizer update them (`optimizer.apply_gradients(zip(gradients, var_list))`).
# Keras 3 optimizers no longer have `minimize`: write it. The optimizer keeps its state between calls
# (Adam's moment estimates), so use the optimizer you are given, never a new one.
# %% solution id=minimize
def minimize(optimizer, loss, var_list):
    """One step of the TF2 `optimizer.minimize(loss, var_list)`, written with a GradientTape.

    Inputs:
    - optimizer: a keras.optimizers.Optimizer (SGD, Adam, ...), whose state persists between calls
    - loss: a function of no argument returning the () loss tensor computed from the variables
    - var_list: list of tf.Variable, the variables to update (no other variable may change)
    Returns:
    - value: a float, the loss computed before the update
    """
    value = None
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        loss_value = loss()
    gradients = tape.gradient(loss_value, var_list)
    optimizer.apply_gradients(zip(gradients, var_list))
    value = float(loss_value)
    ### END SOLUTION
    return value
# %% tests id=minimize_tests points=2
# Checks: minimize's SGD step (the loss before the step, w - rate * gradient, only var_list changes); hidden: two Adam steps with the optimizer's state kept, against Keras's own apply_gradients
def _quadratic_problem(seed):
    rng = np.random.default_rng(seed)
    x, t = rng.normal(size=(6, 3)), rng.normal(size=6)
    w0, b0, c0 = rng.normal(size=3), 0.5, 1.25
    return x, t, w0, b0, c0

def _quadratic_loss(x, t, w, b, c):
    return np.mean((x @ w + b - t) ** 2) + 0.1 * c ** 2  # c is not in var_list: it must not move

def _tf_problem(x, t, w0, b0, c0):
    w, b, c = tf.Variable(w0), tf.Variable(b0, dtype=tf.float64), tf.Variable(c0, dtype=tf.float64)
    loss = lambda: tf.reduce_mean((tf.linalg.matvec(tf.constant(x), w) + b - tf.constant(t)) ** 2) + 0.1 * c ** 2
    return w, b, c, loss

def _check_sgd_step(seed, rate):
    x, t, w0, b0, c0 = _quadratic_problem(seed)
    w, b, c, loss = _tf_problem(x, t, w0, b0, c0)
    value = minimize(keras.optimizers.SGD(learning_rate=rate), loss, [w, b])
    assert_close(to_float_array(value, "minimize's returned loss"), _quadratic_loss(x, t, w0, b0, c0),
                 "the loss returned by minimize (computed before the update)", rtol=1e-9)
    residual = x @ w0 + b0 - t  # (6,)
    grad_w, grad_b = 2 * x.T @ residual / len(t), 2 * residual.mean()
    assert_close(c.numpy(), c0, "a variable that the loss reads but that is not in var_list (it must not change)")
    # tolerances: Keras stores the learning rate in float32
    assert_close(w.numpy(), w0 - rate * grad_w, f"w after one SGD step at the rate {rate} (w - rate * d loss / d w)",
                 rtol=1e-6, atol=1e-8)
    assert_close(b.numpy(), b0 - rate * grad_b, f"b after one SGD step at the rate {rate}", rtol=1e-6, atol=1e-8)

_check_sgd_step(0, 0.1)
print("minimize: visible checks passed (one SGD step on a least-squares loss)")
### BEGIN HIDDEN TESTS
_check_sgd_step(1, 0.03)
_x, _t, _w0, _b0, _c0 = _quadratic_problem(2)
_w, _b, _c, _loss = _tf_problem(_x, _t, _w0, _b0, _c0)
_w_ref, _b_ref, _, _loss_ref = _tf_problem(_x, _t, _w0, _b0, _c0)
_adam, _adam_ref = keras.optimizers.Adam(learning_rate=0.05), keras.optimizers.Adam(learning_rate=0.05)
for _step in range(3):
    with tf.GradientTape() as _tape:
        _expected = _loss_ref()
    _adam_ref.apply_gradients(zip(_tape.gradient(_expected, [_w_ref, _b_ref]), [_w_ref, _b_ref]))
    _value = minimize(_adam, _loss, [_w, _b])
    assert_close(to_float_array(_value, "minimize's returned loss"), float(_expected),
                 f"the loss returned by minimize at Adam step {_step + 1}", rtol=1e-9)
    assert_close(_w.numpy(), _w_ref.numpy(), f"w after {_step + 1} Adam step(s) with the same optimizer (its moment "
                 "estimates persist between calls: use the optimizer given, apply_gradients once per call)",
                 rtol=1e-6, atol=1e-8)
    assert_close(_b.numpy(), _b_ref.numpy(), f"b after {_step + 1} Adam step(s)", rtol=1e-6, atol=1e-8)
print("minimize: hidden checks passed (another SGD step, three Adam steps)")
### END HIDDEN TESTS
# %% [markdown]
# The lecture's example: a `Dense(3)` layer whose 3 outputs are summed, trained eagerly to map the
# input `[2, 3, 7]` to 20 with the squared error and SGD at the rate 0.001. Watch the output approach 20.
# %% id=lecture_minimize
seed_everything(0)
lecture_model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(3),
                                  keras.layers.Lambda(lambda h: tf.reduce_sum(h, axis=1))])
lecture_input, gold_output = tf.constant([[2.0, 3.0, 7.0]]), 20.0
lecture_loss = lambda: tf.reduce_mean(tf.square(lecture_model(lecture_input) - gold_output))
sgd = keras.optimizers.SGD(learning_rate=1e-3)
outputs = []
for epoch in range(10):
    minimize(sgd, lecture_loss, lecture_model.trainable_variables)
    outputs.append(float(lecture_model(lecture_input)[0]))
print("model(input) after each step:", np.round(outputs, 4))
# %% [markdown]
# ## Part B. A multilayer perceptron from low-level operations
#
# The network has `D` inputs, `H` hidden units and `K` outputs, all sigmoid:
# `hidden = sigmoid(x W1 + b1)`, `output = sigmoid(hidden W2 + b2)`, trained to bring the output close
# to the one-hot label `y` with the squared error averaged over the minibatch:
#
# `loss = (1/N) sum_n sum_k (output[n, k] - y[n, k])^2`.
#
# Build it from low-level operations only: `tf.compat.v1.placeholder`, `tf.Variable`, `tf.matmul`,
# `tf.sigmoid`, `tf.reduce_*`, and a gradient-descent step, either
# `tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(loss)` or your own
# `variable.assign_sub(learning_rate * gradient)` updates with `tf.gradients`. **No Keras layers**: the
# tests read the operations of your graph.
#
# Initial weights: `W1` and `W2` drawn from a normal distribution with standard deviation
# `1 / sqrt(fan_in)` by `np.random.default_rng(seed)`, biases at zero (symmetric weights, such as all
# zeros, would make every hidden unit learn the same thing).
#
# The optional variant `loss="cross_entropy"` replaces the output sigmoid by a softmax and the
# squared error by the cross-entropy `-(1/N) sum_n sum_k y[n, k] log softmax(logits)[n, k]`; compute it
# from the logits (`tf.nn.softmax_cross_entropy_with_logits`), never as `log(softmax(...))`, which
# overflows for large logits.
# %% id=load_mnist
mnist = load_mnist(one_hot=True)
print("training digits", mnist.x_train.shape, mnist.y_train.shape, "- test digits", mnist.x_test.shape)
# %% solution id=build_mlp_graph
def build_mlp_graph(D, H, K, loss="mse", seed=0):
    """Declare a D-H-K sigmoid MLP, its loss and one gradient-descent step in a new tf.Graph.

    Inputs:
    - D, H, K: the numbers of inputs, hidden units and outputs
    - loss: "mse" (sigmoid outputs, squared error) or "cross_entropy" (softmax outputs)
    - seed: the seed of np.random.default_rng drawing the initial weights
    Returns:
    - net: a dict with the keys
      "graph": the tf.Graph holding everything below
      "x": (None, D) float32 placeholder, the inputs; "y": (None, K) float32 placeholder, one-hot targets
      "learning_rate": () float32 placeholder, the step size fed at every step
      "W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,): the tf.Variables
      "output": (None, K) tensor, sigmoid outputs ("mse") or softmax probabilities ("cross_entropy")
      "loss": () tensor, the minibatch's mean loss
      "train_op": the op making one gradient-descent step on the loss
      "init": the op initialising the variables
    """
    net = None
    ### BEGIN SOLUTION
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {loss!r}")
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, shape=(None, D), name="x")
        y = tf.compat.v1.placeholder(tf.float32, shape=(None, K), name="y")
        learning_rate = tf.compat.v1.placeholder(tf.float32, shape=(), name="learning_rate")
        W1 = tf.Variable(rng.normal(0.0, 1.0 / np.sqrt(D), (D, H)).astype(np.float32), name="W1")
        b1 = tf.Variable(np.zeros(H, np.float32), name="b1")
        W2 = tf.Variable(rng.normal(0.0, 1.0 / np.sqrt(H), (H, K)).astype(np.float32), name="W2")
        b2 = tf.Variable(np.zeros(K, np.float32), name="b2")
        hidden = tf.sigmoid(tf.matmul(x, W1) + b1)  # (N, D) @ (D, H) + (H,) -> (N, H)
        logits = tf.matmul(hidden, W2) + b2  # (N, H) @ (H, K) + (K,) -> (N, K)
        if loss == "mse":
            output = tf.sigmoid(logits)
            loss_value = tf.reduce_mean(tf.reduce_sum(tf.square(output - y), axis=1))  # (N, K) -> (N,) -> ()
        else:
            output = tf.nn.softmax(logits)
            loss_value = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_op = tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(loss_value)
        init = tf.compat.v1.global_variables_initializer()
    net = {"graph": graph, "x": x, "y": y, "learning_rate": learning_rate, "W1": W1, "b1": b1, "W2": W2,
           "b2": b2, "output": output, "loss": loss_value, "train_op": train_op, "init": init}
    ### END SOLUTION
    return net
# %% tests id=build_mlp_graph_tests points=3
# Checks: build_mlp_graph's dict, shapes, low-level ops only (no Keras layers), output and MSE loss values; hidden: one training step is a gradient-descent step, and the initial weights' scale
### BEGIN HIDDEN TESTS
# The course's own build_mlp_graph, defined before any student code of this cell runs: the tests of train_mlp
# run with it (graded_with), so that a bug in build_mlp_graph costs only build_mlp_graph's points.
def _ref_build_mlp_graph(D, H, K, loss="mse", seed=0):
    _rng = np.random.default_rng(seed)
    _graph = tf.Graph()
    with _graph.as_default():
        _x = tf.compat.v1.placeholder(tf.float32, shape=(None, D))
        _y = tf.compat.v1.placeholder(tf.float32, shape=(None, K))
        _rate = tf.compat.v1.placeholder(tf.float32, shape=())
        _W1 = tf.Variable(_rng.normal(0.0, 1.0 / np.sqrt(D), (D, H)).astype(np.float32))
        _b1 = tf.Variable(np.zeros(H, np.float32))
        _W2 = tf.Variable(_rng.normal(0.0, 1.0 / np.sqrt(H), (H, K)).astype(np.float32))
        _b2 = tf.Variable(np.zeros(K, np.float32))
        _logits = tf.matmul(tf.sigmoid(tf.matmul(_x, _W1) + _b1), _W2) + _b2
        if loss == "mse":
            _output = tf.sigmoid(_logits)
            _loss = tf.reduce_mean(tf.reduce_sum(tf.square(_output - _y), axis=1))
        else:
            _output = tf.nn.softmax(_logits)
            _loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=_y, logits=_logits))
        _train_op = tf.compat.v1.train.GradientDescentOptimizer(_rate).minimize(_loss)
        _init = tf.compat.v1.global_variables_initializer()
    return {"graph": _graph, "x": _x, "y": _y, "learning_rate": _rate, "W1": _W1, "b1": _b1, "W2": _W2, "b2": _b2,
            "output": _output, "loss": _loss, "train_op": _train_op, "init": _init}


_mlp_references = {"build_mlp_graph": _ref_build_mlp_graph}
### END HIDDEN TESTS
_MLP_KEYS = ("graph", "x", "y", "learning_rate", "W1", "b1", "W2", "b2", "output", "loss", "train_op", "init")
_MLP_PARAMS = ("W1", "b1", "W2", "b2")

def _check_mlp_structure(net, D, H, K):
    assert_true(isinstance(net, dict), f"build_mlp_graph should return a dict, got {type(net).__name__}")
    missing = [key for key in _MLP_KEYS if key not in net]
    assert_true(not missing, f"the dict returned by build_mlp_graph misses the keys {missing}")
    graph = net["graph"]
    assert_true(isinstance(graph, tf.Graph), f"net['graph'] should be a tf.Graph, got {type(graph).__name__}")
    for key in ("x", "y", "learning_rate"):
        op = getattr(net[key], "op", None)
        assert_true(op is not None and op.type == "Placeholder" and op.graph is graph,
                    f"net['{key}'] should be a tf.compat.v1.placeholder of net['graph']")
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    for key in _MLP_PARAMS:
        assert_true(isinstance(net[key], tf.Variable),
                    f"net['{key}'] is a {type(net[key]).__name__}, not a tf.Variable: is it a Keras layer's "
                    "weight? Part B is built from tf.Variable, tf.matmul and tf.sigmoid, without Keras layers")
        assert_true(tuple(net[key].shape) == shapes[key],
                    f"net['{key}'] has the wrong shape: expected {shapes[key]}, got {tuple(net[key].shape)}")
    operations = graph.get_operations()
    keras_ops = [op.name for op in operations
                 if any(word in op.name.lower() for word in ("dense", "keras", "sequential"))]
    assert_true(not keras_ops, f"the graph holds Keras layer operations ({keras_ops[:3]}...): part B is built "
                               "from low-level ops only (tf.Variable, tf.matmul, tf.sigmoid), no Keras layers")
    trainable = {v.op.name for v in graph.get_collection("trainable_variables")}
    extra = sorted(trainable - {net[key].op.name for key in _MLP_PARAMS})
    assert_true(not extra, f"the graph holds trainable variables that are not W1, b1, W2, b2: {extra[:4]} (a Keras "
                           "layer creates its own kernel and bias; use tf.Variable and tf.matmul)")
    types = {op.type for op in operations}
    assert_true("MatMul" in types and "Sigmoid" in types,
                f"the graph should use tf.matmul and tf.sigmoid; its op types are {sorted(types)}")

def _mlp_numpy(params, x, y, loss):
    hidden = 1.0 / (1.0 + np.exp(-(x @ params["W1"] + params["b1"])))
    logits = hidden @ params["W2"] + params["b2"]
    if loss == "mse":
        output = 1.0 / (1.0 + np.exp(-logits))
        return output, float(np.mean(np.sum((output - y) ** 2, axis=1)))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return np.exp(log_probs), float(-np.mean(np.sum(y * log_probs, axis=1)))

def _mlp_batch(rng, N, D, K):
    return rng.normal(size=(N, D)), np.eye(K)[rng.integers(0, K, N)]

def _check_mlp_values(net, x, y, loss, scale_W2=1.0):
    with tf.compat.v1.Session(graph=net["graph"]) as session:
        session.run(net["init"])
        if scale_W2 != 1.0:
            with net["graph"].as_default():
                session.run(net["W2"].assign(net["W2"] * scale_W2))
        params = {k: v.astype(np.float64) for k, v in session.run({k: net[k] for k in _MLP_PARAMS}).items()}
        output, loss_value = session.run([net["output"], net["loss"]], {net["x"]: x, net["y"]: y})
    expected_output, expected_loss = _mlp_numpy(params, x, y, loss)
    assert_close(output, expected_output, f"net['output'] ({loss})", rtol=1e-4, atol=1e-6)
    assert_close(loss_value, expected_loss, f"net['loss'] ({loss})", rtol=1e-4, atol=1e-6)

_net = build_mlp_graph(6, 5, 3, loss="mse", seed=0)
_check_mlp_structure(_net, 6, 5, 3)
_check_mlp_values(_net, *_mlp_batch(np.random.default_rng(0), 4, 6, 3), "mse")
print("build_mlp_graph: visible checks passed")
### BEGIN HIDDEN TESTS
def _check_mlp_step(net, x, y, loss, rate=0.5):
    with tf.compat.v1.Session(graph=net["graph"]) as session:
        session.run(net["init"])
        before = {k: v.astype(np.float64) for k, v in session.run({k: net[k] for k in _MLP_PARAMS}).items()}
        session.run(net["train_op"], {net["x"]: x, net["y"]: y, net["learning_rate"]: rate})
        after = {k: v.astype(np.float64) for k, v in session.run({k: net[k] for k in _MLP_PARAMS}).items()}
    work = {k: v.copy() for k, v in before.items()}
    for key in _MLP_PARAMS:
        gradient = numerical_gradient(lambda _: _mlp_numpy(work, x, y, loss)[1], work[key])
        step = (before[key] - after[key]) / rate
        if np.max(np.abs(gradient)) > 1e-6 and relative_error(-step, gradient) <= 2e-3:
            raise CheckError(f"one train_op step on {key} moves it along +gradient of the {loss} loss: the wrong "
                             "sign (gradient descent subtracts learning_rate * gradient)")
        assert_gradient_close(step, gradient,
                              f"one train_op step on {key} divided by the learning rate (it should be the "
                              f"gradient of the {loss} loss)", tol=2e-3)

_net = build_mlp_graph(7, 4, 5, loss="mse", seed=3)
_check_mlp_structure(_net, 7, 4, 5)
_check_mlp_values(_net, *_mlp_batch(np.random.default_rng(1), 9, 7, 5), "mse")
_check_mlp_step(_net, *_mlp_batch(np.random.default_rng(2), 9, 7, 5), "mse", rate=0.5)
_check_mlp_step(_net, *_mlp_batch(np.random.default_rng(3), 6, 7, 5), "mse", rate=2.0)
_net = build_mlp_graph(400, 50, 10, loss="mse", seed=8)
with tf.compat.v1.Session(graph=_net["graph"]) as _session:
    _session.run(_net["init"])
    _start = {k: to_float_array(v, k) for k, v in _session.run({k: _net[k] for k in _MLP_PARAMS}).items()}
for _key, _fan_in, _tol in (("W1", 400, 0.1), ("W2", 50, 0.25)):
    _std = float(np.std(_start[_key]))
    assert_true(abs(_std - 1 / np.sqrt(_fan_in)) <= _tol / np.sqrt(_fan_in) and abs(float(np.mean(_start[_key]))) <= 0.2 / np.sqrt(_fan_in),
                f"the initial {_key} of a 400-50-10 net has mean {float(np.mean(_start[_key])):.4f} and standard deviation "
                f"{_std:.4f}, expected a normal draw with mean 0 and standard deviation 1 / sqrt(fan_in) = "
                f"{1 / np.sqrt(_fan_in):.4f} (all-zero or symmetric weights make every hidden unit learn the same thing)")
for _key in ("b1", "b2"):
    assert_true(bool(np.all(_start[_key] == 0)), f"the initial {_key} should be all zeros")
print("build_mlp_graph: hidden checks passed (a 7-4-5 net, two gradient-descent steps; the initial weights' scale)")
### END HIDDEN TESTS
# %% tests id=mlp_cross_entropy_tests bonus=1
# Checks: build_mlp_graph(loss="cross_entropy"): softmax outputs and cross-entropy loss; hidden: a gradient step, and a finite loss for large logits
_net = build_mlp_graph(6, 5, 3, loss="cross_entropy", seed=0)
_check_mlp_structure(_net, 6, 5, 3)
_check_mlp_values(_net, *_mlp_batch(np.random.default_rng(4), 4, 6, 3), "cross_entropy")
print("build_mlp_graph(loss='cross_entropy'): visible checks passed")
### BEGIN HIDDEN TESTS
_net = build_mlp_graph(7, 4, 5, loss="cross_entropy", seed=5)
_check_mlp_step(_net, *_mlp_batch(np.random.default_rng(5), 8, 7, 5), "cross_entropy", rate=0.5)
_check_mlp_values(_net, *_mlp_batch(np.random.default_rng(6), 8, 7, 5), "cross_entropy", scale_W2=400.0)
print("build_mlp_graph(loss='cross_entropy'): hidden checks passed (a gradient step, large logits)")
### END HIDDEN TESTS
# %% [markdown]
# ### B.2 Training
#
# Write `train_mlp`: open a Session on the net's graph, run `net["init"]`, then for every epoch
# shuffle the training set (one permutation per epoch from `np.random.default_rng(seed)`), run
# `train_op` on every minibatch (the last one may be smaller), and record the epoch's mean training
# loss, the test error (the fraction of test digits whose largest output is not the label) and the
# learning rate used. `learning_rate` is a number, or a function `epoch -> rate` (epochs count from 0),
# such as the schedules of B.3.
# %% solution id=train_mlp
def train_mlp(net, x_train, y_train, x_test, y_test, epochs, batch_size, learning_rate, seed=0):
    """Train a net made by build_mlp_graph with minibatch gradient descent.

    Inputs:
    - net: the dict of build_mlp_graph
    - x_train: (N, D), y_train: (N, K) one-hot; x_test: (M, D), y_test: (M, K) one-hot
    - epochs, batch_size: ints
    - learning_rate: a float, or a function epoch -> float (epochs counted from 0)
    - seed: the seed of np.random.default_rng shuffling the training set every epoch
    Returns:
    - history: a dict with the keys
      "loss": list of epochs floats, the mean training loss of each epoch
      "test_error": list of epochs floats in [0, 1], the test error after each epoch
      "learning_rate": list of epochs floats, the rate used in each epoch
      "params": dict "W1", "b1", "W2", "b2" -> NumPy arrays, the trained weights
    """
    history = None
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    schedule = learning_rate if callable(learning_rate) else (lambda epoch: learning_rate)
    history = {"loss": [], "test_error": [], "learning_rate": []}
    n = len(x_train)
    with tf.compat.v1.Session(graph=net["graph"]) as session:
        session.run(net["init"])
        for epoch in range(epochs):
            rate = float(schedule(epoch))
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch_size):
                batch = order[start:start + batch_size]
                _, batch_loss = session.run([net["train_op"], net["loss"]], {
                    net["x"]: x_train[batch], net["y"]: y_train[batch], net["learning_rate"]: rate})
                total += float(batch_loss) * len(batch)
            output = session.run(net["output"], {net["x"]: x_test})
            history["loss"].append(total / n)
            history["test_error"].append(float(np.mean(output.argmax(axis=1) != y_test.argmax(axis=1))))
            history["learning_rate"].append(rate)
        history["params"] = session.run({key: net[key] for key in ("W1", "b1", "W2", "b2")})
    ### END SOLUTION
    return history
# %% tests id=train_mlp_tests points=2
# Checks: train_mlp's history (lengths, rates, decreasing loss, test error of the returned weights) on three Gaussian blobs; hidden: one full-batch epoch is one gradient step (graded: with the course's build_mlp_graph)
def _blobs(rng, n, D=4, K=3):
    labels = rng.integers(0, K, n)
    centres = np.linspace(-2.0, 2.0, K)[:, None] * np.ones((K, D)) * np.array([1.0, -1.0, 0.5, 0.0])[:D]
    x = (centres[labels] + 0.5 * rng.normal(size=(n, D))).astype(np.float32)
    return x, np.eye(K, dtype=np.float32)[labels]

def _error_of(params, x, y):
    output, _ = _mlp_numpy({k: to_float_array(v, f"history['params']['{k}']") for k, v in params.items()},
                           x.astype(np.float64), y, "mse")
    return float(np.mean(output.argmax(axis=1) != y.argmax(axis=1)))

def _check_history(history, epochs, rates, D, H, K):
    assert_true(isinstance(history, dict), f"train_mlp should return a dict, got {type(history).__name__}")
    for key in ("loss", "test_error", "learning_rate", "params"):
        assert_true(key in history, f"the history misses the key {key!r}")
    for key in ("loss", "test_error", "learning_rate"):
        check_shape(history[key], (epochs,), f"history['{key}'] (one value per epoch)")
    assert_close(history["learning_rate"], rates, "history['learning_rate']")
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    for key, shape in shapes.items():
        assert_true(key in history["params"], f"history['params'] misses {key!r}")
        check_shape(history["params"][key], shape, f"history['params']['{key}']")

_x_train, _y_train = _blobs(np.random.default_rng(10), 90)
_x_test, _y_test = _blobs(np.random.default_rng(11), 40)
with graded_with(globals(), "train_mlp", ("build_mlp_graph",)):
    _net = build_mlp_graph(4, 6, 3, seed=1)
    _history = train_mlp(_net, _x_train, _y_train, _x_test, _y_test, epochs=6, batch_size=8, learning_rate=2.0, seed=0)
    _check_history(_history, 6, [2.0] * 6, 4, 6, 3)
    assert_true(_history["loss"][-1] < 0.8 * _history["loss"][0],
                f"the training loss did not go down: {np.round(_history['loss'], 4)} (is train_op run on every minibatch?)")
    assert_close(_history["test_error"][-1], _error_of(_history["params"], _x_test, _y_test),
                 "the last test error (recomputed from history['params'] on x_test)", atol=1e-9)
print("train_mlp: visible checks passed")
### BEGIN HIDDEN TESTS
with graded_with(globals(), "train_mlp", ("build_mlp_graph",)):
    _net = build_mlp_graph(4, 5, 3, seed=4)
    _x_small, _y_small = _blobs(np.random.default_rng(12), 20)
    with tf.compat.v1.Session(graph=_net["graph"]) as _session:
        _session.run(_net["init"])
        _start = {k: v.astype(np.float64) for k, v in _session.run({k: _net[k] for k in _MLP_PARAMS}).items()}
    _history = train_mlp(_net, _x_small, _y_small, _x_test, _y_test, epochs=1, batch_size=20, learning_rate=0.7, seed=5)
    _check_history(_history, 1, [0.7], 4, 5, 3)
    _work = {k: v.copy() for k, v in _start.items()}
    for _key in _MLP_PARAMS:
        _gradient = numerical_gradient(lambda _: _mlp_numpy(_work, _x_small.astype(np.float64), _y_small, "mse")[1], _work[_key])
        assert_gradient_close((_start[_key] - to_float_array(_history["params"][_key])) / 0.7, _gradient,
                              f"one full-batch epoch's change of {_key} divided by the learning rate (it should be "
                              "the gradient of the loss at the initial weights)", tol=2e-3)
    # Every value of the history is checked, whatever the order of the minibatches: with the rate 0 from epoch 1
    # on, each of epoch 1's minibatches (3 of 8 digits) sees the returned weights, so epoch 1's mean loss is their
    # loss on the whole training set, and both test errors are the fraction of test points they misclassify.
    _net = build_mlp_graph(4, 6, 3, seed=6)
    _x_24, _y_24 = _blobs(np.random.default_rng(13), 24)
    _history = train_mlp(_net, _x_24, _y_24, _x_test, _y_test, epochs=2, batch_size=8,
                         learning_rate=lambda epoch: 1.5 if epoch == 0 else 0.0, seed=7)
    _check_history(_history, 2, [1.5, 0.0], 4, 6, 3)
    _final = {k: to_float_array(v, f"history['params']['{k}']") for k, v in _history["params"].items()}
    assert_close(_history["loss"][1], _mlp_numpy(_final, _x_24.astype(np.float64), _y_24, "mse")[1],
                 "history['loss'][1], an epoch at the rate 0 (it should be the mean of its minibatch losses, i.e. the "
                 "loss of the returned weights on the 24 training points: a mean over examples, not a sum)", rtol=1e-4)
    _final_error = _error_of(_history["params"], _x_test, _y_test)
    assert_close(_history["test_error"], [_final_error, _final_error],
                 f"history['test_error'] of both epochs (the fraction in [0, 1] of the {len(_x_test)} test points "
                 "misclassified by the weights at the end of the epoch)", atol=1e-9)
print("train_mlp: hidden checks passed (one full-batch epoch is one gradient step; each epoch's mean loss and "
      "test error)")
### END HIDDEN TESTS
# %% [markdown]
# Now train the network on MNIST (784 inputs, 64 hidden units, 10 outputs) and watch the test error.
# The goal: **below 12%** after 15 epochs (over the seeds 0 to 19 the course's solution ends between 7.09%
# and 10.27%: the threshold is more than 1.7 points above its worst seed). When graded, the course's own
# `build_mlp_graph` is trained this way by your `train_mlp`. The next cell takes a few seconds.
# %% id=train_mse
seed_everything(0)
mse_net = build_mlp_graph(784, 64, 10, loss="mse", seed=0)
mse_history = train_mlp(mse_net, mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test,
                        epochs=15, batch_size=32, learning_rate=1.0, seed=0)
print("test error per epoch:", np.round(mse_history["test_error"], 4))
plot_learning_curves({"sigmoid + MSE": mse_history}, metrics=("loss", "test_error"),
                     title="Low-level TensorFlow MLP on MNIST")
plt.show()
# %% tests id=mlp_accuracy_tests points=2
# Checks: the sigmoid MLP of cell train_mse has a test error below 12%, recomputed from its trained weights on the 10,000 test digits (graded: the course's build_mlp_graph trained by your train_mlp, seed 0)
summary = "MNIST: graded with the course's build_mlp_graph trained by your train_mlp"
if "build_mlp_graph" not in (globals().get("_mlp_references") or {}):  # your copy: the network trained above
    _params = mse_history["params"]
    for _key, _shape in {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}.items():
        check_shape(_params[_key], _shape, f"mse_history['params']['{_key}']")
    _test_error = _error_of(_params, mnist.x_test, mnist.y_test)
    assert_true(_test_error < 0.12,
                f"the sigmoid MLP's test error is {_test_error:.2%} (computed from its trained weights), the goal is "
                "below 12%: check the initial weights, the loss (a mean over the minibatch) and that train_op runs "
                "on every minibatch of every epoch")
    summary = f"test error {_test_error:.2%}: below 12%"
### BEGIN HIDDEN TESTS
with graded_with(globals(), "train_mlp", ("build_mlp_graph",)):
    seed_everything(0)
    _history = train_mlp(build_mlp_graph(784, 64, 10, loss="mse", seed=0), mnist.x_train, mnist.y_train,
                         mnist.x_test, mnist.y_test, epochs=15, batch_size=32, learning_rate=1.0, seed=0)
    _params = _history["params"]
    for _key, _shape in {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}.items():
        check_shape(_params[_key], _shape, f"history['params']['{_key}'] returned by train_mlp")
    _test_error = _error_of(_params, mnist.x_test, mnist.y_test)
    assert_true(_test_error < 0.12,
                f"trained by your train_mlp (15 epochs, batches of 32, rate 1.0), the sigmoid MLP's test error is "
                f"{_test_error:.2%} (computed from its trained weights), the goal is below 12%: check that train_op "
                "runs on every minibatch of every epoch, with the learning rate fed")
summary = f"test error {_test_error:.2%} with your train_mlp: below 12%"
### END HIDDEN TESTS
print(summary)
# %% [markdown]
# ### B.3 Optional parts: a learning-rate schedule, and softmax with cross-entropy
#
# A **piecewise-constant schedule** keeps the rate at `values[0]` until the first boundary, then at
# `values[1]` until the second, and so on: with `boundaries = [3, 6]` and
# `values = [1.0, 0.5, 0.1]`, epochs 0, 1, 2 use 1.0, epochs 3, 4, 5 use 0.5, and epochs from 6 on
# use 0.1. The rate switches **at** the boundary: epoch 3 already uses 0.5.
# (`tf.compat.v1.train.piecewise_constant` does the same on a step counter inside a graph.)
# %% solution id=piecewise_constant
def piecewise_constant(boundaries, values):
    """A piecewise-constant learning-rate schedule.

    Inputs:
    - boundaries: increasing list of B ints (epochs); values: list of B + 1 floats
    Returns:
    - schedule: a function epoch -> float: values[0] for epoch < boundaries[0],
      values[i] for boundaries[i - 1] <= epoch < boundaries[i], values[B] for epoch >= boundaries[B - 1]
    """
    schedule = None
    ### BEGIN SOLUTION
    if len(values) != len(boundaries) + 1:
        raise ValueError(f"{len(boundaries)} boundaries need {len(boundaries) + 1} values, got {len(values)}")

    def schedule(epoch):
        return float(values[sum(epoch >= boundary for boundary in boundaries)])
    ### END SOLUTION
    return schedule
# %% tests id=schedule_tests bonus=2
# Checks: piecewise_constant's rates before, at and after each boundary; hidden: train_mlp really uses the scheduled rate of every epoch
def _check_schedule(boundaries, values, epochs):
    schedule = piecewise_constant(boundaries, values)
    assert_true(callable(schedule), "piecewise_constant should return a function epoch -> rate")
    for epoch in range(epochs):
        expected = values[sum(epoch >= b for b in boundaries)]
        got = float(to_float_array(schedule(epoch), f"schedule({epoch})"))
        where = " (a boundary: the rate switches at the boundary)" if epoch in boundaries else ""
        assert_true(abs(got - expected) <= 1e-12,
                    f"with boundaries {boundaries} and values {values}, the rate at epoch {epoch}{where} is "
                    f"{got:g}, expected {expected:g}")

_check_schedule([3, 6], [1.0, 0.5, 0.1], 9)
print("piecewise_constant: visible checks passed")
### BEGIN HIDDEN TESTS
_check_schedule([1, 2, 10], [4.0, 3.0, 2.0, 1.0], 13)
_check_schedule([5], [0.3, 0.03], 8)
# training 3 epochs with rates (1.5, 0, 0) must end where 1 epoch at 1.5 ends
_net = build_mlp_graph(4, 6, 3, seed=2)
_three = train_mlp(_net, _x_train, _y_train, _x_test, _y_test, epochs=3, batch_size=16,
                   learning_rate=piecewise_constant([1], [1.5, 0.0]), seed=3)
_one = train_mlp(_net, _x_train, _y_train, _x_test, _y_test, epochs=1, batch_size=16, learning_rate=1.5, seed=3)
assert_close(_three["learning_rate"], [1.5, 0.0, 0.0],
             "train_mlp's history['learning_rate'] with the schedule piecewise_constant([1], [1.5, 0.0])")
for _key in _MLP_PARAMS:
    assert_close(_three["params"][_key], _one["params"][_key],
                 f"{_key} after 3 epochs at the scheduled rates (1.5, 0, 0), compared with 1 epoch at 1.5 (is "
                 "the rate fed to train_op the schedule's rate of that epoch?)", rtol=1e-5, atol=1e-6)
print("piecewise_constant: hidden checks passed (two other schedules, and train_mlp uses the scheduled rates)")
### END HIDDEN TESTS
# %% [markdown]
# Train the same network with a schedule, and the softmax + cross-entropy variant, and compare the
# three runs in one plot. (If you skipped an optional part, its run is skipped: the rest still runs.)
# %% id=train_compare
runs = {"sigmoid + MSE": mse_history}
optional_runs = {
    "sigmoid + MSE, schedule": lambda: train_mlp(
        build_mlp_graph(784, 64, 10, loss="mse", seed=0), mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test,
        epochs=15, batch_size=32, learning_rate=piecewise_constant([8, 12], [1.0, 0.5, 0.25]), seed=0),
    "softmax + cross-entropy": lambda: train_mlp(
        build_mlp_graph(784, 64, 10, loss="cross_entropy", seed=0), mnist.x_train, mnist.y_train, mnist.x_test,
        mnist.y_test, epochs=15, batch_size=32, learning_rate=0.3, seed=0),
}
for name, run in optional_runs.items():
    try:
        runs[name] = run()
    except Exception as error:  # an optional part not written (or broken) must not stop "Run all"
        print(f"{name}: skipped, the optional part does not run ({type(error).__name__}: {error})")
for name, history in runs.items():
    print(f"{name:26s} final test error {history['test_error'][-1]:.2%}, best {min(history['test_error']):.2%}")
plot_learning_curves(runs, metrics=("loss", "test_error"), title="MSE vs. cross-entropy, with and without a schedule")
plt.show()
# %% [markdown] answer id=q_mse_vs_ce points=1
# **Question.** Compare the three test-error curves. Why can the cross-entropy learn faster than the
# squared error with sigmoid outputs when an output is confidently wrong (look at the gradient with
# respect to the logits in both cases)? Do you see a large difference here, and what does the schedule
# change?
#
# ### BEGIN SOLUTION
# With a sigmoid output and the squared error, d loss / d logit = 2 (s - y) s (1 - s): when the output
# saturates (s near 0 or 1), s (1 - s) is tiny and the gradient vanishes even if the output is wrong.
# With softmax and cross-entropy, d loss / d logits = (p - y) / N: the error itself, large exactly when
# the prediction is confidently wrong. Here, with small initial weights (no saturated output at the
# start) and rates tuned for each loss, the three runs end within about a percent of each other (around
# 8% test error). The schedule lowers the rate in the last epochs, which reduces the epoch-to-epoch
# noise of the test error rather than the error itself.
# ### END SOLUTION
# %% [markdown] rubric id=q_mse_vs_ce_rubric
# - **Full (1 point)**: the gradient with respect to a logit is 2 (s - y) s (1 - s) for sigmoid + squared
#   error, tiny when a wrong output saturates, against p - y for softmax + cross-entropy, large exactly when
#   confidently wrong; and a reading of the measured curves (how far apart they end, what the schedule
#   changes) consistent with the printed test errors.
# - **Half (0.5 point)**: the gradient argument without reading the curves, or the curves without the reason.
# - **0 points**: "cross-entropy is better" with no gradient argument and no reading of the outputs.
# %% [markdown]
# ## Part C. Ocean proximity of California districts, with Keras
#
# The housing table describes 20,640 districts; `ocean_proximity` is one of five categories
# (`<1H OCEAN`, `INLAND`, `ISLAND`, `NEAR BAY`, `NEAR OCEAN`). We predict it from the nine numeric
# columns. The split is **stratified**: both splits keep the proportions of the categories (there are
# only 5 islands!).
#
# Everything the preprocessing learns from data (the median used to fill the 207 missing
# `total_bedrooms`, the means and standard deviations used for scaling, the list of categories) must be
# computed on the **training split only**, then applied unchanged to the test split: otherwise the test
# data leaks into training and the test score is no longer an honest estimate.
# %% id=housing_split
from sklearn.model_selection import train_test_split

housing = load_housing()
train_df, test_df = train_test_split(housing, test_size=0.2, stratify=housing["ocean_proximity"], random_state=42)
print(f"{len(train_df)} training and {len(test_df)} test districts")
print(train_df["ocean_proximity"].value_counts(normalize=True).round(4).to_dict())
print(test_df["ocean_proximity"].value_counts(normalize=True).round(4).to_dict())
# %% solution id=preprocess_housing
def preprocess_housing(train_df, test_df):
    """Impute, scale and one-hot encode the housing splits with statistics of the training split only.

    Inputs:
    - train_df, test_df: pandas DataFrames with the housing table's columns
    Returns:
    - X_train: (N_train, F) float32, X_test: (N_test, F) float32: the F numeric columns (every column but
      ocean_proximity, in the table's order), each missing value replaced by its column's training median,
      then standardised with the training mean and standard deviation of the column
    - Y_train: (N_train, C) float32, Y_test: (N_test, C) float32: one-hot rows of ocean_proximity
    - classes: the list of the C categories found in train_df, sorted (column c of Y is classes[c])
    """
    X_train, X_test, Y_train, Y_test, classes = None, None, None, None, None
    ### BEGIN SOLUTION
    features = [column for column in train_df.columns if column != "ocean_proximity"]
    medians = train_df[features].median()
    train = train_df[features].fillna(medians).to_numpy(np.float64)
    test = test_df[features].fillna(medians).to_numpy(np.float64)
    mean, std = train.mean(axis=0), train.std(axis=0)
    X_train = ((train - mean) / std).astype(np.float32)
    X_test = ((test - mean) / std).astype(np.float32)
    classes = sorted(train_df["ocean_proximity"].unique())
    index = {name: i for i, name in enumerate(classes)}
    one_hot = np.eye(len(classes), dtype=np.float32)
    Y_train = one_hot[train_df["ocean_proximity"].map(index).to_numpy()]
    Y_test = one_hot[test_df["ocean_proximity"].map(index).to_numpy()]
    ### END SOLUTION
    return X_train, X_test, Y_train, Y_test, classes
# %% tests id=preprocess_tests points=3
# Checks: preprocess_housing's shapes, classes, one-hot labels and training-split scaling; hidden: the test split is imputed and scaled with the training statistics, and never changes X_train
### BEGIN HIDDEN TESTS
# The course's own preprocess_housing, defined before any student code of this cell runs: the accuracy test of
# build_classifier runs with it (graded_with), so that a bug in preprocess_housing costs only its own points.
def _ref_preprocess_housing(train_df, test_df):
    _features = [c for c in train_df.columns if c != "ocean_proximity"]
    _medians = train_df[_features].median()
    _train = train_df[_features].fillna(_medians).to_numpy(np.float64)
    _test = test_df[_features].fillna(_medians).to_numpy(np.float64)
    _mean, _std = _train.mean(axis=0), _train.std(axis=0)
    _classes = sorted(train_df["ocean_proximity"].unique())
    _index = {name: i for i, name in enumerate(_classes)}
    _one_hot = np.eye(len(_classes), dtype=np.float32)
    return (((_train - _mean) / _std).astype(np.float32), ((_test - _mean) / _std).astype(np.float32),
            _one_hot[train_df["ocean_proximity"].map(_index).to_numpy()],
            _one_hot[test_df["ocean_proximity"].map(_index).to_numpy()], _classes)


_mlp_references = dict(globals().get("_mlp_references") or {}, preprocess_housing=_ref_preprocess_housing)
### END HIDDEN TESTS
_HOUSING_FEATURES = [c for c in housing.columns if c != "ocean_proximity"]

def _check_preprocess_shapes(result, train, test):
    assert_true(isinstance(result, tuple) and len(result) == 5,
                "preprocess_housing should return (X_train, X_test, Y_train, Y_test, classes)")
    X_tr, X_te, Y_tr, Y_te, names = result
    expected_classes = sorted(train["ocean_proximity"].unique())
    assert_true(list(names or []) == expected_classes,
                f"classes should be the sorted categories of train_df, {expected_classes}, got {names}")
    C, F = len(expected_classes), len(_HOUSING_FEATURES)
    X_tr = check_shape(X_tr, (len(train), F), "X_train")
    X_te = check_shape(X_te, (len(test), F), "X_test")
    for name, Y, frame in (("Y_train", Y_tr, train), ("Y_test", Y_te, test)):
        labels = frame["ocean_proximity"].map({c: i for i, c in enumerate(expected_classes)}).to_numpy()
        assert_equal(Y, np.eye(C)[labels], f"{name} (one-hot rows of ocean_proximity, column c for classes[c])")
    assert_true(bool(np.isfinite(X_tr).all()) and bool(np.isfinite(X_te).all()),
                "X_train or X_test holds NaN: fill the missing total_bedrooms with the training median")
    return X_tr, X_te

def _shifted(frame, factor, offset):
    frame = frame.copy()
    for column in _HOUSING_FEATURES:
        frame[column] = frame[column] * factor + offset
    return frame

def _check_no_leak(train, test):
    first = _check_preprocess_shapes(preprocess_housing(train, test), train, test)
    second = _check_preprocess_shapes(preprocess_housing(train, _shifted(test, 10.0, -7.0)), train, test)
    assert_close(second[0], first[0],
                 "X_train computed again with another test_df: it changed, so test data leaks into the imputation "
                 "or the scaling (use medians, means and standard deviations of the training split only)",
                 rtol=1e-6, atol=1e-6)
    return first

_X_tr, _X_te = _check_no_leak(train_df, test_df)
assert_close(_X_tr.mean(axis=0), np.zeros(len(_HOUSING_FEATURES)),
             "X_train's column means (standardised with the training split's mean)", atol=1e-3)
assert_close(_X_tr.std(axis=0), np.ones(len(_HOUSING_FEATURES)),
             "X_train's column standard deviations (standardised with the training split's std)", rtol=2e-3)
print("preprocess_housing: visible checks passed")
### BEGIN HIDDEN TESTS
def _expected_scaled(train, frame):
    raw_train = train[_HOUSING_FEATURES].to_numpy(np.float64)
    medians = np.nanmedian(raw_train, axis=0)
    filled_train = np.where(np.isnan(raw_train), medians, raw_train)
    raw = frame[_HOUSING_FEATURES].to_numpy(np.float64)
    filled = np.where(np.isnan(raw), medians, raw)
    return (filled - filled_train.mean(axis=0)) / filled_train.std(axis=0)

_small_train = housing.sample(400, random_state=1)
_small_test = housing.drop(_small_train.index).sample(150, random_state=2)
_small_train.loc[_small_train.index[:40], "total_bedrooms"] = np.nan
_small_test.loc[_small_test.index[:30], "total_bedrooms"] = np.nan
_small_test = _shifted(_small_test, 3.0, 50.0)  # a test split with other statistics than the training split
_first = _check_no_leak(_small_train, _small_test)
assert_close(_first[0], _expected_scaled(_small_train, _small_train),
             "X_train (imputed with the training median, standardised with the training mean and std)",
             rtol=3e-3, atol=1e-4)
assert_close(_first[1], _expected_scaled(_small_train, _small_test),
             "X_test (it must be imputed and scaled with the TRAINING split's median, mean and std, not its own: "
             "test statistics leak test data)", rtol=3e-3, atol=1e-4)
print("preprocess_housing: hidden checks passed (400 training districts with missing values, a shifted test split)")
### END HIDDEN TESTS
# %% [markdown]
# ### C.2 The classifier
#
# Write `build_classifier`: a Keras `Sequential` model with at least one hidden layer (with a
# non-linear activation) and a softmax output of `n_classes` units, compiled with the
# `categorical_crossentropy` loss (the labels are one-hot), an optimizer of your choice and the
# `accuracy` metric. The next cells train it for 12 epochs, logging every epoch for TensorBoard, and
# the model's graph for TensorBoard's **Graphs** tab (the forward pass traced by `tf.function`).
# The graded goal: a test accuracy of at least **85%** (over the seeds 0 to 9 the course's solution reaches
# between 0.8922 and 0.9128: the threshold is more than 0.04 below its worst seed). When graded, your
# `build_classifier` is trained this way on the course's own `preprocess_housing`.
# %% solution id=build_classifier
def build_classifier(n_features, n_classes):
    """A compiled Keras classifier.

    Inputs:
    - n_features: the number of input columns F; n_classes: the number of classes C
    Returns:
    - model: a compiled keras.Model mapping (N, F) inputs to (N, C) class probabilities (softmax)
    """
    model = None
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    ### END SOLUTION
    return model
# %% tests id=build_classifier_tests points=1
# Checks: build_classifier returns a compiled Keras model with a hidden layer and softmax probabilities of the right shape
def _check_classifier(n_features, n_classes):
    model = build_classifier(n_features, n_classes)
    assert_true(isinstance(model, keras.Model), f"build_classifier should return a keras.Model, got {type(model).__name__}")
    assert_true(getattr(model, "optimizer", None) is not None and bool(getattr(model, "compiled", False)),
                "the model is not compiled: call model.compile(optimizer=..., loss='categorical_crossentropy', "
                "metrics=['accuracy'])")
    x = np.random.default_rng(n_features).normal(size=(7, n_features)).astype(np.float32)
    probabilities = check_shape(model.predict(x, verbose=0), (7, n_classes), "the model's output on 7 examples")
    # counted once the model has run: a Sequential model given no keras.Input has its weights from its first call
    kernels = [w for w in model.trainable_weights if len(w.shape) == 2]
    assert_true(len(kernels) >= 2, f"the model has {len(kernels)} weight matri(x/ces): it needs at least one hidden layer")
    assert_true(bool((probabilities >= 0).all()), "the model's outputs should be probabilities (softmax), some are negative")
    assert_close(probabilities.sum(axis=1), np.ones(7), "the sum of each row of probabilities (softmax output)", rtol=1e-4)

_check_classifier(9, 5)
print("build_classifier: visible checks passed")
### BEGIN HIDDEN TESTS
_check_classifier(4, 3)
print("build_classifier: hidden checks passed (4 features, 3 classes)")
### END HIDDEN TESTS
# %% id=train_ocean
X_train, X_test, Y_train, Y_test, classes = preprocess_housing(train_df, test_df)
seed_everything(0)
ocean_run = new_run_dir("ocean_proximity")
ocean_model = build_classifier(X_train.shape[1], len(classes))
ocean_model.fit(X_train, Y_train, epochs=12, batch_size=128, validation_split=0.1, verbose=0,
                callbacks=[scalar_logger(ocean_run, write_graph=True)])
logged = read_scalars(ocean_run)
ocean_graph = read_graphs(ocean_run)["train"][0]  # the GraphDef TensorBoard's Graphs tab draws
print(f"the logged graph has {len(ocean_graph.node)} nodes; op types:", sorted({node.op for node in ocean_graph.node}))
figure, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for axis, metric in zip(axes, ("epoch_loss", "epoch_accuracy")):
    for split in ("train", "validation"):
        steps, values = zip(*logged[f"{split}/{metric}"])
        axis.plot(np.array(steps) + 1, values, marker="o", markersize=3, label=split)
    axis.set_xlabel("epoch"); axis.set_title(metric); axis.legend(); axis.grid(alpha=0.3)
figure.suptitle("Ocean proximity: curves read back from the TensorBoard logs")
figure.tight_layout()
plt.show()
print(f"TensorBoard logs (scalars and graph) in {ocean_run}\nto browse them: tensorboard --logdir {ocean_run.parent}")
# %% id=confusion
ocean_predictions = ocean_model.predict(X_test, verbose=0).argmax(axis=1)
ocean_accuracy = float(np.mean(ocean_predictions == Y_test.argmax(axis=1)))
print(f"Keras classifier: test accuracy {ocean_accuracy:.4f}")
plot_confusion_matrix(Y_test.argmax(axis=1), ocean_predictions, classes, title=f"Keras MLP, test accuracy {ocean_accuracy:.3f}")
plt.show()
# %% tests id=housing_accuracy_tests points=2
# Checks: the classifier trained in cell train_ocean reaches a test accuracy of at least 85% on the test districts (labels read from test_df) (graded: your build_classifier trained as in cell train_ocean on the course's preprocess_housing, seed 0)
_labels = sorted(train_df["ocean_proximity"].unique())
_truth = test_df["ocean_proximity"].map({c: i for i, c in enumerate(_labels)}).to_numpy()
summary = "ocean proximity: graded with your build_classifier on the course's preprocess_housing"
if "preprocess_housing" not in (globals().get("_mlp_references") or {}):  # your copy: the model trained above
    assert_true(list(classes) == _labels, f"classes should be {_labels}, got {classes}")
    _probabilities = check_shape(ocean_model.predict(X_test, verbose=0), (len(test_df), len(_labels)),
                                 "ocean_model's predictions on X_test")
    _accuracy = float(np.mean(_probabilities.argmax(axis=1) == _truth))
    assert_true(_accuracy >= 0.85,
                f"the ocean-proximity classifier's test accuracy is {_accuracy:.2%}, the goal is at least 85% "
                "(a linear model reaches about 80%: hidden layers need a non-linear activation, and the inputs "
                "must be standardised)")
    summary = f"test accuracy {_accuracy:.2%}: at least 85%"
### BEGIN HIDDEN TESTS
with graded_with(globals(), "build_classifier", ("preprocess_housing",)):
    _Xc_train, _Xc_test, _Yc_train, _Yc_test, _classes = preprocess_housing(train_df, test_df)
    seed_everything(0)
    _model = build_classifier(_Xc_train.shape[1], len(_classes))
    _model.fit(_Xc_train, _Yc_train, epochs=12, batch_size=128, validation_split=0.1, verbose=0)
    _probabilities = check_shape(_model.predict(_Xc_test, verbose=0), (len(test_df), len(_labels)),
                                 "the predictions of your build_classifier's model on the test districts")
    _accuracy = float(np.mean(_probabilities.argmax(axis=1) == _truth))
    assert_true(_accuracy >= 0.85,
                f"trained as in cell train_ocean (12 epochs, batches of 128), your build_classifier's model reaches "
                f"a test accuracy of {_accuracy:.2%}, the goal is at least 85% (a linear model reaches about 80%: "
                "hidden layers need a non-linear activation)")
summary = f"test accuracy {_accuracy:.2%} with your build_classifier: at least 85%"
### END HIDDEN TESTS
print(summary)
# %% [markdown]
# ### C.3 A traditional baseline
#
# Compare with scikit-learn models trained on the same preprocessed data: the majority class, and a
# random forest (an ensemble of decision trees, often the strongest model on small tabular data).
# %% id=baseline
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier

y_train_labels, y_test_labels = Y_train.argmax(axis=1), Y_test.argmax(axis=1)
baselines = {"majority class": DummyClassifier(strategy="most_frequent"),
             "random forest (30 trees)": RandomForestClassifier(n_estimators=30, random_state=0, n_jobs=1)}
for name, model in baselines.items():
    model.fit(X_train, y_train_labels)
    print(f"{name:26s} test accuracy {model.score(X_test, y_test_labels):.4f}")
print(f"{'Keras MLP':26s} test accuracy {ocean_accuracy:.4f}")
forest_predictions = baselines["random forest (30 trees)"].predict(X_test)
plot_confusion_matrix(y_test_labels, forest_predictions, classes,
                      title=f"random forest, test accuracy {np.mean(forest_predictions == y_test_labels):.3f}")
plt.show()
# %% [markdown] answer id=q_baseline points=1
# **Question.** Which model wins here, and why might trees do so well on this table? Which classes are
# confused most often (read the confusion matrices)?
#
# ### BEGIN SOLUTION
# The random forest (about 98% against about 90% for the MLP, a gap far larger than the seed noise):
# ocean proximity is mostly a function of
# the position (longitude, latitude), with sharp, axis-aligned borders between regions that trees cut
# directly, while the MLP needs many units and epochs to draw them. The confusions are between
# neighbouring categories: `<1H OCEAN` with `NEAR OCEAN` and `INLAND`, `NEAR BAY` with `<1H OCEAN`; the 5
# islands are too few to learn.
# ### END SOLUTION
# %% [markdown] rubric id=q_baseline_rubric
# - **Full (1 point)**: names the winner as the printed accuracies show it; a reason tied to the table (the
#   position columns decide the category, borders that axis-aligned splits of trees cut directly); the most
#   confused pairs read from the confusion matrices.
# - **Half (0.5 point)**: the winner and one of the two other parts.
# - **0 points**: a winner that contradicts the printed accuracies, or no reading of the outputs.
# %% [markdown]
# ### C.4 Regression: the median house value
#
# The lecture's practical also asks for a **regression**: predict a district's `median_house_value`
# from the other columns. The next cell prepares the inputs as in C.1 (the eight other numeric columns,
# imputed and standardised with training statistics, plus the one-hot `ocean_proximity`), with the
# target in units of $100,000; it is written out here so that this part does not depend on your
# `preprocess_housing`. The baseline to beat is a linear regression on the same inputs.
#
# Write `build_regressor`: a Keras `Sequential` model with at least one hidden layer (non-linear
# activation) and **one linear output unit** (no activation: a value is not a probability), compiled
# with the mean squared error loss (`loss="mse"`, no weight regularisation) and an optimizer of your
# choice. The next cell trains it for 10 epochs (batch size 256, 10% of the training districts for
# validation). The graded goal: a test root-mean-squared error (RMSE) at most **95%** of the linear
# baseline's, i.e. at least 5% lower (over the seeds 0 to 9 the reference's ratio is between 0.8281 and
# 0.8788: the threshold is more than 0.07 above its worst seed).
#
# Ten epochs are few, so the optimizer's step size matters. At the optimizers' default learning rates
# (0.001 for Adam and RMSprop, 0.01 for SGD) some networks are still close to the baseline when training
# stops: RMSprop or SGD at their defaults, or a single small hidden layer. The training cell prints your
# ratio and the check after it says whether it meets the goal. If it does not, raise the learning rate
# or widen the hidden layers, and run the cells again.
# %% id=regression_data
from sklearn.linear_model import LinearRegression

TARGET = "median_house_value"
regression_columns = [c for c in housing.columns if c not in ("ocean_proximity", TARGET)]
regression_medians = train_df[regression_columns].median()  # training statistics only
raw_train = train_df[regression_columns].fillna(regression_medians).to_numpy(np.float64)
raw_test = test_df[regression_columns].fillna(regression_medians).to_numpy(np.float64)
column_mean, column_std = raw_train.mean(axis=0), raw_train.std(axis=0)
ocean_categories = np.array(sorted(train_df["ocean_proximity"].unique()))
one_hot_ocean = lambda frame: (frame["ocean_proximity"].to_numpy()[:, None] == ocean_categories).astype(np.float64)
Xr_train = np.hstack([(raw_train - column_mean) / column_std, one_hot_ocean(train_df)]).astype(np.float32)
Xr_test = np.hstack([(raw_test - column_mean) / column_std, one_hot_ocean(test_df)]).astype(np.float32)
yr_train = (train_df[TARGET].to_numpy() / 1e5).astype(np.float32)  # in units of $100,000
yr_test = (test_df[TARGET].to_numpy() / 1e5).astype(np.float32)
rmse = lambda predicted, truth: float(np.sqrt(np.mean((np.ravel(predicted) - np.ravel(truth)) ** 2)))
linear_rmse = rmse(LinearRegression().fit(Xr_train, yr_train).predict(Xr_test), yr_test)
print("inputs", Xr_train.shape, Xr_test.shape)
print(f"test RMSE of predicting the training mean: ${rmse(np.full(len(yr_test), yr_train.mean()), yr_test) * 1e5:.0f}")
print(f"test RMSE of the linear regression baseline: ${linear_rmse * 1e5:.0f}")
print(f"largest median house value ${housing[TARGET].max():.0f}, reached by {(housing[TARGET] >= housing[TARGET].max()).sum()} districts")
# %% solution id=build_regressor
def build_regressor(n_features):
    """A compiled Keras regressor of the median house value.

    Inputs:
    - n_features: the number of input columns F
    Returns:
    - model: a keras.Model mapping (N, F) inputs to (N, 1) predicted values (a linear output unit),
      compiled with the mean squared error loss
    """
    model = None
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse")
    ### END SOLUTION
    return model
# %% tests id=build_regressor_tests points=1
# Checks: build_regressor returns a compiled Keras model with a hidden layer, one output per example, and the mean squared error as its loss
def _check_regressor(n_features, seed):
    model = build_regressor(n_features)
    assert_true(isinstance(model, keras.Model), f"build_regressor should return a keras.Model, got {type(model).__name__}")
    assert_true(getattr(model, "optimizer", None) is not None and bool(getattr(model, "compiled", False)),
                "the model is not compiled: call model.compile(optimizer=..., loss='mse')")
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(11, n_features)).astype(np.float32), rng.normal(3.0, 2.0, size=(11, 1)).astype(np.float32)
    predicted = to_float_array(model.predict(x, verbose=0), "the model's predictions")
    # counted once the model has run: a Sequential model given no keras.Input has its weights from its first call
    kernels = [w for w in model.trainable_weights if len(w.shape) == 2]
    assert_true(len(kernels) >= 2, f"the model has {len(kernels)} weight matri(x/ces): it needs at least one hidden layer")
    assert_true(predicted.size == 11, f"the model should give one value per example: {predicted.shape} for 11 examples")
    loss = float(np.ravel(model.evaluate(x, y, batch_size=11, verbose=0))[0])
    assert_close(loss, np.mean((predicted.reshape(11, 1) - y) ** 2),
                 "the model's compiled loss on 11 examples (it should be the mean squared error, loss='mse', with no "
                 "weight regularisation)", rtol=1e-3, atol=1e-5)

_check_regressor(13, 0)
print("build_regressor: visible checks passed")
### BEGIN HIDDEN TESTS
_check_regressor(5, 1)
print("build_regressor: hidden checks passed (5 features)")
### END HIDDEN TESTS
# %% id=train_regressor
seed_everything(0)
regression_run = new_run_dir("house_value")
regressor = build_regressor(Xr_train.shape[1])
regressor.fit(Xr_train, yr_train, epochs=10, batch_size=256, validation_split=0.1, verbose=0,
              callbacks=[scalar_logger(regression_run, write_graph=True)])
regression_logged = read_scalars(regression_run)
figure, axis = plt.subplots(figsize=(5, 3.4))
for split in ("train", "validation"):
    steps, values = zip(*regression_logged[f"{split}/epoch_loss"])
    axis.plot(np.array(steps) + 1, values, marker="o", markersize=3, label=split)
axis.set_xlabel("epoch"); axis.set_ylabel("mean squared error ($100k squared)"); axis.legend(); axis.grid(alpha=0.3)
axis.set_title("Median house value: curves read back from the TensorBoard logs")
figure.tight_layout()
plt.show()
regressor_rmse = rmse(regressor.predict(Xr_test, verbose=0), yr_test)
print(f"test RMSE: Keras MLP ${regressor_rmse * 1e5:.0f}, linear baseline ${linear_rmse * 1e5:.0f} "
      f"(ratio {regressor_rmse / linear_rmse:.3f})")
print(f"TensorBoard logs (scalars and graph) in {regression_run}")
# %% tests id=regression_tests points=2
# Checks: the regressor trained in cell train_regressor has a test RMSE at most 95% of the linear regression's, both recomputed here from the test districts
from sklearn.linear_model import LinearRegression as _LinearRegression
_columns = [c for c in housing.columns if c not in ("ocean_proximity", "median_house_value")]
_raw_train = train_df[_columns].to_numpy(np.float64)
_medians = np.nanmedian(_raw_train, axis=0)
_filled = lambda frame: np.where(np.isnan(frame[_columns].to_numpy(np.float64)), _medians, frame[_columns].to_numpy(np.float64))
_mean, _std = _filled(train_df).mean(axis=0), _filled(train_df).std(axis=0)
_categories = sorted(train_df["ocean_proximity"].unique())
_inputs = lambda frame: np.hstack([(_filled(frame) - _mean) / _std,
                                   np.eye(len(_categories))[frame["ocean_proximity"].map({c: i for i, c in enumerate(_categories)})]])
_truth = test_df["median_house_value"].to_numpy() / 1e5
_linear = _LinearRegression().fit(_inputs(train_df), train_df["median_house_value"].to_numpy() / 1e5)
_linear_rmse = float(np.sqrt(np.mean((_linear.predict(_inputs(test_df)) - _truth) ** 2)))
_predicted = to_float_array(regressor.predict(_inputs(test_df).astype(np.float32), verbose=0), "the regressor's predictions")
assert_true(_predicted.size == len(_truth), f"the regressor gives {_predicted.size} values for {len(_truth)} test districts")
_rmse = float(np.sqrt(np.mean((_predicted.ravel() - _truth) ** 2)))
assert_true(_rmse <= 0.95 * _linear_rmse,
            f"the regressor's test RMSE is ${_rmse * 1e5:.0f}, the goal is at most 95% of the linear baseline's "
            f"${_linear_rmse * 1e5:.0f}, i.e. ${0.95 * _linear_rmse * 1e5:.0f} (a linear output unit, a non-linear "
            "hidden layer, the mean squared error; a sigmoid or softmax output cannot reach the values; 10 epochs are "
            "few: raise the learning rate or widen the hidden layers)")
print(f"test RMSE ${_rmse * 1e5:.0f}: at most 95% of the linear baseline's ${_linear_rmse * 1e5:.0f}")
# %% [markdown] answer id=q_regression points=1
# **Question.** How much better than the linear baseline is the network, in dollars and as a ratio?
# Why must the output unit be linear here, when the classifier's was a softmax? Name one property of
# the target that limits every model (look at its largest value, printed above).
#
# ### BEGIN SOLUTION
# In this run the network's test RMSE is $58166 against $68436 for the linear regression, a ratio of
# 0.850 on this seed; over the seeds 0 to 9 the ratio stays between 0.8281 and 0.8788, always well below
# the graded 95%. The target is a real value with no bound: a softmax or sigmoid output squeezes every
# prediction into (0, 1) (here below $100,000), so the output unit must be linear, and the squared error
# is the loss of a regression as the cross-entropy is that of a classification. The target is censored:
# the table caps it at $500001, the value of 965 districts whose true value is higher and unknown, so
# no model can learn the top of the range (the errors are largest there).
# ### END SOLUTION
# %% [markdown] rubric id=q_regression_rubric
# - **Full (1 point)**: the two printed RMSEs and their ratio, read correctly; a linear output because the
#   target is an unbounded real value (a sigmoid or softmax squeezes it into (0, 1), a ReLU cannot be
#   negative, which is harmless here but not in general); and one property of the target: it is capped at
#   $500,001 (hundreds of districts at the cap, whose true value is unknown), or it is skewed.
# - **Half (0.5 point)**: two of the three parts.
# - **0 points**: numbers that contradict the outputs, or no reason for the linear output.
# %% [markdown]
# ## Part D. Review questions
# %% [markdown] answer id=q_cpu_gpu_tpu points=2
# **Question.** What distinguishes a CPU, a GPU and a TPU, and what kind of computation is each good at?
#
# ### BEGIN SOLUTION
# A CPU has a few powerful cores with large caches and branch prediction: good at sequential, branching,
# latency-sensitive code. A GPU has thousands of simple cores running the same instruction on many data
# (SIMT) with high memory bandwidth: good at large data-parallel arithmetic such as matrix products and
# convolutions. A TPU is an accelerator specialised for tensor operations (systolic arrays for matrix
# multiplication, low precision such as bfloat16): very high throughput on neural-network workloads, but
# less flexible than a GPU.
# ### END SOLUTION
# %% [markdown] rubric id=q_cpu_gpu_tpu_rubric
# - **Full (2 points)**: CPU: few powerful cores, caches, branch prediction, good at sequential and branching
#   code; GPU: thousands of simple cores running the same instruction on many data, high memory bandwidth,
#   good at data-parallel arithmetic (matrix products, convolutions); TPU: a Google accelerator specialised
#   for tensor operations (systolic matrix units, low precision), highest throughput on neural networks,
#   least flexible.
# - **1 point**: two of the three right, or the three named without what each is good at.
# - **0 points**: no architectural difference (e.g. "a GPU is a faster CPU").
# %% [markdown] answer id=q_gpu_bottleneck points=2
# **Question.** When training on a GPU, what is often the bottleneck, and how do you reduce it?
#
# ### BEGIN SOLUTION
# Moving data, not computing: copying batches from host memory to the GPU over PCIe, and preparing them
# on the CPU (loading, decoding, augmenting) is slower than the GPU's arithmetic, so the GPU waits. Keep
# data and weights on the GPU, use larger batches, prefetch and preprocess in parallel (tf.data
# pipelines, several loader workers, pinned memory), and avoid round trips such as reading a value back
# at every step.
# ### END SOLUTION
# %% [markdown] rubric id=q_gpu_bottleneck_rubric
# - **Full (2 points)**: the GPU waits for data: host-to-device transfers (PCIe) and CPU-side loading and
#   preprocessing are slower than its arithmetic; at least two remedies (keep data on the GPU, larger
#   batches, prefetching / parallel input pipelines, pinned memory, fewer host round trips).
# - **1 point**: the bottleneck identified with no remedy, or remedies without saying what is slow.
# - **0 points**: the bottleneck placed in the GPU's arithmetic, or no answer.
# %% [markdown] answer id=q_graphs_help points=2
# **Question.** Why do computational graphs help learning?
#
# ### BEGIN SOLUTION
# A graph decomposes the model into elementary operations whose local derivatives are known; the chain
# rule applied backwards through the graph (back-propagation) gives the gradient of the loss with respect
# to every parameter automatically, at the cost of about one forward pass. The graph also exposes the
# structure to the framework, which can schedule independent operations in parallel, place them on
# devices, fuse and optimise them, and free intermediate values when they are no longer needed.
# ### END SOLUTION
# %% [markdown] rubric id=q_graphs_help_rubric
# - **Full (2 points)**: the graph decomposes the model into operations with known local derivatives, so the
#   chain rule applied backwards (backpropagation, automatic differentiation) gives every parameter's
#   gradient at the cost of about one forward pass; and one system benefit (parallel scheduling, device
#   placement, optimisation/fusion, memory freed when values are no longer needed).
# - **1 point**: automatic gradients via the chain rule without the cost or a system benefit, or the reverse.
# - **0 points**: no link between the graph and the computation of gradients.
# %% [markdown] answer id=q_static_dynamic points=2
# **Question.** What are the expected advantages **and disadvantages** of a static graph strategy
# (TensorFlow 1, `tf.function`) versus a dynamic graph strategy (PyTorch, TensorFlow 2's eager mode)?
# Give at least one advantage and one disadvantage of each.
#
# ### BEGIN SOLUTION
# A static graph is declared once, then run many times. Advantages: the framework sees the whole
# computation before running it, so it can optimise it (fuse operations, plan memory, prune what the
# requested outputs do not need, place operations on devices), it runs without the Python interpreter
# in the loop (faster in theory, especially for many small operations), and it can be saved and deployed
# elsewhere (another language, a phone, a server) without the Python code. Disadvantages: two phases to
# write and understand (declare, then run in a Session); errors surface at run time, far from the line
# that declared the faulty op; you cannot print or step through intermediate values with a debugger;
# control flow that depends on the data needs special graph ops (`tf.cond`, `tf.while_loop`), and a
# graph of a fixed structure fits variable-length inputs badly.
# A dynamic graph is built on the fly as the Python code runs (define by run). Advantages: ordinary
# Python control flow (loops and conditions on the data, inputs of varying shape such as sentences or
# trees), immediate results, and direct debugging (print, pdb) at the faulty line. Disadvantages: the
# graph is rebuilt at every step, so the framework cannot optimise the whole computation in advance,
# Python's overhead is paid at every operation, and deploying the model without Python needs an extra
# step (tracing or scripting it back into a graph: `tf.function`, TorchScript).
# ### END SOLUTION
# %% [markdown] rubric id=q_static_dynamic_rubric
# - **Full (2 points)**: at least one advantage AND one disadvantage of each strategy, correctly attributed:
#   static = whole-graph optimisation / speed / deployment without Python, but harder to write and debug,
#   awkward data-dependent control flow; dynamic = natural Python control flow and easy debugging, but no
#   whole-graph optimisation, per-operation overhead, harder deployment.
# - **1 point**: only the advantages (the disadvantages missing, or merely "the opposite"), or one side
#   correct and the other confused.
# - **0 points**: no difference between declare-then-run and define-by-run, or advantages swapped.
