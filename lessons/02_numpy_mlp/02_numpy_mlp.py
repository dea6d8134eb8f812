# %% [markdown]
# # Practical 2: a multi-layer perceptron in NumPy, with backpropagation
#
# You will build, with nothing but NumPy, a multi-layer perceptron (MLP) for classification:
#
# 1. a fully connected `Layer` with its activation, forward (`propagate`) and backward (`backpropagate`);
# 2. a `Softmax` output with the cross-entropy cost, numerically stable;
# 3. an `MLP` that chains layers, computes the cost, backpropagates and takes gradient steps;
# 4. `gradient_check`, which compares your backpropagation with finite differences;
# 5. minibatch stochastic gradient descent (`train`) on MNIST, for a shallow and a deeper network,
#    after measuring how the minibatch size changes the speed of a forward pass.
#
# **Shape convention (used everywhere in this notebook): rows are examples.** A batch of $N$ examples
# with $D$ features is an array `X` of shape `(N, D)`. A layer with `n_in` inputs and `n_out` units has
# weights `W` of shape `(n_in, n_out)` and a bias `b` of shape `(n_out,)`, so that `X @ W + b` has shape
# `(N, n_out)`. Labels are one-hot rows: `Y` has shape `(N, K)` for $K$ classes.
#
# **How you are graded.** The checks under each exercise are a first test; hidden tests run the same
# functions on other shapes and values, with the same tolerances: values within a relative $10^{-6}$
# (plus $10^{-8}$ absolute) of the expected ones, gradients within a relative error of $10^{-6}$ of
# centred finite differences and of $10^{-9}$ of PyTorch's autograd. Other thresholds are stated with
# their exercise. Each test grades one exercise: a test of `MLP` runs your `MLP` with the course's own
# `Layer` and `Softmax`, a test of `train` runs your `train` on the course's own `MLP`, and so on, so a
# mistake costs the points of the exercise where it is, not those of the exercises built on it. For
# this to work, use the other classes only through the methods and attributes their docstrings
# document. Compute gradients with NumPy: the tests of the backward passes fail if they call PyTorch's
# autograd, and the test of `gradient_check` fails if it calls the course's `dlcourse.gradcheck`.
# Failing checks say what is wrong (shape, value, gradient, and which element).

# %% locked id=setup
# Imported first, before any of your code, so that the checks keep their own copies of NumPy's functions.
from dlcourse.checks import assert_close, assert_equal, assert_true, check_shape, relative_error, CheckError
from dlcourse.mlp_checks import (call, hint, check_close, check_gradient_close, check_unchanged, snapshot,
                                 graded_with)
from dlcourse.data import load_mnist
from dlcourse.plotting import plot_learning_curves
from dlcourse import seed_everything
from threadpoolctl import threadpool_limits
import time
import numpy as np
import matplotlib.pyplot as plt

# One BLAS thread: our matrices are small, and on a shared CPU extra threads mostly wait for each other.
threadpool_limits(1)
rng = seed_everything(0)

# %% [markdown]
# ## 1. A fully connected layer
#
# A layer computes, for a batch `X` of shape `(N, n_in)`,
#
# $$Z = X W + b \quad (N \times n_{out}), \qquad A = f(Z) \quad \text{(elementwise)}.$$
#
# | activation | $f(z)$ | $f'(z)$, written with $a = f(z)$ where it helps |
# |---|---|---|
# | `sigmoid` | $\sigma(z) = 1 / (1 + e^{-z})$ | $a (1 - a)$ |
# | `tanh` | $\tanh z$ | $1 - a^2$ |
# | `relu` | $\max(0, z)$ | $1$ if $z > 0$, else $0$ |
# | `identity` | $z$ | $1$ |
#
# (`np.exp(-z)` overflows, with a warning, for $z < -709$; $\sigma(z) = \frac{1}{2}(1 + \tanh(z/2))$ never does.)
#
# **Backward.** The layer receives `grad_out` $= \partial C / \partial A$, of shape `(N, n_out)`, from the
# layer above (for the cost $C$ of the whole batch). With $\Delta = \partial C/\partial Z = $ `grad_out`
# $\odot f'(Z)$ (elementwise), the chain rule gives
#
# $$\frac{\partial C}{\partial W} = X^\top \Delta \;\; (n_{in} \times n_{out}), \qquad
# \frac{\partial C}{\partial b} = \sum_{n=1}^{N} \Delta_{n,:} \;\; (n_{out}), \qquad
# \frac{\partial C}{\partial X} = \Delta W^\top \;\; (N \times n_{in}).$$
#
# The bias is shared by all $N$ examples, so its gradient **sums** their contributions. (The cost is a
# mean over the batch: its $1/N$ is already inside `grad_out`, do not divide again.)
#
# **One step of gradient descent** moves every parameter against its gradient:
# $W \leftarrow W - \eta \, \partial C / \partial W$ with the learning rate $\eta$.
#
# **Initialisation.** Start `W` with random numbers centred on 0 (to break the symmetry between the
# units) of standard deviation between $0.5/\sqrt{n_{in}}$ and $1.5/\sqrt{n_{in}}$, and `b` with zeros.
# He's $\sqrt{2/n_{in}}$, LeCun's $1/\sqrt{n_{in}}$ and, for the layer sizes of this notebook, Glorot's
# $\sqrt{2/(n_{in} + n_{out})}$ all qualify, drawn from a normal or a uniform distribution. The tests
# measure it on `Layer(400, 300)` and `Layer(300, 500)` (120,000 and 150,000 weights): the standard
# deviation times $\sqrt{n_{in}}$ must lie in $[0.5, 1.5]$ and the mean must be below 0.2 standard
# deviations in absolute value (the initial `b` is not tested). The MNIST training of section 7 relies on
# this scale: at every layer the signal is multiplied roughly by (standard deviation $\times \sqrt{n_{in}}$),
# so in the deep network a standard deviation of 0.01 makes it vanish and the network does not learn
# in 8 epochs.
#
# Complete the class below. Keep the parameters in the attributes `W` and `b` (the tests read and set
# them, and `propagate` must use them as they are when it is called), keep in `self` whatever the backward
# pass needs, and never modify an array you are given (`X`, `grad_out`): the caller may still use it.

# %% solution id=layer
ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")


class Layer:
    """A fully connected layer A = f(X @ W + b); rows are examples.

    Attributes:
    - W: (n_in, n_out) weights; b: (n_out,) bias (float64 arrays).
    - activation: one of ACTIVATIONS.
    """

    def __init__(self, n_in, n_out, activation):
        """Create the parameters: random weights centred on 0, of scale about 1/sqrt(n_in); zero bias.

        Inputs:
        - n_in, n_out: numbers of inputs and of units; activation: one of ACTIVATIONS.
        Returns:
        - nothing; sets self.W (n_in, n_out) and self.b (n_out,).
        """
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.n_in, self.n_out, self.activation = int(n_in), int(n_out), activation
        self.W = None
        self.b = None
        ### BEGIN SOLUTION
        # Glorot scaling keeps the variance of activations roughly constant from layer to layer.
        scale = np.sqrt(2.0 / (self.n_in + self.n_out))
        self.W = np.random.normal(0.0, scale, size=(self.n_in, self.n_out))
        self.b = np.zeros(self.n_out)
        ### END SOLUTION

    def propagate(self, X):
        """Forward pass; keeps what backpropagate needs.

        Inputs:
        - X: (N, n_in) batch, one example per row (not modified).
        Returns:
        - A: (N, n_out) activations.
        """
        assert X.ndim == 2 and X.shape[1] == self.n_in, \
            f"Layer.propagate: X should have shape (N, {self.n_in}), got {X.shape}"
        A = None
        ### BEGIN SOLUTION
        self.X = X
        self.Z = X @ self.W + self.b  # (N, n_in) @ (n_in, n_out) + (n_out,) -> (N, n_out)
        if self.activation == "sigmoid":
            A = 0.5 * (1.0 + np.tanh(0.5 * self.Z))
        elif self.activation == "tanh":
            A = np.tanh(self.Z)
        elif self.activation == "relu":
            A = np.maximum(self.Z, 0.0)
        else:
            A = self.Z
        self.A = A
        ### END SOLUTION
        return A

    def backpropagate(self, grad_out):
        """Backward pass of the last batch propagated; stores the gradients of W and b.

        Inputs:
        - grad_out: (N, n_out) gradient of the cost w.r.t. this layer's output A (not modified).
        Returns:
        - grad_in: (N, n_in) gradient of the cost w.r.t. this layer's input X.
        """
        assert grad_out.ndim == 2 and grad_out.shape[1] == self.n_out, \
            f"Layer.backpropagate: grad_out should have shape (N, {self.n_out}), got {grad_out.shape}"
        grad_in = None
        ### BEGIN SOLUTION
        if self.activation == "sigmoid":
            delta = grad_out * (self.A * (1.0 - self.A))
        elif self.activation == "tanh":
            delta = grad_out * (1.0 - self.A ** 2)
        elif self.activation == "relu":
            delta = grad_out * (self.Z > 0)
        else:
            delta = grad_out.copy()
        # delta: (N, n_out), the gradient w.r.t. Z
        self.grad_W = self.X.T @ delta  # (n_in, N) @ (N, n_out) -> (n_in, n_out)
        self.grad_b = delta.sum(axis=0)  # (N, n_out) -> (n_out,)
        grad_in = delta @ self.W.T  # (N, n_out) @ (n_out, n_in) -> (N, n_in)
        ### END SOLUTION
        return grad_in

    def gradient_weights(self):
        """Inputs: none (uses the last backpropagate). Returns: (n_in, n_out) gradient of the cost w.r.t. W."""
        grad_W = None
        ### BEGIN SOLUTION
        grad_W = self.grad_W
        ### END SOLUTION
        return grad_W

    def gradient_bias(self):
        """Inputs: none (uses the last backpropagate). Returns: (n_out,) gradient of the cost w.r.t. b."""
        grad_b = None
        ### BEGIN SOLUTION
        grad_b = self.grad_b
        ### END SOLUTION
        return grad_b

    def update_params(self, learning_rate):
        """One step of gradient descent on W and b with the gradients of the last backpropagate.

        Inputs:
        - learning_rate: a positive float.
        Returns:
        - nothing; updates self.W and self.b.
        """
        ### BEGIN SOLUTION
        self.W = self.W - learning_rate * self.grad_W
        self.b = self.b - learning_rate * self.grad_b
        ### END SOLUTION

# %% tests id=layer_forward_test points=2
# Checks: Layer's parameter shapes and initial scale (Layer(400, 300)), propagate's shape and values for the four activations (5x4 batch, 3 units)
def check_initialisation(n_in, n_out, activation):
    what = f"Layer({n_in}, {n_out}, '{activation}')"
    layer = call(what, Layer, n_in, n_out, activation)
    W = snapshot(check_shape(layer.W, (n_in, n_out), f"{what}.W"))
    check_shape(layer.b, (n_out,), f"{what}.b")
    std, mean = float(W.std()), float(W.mean())
    assert_true(bool(std > 0), f"{what}.W starts with all its entries equal: initialise the weights randomly, "
                "or every unit of the layer computes (and learns) the same thing")
    scaled = std * float(np.sqrt(n_in))
    assert_true(bool(0.5 <= scaled <= 1.5), f"{what}.W starts with a standard deviation of {std:.3g}, that is "
                f"{scaled:.3g}/sqrt(n_in): it should be between 0.5/sqrt(n_in) and 1.5/sqrt(n_in) (for instance "
                "He's sqrt(2/n_in) or Glorot's sqrt(2/(n_in + n_out)))")
    assert_true(bool(abs(mean) < 0.2 * std), f"{what}.W starts with a mean of {mean:.3g}, {abs(mean) / std:.2g} "
                "standard deviations away from 0: draw the weights centred on 0")


check_initialisation(400, 300, "tanh")
rng = np.random.default_rng(1)
X = rng.normal(size=(5, 4))
W = rng.normal(size=(4, 3))
b = rng.normal(size=3)
layer = call("Layer(4, 3, 'tanh')", Layer, 4, 3, "tanh")
check_shape(layer.W, (4, 3), "Layer(4, 3, 'tanh').W")
check_shape(layer.b, (3,), "Layer(4, 3, 'tanh').b")
Z = X @ W + b
expected = {"identity": Z, "relu": np.maximum(Z, 0.0), "tanh": np.tanh(Z), "sigmoid": 1.0 / (1.0 + np.exp(-Z))}
for activation, A in expected.items():
    what = f"Layer(4, 3, '{activation}').propagate(X)"
    layer = call(f"Layer(4, 3, '{activation}')", Layer, 4, 3, activation)
    layer.W, layer.b = W.copy(), b.copy()
    X_before = snapshot(X)
    out = call(what, layer.propagate, X)
    check_close(out, A, what, mistakes=[(X @ W, "the bias b is not added"),
                                        (Z, f"the activation {activation} is not applied")])
    check_unchanged(X_before, X, f"the input batch X of {what}")
print("Layer: initial W of the right scale; propagate right for", ", ".join(expected))
### BEGIN HIDDEN TESTS
check_initialisation(300, 500, "relu")
rng = np.random.default_rng(101)
N, n_in, n_out = 7, 6, 2
X = rng.normal(size=(N, n_in)) * 2.0
W = rng.normal(size=(n_in, n_out))
b = rng.normal(size=n_out)
Z = X @ W + b
expected = {"identity": Z, "relu": np.maximum(Z, 0.0), "tanh": np.tanh(Z), "sigmoid": 1.0 / (1.0 + np.exp(-Z))}
for activation, A in expected.items():
    what = f"Layer({n_in}, {n_out}, '{activation}').propagate(X) with X of shape {X.shape}"
    layer = call(f"Layer({n_in}, {n_out}, '{activation}')", Layer, n_in, n_out, activation)
    check_shape(layer.W, (n_in, n_out), f"Layer({n_in}, {n_out}, '{activation}').W")
    check_shape(layer.b, (n_out,), f"Layer({n_in}, {n_out}, '{activation}').b")
    layer.W, layer.b = W.copy(), b.copy()
    X_before = snapshot(X)
    out = call(what, layer.propagate, X)
    check_close(out, A, what, mistakes=[(X @ W, "the bias b is not added"),
                                        (Z, f"the activation {activation} is not applied")])
    check_unchanged(X_before, X, f"the input batch X of {what}")
    # the layer must read W and b as they are now, not a copy made earlier
    layer.W, layer.b = 2.0 * W, b - 1.0
    Z2 = X @ (2.0 * W) + (b - 1.0)
    A2 = {"identity": Z2, "relu": np.maximum(Z2, 0.0), "tanh": np.tanh(Z2),
          "sigmoid": 1.0 / (1.0 + np.exp(-Z2))}[activation]
    check_close(call(what, layer.propagate, X), A2, f"{what} after setting new W and b",
                mistakes=[(A, "propagate does not use the current self.W and self.b")])
print("Layer: initial W of the right scale and propagate right on the hidden 7x6 batch too")
### END HIDDEN TESTS

# %% tests id=layer_backward_test points=3
# Checks: Layer.backpropagate (gradient w.r.t. X), gradient_weights() and gradient_bias() against PyTorch autograd (tanh, 5x4 batch, 3 units, random upstream gradient)
import torch


def torch_layer(X, W, b, activation, G):
    """Reference values by PyTorch autograd: A, dC/dX, dC/dW, dC/db for C = sum(G * A)."""
    Xt, Wt, bt = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (X, W, b))
    Zt = Xt @ Wt + bt
    At = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}[activation](Zt)
    (At * torch.tensor(G, dtype=torch.float64)).sum().backward()
    return At.detach().numpy(), Xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()


### BEGIN HIDDEN TESTS
from dlcourse.mlp_checks import forbidden


def _finite_differences(f, x, h=1e-6):
    """The test's own centred differences of a scalar function f() of the float64 array x (restored)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        kept = x[index]
        x[index] = kept + h
        plus = float(f())
        x[index] = kept - h
        minus = float(f())
        x[index] = kept
        grad[index] = (plus - minus) / (2.0 * h)
    return grad


def _no_autograd(what):
    """The tripwire on PyTorch's autograd while a backward pass written with NumPy runs."""
    return forbidden([(torch.autograd, "backward"), (torch.autograd, "grad"), (torch.Tensor, "backward")], what,
                     "compute the gradients with NumPy from the formulas above, not with PyTorch's autograd")


### END HIDDEN TESTS
rng = np.random.default_rng(2)
N, n_in, n_out = 5, 4, 3
X = rng.normal(size=(N, n_in))
W = rng.normal(size=(n_in, n_out)) * 0.5
b = rng.normal(size=n_out)
G = rng.normal(size=(N, n_out))  # the upstream gradient dC/dA
layer = call("Layer(4, 3, 'tanh')", Layer, n_in, n_out, "tanh")
layer.W, layer.b = W.copy(), b.copy()
call("Layer.propagate(X)", layer.propagate, X)
G_before = snapshot(G)
grad_X = call("Layer.backpropagate(grad_out)", layer.backpropagate, G)
check_unchanged(G_before, G, "the upstream gradient grad_out given to Layer.backpropagate")
grad_W = snapshot(check_shape(call("Layer.gradient_weights()", layer.gradient_weights), (n_in, n_out),
                              "Layer.gradient_weights()"))
grad_b = call("Layer.gradient_bias()", layer.gradient_bias)
_, t_X, t_W, t_b = torch_layer(X, W, b, "tanh", G)
tanh_prime = 1.0 - np.tanh(X @ W + b) ** 2
bias_mistakes = [(G * tanh_prime, "gradient_bias() is not summed over the batch (one row per example): sum over "
                  "axis 0"),
                 (t_b / N, "gradient_bias() averages over the batch: it should sum (the 1/N of the mean cost is "
                  "already inside grad_out)")]
check_gradient_close(grad_X, t_X, "Layer.backpropagate(grad_out), the gradient w.r.t. X", tol=1e-9,
                     mistakes=[(G @ W.T, "the derivative of tanh is missing"),
                               ((G * (1.0 - np.tanh(X @ W + b))) @ W.T, "the derivative of tanh is wrong: "
                                "it is 1 - tanh(z)**2")])
check_gradient_close(grad_b, t_b, "Layer.gradient_bias()", tol=1e-9, mistakes=bias_mistakes)
check_gradient_close(grad_W, t_W, "Layer.gradient_weights()", tol=1e-9)
print("Layer.backpropagate: the three gradients agree with PyTorch autograd")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(202)
N, n_in, n_out = 6, 5, 3
identity_passed = False
for activation in ("identity", "sigmoid", "tanh", "relu"):
    X = rng.normal(size=(N, n_in))
    W = rng.normal(size=(n_in, n_out)) * 0.7
    b = rng.normal(size=n_out) * 0.5
    G = rng.normal(size=(N, n_out))
    what = f"Layer({n_in}, {n_out}, '{activation}')"
    if activation == "identity":
        suspect = "(with the identity activation, so the matrix products are wrong, not a derivative)"
    elif identity_passed:
        suspect = (f"(the identity activation passed, so the matrix products are right: look at the derivative "
                   f"of {activation}, f'(z) = a(1 - a) for sigmoid, 1 - a**2 for tanh, 1[z > 0] for relu, and at its "
                   "forward pass if layer_forward_test fails too)")
    else:
        suspect = f"(activation {activation})"
    # the references first, before any of the student's code runs
    _, t_X, t_W, t_b = torch_layer(X, W, b, activation, G)
    Xc, Wc, bc = X.copy(), W.copy(), b.copy()
    reference = {"identity": lambda z: z, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh,
                 "relu": lambda z: np.maximum(z, 0.0)}[activation]
    cost = lambda: (G * reference(Xc @ Wc + bc)).sum()
    num_X, num_W, num_b = _finite_differences(cost, Xc), _finite_differences(cost, Wc), _finite_differences(cost, bc)
    layer = call(what, Layer, n_in, n_out, activation)
    layer.W, layer.b = W.copy(), b.copy()
    with _no_autograd(f"{what}.backpropagate"):
        call(f"{what}.propagate(X)", layer.propagate, X)
        G_before = snapshot(G)
        grad_X = call(f"{what}.backpropagate(grad_out)", layer.backpropagate, G)
        grad_W = snapshot(check_shape(call(f"{what}.gradient_weights()", layer.gradient_weights),
                                      (n_in, n_out), f"{what}.gradient_weights()"))
        grad_b = snapshot(check_shape(call(f"{what}.gradient_bias()", layer.gradient_bias), (n_out,),
                                      f"{what}.gradient_bias()"))
    check_unchanged(G_before, G, f"the upstream gradient grad_out given to {what}.backpropagate")
    with hint(suspect):  # only the values: a crash or a wrong shape says what it is by itself
        bias_mistakes = [(t_b / N, f"{what}.gradient_bias() averages over the batch: it should sum")]
        check_gradient_close(grad_X, t_X, f"{what}.backpropagate(grad_out) vs PyTorch autograd", tol=1e-9)
        check_gradient_close(grad_W, t_W, f"{what}.gradient_weights() vs PyTorch autograd", tol=1e-9)
        check_gradient_close(grad_b, t_b, f"{what}.gradient_bias() vs PyTorch autograd", tol=1e-9,
                             mistakes=bias_mistakes)
        check_gradient_close(grad_X, num_X, f"{what}.backpropagate(grad_out) vs finite differences", tol=1e-6)
        check_gradient_close(grad_W, num_W, f"{what}.gradient_weights() vs finite differences", tol=1e-6)
        check_gradient_close(grad_b, num_b, f"{what}.gradient_bias() vs finite differences", tol=1e-6,
                             mistakes=bias_mistakes)
    if activation == "identity":
        identity_passed = True
print("Layer.backpropagate: right on the hidden batches too, for every activation")
### END HIDDEN TESTS

# %% tests id=layer_update_test points=1
# Checks: Layer.update_params(0.1) moves W and b against their gradients, scaled by the learning rate
rng = np.random.default_rng(3)
X, W, b, G = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 3))


def check_update(activation, learning_rate):
    layer = call(f"Layer(4, 3, '{activation}')", Layer, 4, 3, activation)
    layer.W, layer.b = W.copy(), b.copy()
    call("Layer.propagate(X)", layer.propagate, X)
    call("Layer.backpropagate(grad_out)", layer.backpropagate, G)
    grad_W = snapshot(check_shape(call("Layer.gradient_weights()", layer.gradient_weights), (4, 3),
                                  "Layer.gradient_weights()"))
    grad_b = snapshot(check_shape(call("Layer.gradient_bias()", layer.gradient_bias), (3,), "Layer.gradient_bias()"))
    call(f"Layer.update_params({learning_rate})", layer.update_params, learning_rate)
    for name, before, grad, after in (("W", W, grad_W, layer.W), ("b", b, grad_b, layer.b)):
        mistakes = [(before + learning_rate * grad, "the update has the wrong sign: gradient descent subtracts "
                     "learning_rate * gradient (adding it climbs the cost)"),
                    (before - grad, "the update ignores the learning rate: subtract learning_rate * gradient"),
                    (before, f"update_params does not change {name}")]
        check_close(after, before - learning_rate * grad, f"Layer.{name} after update_params({learning_rate})",
                    mistakes=mistakes)


check_update("sigmoid", 0.1)
print("Layer.update_params: right")
### BEGIN HIDDEN TESTS
for activation, learning_rate in (("relu", 0.37), ("identity", 0.05)):
    check_update(activation, learning_rate)
print("Layer.update_params: right with the hidden learning rates too")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Softmax output and cross-entropy cost
#
# The last layer of the network (identity activation) outputs one score, or *logit*, per class:
# `Z` of shape `(N, K)`. The softmax turns each row into probabilities, and the cost of the batch is
# the **mean** cross-entropy with the one-hot labels `Y`:
#
# $$P_{nk} = \frac{e^{Z_{nk}}}{\sum_j e^{Z_{nj}}}, \qquad
# C = -\frac{1}{N} \sum_{n=1}^N \sum_{k=1}^K Y_{nk} \log P_{nk}.$$
#
# **Stability.** `np.exp(1000)` is `inf`, and `inf / inf` is `nan`. Since the softmax does not change
# when the same number is subtracted from a whole row, subtract each row's largest logit first: the
# largest exponent is then $0$. For the cost, do not take `np.log` of probabilities that may have
# underflowed to $0$; use the *log-sum-exp* form, with $m_n = \max_j Z_{nj}$:
#
# $$\log P_{nk} = (Z_{nk} - m_n) - \log \sum_j e^{Z_{nj} - m_n}.$$
#
# **Gradient.** Softmax and cross-entropy together have a remarkably simple gradient with respect to
# the logits (question 3 asks you to derive it): $\partial C / \partial Z = (P - Y) / N$.
#
# As before, do not modify the array you are given (no `Z -= ...` on the caller's logits).

# %% solution id=softmax
class Softmax:
    """Softmax output with the mean cross-entropy cost; rows are examples."""

    def propagate(self, Z):
        """Class probabilities of a batch of logits; keeps what cost and backpropagate need.

        Inputs:
        - Z: (N, K) logits (not modified).
        Returns:
        - P: (N, K) probabilities, each row sums to 1.
        """
        P = None
        ### BEGIN SOLUTION
        shifted = Z - Z.max(axis=1, keepdims=True)  # (N, K), largest entry of each row is 0
        self.log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, K) - (N, 1)
        P = np.exp(self.log_P)
        self.P = P
        ### END SOLUTION
        return P

    def cost(self, Y):
        """Mean cross-entropy of the last batch propagated.

        Inputs:
        - Y: (N, K) one-hot labels.
        Returns:
        - cost: a float, the mean over the N examples.
        """
        cost = None
        ### BEGIN SOLUTION
        cost = float(-(Y * self.log_P).sum() / Y.shape[0])
        ### END SOLUTION
        return cost

    def backpropagate(self, Y):
        """Gradient of the mean cross-entropy w.r.t. the logits of the last batch propagated.

        Inputs:
        - Y: (N, K) one-hot labels.
        Returns:
        - grad_Z: (N, K).
        """
        grad_Z = None
        ### BEGIN SOLUTION
        grad_Z = (self.P - Y) / Y.shape[0]
        ### END SOLUTION
        return grad_Z

# %% tests id=softmax_forward_test points=1
# Checks: Softmax.propagate on a 4x3 batch (rows are examples), on logits of ±1000 (stability), without modifying its input
rng = np.random.default_rng(4)
Z = rng.normal(size=(4, 3)) * 3.0
E = np.exp(Z - Z.max(axis=1, keepdims=True))
softmax = call("Softmax()", Softmax)
Z_before = snapshot(Z)
P = call("Softmax().propagate(Z)", softmax.propagate, Z)
check_close(P, E / E.sum(axis=1, keepdims=True), "Softmax().propagate(Z)",
            mistakes=[(np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True),
                       "the softmax normalises columns: each row (one example) must sum to 1 (axis=1)")])
check_unchanged(Z_before, Z, "the logits Z given to Softmax.propagate",
                advice="compute Z - Z.max(axis=1, keepdims=True) into a new array instead of Z -= ...")
big = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
with hint("For logits of ±1000, subtract each row's largest logit before np.exp (np.exp(1000) overflows to inf)"):
    P = call("Softmax().propagate(Z) with logits of ±1000", softmax.propagate, big)
    check_close(P, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], "Softmax().propagate(Z) with logits of ±1000", atol=1e-12)
print("Softmax.propagate: right, and stable")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(404)
Z = rng.normal(size=(6, 5)) * 2.0
Z[0] = 0.0  # a row of equal logits: uniform probabilities
E = np.exp(Z - Z.max(axis=1, keepdims=True))
expected = E / E.sum(axis=1, keepdims=True)
softmax = call("Softmax()", Softmax)
Z_before = snapshot(Z)
check_close(call("Softmax().propagate(Z)", softmax.propagate, Z), expected, "Softmax().propagate(Z) on a 6x5 batch")
check_unchanged(Z_before, Z, "the logits Z given to Softmax.propagate",
                advice="compute Z - Z.max(axis=1, keepdims=True) into a new array instead of Z -= ...")
with hint("For large logits, subtract each row's largest logit before np.exp (np.exp(z) overflows for z > 709)"):
    shifted = Z + np.array([[800.0], [-800.0], [1000.0], [0.0], [750.0], [-1000.0]])
    check_close(call("Softmax().propagate(Z)", softmax.propagate, shifted), expected,
                "Softmax().propagate(Z) with rows shifted by ±800 or ±1000 (the same probabilities)", atol=1e-12)
print("Softmax.propagate: right for logits shifted by ±800 or ±1000 too")
### END HIDDEN TESTS

# %% tests id=softmax_cost_test points=1
# Checks: Softmax.cost(Y) is the mean cross-entropy over a batch of 4 examples, and is finite for logits of ±1000
rng = np.random.default_rng(5)
Z = rng.normal(size=(4, 3)) * 2.0
Y = np.eye(3)[[0, 2, 1, 2]]
log_P = Z - Z.max(axis=1, keepdims=True)
log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
per_example = -(Y * log_P).sum(axis=1)
softmax = call("Softmax()", Softmax)
call("Softmax().propagate(Z)", softmax.propagate, Z)
cost = call("Softmax().cost(Y)", softmax.cost, Y)
check_close(cost, per_example.mean(), "Softmax().cost(Y)",
            mistakes=[(per_example.sum(), "the cost is the sum over the batch: it should be the mean (divide by N)"),
                      (per_example, "cost returns one value per example: average them into one number")])
big = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]])
clipped = [(-np.log(floor), f"the probabilities are clipped at (or offset by) {floor:g} before np.log, which caps "
            "the cost of a confidently wrong example")
           for floor in (1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-16, 1e-300)]
with hint("For logits of ±1000, compute log-probabilities as (Z - max) - log(sum(exp(Z - max))) rather than "
          "np.log of the probabilities (which underflow to 0)"):
    call("Softmax().propagate(Z) with logits of ±1000", softmax.propagate, big)
    check_close(call("Softmax().cost(Y)", softmax.cost, np.eye(3)[[1, 0]]), 2000.0,
                "Softmax().cost(Y) for logits of ±1000, both examples confidently wrong", mistakes=clipped)
print("Softmax.cost: right, and stable")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(505)
Z = rng.normal(size=(7, 5)) * 3.0
Y = np.eye(5)[rng.integers(0, 5, size=7)]
log_P = Z - Z.max(axis=1, keepdims=True)
log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
per_example = -(Y * log_P).sum(axis=1)
softmax = call("Softmax()", Softmax)
call("Softmax().propagate(Z)", softmax.propagate, Z)
check_close(call("Softmax().cost(Y)", softmax.cost, Y), per_example.mean(), "Softmax().cost(Y) on 7 examples",
            mistakes=[(per_example.sum(), "the cost is the sum over the batch: it should be the mean (divide by N)")])
with hint("For large logits, compute log-probabilities as (Z - max) - log(sum(exp(Z - max))), never log(0)"):
    right = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 0.0, 1000.0]])
    call("Softmax().propagate(Z) with logits of ±1000", softmax.propagate, right)
    check_close(call("Softmax().cost(Y)", softmax.cost, np.eye(3)[[0, 2]]), 0.0,
                "Softmax().cost(Y) for logits of ±1000, both examples confidently right", atol=1e-9)
    mixed = np.array([[1000.0, -1000.0, 999.0], [-1000.0, 1000.0, 0.0]])
    call("Softmax().propagate(Z) with logits of ±1000", softmax.propagate, mixed)
    check_close(call("Softmax().cost(Y)", softmax.cost, np.eye(3)[[2, 0]]),
                ((1.0 + np.log1p(np.exp(-1.0))) + 2000.0) / 2, "Softmax().cost(Y) for logits of ±1000")
print("Softmax.cost: right for logits of ±1000 too")
### END HIDDEN TESTS

# %% tests id=softmax_backward_test points=1
# Checks: Softmax.backpropagate(Y), the gradient of the mean cost w.r.t. the logits, against PyTorch autograd (4x3 batch)
import torch


def torch_cross_entropy_gradient(Z, Y):
    """Reference by PyTorch autograd: the gradient of the mean cross-entropy w.r.t. the logits Z."""
    Zt = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(Zt, torch.tensor(Y.argmax(axis=1))).backward()  # mean over the batch
    return Zt.grad.numpy()


rng = np.random.default_rng(6)
Z = rng.normal(size=(4, 3))
Y = np.eye(3)[[1, 0, 2, 2]]
reference = torch_cross_entropy_gradient(Z, Y)
softmax = call("Softmax()", Softmax)
call("Softmax().propagate(Z)", softmax.propagate, Z)
Y_before = snapshot(Y)
grad_Z = call("Softmax().backpropagate(Y)", softmax.backpropagate, Y)
check_unchanged(Y_before, Y, "the labels Y given to Softmax.backpropagate")
check_gradient_close(grad_Z, reference, "Softmax().backpropagate(Y)", tol=1e-9,
                     mistakes=[(reference * Z.shape[0], "the gradient is N times too large: the cost is a mean over "
                                "the N examples, so its gradient carries a factor 1/N"),
                               (-reference, "the gradient has the wrong sign: it is (P - Y) / N")])
print("Softmax.backpropagate: right")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(606)
Z = rng.normal(size=(6, 5)) * 2.0
Y = np.eye(5)[rng.integers(0, 5, size=6)]
reference = torch_cross_entropy_gradient(Z, Y)
Zc = Z.copy()


def _mean_cross_entropy():
    log_P = Zc - Zc.max(axis=1, keepdims=True)
    log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
    return -(Y * log_P).sum() / Zc.shape[0]


numeric = _finite_differences(_mean_cross_entropy, Zc)
softmax = call("Softmax()", Softmax)
with _no_autograd("Softmax.backpropagate"):
    call("Softmax().propagate(Z)", softmax.propagate, Z)
    grad_Z = call("Softmax().backpropagate(Y)", softmax.backpropagate, Y)
mistakes = [(reference * 6, "the gradient is N times too large: the cost is a mean over the N examples, "
             "so its gradient carries a factor 1/N")]
check_gradient_close(grad_Z, reference, "Softmax().backpropagate(Y) vs PyTorch autograd (6x5)", tol=1e-9,
                     mistakes=mistakes)
error = check_gradient_close(grad_Z, numeric, "Softmax().backpropagate(Y) vs finite differences (6x5)", tol=1e-6,
                             mistakes=mistakes)
print(f"Softmax.backpropagate: right on the hidden 6x5 batch too (relative error {error:.1e})")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The multi-layer perceptron
#
# `MLP(layer_sizes, activation)` chains layers: `layer_sizes = [n_in, h_1, ..., h_L, K]` gives $L$ hidden
# layers with the given activation, then an output layer of $K$ units with the **identity** activation,
# followed by the `Softmax`. For instance `MLP([784, 150, 10], "relu")` has two `Layer`s: 784 → 150
# (relu) and 150 → 10 (identity).
#
# Backpropagation goes through the same objects in reverse order: the softmax gives
# $\partial C / \partial Z_{\text{out}}$, each layer turns the gradient w.r.t. its output into the gradient
# w.r.t. its input, which is the gradient w.r.t. the output of the layer below.
#
# Keep the layers, input to output, in the list `self.layers` and the softmax in `self.softmax` (the tests
# and `gradient_check` use them). `predict` returns class indices; `error_rate` is the fraction of
# misclassified examples, between 0 and 1. Create the layers with `Layer(n_in, n_out, activation)` and use
# only their documented methods and attributes (`propagate`, `backpropagate`, `gradient_weights`,
# `gradient_bias`, `update_params`, `W`, `b`): the graded tests of `MLP` run it with the course's own
# `Layer` and `Softmax`, so that a mistake in your `Layer` does not cost `MLP`'s points as well.

# %% solution id=mlp
class MLP:
    """A multi-layer perceptron for classification: Layers, then a Softmax with the mean cross-entropy."""

    def __init__(self, layer_sizes, activation):
        """Inputs:
        - layer_sizes: [n_in, h_1, ..., h_L, K], at least two sizes.
        - activation: the activation of the hidden layers (the output layer uses "identity").
        Returns:
        - nothing; sets self.layers (a list of Layer, input to output) and self.softmax.
        """
        self.layers = []
        self.softmax = Softmax()
        ### BEGIN SOLUTION
        for n_in, n_out in zip(layer_sizes[:-2], layer_sizes[1:-1]):
            self.layers.append(Layer(n_in, n_out, activation))
        self.layers.append(Layer(layer_sizes[-2], layer_sizes[-1], "identity"))
        ### END SOLUTION

    def propagate(self, X):
        """Inputs: - X: (N, n_in) batch. Returns: - P: (N, K) class probabilities."""
        P = None
        ### BEGIN SOLUTION
        A = X
        for layer in self.layers:
            A = layer.propagate(A)
        P = self.softmax.propagate(A)
        ### END SOLUTION
        return P

    def cost(self, X, Y):
        """Propagates X (so that backpropagate(Y) can follow) and returns the cost.

        Inputs:
        - X: (N, n_in) batch; Y: (N, K) one-hot labels.
        Returns:
        - cost: a float, the mean cross-entropy over the batch.
        """
        cost = None
        ### BEGIN SOLUTION
        self.propagate(X)
        cost = self.softmax.cost(Y)
        ### END SOLUTION
        return cost

    def backpropagate(self, Y):
        """Gradients of the cost of the last batch propagated, stored in every layer.

        Inputs:
        - Y: (N, K) one-hot labels of that batch.
        Returns:
        - nothing; afterwards every layer's gradient_weights() and gradient_bias() are up to date.
        """
        ### BEGIN SOLUTION
        grad = self.softmax.backpropagate(Y)  # (N, K)
        for layer in reversed(self.layers):
            grad = layer.backpropagate(grad)
        ### END SOLUTION

    def update_params(self, learning_rate):
        """Inputs: - learning_rate: a positive float. Returns: nothing; one gradient step on every layer."""
        ### BEGIN SOLUTION
        for layer in self.layers:
            layer.update_params(learning_rate)
        ### END SOLUTION

    def predict(self, X):
        """Inputs: - X: (N, n_in) batch. Returns: - labels: (N,) integers, the most probable class of each row."""
        labels = None
        ### BEGIN SOLUTION
        labels = self.propagate(X).argmax(axis=1)
        ### END SOLUTION
        return labels

    def error_rate(self, X, Y):
        """Inputs: - X: (N, n_in) batch; Y: (N, K) one-hot labels. Returns: - a float, the fraction misclassified."""
        error = None
        ### BEGIN SOLUTION
        error = float((self.predict(X) != Y.argmax(axis=1)).mean())
        ### END SOLUTION
        return error

# %% tests id=mlp_forward_test points=2
# Checks: MLP([4, 5, 3], 'tanh'): its layers' shapes, propagate, cost, predict and error_rate on a 6-example batch
### BEGIN HIDDEN TESTS
class _ReferenceLayer:
    """The course's Layer, for the graded tests of the exercises built on it (never the student's)."""

    def __init__(self, n_in, n_out, activation):
        self.n_in, self.n_out, self.activation = int(n_in), int(n_out), activation
        self.W = np.random.normal(0.0, np.sqrt(2.0 / (self.n_in + self.n_out)), size=(self.n_in, self.n_out))
        self.b = np.zeros(self.n_out)

    def propagate(self, X):
        self._X = np.array(X, dtype=np.float64)
        self._Z = self._X @ self.W + self.b
        self._A = {"sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)), "tanh": np.tanh,
                   "relu": lambda z: np.maximum(z, 0.0), "identity": lambda z: z}[self.activation](self._Z)
        return self._A.copy()

    def backpropagate(self, grad_out):
        slope = {"sigmoid": lambda: self._A * (1.0 - self._A), "tanh": lambda: 1.0 - self._A ** 2,
                 "relu": lambda: (self._Z > 0).astype(np.float64), "identity": lambda: 1.0}[self.activation]()
        delta = np.asarray(grad_out, dtype=np.float64) * slope
        self._grad_W, self._grad_b = self._X.T @ delta, delta.sum(axis=0)
        return delta @ self.W.T

    def gradient_weights(self):
        return self._grad_W.copy()

    def gradient_bias(self):
        return self._grad_b.copy()

    def update_params(self, learning_rate):
        self.W = self.W - learning_rate * self._grad_W
        self.b = self.b - learning_rate * self._grad_b


class _ReferenceSoftmax:
    """The course's Softmax with the mean cross-entropy."""

    def propagate(self, Z):
        shifted = np.asarray(Z, dtype=np.float64) - np.max(Z, axis=1, keepdims=True)
        self._log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self._P = np.exp(self._log_P)
        return self._P.copy()

    def cost(self, Y):
        return float(-(Y * self._log_P).sum() / len(Y))

    def backpropagate(self, Y):
        return (self._P - Y) / len(Y)


_mlp_references = {"Layer": _ReferenceLayer, "Softmax": _ReferenceSoftmax}
### END HIDDEN TESTS
def check_mlp_forward(sizes, activation, rng, N, wrong_rows):
    name = f"MLP({sizes}, '{activation}')"
    f = {"tanh": np.tanh, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0.0)}[activation]
    mlp = call(name, MLP, sizes, activation)
    assert_true(isinstance(mlp.layers, list) and len(mlp.layers) == len(sizes) - 1,
                f"{name}.layers should be a list of {len(sizes) - 1} layers ({len(sizes) - 2} with {activation}, "
                f"then one with the identity), got {type(mlp.layers).__name__} of length {len(mlp.layers)}")
    params = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        check_shape(mlp.layers[i].W, (n_in, n_out), f"{name}.layers[{i}].W")
        W, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out) * 0.5
        mlp.layers[i].W, mlp.layers[i].b = W.copy(), b.copy()
        params.append((W, b))
    X = rng.normal(size=(N, sizes[0]))
    A = X
    for i, (W, b) in enumerate(params):
        A = A @ W + b
        if i < len(params) - 1:
            A = f(A)
    logits = A
    E = np.exp(logits - logits.max(axis=1, keepdims=True))
    P_expected = E / E.sum(axis=1, keepdims=True)
    F = f(logits)  # the output layer with the hidden activation
    E_wrong = np.exp(F - F.max(axis=1, keepdims=True))
    X_before = snapshot(X)
    check_close(call(f"{name}.propagate(X)", mlp.propagate, X), P_expected, f"{name}.propagate(X)",
                mistakes=[(E_wrong / E_wrong.sum(axis=1, keepdims=True),
                           f"the output layer uses {activation}: it should use the identity, the softmax comes after it")])
    check_unchanged(X_before, X, f"the input batch X of {name}.propagate")
    labels = P_expected.argmax(axis=1)
    assert_equal(call(f"{name}.predict(X)", mlp.predict, X), labels, f"{name}.predict(X) on {N} examples")
    K = sizes[-1]
    for rows in ([], wrong_rows):
        wrong = labels.copy()
        wrong[rows] = (wrong[rows] + 1) % K  # these labels differ from the predictions
        Y = np.eye(K)[wrong]
        errors = len(rows)
        check_close(call(f"{name}.error_rate(X, Y)", mlp.error_rate, X, Y), errors / N,
                    f"{name}.error_rate(X, Y) with {errors} of the {N} labels different from the predictions",
                    mistakes=[((N - errors) / N, "error_rate returns the accuracy: it should be the fraction of errors")]
                    + ([(float(errors), "error_rate returns a count of errors: divide by the number of examples")]
                       if errors else []))
    per_example = -np.log((P_expected * Y).sum(axis=1))
    check_close(call(f"{name}.cost(X, Y)", mlp.cost, X, Y), per_example.mean(), f"{name}.cost(X, Y)",
                mistakes=[(per_example.sum(), "the cost is the sum over the batch: it should be the mean")])


with graded_with(globals(), "MLP", ("Layer", "Softmax")):
    check_mlp_forward([4, 5, 3], "tanh", np.random.default_rng(7), 6, [1, 4])
    ### BEGIN HIDDEN TESTS
    check_mlp_forward([6, 5, 4, 7, 3], "relu", np.random.default_rng(707), 9, [0, 3, 8])
    check_mlp_forward([3, 4], "sigmoid", np.random.default_rng(717), 5, [2])  # no hidden layer
    ### END HIDDEN TESTS
print("MLP: propagate, predict, error_rate and cost are right")

# %% tests id=mlp_backward_test points=2
# Checks: after MLP.cost(X, Y) and MLP.backpropagate(Y), every layer's gradients against PyTorch autograd (MLP([4, 5, 3], 'tanh'), 6 examples)
import torch


def torch_mlp_gradients(params, X, Y, activation):
    """Reference by PyTorch autograd: [(dC/dW, dC/db) per layer] of the mean cross-entropy of an MLP."""
    tensors = [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
                torch.tensor(b, dtype=torch.float64, requires_grad=True)) for W, b in params]
    A = torch.tensor(X, dtype=torch.float64)
    for i, (W, b) in enumerate(tensors):
        A = A @ W + b
        if i < len(tensors) - 1:
            A = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation](A)
    torch.nn.functional.cross_entropy(A, torch.tensor(Y.argmax(axis=1))).backward()  # mean over the batch
    return [(W.grad.numpy(), b.grad.numpy()) for W, b in tensors]


def check_mlp_gradients(sizes, activation, params, X, Y, expected, numeric=None):
    name = f"MLP({sizes}, '{activation}')"
    mlp = call(name, MLP, sizes, activation)
    for layer, (W, b) in zip(mlp.layers, params):
        layer.W, layer.b = W.copy(), b.copy()
    call(f"{name}.cost(X, Y)", mlp.cost, X, Y)
    Y_before = snapshot(Y)
    call(f"{name}.backpropagate(Y)", mlp.backpropagate, Y)
    check_unchanged(Y_before, Y, f"the labels Y given to {name}.backpropagate")
    gradients = []
    for i, (layer, (W, b)) in enumerate(zip(mlp.layers, params)):
        gradients.append((snapshot(check_shape(call(f"{name}.layers[{i}].gradient_weights()", layer.gradient_weights),
                                               W.shape, f"{name}.layers[{i}].gradient_weights()")),
                          snapshot(check_shape(call(f"{name}.layers[{i}].gradient_bias()", layer.gradient_bias),
                                               b.shape, f"{name}.layers[{i}].gradient_bias()"))))
    references = [(expected, "PyTorch autograd", 1e-9)] + ([(numeric, "finite differences", 1e-6)] if numeric else [])
    for reference, by, tol in references:
        for i, ((gW, gb), (tW, tb)) in enumerate(zip(gradients, reference)):
            too_large = "the gradients are N times too large: the cost is a mean, its gradient carries a factor 1/N"
            check_gradient_close(gW, tW, f"{name}.layers[{i}].gradient_weights() vs {by}", tol=tol,
                                 mistakes=[(tW * X.shape[0], too_large)])
            check_gradient_close(gb, tb, f"{name}.layers[{i}].gradient_bias() vs {by}", tol=tol,
                                 mistakes=[(tb * X.shape[0], too_large)])
    return mlp, gradients


rng = np.random.default_rng(8)
sizes = [4, 5, 3]
X = rng.normal(size=(6, 4))
Y = np.eye(3)[[0, 1, 2, 2, 1, 0]]
params = [(rng.normal(size=(n_in, n_out)) * 0.8, rng.normal(size=n_out) * 0.3) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
with graded_with(globals(), "MLP", ("Layer", "Softmax")):
    check_mlp_gradients(sizes, "tanh", params, X, Y, torch_mlp_gradients(params, X, Y, "tanh"))
    ### BEGIN HIDDEN TESTS
    def _numeric_mlp_gradients(params, X, Y, activation):
        """The test's own finite differences of the mean cross-entropy, for every W and b."""
        f = {"tanh": np.tanh, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
             "relu": lambda z: np.maximum(z, 0.0)}[activation]
        copies = [(W.copy(), b.copy()) for W, b in params]

        def cost():
            A = X
            for i, (W, b) in enumerate(copies):
                A = A @ W + b
                if i < len(copies) - 1:
                    A = f(A)
            log_P = A - A.max(axis=1, keepdims=True)
            log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
            return -(Y * log_P).sum() / X.shape[0]

        return [(_finite_differences(cost, W), _finite_differences(cost, b)) for W, b in copies]

    rng = np.random.default_rng(808)
    for sizes, activation in (([5, 4, 6, 3], "sigmoid"), ([3, 7, 4], "relu")):
        X = rng.normal(size=(8, sizes[0]))
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=8)]
        params = [(rng.normal(size=(n_in, n_out)) * 0.8, rng.normal(size=n_out) * 0.3)
                  for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        expected = torch_mlp_gradients(params, X, Y, activation)  # the references before any student code
        numeric = _numeric_mlp_gradients(params, X, Y, activation)
        with _no_autograd(f"MLP({sizes}, '{activation}').backpropagate"):
            check_mlp_gradients(sizes, activation, params, X, Y, expected, numeric)
    ### END HIDDEN TESTS
print("MLP.backpropagate: every layer's gradients agree with PyTorch autograd")

# %% tests id=mlp_update_test points=1
# Checks: MLP.update_params(0.2) takes one gradient step on every layer, and 20 steps lower the cost of a batch
rng = np.random.default_rng(9)
sizes = [4, 6, 5, 3]
X = rng.normal(size=(10, 4))
Y = np.eye(3)[rng.integers(0, 3, size=10)]


def check_mlp_update(learning_rate):
    mlp = call(f"MLP({sizes}, 'sigmoid')", MLP, sizes, "sigmoid")
    for layer, (n_in, n_out) in zip(mlp.layers, zip(sizes[:-1], sizes[1:])):
        layer.W, layer.b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    before = [(snapshot(layer.W), snapshot(layer.b)) for layer in mlp.layers]
    call("MLP.cost(X, Y)", mlp.cost, X, Y)
    call("MLP.backpropagate(Y)", mlp.backpropagate, Y)
    grads = [(snapshot(check_shape(call("Layer.gradient_weights()", layer.gradient_weights), W.shape, "gradient_weights()")),
              snapshot(check_shape(call("Layer.gradient_bias()", layer.gradient_bias), b.shape, "gradient_bias()")))
             for layer, (W, b) in zip(mlp.layers, before)]
    call(f"MLP.update_params({learning_rate})", mlp.update_params, learning_rate)
    for i, (layer, (W, b), (gW, gb)) in enumerate(zip(mlp.layers, before, grads)):
        for name, old, grad, new in (("W", W, gW, layer.W), ("b", b, gb, layer.b)):
            check_close(new, old - learning_rate * grad, f"MLP.layers[{i}].{name} after MLP.update_params({learning_rate})",
                        mistakes=[(old + learning_rate * grad, "the update has the wrong sign: subtract learning_rate * gradient"),
                                  (old - grad, "the update ignores the learning rate"),
                                  (old, f"MLP.update_params does not update layer {i}")])
    return mlp



with graded_with(globals(), "MLP", ("Layer", "Softmax")):
    mlp = check_mlp_update(0.2)
    first = check_shape(call("MLP.cost(X, Y)", mlp.cost, X, Y), (), "MLP.cost(X, Y)")
    for step in range(20):
        call("MLP.cost(X, Y)", mlp.cost, X, Y)
        call("MLP.backpropagate(Y)", mlp.backpropagate, Y)
        call("MLP.update_params(0.5)", mlp.update_params, 0.5)
    last = check_shape(call("MLP.cost(X, Y)", mlp.cost, X, Y), (), "MLP.cost(X, Y)")
    assert_true(bool(last < first - 0.05), f"20 steps of gradient descent (learning rate 0.5) took the cost of a "
                f"10-example batch from {float(first):.4f} to {float(last):.4f}: it should fall by more than 0.05")
    ### BEGIN HIDDEN TESTS
    for learning_rate in (0.03, 1.7):
        check_mlp_update(learning_rate)
    ### END HIDDEN TESTS
print(f"MLP.update_params: right; 20 steps took the cost from {float(first):.3f} to {float(last):.3f}")

# %% [markdown]
# ## 4. Gradient checking
#
# A backpropagation bug rarely crashes: the network just learns badly. Compare your gradients with
# **centred finite differences**, for every parameter $\theta$ of every layer:
#
# $$\frac{\partial C}{\partial \theta} \approx \frac{C(\theta + \varepsilon) - C(\theta - \varepsilon)}{2 \varepsilon}.$$
#
# The truncation error is of order $\varepsilon^2$, the rounding error of order $10^{-16} C / \varepsilon$:
# in float64 with $\varepsilon = 10^{-6}$ both are tiny, in float32 the rounding error alone swamps
# everything. So work in float64, whatever the dtype of the network's parameters: convert the
# parameters (and `X`, `Y`) first.
#
# For one parameter array, with the analytic gradient $a$ and the numerical one $n$, use
# `relative_error(a, n)` (imported in the setup cell): $\max_i |a_i - n_i| / \max_i (|a_i| + |n_i|)$.
# `gradient_check` returns the largest of these over all the `W` and `b` of all layers; a correct
# backpropagation stays below $3 \times 10^{-7}$.
#
# Use only `mlp.cost`, `mlp.backpropagate` and, for each layer of `mlp.layers`, its `W`, `b`,
# `gradient_weights()` and `gradient_bias()`. Leave every parameter as you found it (in float64).
# Write the finite differences yourself: this loop is the exercise, and the graded test fails a
# `gradient_check` that calls the course's `dlcourse.gradcheck`.
#
# The graded test runs your `gradient_check` on small networks of its own (so only `gradient_check` is
# judged) and requires: a result below $3 \times 10^{-7}$ for correct gradients, also when the parameters
# are float32; every parameter restored (within $10^{-12}$); for gradients deliberately scaled by a factor
# in one or two arrays, the true largest relative error within 0.1%; and the `epsilon` it is given used:
# with `epsilon=1e-2` the truncation error dominates, and your result must be within a factor of 3 of
# the test's own centred differences with that step.

# %% solution id=gradient_check
def gradient_check(mlp, X, Y, epsilon=1e-6):
    """Largest relative error between backpropagation and centred finite differences, in float64.

    Inputs:
    - mlp: an MLP (its parameters are converted to float64 and left unchanged otherwise).
    - X: (N, n_in) batch; Y: (N, K) one-hot labels; epsilon: the finite-difference step.
    Returns:
    - worst: a float, the largest relative_error(analytic, numerical) over every W and b of every layer.
    """
    worst = None
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    for layer in mlp.layers:
        layer.W = np.array(layer.W, dtype=np.float64)
        layer.b = np.array(layer.b, dtype=np.float64)
    mlp.cost(X, Y)
    mlp.backpropagate(Y)
    analytic = [(np.array(layer.gradient_weights()), np.array(layer.gradient_bias())) for layer in mlp.layers]
    worst = 0.0
    for layer, (grad_W, grad_b) in zip(mlp.layers, analytic):
        for param, grad in ((layer.W, grad_W), (layer.b, grad_b)):
            numeric = np.zeros_like(param)
            for index in np.ndindex(param.shape):
                saved = param[index]
                param[index] = saved + epsilon
                plus = mlp.cost(X, Y)
                param[index] = saved - epsilon
                minus = mlp.cost(X, Y)
                param[index] = saved
                numeric[index] = (plus - minus) / (2 * epsilon)
            worst = max(worst, relative_error(grad, numeric))
    ### END SOLUTION
    return worst

# %% tests id=gradient_check_test points=2
# Checks: gradient_check returns one number below 3e-7 for MLP([4, 5, 3], 'tanh') on 6 examples, and about 0.2 when one layer's gradient_weights() is 1.5 times too large
### BEGIN HIDDEN TESTS
import dlcourse.gradcheck
from dlcourse.mlp_checks import forbidden


class _ReferenceMLP:
    """The course's MLP (its own layers and softmax), for the graded tests of gradient_check and train."""

    def __init__(self, layer_sizes, activation):
        sizes = [int(n) for n in layer_sizes]
        self.layers = [_ReferenceLayer(n_in, n_out, activation if i < len(sizes) - 2 else "identity")
                       for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.softmax = _ReferenceSoftmax()

    def propagate(self, X):
        A = X
        for layer in self.layers:
            A = layer.propagate(A)
        return self.softmax.propagate(A)

    def cost(self, X, Y):
        self.propagate(X)
        return self.softmax.cost(Y)

    def backpropagate(self, Y):
        grad = self.softmax.backpropagate(Y)
        for layer in reversed(self.layers):
            grad = layer.backpropagate(grad)

    def update_params(self, learning_rate):
        for layer in self.layers:
            layer.update_params(learning_rate)

    def predict(self, X):
        return self.propagate(X).argmax(axis=1)

    def error_rate(self, X, Y):
        return float((self.predict(X) != Y.argmax(axis=1)).mean())


_mlp_references["MLP"] = _ReferenceMLP


def _reference_differences(f, x, h):
    """This test's own centred differences of f() w.r.t. the float64 array x (restored), step h."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        kept = x[index]
        x[index] = kept + h
        plus = float(f())
        x[index] = kept - h
        minus = float(f())
        x[index] = kept
        grad[index] = (plus - minus) / (2.0 * h)
    return grad


_course_differences = [(dlcourse.gradcheck, name) for name in ("numerical_gradient", "numerical_gradient_params",
                                                               "check_gradient", "check_gradients")]
_course_differences += [function for function in (globals().get("_finite_differences"),
                                                  globals().get("_numeric_mlp_gradients"), _reference_differences)
                         if function]


def _own_work():
    """The tripwire on every finite-difference helper (the course's and the tests') while gradient_check runs."""
    return forbidden(_course_differences, "gradient_check", "compute the finite differences yourself (perturb "
                     "one parameter by +epsilon and -epsilon, call mlp.cost twice, put it back): that loop is the "
                     "exercise")
### END HIDDEN TESTS
def scaled_gradient(layer, method, factor):
    """Make layer.<method>() return factor times the gradient it computed (a sabotaged backpropagation)."""
    original = getattr(layer, method)
    setattr(layer, method, lambda: factor * np.asarray(original()))


rng = np.random.default_rng(10)
X = rng.normal(size=(6, 4))
Y = np.eye(3)[[0, 2, 1, 1, 0, 2]]
with graded_with(globals(), "gradient_check", ("MLP",)):
    mlp = call("MLP([4, 5, 3], 'tanh')", MLP, [4, 5, 3], "tanh")
    before = [(snapshot(layer.W), snapshot(layer.b)) for layer in mlp.layers]
    worst = check_shape(call("gradient_check(mlp, X, Y, 1e-6)", gradient_check, mlp, X, Y, 1e-6), (),
                        "gradient_check(mlp, X, Y, 1e-6)")
    with hint("gradient_check must put back every parameter it perturbs"):
        for i, (layer, (W, b)) in enumerate(zip(mlp.layers, before)):
            check_close(layer.W, W, f"mlp.layers[{i}].W after gradient_check", rtol=0, atol=1e-12)
            check_close(layer.b, b, f"mlp.layers[{i}].b after gradient_check", rtol=0, atol=1e-12)
    assert_true(bool(0.0 <= worst < 3e-7), f"gradient_check(mlp, X, Y, 1e-6) returned {float(worst):.3g} for "
                "MLP([4, 5, 3], 'tanh'): a correct backpropagation gives less than 3e-7")
    call("MLP.cost(X, Y)", mlp.cost, X, Y)
    call("MLP.backpropagate(Y)", mlp.backpropagate, Y)
    true = [np.ravel(np.asarray(call("gradient_weights()", layer.gradient_weights), dtype=np.float64))
            for layer in mlp.layers] + [np.ravel(np.asarray(call("gradient_bias()", layer.gradient_bias),
                                                             dtype=np.float64)) for layer in mlp.layers]
    everything = np.concatenate(true)
    scaled_everything = np.concatenate([true[0], 1.5 * true[1]] + true[2:])
    scaled_gradient(mlp.layers[1], "gradient_weights", 1.5)
    what = "gradient_check(mlp, X, Y, 1e-6) when layers[1].gradient_weights() is 1.5 times the true gradient"
    sabotaged = check_shape(call(what, gradient_check, mlp, X, Y, 1e-6), (), what)
    whole = float(np.linalg.norm(scaled_everything - everything) /
                  (np.linalg.norm(scaled_everything) + np.linalg.norm(everything)))
    check_close(sabotaged, 0.5 / 2.5, f"{what} (relative error |1.5g - g| / (|1.5g| + |g|))", rtol=1e-3,
                mistakes=[(worst, "gradient_check did not change when layers[1].gradient_weights() did: compare the finite "
                           "differences with what gradient_weights() and gradient_bias() return, for every layer"),
                          (whole, "gradient_check computes one relative error over all the parameters together: "
                           "return the largest relative_error of each W and b separately"),
                          (float(np.max(np.abs(0.5 * true[1]))), "gradient_check returns the largest absolute "
                           "difference: divide by the magnitudes, with relative_error(analytic, numerical)")])
print(f"gradient_check: largest relative error {float(worst):.2e}; it sees a gradient 1.5 times too large "
      f"({float(sabotaged):.4f})")
### BEGIN HIDDEN TESTS
# A small network written by the test (correct gradients), so that this checks gradient_check alone.
class _TestLayer:
    def __init__(self, W, b, last):
        self.W, self.b, self.last = W, b, last

    def gradient_weights(self):
        return self.grad_W

    def gradient_bias(self):
        return self.grad_b


class _TestNet:
    def __init__(self, params):
        self.layers = [_TestLayer(W, b, i == len(params) - 1) for i, (W, b) in enumerate(params)]

    def cost(self, X, Y):
        self.inputs = []
        A = X
        for layer in self.layers:
            self.inputs.append(A)
            A = A @ layer.W + layer.b
            if not layer.last:
                A = np.tanh(A)
        log_P = A - A.max(axis=1, keepdims=True)
        log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
        self.P = np.exp(log_P)
        return float(-(Y * log_P).sum() / X.shape[0])

    def backpropagate(self, Y):
        grad = (self.P - Y) / Y.shape[0]
        for layer, A_in in zip(reversed(self.layers), reversed(self.inputs)):
            layer.grad_W = A_in.T @ grad
            layer.grad_b = grad.sum(axis=0)
            grad = grad @ layer.W.T
            if layer is not self.layers[0]:
                grad = grad * (1.0 - A_in ** 2)


def _graded_gradient_check(net, X, Y, epsilon, what):
    with _own_work():
        return float(check_shape(call(f"gradient_check(net, X, Y, {epsilon:g})", gradient_check, net, X, Y, epsilon),
                                 (), what))


rng = np.random.default_rng(1010)
X = rng.normal(size=(7, 5))
Y = np.eye(3)[rng.integers(0, 3, size=7)]
params = [(rng.normal(size=(5, 4)), rng.normal(size=4)), (rng.normal(size=(4, 3)), rng.normal(size=3))]
net = _TestNet([(W.copy(), b.copy()) for W, b in params])
worst = _graded_gradient_check(net, X, Y, 1e-6, "gradient_check on a correct 5-4-3 tanh network")
assert_true(bool(0.0 <= worst < 3e-7), f"gradient_check returned {worst:.3g} for a network whose gradients "
            "are right: it should be below 3e-7 (centred differences (C(p + eps) - C(p - eps)) / (2 eps), in float64)")
with hint("gradient_check must put back every parameter it perturbs"):
    for i, (layer, (W, b)) in enumerate(zip(net.layers, params)):
        check_close(layer.W, W, f"layers[{i}].W after gradient_check", rtol=0, atol=1e-12)
        check_close(layer.b, b, f"layers[{i}].b after gradient_check", rtol=0, atol=1e-12)
with hint("gradient_check must work in float64: convert the network's W and b (and X, Y) to float64 first"):
    net32 = _TestNet([(W.astype(np.float32), b.astype(np.float32)) for W, b in params])
    worst32 = _graded_gradient_check(net32, X.astype(np.float32), Y.astype(np.float32), 1e-6,
                                     "gradient_check on a network with float32 parameters")
    assert_true(bool(0.0 <= worst32 < 3e-7), f"gradient_check returned {worst32:.3g} for a correct network "
                "whose parameters are float32")
# sabotaged gradients: gradient_check must see them, in any layer, in W or in b, and report the largest error
for sabotage in ((("layers[0]", "gradient_bias", 1.5),), (("layers[1]", "gradient_weights", 0.8),),
                 (("layers[0]", "gradient_weights", 0.8), ("layers[1]", "gradient_bias", 1.5))):
    net = _TestNet([(W.copy(), b.copy()) for W, b in params])
    for target, method, factor in sabotage:
        scaled_gradient(net.layers[int(target[-2])], method, factor)
    expected = max(abs(factor - 1.0) / (abs(factor) + 1.0) for _, _, factor in sabotage)
    what = "gradient_check on a network whose " + " and ".join(
        f"{target}.{method}() is {factor} times the true gradient" for target, method, factor in sabotage)
    got = _graded_gradient_check(net, X, Y, 1e-6, what)
    assert_true(got > 0.01 * expected, f"{what} returned {got:.3g}, expected {expected:.4g}: gradient_check does "
                "not look at every W and b of every layer")
    check_close(got, expected, f"{what} (the largest relative error of one array)", rtol=1e-3,
                mistakes=[(sum(abs(f - 1.0) / (abs(f) + 1.0) for _, _, f in sabotage),
                           "gradient_check adds up the relative errors of the arrays: return the largest one")]
                if len(sabotage) > 1 else [])
# the step it is given: with epsilon = 1e-2 the truncation error of centred differences dominates
net = _TestNet([(W.copy(), b.copy()) for W, b in params])
net.cost(X, Y)
net.backpropagate(Y)
analytic = [(layer.grad_W.copy(), layer.grad_b.copy()) for layer in net.layers]
copies = [(W.copy(), b.copy()) for W, b in params]
step_net = _TestNet(copies)
cost = lambda: step_net.cost(X, Y)
expected = max(relative_error(gradient, _reference_differences(cost, array, 1e-2))
               for (W, b), (gW, gb) in zip(copies, analytic) for array, gradient in ((W, gW), (b, gb)))
got = _graded_gradient_check(net, X, Y, 1e-2, "gradient_check(net, X, Y, 1e-2)")
assert_true(bool(expected / 3 <= got <= 3 * expected),
            f"gradient_check(net, X, Y, epsilon=1e-2) on a correct network returned {got:.3g}; centred differences "
            f"with that step give {expected:.3g} (their truncation error): use the epsilon given, in "
            "(C(p + epsilon) - C(p - epsilon)) / (2 epsilon)")
print("gradient_check: right on the graded test's own networks too")
### END HIDDEN TESTS

# %% [markdown]
# Your network, checked with each activation (ReLU's kink at 0 can fool finite differences when a
# pre-activation lies within $\varepsilon$ of it; with random data this is rare):

# %% id=run_gradient_check
rng = np.random.default_rng(0)
X_small = rng.normal(size=(8, 6))
Y_small = np.eye(4)[rng.integers(0, 4, size=8)]
for activation in ACTIVATIONS:
    net = MLP([6, 5, 7, 4], activation)
    print(f"{activation:>8}: largest relative error {gradient_check(net, X_small, Y_small, 1e-6):.2e}")

# %% [markdown]
# ## 5. Counting parameters
#
# A layer with `n_in` inputs and `n_out` units has `n_in * n_out` weights and `n_out` biases.
# Write `count_parameters(layer_sizes)` for an MLP given as in `MLP` (e.g. `[784, 100, 200, 50, 10]`).

# %% solution id=count_parameters
def count_parameters(layer_sizes):
    """Number of trainable parameters (weights and biases) of MLP(layer_sizes, ...).

    Inputs:
    - layer_sizes: [n_in, h_1, ..., h_L, K].
    Returns:
    - an int.
    """
    count = None
    ### BEGIN SOLUTION
    count = sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    ### END SOLUTION
    return count

# %% tests id=count_parameters_test points=1
# Checks: count_parameters([784, 100, 200, 50, 10]) (3 hidden layers) and count_parameters([4, 6, 3])
def check_count(sizes):
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    what = f"count_parameters({sizes})"
    count = call(what, count_parameters, list(sizes))
    check_close(count, weights + sum(sizes[1:]), what, rtol=0, atol=0,
                mistakes=[(weights, "the biases are not counted"),
                          (weights + sum(sizes), "the input layer has no bias: count one bias per unit of the "
                           "hidden and output layers"),
                          (weights + sum(sizes[1:-1]), "the output layer's biases are not counted")])
    assert_true(float(count) == int(count), f"{what} should be a whole number, got {count!r}")
    return int(check_shape(count, ()))


print(f"count_parameters([784, 100, 200, 50, 10]) = {check_count([784, 100, 200, 50, 10])}, "
      f"count_parameters([4, 6, 3]) = {check_count([4, 6, 3])}")
### BEGIN HIDDEN TESTS
for sizes in ([3, 2], [5, 4, 3, 2], [10, 1, 10], (7, 3, 8)):
    check_count(sizes)
print("count_parameters: right for the hidden layer sizes too")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Questions on computing gradients
#
# Answer in a few sentences each.

# %% [markdown] answer id=q_cost_depth points=3
# **Question 1.** A network has $P$ parameters and a forward pass costs $F$ operations. What does one
# gradient cost (a) by finite differences, as in `gradient_check`, (b) by backpropagation? How do both
# grow when the network gets deeper (more layers of the same width)? Why do we still use finite
# differences?
#
# ### BEGIN SOLUTION
# (a) Centred differences need two forward passes per parameter: about $2PF$ operations, i.e. quadratic
# in the size of the network since $F$ itself is proportional to $P$ (each weight is used once per
# example). (b) Backpropagation costs one forward and one backward pass, the backward about twice the
# forward (one product for $\partial C/\partial W$, one for $\partial C/\partial X$): about $3F$, the
# same order as evaluating the cost once, whatever $P$. With depth $L$ (same width $h$), $P$ and $F$
# grow linearly in $L$: backprop stays about $3F \propto L$, finite differences grow like $L^2$.
# Backprop also stores the activations of every layer (memory grows with depth and batch size).
# Finite differences are kept as a check: simple, independent of our derivation, so they catch
# backprop bugs on a small network.
# ### END SOLUTION

# %% [markdown] rubric id=q_cost_depth_rubric
# - **Full (3 points)**: (a) finite differences cost two forward passes per parameter, about $2PF$, i.e.
#   quadratic in the network's size because $F$ grows with $P$; (b) backpropagation costs one forward and
#   one backward pass, a small constant times $F$ (about $3F$), whatever $P$; with more layers of the same
#   width both $P$ and $F$ grow linearly, so backprop grows linearly and finite differences quadratically;
#   and a reason to keep finite differences: a simple, independent check of the backward pass on a small
#   network (1 point for each of the three parts).
# - **Half (1.5 points)**: the right orders (per parameter vs. a few passes) without the dependence on
#   depth, or the depth argument without a reason to still use finite differences.
# - **No points**: "backprop is faster" with no cost estimate, or a claim that finite differences are cheaper
#   or as accurate for training.

# %% [markdown] answer id=q_architecture points=2
# **Question 2.** What conditions must the architecture satisfy: the sizes of consecutive layers, the
# output layer, the activations? What happens if every hidden activation is the identity?
#
# ### BEGIN SOLUTION
# Each layer's `n_in` is the previous layer's `n_out` (the first one's is the input dimension, 784);
# the output layer has one unit per class (10) and is followed by the softmax; activations must be
# differentiable almost everywhere (ReLU's kink at 0 is harmless) for gradient descent, and nonlinear:
# with identity activations the composition $X W_1 W_2 \cdots + \ldots$ is a single affine map, so the
# deep net is no more expressive than softmax regression (only its parametrisation changes). Weights
# must be initialised randomly (not all equal) to break the symmetry between units of a layer.
# ### END SOLUTION

# %% [markdown] rubric id=q_architecture_rubric
# - **Full (2 points)**: consecutive sizes match (each layer's `n_in` is the previous layer's `n_out`,
#   the first is the input dimension), the output layer has one unit per class followed by the softmax,
#   activations differentiable (almost everywhere) and nonlinear; with identity activations the whole
#   network collapses into one affine map (softmax regression), however deep.
# - **Half (1 point)**: the size and output conditions, or the identity-collapse argument, but not both.
# - **No points**: only "the layers must be connected", or a claim that identity activations still give a
#   more expressive model.
# - Mentioning random initialisation to break the symmetry is welcome but not required.

# %% [markdown] answer id=q_softmax_ce points=3
# **Question 3.** For one example with logits $z \in \mathbb{R}^K$, probabilities $p = \mathrm{softmax}(z)$
# and a one-hot label $y$, simplify the cross-entropy $-\sum_k y_k \log p_k$ and derive its gradient
# with respect to $z$. Why is it better to implement softmax and cross-entropy together than as two
# separate layers?
#
# ### BEGIN SOLUTION
# With $c$ the true class, $-\sum_k y_k \log p_k = -\log p_c = -z_c + \log \sum_j e^{z_j}$ (the log cancels
# the exp). Its derivative w.r.t. $z_k$ is $-y_k + e^{z_k} / \sum_j e^{z_j} = p_k - y_k$, so the gradient is
# $p - y$ (divided by $N$ for the mean over a batch). Together: the formula is simpler and cheaper (no
# $K \times K$ Jacobian of the softmax, no division by $p_c$), and numerically stable: the log-sum-exp
# form never takes $\log 0$ nor divides by a probability that underflowed, while separate layers
# would compute $\log p_c$ and $1/p_c$ from a $p_c$ that can be $0$.
# ### END SOLUTION

# %% [markdown] rubric id=q_softmax_ce_rubric
# - **Full (3 points)**: the simplification $-\log p_c = -z_c + \log\sum_j e^{z_j}$ (1 point); the
#   derivation of the gradient $p - y$ (divided by $N$ for a batch mean) with its steps (1 point); why
#   together: a simpler and cheaper gradient (no softmax Jacobian) and numerical stability (log-sum-exp,
#   no $\log 0$ or division by a probability that underflowed) (1 point).
# - **Half (1.5 points)**: the right gradient stated without derivation, or the derivation without the
#   reason to fuse the two.
# - **No points**: a gradient with the wrong sign ($y - p$ for the cost) or with a softmax Jacobian left
#   unsimplified and no result.

# %% [markdown]
# ## 7. MNIST
#
# The course's MNIST: 5,000 training digits and the 10,000 official test digits. Pixels are centred (the
# mean training image is subtracted) and scaled by their standard deviation, which makes the first
# layer's inputs zero-mean and speeds up gradient descent.

# %% id=load_data
mnist = load_mnist(one_hot=True)
mean_image = mnist.x_train.mean(axis=0)
pixel_scale = mnist.x_train.std()
x_train = ((mnist.x_train - mean_image) / pixel_scale).astype(np.float64)
x_test = ((mnist.x_test - mean_image) / pixel_scale).astype(np.float64)
y_train = mnist.y_train.astype(np.float64)
y_test = mnist.y_test.astype(np.float64)
print("x_train", x_train.shape, "y_train", y_train.shape, "x_test", x_test.shape, "y_test", y_test.shape)

# %% [markdown]
# ### Minibatch size and speed
#
# How long does one forward pass over a training set of the original MNIST size, 60,000 examples, take
# through the deeper network (784-150-200-150-50-10), in minibatches of 1, 2, 5, ... up to all 60,000
# at once? The values of the examples do not change the time of these dense operations, so the 60,000
# rows are our 5,000 training digits repeated 12 times.
#
# To keep the notebook fast, each minibatch size is timed on consecutive minibatches until 0.05 s have
# passed (or the whole set is done): that measures the time per example, and the time for the 60,000
# examples is that rate times 60,000 (only the largest minibatches go through the whole set). The clock
# is the CPU time of this process (`time.process_time`): unlike the wall clock, it does not count the
# time other programs take the processor away. Each measurement is the best of 3 runs.

# %% id=timing
rng = seed_everything(0)
timing_net = MLP([784, 150, 200, 150, 50, 10], "relu")
x_timing = np.tile(x_train, (12, 1))  # (60000, 784)
batch_sizes = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 60000]
seconds, rows_timed = [], []
for batch_size in batch_sizes:
    best_rate, rows = float("inf"), 0
    for repeat in range(3):
        start, done = time.process_time(), 0
        while done < len(x_timing) and (done == 0 or time.process_time() - start < 0.05):
            timing_net.propagate(x_timing[done:done + batch_size])
            done += batch_size
        rate = (time.process_time() - start) / done  # CPU seconds per example
        if rate < best_rate:
            best_rate, rows = rate, done
    seconds.append(best_rate * len(x_timing))
    rows_timed.append(rows)
seconds = np.array(seconds)
figure, axis = plt.subplots(figsize=(5.5, 3.8))
axis.loglog(batch_sizes, seconds, marker="o", label="measured")
axis.loglog(batch_sizes, seconds[0] / np.array(batch_sizes), linestyle="--", color="gray",
            label="if the time fell like 1/B")
axis.set_ylim(seconds.min() / 3, seconds.max() * 3)
axis.set_xlabel("minibatch size B")
axis.set_ylabel("CPU seconds for 60,000 examples")
axis.set_title("forward pass of a 60,000-example set")
axis.grid(alpha=0.3, which="both")
axis.legend()
plt.show()
print(" batch B   CPU seconds for 60,000   µs per example   rows timed   speed-up over B = 1")
for batch_size, duration, rows in zip(batch_sizes, seconds, rows_timed):
    print(f"{batch_size:>8}   {duration:22.2f}   {duration / len(x_timing) * 1e6:14.1f}   {rows:>10}   "
          f"{seconds[0] / duration:19.1f}")
at = dict(zip(batch_sizes, seconds))
per_call = (at[1] - at[1000]) / len(x_timing)  # a call costs about per_call + B * per_example
per_example = at[1000] / len(x_timing)
print(f"estimated cost of one call of propagate, whatever B: {per_call * 1e6:.0f} µs; "
      f"arithmetic per example: {per_example * 1e6:.1f} µs")
for small, large in ((1, 2), (1, 10), (10, 100), (100, 1000), (1000, 60000), (1, 60000)):
    print(f"time(B={small}) / time(B={large}) = {at[small] / at[large]:.2f}"
          f" (the minibatch is {large // small} times larger)")

# %% [markdown] answer id=q_batch_timing points=2
# **Question 4.** Interpret the plot: why does the time fall, then level off? What limits the minibatch
# size in practice, and what does a larger minibatch change for the training itself?
#
# ### BEGIN SOLUTION
# The time does not fall like 1/B (the dashed line): ten times larger minibatches make the pass only
# about two or three times faster from B = 1 to 10 and again from 10 to 100, never ten times (the printed
# ratios; they change a little from run to run, as timings do); from 100 to 1,000 the ratio is about 1,
# and 60,000 examples at once are slower than 1,000 at a time (ratio below 1). The best minibatches are
# only about 4 to 7 times faster than B = 1 (the last column), where 1/B would promise 60,000 times. The
# reason is
# a fixed cost per call of `propagate` (Python calls, NumPy's dispatch and small allocations, for five
# layers and the softmax), estimated in the table at several times the arithmetic of one example: with
# B = 1 it is paid for every example and dominates; with a few tens of examples per call it is spread
# thin, and what remains is the arithmetic itself (matrix-matrix products near the CPU's speed), which no
# minibatch size reduces, so the curve is flat. The largest minibatches are slower again because their
# activations (60,000 rows of up to 200 numbers per layer) no longer fit in the CPU's caches and every
# product waits for memory. In practice the minibatch size is limited by memory: the activations of
# every layer are kept for backpropagation. For training, a larger minibatch gives a less noisy gradient
# but fewer updates per epoch; beyond a few hundred examples it buys no speed here, so each epoch makes
# less progress for the same computation (see the minibatches of 1,000 below).
# ### END SOLUTION

# %% [markdown] rubric id=q_batch_timing_rubric
# - **Full (2 points)**: describes what the table shows, with its figures: the time for the 60,000
#   examples falls steeply for the smallest minibatches, far less than 1/B (the dashed line), levels off
#   after a few tens of examples and does not fall further (it may even rise for the largest minibatches);
#   explains it: a fixed cost per call (Python, NumPy dispatch, small allocations) shared by the B examples
#   of a call, then only the arithmetic, done at the speed of matrix-matrix products, which no batch size
#   reduces (and memory traffic when a batch no longer fits in the caches); names what limits B (the memory
#   for the activations kept for backpropagation) and what a larger B changes in training (fewer updates per
#   epoch, a less noisy gradient).
# - **Half (1 point)**: the explanation of the speed-up without the training side, or the training side
#   with a description that the measurements contradict (e.g. "the time falls like 1/B").
# - **No points**: only "bigger batches are faster", or claims the table contradicts.

# %% [markdown]
# ### Minibatch stochastic gradient descent
#
# Write `train`: for each epoch, shuffle the training examples (with `rng`), go through them in
# minibatches of `batch_size` (the last one may be smaller, every example is used once per epoch), and
# for each minibatch compute the cost, backpropagate and update with the learning rate of the epoch,
# `learning_rate * lr_decay ** epoch` (epochs counted from 0). After each epoch, record the cost on
# the whole training set and the error rates on the training and test sets.
#
# Shuffle with the generator `rng` made from `seed` (already written for you), so that the same seed
# gives the same minibatches. Use only `mlp`'s methods `cost`, `backpropagate`, `update_params`,
# `error_rate` (and `predict`, `propagate`): the graded test runs your `train` on the course's own `MLP`,
# recording every minibatch, learning rate and parameter update; it recomputes each entry of the
# history from the parameters after that epoch and requires it within a relative $10^{-6}$.

# %% solution id=train
def train(mlp, X, Y, X_test, Y_test, epochs, batch_size, learning_rate, lr_decay=1.0, seed=0):
    """Minibatch stochastic gradient descent.

    Inputs:
    - mlp: an MLP; X: (N, n_in) training batch; Y: (N, K) one-hot labels; X_test, Y_test: the same for testing.
    - epochs: number of passes over the training set; batch_size: examples per minibatch.
    - learning_rate: the step of the first epoch; lr_decay: its factor from one epoch to the next.
    - seed: seed of the generator that shuffles the examples.
    Returns:
    - history: {"cost": [...], "train_error": [...], "test_error": [...]}, one float per epoch each.
    """
    rng = np.random.default_rng(seed)
    history = {"cost": [], "train_error": [], "test_error": []}
    ### BEGIN SOLUTION
    N = X.shape[0]
    for epoch in range(epochs):
        rate = learning_rate * lr_decay ** epoch
        order = rng.permutation(N)
        for first in range(0, N, batch_size):
            batch = order[first:first + batch_size]
            mlp.cost(X[batch], Y[batch])
            mlp.backpropagate(Y[batch])
            mlp.update_params(rate)
        history["cost"].append(float(mlp.cost(X, Y)))
        history["train_error"].append(float(mlp.error_rate(X, Y)))
        history["test_error"].append(float(mlp.error_rate(X_test, Y_test)))
    ### END SOLUTION
    return history

# %% tests id=train_test points=1
# Checks: train() on 50 synthetic examples, 3 epochs, minibatches of 16: every example once per epoch in a new order, the same minibatches for the same seed, the learning rate of each epoch, every history entry recomputed from the parameters after its epoch
rng = np.random.default_rng(11)
centres = rng.normal(size=(3, 4)) * 3.0
labels = rng.integers(0, 3, size=50)
X = centres[labels] + rng.normal(size=(50, 4))
Y = np.eye(3)[labels]
X_test, Y_test = X[:20] + 0.1, Y[:20]
row_of = {X[i].tobytes(): i for i in range(len(X))}  # every training row is distinct


def spy_network():
    """MLP([4, 8, 3], 'tanh') that records what train does with it: the MLP class bound now is used (when
    graded, the course's own), so that only train is judged."""

    class SpyMLP(MLP):
        def _rows(self, batch):
            try:
                return tuple(row_of.get(np.asarray(row, dtype=np.float64).tobytes(), -1) for row in batch)
            except Exception:  # noqa: BLE001 - not an array of rows: not a training minibatch
                return None

        def propagate(self, X):
            if not self._in_cost:
                self._last_rows = self._rows(X)
            return super().propagate(X)

        def cost(self, X, Y):
            self._in_cost, self._last_rows = True, self._rows(X)
            try:
                value = super().cost(X, Y)
            finally:
                self._in_cost = False
            self._last_cost = value
            return value

        def backpropagate(self, Y):
            self.batches.append(self._last_rows)
            self.batch_costs.append(self._last_cost)
            return super().backpropagate(Y)

        def update_params(self, learning_rate):
            self.rates.append(float(learning_rate))
            result = super().update_params(learning_rate)
            self.after_update.append([(snapshot(layer.W), snapshot(layer.b)) for layer in self.layers])
            return result

    spy = call("MLP([4, 8, 3], 'tanh')", SpyMLP, [4, 8, 3], "tanh")
    spy._in_cost, spy._last_rows, spy._last_cost = False, None, None
    spy.batches, spy.batch_costs, spy.rates, spy.after_update = [], [], [], []
    return spy


def history_entries(params):
    """The test's own cost, training error and test error of the tanh network with these parameters."""
    def forward(inputs):
        A = inputs
        for i, (W, b) in enumerate(params):
            A = A @ W + b
            if i < len(params) - 1:
                A = np.tanh(A)
        return A

    logits = forward(X)
    log_P = logits - logits.max(axis=1, keepdims=True)
    log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
    return {"cost": float(-(Y * log_P).sum() / len(X)),
            "train_error": float((logits.argmax(axis=1) != labels).mean()),
            "test_error": float((forward(X_test).argmax(axis=1) != Y_test.argmax(axis=1)).mean())}


def run_train(epochs, batch_size, learning_rate, lr_decay, seed):
    spy = spy_network()
    start = [(snapshot(layer.W), snapshot(layer.b)) for layer in spy.layers]
    what = (f"train(mlp, X, Y, X_test, Y_test, epochs={epochs}, batch_size={batch_size}, "
            f"learning_rate={learning_rate}, lr_decay={lr_decay}, seed={seed})")
    X_before, Y_before = snapshot(X), snapshot(Y)
    history = call(what, train, spy, X, Y, X_test, Y_test, epochs, batch_size, learning_rate, lr_decay, seed)
    check_unchanged(X_before, X, "the training batch X given to train")
    check_unchanged(Y_before, Y, "the labels Y given to train")
    return spy, start, history, what


def check_train(epochs, batch_size, learning_rate, lr_decay, seed=0):
    spy, start, history, what = run_train(epochs, batch_size, learning_rate, lr_decay, seed)
    per_epoch = -(-50 // batch_size)
    sizes = [len(rows) if rows is not None else 0 for rows in spy.batches]
    assert_true(len(spy.batches) == epochs * per_epoch and sum(sizes) == epochs * 50,
                f"{what} backpropagated {len(spy.batches)} minibatches holding {sum(sizes)} examples in all: "
                f"expected {epochs * per_epoch} minibatches ({per_epoch} per epoch, the last one may be smaller) "
                f"holding every one of the 50 examples once per epoch ({epochs * 50})")
    assert_true(max(sizes) <= batch_size, f"{what} used a minibatch of {max(sizes)} examples, more than "
                f"batch_size={batch_size}")
    orders = []
    for epoch in range(epochs):
        order = [row for rows in spy.batches[epoch * per_epoch:(epoch + 1) * per_epoch] for row in rows]
        assert_true(sorted(order) == list(range(50)), f"{what}: in epoch {epoch} the minibatches do not hold each "
                    f"of the 50 training examples exactly once ({len(set(order) - {-1})} distinct examples of X, "
                    f"{order.count(-1)} rows that are not rows of X)")
        orders.append(order)
    if per_epoch > 1:
        assert_true(orders[0] != list(range(50)), f"{what} takes the examples in their original order: shuffle "
                    "them (rng.permutation) at the start of every epoch")
        assert_true(epochs == 1 or any(order != orders[0] for order in orders[1:]), f"{what} takes the examples in "
                    "the same order in every epoch: shuffle them again at the start of every epoch")
    expected_rates = [learning_rate * lr_decay ** (i // per_epoch) for i in range(epochs * per_epoch)]
    check_close(spy.rates, expected_rates, f"the learning rates passed to update_params by {what}",
                mistakes=[([learning_rate] * len(expected_rates), "the learning rate does not decay: use "
                           "learning_rate * lr_decay ** epoch"),
                          ([learning_rate * lr_decay ** (i // per_epoch + 1) for i in range(epochs * per_epoch)],
                           "the learning rate decays one epoch too early: epoch 0 uses learning_rate itself")])
    assert_true(isinstance(history, dict) and all(key in history for key in ("cost", "train_error", "test_error")),
                f"{what} should return a dict with the keys 'cost', 'train_error', 'test_error'")
    for key in ("cost", "train_error", "test_error"):
        check_shape(history[key], (epochs,), f"history[{key!r}] (one value per epoch)")
    params_before = [start] + [spy.after_update[(epoch + 1) * per_epoch - 1] for epoch in range(epochs)]
    for epoch in range(epochs):
        entries, late = history_entries(params_before[epoch + 1]), history_entries(params_before[epoch])
        costs = [c for c in spy.batch_costs[epoch * per_epoch:(epoch + 1) * per_epoch] if c is not None]
        minibatch_mean = float(np.mean(costs)) if len(costs) == per_epoch else float("nan")
        for key, entry in entries.items():
            mistakes = [(late[key], "the entries are measured before the epoch's updates, not after them")]
            if key == "cost":
                mistakes.insert(0, (minibatch_mean, "history['cost'] holds the mean of the minibatch costs of the "
                                    "epoch: record the cost on the whole training set after the epoch"))
            if key == "test_error":
                mistakes.insert(0, (entries["train_error"], "test_error is measured on the training set"))
            if key == "train_error":
                mistakes.insert(0, (1.0 - entry, "train_error holds the accuracy instead of the error rate"))
            check_close(history[key][epoch], entry, f"history[{key!r}][{epoch}] (after epoch {epoch}, with the "
                        "parameters at the end of that epoch)", mistakes=mistakes)
    start_cost = history_entries(start)["cost"]
    assert_true(bool(history["cost"][-1] < start_cost), f"{what} took the training cost from {start_cost:.4f} to "
                f"{float(history['cost'][-1]):.4f}: it should go down")
    again, _, _, _ = run_train(epochs, batch_size, learning_rate, lr_decay, seed)
    assert_true(again.batches == spy.batches, f"{what}, called twice, used different minibatches: shuffle with "
                "rng, the generator made from seed at the top of train, so that the same seed gives the same run")


with graded_with(globals(), "train", ("MLP",)):
    check_train(epochs=3, batch_size=16, learning_rate=0.3, lr_decay=1.0)
    ### BEGIN HIDDEN TESTS
    for epochs, batch_size, learning_rate, lr_decay, seed in ((4, 7, 0.2, 0.5, 3), (2, 50, 0.5, 0.9, 1),
                                                             (1, 64, 0.1, 0.5, 2)):
        check_train(epochs, batch_size, learning_rate, lr_decay, seed)
    ### END HIDDEN TESTS
print("train: right minibatches, learning rates and history")

# %% [markdown]
# Now train a shallow network (one hidden layer of 150 ReLU units) and a deeper one (hidden layers of
# 150, 200, 150 and 50 units), with the same settings: minibatches of 100, a learning rate of 0.3
# multiplied by 0.75 after each epoch, 8 epochs.
#
# **The accuracy test.** On your copy, the check after the curves requires a test accuracy of at least
# 0.92 on the 10,000 test digits for both of your networks; it relies on the initial scale of section 1
# (with a standard deviation of 0.01 the deep network stays near 10%). The graded test trains the
# course's own shallow network (its own `Layer`, `Softmax` and `MLP`, Glorot initialisation, seed 0)
# with your `train` and these settings, and requires a test accuracy of at least 0.92. Over the seeds
# 0 to 9 (initial weights and minibatch order), the course's solution reaches at least 0.9353 (shallow)
# and 0.9348 (deep): the threshold is more than 1.4 points below its worst result.

# %% id=train_shallow
rng = seed_everything(0)
settings = dict(epochs=8, batch_size=100, learning_rate=0.3, lr_decay=0.75)
start = time.perf_counter()
shallow = MLP([784, 150, 10], "relu")
history_shallow = train(shallow, x_train, y_train, x_test, y_test, **settings, seed=0)
print(f"shallow: {time.perf_counter() - start:.1f} s, test error {history_shallow['test_error'][-1]:.4f}")

# %% id=train_deep
rng = seed_everything(0)
start = time.perf_counter()
deep = MLP([784, 150, 200, 150, 50, 10], "relu")
history_deep = train(deep, x_train, y_train, x_test, y_test, **settings, seed=0)
print(f"deep: {time.perf_counter() - start:.1f} s, test error {history_deep['test_error'][-1]:.4f}")

# %% id=plot_curves
plot_learning_curves({"shallow 784-150-10": history_shallow, "deep 784-150-200-150-50-10": history_deep},
                     metrics=("cost", "train_error", "test_error"), title="Minibatch SGD on MNIST (5,000 digits)")
plt.show()
print("epoch   cost: shallow    deep   training error: shallow    deep   test error: shallow    deep")
for epoch in range(len(history_shallow["cost"])):
    print(f"{epoch:>5}   {history_shallow['cost'][epoch]:14.4f} {history_deep['cost'][epoch]:7.4f}   "
          f"{history_shallow['train_error'][epoch]:24.4f} {history_deep['train_error'][epoch]:7.4f}   "
          f"{history_shallow['test_error'][epoch]:20.4f} {history_deep['test_error'][epoch]:7.4f}")
for name, net in (("shallow", shallow), ("deep", deep)):
    print(f"parameters of the {name} network: {sum(layer.W.size + layer.b.size for layer in net.layers)}")

# %% tests id=accuracy_test points=2
# Checks: the test accuracy of your shallow and deep networks trained above is at least 0.92 (graded: the course's own shallow network trained by your train, at least 0.92)
test_labels = y_test.argmax(axis=1)


def check_accuracy(net, name):
    assert_true(net is not None, f"the network {name!r} does not exist: run the training cells above")
    predictions = check_shape(call(f"{name}.predict(x_test)", net.predict, x_test), (len(test_labels),),
                              f"{name}.predict(x_test)")
    accuracy = float((predictions == test_labels).mean())
    assert_true(accuracy >= 0.92, f"the {name} network reaches a test accuracy of {accuracy:.4f}, below 0.92 "
                "(check train, the gradients, the update and the initial scale of the weights)")
    return accuracy


own_networks = "MLP" not in (globals().get("_mlp_references") or {})  # your copy: your own networks
if own_networks:
    for name in ("shallow", "deep"):
        print(f"{name}: test accuracy {check_accuracy(globals().get(name), name):.4f}")
print("test accuracy at least 0.92:", "your shallow and deep networks" if own_networks
      else "graded below with the course's own network")
### BEGIN HIDDEN TESTS
with graded_with(globals(), "train", ("MLP",)):
    seed_everything(0)
    graded_net = call("MLP([784, 150, 10], 'relu')", MLP, [784, 150, 10], "relu")
    graded_schedule = dict(epochs=8, batch_size=100, learning_rate=0.3, lr_decay=0.75, seed=0)
    call("train(MLP([784, 150, 10], 'relu'), x_train, y_train, x_test, y_test, epochs=8, batch_size=100, "
         "learning_rate=0.3, lr_decay=0.75, seed=0)", train, graded_net, x_train, y_train, x_test, y_test,
         **graded_schedule)
    graded_accuracy = check_accuracy(graded_net, "course's shallow")
print(f"the course's shallow network trained by your train: test accuracy {graded_accuracy:.4f}")
### END HIDDEN TESTS

# %% [markdown]
# One run of each network is one draw: another seed (other initial weights, another order of the
# minibatches) gives other curves. The same two trainings with the seeds 1 and 2:

# %% id=other_seeds
final_errors = {("shallow", 0): history_shallow["test_error"][-1], ("deep", 0): history_deep["test_error"][-1]}
for seed in (1, 2):
    for name, sizes in (("shallow", [784, 150, 10]), ("deep", [784, 150, 200, 150, 50, 10])):
        rng = seed_everything(seed)
        net = MLP(sizes, "relu")
        final_errors[name, seed] = train(net, x_train, y_train, x_test, y_test, **settings, seed=seed)["test_error"][-1]
print("seed   test error: shallow    deep   deep - shallow")
for seed in (0, 1, 2):
    print(f"{seed:>4}   {final_errors['shallow', seed]:19.4f} {final_errors['deep', seed]:7.4f}   "
          f"{final_errors['deep', seed] - final_errors['shallow', seed]:+14.4f}")
for name in ("shallow", "deep"):
    errors = [final_errors[name, seed] for seed in (0, 1, 2)]
    print(f"{name}: mean test error {np.mean(errors):.4f}, from {min(errors):.4f} to {max(errors):.4f}")
means = {name: np.mean([final_errors[name, seed] for seed in (0, 1, 2)]) for name in ("shallow", "deep")}
print(f"difference of the means (deep - shallow): {means['deep'] - means['shallow']:+.4f}")
p = final_errors["shallow", 0]
print(f"standard error of one test error rate near {p:.3f} measured on 10,000 digits: "
      f"{np.sqrt(p * (1 - p) / len(x_test)):.4f}")

# %% [markdown] answer id=q_shallow_deep points=2
# **Question 5.** Compare the two learning curves: training cost, training error and test error. Which
# network fits the training set better, which generalises better, and why might the deeper one not
# be much better here?
#
# ### BEGIN SOLUTION
# Both fit the training set almost perfectly: after 8 epochs the training error is 0.26% (shallow) and
# 0.24% (deep). The deep network starts worse (epoch 0: cost 0.3047 against 0.1766, test error 11.04%
# against 8.84%: its signal and gradients go through more layers of still random weights), then its
# training cost falls below the shallow one's at epoch 3 (0.0390 against 0.0538) and ends at less than
# half of it (0.0169 against 0.0358): it fits the training set better. On the test set they end level:
# 6.47% (shallow) and 6.52% (deep) with seed 0. The three seeds do not rank them either: the deep network
# is ahead by 0.32% once and within 0.05% twice, the means differ by 0.10%, less than the spread from
# seed to seed (shallow 6.25% to 6.47%, deep 6.00% to 6.52%) and less than the standard error of one test
# error rate on 10,000 digits (0.25%). So here depth buys a lower training cost, not a measurably lower
# test error. The gap of about six points between training and test error is overfitting: with 5,000
# training digits the data, not the capacity (119260 against 186160 parameters), limits the test error;
# more data, data augmentation, regularisation or early stopping would help more than more layers.
# ### END SOLUTION

# %% [markdown] rubric id=q_shallow_deep_rubric
# - **Full (2 points)**: reads the curves correctly: both reach a training error well below 1%, the deep
#   network starts worse and then gets the lower training cost; the test errors end level (about 6.5% at
#   seed 0) and the difference is within the seed-to-seed spread and the standard error of the test error
#   (the three seeds or the 0.25% standard error quoted), so no ranking; and the reason: overfitting with
#   only 5,000 training digits (the training/test gap), the data rather than the capacity being the limit.
# - **Half (1 point)**: a correct description of the curves without the noise argument, or a ranking
#   ("the deep one generalises better") that the seeds do not support, with a correct overfitting argument.
# - **No points**: claims that contradict the plots or the table (e.g. the deep network has a higher
#   training error at the end, or one network is clearly better on the test set).

# %% [markdown]
# ### Learning rate, minibatch size, number of epochs
#
# What settings suit this problem? The shallow network, 4 epochs at a constant learning rate, for a few
# learning rates (minibatches of 100) and a few minibatch sizes (learning rate 0.3):

# %% id=settings_experiment
trials = [(0.03, 100), (0.3, 100), (3.0, 100), (0.3, 10), (0.3, 1000)]
print("learning rate   minibatch   CPU s   test error after epochs 1, 2, 3, 4       final cost")
for learning_rate, batch_size in trials:
    rng = seed_everything(0)
    net = MLP([784, 150, 10], "relu")
    start = time.process_time()
    with np.errstate(all="ignore"):  # a learning rate too large can overflow: that is part of the lesson
        history = train(net, x_train, y_train, x_test, y_test, epochs=4, batch_size=batch_size,
                        learning_rate=learning_rate, lr_decay=1.0, seed=0)
    errors = "  ".join(f"{error:.4f}" for error in history["test_error"])
    print(f"{learning_rate:>13}   {batch_size:>9}   {time.process_time() - start:5.1f}   {errors}   "
          f"{history['cost'][-1]:10.4g}")

# %% [markdown] answer id=q_settings points=2
# **Question 6.** From this table and the curves above: which learning rates, minibatch sizes and
# numbers of epochs suit this problem, and why? What does each setting trade off?
#
# ### BEGIN SOLUTION
# A learning rate of 0.3 with minibatches of 100 is the best setting of the table: 6.75% test error after
# 4 epochs. At 0.03 the steps are ten times smaller and 4 epochs only reach 9.78% (still falling); at 3.0
# training diverges: the cost overflows and the test error stays near chance (92% after 4 epochs). The
# minibatch size and the learning rate go together: with minibatches of 10 the rate 0.3 diverges too
# (gradients of 10 examples are much noisier, and there are 10 times more steps per epoch), while with
# minibatches of 1,000 there are only 5 updates per epoch and 4 epochs reach 9.92%, as slow as the small
# rate; a larger minibatch needs a larger rate or more epochs for the same progress. Epochs: in the curves
# above the test error of the shallow network barely moves after epoch 4 (6.60%, then 6.47% at epoch 7)
# while its training cost keeps falling, so more epochs mostly fit the training set better (overfitting);
# the decay of 0.75 per epoch lets the last epochs settle. The trade-offs: a larger rate is faster until
# it becomes unstable; a larger minibatch costs less time per example (the timing above) but gives fewer
# updates per epoch; more epochs cost time and stop helping the test error.
# ### END SOLUTION

# %% [markdown] rubric id=q_settings_rubric
# - **Full (2 points)**: from the table: 0.3 with minibatches of 100 works best (about 6.75% after 4 epochs),
#   0.03 is too slow, 3.0 diverges; the minibatch size interacts with the rate (10 diverges at 0.3, 1,000
#   is slow: fewer updates per epoch); from the curves: the test error stops improving after about 4 to 5
#   epochs while the training cost keeps falling; and the trade-offs (speed vs stability, time per example
#   vs number of updates, more epochs vs overfitting).
# - **Half (1 point)**: the learning-rate conclusions right but nothing on minibatch size or epochs, or
#   settings proposed without evidence from the table and the curves.
# - **No points**: conclusions the table contradicts (e.g. "the larger the learning rate the better", or
#   "minibatches of 10 are best").

# %% [markdown]
# ## 8. Questions on gradient descent

# %% [markdown] answer id=q_gd_variants points=2
# **Question 7.** Compare batch gradient descent, stochastic gradient descent (one example per step) and
# minibatch gradient descent: the cost of one step, the noise of the gradient, the number of updates
# per epoch, the use of the hardware.
#
# ### BEGIN SOLUTION
# Batch GD computes the exact gradient of the training cost over all N examples: one costly, noise-free
# step per epoch, deterministic, can get stuck in sharp minima or saddle points and does not scale to
# large N. SGD uses one example: N cheap steps per epoch, a very noisy (unbiased) gradient estimate, so
# it needs a small or decaying learning rate; it makes poor use of vectorised hardware (see the timing
# plot). Minibatch GD (B examples) is the compromise: the noise falls like 1/sqrt(B), N/B updates per
# epoch, and matrix-matrix products keep the CPU/GPU busy; the noise also helps escape poor regions.
# ### END SOLUTION

# %% [markdown] rubric id=q_gd_variants_rubric
# - **Full (2 points)**: the three variants compared on the four axes asked: cost of one step (all N
#   examples / one / B), noise of the gradient (exact / very noisy / in between, falling with B), updates
#   per epoch (1 / N / N/B), use of the hardware (one-example steps waste the vectorised products, as the
#   timing shows; minibatches keep them efficient); and minibatches named as the usual choice.
# - **Half (1 point)**: two or three of the four axes right, or all four without saying which variant
#   is used in practice and why.
# - **No points**: the variants confused (e.g. "SGD uses the whole set"), or only "minibatch is a
#   compromise" with no argument.

# %% [markdown] answer id=q_learning_rate points=2
# **Question 8.** What happens when the learning rate is too small, or too large? Why does decaying it
# over the epochs help minibatch SGD?
#
# ### BEGIN SOLUTION
# Too small: each step barely moves, training is slow and can stall on plateaus. Too large: steps
# overshoot the minimum along steep directions, the cost oscillates or diverges (NaN), and with ReLU
# many units can die. With minibatches the gradient is noisy, so even at a good rate the parameters
# keep jumping around the minimum at a distance proportional to the rate; decaying it keeps the large
# early steps (fast progress) and then reduces this noise so the iterates settle (the final test error
# becomes stable from run to run).
# ### END SOLUTION

# %% [markdown] rubric id=q_learning_rate_rubric
# - **Full (2 points)**: too small: slow progress, stalls (1/2 point); too large: overshoots, oscillates or
#   diverges (NaN), as the learning-rate table shows for 3.0 (1/2 point); decay: with minibatches the
#   gradient is noisy, so at a fixed rate the parameters keep jumping around the minimum at a distance
#   that grows with the rate; decaying keeps the fast early steps and then lets the iterates settle
#   (1 point).
# - **Half (1 point)**: the two extremes right but no reason for the decay, or the decay explained
#   without the noise of minibatch gradients.
# - **No points**: "a larger learning rate is always faster", or the effects of too small and too large
#   swapped.

