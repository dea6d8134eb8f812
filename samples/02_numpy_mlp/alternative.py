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
