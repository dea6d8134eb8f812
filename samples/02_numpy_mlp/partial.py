# %% id=layer
# A partly wrong submission: Layer, MLP, gradient_check and train are right; Softmax sums the
# cross-entropy over the batch instead of averaging it (cost and gradient), and count_parameters
# forgets the biases.
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
        # Glorot scaling keeps the variance of activations roughly constant from layer to layer.
        scale = np.sqrt(2.0 / (self.n_in + self.n_out))
        self.W = np.random.normal(0.0, scale, size=(self.n_in, self.n_out))
        self.b = np.zeros(self.n_out)

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
        return grad_in

    def gradient_weights(self):
        """Inputs: none (uses the last backpropagate). Returns: (n_in, n_out) gradient of the cost w.r.t. W."""
        grad_W = None
        grad_W = self.grad_W
        return grad_W

    def gradient_bias(self):
        """Inputs: none (uses the last backpropagate). Returns: (n_out,) gradient of the cost w.r.t. b."""
        grad_b = None
        grad_b = self.grad_b
        return grad_b

    def update_params(self, learning_rate):
        """One step of gradient descent on W and b with the gradients of the last backpropagate.

        Inputs:
        - learning_rate: a positive float.
        Returns:
        - nothing; updates self.W and self.b.
        """
        self.W = self.W - learning_rate * self.grad_W
        self.b = self.b - learning_rate * self.grad_b

# %% id=softmax
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
        shifted = Z - Z.max(axis=1, keepdims=True)  # (N, K), largest entry of each row is 0
        self.log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, K) - (N, 1)
        P = np.exp(self.log_P)
        self.P = P
        return P

    def cost(self, Y):
        """Mean cross-entropy of the last batch propagated.

        Inputs:
        - Y: (N, K) one-hot labels.
        Returns:
        - cost: a float, the mean over the N examples.
        """
        cost = None
        cost = float(-(Y * self.log_P).sum())  # total cross-entropy of the batch
        return cost

    def backpropagate(self, Y):
        """Gradient of the mean cross-entropy w.r.t. the logits of the last batch propagated.

        Inputs:
        - Y: (N, K) one-hot labels.
        Returns:
        - grad_Z: (N, K).
        """
        grad_Z = None
        grad_Z = self.P - Y
        return grad_Z

# %% id=mlp
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
        for n_in, n_out in zip(layer_sizes[:-2], layer_sizes[1:-1]):
            self.layers.append(Layer(n_in, n_out, activation))
        self.layers.append(Layer(layer_sizes[-2], layer_sizes[-1], "identity"))

    def propagate(self, X):
        """Inputs: - X: (N, n_in) batch. Returns: - P: (N, K) class probabilities."""
        P = None
        A = X
        for layer in self.layers:
            A = layer.propagate(A)
        P = self.softmax.propagate(A)
        return P

    def cost(self, X, Y):
        """Propagates X (so that backpropagate(Y) can follow) and returns the cost.

        Inputs:
        - X: (N, n_in) batch; Y: (N, K) one-hot labels.
        Returns:
        - cost: a float, the mean cross-entropy over the batch.
        """
        cost = None
        self.propagate(X)
        cost = self.softmax.cost(Y)
        return cost

    def backpropagate(self, Y):
        """Gradients of the cost of the last batch propagated, stored in every layer.

        Inputs:
        - Y: (N, K) one-hot labels of that batch.
        Returns:
        - nothing; afterwards every layer's gradient_weights() and gradient_bias() are up to date.
        """
        grad = self.softmax.backpropagate(Y)  # (N, K)
        for layer in reversed(self.layers):
            grad = layer.backpropagate(grad)

    def update_params(self, learning_rate):
        """Inputs: - learning_rate: a positive float. Returns: nothing; one gradient step on every layer."""
        for layer in self.layers:
            layer.update_params(learning_rate)

    def predict(self, X):
        """Inputs: - X: (N, n_in) batch. Returns: - labels: (N,) integers, the most probable class of each row."""
        labels = None
        labels = self.propagate(X).argmax(axis=1)
        return labels

    def error_rate(self, X, Y):
        """Inputs: - X: (N, n_in) batch; Y: (N, K) one-hot labels. Returns: - a float, the fraction misclassified."""
        error = None
        error = float((self.predict(X) != Y.argmax(axis=1)).mean())
        return error

# %% id=gradient_check
def gradient_check(mlp, X, Y, epsilon=1e-6):
    """Largest relative error between backpropagation and centred finite differences, in float64.

    Inputs:
    - mlp: an MLP (its parameters are converted to float64 and left unchanged otherwise).
    - X: (N, n_in) batch; Y: (N, K) one-hot labels; epsilon: the finite-difference step.
    Returns:
    - worst: a float, the largest relative_error(analytic, numerical) over every W and b of every layer.
    """
    worst = None
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
    return worst

# %% id=count_parameters
def count_parameters(layer_sizes):
    """Number of trainable parameters (weights and biases) of MLP(layer_sizes, ...).

    Inputs:
    - layer_sizes: [n_in, h_1, ..., h_L, K].
    Returns:
    - an int.
    """
    count = None
    count = 0
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        count += n_in * n_out  # one weight per connection
    return count

# %% id=train
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
    N = X.shape[0]
    for epoch in range(epochs):
        rate = learning_rate * lr_decay ** epoch
        order = rng.permutation(N)
        for first in range(0, N, batch_size):
            batch = order[first:first + batch_size]
            mlp.cost(X[batch], Y[batch])
            mlp.backpropagate(Y[batch])
            mlp.update_params(rate)
        history["cost"].append(mlp.cost(X, Y))
        history["train_error"].append(mlp.error_rate(X, Y))
        history["test_error"].append(mlp.error_rate(X_test, Y_test))
    return history

# %% [markdown] id=q_cost_depth
# **Question 1.** Finite differences need two evaluations of the cost for each parameter, so about $2P$
# forward passes. Backpropagation costs about the same as one forward pass. When the network is deeper
# there are more parameters, so both get slower.

# %% [markdown] id=q_architecture
# **Question 2.** The layers should get smaller and smaller towards the output, and the activations must
# be sigmoids so that the outputs are probabilities. With identity activations the network still works,
# it only learns more slowly.

# %% [markdown] id=q_softmax_ce
# **Question 3.** The cross-entropy is $-\log p_c$ and its gradient is $p - y$. It is better to combine
# them because it is faster.

# %% [markdown] id=q_shallow_deep
# **Question 5.** The deep network is better because it has more layers and more parameters, and its
# training cost is lower at the end.

# %% [markdown] id=q_settings
# **Question 6.** The learning rate 0.3 works best, 3.0 is too big and 0.03 is too small. I would train
# for more epochs to get a better result.

# %% [markdown] id=q_gd_variants
# **Question 7.** Batch gradient descent uses the whole data set at each step, so it is slow but exact.
# Stochastic gradient descent uses one example, so it is fast. Minibatch is a compromise between the two.

# %% [markdown] id=q_learning_rate
# **Question 8.** If the learning rate is too small, learning is very slow. If it is too large, the cost
# oscillates or diverges. Decaying the learning rate makes the steps smaller at the end, so the network
# converges instead of jumping around the minimum, because the minibatch gradients are noisy.
