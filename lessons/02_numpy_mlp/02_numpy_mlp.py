# %% [markdown]
# # Practical 2: a multi-layer perceptron in NumPy, with backpropagation
#
# You will build, with nothing but NumPy, a multi-layer perceptron (MLP) for classification:
#
# 1. a fully connected `Layer` with its activation, forward (`propagate`) and backward (`backpropagate`);
# 2. a `Softmax` output with the cross-entropy cost, numerically stable;
# 3. an `MLP` that chains layers, computes the cost, backpropagates and takes gradient steps;
# 4. `gradient_check`, which compares your backpropagation with finite differences;
# 5. minibatch stochastic gradient descent (`train`) on MNIST, for a shallow and a deeper network.
#
# **Shape convention (used everywhere in this notebook): rows are examples.** A batch of $N$ examples
# with $D$ features is an array `X` of shape `(N, D)`. A layer with `n_in` inputs and `n_out` units has
# weights `W` of shape `(n_in, n_out)` and a bias `b` of shape `(n_out,)`, so that `X @ W + b` has shape
# `(N, n_out)`. Labels are one-hot rows: `Y` has shape `(N, K)` for $K$ classes.
#
# The checks under each exercise are only a first test; hidden tests run other shapes and values.
# Failing checks say what is wrong (shape, value, gradient, and which element).

# %% locked id=setup
# Imported first, before any of your code, so that the checks keep their own copies of NumPy's functions.
from dlcourse.checks import assert_close, assert_equal, assert_true, check_shape, CheckError
from dlcourse.gradcheck import numerical_gradient, relative_error
from dlcourse.mlp_checks import call, hint, check_close, check_gradient_close, check_unchanged, snapshot
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
        """Create the parameters: small random weights (to break the symmetry between units), zero bias.

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
# Checks: Layer's parameter shapes and propagate's shape and values for the four activations (5x4 batch, 3 units)
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
print("Layer.propagate: right shapes and values for", ", ".join(expected))
### BEGIN HIDDEN TESTS
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
    init_W = check_shape(layer.W, (n_in, n_out), f"Layer({n_in}, {n_out}, '{activation}').W")
    check_shape(layer.b, (n_out,), f"Layer({n_in}, {n_out}, '{activation}').b")
    assert_true(bool((init_W.max() - init_W.min()) > 1e-6),
                f"Layer({n_in}, {n_out}, '{activation}').W starts with all its entries equal: initialise the "
                "weights randomly, or every unit of the layer computes (and learns) the same thing")
    assert_true(bool(abs(init_W).max() < 10.0),
                f"Layer({n_in}, {n_out}, '{activation}').W starts with entries as large as "
                f"{abs(init_W).max():.3g}: use small random weights (scale about 1/sqrt(n_in))")
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
### END HIDDEN TESTS

# %% tests id=layer_backward_test points=3
# Checks: Layer.backpropagate (gradient w.r.t. X), gradient_weights() and gradient_bias() against finite differences (tanh, 5x4 batch, 3 units, random upstream gradient)
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
delta = G * (1.0 - np.tanh(X @ W + b) ** 2)  # dC/dZ
bias_mistakes = [(delta, "gradient_bias() is not summed over the batch (one row per example): sum over axis 0"),
                 (delta.mean(axis=0), "gradient_bias() averages over the batch: it should sum (the 1/N of the "
                  "mean cost is already inside grad_out)")]
# finite differences of C(X, W, b) = sum(G * propagate(X)) in float64
Xc, Wc, bc = X.copy(), W.copy(), b.copy()
layer.W, layer.b = Wc, bc
num_X = numerical_gradient(lambda x: (G * call("Layer.propagate", layer.propagate, x)).sum(), Xc)
num_W = numerical_gradient(lambda w: (G * call("Layer.propagate", layer.propagate, X)).sum(), Wc)
num_b = numerical_gradient(lambda v: (G * call("Layer.propagate", layer.propagate, X)).sum(), bc)
check_gradient_close(grad_X, num_X, "Layer.backpropagate(grad_out), the gradient w.r.t. X", tol=1e-6,
                     mistakes=[(G @ W.T, "the derivative of tanh is missing"),
                               ((G * (1.0 - np.tanh(X @ W + b))) @ W.T, "the derivative of tanh is wrong: "
                                "it is 1 - tanh(z)**2")])
check_gradient_close(grad_b, num_b, "Layer.gradient_bias()", tol=1e-6, mistakes=bias_mistakes)
check_gradient_close(grad_W, num_W, "Layer.gradient_weights()", tol=1e-6)
print("Layer.backpropagate: the three gradients agree with finite differences")
### BEGIN HIDDEN TESTS
import torch


def torch_layer(X, W, b, activation, G):
    """Reference values by PyTorch autograd: A, dC/dX, dC/dW, dC/db for C = sum(G * A)."""
    Xt, Wt, bt = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (X, W, b))
    Zt = Xt @ Wt + bt
    At = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}[activation](Zt)
    (At * torch.tensor(G, dtype=torch.float64)).sum().backward()
    return At.detach().numpy(), Xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()


rng = np.random.default_rng(202)
N, n_in, n_out = 6, 5, 3
identity_passed = False
for activation in ("identity", "sigmoid", "tanh", "relu"):
    X = rng.normal(size=(N, n_in))
    W = rng.normal(size=(n_in, n_out)) * 0.7
    b = rng.normal(size=n_out) * 0.5
    G = rng.normal(size=(N, n_out))
    Z = X @ W + b
    what = f"Layer({n_in}, {n_out}, '{activation}')"
    if activation == "identity":
        suspect = "(with the identity activation, so the matrix products are wrong, not a derivative)"
    elif identity_passed:
        suspect = (f"(the identity activation passed, so the derivative of {activation} is the suspect; "
                   "remember f'(z) = a(1 - a) for sigmoid, 1 - a**2 for tanh, 1[z > 0] for relu)")
    else:
        suspect = f"(activation {activation})"
    with hint(suspect):
        layer = call(what, Layer, n_in, n_out, activation)
        layer.W, layer.b = W.copy(), b.copy()
        call(f"{what}.propagate(X)", layer.propagate, X)
        G_before = snapshot(G)
        grad_X = call(f"{what}.backpropagate(grad_out)", layer.backpropagate, G)
        check_unchanged(G_before, G, f"the upstream gradient grad_out given to {what}.backpropagate")
        grad_W = snapshot(check_shape(call(f"{what}.gradient_weights()", layer.gradient_weights),
                                      (n_in, n_out), f"{what}.gradient_weights()"))
        grad_b = snapshot(check_shape(call(f"{what}.gradient_bias()", layer.gradient_bias), (n_out,),
                                      f"{what}.gradient_bias()"))
        _, t_X, t_W, t_b = torch_layer(X, W, b, activation, G)
        bias_mistakes = [(t_b / N, f"{what}.gradient_bias() averages over the batch: it should sum")]
        check_gradient_close(grad_X, t_X, f"{what}.backpropagate(grad_out) vs PyTorch autograd", tol=1e-9)
        check_gradient_close(grad_W, t_W, f"{what}.gradient_weights() vs PyTorch autograd", tol=1e-9)
        check_gradient_close(grad_b, t_b, f"{what}.gradient_bias() vs PyTorch autograd", tol=1e-9,
                             mistakes=bias_mistakes)
        Xc, Wc, bc = X.copy(), W.copy(), b.copy()
        layer.W, layer.b = Wc, bc
        f = lambda _: (G * call(f"{what}.propagate", layer.propagate, Xc)).sum()
        check_gradient_close(grad_X, numerical_gradient(f, Xc), f"{what}.backpropagate(grad_out)", tol=1e-6)
        check_gradient_close(grad_W, numerical_gradient(f, Wc), f"{what}.gradient_weights()", tol=1e-6)
        check_gradient_close(grad_b, numerical_gradient(f, bc), f"{what}.gradient_bias()", tol=1e-6,
                             mistakes=bias_mistakes)
    if activation == "identity":
        identity_passed = True
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
with hint("An unstable softmax: exp(1000) overflows; subtract each row's largest logit before np.exp"):
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
with hint("An unstable softmax: exp(z) overflows for z > 709; subtract each row's largest logit before np.exp"):
    shifted = Z + np.array([[800.0], [-800.0], [1000.0], [0.0], [750.0], [-1000.0]])
    check_close(call("Softmax().propagate(Z)", softmax.propagate, shifted), expected,
                "Softmax().propagate(Z) with rows shifted by ±800 or ±1000 (the same probabilities)", atol=1e-12)
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
with hint("For logits of ±1000, compute log-probabilities as (Z - max) - log(sum(exp(Z - max))): "
          "np.log of a softmax that underflowed to 0 is -inf"):
    call("Softmax().propagate(Z) with logits of ±1000", softmax.propagate, big)
    check_close(call("Softmax().cost(Y)", softmax.cost, np.eye(3)[[1, 0]]), 2000.0,
                "Softmax().cost(Y) for logits of ±1000, both examples confidently wrong")
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
### END HIDDEN TESTS

# %% tests id=softmax_backward_test points=1
# Checks: Softmax.backpropagate(Y), the gradient of the mean cost w.r.t. the logits, against finite differences (4x3 batch)
rng = np.random.default_rng(6)
Z = rng.normal(size=(4, 3))
Y = np.eye(3)[[1, 0, 2, 2]]


def mean_cross_entropy(Z, Y):
    log_P = Z - Z.max(axis=1, keepdims=True)
    log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
    return -(Y * log_P).sum() / Z.shape[0]


softmax = call("Softmax()", Softmax)
call("Softmax().propagate(Z)", softmax.propagate, Z)
Y_before = snapshot(Y)
grad_Z = call("Softmax().backpropagate(Y)", softmax.backpropagate, Y)
check_unchanged(Y_before, Y, "the labels Y given to Softmax.backpropagate")
numeric = numerical_gradient(lambda z: mean_cross_entropy(z, Y), Z.copy())
check_gradient_close(grad_Z, numeric, "Softmax().backpropagate(Y)", tol=1e-6,
                     mistakes=[(numeric * Z.shape[0], "the gradient is N times too large: the cost is a mean over the "
                                "N examples, so its gradient carries a factor 1/N"),
                               (-numeric, "the gradient has the wrong sign: it is (P - Y) / N")])
print("Softmax.backpropagate: right")
### BEGIN HIDDEN TESTS
import torch

rng = np.random.default_rng(606)
Z = rng.normal(size=(6, 5)) * 2.0
labels = rng.integers(0, 5, size=6)
Y = np.eye(5)[labels]
Zt = torch.tensor(Z, requires_grad=True)
torch.nn.functional.cross_entropy(Zt, torch.tensor(labels)).backward()  # mean over the batch
softmax = call("Softmax()", Softmax)
call("Softmax().propagate(Z)", softmax.propagate, Z)
grad_Z = call("Softmax().backpropagate(Y)", softmax.backpropagate, Y)
mistakes = [(Zt.grad.numpy() * 6, "the gradient is N times too large: the cost is a mean over the N examples, "
             "so its gradient carries a factor 1/N")]
check_gradient_close(grad_Z, Zt.grad.numpy(), "Softmax().backpropagate(Y) vs PyTorch autograd (6x5)", tol=1e-9,
                     mistakes=mistakes)
error = check_gradient_close(grad_Z, numerical_gradient(lambda z: mean_cross_entropy(z, Y), Z.copy()),
                             "Softmax().backpropagate(Y) (6x5)", tol=1e-6, mistakes=mistakes)
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
# misclassified examples, between 0 and 1.

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
rng = np.random.default_rng(7)
sizes = [4, 5, 3]
mlp = call("MLP([4, 5, 3], 'tanh')", MLP, sizes, "tanh")
assert_true(len(mlp.layers) == 2, f"MLP([4, 5, 3], 'tanh').layers should hold 2 layers (4->5 tanh, 5->3 "
            f"identity), it holds {len(mlp.layers)}")
params = []
for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
    check_shape(mlp.layers[i].W, (n_in, n_out), f"MLP([4, 5, 3], 'tanh').layers[{i}].W")
    W, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    mlp.layers[i].W, mlp.layers[i].b = W.copy(), b.copy()
    params.append((W, b))
X = rng.normal(size=(6, 4))
H = np.tanh(X @ params[0][0] + params[0][1])
logits = H @ params[1][0] + params[1][1]
E = np.exp(logits - logits.max(axis=1, keepdims=True))
P_expected = E / E.sum(axis=1, keepdims=True)
T = np.tanh(logits)
E_tanh = np.exp(T - T.max(axis=1, keepdims=True))
X_before = snapshot(X)
check_close(call("MLP.propagate(X)", mlp.propagate, X), P_expected, "MLP([4, 5, 3], 'tanh').propagate(X)",
            mistakes=[(E_tanh / E_tanh.sum(axis=1, keepdims=True),
                       "the output layer uses tanh: it should use the identity, the softmax comes after it")])
check_unchanged(X_before, X, "the input batch X of MLP.propagate")
labels = P_expected.argmax(axis=1)
assert_equal(call("MLP.predict(X)", mlp.predict, X), labels, "MLP.predict(X)")
wrong = labels.copy()
wrong[[1, 4]] = (wrong[[1, 4]] + 1) % 3  # two of the six labels differ from the predictions
Y = np.eye(3)[wrong]
check_close(call("MLP.error_rate(X, Y)", mlp.error_rate, X, Y), 2 / 6, "MLP.error_rate(X, Y)",
            mistakes=[(4 / 6, "error_rate returns the accuracy: it should be the fraction of errors"),
                      (2.0, "error_rate returns a count of errors: divide by the number of examples")])
per_example = -np.log((P_expected * Y).sum(axis=1))
check_close(call("MLP.cost(X, Y)", mlp.cost, X, Y), per_example.mean(), "MLP.cost(X, Y)",
            mistakes=[(per_example.sum(), "the cost is the sum over the batch: it should be the mean")])
print("MLP: propagate, predict, error_rate and cost are right")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(707)
sizes = [6, 5, 4, 7, 3]
mlp = call("MLP([6, 5, 4, 7, 3], 'relu')", MLP, sizes, "relu")
assert_true(len(mlp.layers) == 4, f"MLP([6, 5, 4, 7, 3], 'relu').layers should hold 4 layers, it holds "
            f"{len(mlp.layers)}")
X = rng.normal(size=(9, 6))
A = X
for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
    check_shape(mlp.layers[i].W, (n_in, n_out), f"MLP([6, 5, 4, 7, 3], 'relu').layers[{i}].W")
    W, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out) * 0.1
    mlp.layers[i].W, mlp.layers[i].b = W.copy(), b.copy()
    A = A @ W + b
    if i < len(sizes) - 2:
        A = np.maximum(A, 0.0)
E = np.exp(A - A.max(axis=1, keepdims=True))
P_expected = E / E.sum(axis=1, keepdims=True)
X_before = snapshot(X)
check_close(call("MLP.propagate(X)", mlp.propagate, X), P_expected, "MLP([6, 5, 4, 7, 3], 'relu').propagate(X)")
check_unchanged(X_before, X, "the input batch X of MLP.propagate")
labels = P_expected.argmax(axis=1)
assert_equal(call("MLP.predict(X)", mlp.predict, X), labels, "MLP.predict(X) on 9 examples")
wrong = labels.copy()
wrong[[0, 3, 8]] = (wrong[[0, 3, 8]] + 2) % 3
Y = np.eye(3)[wrong]
check_close(call("MLP.error_rate(X, Y)", mlp.error_rate, X, Y), 3 / 9, "MLP.error_rate(X, Y) on 9 examples",
            mistakes=[(6 / 9, "error_rate returns the accuracy: it should be the fraction of errors")])
log_P = A - A.max(axis=1, keepdims=True)
log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
per_example = -(Y * log_P).sum(axis=1)
cost = check_close(call("MLP.cost(X, Y)", mlp.cost, X, Y), per_example.mean(), "MLP.cost(X, Y) on 9 examples",
            mistakes=[(per_example.sum(), "the cost is the sum over the batch: it should be the mean")])
### END HIDDEN TESTS

# %% tests id=mlp_backward_test points=2
# Checks: after MLP.cost(X, Y) and MLP.backpropagate(Y), every layer's gradients against finite differences (MLP([4, 5, 3], 'tanh'), 6 examples)
rng = np.random.default_rng(8)
sizes = [4, 5, 3]
X = rng.normal(size=(6, 4))
Y = np.eye(3)[[0, 1, 2, 2, 1, 0]]
params = [(rng.normal(size=(n_in, n_out)) * 0.8, rng.normal(size=n_out) * 0.3) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def reference_cost(params, X, Y, activation):
    """The mean cross-entropy of an MLP with the given parameters (computed by the test, not your code)."""
    f = {"tanh": np.tanh, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0.0)}[activation]
    A = X
    for i, (W, b) in enumerate(params):
        A = A @ W + b
        if i < len(params) - 1:
            A = f(A)
    log_P = A - A.max(axis=1, keepdims=True)
    log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
    return -(Y * log_P).sum() / X.shape[0]


def check_mlp_gradients(sizes, activation, params, X, Y, tol=1e-6):
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
    for i, ((gW, gb), (W, b)) in enumerate(zip(gradients, params)):
        copies = [(w.copy(), v.copy()) for w, v in params]
        num_W = numerical_gradient(lambda w: reference_cost(copies, X, Y, activation), copies[i][0])
        num_b = numerical_gradient(lambda v: reference_cost(copies, X, Y, activation), copies[i][1])
        mistakes = [(num_W * X.shape[0], "the gradients are N times too large: the cost is a mean, its gradient "
                     "carries a factor 1/N")]
        check_gradient_close(gW, num_W, f"{name}.layers[{i}].gradient_weights()", tol=tol, mistakes=mistakes)
        check_gradient_close(gb, num_b, f"{name}.layers[{i}].gradient_bias()", tol=tol,
                             mistakes=[(num_b * X.shape[0], mistakes[0][1])])
    return mlp, gradients


check_mlp_gradients(sizes, "tanh", params, X, Y)
print("MLP.backpropagate: every layer's gradients agree with finite differences")
### BEGIN HIDDEN TESTS
import torch

rng = np.random.default_rng(808)
for sizes, activation in (([5, 4, 6, 3], "sigmoid"), ([3, 7, 4], "relu")):
    X = rng.normal(size=(8, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=8)]
    params = [(rng.normal(size=(n_in, n_out)) * 0.8, rng.normal(size=n_out) * 0.3)
              for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    mlp, gradients = check_mlp_gradients(sizes, activation, params, X, Y)
    tensors = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    A = torch.tensor(X)
    for i, (W, b) in enumerate(tensors):
        A = A @ W + b
        if i < len(tensors) - 1:
            A = {"sigmoid": torch.sigmoid, "relu": torch.relu}[activation](A)
    torch.nn.functional.cross_entropy(A, torch.tensor(Y.argmax(axis=1))).backward()
    for i, ((gW, gb), (W, b)) in enumerate(zip(gradients, tensors)):
        check_gradient_close(gW, W.grad.numpy(), f"MLP({sizes}, '{activation}').layers[{i}].gradient_weights() "
                             "vs PyTorch autograd", tol=1e-9)
        check_gradient_close(gb, b.grad.numpy(), f"MLP({sizes}, '{activation}').layers[{i}].gradient_bias() "
                             "vs PyTorch autograd", tol=1e-9)
### END HIDDEN TESTS

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


mlp = check_mlp_update(0.2)
first = check_shape(call("MLP.cost(X, Y)", mlp.cost, X, Y), (), "MLP.cost(X, Y)")
for step in range(20):
    call("MLP.cost(X, Y)", mlp.cost, X, Y)
    call("MLP.backpropagate(Y)", mlp.backpropagate, Y)
    call("MLP.update_params(0.5)", mlp.update_params, 0.5)
last = check_shape(call("MLP.cost(X, Y)", mlp.cost, X, Y), (), "MLP.cost(X, Y)")
assert_true(bool(last < first - 0.05), f"20 steps of gradient descent (learning rate 0.5) took the cost of a "
            f"10-example batch from {float(first):.4f} to {float(last):.4f}: it should go down")
print(f"MLP.update_params: right; 20 steps took the cost from {float(first):.3f} to {float(last):.3f}")
### BEGIN HIDDEN TESTS
for learning_rate in (0.03, 1.7):
    check_mlp_update(learning_rate)
### END HIDDEN TESTS

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
# Checks: gradient_check returns one number below 3e-7 for your (correct) MLP([4, 5, 3], 'tanh') on 6 examples
rng = np.random.default_rng(10)
X = rng.normal(size=(6, 4))
Y = np.eye(3)[[0, 2, 1, 1, 0, 2]]
mlp = call("MLP([4, 5, 3], 'tanh')", MLP, [4, 5, 3], "tanh")
worst = check_shape(call("gradient_check(mlp, X, Y, 1e-6)", gradient_check, mlp, X, Y, 1e-6), (),
                    "gradient_check(mlp, X, Y, 1e-6)")
assert_true(bool(0.0 <= worst < 3e-7), f"gradient_check(mlp, X, Y, 1e-6) returned {float(worst):.3g} for "
            "MLP([4, 5, 3], 'tanh'): a correct backpropagation gives less than 3e-7 (if your MLP passed its tests, "
            "look at gradient_check)")
print(f"gradient_check: largest relative error {float(worst):.2e}")
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


rng = np.random.default_rng(1010)
X = rng.normal(size=(7, 5))
Y = np.eye(3)[rng.integers(0, 3, size=7)]
params = [(rng.normal(size=(5, 4)), rng.normal(size=4)), (rng.normal(size=(4, 3)), rng.normal(size=3))]
net = _TestNet([(W.copy(), b.copy()) for W, b in params])
worst = check_shape(call("gradient_check(net, X, Y, 1e-6)", gradient_check, net, X, Y, 1e-6), (),
                    "gradient_check on a correct 5-4-3 tanh network")
assert_true(bool(0.0 <= worst < 3e-7), f"gradient_check returned {float(worst):.3g} for a network whose gradients "
            "are right: it should be below 3e-7 (centred differences (C(p + eps) - C(p - eps)) / (2 eps), in float64)")
with hint("gradient_check must put back every parameter it perturbs"):
    for i, (layer, (W, b)) in enumerate(zip(net.layers, params)):
        check_close(layer.W, W, f"layers[{i}].W after gradient_check", rtol=0, atol=1e-12)
        check_close(layer.b, b, f"layers[{i}].b after gradient_check", rtol=0, atol=1e-12)
with hint("gradient_check must work in float64: convert the network's W and b (and X, Y) to float64 first"):
    net32 = _TestNet([(W.astype(np.float32), b.astype(np.float32)) for W, b in params])
    worst32 = check_shape(call("gradient_check(net, X, Y, 1e-6)", gradient_check, net32, X.astype(np.float32),
                               Y.astype(np.float32), 1e-6), (), "gradient_check on a network with float32 parameters")
    assert_true(bool(0.0 <= worst32 < 3e-7), f"gradient_check returned {float(worst32):.3g} for a correct network "
                "whose parameters are float32")
# sabotaged gradients: gradient_check must see them, in any layer, in W or in b
for target, factor in (("layers[0].gradient_bias()", 1.5), ("layers[1].gradient_weights()", 0.8)):
    net = _TestNet([(W.copy(), b.copy()) for W, b in params])
    layer = net.layers[0] if target.startswith("layers[0]") else net.layers[1]
    method = "gradient_bias" if target.endswith("bias()") else "gradient_weights"
    original = getattr(_TestLayer, method)
    setattr(layer, method, lambda original=original, layer=layer, factor=factor: original(layer) * factor)
    net.cost(X, Y)
    net.backpropagate(Y)
    true_gradient = original(layer).copy()
    expected = relative_error(true_gradient * factor, true_gradient)
    what = f"gradient_check on a network whose {target} is {factor} times the true one"
    got = float(check_shape(call("gradient_check(net, X, Y, 1e-6)", gradient_check, net, X, Y, 1e-6), (), what))
    assert_true(got > 0.01 * expected, f"{what} returned {got:.3g}, expected {expected:.4g}: gradient_check does "
                "not look at every W and b of every layer")
    check_close(got, expected, what, rtol=1e-3)
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
# Checks: count_parameters([784, 100, 200, 50, 10]) (3 hidden layers)
sizes = [784, 100, 200, 50, 10]
weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
count = call("count_parameters([784, 100, 200, 50, 10])", count_parameters, sizes)
check_close(count, weights + sum(sizes[1:]), "count_parameters([784, 100, 200, 50, 10])", rtol=0, atol=0,
            mistakes=[(weights, "the biases are not counted"),
                      (weights + sum(sizes), "the input layer has no bias: count one bias per unit of layers 1..L+1")])
print(f"count_parameters([784, 100, 200, 50, 10]) = {int(check_shape(count, ()))}")
### BEGIN HIDDEN TESTS
for sizes in ([3, 2], [5, 4, 3, 2], [10, 1, 10]):
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    check_close(call(f"count_parameters({sizes})", count_parameters, sizes), weights + sum(sizes[1:]),
                f"count_parameters({sizes})", rtol=0, atol=0, mistakes=[(weights, "the biases are not counted")])
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
# Forward-propagate the whole training set through the deeper network (784-150-200-150-50-10), in
# minibatches of 1, 2, 5, ... up to all 5,000 digits at once, and time it (the best of 3 runs: other
# programs on the machine can only make a run slower).

# %% id=timing
rng = seed_everything(0)
timing_net = MLP([784, 150, 200, 150, 50, 10], "relu")
batch_sizes = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
seconds = []
for batch_size in batch_sizes:
    runs = []
    for repeat in range(3):
        start = time.perf_counter()
        for first in range(0, len(x_train), batch_size):
            timing_net.propagate(x_train[first:first + batch_size])
        runs.append(time.perf_counter() - start)
    seconds.append(min(runs))
figure, axis = plt.subplots(figsize=(5, 3.6))
axis.loglog(batch_sizes, seconds, marker="o")
axis.set_xlabel("minibatch size")
axis.set_ylabel("seconds for the 5,000 digits")
axis.set_title("forward pass of the training set")
axis.grid(alpha=0.3, which="both")
plt.show()
for batch_size, duration in zip(batch_sizes, seconds):
    print(f"batch {batch_size:>4}: {duration * 1000:8.1f} ms ({duration / len(x_train) * 1e6:6.1f} µs per digit)")

# %% [markdown] answer id=q_batch_timing points=2
# **Question 4.** Interpret the plot: why does the time fall, then level off? What limits the minibatch
# size in practice, and what does a larger minibatch change for the training itself?
#
# ### BEGIN SOLUTION
# With tiny batches the time is dominated by fixed per-call costs (Python calls, NumPy dispatch, small
# allocations): each of the 5,000/B calls costs about the same whatever B, so the time falls almost
# like 1/B. From a few hundred examples on, matrix-matrix products (BLAS level 3) use the CPU near its
# peak: the time is proportional to the arithmetic, the same for any batch size, so the curve flattens
# (it can even rise a little when the batch no longer fits in cache). The batch size is limited by
# memory (activations of every layer are kept for backprop). For training, a larger batch gives a less
# noisy gradient but fewer updates per epoch; beyond some size each epoch makes less progress for the
# same computation, and the noise of small batches can help generalisation.
# ### END SOLUTION

# %% [markdown]
# ### Minibatch stochastic gradient descent
#
# Write `train`: for each epoch, shuffle the training examples (with `rng`), go through them in
# minibatches of `batch_size` (the last one may be smaller, every example is used once per epoch), and
# for each minibatch compute the cost, backpropagate and update with the learning rate of the epoch,
# `learning_rate * lr_decay ** epoch` (epochs counted from 0). After each epoch, record the cost on
# the whole training set and the error rates on the training and test sets.

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
        # one pass over the training set gives both its cost and its error rate
        history["cost"].append(mlp.cost(X, Y))
        history["train_error"].append(float((mlp.softmax.P.argmax(axis=1) != Y.argmax(axis=1)).mean()))
        history["test_error"].append(mlp.error_rate(X_test, Y_test))
    ### END SOLUTION
    return history

# %% tests id=train_test points=1
# Checks: train() on 50 synthetic examples, 3 epochs, minibatches of 16: every example once per epoch, the learning rate of each epoch, one history entry per epoch
rng = np.random.default_rng(11)
centres = rng.normal(size=(3, 4)) * 3.0
labels = rng.integers(0, 3, size=50)
X = centres[labels] + rng.normal(size=(50, 4))
Y = np.eye(3)[labels]
X_test, Y_test = X[:20] + 0.1, Y[:20]


class SpyMLP(MLP):
    """Your MLP, recording the minibatches it is trained on and the learning rates it is given."""

    def backpropagate(self, Y):
        self.batch_sizes.append(len(Y))
        return super().backpropagate(Y)

    def update_params(self, learning_rate):
        self.rates.append(float(learning_rate))
        return super().update_params(learning_rate)


def check_train(epochs, batch_size, learning_rate, lr_decay):
    spy = call("MLP([4, 8, 3], 'tanh')", SpyMLP, [4, 8, 3], "tanh")
    spy.batch_sizes, spy.rates = [], []
    X_before, Y_before = snapshot(X), snapshot(Y)
    start_cost = float(check_shape(call("MLP.cost(X, Y)", spy.cost, X, Y), ()))
    spy.batch_sizes, spy.rates = [], []
    what = f"train(mlp, X, Y, X_test, Y_test, epochs={epochs}, batch_size={batch_size}, learning_rate={learning_rate}, lr_decay={lr_decay})"
    history = call(what, train, spy, X, Y, X_test, Y_test, epochs, batch_size, learning_rate, lr_decay)
    check_unchanged(X_before, X, f"the training batch X given to train")
    check_unchanged(Y_before, Y, f"the labels Y given to train")
    per_epoch = -(-50 // batch_size)
    assert_true(len(spy.batch_sizes) == epochs * per_epoch and sum(spy.batch_sizes) == epochs * 50,
                f"{what} backpropagated {len(spy.batch_sizes)} minibatches holding {sum(spy.batch_sizes)} examples "
                f"in all: expected {epochs * per_epoch} minibatches ({per_epoch} per epoch, the last one smaller) "
                f"holding every one of the 50 examples once per epoch ({epochs * 50})")
    assert_true(max(spy.batch_sizes) <= batch_size, f"{what} used a minibatch of {max(spy.batch_sizes)} examples, "
                f"more than batch_size={batch_size}")
    expected_rates = [learning_rate * lr_decay ** (i // per_epoch) for i in range(epochs * per_epoch)]
    check_close(spy.rates, expected_rates, f"the learning rates passed to update_params by {what}",
                mistakes=[([learning_rate] * len(expected_rates), "the learning rate does not decay: use "
                           "learning_rate * lr_decay ** epoch")])
    assert_true(isinstance(history, dict) and all(key in history for key in ("cost", "train_error", "test_error")),
                f"{what} should return a dict with the keys 'cost', 'train_error', 'test_error'")
    for key in ("cost", "train_error", "test_error"):
        check_shape(history[key], (epochs,), f"history[{key!r}] (one value per epoch)")
    check_close(history["cost"][-1], call("MLP.cost(X, Y)", spy.cost, X, Y), "history['cost'][-1] (the cost on "
                "the whole training set after the last epoch)")
    check_close(history["test_error"][-1], call("MLP.error_rate(X_test, Y_test)", spy.error_rate, X_test, Y_test),
                "history['test_error'][-1] (the test error rate after the last epoch)",
                mistakes=[(call("MLP.error_rate(X, Y)", spy.error_rate, X, Y), "test_error is measured on the training set")])
    check_close(history["train_error"][-1], call("MLP.error_rate(X, Y)", spy.error_rate, X, Y),
                "history['train_error'][-1] (the training error rate after the last epoch)")
    assert_true(bool(history["cost"][-1] < start_cost), f"{what} took the training cost from {start_cost:.4f} to "
                f"{float(history['cost'][-1]):.4f}: it should go down")


check_train(epochs=3, batch_size=16, learning_rate=0.3, lr_decay=1.0)
print("train: right minibatches, learning rates and history")
### BEGIN HIDDEN TESTS
for epochs, batch_size, learning_rate, lr_decay in ((4, 7, 0.2, 0.5), (2, 50, 0.5, 0.9)):
    check_train(epochs, batch_size, learning_rate, lr_decay)
### END HIDDEN TESTS

# %% [markdown]
# Now train a shallow network (one hidden layer of 150 ReLU units) and a deeper one (hidden layers of
# 150, 200, 150 and 50 units), with the same settings: minibatches of 100, a learning rate of 0.3
# multiplied by 0.75 after each epoch, 8 epochs.

# %% id=train_shallow
rng = seed_everything(0)
settings = dict(epochs=8, batch_size=100, learning_rate=0.3, lr_decay=0.75)
start = time.perf_counter()
shallow = MLP([784, 150, 10], "relu")
history_shallow = train(shallow, x_train, y_train, x_test, y_test, **settings)
print(f"shallow: {time.perf_counter() - start:.1f} s, test error {history_shallow['test_error'][-1]:.4f}")

# %% id=train_deep
rng = seed_everything(0)
start = time.perf_counter()
deep = MLP([784, 150, 200, 150, 50, 10], "relu")
history_deep = train(deep, x_train, y_train, x_test, y_test, **settings)
print(f"deep: {time.perf_counter() - start:.1f} s, test error {history_deep['test_error'][-1]:.4f}")

# %% id=plot_curves
plot_learning_curves({"shallow 784-150-10": history_shallow, "deep 784-150-200-150-50-10": history_deep},
                     metrics=("cost", "train_error", "test_error"), title="Minibatch SGD on MNIST (5,000 digits)")
plt.show()
print(f"test error rates: shallow {history_shallow['test_error'][-1]:.4f}, deep {history_deep['test_error'][-1]:.4f}")
print(f"parameters: shallow {count_parameters([784, 150, 10]):,}, deep {count_parameters([784, 150, 200, 150, 50, 10]):,}")

# %% tests id=accuracy_test points=2
# Checks: the test accuracy of both trained networks (shallow and deep) on the 10,000 test digits is at least 0.92
test_labels = y_test.argmax(axis=1)
for name in ("shallow", "deep"):
    net = globals().get(name)
    assert_true(net is not None, f"the network {name!r} does not exist: run the training cells above")
    predictions = check_shape(call(f"{name}.predict(x_test)", net.predict, x_test), (len(test_labels),),
                              f"{name}.predict(x_test)")
    accuracy = float((predictions == test_labels).mean())
    assert_true(accuracy >= 0.92, f"the {name} network reaches a test accuracy of {accuracy:.4f}, below 0.92 "
                "(check train, the gradients and the update)")
    print(f"{name}: test accuracy {accuracy:.4f}")

# %% [markdown] answer id=q_shallow_deep points=2
# **Question 5.** Compare the two learning curves: training cost, training error and test error. Which
# network fits the training set better, which generalises better, and why might the deeper one not
# be much better here?
#
# ### BEGIN SOLUTION
# Both fit the training set almost perfectly: after 8 epochs the training error is about 0.3% for
# both (5,000 digits are easy to fit with more than 100,000 parameters). The deeper network starts
# worse (its first epoch's cost and errors are higher: more layers to get going through), then its
# training cost falls below the shallow one's from epoch 3 or 4 and ends about half of it: it fits the
# training set better. Their test errors end at the same level, about 6.5% (test accuracy about
# 0.935): the gap of about 6 points between training and test error is overfitting, and with only
# 5,000 training digits the limit is the data, not the capacity. The deeper net has more parameters
# (186,160 vs 119,260), more variance and a harder optimisation; it would need more data (or data
# augmentation), regularisation or early stopping to generalise better.
# ### END SOLUTION

# %% [markdown]
# ## 8. Questions on gradient descent

# %% [markdown] answer id=q_gd_variants points=2
# **Question 6.** Compare batch gradient descent, stochastic gradient descent (one example per step) and
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

# %% [markdown] answer id=q_learning_rate points=2
# **Question 7.** What happens when the learning rate is too small, or too large? Why does decaying it
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
