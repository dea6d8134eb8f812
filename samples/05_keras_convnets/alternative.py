# %% id=linear_model
def linear_predict(params, X):
    """Linear model, written with einsum.

    Inputs:
    - params: dict with "theta" (4,) and "b" (1,); X: (N, 4)
    Returns:
    - p: (N,)
    """
    return np.einsum("nd,d->n", X, params["theta"]) + params["b"].item()


def linear_loss_and_gradients(params, X, y, lam):
    """Loss and gradients, the mean taken as a division by N of explicit sums.

    Inputs:
    - params, X (N, 4), y (N,), lam
    Returns:
    - loss (float), grads (dict)
    """
    n = len(y)
    error = linear_predict(params, X) - y
    loss = np.dot(error, error) / n
    for value in params.values():
        loss += 0.5 * lam * np.dot(value, value)
    weights = 2.0 / n * error
    grads = {"theta": np.dot(weights, X) + lam * params["theta"],
             "b": np.full(1, weights.sum()) + lam * params["b"]}
    return float(loss), grads
# %% id=convnet_model
def _toy_forward(params, X):
    """The toy convnet's forward pass, one position at a time; keeps what backprop needs."""
    responses = []
    for j in range(3):
        window = X[:, j:j + 2]                                     # (N, 2)
        responses.append(np.column_stack([window @ params["w1"], window @ params["w2"]]))  # (N, 2 filters)
    Z = np.stack(responses, axis=2)                                # (N, 2 filters, 3 positions)
    A = np.where(Z > 0, Z, 0.0)
    H = A.max(axis=2)                                              # (N, 2)
    return Z, A, H, H.dot(params["u"]) + params["c"][0]


def convnet_predict(params, X):
    """Toy convnet predictions.

    Inputs:
    - params: w1, w2, u (2,), c (1,); X: (N, 4)
    Returns:
    - p: (N,)
    """
    return _toy_forward(params, X)[3]


def convnet_loss_and_gradients(params, X, y, lam):
    """Loss and gradients; the max-pooling's gradient goes through a mask of the maxima.

    Inputs:
    - params, X (N, 4), y (N,), lam
    Returns:
    - loss (float), grads (dict)
    """
    n = X.shape[0]
    Z, A, H, p = _toy_forward(params, X)
    loss = np.sum((p - y) ** 2) / n + 0.5 * lam * sum(float(v @ v) for v in params.values())
    g_p = (p - y) * (2.0 / n)                                      # (N,)
    g_H = np.outer(g_p, params["u"])                               # (N, 2)
    winners = (A == H[:, :, None]) & (Z > 0)                       # the maximum, where the ReLU is active
    g_Z = winners * g_H[:, :, None]                                # (N, 2, 3)
    g_w = np.zeros((2, 2))
    for j in range(3):
        g_w += g_Z[:, :, j].T @ X[:, j:j + 2]                      # (2, N) @ (N, 2)
    grads = {"w1": g_w[0] + lam * params["w1"], "w2": g_w[1] + lam * params["w2"],
             "u": g_p @ H + lam * params["u"], "c": np.array([g_p.sum() + lam * params["c"][0]])}
    return float(loss), grads
# %% id=sgd
def sgd(loss_and_gradients, params, X, y, lam, learning_rate, epochs, batch_size, seed=0):
    """SGD with np.array_split batches.

    Inputs:
    - loss_and_gradients, params, X, y, lam, learning_rate, epochs, batch_size, seed
    Returns:
    - params (new dict), history (list of epochs + 1 losses)
    """
    rng = np.random.default_rng(seed)
    current = {name: np.array(value, dtype=float) for name, value in params.items()}
    history = [loss_and_gradients(current, X, y, lam)[0]]
    n_batches = -(-len(X) // batch_size)
    for epoch in range(epochs):
        shuffled = rng.permutation(len(X))
        for batch in np.array_split(shuffled, [batch_size * (k + 1) for k in range(n_batches - 1)]):
            grads = loss_and_gradients(current, X[batch], y[batch], lam)[1]
            current = {name: current[name] - learning_rate * grads[name] for name in current}
        history.append(loss_and_gradients(current, X, y, lam)[0])
    return current, history
# %% id=build_linear_model
def build_linear_model():
    """Functional API, a Reshape instead of Flatten, a separate softmax layer, loss and metric objects.

    Returns:
    - model: compiled keras.Model (N, 28, 28, 1) -> (N, 10)
    """
    inputs = keras.Input(shape=(28, 28, 1))
    scores = layers.Dense(10)(layers.Reshape((784,))(inputs))
    model = keras.Model(inputs, layers.Activation("softmax")(scores), name="softmax_regression")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")])
    model.summary()  # printed in the test cells: harmless
    return model
# %% id=build_mlp
def build_mlp():
    """Two hidden tanh layers; input_shape given to a layer (Keras warns about it on stderr).

    Returns:
    - model: compiled keras.Model (N, 28, 28, 1) -> (N, 10)
    """
    model = keras.Sequential([
        layers.Flatten(input_shape=(28, 28, 1)),
        layers.Dense(200, activation="tanh"),
        layers.Dense(100, activation="tanh"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
# %% id=build_convnet
def build_convnet():
    """Two small 'same' convolutions, each followed by max-pooling, then dropout and a hidden Dense layer.

    Returns:
    - model: compiled keras.Model (N, 28, 28, 1) -> (N, 10)
    """
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(12, 3, padding="same", activation="relu")(inputs)   # (N, 28, 28, 12)
    x = layers.MaxPooling2D()(x)                                          # (N, 14, 14, 12)
    x = layers.Conv2D(24, 3, activation="relu")(x)                        # (N, 12, 12, 24)
    x = layers.MaxPooling2D()(x)                                          # (N, 6, 6, 24)
    x = layers.Dropout(0.2)(layers.Flatten()(x))
    x = layers.Dense(48)(x)
    x = layers.ReLU()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
# %% id=hyperparameter_exploration
def explored_hyperparameter():
    """Dropout probabilities from none to most units dropped.

    Inputs:
    - none
    Returns:
    - name ("dropout") and the values (a list of 4 probabilities)
    """
    return "dropout", [0.0, 0.3, 0.6, 0.9]


def train_with(value):
    """An MLP with dropout `value` after the hidden layer (and value / 2 on the pixels), trained 4 epochs.

    Inputs:
    - value: the dropout probability, in [0, 1)
    Returns:
    - model (trained) and its history on the validation digits
    """
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dropout(value / 2),
                              layers.Dense(128, activation="relu"), layers.Dropout(value),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, train(model, 4, x_small, y_small, batch_size=64, validation=(x_validation, y_validation))
# %% id=build_autoencoder
def build_autoencoder():
    """An encoder model and a decoder model, composed; MSE given as a loss object.

    Returns:
    - autoencoder: compiled keras.Model (N, 784) -> (N, 784); encoder: keras.Model (N, 784) -> (N, 2)
    """
    encoder = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(256, activation="relu"),
                                layers.Dense(64, activation="relu"), layers.Dense(2)], name="encoder")
    decoder = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(64, activation="relu"),
                                layers.Dense(256, activation="relu"), layers.Dense(784, activation="sigmoid")],
                               name="decoder")
    inputs = keras.Input(shape=(784,))
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")
    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
                        loss=keras.losses.MeanSquaredError())
    return autoencoder, encoder
# %% id=embed_digits
def embed_digits(encoder, images):
    """Codes from predict() with its default progress output (printed in the test cell).

    Inputs:
    - encoder, images (N, 28, 28, 1) or (N, 784)
    Returns:
    - codes: (N, 2)
    """
    images = np.asarray(images)
    return encoder.predict(images.reshape(images.shape[0], -1))
