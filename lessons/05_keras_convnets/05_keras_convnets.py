# %% [markdown]
# # Practical 5: a toy convnet from scratch, Keras convnets, and an autoencoder vs PCA
#
# This practical has five parts:
#
# - **A.** a linear model and a *toy convnet* written in NumPy, with hand-written gradients, learning
#   three functions of $x \in \mathbb{R}^4$;
# - **B.** Keras on MNIST: a linear model, a multi-layer perceptron (MLP) and a convnet;
# - **C.** one hyper-parameter explored over a wide range;
# - **D.** an autoencoder down to 2 dimensions, compared with PCA;
# - **E.** theory questions.
#
# Cells marked `# YOUR CODE HERE` are yours. Every graded function is followed by a cell of checks;
# the autograder runs more checks on other inputs, so make your code general, not tuned to the
# visible examples. Keep `verbose=0` in your Keras calls: progress bars make the notebook long to read.
# %% locked id=setup
# Imported first, before any student code, so the checks keep their own copies of NumPy's functions.
from dlcourse.checks import (assert_close, assert_gradient_close, assert_scalar_in_range, assert_true,
                             check_shape, CheckError)
from dlcourse.gradcheck import check_gradients
from dlcourse import seed_everything
import time
import numpy as np
import matplotlib.pyplot as plt
seed_everything(0)
# %% [markdown]
# ## Part A. A toy convnet from scratch
#
# An unknown matrix $W \in \mathbb{R}^{4\times 4}$ defines three functions of $x \in \mathbb{R}^4$:
#
# $$y_1(x) = \sum_i (Wx)_i, \qquad y_2(x) = \max_i x_i, \qquad y_3(x) = \log \sum_i \exp\big((Wx)_i\big).$$
#
# We learn each of them from 500 noise-free examples $x \sim \mathcal{N}(0, I_4)$ with two models:
#
# - a **linear model** $p(x) = \theta^\top x + b$, parameters $\theta \in \mathbb{R}^4$, $b \in \mathbb{R}$;
# - a **toy convnet**: two filters $w_1, w_2 \in \mathbb{R}^2$ slide over $x$ (a 1-D convolution
#   without padding, stride 1, so 3 positions), then a ReLU, then a max-pooling over the 3 positions,
#   then a linear read-out $u \in \mathbb{R}^2$ and a bias $c$:
#
# $$z_{f,j} = w_{f,0}\, x_j + w_{f,1}\, x_{j+1} \ (j = 0, 1, 2), \qquad h_f = \max_j \max(0, z_{f,j}), \qquad p(x) = u_1 h_1 + u_2 h_2 + c.$$
#
# (Like Keras' `Conv1D`, this "convolution" does not flip the filter: it is a cross-correlation.)
#
# Both are trained on a batch of $N$ examples by minimising
#
# $$L = \frac{1}{N}\sum_{n=1}^N \big(p(x_n) - y_n\big)^2 + \frac{\lambda}{2}\,\|\text{all parameters}\|^2,$$
#
# where the penalty covers every parameter (biases included). Parameters are stored in a dict of
# float64 arrays; the biases are arrays of shape `(1,)`.
# %% locked id=toy_data
rng_targets = np.random.default_rng(2024)
W_unknown = rng_targets.normal(size=(4, 4)) / 2  # the unknown W (4, 4)


def y1(X):
    """Sum of Wx for each row x of X (N, 4) -> (N,)."""
    return (X @ W_unknown.T).sum(axis=1)


def y2(X):
    """Largest coordinate of each row of X (N, 4) -> (N,)."""
    return X.max(axis=1)


def y3(X):
    """log sum exp (Wx) for each row x of X (N, 4) -> (N,), computed stably."""
    Z = X @ W_unknown.T                      # (N, 4) @ (4, 4) -> (N, 4)
    top = Z.max(axis=1, keepdims=True)
    return top[:, 0] + np.log(np.exp(Z - top).sum(axis=1))


TARGETS = {"y1 = sum(Wx)": y1, "y2 = max(x)": y2, "y3 = logsumexp(Wx)": y3}
rng_inputs = np.random.default_rng(0)
X_toy_train = rng_inputs.normal(size=(500, 4))
X_toy_test = rng_inputs.normal(size=(500, 4))


def init_linear(seed=0):
    """Small random parameters of the linear model: theta (4,), b (1,)."""
    rng = np.random.default_rng(seed)
    return {"theta": rng.normal(scale=0.1, size=4), "b": np.zeros(1)}


def init_convnet(seed=0):
    """Random parameters of the toy convnet: w1 (2,), w2 (2,), u (2,), c (1,)."""
    rng = np.random.default_rng(seed)
    return {"w1": rng.normal(scale=0.7, size=2), "w2": rng.normal(scale=0.7, size=2),
            "u": rng.normal(scale=0.7, size=2), "c": np.zeros(1)}
# %% [markdown]
# ### A.1 The linear model
#
# Write its prediction, and the loss with its gradient with respect to every parameter. The
# gradient is checked against centred finite differences, and on other batches by the autograder.
# %% solution id=linear_model
def linear_predict(params, X):
    """Predictions of the linear model p = X theta + b.

    Inputs:
    - params: dict with "theta" (4,) and "b" (1,)
    - X: (N, 4) inputs, one per row
    Returns:
    - p: (N,) predictions
    """
    p = None
    ### BEGIN SOLUTION
    p = X @ params["theta"] + params["b"][0]  # (N, 4) @ (4,) -> (N,)
    ### END SOLUTION
    return p


def linear_loss_and_gradients(params, X, y, lam):
    """Loss mean((p - y)^2) + lam/2 * (||theta||^2 + ||b||^2) and its gradients.

    Inputs:
    - params: dict with "theta" (4,) and "b" (1,)
    - X: (N, 4) inputs; y: (N,) targets; lam: the penalty weight, a float
    Returns:
    - loss: a float
    - grads: dict with the keys and shapes of params
    """
    loss, grads = None, None
    ### BEGIN SOLUTION
    N = X.shape[0]
    residual = linear_predict(params, X) - y  # (N,)
    penalty = sum(np.sum(value ** 2) for value in params.values())
    loss = float(np.mean(residual ** 2) + lam / 2 * penalty)
    dp = 2 * residual / N  # dL/dp, (N,)
    grads = {"theta": X.T @ dp + lam * params["theta"],  # (4, N) @ (N,) -> (4,)
             "b": np.array([dp.sum()]) + lam * params["b"]}
    ### END SOLUTION
    return loss, grads
# %% tests id=linear_model_check points=2
# Checks: linear_predict on 3 hand-computed inputs; linear_loss_and_gradients' loss value and its gradient against finite differences
params = {"theta": np.array([1.0, -2.0, 0.5, 0.0]), "b": np.array([0.25])}
X = np.array([[1.0, 1.0, 2.0, 5.0], [0.0, -1.0, 0.0, 3.0], [2.0, 0.0, -4.0, 1.0]])
assert_close(linear_predict(params, X), [0.25, 2.25, 0.25], "linear_predict(params, X)")
y = np.array([1.0, 2.0, -1.0])
loss, grads = linear_loss_and_gradients(params, X, y, lam=0.1)
# residuals -0.75, 0.25, 1.25 -> mean of squares 0.7291667; penalty 0.05 * (1 + 4 + 0.25 + 0.0625)
assert_close(loss, 0.7291666666666666 + 0.05 * 5.3125, "loss", rtol=1e-8)
check_gradients(lambda: linear_loss_and_gradients(params, X, y, 0.1)[0], params, grads, tol=1e-6)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(51)
for N, lam in [(7, 0.3), (1, 0.0), (12, 1.5)]:
    params = {"theta": rng.normal(size=4), "b": rng.normal(size=1)}
    X = rng.normal(size=(N, 4)); y = rng.normal(size=N)
    assert_close(linear_predict(params, X), X @ params["theta"] + params["b"][0],
                 f"linear_predict on {N} random inputs", rtol=1e-10)
    loss, grads = linear_loss_and_gradients(params, X, y, lam)
    residual = X @ params["theta"] + params["b"][0] - y
    want = np.mean(residual ** 2) + lam / 2 * (np.sum(params["theta"] ** 2) + np.sum(params["b"] ** 2))
    assert_close(loss, want, f"loss on {N} random inputs with lam={lam}", rtol=1e-8)
    check_gradients(lambda: linear_loss_and_gradients(params, X, y, lam)[0], params, grads, tol=1e-6)
    dp = 2 * residual / N
    assert_gradient_close(grads["theta"], X.T @ dp + lam * params["theta"], "gradient of theta", tol=1e-8)
    assert_gradient_close(grads["b"], [dp.sum() + lam * params["b"][0]], "gradient of b", tol=1e-8)
### END HIDDEN TESTS
print("linear_model_check: checks passed")
# %% [markdown]
# ### A.2 The toy convnet
#
# Write its forward pass, then its loss and gradients. Back-propagate step by step: the read-out,
# the max-pooling (the gradient goes only to the position that was the maximum), the ReLU (only
# where the pre-activation is positive), and the convolution (each filter tap sees every position).
# %% solution id=convnet_model
def convnet_predict(params, X):
    """Predictions of the toy convnet (conv with 2 filters of size 2, ReLU, max-pooling, read-out).

    Inputs:
    - params: dict with "w1" (2,), "w2" (2,), "u" (2,) and "c" (1,)
    - X: (N, 4) inputs, one per row
    Returns:
    - p: (N,) predictions
    """
    p = None
    ### BEGIN SOLUTION
    filters = np.stack([params["w1"], params["w2"]])        # (2 filters, 2 taps)
    patches = np.stack([X[:, j:j + 2] for j in range(3)], axis=1)  # (N, 3 positions, 2 taps)
    Z = patches @ filters.T                                  # (N, 3, 2) @ (2, 2) -> (N, 3, 2 filters)
    H = np.maximum(Z, 0).max(axis=1)                         # (N, 2)
    p = H @ params["u"] + params["c"][0]                     # (N,)
    ### END SOLUTION
    return p


def convnet_loss_and_gradients(params, X, y, lam):
    """Loss mean((p - y)^2) + lam/2 * (sum of the squared norms of w1, w2, u, c) and its gradients.

    Inputs:
    - params: dict with "w1" (2,), "w2" (2,), "u" (2,) and "c" (1,)
    - X: (N, 4) inputs; y: (N,) targets; lam: the penalty weight, a float
    Returns:
    - loss: a float
    - grads: dict with the keys and shapes of params
    """
    loss, grads = None, None
    ### BEGIN SOLUTION
    N = X.shape[0]
    filters = np.stack([params["w1"], params["w2"]])                # (2, 2)
    patches = np.stack([X[:, j:j + 2] for j in range(3)], axis=1)  # (N, 3, 2)
    Z = patches @ filters.T                                          # (N, 3, 2)
    A = np.maximum(Z, 0)                                             # (N, 3, 2)
    best = A.argmax(axis=1)                                          # (N, 2): the winning position
    H = np.take_along_axis(A, best[:, None, :], axis=1)[:, 0, :]     # (N, 2)
    residual = H @ params["u"] + params["c"][0] - y                  # (N,)
    penalty = sum(np.sum(value ** 2) for value in params.values())
    loss = float(np.mean(residual ** 2) + lam / 2 * penalty)
    dp = 2 * residual / N                                            # (N,)
    dH = dp[:, None] * params["u"][None, :]                          # (N, 2)
    dA = np.zeros_like(A)
    np.put_along_axis(dA, best[:, None, :], dH[:, None, :], axis=1)  # only the maximum gets it
    dZ = dA * (Z > 0)                                                # ReLU
    dfilters = np.einsum("njf,njk->fk", dZ, patches)                 # (2 filters, 2 taps)
    grads = {"w1": dfilters[0] + lam * params["w1"],
             "w2": dfilters[1] + lam * params["w2"],
             "u": H.T @ dp + lam * params["u"],                      # (2, N) @ (N,) -> (2,)
             "c": np.array([dp.sum()]) + lam * params["c"]}
    ### END SOLUTION
    return loss, grads
# %% tests id=convnet_forward_check points=2
# Checks: convnet_predict on 2 hand-computed inputs (the second needs the ReLU), then on random inputs
params = {"w1": np.array([1.0, -1.0]), "w2": np.array([0.5, 2.0]), "u": np.array([2.0, -1.0]),
          "c": np.array([0.5])}
X = np.array([[1.0, 2.0, -1.0, 3.0], [-1.0, -2.0, -3.5, -1.0]])
# row 1: z1 = (-1, 3, -4) -> h1 = 3; z2 = (4.5, -1, 5.5) -> h2 = 5.5; p = 2*3 - 5.5 + 0.5 = 1
# row 2: z1 = (1, 1.5, -2.5) -> h1 = 1.5; z2 = (-4.5, -8, -3.75) -> h2 = 0 (ReLU); p = 2*1.5 - 0 + 0.5 = 3.5
got = check_shape(convnet_predict(params, X), (2,), "convnet_predict(params, X)")
assert_true(abs(got[1] - 7.25) > 1e-6,
            "convnet_predict gives 7.25 for the second input: that is the convnet without its ReLU "
            "(all z2 are negative, so ReLU then max-pooling gives h2 = 0)")
for wrong, label in [([-2.5 / 3, 6.5 / 3], "average pooling instead of max-pooling"),
                     ([-3.5, 5.5], "sum pooling instead of max-pooling"),
                     ([-5.0, 0.5], "no pooling (only the last position)"),
                     ([-4.0, 2.5], "no pooling (only the first position)")]:
    assert_true(not bool(np.all(np.abs(got - np.array(wrong)) < 1e-6)),
                f"convnet_predict gives {got.tolist()}: that is the convnet with {label}")
assert_close(got, [1.0, 3.5], "convnet_predict(params, X)")
### BEGIN HIDDEN TESTS
def _toy_convnet_variants(params, X):
    """The right forward pass and plausible wrong ones, name -> (N,) predictions."""
    filters = np.stack([params["w1"], params["w2"]])
    patches = np.stack([X[:, j:j + 2] for j in range(3)], axis=1)
    Z = patches @ filters.T
    Zflip = patches @ filters[:, ::-1].T
    A = np.maximum(Z, 0)
    read = lambda H: H @ params["u"] + params["c"][0]
    return {"right": read(A.max(axis=1)),
            "without ReLU": read(Z.max(axis=1)),
            "with average pooling instead of max-pooling": read(A.mean(axis=1)),
            "with sum pooling instead of max-pooling": read(A.sum(axis=1)),
            "without pooling (only the first position)": read(A[:, 0]),
            "without pooling (only the last position)": read(A[:, -1]),
            "with ReLU after the pooling only (max then ReLU is the same, but not mean)": read(np.maximum(Z.mean(axis=1), 0)),
            "with flipped filters (w[1] x_j + w[0] x_(j+1))": read(np.maximum(Zflip, 0).max(axis=1))}
rng = np.random.default_rng(55)
for N in (9, 1, 40):
    params = {"w1": rng.normal(size=2), "w2": rng.normal(size=2), "u": rng.normal(size=2),
              "c": rng.normal(size=1)}
    X = rng.normal(size=(N, 4)) * 2
    variants = _toy_convnet_variants(params, X)
    got = check_shape(convnet_predict(params, X), (N,), f"convnet_predict on {N} random inputs")
    want = variants.pop("right")
    for label, wrong in variants.items():
        if np.max(np.abs(got - wrong)) < 1e-8 and np.max(np.abs(want - wrong)) > 1e-4:
            raise CheckError(f"convnet_predict computes the convnet {label}: apply the 2 filters at the 3 "
                             "positions, then ReLU, then the max over positions, then the read-out u, c")
    assert_close(got, want, f"convnet_predict on {N} random inputs", rtol=1e-8)
### END HIDDEN TESTS
print("convnet_forward_check: checks passed")
# %% tests id=convnet_gradient_check points=3
# Checks: convnet_loss_and_gradients' loss value, and its gradients against finite differences of its loss (and, hidden, PyTorch autograd)
params = {"w1": np.array([1.0, -1.0]), "w2": np.array([0.5, 2.0]), "u": np.array([2.0, -1.0]),
          "c": np.array([0.5])}
X = np.array([[1.0, 2.0, -1.0, 3.0], [-1.0, -2.0, -3.5, -1.0], [0.3, -0.8, 1.7, 0.2]])
y = np.array([0.5, 2.0, -1.0])
loss, grads = convnet_loss_and_gradients(params, X, y, lam=0.2)
assert_true(isinstance(grads, dict) and set(grads) == set(params),
            f"grads should be a dict with the keys {sorted(params)}, got {type(grads).__name__} "
            f"{sorted(grads) if isinstance(grads, dict) else ''}")
check_gradients(lambda: convnet_loss_and_gradients(params, X, y, 0.2)[0], params, grads, tol=1e-6)
### BEGIN HIDDEN TESTS
import torch


def _torch_convnet_loss(params, X, y, lam):
    """The reference loss with PyTorch autograd; returns (loss, gradient dict)."""
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    Xt = torch.tensor(X, dtype=torch.float64)
    filters = torch.stack([tensors["w1"], tensors["w2"]])
    patches = torch.stack([Xt[:, j:j + 2] for j in range(3)], dim=1)
    H = torch.relu(patches @ filters.T).max(dim=1).values
    p = H @ tensors["u"] + tensors["c"][0]
    total = torch.mean((p - torch.tensor(y, dtype=torch.float64)) ** 2)
    total = total + lam / 2 * sum((t ** 2).sum() for t in tensors.values())
    total.backward()
    return float(total.detach()), {k: t.grad.numpy() for k, t in tensors.items()}


rng = np.random.default_rng(56)
for N, lam in [(3, 0.2), (11, 0.05), (1, 0.0), (30, 1.0)]:
    if N == 3:
        params_check, X_check, y_check = params, X, y
    else:
        params_check = {"w1": rng.normal(size=2), "w2": rng.normal(size=2), "u": rng.normal(size=2),
                        "c": rng.normal(size=1)}
        X_check = rng.normal(size=(N, 4)) * 2; y_check = rng.normal(size=N)
    loss, grads = convnet_loss_and_gradients(params_check, X_check, y_check, lam)
    want_loss, want_grads = _torch_convnet_loss(params_check, X_check, y_check, lam)
    assert_close(loss, want_loss, f"the loss on {N} inputs with lam={lam}", rtol=1e-8)
    check_gradients(lambda: convnet_loss_and_gradients(params_check, X_check, y_check, lam)[0],
                    params_check, grads, tol=1e-6)
    for key in params_check:
        assert_gradient_close(grads[key], want_grads[key], f"gradient of {key} (N={N}, lam={lam})", tol=1e-8)
### END HIDDEN TESTS
print("convnet_gradient_check: checks passed")
# %% [markdown]
# ### A.3 Stochastic gradient descent
#
# Write minibatch SGD for any model given by its `loss_and_gradients` function. Each epoch shuffles
# the examples with `rng.permutation`, then takes one step per batch of `batch_size` examples (the
# last batch may be smaller): every parameter moves by `-learning_rate * gradient`.
# %% solution id=sgd
def sgd(loss_and_gradients, params, X, y, lam, learning_rate, epochs, batch_size, seed=0):
    """Minibatch stochastic gradient descent.

    Inputs:
    - loss_and_gradients: a function (params, X, y, lam) -> (loss, grads)
    - params: dict name -> float64 array (not modified: work on copies)
    - X: (N, 4) inputs; y: (N,) targets; lam: the penalty weight
    - learning_rate: the step size; epochs: passes over the data; batch_size: examples per step
    - seed: the seed of the generator rng = np.random.default_rng(seed) used for shuffling
    Returns:
    - params: dict of the trained parameters (new arrays)
    - history: list of epochs + 1 floats, the loss on all of X, y before training and after each epoch
    """
    rng = np.random.default_rng(seed)
    params = {name: value.copy() for name, value in params.items()}
    history = None
    ### BEGIN SOLUTION
    history = [loss_and_gradients(params, X, y, lam)[0]]
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            _, grads = loss_and_gradients(params, X[batch], y[batch], lam)
            for name in params:
                params[name] -= learning_rate * grads[name]
        history.append(loss_and_gradients(params, X, y, lam)[0])
    ### END SOLUTION
    return params, history
# %% tests id=sgd_check points=2
# Checks: sgd on a loss defined here (so only sgd is graded): one full-batch step moves every parameter by -learning_rate * gradient, the history has epochs + 1 losses, training lowers the loss
def _bowl_loss_and_gradients(params, X, y, lam):
    """A quadratic bowl: 0.5 * mean_n ||a - X_n||^2 + 0.5 * ||m - mean(y)||^2 + lam/2 * (||a||^2 + ||m||^2).

    Inputs: params with "a" (4,) and "m" (2, 3); X (N, 4); y (N,); lam a float.
    Returns: the loss (a float) and its gradients, a dict with the keys and shapes of params.
    """
    loss = (0.5 * np.mean(np.sum((params["a"] - X) ** 2, axis=1)) + 0.5 * np.sum((params["m"] - y.mean()) ** 2)
            + lam / 2 * (np.sum(params["a"] ** 2) + np.sum(params["m"] ** 2)))
    grads = {"a": params["a"] - X.mean(axis=0) + lam * params["a"], "m": params["m"] - y.mean() + lam * params["m"]}
    return float(loss), grads


rng = np.random.default_rng(3)
X = rng.normal(size=(6, 4)) + 1.0; y = rng.normal(size=6) + 2.0
start = {"a": np.zeros(4), "m": np.ones((2, 3))}
_, grads = _bowl_loss_and_gradients(start, X, y, 0.1)
trained, history = sgd(_bowl_loss_and_gradients, start, X, y, lam=0.1, learning_rate=0.05, epochs=1, batch_size=6)
assert_true(isinstance(trained, dict) and set(trained) == set(start),
            f"sgd should return the trained parameters as a dict with the keys {sorted(start)} of the params given")
for name in start:
    assert_close(trained[name], start[name] - 0.05 * grads[name],
                 f"{name} after one full-batch step (expected value - learning_rate * gradient)", rtol=1e-8)
check_shape(history, (2,), "history (the loss before training and after each epoch)")
assert_close(history[0], _bowl_loss_and_gradients(start, X, y, 0.1)[0], "history[0], the loss on all of X, y before training")
trained, history = sgd(_bowl_loss_and_gradients, start, X, y, lam=0.0, learning_rate=0.1, epochs=50, batch_size=2)
history = check_shape(history, (51,), "history of 50 epochs")
assert_true(bool(history[-1] < history[0] - 0.9 * (history[0] - _bowl_loss_and_gradients(
                {"a": X.mean(axis=0), "m": np.full((2, 3), y.mean())}, X, y, 0.0)[0])),
            f"training did not lower the loss enough: {history[0]:.4g} before, {history[-1]:.4g} after 50 "
            "epochs of batches of 2: a step in the wrong direction, or too few steps per epoch?")
### BEGIN HIDDEN TESTS
def _reference_convnet_loss(params, X, y, lam):
    """The course's toy convnet loss and gradients (so that a bug in convnet_loss_and_gradients costs only its own points)."""
    filters = np.stack([params["w1"], params["w2"]])
    patches = np.stack([X[:, j:j + 2] for j in range(3)], axis=1)
    Z = patches @ filters.T
    A = np.maximum(Z, 0)
    best = A.argmax(axis=1)
    H = np.take_along_axis(A, best[:, None, :], axis=1)[:, 0, :]
    residual = H @ params["u"] + params["c"][0] - y
    dp = 2 * residual / len(X)
    dA = np.zeros_like(A)
    np.put_along_axis(dA, best[:, None, :], (dp[:, None] * params["u"][None, :])[:, None, :], axis=1)
    dfilters = np.einsum("njf,njk->fk", dA * (Z > 0), patches)
    loss = np.mean(residual ** 2) + lam / 2 * sum(np.sum(v ** 2) for v in params.values())
    return float(loss), {"w1": dfilters[0] + lam * params["w1"], "w2": dfilters[1] + lam * params["w2"],
                         "u": H.T @ dp + lam * params["u"], "c": np.array([dp.sum()]) + lam * params["c"]}


rng = np.random.default_rng(57)
X = rng.normal(size=(40, 4)); y = np.maximum(X, 0).max(axis=1)
start = {"w1": np.array([0.8, 0.3]), "w2": np.array([-0.5, 0.6]), "u": np.array([0.4, 0.2]), "c": np.zeros(1)}
_, grads = _reference_convnet_loss(start, X, y, 0.01)
trained, history = sgd(_reference_convnet_loss, start, X, y, lam=0.01, learning_rate=0.2, epochs=1, batch_size=40, seed=4)
for name in start:
    assert_close(trained[name], start[name] - 0.2 * grads[name],
                 f"convnet {name} after one full-batch step (expected w - learning_rate * gradient)", rtol=1e-8)
trained, history = sgd(_reference_convnet_loss, start, X, y, lam=0.001, learning_rate=0.05, epochs=30, batch_size=7, seed=5)
history = check_shape(history, (31,), "history of 30 epochs")
assert_close(history[0], _reference_convnet_loss(start, X, y, 0.001)[0], "history[0] (the loss before training)")
assert_true(bool(history[-1] < 0.3 * history[0]),
            f"training the convnet did not lower the loss enough: {history[0]:.4g} before, {history[-1]:.4g} after")
assert_true(bool(np.all(np.abs(start["w1"] - [0.8, 0.3]) < 1e-12)),
            "sgd modified the params dict it was given: work on copies")
# every epoch visits each example once, in batches of batch_size (the last one smaller)
batches = []
def _recording_loss(params, X_batch, y_batch, lam):
    batches.append(np.asarray(y_batch).copy())
    return _bowl_loss_and_gradients(params, X_batch, y_batch, lam)
X = rng.normal(size=(7, 4)); y = np.arange(7.0)
sgd(_recording_loss, {"a": np.zeros(4), "m": np.zeros((2, 3))}, X, y, lam=0.0, learning_rate=0.1, epochs=2,
    batch_size=3, seed=9)
steps = [b for b in batches if len(b) != 7]
assert_true(sorted(len(b) for b in steps) == [1, 1, 3, 3, 3, 3],
            f"2 epochs of 7 examples in batches of 3 should take 6 steps of sizes 3, 3, 1 each epoch; "
            f"the gradient was asked for batches of sizes {[len(b) for b in steps]}")
for epoch in range(2):
    seen = np.sort(np.concatenate(steps[3 * epoch:3 * epoch + 3]))
    assert_close(seen, y, f"the examples visited in epoch {epoch + 1} (each exactly once)")
### END HIDDEN TESTS
print("sgd_check: checks passed")
# %% [markdown]
# ### A.4 Which model fits which function?
#
# Each model is trained on each function (same learning rate, penalty and epochs), and we compare
# their mean squared errors on 500 test inputs.
# %% id=toy_experiments
toy_start = time.perf_counter()
toy_results, toy_predictions, toy_histories = {}, {}, {}
for target_name, target in TARGETS.items():
    y_train_toy, y_test_toy = target(X_toy_train), target(X_toy_test)
    for model_name, init, predict, loss_fn in [("linear", init_linear, linear_predict, linear_loss_and_gradients),
                                              ("convnet", init_convnet, convnet_predict, convnet_loss_and_gradients)]:
        trained, history = sgd(loss_fn, init(seed=1), X_toy_train, y_train_toy, lam=1e-4,
                               learning_rate=0.02, epochs=30, batch_size=10, seed=2)
        toy_histories[target_name, model_name] = history
        toy_predictions[target_name, model_name] = predict(trained, X_toy_test)
        toy_results[target_name, model_name] = float(np.mean((toy_predictions[target_name, model_name] - y_test_toy) ** 2))
# SGD at work: the training loss (on all 500 examples) before training and after each epoch
figure, axes = plt.subplots(1, 3, figsize=(14, 3.5))
for axis, target_name in zip(axes, TARGETS):
    for model_name in ("linear", "convnet"):
        axis.plot(toy_histories[target_name, model_name], label=model_name)
    axis.set_yscale("log"); axis.set_xlabel("epoch"); axis.set_ylabel("training loss"); axis.set_title(target_name)
    axis.legend()
figure.tight_layout()
plt.show()
print("training loss before -> after 30 epochs of SGD")
for (target_name, model_name), history in toy_histories.items():
    print(f"  {target_name:20s} {model_name:8s} {history[0]:8.4f} -> {history[-1]:.4f}")
print("test mean squared error, and R^2 = 1 - MSE / variance (1 is a perfect fit, 0 a constant prediction)")
for target_name, target in TARGETS.items():
    variance = np.var(target(X_toy_test))
    print(f"  {target_name:20s} variance {variance:6.3f}   linear {toy_results[target_name, 'linear']:.4f}"
          f" (R^2 {1 - toy_results[target_name, 'linear'] / variance:.2f})"
          f"   convnet {toy_results[target_name, 'convnet']:.4f} (R^2 {1 - toy_results[target_name, 'convnet'] / variance:.2f})")
figure, axes = plt.subplots(1, 3, figsize=(14, 4))
for axis, (target_name, target) in zip(axes, TARGETS.items()):
    truth = target(X_toy_test)
    for model_name, marker in [("linear", "o"), ("convnet", "x")]:
        axis.scatter(truth, toy_predictions[target_name, model_name], s=8, marker=marker, alpha=0.6,
                     label=f"{model_name} (MSE {toy_results[target_name, model_name]:.3f})")
    axis.plot([truth.min(), truth.max()], [truth.min(), truth.max()], "k--", linewidth=1)
    axis.set_xlabel("true value"); axis.set_ylabel("prediction"); axis.set_title(target_name); axis.legend()
figure.tight_layout()
plt.show()
print(f"part A experiments: {time.perf_counter() - toy_start:.1f} s")
# %% [markdown] answer id=q_toy_models points=3
# **Question A.** Which model fits which function, and why? Relate each result to what the model can
# represent (for $y_1$, think of $\sum_i (Wx)_i = \mathbf{1}^\top W x$; for $y_2$, of what a ReLU and a
# max-pooling compute; for $y_3$, of log-sum-exp as a smooth maximum).
#
# ### BEGIN SOLUTION
# SGD works for both models and all three targets: every training loss falls over the 30 epochs
# (the first figure; e.g. the linear model on $y_1$ goes from 5.1821 to 0.0003).
#
# $y_1(x) = \mathbf 1^\top W x$ is linear in $x$: the linear model represents it exactly
# ($\theta = W^\top \mathbf 1$, $b = 0$) and its test error is 0.0000 (only the small penalty keeps it
# off zero). The toy convnet cannot (test MSE 1.8504, $R^2$ 0.70): its filters are shared across
# positions, so it cannot weight the four coordinates independently as $\mathbf 1^\top W$ requires, and its
# ReLU and max-pooling make it piecewise linear, not linear.
#
# $y_2(x) = \max_i x_i$ is not linear: the linear model only captures its average trend (test MSE 0.2665,
# $R^2$ 0.46). The convnet does much better (0.0876, $R^2$ 0.82), but it is not exact. With $w_1 = (1, 0)$
# and $w_2 = (0, 1)$, ReLU then max-pooling gives $h_1 = \max(0, x_0, x_1, x_2)$ and
# $h_2 = \max(0, x_1, x_2, x_3)$, and $y_2 = \max(h_1, h_2)$ whenever some $x_i > 0$; but the read-out
# $u_1 h_1 + u_2 h_2 + c$ is linear, and a linear combination of two maxima cannot form their maximum (it
# can only average them). Weight sharing plus pooling is the right inductive bias (the same detector at
# every position, then a maximum), which is why the convnet wins here; an exact fit would need one more
# max (or a filter wide enough to see all four inputs).
#
# $y_3$ is a smooth maximum of the coordinates of $Wx$: convex, and close to linear over much of the input
# space (one coordinate of $Wx$ often dominates). The linear model captures that trend (test MSE 0.0882
# for a variance of 0.440, $R^2$ 0.80); the convnet does worse (0.1578, $R^2$ 0.64): it would need the
# mixing by $W$, which two shared 2-tap filters cannot express. The right model would be a dense first
# layer (to compute $Wx$) followed by a maximum: the structure matters, not only the nonlinearity.
# These are one training run each (one initialisation, one shuffle); the gaps between the models are
# large compared with what another seed changes, but the third digits are not meaningful.
# ### END SOLUTION
# %% [markdown] rubric id=q_toy_models_rubric
# - **3 points**: shows SGD lowers the loss (the curves); $y_1$: linear exact (it is $\mathbf 1^\top W x$),
#   convnet not (shared filters, piecewise linear); $y_2$: convnet clearly better but not exact, with the
#   reason (ReLU + max-pooling give maxima over windows; a linear read-out cannot take the max of two);
#   $y_3$: linear better, with a reason (nearly linear smooth max of $Wx$; the convnet cannot mix
#   coordinates as $W$ does). Results quoted from the outputs.
# - **2 points**: the three verdicts right with a reason for two of them, or no mention of the loss curves.
# - **1 point**: the verdicts right without reasons, or one verdict wrong.
# - **0 points**: claims the convnet fits $y_2$ exactly or that a model fits every target, with no reasoning.
# %% [markdown]
# ## Part B. Keras on MNIST: linear model, MLP, convnet
#
# We use the course's offline MNIST: 5,000 training digits and the 10,000 official test digits, as
# images of shape `(28, 28, 1)` with values in $[0, 1]$ and integer labels 0-9.
#
# Write three builders. Each returns a **compiled** `keras.Model` that takes a batch of images
# `(N, 28, 28, 1)` and outputs `(N, 10)` class probabilities (a `softmax` output layer), compiled with
# the loss `"sparse_categorical_crossentropy"` (the labels are integers), an optimizer of your choice
# and `metrics=["accuracy"]`:
#
# - `build_linear_model()`: `Flatten` then one `Dense` layer (softmax regression, $784 \times 10 + 10$ parameters);
# - `build_mlp()`: `Flatten`, at least one hidden `Dense` layer with a nonlinearity, then the output layer;
# - `build_convnet()`: at least one `Conv2D` and one `MaxPooling2D`, then `Flatten`, a hidden `Dense`
#   layer, then the output layer.
#
# The training cells below train each model for a fixed number of epochs with batches of 64 (a
# cell takes a few seconds to a few tens of seconds): choose an optimizer and a learning rate that
# learn well in that budget. Keep the models small: with 16 filters, the convnet reaches about 96% test
# accuracy here (the first 5,000 test digits are harder than the last 5,000).
# %% locked id=keras_setup
import keras
import tensorflow as tf
from keras import layers
from dlcourse.data import load_mnist
from dlcourse.plotting import plot_learning_curves
from dlcourse.convnets import accuracy, check_classifier, count_parameters, hidden_activations, layer_kinds
tf.get_logger().setLevel("ERROR")  # no retracing warnings when the checks build several models
seed_everything(0)
mnist = load_mnist(layout="image")
x_train, y_train, x_test, y_test = mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test
x_curve, y_curve = x_test[::5], y_test[::5]  # 2,000 test digits for the per-epoch test curves


def train(model, epochs, x=x_train, y=y_train, batch_size=64, validation=None):
    """Fit a compiled classifier; return its per-epoch history with train and test loss and accuracy.

    The training loss and accuracy of an epoch are averages over its batches (measured while the
    weights change); the test ones are measured at the end of the epoch on 2,000 test digits, or,
    when validation=(x_validation, y_validation) is given, on those digits under the names
    validation_loss and validation_accuracy.
    """
    curve_data, curve_name = ((x_curve, y_curve), "test") if validation is None else (validation, "validation")
    fit = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=curve_data, verbose=0)
    history = {}
    for key, values in fit.history.items():  # loss -> train_loss, val_accuracy (or val_acc) -> test_accuracy
        split = curve_name if key.startswith("val_") else "train"
        metric = key[4:] if key.startswith("val_") else key
        history[f"{split}_{'accuracy' if 'acc' in metric else metric}"] = list(values)
    return history
# %% solution id=build_linear_model
def build_linear_model():
    """Softmax regression on the 784 pixels.

    Inputs:
    - none (the architecture and the optimizer are yours to choose)
    Returns:
    - model: a compiled keras.Model, (N, 28, 28, 1) images -> (N, 10) probabilities
    """
    model = None
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Flatten(),                        # (N, 784)
        layers.Dense(10, activation="softmax"),  # (N, 10)
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ### END SOLUTION
    return model
# %% tests id=linear_model_structure points=1
# Checks: build_linear_model returns a compiled model with 10 softmax outputs, the sparse cross-entropy loss, and 7,850 parameters
kinds = check_classifier(build_linear_model(), "build_linear_model()")
parameters = count_parameters(build_linear_model())
assert_true(parameters == 784 * 10 + 10,
            f"build_linear_model() has {parameters} trainable parameters; a linear model of the 784 pixels "
            f"has 784 * 10 + 10 = 7850 (layers found: {kinds}): no hidden layer, no convolution")
### BEGIN HIDDEN TESTS
assert_true(not any(kind.startswith("Conv") for kind in kinds), f"build_linear_model() has a convolution: {kinds}")
check_classifier(build_linear_model(), "build_linear_model()", seed=5)
### END HIDDEN TESTS
print("linear_model_structure: checks passed")
# %% solution id=build_mlp
def build_mlp():
    """Multi-layer perceptron: at least one hidden Dense layer with a nonlinearity.

    Inputs:
    - none (the architecture and the optimizer are yours to choose)
    Returns:
    - model: a compiled keras.Model, (N, 28, 28, 1) images -> (N, 10) probabilities
    """
    model = None
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Flatten(),                        # (N, 784)
        layers.Dense(128, activation="relu"),    # (N, 128)
        layers.Dense(10, activation="softmax"),  # (N, 10)
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ### END SOLUTION
    return model
# %% tests id=mlp_structure points=2
# Checks: build_mlp returns a compiled model with 10 softmax outputs and the sparse cross-entropy loss, with a nonlinear hidden Dense layer and no convolution
kinds = check_classifier(build_mlp(), "build_mlp()")
assert_true(kinds.count("Dense") >= 2,
            f"build_mlp() needs a hidden Dense layer before the output layer; its layers are {kinds}")
assert_true(not any(kind.startswith("Conv") for kind in kinds),
            f"build_mlp() is a multi-layer perceptron: no convolution (its layers are {kinds})")
### BEGIN HIDDEN TESTS
assert_true(hidden_activations(build_mlp()) >= 1,
            f"build_mlp()'s hidden layers have no nonlinearity (layers {kinds}): without one, the MLP is "
            "a linear model; give the hidden Dense layer activation='relu'")
check_classifier(build_mlp(), "build_mlp()", seed=6)
### END HIDDEN TESTS
print("mlp_structure: checks passed")
# %% solution id=build_convnet
def build_convnet():
    """A small convnet: Conv2D and MaxPooling2D, then a hidden Dense layer, then the output layer.

    Inputs:
    - none (the architecture and the optimizer are yours to choose)
    Returns:
    - model: a compiled keras.Model, (N, 28, 28, 1) images -> (N, 10) probabilities
    """
    model = None
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, kernel_size=5, activation="relu"),  # (N, 24, 24, 16)
        layers.MaxPooling2D(pool_size=2),                     # (N, 12, 12, 16)
        layers.Flatten(),                                     # (N, 2304)
        layers.Dense(64, activation="relu"),                  # (N, 64)
        layers.Dense(10, activation="softmax"),               # (N, 10)
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ### END SOLUTION
    return model
# %% tests id=convnet_structure points=2
# Checks: build_convnet returns a compiled model with 10 softmax outputs and the sparse cross-entropy loss, with Conv2D, MaxPooling2D and a hidden Dense layer
kinds = check_classifier(build_convnet(), "build_convnet()")
assert_true("Conv2D" in kinds, f"build_convnet() has no Conv2D layer (its layers are {kinds})")
assert_true("MaxPooling2D" in kinds, f"build_convnet() has no MaxPooling2D layer (its layers are {kinds})")
### BEGIN HIDDEN TESTS
assert_true(kinds.count("Dense") >= 2,
            f"build_convnet() needs a hidden Dense layer before the output layer; its layers are {kinds}")
assert_true(kinds.index("Conv2D") < kinds.index("MaxPooling2D") or kinds.count("Conv2D") > 1,
            f"build_convnet() pools before any convolution: {kinds}")
check_classifier(build_convnet(), "build_convnet()", seed=7)
### END HIDDEN TESTS
print("convnet_structure: checks passed")
# %% [markdown]
# ### Training
#
# Each model starts from the same seed. The epochs are fixed: do not change them.
# %% id=train_linear
seed_everything(1)
start = time.perf_counter()
linear_model = build_linear_model()
history_linear = train(linear_model, epochs=6)
time_linear = time.perf_counter() - start
print(f"linear model: {time_linear:.1f} s, final test accuracy (2,000 digits) {history_linear['test_accuracy'][-1]:.3f}")
# %% id=train_mlp
seed_everything(2)
start = time.perf_counter()
mlp = build_mlp()
history_mlp = train(mlp, epochs=8)
time_mlp = time.perf_counter() - start
print(f"MLP: {time_mlp:.1f} s, final test accuracy (2,000 digits) {history_mlp['test_accuracy'][-1]:.3f}")
# %% id=train_convnet
seed_everything(3)
start = time.perf_counter()
convnet = build_convnet()
history_convnet = train(convnet, epochs=8)
time_convnet = time.perf_counter() - start
print(f"convnet: {time_convnet:.1f} s, final test accuracy (2,000 digits) {history_convnet['test_accuracy'][-1]:.3f}")
# %% id=keras_comparison
import pandas as pd
keras_histories = {"linear": history_linear, "MLP": history_mlp, "convnet": history_convnet}
plot_learning_curves(keras_histories, metrics=("train_loss", "test_loss", "train_accuracy", "test_accuracy"),
                     title="MNIST, 5,000 training digits")
plt.show()
for name, history in keras_histories.items():
    print(f"{name:8s} train loss per epoch " + " ".join(f"{v:.3f}" for v in history["train_loss"]))
    print(f"{'':8s} test loss per epoch  " + " ".join(f"{v:.3f}" for v in history["test_loss"]))
comparison = pd.DataFrame({
    "parameters": [count_parameters(m) for m in (linear_model, mlp, convnet)],
    "epochs": [len(h["test_loss"]) for h in keras_histories.values()],
    "training time (s)": [time_linear, time_mlp, time_convnet],
    "train accuracy (last epoch)": [h["train_accuracy"][-1] for h in keras_histories.values()],
    "test accuracy (10,000 digits)": [accuracy(m, x_test, y_test, name) for m, name in
                                      [(linear_model, "linear"), (mlp, "MLP"), (convnet, "convnet")]],
}, index=list(keras_histories))
comparison.round(3)
# %% [markdown] answer id=q_linear_generalisation points=2
# **Question B.1.** Look at the linear model's learning curves (train and test loss and accuracy per
# epoch) and the table. Does the linear model generalise? What limits it: the amount of data, or what
# it can represent?
#
# ### BEGIN SOLUTION
# Yes. Its test accuracy (0.904 on the 10,000 test digits) is close to its training accuracy (0.930 in
# the last epoch, itself an average over an epoch of changing weights), and the test curves follow the
# training curves: the test loss falls at every one of the 6 epochs (0.527 to 0.360) with the training
# loss (0.907 to 0.269), with no epoch where it turns up. A model with 7,850 parameters trained on 5,000 digits has little room to memorise. What
# limits it is what it can represent: one linear template per class cannot capture the variations of
# handwriting, so it under-fits (its training accuracy is also low); more epochs or more digits would
# gain little, a richer model would.
# ### END SOLUTION
# %% [markdown] rubric id=q_linear_generalisation_rubric
# - **2 points**: yes, it generalises, with the evidence (test accuracy close to the training accuracy,
#   test loss following the training loss, numbers from the table); the limit is its capacity (one linear
#   template per class: it under-fits), not the 5,000 digits, so more data or epochs would gain little.
# - **1 point**: the right verdict with no evidence from the curves, or no view on what limits it.
# - **0 points**: "it does not generalise" from the test accuracy alone (a 90% classifier), or no answer.
# %% [markdown] answer id=q_mlp_choices points=2
# **Question B.2.** Explain the choices you made for your MLP: its depth and width, its activation, its
# output layer and loss, its optimizer and learning rate. How do its curves differ from the linear
# model's?
#
# ### BEGIN SOLUTION
# One hidden layer of 128 ReLU units: enough capacity to go well beyond the linear model on 5,000 digits,
# while training in a few seconds an epoch; deeper networks gain little with so few examples. ReLU does
# not saturate (its gradient is 1 where the unit is active), unlike a sigmoid. The output layer is a
# softmax over the 10 classes, and the loss the sparse categorical cross-entropy, the negative
# log-likelihood of integer labels under those probabilities. The optimizer is Adam with a learning rate
# of 2e-3, which adapts the step per weight and learns in the fixed 8 epochs without tuning a schedule.
# Result: test accuracy 0.932 against 0.904 for the linear model, but the training accuracy reaches 0.990,
# far above the test accuracy: unlike the linear model, the MLP starts to memorise the 5,000 digits (its
# test loss stops falling after the fifth epoch, 0.259, 0.262, 0.268, 0.261, while its training loss keeps
# going down, to 0.055).
# ### END SOLUTION
# %% [markdown] rubric id=q_mlp_choices_rubric
# - **2 points**: each choice with a reason (depth/width: enough capacity for 5,000 digits without a long
#   training; ReLU: no saturation, cheap; softmax + sparse cross-entropy: probabilities over 10 integer
#   labels, the likelihood of the labels; an adaptive optimizer with a learning rate that learns in the
#   fixed epochs), and the curves compared with numbers: better test accuracy, and a training accuracy
#   that pulls away from the test accuracy (over-fitting starts).
# - **1 point**: the choices listed without reasons, or no comparison of the curves.
# - **0 points**: choices that contradict the code, or no answer.
# %% [markdown]
# ### What the autograder requires
#
# The trained models must reach these test accuracies (one test cell per model, so a model that
# learns too slowly costs only its own point): on the first 5,000 test digits (checked below), linear model 0.855, MLP 0.88, convnet 0.925; on the last 5,000 (hidden), 0.91, 0.93 and
# 0.945. The accuracies on every other test digit must be ordered convnet > MLP > linear model, by at
# least half a point each (hidden). The reference was trained with ten seeds (the seeds of the four
# training cells shifted by 100, 200, ..., 900): its worst accuracies were 0.8724, 0.8998 and 0.9412
# on the first half and 0.9286, 0.9474 and 0.9608 on the last half, so every threshold is at least
# 1.5 points below the reference's worst accuracy over the seeds 0-9; its smallest ordering gap was
# 0.0142.
# %% tests id=linear_accuracy points=1
# Checks: the trained linear model's accuracy on the first 5,000 test digits (the harder half) is at least 0.855
value = accuracy(linear_model, x_test[:5000], y_test[:5000], "linear model")
assert_true(value >= 0.855,
            f"the linear model's accuracy on the first 5,000 test digits is {value:.4f}, below 0.855: "
            "check its architecture, optimizer and learning rate (it must learn in the fixed epochs)")
### BEGIN HIDDEN TESTS
value = accuracy(linear_model, x_test[5000:], y_test[5000:], "linear model")
assert_true(value >= 0.91,
            f"the linear model's accuracy on the last 5,000 test digits is {value:.4f}, below 0.91: "
            "check its architecture, optimizer and learning rate (it must learn in the fixed epochs)")
### END HIDDEN TESTS
print("linear_accuracy: checks passed")
# %% tests id=mlp_accuracy points=1
# Checks: the trained MLP's accuracy on the first 5,000 test digits (the harder half) is at least 0.88
value = accuracy(mlp, x_test[:5000], y_test[:5000], "MLP")
assert_true(value >= 0.88,
            f"the MLP's accuracy on the first 5,000 test digits is {value:.4f}, below 0.88: "
            "check its architecture, optimizer and learning rate (it must learn in the fixed epochs)")
### BEGIN HIDDEN TESTS
value = accuracy(mlp, x_test[5000:], y_test[5000:], "MLP")
assert_true(value >= 0.93,
            f"the MLP's accuracy on the last 5,000 test digits is {value:.4f}, below 0.93: "
            "check its architecture, optimizer and learning rate (it must learn in the fixed epochs)")
### END HIDDEN TESTS
print("mlp_accuracy: checks passed")
# %% tests id=convnet_accuracy points=1
# Checks: the trained convnet's accuracy on the first 5,000 test digits (the harder half) is at least 0.925
value = accuracy(convnet, x_test[:5000], y_test[:5000], "convnet")
assert_true(value >= 0.925,
            f"the convnet's accuracy on the first 5,000 test digits is {value:.4f}, below 0.925: "
            "check its architecture, optimizer and learning rate (it must learn in the fixed epochs)")
### BEGIN HIDDEN TESTS
value = accuracy(convnet, x_test[5000:], y_test[5000:], "convnet")
assert_true(value >= 0.945,
            f"the convnet's accuracy on the last 5,000 test digits is {value:.4f}, below 0.945: "
            "check its architecture, optimizer and learning rate (it must learn in the fixed epochs)")
### END HIDDEN TESTS
print("convnet_accuracy: checks passed")
# %% tests id=keras_ordering points=2
# Checks: the test accuracies (on every other test digit) are ordered convnet > MLP > linear model
scores = {name: accuracy(model, x_test[::2], y_test[::2], name) for model, name in
          [(linear_model, "linear model"), (mlp, "MLP"), (convnet, "convnet")]}
assert_true(scores["convnet"] > scores["MLP"] > scores["linear model"],
            "the test accuracies should be ordered convnet > MLP > linear model, got "
            + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
### BEGIN HIDDEN TESTS
assert_true(scores["convnet"] - scores["MLP"] >= 0.005 and scores["MLP"] - scores["linear model"] >= 0.005,
            "the accuracies are ordered convnet > MLP > linear model, but by less than half a point: "
            + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
### END HIDDEN TESTS
print("keras_ordering: checks passed")
# %% [markdown] answer id=q_keras_comparison points=2
# **Question B.** Compare the three models with the table and the curves: accuracy, number of
# parameters, training time, and the gap between training and test curves. Why does the convnet do
# better with these 5,000 digits?
#
# ### BEGIN SOLUTION
# The linear model (7,850 parameters) plateaus near 90%: a single template per class cannot
# represent the variations of handwriting. The MLP (about 100k parameters) reaches about 93% and
# its training accuracy climbs well above its test accuracy: with 5,000 digits it starts to memorise.
# The convnet has more parameters (about 150k, most in its hidden Dense layer) but reaches about 96%,
# with the lowest test loss (0.133 at its best); it too over-fits in the last epochs (its test loss rises
# back to 0.165 while its training loss reaches 0.025), yet it stays the most accurate: its filters are shared
# across positions (translation equivariance) and max-pooling tolerates small shifts, so it learns
# local stroke detectors from every position of every image, an inductive bias that fits images and
# generalises from few examples. The training times are wall-clock seconds on a shared machine and
# change from run to run: they do not rank the models reliably. In arithmetic, the convolution is the
# most expensive per example: each filter weight is used at every position of the image.
# ### END SOLUTION
# %% [markdown] rubric id=q_keras_comparison_rubric
# - **2 points**: the three models compared with numbers from the table (accuracy, parameters, time) and
#   the train-test gaps read from the curves; the convnet's advantage explained by its inductive bias
#   (shared local filters, translation equivariance, pooling's tolerance to small shifts), not by its
#   number of parameters.
# - **1 point**: a correct ranking with numbers but no reason, or a reason without reading the outputs.
# - **0 points**: "the convnet wins because it has more parameters", or no answer.
# %% [markdown]
# ## Part C. One hyper-parameter over a wide range
#
# Pick **one** of: the learning rate, the dropout probability, or the batch size, and explore it with
# the MLP of part B. To keep this part fast, each run trains on the first 2,500 training digits
# (`x_small, y_small`) for 4 epochs. Its curves are measured on a **validation** split, the last 1,000
# training digits (`x_validation, y_validation`, not in `x_small`): choosing a hyper-parameter by its
# test accuracy would make the test set part of training, and the test accuracy would no longer be an
# unbiased estimate. Each hyper-parameter is varied in one place:
#
# - **learning rate**: compile the model with `keras.optimizers.Adam(learning_rate=value)` (a
#   compiled model can be compiled again: `model = build_mlp(); model.compile(...)`);
# - **dropout probability**: build an MLP with a `layers.Dropout(value)` after its hidden layer (same
#   layers as your `build_mlp` otherwise), `value` in $[0, 1)$;
# - **batch size**: keep `build_mlp()` and pass `train(..., batch_size=value)`.
#
# Write `explored_hyperparameter()` (its name and at least four values, from too small to too large)
# and `train_with(value)`, which trains one MLP with the hyper-parameter at `value` and returns the model
# and the history of `train(model, 4, x_small, y_small, ..., validation=(x_validation, y_validation))`.
# The cell after it runs every value and draws all the learning curves in one figure. The autograder
# checks that the range is wide (learning rates or batch sizes whose largest is at least 100 or 32
# times the smallest; dropout from at most 0.1 to at least 0.7), that each model was trained with its
# value, that the curves were measured on the validation digits, and that the range shows an effect:
# the best and the worst final validation accuracies are at least 3 points apart.
# %% locked id=exploration_setup
x_small, y_small = x_train[:2500], y_train[:2500]
x_validation, y_validation = x_train[4000:], y_train[4000:]  # 1,000 training digits kept out of x_small
# %% solution id=hyperparameter_exploration
def explored_hyperparameter():
    """The hyper-parameter explored in part C and its values.

    Inputs:
    - none
    Returns:
    - name: "learning rate", "dropout" or "batch size"
    - values: a list of at least 4 numbers, in increasing order, from too small to too large
    """
    name, values = None, None
    ### BEGIN SOLUTION
    name, values = "learning rate", [1e-4, 1e-3, 1e-2, 1e-1]
    ### END SOLUTION
    return name, values


def train_with(value):
    """Train one MLP for 4 epochs on x_small, y_small with the explored hyper-parameter at value.

    Inputs:
    - value: one of the values of explored_hyperparameter()
    Returns:
    - model: the trained keras.Model
    - history: train(model, 4, x_small, y_small, ..., validation=(x_validation, y_validation)), a dict
      with train_loss, train_accuracy, validation_loss, validation_accuracy (4 values each)
    """
    model, history = None, None
    ### BEGIN SOLUTION
    model = build_mlp()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=value),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = train(model, 4, x_small, y_small, validation=(x_validation, y_validation))
    ### END SOLUTION
    return model, history
# %% id=run_exploration
explored_name, explored_values = explored_hyperparameter()
exploration, exploration_models = {}, {}
for value in explored_values:
    seed_everything(4)  # every run starts from the same initial weights and shuffles
    exploration_models[value], exploration[f"{explored_name} {value:g}"] = train_with(value)
plot_learning_curves(exploration, metrics=("train_loss", "validation_loss", "validation_accuracy"),
                     title=f"MLP, 2,500 training digits: {explored_name}")
plt.show()
for label, history in exploration.items():
    print(f"{label:22s} validation loss per epoch " + " ".join(f"{v:.3f}" for v in history["validation_loss"])
          + f"   validation accuracy after {len(history['validation_accuracy'])} epochs: "
          f"{history['validation_accuracy'][-1]:.3f}")
# %% tests id=exploration_check points=2
# Checks: the explored hyper-parameter and its range, one learning curve per value with 4 epochs measured on the validation digits, each model trained with its value, and a visible effect
name, values = explored_hyperparameter()
assert_true(name in ("learning rate", "dropout", "batch size"),
            f"explored_hyperparameter() should name 'learning rate', 'dropout' or 'batch size', got {name!r}")
values = [float(v) for v in values]
assert_true(len(values) >= 4, f"explore at least 4 values, got {len(values)}: {values}")
assert_true(all(a < b for a, b in zip(values, values[1:])),
            f"explored_hyperparameter() should list its values in increasing order, got {values}")
assert_true(len(exploration) == len(values),
            f"the exploration holds {len(exploration)} runs for {len(values)} values: run the cell above")
for label, history in exploration.items():
    for key in ("train_loss", "validation_loss", "validation_accuracy"):
        assert_true(isinstance(history, dict) and key in history and len(history[key]) == 4,
                    f"the run {label!r} should have 4 epochs of {key} (train(model, 4, x_small, y_small, "
                    f"validation=(x_validation, y_validation))); it has {sorted(history) if isinstance(history, dict) else history}")
### BEGIN HIDDEN TESTS
if name == "dropout":
    assert_true(min(values) <= 0.1 and max(values) >= 0.7 and all(0 <= v < 1 for v in values),
                f"dropout probabilities {values}: explore from at most 0.1 to at least 0.7, within [0, 1)")
else:
    assert_true(max(values) >= (100 if name == "learning rate" else 32) * min(values) > 0,
                f"{name} values {values}: the range is too narrow to show both extremes (largest at least "
                f"{100 if name == 'learning rate' else 32} times the smallest)")
for value, model in exploration_models.items():
    if name == "learning rate":
        used = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        assert_true(abs(used - value) <= 1e-6 * value,
                    f"the model trained for the learning rate {value:g} has the learning rate {used:g}")
    elif name == "dropout":
        rates = [float(layer.rate) for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
        assert_true(value in rates or (value == 0 and not any(rates)),
                    f"the model trained for the dropout {value:g} has Dropout layers of rates {rates}")
    else:
        steps = model.history.params.get("steps")
        assert_true(steps == int(np.ceil(len(x_small) / value)),
                    f"the model trained for the batch size {value:g} took {steps} steps per epoch on "
                    f"{len(x_small)} digits, not {int(np.ceil(len(x_small) / value))}")
last_model, last_history = list(exploration_models.values())[-1], list(exploration.values())[-1]
measured = last_model.evaluate(x_validation, y_validation, verbose=0)
measured = float(measured[0] if isinstance(measured, (list, tuple)) else measured)
assert_close(last_history["validation_loss"][-1], measured,
             "the last run's final validation loss (the loss of the trained model on x_validation, y_validation)",
             rtol=1e-3, atol=1e-4)
finals = [history["validation_accuracy"][-1] for history in exploration.values()]
assert_true(max(finals) - min(finals) >= 0.03,
            f"the final validation accuracies {[round(a, 3) for a in finals]} differ by less than 3 points: "
            "widen the range so that both extremes show")
### END HIDDEN TESTS
print("exploration_check: checks passed")
# %% [markdown] answer id=q_hyperparameter points=2
# **Question C.** Describe both extremes of your range and explain them. Which value would you keep,
# and why is it chosen on the validation digits rather than on the test set?
#
# ### BEGIN SOLUTION
# The learning rate of Adam, from 1e-4 to 1e-1 (one run per value, the same seed for all). At 1e-4 the
# loss falls slowly and steadily: after 4 epochs the validation loss is still 1.158 and the validation
# accuracy 0.767: the steps are too small for 4 epochs (under-fitting for lack of progress, not of
# capacity). At 1e-1 the steps are too large: the validation loss stalls high and jumps (1.012, 0.867,
# 0.890, 0.777) and the accuracy is 0.758, the worst of the range: the updates overshoot, and with ReLU
# units many can die. In between, 1e-3 and 1e-2 learn well; here 1e-2 has the lowest validation loss at
# every epoch and the best final validation accuracy (0.924 against 0.907), though its validation loss
# already rises at the last epoch (0.278 then 0.298), a first sign of over-fitting. I would keep 1e-2, or
# a value between the two, but with one seed and 1,000 validation digits the gap between 1e-3 and 1e-2 is
# not a safe ranking; the extremes are. The choice is made on the validation digits, held out from the
# training digits: the test set must not take part in any choice, or its accuracy would no longer be an
# unbiased estimate of the error on new data.
# ### END SOLUTION
# %% [markdown] rubric id=q_hyperparameter_rubric
# - **2 points**: both extremes described from the curves and explained (for the learning rate: too
#   small, too few steps to get anywhere in 4 epochs; too large, overshooting, a loss that stalls high or
#   jumps), a kept value read off the validation curves, and why not the test set (it would be fitted to
#   the test digits and would no longer estimate the error on new data).
# - **1 point**: one extreme explained, or no reason for using the validation split.
# - **0 points**: a description that contradicts the figure, or no explanation.
# %% [markdown]
# ## Part D. An autoencoder down to 2 dimensions, compared with PCA
#
# An autoencoder maps a digit $x \in [0, 1]^{784}$ to a code $z \in \mathbb{R}^2$ (the **encoder**), and
# back to a reconstruction $\hat x \in [0, 1]^{784}$ (the decoder), trained to minimise the mean squared
# error $\|\hat x - x\|^2 / 784$. PCA with 2 components is the best *linear* map of this kind.
#
# Write `build_autoencoder()`: it returns `(autoencoder, encoder)`, two `keras.Model`s that share their
# layers; `autoencoder` maps `(N, 784)` to `(N, 784)` and is compiled with the loss `"mse"`; `encoder` maps
# `(N, 784)` to the `(N, 2)` codes. Hint: build the layers once, with the functional API
# (`inputs = keras.Input(shape=(784,))`, `codes = ...(inputs)`, `keras.Model(inputs, codes)`).
# %% solution id=build_autoencoder
def build_autoencoder():
    """A 784 -> ... -> 2 -> ... -> 784 autoencoder and its encoder.

    Inputs:
    - none (the architecture and the optimizer are yours to choose)
    Returns:
    - autoencoder: a compiled keras.Model, (N, 784) -> (N, 784), loss "mse"
    - encoder: a keras.Model sharing the autoencoder's first layers, (N, 784) -> (N, 2)
    """
    autoencoder, encoder = None, None
    ### BEGIN SOLUTION
    inputs = keras.Input(shape=(784,))
    hidden = layers.Dense(128, activation="relu")(inputs)            # (N, 128)
    codes = layers.Dense(2)(hidden)                                  # (N, 2): a linear code
    decoded = layers.Dense(128, activation="relu")(codes)            # (N, 128)
    outputs = layers.Dense(784, activation="sigmoid")(decoded)       # (N, 784) in [0, 1]
    encoder = keras.Model(inputs, codes)
    autoencoder = keras.Model(inputs, outputs)
    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse")
    ### END SOLUTION
    return autoencoder, encoder
# %% tests id=autoencoder_structure points=2
# Checks: build_autoencoder returns two models: a compiled autoencoder (N, 784) -> (N, 784) with the MSE loss, and an encoder (N, 784) -> (N, 2) sharing its weights
from dlcourse.convnets import check_keras_model, model_outputs
built = build_autoencoder()
assert_true(isinstance(built, tuple) and len(built) == 2,
            f"build_autoencoder() should return a pair (autoencoder, encoder), got {type(built).__name__}")
autoencoder_check, encoder_check = built
check_keras_model(autoencoder_check, "build_autoencoder()'s autoencoder")
batch = np.random.default_rng(8).uniform(0, 1, size=(3, 784)).astype(np.float32)
codes = model_outputs(encoder_check, batch, "build_autoencoder()'s encoder")
assert_true(codes.ndim == 2 and codes.shape[0] == 3,
            f"the encoder should map a batch of 3 digits (3, 784) to codes (3, 2), got shape {codes.shape}")
assert_true(codes.shape[1] == 2,
            f"the code is {codes.shape[1]}-dimensional: the encoder must map each digit to 2 numbers "
            f"(got shape {codes.shape} for 3 digits)")
check_shape(model_outputs(autoencoder_check, batch, "build_autoencoder()'s autoencoder"), (3, 784),
            "the autoencoder's output on 3 digits")
### BEGIN HIDDEN TESTS
shared = {id(weight) for weight in autoencoder_check.weights}
assert_true(len(encoder_check.weights) > 0 and all(id(weight) in shared for weight in encoder_check.weights),
            "the encoder does not share its weights with the autoencoder: training the autoencoder would "
            "leave the encoder untrained (build the layers once and make both models from them)")
reconstruction = model_outputs(autoencoder_check, batch, "the autoencoder")
loss = float(autoencoder_check.evaluate(batch, batch, verbose=0))
assert_close(loss, np.mean((reconstruction - batch) ** 2),
             "the autoencoder's compiled loss on 3 digits (it should be the mean squared error, loss='mse')",
             rtol=1e-3, atol=1e-6)
### END HIDDEN TESTS
print("autoencoder_structure: checks passed")
# %% id=train_autoencoder
seed_everything(5)
x_train_flat, x_test_flat = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
start = time.perf_counter()
autoencoder, encoder = build_autoencoder()
fit = autoencoder.fit(x_train_flat, x_train_flat, epochs=15, batch_size=64,
                      validation_data=(x_test_flat[::5], x_test_flat[::5]), verbose=0)
time_autoencoder = time.perf_counter() - start
plot_learning_curves({"autoencoder": {"train_MSE": fit.history["loss"], "test_MSE": fit.history["val_loss"]}},
                     metrics=("train_MSE", "test_MSE"), title="autoencoder 784 -> 2 -> 784")
plt.show()
print(f"autoencoder: {time_autoencoder:.1f} s, final test MSE (2,000 digits) {fit.history['val_loss'][-1]:.4f}")
# %% [markdown] answer id=q_autoencoder_architecture points=2
# **Question D.1.** Explain the architecture you chose for the encoder and the decoder (layers, sizes,
# activations, the code layer, the output layer) and why. Comment on the learning curves.
#
# ### BEGIN SOLUTION
# The encoder is 784 -> 128 ReLU units -> 2 linear units, and the decoder mirrors it: 2 -> 128 ReLU units
# -> 784 sigmoid units. The hidden ReLU layers make the maps nonlinear: without them the autoencoder can do
# no better than PCA. The code layer is linear so that the 2 numbers can take any value (a ReLU code
# could die and lose a dimension). The sigmoid output keeps every pixel in [0, 1], like the images. One
# hidden layer of 128 units on each side is enough for 5,000 digits and trains in seconds; the loss is
# the MSE the task asks for, with Adam (learning rate 3e-3). The curves: the training and the test MSE
# fall together over the 15 epochs and stay close (final test MSE 0.0495 on 2,000 test digits): no
# over-fitting; the test MSE is still falling slowly at the end, so longer training would help a little.
# ### END SOLUTION
# %% [markdown] rubric id=q_autoencoder_architecture_rubric
# - **2 points**: each part justified: nonlinear hidden layers in the encoder and the decoder (without
#   them the autoencoder is at best PCA), a 2-unit code (linear, so the code can take any value; a ReLU
#   code can die), a decoder mirroring the encoder, a sigmoid output since pixels are in [0, 1], the MSE
#   loss; and the curves read (train and test MSE fall together, no over-fitting, numbers quoted).
# - **1 point**: the architecture described without reasons, or no comment on the curves.
# - **0 points**: an architecture that does not match the code, or no answer.
# %% [markdown]
# Write `embed_digits(encoder, images)`: the 2-D codes of a batch of digits given either as images
# `(N, 28, 28, 1)` or as flat vectors `(N, 784)`, returned as a NumPy array `(N, 2)`.
# %% solution id=embed_digits
def embed_digits(encoder, images):
    """The 2-D codes of digits.

    Inputs:
    - encoder: a keras.Model (N, 784) -> (N, 2)
    - images: (N, 28, 28, 1) or (N, 784) digits
    Returns:
    - codes: (N, 2) NumPy array, one row per digit
    """
    codes = None
    ### BEGIN SOLUTION
    flat = np.asarray(images, dtype=np.float32).reshape(len(images), 784)  # (N, 784)
    codes = np.asarray(encoder.predict(flat, batch_size=1000, verbose=0))  # (N, 2)
    ### END SOLUTION
    return codes
# %% tests id=embed_check points=1
# Checks: embed_digits gives an encoder's (N, 2) codes for 7 digits given as images
from dlcourse.convnets import model_outputs
encoder_check = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(2, activation="tanh")])  # any encoder
got = check_shape(embed_digits(encoder_check, x_test[:7]), (7, 2), "embed_digits(encoder, 7 images (7, 28, 28, 1))")
assert_close(got, model_outputs(encoder_check, x_test[:7].reshape(7, 784), "encoder"), "the codes of 7 digits",
             rtol=1e-4, atol=1e-5)
### BEGIN HIDDEN TESTS
flat = x_test[100:113].reshape(13, 784)
got = check_shape(embed_digits(encoder_check, flat), (13, 2), "embed_digits(encoder, 13 flat digits (13, 784))")
assert_close(got, model_outputs(encoder_check, flat, "encoder"), "the codes of 13 flat digits", rtol=1e-4, atol=1e-5)
check_shape(embed_digits(encoder_check, x_train[:1]), (1, 2), "embed_digits(encoder, 1 image)")
### END HIDDEN TESTS
print("embed_check: checks passed")
# %% [markdown]
# ### Autoencoder vs PCA
#
# Both methods embed the 5,000 training digits in 2-D. We compare them with two numbers: the test
# reconstruction error (PCA reconstructs with `inverse_transform`), and the accuracy of a 5-nearest-
# neighbour classifier that sees only the 2-D codes (fitted on the training codes, scored on the test codes).
# %% id=autoencoder_vs_pca_experiment
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
pca = PCA(n_components=2).fit(x_train_flat)
codes_train = {"autoencoder": embed_digits(encoder, x_train), "PCA": pca.transform(x_train_flat)}
codes_test = {"autoencoder": embed_digits(encoder, x_test), "PCA": pca.transform(x_test_flat)}
reconstructions = {"autoencoder": autoencoder.predict(x_test_flat, batch_size=1000, verbose=0),
                   "PCA": pca.inverse_transform(codes_test["PCA"])}
figure, axes = plt.subplots(1, 2, figsize=(12, 5))
for axis, method in zip(axes, ["autoencoder", "PCA"]):
    points = axis.scatter(*codes_train[method].T, c=y_train, cmap="tab10", s=3)
    axis.set_title(f"{method}: 5,000 training digits in 2-D")
figure.colorbar(points, ax=axes, ticks=range(10), label="digit")
plt.show()
embedding_table = pd.DataFrame({
    "test reconstruction MSE": [float(np.mean((reconstructions[m] - x_test_flat) ** 2)) for m in codes_test],
    "5-NN test accuracy in 2-D": [KNeighborsClassifier(n_neighbors=5).fit(codes_train[m], y_train)
                                  .score(codes_test[m], y_test) for m in codes_test],
}, index=list(codes_test))
embedding_table.round(4)
# %% tests id=autoencoder_vs_pca points=2
# Checks: the trained autoencoder's test reconstruction MSE is below PCA-2's, on half of the test digits
from sklearn.decomposition import PCA
from dlcourse.convnets import model_outputs
pca_check = PCA(n_components=2).fit(x_train.reshape(-1, 784))
def _reconstruction_mse(images):
    flat = images.reshape(-1, 784)
    outputs = check_shape(model_outputs(autoencoder, flat, "the autoencoder"), flat.shape, "the autoencoder's output")
    return float(np.mean((outputs - flat) ** 2)), float(np.mean((pca_check.inverse_transform(pca_check.transform(flat)) - flat) ** 2))
mse_autoencoder, mse_pca = _reconstruction_mse(x_test[:5000])
assert_true(mse_autoencoder < mse_pca,
            f"the autoencoder's test MSE {mse_autoencoder:.4f} is not below PCA-2's {mse_pca:.4f} (first 5,000 "
            "test digits): a nonlinear autoencoder should beat PCA; are its hidden layers nonlinear, is it trained?")
### BEGIN HIDDEN TESTS
mse_autoencoder, mse_pca = _reconstruction_mse(x_test[5000:])
assert_true(mse_autoencoder < 0.97 * mse_pca,
            f"the autoencoder's test MSE {mse_autoencoder:.4f} is not clearly below PCA-2's {mse_pca:.4f} "
            "(last 5,000 test digits): a nonlinear autoencoder should beat PCA; are its hidden layers "
            "nonlinear, is it trained?")
### END HIDDEN TESTS
print("autoencoder_vs_pca: checks passed")
# %% [markdown] answer id=q_autoencoder_vs_pca points=3
# **Question D.** Compare the two embeddings: the scatter plots, the reconstruction errors and the
# k-NN accuracies. Why can the autoencoder beat PCA on both numbers? Under what condition would an
# autoencoder do no better than PCA?
#
# ### BEGIN SOLUTION
# PCA's plane mixes most classes (only 0 and 1, at the ends of the first component, stand apart):
# k-NN in that plane reaches only about 43%. The autoencoder's codes separate more digits into their
# own regions and reconstruct better: test MSE 0.0492 against 0.0559 for PCA, and k-NN in its plane
# reaches about 49% (after 15 epochs; one training run).
# PCA is the best *linear* 2-D projection for reconstruction: the optimum over affine encoders and
# decoders. The autoencoder's encoder and decoder are nonlinear (ReLU hidden layers, sigmoid output),
# so they can bend the 2-D code space along the curved manifold of digits, and a sigmoid decoder keeps
# pixels in [0, 1]. With linear activations (no hidden nonlinearity) the autoencoder can at best
# reproduce PCA's subspace (its global minimum spans the same plane), so its MSE cannot go below
# PCA's; trained too briefly it does worse. Note the k-NN accuracy is not what the autoencoder was
# trained for: that it improves shows the nonlinear code keeps more class information.
# ### END SOLUTION
# %% [markdown] rubric id=q_autoencoder_vs_pca_rubric
# - **3 points**: both numbers compared from the table (reconstruction MSE, k-NN accuracy) and the
#   scatter plots described (which digits separate); PCA is the best linear (affine) 2-D map, the
#   autoencoder's nonlinear encoder and decoder can follow a curved manifold; an autoencoder with linear
#   activations (or too little training) does no better than PCA.
# - **2 points**: the comparison right but one of the two explanations missing.
# - **1 point**: the comparison only, or an explanation that does not use the outputs.
# - **0 points**: claims that contradict the table, or no answer.
# %% [markdown]
# ## Part E. Theory
# %% [markdown] answer id=q_max_threshold points=2
# **Question E.1.** Replace every ReLU of a network (whose layers have biases and whose output layer is
# linear) by $f_i(o; t) = \max\{t, o_i\}$, with a learned threshold $t$. Does this define a larger
# hypothesis class (the set of functions the network can represent)? Explain, or give an example. What
# changes if the layers have no biases?
#
# ### BEGIN SOLUTION
# No, the class is the same. $\max\{t, o\} = t + \max\{0, o - t\} = t + \mathrm{ReLU}(o - t)$. For a
# hidden unit $o = w^\top x + b$, so $f(o; t) = \mathrm{ReLU}(w^\top x + (b - t)) + t$: the shift $-t$ is
# absorbed into the unit's own bias $b' = b - t$, and the constant $+t$ reaches the next layer as $v\,t$
# ($v$ its outgoing weights), absorbed into that layer's bias $c' = c + v^\top t$. So every network with
# thresholds is a ReLU network with other biases, and conversely $t = 0$ gives the ReLU back: only the
# parameterisation changes. Without biases the class is larger: the thresholds then act as biases. A
# bias-free ReLU network outputs 0 at $x = 0$ (and is positively homogeneous, $N(\alpha x) = \alpha N(x)$
# for $\alpha > 0$), whereas one unit $\max\{t, w x\}$ with $t \neq 0$ outputs $t$ at $x = 0$.
# ### END SOLUTION
# %% [markdown] rubric id=q_max_threshold_rubric
# - **2 points**: "not larger" when the layers have biases, justified by $\max\{t, o\} = t + \mathrm{ReLU}(o - t)$
#   with both absorptions ($-t$ into the unit's bias, $+t$ times the outgoing weights into the next
#   layer's bias) and the converse ($t = 0$ is the ReLU); and the bias-free case: larger, with an example
#   (not 0 at $x = 0$, or not positively homogeneous).
# - **1 point**: the right verdict with the identity but one absorption missing, or no bias-free case; or
#   only the bias-free example with the right conclusion there.
# - **0 points**: "larger, because there are more parameters" (more parameters do not mean more functions),
#   or a verdict without a justification.
# %% [markdown] answer id=q_sigmoid_graph points=2
# **Question E.2.** Write the derivative of the sigmoid $\sigma(z) = 1/(1 + e^{-z})$ as a function of
# $\sigma(z)$ itself, and draw (in words or ASCII) the computational graph of $\sigma$ with the local
# derivative on each edge. Why does it matter for back-propagation that $\sigma'$ is a function of $\sigma$?
#
# ### BEGIN SOLUTION
# $\sigma'(z) = e^{-z}/(1 + e^{-z})^2 = \sigma(z)\,(1 - \sigma(z))$.
# Graph: $z \to [\times(-1)] \to u = -z \to [\exp] \to v = e^{u} \to [+1] \to w = 1 + v \to [1/\cdot] \to \sigma = 1/w$,
# with local derivatives $-1$, $e^{u} = v$, $1$, $-1/w^2$. Their product is
# $(-1)\,v\,(1)\,(-1/w^2) = e^{-z}/(1 + e^{-z})^2$, the chain rule along the path.
# Since $\sigma' = \sigma(1 - \sigma)$, the backward pass reuses the output saved in the forward pass:
# no exponential to recompute, one multiply per unit; it also shows $\sigma' \le 1/4$, so stacked
# sigmoids shrink gradients (vanishing gradients).
# ### END SOLUTION
# %% [markdown] rubric id=q_sigmoid_graph_rubric
# - **2 points**: the graph with its nodes ($-z$, $\exp$, $+1$, $1/\cdot$) and the local derivatives,
#   their product computed to $\sigma(z)(1 - \sigma(z))$, and why it matters: the backward pass reuses the
#   forward output.
# - **1 point**: the right derivative without the graph (or without the chain rule along it), or no reason.
# - **0 points**: a wrong derivative.
# %% [markdown] answer id=q_zero_init points=2
# **Question E.3.** What happens if the toy convnet of part A starts with all its parameters at zero
# ($w_1 = w_2 = u = 0$, $c = 0$)? Use the gradients you wrote.
#
# ### BEGIN SOLUTION
# With $w_1 = w_2 = 0$ every pre-activation $z_{f,j} = 0$, so the ReLUs output 0, $h = 0$, and the
# ReLU's derivative at 0 is taken as 0: the gradients of $w_1, w_2$ are 0. The read-out's gradient is
# $\partial L/\partial u = \sum_n \frac{2}{N}(p_n - y_n) h_n + \lambda u = 0$ too, since $h = 0$. Only $c$
# moves: it converges to the mean of $y$ (shrunk by the penalty). The filters and the read-out stay at 0
# forever: the network is stuck at a constant prediction (a saddle point of the loss). Even with $u \ne 0$,
# zero filters would be stuck; and two filters starting equal would stay equal (symmetry), so random
# initialisation is needed to break the symmetry and leave the dead zone.
# ### END SOLUTION
# %% [markdown] rubric id=q_zero_init_rubric
# - **2 points**: the gradients computed: $z = 0$, so $h = 0$ and the ReLU's derivative (0 at 0) stops
#   the filters' gradients; $\partial L/\partial u = 0$ since $h = 0$; only $c$ moves (to the mean of $y$):
#   the network stays a constant; and the lesson: random initialisation breaks this (and the symmetry).
# - **1 point**: "the gradients are zero" without deriving which and why, or no consequence drawn.
# - **0 points**: "it trains normally", or no answer.
