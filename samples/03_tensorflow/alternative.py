# %% id=static_graph_sum
def static_graph_sum(a, b):
    """Compute a + b with a static TensorFlow graph (alternative: unshaped placeholders, the + operator)."""
    graph = tf.Graph()
    with graph.as_default():
        first = tf.compat.v1.placeholder(tf.float32)
        second = tf.compat.v1.placeholder(tf.float32)
        total = first + second
    session = tf.compat.v1.Session(graph=graph)
    try:
        value = float(session.run(total, {first: a, second: b}))
    finally:
        session.close()
    return value, graph
# %% id=logistic_regression_tf
def logistic_regression_tf(x, w, b):
    """A logistic unit in float32, written as 1 / (1 + exp(-z)), one tf.gradients call per input."""
    graph = tf.Graph()
    with graph.as_default():
        x_in = tf.compat.v1.placeholder(tf.float32, shape=[len(x)])
        w_in = tf.compat.v1.placeholder(tf.float32, shape=[len(w)])
        b_in = tf.compat.v1.placeholder(tf.float32, shape=[])
        z = tf.tensordot(x_in, w_in, axes=1) + b_in
        out = 1.0 / (1.0 + tf.exp(-z))
        fetches = [out] + [tf.gradients(out, v)[0] for v in (x_in, w_in, b_in)]
    with tf.compat.v1.Session(graph=graph) as session:
        values = session.run(fetches, {x_in: np.asarray(x, np.float32), w_in: np.asarray(w, np.float32),
                                       b_in: np.float32(b)})
    return tuple(np.asarray(v, np.float64) for v in values)
# %% id=build_mlp_graph
def build_mlp_graph(D, H, K, loss="mse", seed=0):
    """The D-H-K sigmoid MLP with manual gradient-descent updates (assign_sub) instead of an optimizer."""
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, D])
        y = tf.compat.v1.placeholder(tf.float32, [None, K])
        rate = tf.compat.v1.placeholder(tf.float32, [])
        W1 = tf.Variable(np.float32(1.0 / np.sqrt(D)) * rng.standard_normal((D, H), dtype=np.float32))
        W2 = tf.Variable(np.float32(1.0 / np.sqrt(H)) * rng.standard_normal((H, K), dtype=np.float32))
        b1 = tf.Variable(tf.zeros([H], tf.float32))
        b2 = tf.Variable(tf.zeros([K], tf.float32))
        logits = tf.matmul(tf.sigmoid(tf.matmul(x, W1) + b1), W2) + b2
        batch = tf.cast(tf.shape(x)[0], tf.float32)
        if loss == "mse":
            output = tf.sigmoid(logits)
            loss_value = tf.reduce_sum(tf.square(y - output)) / batch
        elif loss == "cross_entropy":
            output = tf.nn.softmax(logits, axis=-1)
            loss_value = -tf.reduce_sum(y * tf.nn.log_softmax(logits, axis=-1)) / batch
        else:
            raise ValueError(loss)
        params = [W1, b1, W2, b2]
        gradients = tf.gradients(loss_value, params)
        train_op = tf.group(*[p.assign_sub(rate * g) for p, g in zip(params, gradients)])
        init = tf.compat.v1.variables_initializer(params)
    return dict(graph=graph, x=x, y=y, learning_rate=rate, W1=W1, b1=b1, W2=W2, b2=b2, output=output,
                loss=loss_value, train_op=train_op, init=init)
# %% id=train_mlp
def train_mlp(net, x_train, y_train, x_test, y_test, epochs, batch_size, learning_rate, seed=0):
    """Minibatch gradient descent; batches from np.array_split, the loss fetched before each step."""
    import sys
    # Deliberately noisy on stderr, like TensorFlow's logging: it must never cost a correct answer points.
    sys.stderr.write("train_mlp: starting (a library-style log line on stderr)\n")
    generator = np.random.default_rng(seed)
    history = dict(loss=[], test_error=[], learning_rate=[])
    session = tf.compat.v1.Session(graph=net["graph"])
    session.run(net["init"])
    n_batches = max(1, int(np.ceil(len(x_train) / batch_size)))
    for epoch in range(epochs):
        rate = learning_rate(epoch) if callable(learning_rate) else learning_rate
        losses, sizes = [], []
        for batch in np.array_split(generator.permutation(len(x_train)), n_batches):
            feed = {net["x"]: x_train[batch], net["y"]: y_train[batch], net["learning_rate"]: rate}
            losses.append(session.run(net["loss"], feed))
            sizes.append(len(batch))
            session.run(net["train_op"], feed)
        predicted = np.argmax(session.run(net["output"], {net["x"]: x_test}), axis=-1)
        history["loss"].append(float(np.dot(losses, sizes) / np.sum(sizes)))
        history["test_error"].append(1.0 - float(np.mean(predicted == np.argmax(y_test, axis=-1))))
        history["learning_rate"].append(float(rate))
    history["params"] = {name: session.run(net[name]) for name in ("W1", "b1", "W2", "b2")}
    session.close()
    return history
# %% id=piecewise_constant
def piecewise_constant(boundaries, values):
    """Piecewise-constant schedule with bisect: the number of boundaries <= epoch picks the value."""
    import bisect

    assert len(values) == len(boundaries) + 1, "need one more value than boundaries"
    return lambda epoch: values[bisect.bisect_right(boundaries, epoch)]
# %% id=preprocess_housing
def preprocess_housing(train_df, test_df):
    """scikit-learn's SimpleImputer, StandardScaler and OneHotEncoder, fitted on the training split."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = train_df.drop(columns=["ocean_proximity"]).columns
    scaler = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    X_train = scaler.fit_transform(train_df[numeric]).astype("float32")
    X_test = scaler.transform(test_df[numeric]).astype("float32")
    encoder = OneHotEncoder(sparse_output=False, dtype=np.float32)
    Y_train = encoder.fit_transform(train_df[["ocean_proximity"]])
    Y_test = encoder.transform(test_df[["ocean_proximity"]])
    return X_train, X_test, Y_train, Y_test, list(encoder.categories_[0])
# %% id=build_classifier
def build_classifier(n_features, n_classes):
    """The functional API: one wide tanh hidden layer, Nadam."""
    inputs = keras.Input(shape=(n_features,))
    hidden = keras.layers.Dense(128, activation="tanh")(inputs)
    hidden = keras.layers.Dense(32, activation="elu")(hidden)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=5e-3),
                  loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
