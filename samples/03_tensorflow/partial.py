# %% id=static_graph_sum
def static_graph_sum(a, b):
    """Compute a + b with a static TensorFlow graph.

    Inputs:
    - a, b: two Python floats.
    Returns:
    - value: a + b, the number returned by session.run (a float or NumPy scalar, not a tensor)
    - graph: the tf.Graph holding the two float32 placeholders and their sum
    """
    value, graph = None, None
    graph = tf.Graph()
    with graph.as_default():
        a_in = tf.compat.v1.placeholder(tf.float32, shape=(), name="a")
        b_in = tf.compat.v1.placeholder(tf.float32, shape=(), name="b")
        total = tf.add(a_in, b_in, name="sum")
    with tf.compat.v1.Session(graph=graph) as session:
        value = session.run(total, feed_dict={a_in: a, b_in: b})
    return value, graph
# %% id=logistic_regression_tf
def logistic_regression_tf(x, w, b):
    """A logistic unit and its gradients, from a static graph and tf.gradients.

    Inputs:
    - x: (D,) float array, the input; w: (D,) float array, the weights; b: a float, the bias
    Returns:
    - out: a float, sigmoid(w . x + b)
    - dx: (D,) d out / d x; dw: (D,) d out / d w; db: a float, d out / d b
    """
    out, dx, dw, db = None, None, None, None
    D = len(x)
    graph = tf.Graph()
    with graph.as_default():
        x_in = tf.compat.v1.placeholder(tf.float64, shape=(D,), name="x")
        w_in = tf.compat.v1.placeholder(tf.float64, shape=(D,), name="w")
        b_in = tf.compat.v1.placeholder(tf.float64, shape=(), name="b")
        z = tf.reduce_sum(w_in * x_in) + b_in  # (D,) * (D,) -> (D,) -> ()
        output = tf.sigmoid(z)
        gradients = tf.gradients(z, [x_in, w_in, b_in])
    with tf.compat.v1.Session(graph=graph) as session:
        out, dx, dw, db = session.run([output] + gradients, feed_dict={x_in: x, w_in: w, b_in: b})
    return out, dx, dw, db
# %% id=build_mlp_graph
def build_mlp_graph(D, H, K, loss="mse", seed=0):
    """Declare a D-H-K sigmoid MLP, its loss and one gradient-descent step in a new tf.Graph.

    Inputs:
    - D, H, K: the numbers of inputs, hidden units and outputs
    - loss: "mse" (sigmoid outputs, squared error) or "cross_entropy" (softmax outputs)
    - seed: the seed of np.random.default_rng drawing the initial weights
    Returns:
    - net: a dict with the keys
      "graph": the tf.Graph holding everything below
      "x": (None, D) float32 placeholder, the inputs; "y": (None, K) float32 placeholder, one-hot targets
      "learning_rate": () float32 placeholder, the step size fed at every step
      "W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,): the tf.Variables
      "output": (None, K) tensor, sigmoid outputs ("mse") or softmax probabilities ("cross_entropy")
      "loss": () tensor, the minibatch's mean loss
      "train_op": the op making one gradient-descent step on the loss
      "init": the op initialising the variables
    """
    net = None
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {loss!r}")
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, shape=(None, D), name="x")
        y = tf.compat.v1.placeholder(tf.float32, shape=(None, K), name="y")
        learning_rate = tf.compat.v1.placeholder(tf.float32, shape=(), name="learning_rate")
        W1 = tf.Variable(rng.normal(0.0, 1.0 / np.sqrt(D), (D, H)).astype(np.float32), name="W1")
        b1 = tf.Variable(np.zeros(H, np.float32), name="b1")
        W2 = tf.Variable(rng.normal(0.0, 1.0 / np.sqrt(H), (H, K)).astype(np.float32), name="W2")
        b2 = tf.Variable(np.zeros(K, np.float32), name="b2")
        hidden = tf.sigmoid(tf.matmul(x, W1) + b1)  # (N, D) @ (D, H) + (H,) -> (N, H)
        logits = tf.matmul(hidden, W2) + b2  # (N, H) @ (H, K) + (K,) -> (N, K)
        if loss == "mse":
            output = tf.sigmoid(logits)
            loss_value = tf.reduce_mean(tf.reduce_sum(tf.square(output - y), axis=1))  # (N, K) -> (N,) -> ()
        else:
            output = tf.nn.softmax(logits)
            loss_value = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_op = tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(loss_value)
        init = tf.compat.v1.global_variables_initializer()
    net = {"graph": graph, "x": x, "y": y, "learning_rate": learning_rate, "W1": W1, "b1": b1, "W2": W2,
           "b2": b2, "output": output, "loss": loss_value, "train_op": train_op, "init": init}
    return net
# %% id=train_mlp
def train_mlp(net, x_train, y_train, x_test, y_test, epochs, batch_size, learning_rate, seed=0):
    """Train a net made by build_mlp_graph with minibatch gradient descent.

    Inputs:
    - net: the dict of build_mlp_graph
    - x_train: (N, D), y_train: (N, K) one-hot; x_test: (M, D), y_test: (M, K) one-hot
    - epochs, batch_size: ints
    - learning_rate: a float, or a function epoch -> float (epochs counted from 0)
    - seed: the seed of np.random.default_rng shuffling the training set every epoch
    Returns:
    - history: a dict with the keys
      "loss": list of epochs floats, the mean training loss of each epoch
      "test_error": list of epochs floats in [0, 1], the test error after each epoch
      "learning_rate": list of epochs floats, the rate used in each epoch
      "params": dict "W1", "b1", "W2", "b2" -> NumPy arrays, the trained weights
    """
    history = None
    rng = np.random.default_rng(seed)
    schedule = learning_rate if callable(learning_rate) else (lambda epoch: learning_rate)
    history = {"loss": [], "test_error": [], "learning_rate": []}
    n = len(x_train)
    with tf.compat.v1.Session(graph=net["graph"]) as session:
        session.run(net["init"])
        for epoch in range(epochs):
            rate = float(schedule(epoch))
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch_size):
                batch = order[start:start + batch_size]
                _, batch_loss = session.run([net["train_op"], net["loss"]], {
                    net["x"]: x_train[batch], net["y"]: y_train[batch], net["learning_rate"]: rate})
                total += float(batch_loss) * len(batch)
            output = session.run(net["output"], {net["x"]: x_test})
            history["loss"].append(total / n)
            history["test_error"].append(float(np.mean(output.argmax(axis=1) != y_test.argmax(axis=1))))
            history["learning_rate"].append(rate)
        history["params"] = session.run({key: net[key] for key in ("W1", "b1", "W2", "b2")})
    return history
# %% id=piecewise_constant
def piecewise_constant(boundaries, values):
    """A piecewise-constant learning-rate schedule.

    Inputs:
    - boundaries: increasing list of B ints (epochs); values: list of B + 1 floats
    Returns:
    - schedule: a function epoch -> float: values[0] for epoch < boundaries[0],
      values[i] for boundaries[i - 1] <= epoch < boundaries[i], values[B] for epoch >= boundaries[B - 1]
    """
    schedule = None
    if len(values) != len(boundaries) + 1:
        raise ValueError(f"{len(boundaries)} boundaries need {len(boundaries) + 1} values, got {len(values)}")

    def schedule(epoch):
        return float(values[sum(epoch > boundary for boundary in boundaries)])
    return schedule
# %% id=preprocess_housing
def preprocess_housing(train_df, test_df):
    """Impute, scale and one-hot encode the housing splits with statistics of the training split only.

    Inputs:
    - train_df, test_df: pandas DataFrames with the housing table's columns
    Returns:
    - X_train: (N_train, F) float32, X_test: (N_test, F) float32: the F numeric columns (every column but
      ocean_proximity, in the table's order), each missing value replaced by its column's training median,
      then standardised with the training mean and standard deviation of the column
    - Y_train: (N_train, C) float32, Y_test: (N_test, C) float32: one-hot rows of ocean_proximity
    - classes: the list of the C categories found in train_df, sorted (column c of Y is classes[c])
    """
    X_train, X_test, Y_train, Y_test, classes = None, None, None, None, None
    features = [column for column in train_df.columns if column != "ocean_proximity"]
    medians = train_df[features].median()
    train = train_df[features].fillna(medians).to_numpy(np.float64)
    test = test_df[features].fillna(medians).to_numpy(np.float64)
    mean, std = train.mean(axis=0), train.std(axis=0)
    X_train = ((train - mean) / std).astype(np.float32)
    X_test = ((test - mean) / std).astype(np.float32)
    classes = sorted(train_df["ocean_proximity"].unique())
    index = {name: i for i, name in enumerate(classes)}
    one_hot = np.eye(len(classes), dtype=np.float32)
    Y_train = one_hot[train_df["ocean_proximity"].map(index).to_numpy()]
    Y_test = one_hot[test_df["ocean_proximity"].map(index).to_numpy()]
    return X_train, X_test, Y_train, Y_test, classes
# %% id=build_classifier
def build_classifier(n_features, n_classes):
    """A compiled Keras classifier.

    Inputs:
    - n_features: the number of input columns F; n_classes: the number of classes C
    Returns:
    - model: a compiled keras.Model mapping (N, F) inputs to (N, C) class probabilities (softmax)
    """
    model = None
    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        keras.layers.Dense(64),
        keras.layers.Dense(64),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model
# %% id=minimize
def minimize(optimizer, loss, var_list):
    """One step of the TF2 `optimizer.minimize(loss, var_list)`, written with a GradientTape.

    Inputs:
    - optimizer: a keras.optimizers.Optimizer (SGD, Adam, ...), whose state persists between calls
    - loss: a function of no argument returning the () loss tensor computed from the variables
    - var_list: list of tf.Variable, the variables to update (no other variable may change)
    Returns:
    - value: a float, the loss computed before the update
    """
    value = None
    with tf.GradientTape() as tape:
        loss_value = loss()
    gradients = tape.gradient(loss_value, var_list)
    optimizer.apply_gradients(zip(gradients, var_list))
    value = float(loss())  # the loss after the step, not before
    return value
# %% id=build_regressor
def build_regressor(n_features):
    """A compiled Keras regressor of the median house value.

    Inputs:
    - n_features: the number of input columns F
    Returns:
    - model: a keras.Model mapping (N, F) inputs to (N, 1) predicted values (a linear output unit),
      compiled with the mean squared error loss
    """
    model = None
    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        keras.layers.Dense(32, activation="relu"),  # one small layer at Adam's default rate: undertrained in 10 epochs
        keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse")
    return model
# %% [markdown] id=q_mse_vs_ce
# Cross-entropy is better for classification so it learns faster.
# %% [markdown] id=q_baseline
# The random forest is better (about 98%). Trees are good on tables.
# %% [markdown] id=q_regression
# The network is better than the linear regression. The output must be linear because it is a regression.
# %% [markdown] id=q_cpu_gpu_tpu
# A CPU does general computations, a GPU is made for graphics and matrix computations with many cores, a
# TPU is a chip from Google for tensors.
# %% [markdown] id=q_gpu_bottleneck
# The GPU is too slow for big networks so it is the bottleneck, we need a bigger GPU.
# %% [markdown] id=q_graphs_help
# The graph lets the framework compute the gradients automatically with the chain rule (backpropagation).
