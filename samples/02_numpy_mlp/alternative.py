# %% id=layer
# A correct solution written differently from the reference: inside the classes, examples are the
# *columns* of Fortran-ordered arrays, products are einsums, sigmoid is exp(-log(1 + e^-z)).
ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")


def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


class Layer:
    """A fully connected layer; the public arrays have one example per row, the private ones per column."""

    def __init__(self, n_in, n_out, activation):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.n_in, self.n_out, self.activation = int(n_in), int(n_out), activation
        bound = np.sqrt(6.0 / (n_in + n_out))  # Glorot uniform
        self.W = np.random.uniform(-bound, bound, size=(n_in, n_out))
        self.b = np.zeros(n_out)

    def propagate(self, X):
        assert X.ndim == 2 and X.shape[1] == self.n_in, \
            f"Layer.propagate: X should have shape (N, {self.n_in}), got {X.shape}"
        self._XT = np.asfortranarray(X.T)  # (n_in, N), one example per column
        ZT = np.einsum("io,in->on", self.W, self._XT, optimize=True) + self.b[:, None]  # (n_out, N)
        self._ZT = ZT
        if self.activation == "sigmoid":
            self._AT = _sigmoid(ZT)
        elif self.activation == "tanh":
            self._AT = np.tanh(ZT)
        elif self.activation == "relu":
            self._AT = ZT * (ZT > 0)
        else:
            self._AT = ZT
        return np.ascontiguousarray(self._AT.T)

    def _derivative(self):
        if self.activation == "sigmoid":
            return _sigmoid(self._ZT) * _sigmoid(-self._ZT)
        if self.activation == "tanh":
            return 1.0 / np.cosh(self._ZT) ** 2
        if self.activation == "relu":
            return np.heaviside(self._ZT, 0.0)
        return np.ones_like(self._ZT)

    def backpropagate(self, grad_out):
        assert grad_out.ndim == 2 and grad_out.shape[1] == self.n_out, \
            f"Layer.backpropagate: grad_out should have shape (N, {self.n_out}), got {grad_out.shape}"
        deltaT = np.asfortranarray(grad_out.T) * self._derivative()  # (n_out, N), a new array
        self._grad_W = np.einsum("in,on->io", self._XT, deltaT, optimize=True)
        self._grad_b = np.einsum("on->o", deltaT)
        return np.einsum("io,on->ni", self.W, deltaT, optimize=True)

    def gradient_weights(self):
        return self._grad_W

    def gradient_bias(self):
        return self._grad_b

    def update_params(self, learning_rate):
        self.W -= learning_rate * self._grad_W
        self.b -= learning_rate * self._grad_b

# %% id=softmax
class Softmax:
    """Softmax and mean cross-entropy; the probabilities are kept transposed (one example per column)."""

    def propagate(self, Z):
        ZT = np.array(Z.T, dtype=np.float64, order="F")  # our own copy: safe to shift in place
        ZT -= ZT.max(axis=0)
        self._log_PT = ZT - np.log(np.exp(ZT).sum(axis=0))
        self._PT = np.exp(self._log_PT)
        return self._PT.T.copy()

    def cost(self, Y):
        return -np.einsum("nk,kn->", Y, self._log_PT) / len(Y)

    def backpropagate(self, Y):
        return (self._PT.T - Y) / len(Y)

# %% id=mlp
import functools


class MLP:
    def __init__(self, layer_sizes, activation):
        sizes = [int(n) for n in layer_sizes]
        activations = [activation] * (len(sizes) - 2) + ["identity"]
        self.layers = [Layer(n_in, n_out, f) for n_in, n_out, f in zip(sizes, sizes[1:], activations)]
        self.softmax = Softmax()

    def _logits(self, X):
        return functools.reduce(lambda A, layer: layer.propagate(A), self.layers, X)

    def propagate(self, X):
        return self.softmax.propagate(self._logits(X))

    def cost(self, X, Y):
        self.propagate(X)
        return self.softmax.cost(Y)

    def backpropagate(self, Y):
        grad = self.softmax.backpropagate(Y)
        for layer in self.layers[::-1]:
            grad = layer.backpropagate(grad)

    def update_params(self, learning_rate):
        for layer in self.layers:
            layer.update_params(learning_rate)

    def predict(self, X):
        return np.argmax(self._logits(X), axis=1)  # the softmax keeps the order of the logits

    def error_rate(self, X, Y):
        return np.count_nonzero(self.predict(X) - np.argmax(Y, axis=1)) / len(X)

# %% id=gradient_check
def gradient_check(mlp, X, Y, epsilon=1e-6):
    X = np.array(X, dtype=np.float64)
    Y = np.array(Y, dtype=np.float64)
    for layer in mlp.layers:
        layer.W = np.array(layer.W, dtype=np.float64, order="C")
        layer.b = np.array(layer.b, dtype=np.float64, order="C")
    mlp.cost(X, Y)
    mlp.backpropagate(Y)
    pairs = []
    for layer in mlp.layers:
        pairs.append((layer.W, np.array(layer.gradient_weights(), dtype=np.float64)))
        pairs.append((layer.b, np.array(layer.gradient_bias(), dtype=np.float64)))
    errors = []
    for param, analytic in pairs:
        flat = param.reshape(-1)  # a view: C-ordered
        numeric = np.empty(flat.size)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + epsilon
            up = mlp.cost(X, Y)
            flat[i] = keep - epsilon
            down = mlp.cost(X, Y)
            flat[i] = keep
            numeric[i] = (up - down) / (2.0 * epsilon)
        a = analytic.reshape(-1)
        errors.append(np.abs(a - numeric).max() / max(1e-8, (np.abs(a) + np.abs(numeric)).max()))
    return max(errors)

# %% id=count_parameters
def count_parameters(layer_sizes):
    sizes = np.asarray(layer_sizes, dtype=np.int64)
    return int(sizes[:-1] @ sizes[1:] + sizes[1:].sum())

# %% id=train
def train(mlp, X, Y, X_test, Y_test, epochs, batch_size, learning_rate, lr_decay=1.0, seed=0):
    rng = np.random.default_rng(seed)
    history = {"cost": [], "train_error": [], "test_error": []}
    n_batches = -(-len(X) // batch_size)
    for epoch in range(epochs):
        rate = learning_rate * lr_decay ** epoch
        # near-equal minibatches (none larger than batch_size), in a new random order each epoch
        for batch in np.array_split(rng.permutation(len(X)), n_batches):
            X_batch, Y_batch = X[batch], Y[batch]
            mlp.cost(X_batch, Y_batch)
            mlp.backpropagate(Y_batch)
            mlp.update_params(rate)
        history["cost"].append(float(mlp.cost(X, Y)))
        history["train_error"].append(float(mlp.error_rate(X, Y)))
        history["test_error"].append(float(mlp.error_rate(X_test, Y_test)))
    return history

# %% [markdown] id=q_cost_depth
# **Question 1.** For every one of the $P$ parameters, finite differences evaluate the cost twice, so one
# gradient costs about $2P$ forward passes, $2PF$ operations. $F$ itself grows with $P$ (each weight is
# used once per example), so this is quadratic in the size of the network. Backpropagation needs one
# forward pass and one backward pass, which costs about two forward passes, so roughly $3F$ in total.
# With $L$ layers of the same width, $P$ and $F$ are both proportional to $L$: backprop grows like $L$,
# finite differences like $L^2$. We still use finite differences because they are easy to get right and
# do not depend on our derivation, so on a tiny network they tell us whether the backward pass is right.

# %% [markdown] id=q_architecture
# **Question 2.** The sizes must chain: layer $k$ has as many inputs as layer $k-1$ has units, the first
# layer takes the 784 pixels and the last one has 10 units, one per class, which go into the softmax.
# Every activation needs a derivative (almost everywhere is enough, as for ReLU) and must be nonlinear.
# If all hidden activations are the identity, the product of the weight matrices is a single matrix and
# the biases add up to one bias vector: the network is plain softmax regression, however many layers it has.

# %% [markdown] id=q_softmax_ce
# **Question 3.** With $c$ the correct class only one term of the sum is left:
# $-\log p_c = -z_c + \log \sum_j e^{z_j}$. The derivative of $\log \sum_j e^{z_j}$ with respect to $z_k$
# is $e^{z_k} / \sum_j e^{z_j} = p_k$, and that of $-z_c$ is $-y_k$, so the gradient is $p - y$ (and
# $(P - Y)/N$ for the mean over a batch). Computing the two together avoids the $K \times K$ Jacobian of the
# softmax and the division by $p_c$ that the derivative of the log would bring, and it lets us use the
# log-sum-exp trick: no $\log 0$ when a probability underflows for large logits.

# %% [markdown] id=q_batch_timing
# **Question 4.** Going from one example per call to a few tens makes the pass several times faster,
# but nowhere near the 1/B of the dashed line: from about B = 20 on the curve is flat, and 60,000 at once
# is even a bit slower than 1,000. Each call of propagate has a fixed price (Python, NumPy's dispatch,
# allocating small arrays, for five layers and the softmax); with B = 1 that price is paid for every
# example and dominates, with B = 100 it is spread over 100 examples and what is left is the arithmetic
# itself, which no minibatch size reduces. The huge batch no longer fits in the caches, so memory traffic
# slows it down. In practice the minibatch is limited by memory (every layer's activations are kept for
# backpropagation). For training, a larger minibatch means fewer parameter updates per epoch and a
# gradient with less noise, so beyond some size an epoch makes less progress for the same work.

# %% [markdown] id=q_shallow_deep
# **Question 5.** Both networks end with almost no training errors (a few in a thousand); the deep one
# starts worse in the first epoch but then gets a clearly lower training cost, so it fits the training
# set better. The test errors end at about the same value, and the table with three seeds shows the
# difference changing from run to run by more than the difference itself, and it is also below the
# standard error of a test error measured on 10,000 digits: I cannot say that one generalises better.
# The big gap between training and test error is overfitting: with only 5,000 training digits the amount
# of data limits the result, not the number of parameters, so more depth does not help much here.

# %% [markdown] id=q_settings
# **Question 6.** In the table, 0.3 with minibatches of 100 is clearly the best choice. 0.03 learns but
# slowly, 3.0 blows up (the cost overflows). Minibatches of 10 also blow up at 0.3, and minibatches of
# 1,000 give so few updates per epoch that they are as slow as the small learning rate. From the learning
# curves, after 4 or 5 epochs the test error hardly improves while the training cost still goes down,
# so more epochs would only overfit. So: the largest learning rate that stays stable, a minibatch of a
# hundred or so, and a handful of epochs with a decaying rate.

# %% [markdown] id=q_gd_variants
# **Question 7.** Full-batch gradient descent uses all N examples for one exact gradient: a single,
# expensive and noise-free update per epoch. Online SGD takes one example per update: N cheap updates
# per epoch, but each gradient is very noisy and single-example products waste the CPU (see the timing:
# many times slower per example). Minibatch SGD sits in between: N/B updates per epoch, a noise that
# shrinks like 1/sqrt(B), and matrix-matrix products that run at full speed. That is why minibatches are
# the default choice.

# %% [markdown] id=q_learning_rate
# **Question 8.** Too small a learning rate makes tiny steps, so training crawls and can get stuck on
# flat regions; too large a rate overshoots, so the cost jumps around or explodes, as with 3.0 in the
# table. With minibatches the gradient is a noisy estimate, so at a fixed rate the weights keep bouncing
# around the minimum; lowering the rate epoch after epoch keeps the fast start and then lets them settle.
