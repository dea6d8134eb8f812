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
# %% [markdown] id=q_toy_models
# **A.** The loss curves go down for all six runs, so SGD works. For $y_1$ the linear model is the right
# model: $y_1 = (W^\top \mathbf 1)^\top x$ is linear, and its error is essentially zero. The convnet is worse
# there because the same two weights slide over all positions, so it cannot give every $x_i$ its own
# coefficient, and ReLU plus max make it only piecewise linear. For $y_2$ the convnet wins by a lot: a filter
# like $(1, 0)$ followed by ReLU and max-pooling already computes the max over three of the coordinates; but
# it is not perfect, since the final layer adds the two pooled values linearly instead of taking their max.
# The linear model can only follow the mean trend of the max. For $y_3$ (a soft max of $Wx$) the linear model
# is better: log-sum-exp is close to linear in $x$ most of the time, while the convnet cannot build the
# combinations $Wx$ with shared 2-tap filters. So the architecture must match the structure of the target.
# %% [markdown] id=q_linear_generalisation
# **B.1.** It generalises: train and test accuracy are only a few points apart and the test loss keeps
# decreasing with the training loss over all epochs. The model is too simple rather than short of data:
# softmax regression is one weight image per digit, it under-fits, so its training accuracy is also limited.
# %% [markdown] id=q_mlp_choices
# **B.2.** Two hidden layers of 200 and 100 tanh units, a softmax output, sparse categorical cross-entropy
# and Adam with its default rate: two layers give more capacity than one for a small cost, tanh is smooth
# and zero-centred (it saturates for large inputs, but the pixels are small and Adam copes), cross-entropy
# on the softmax is the log-likelihood of the labels, and Adam needs no tuning for a few epochs. Compared with the linear
# model, the MLP is more accurate on the test digits, but its training accuracy goes close to 100% and
# its test loss stops improving after a few epochs: it over-fits the small training set.
# %% [markdown] id=q_keras_comparison
# **B.3.** The convnet is the most accurate, then the MLP, then the linear model. The parameter counts do
# not explain it (the MLP and the convnet have the same order of magnitude): the convnet reuses the same
# small filters at every location and pools, so a stroke detector learned in one place works everywhere and
# small shifts of a digit do not matter. That prior suits images and needs fewer examples. The times vary
# with the machine's load, so I would not compare them closely.
# %% [markdown] id=q_hyperparameter
# **C.** I varied the dropout probability from 0 to 0.9. Without dropout the model learns fastest in 4
# epochs; with a high rate such as 0.9 most hidden units are switched off at each step, training is very
# noisy and the validation accuracy is clearly lower after 4 epochs (under-fitting). Moderate dropout makes
# training and validation curves closer (less over-fitting), at a small cost in speed. With only 4 epochs a
# low rate is best; I would pick it on the validation curves, which come from training digits not used to
# fit; the test digits must stay untouched until the end, otherwise they are no longer an honest estimate.
# %% [markdown] id=q_autoencoder_architecture
# **D.1.** Encoder 784 -> 256 -> 64 -> 2 with ReLU activations and a linear code; decoder 2 -> 64 -> 256 -> 784
# with a sigmoid at the end, since pixels lie in [0, 1]. The nonlinear layers are what lets the model do
# better than PCA; the code is linear so it is not clipped. The train and test MSE curves decrease together
# and stay close, so there is no over-fitting.
# %% [markdown] id=q_autoencoder_vs_pca
# **D.2.** The autoencoder's reconstruction error is lower than PCA's and k-NN on its 2-D codes is more
# accurate; in the scatter plot its clusters overlap less than PCA's. PCA is the optimal linear projection
# for squared error, while the autoencoder's nonlinear encoder/decoder can unfold a curved manifold. If all
# its activations were linear, it could at best find PCA's plane, so it would not beat PCA (and a badly
# trained one would be worse).
# %% [markdown] id=q_max_threshold
# **E.1.** With biases it is not a larger class: $\max\{t, o\} = \mathrm{ReLU}(o - t) + t$. The $-t$ can be
# moved into the bias of the unit that computes $o$, and the $+t$ adds a constant to the next layer's input,
# which its bias can cancel or include. Conversely $t = 0$ is a ReLU. Without biases it is larger: a bias-free
# ReLU network maps 0 to 0, but $\max\{t, 0 \cdot x\} = t$ at $x = 0$.
# %% [markdown] id=q_sigmoid_graph
# **E.2.** Nodes: $a = -x$, $b = e^a$, $c = 1 + b$, $\sigma = 1/c$. Local derivatives: $-1$, $e^a$, $1$,
# $-1/c^2$. Multiplying: $\sigma' = e^{-x}/(1+e^{-x})^2 = \frac{1}{1+e^{-x}} \cdot \frac{e^{-x}}{1+e^{-x}}
# = \sigma(1 - \sigma)$. So the backward pass only needs the stored output $\sigma$ of the forward pass.
# %% [markdown] id=q_zero_init
# **E.3.** All $z_{f,j}$ are 0, so the ReLU outputs and $h$ are 0 and the ReLU derivative at 0 is 0: the
# filter gradients vanish. The gradient for $u$ is the residual times $h$, also 0. Only the bias $c$ gets a
# gradient and goes to the mean target. The net is stuck predicting a constant, so we need random init.
