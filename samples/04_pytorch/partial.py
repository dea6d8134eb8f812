# %% id=init_params
# A partly wrong submission: the softmax is not stabilised, the loss takes log(0), and
# autograd_step never zeroes the gradients (they pile up from step to step). The rest is correct.
def init_params(nx, nh, ny):
    """Initial parameters of the network.

    Inputs:
    - nx, nh, ny: sizes of the input, of the hidden layer and of the output
    Returns:
    - params: dict with 'Wh' (nh, nx), 'bh' (nh,), 'Wy' (ny, nh), 'by' (ny,); weights ~ N(0, 0.3^2), biases 0
    """
    params = {}
    params["Wh"] = torch.randn(nh, nx) * 0.3
    params["bh"] = torch.zeros(nh)
    params["Wy"] = torch.randn(ny, nh) * 0.3
    params["by"] = torch.zeros(ny)
    return params
# %% id=forward
def forward(params, X):
    """Forward pass of the network on a batch.

    Inputs:
    - params: dict with 'Wh' (nh, nx), 'bh' (nh,), 'Wy' (ny, nh), 'by' (ny,)
    - X: (N, nx) batch, one example per row
    Returns:
    - Yhat: (N, ny) predicted probabilities, each row sums to 1
    - outputs: dict with 'X' (N, nx), 'htilde' (N, nh), 'h' (N, nh), 'ytilde' (N, ny), 'yhat' (N, ny)
    """
    outputs = {"X": X}
    outputs["htilde"] = X @ params["Wh"].T + params["bh"]  # (N, nx) @ (nx, nh) + (nh,) -> (N, nh)
    outputs["h"] = torch.tanh(outputs["htilde"])
    outputs["ytilde"] = outputs["h"] @ params["Wy"].T + params["by"]  # (N, nh) @ (nh, ny) -> (N, ny)
    exp = torch.exp(outputs["ytilde"])
    outputs["yhat"] = exp / exp.sum(dim=1, keepdim=True)
    return outputs.get("yhat"), outputs
# %% id=loss_accuracy
def loss_accuracy(Yhat, Y):
    """Mean cross-entropy and accuracy of predicted probabilities.

    Inputs:
    - Yhat: (N, ny) predicted probabilities
    - Y: (N, ny) one-hot labels
    Returns:
    - loss: 0-dim tensor, the mean over the batch of -sum_j Y[i, j] log Yhat[i, j]
    - acc: float or 0-dim tensor, the share of rows where argmax Yhat = argmax Y
    """
    loss, acc = None, None
    loss = -(Y * torch.log(Yhat)).sum(dim=1).mean()
    acc = (Yhat.argmax(dim=1) == Y.argmax(dim=1)).float().mean()
    return loss, acc
# %% id=backward
def backward(params, outputs, Y):
    """Gradients of the mean cross-entropy with respect to the parameters, computed by hand.

    Inputs:
    - params: dict with 'Wh' (nh, nx), 'bh' (nh,), 'Wy' (ny, nh), 'by' (ny,)
    - outputs: the dict returned by forward: 'X' (N, nx), 'htilde' (N, nh), 'h' (N, nh), 'ytilde' (N, ny), 'yhat' (N, ny)
    - Y: (N, ny) one-hot labels
    Returns:
    - grads: dict with the keys of params, each gradient of the shape of its parameter
    """
    grads = {}
    N = Y.shape[0]
    d_ytilde = (outputs["yhat"] - Y) / N  # (N, ny): the 1/N of the mean enters here, once
    grads["Wy"] = d_ytilde.T @ outputs["h"]  # (ny, N) @ (N, nh) -> (ny, nh)
    grads["by"] = d_ytilde.sum(dim=0)  # (ny,)
    d_h = d_ytilde @ params["Wy"]  # (N, ny) @ (ny, nh) -> (N, nh)
    d_htilde = d_h * (1 - outputs["h"] ** 2)  # derivative of tanh
    grads["Wh"] = d_htilde.T @ outputs["X"]  # (nh, N) @ (N, nx) -> (nh, nx)
    grads["bh"] = d_htilde.sum(dim=0)  # (nh,)
    return grads
# %% id=sgd
def sgd(params, grads, eta):
    """One step of gradient descent.

    Inputs:
    - params: dict of parameter tensors; grads: dict of their gradients (same keys and shapes)
    - eta: the learning rate
    Returns:
    - params: dict with the updated parameters, params[k] - eta * grads[k]
    """
    params = {k: params[k] - eta * grads[k] for k in params}
    return params
# %% id=train
def manual_step(params, X, Y, eta):
    """One step of minibatch gradient descent with the manual backward pass.

    Inputs:
    - params: dict of parameters; X: (N, nx) minibatch; Y: (N, ny) one-hot labels; eta: learning rate
    Returns:
    - params: the updated parameters
    """
    _, outputs = forward(params, X)
    params = sgd(params, backward(params, outputs, Y), eta)
    return params


def train(params, X, Y, eta, batch_size, epochs, step=manual_step, X_test=None, Y_test=None):
    """Minibatch gradient descent, a new random order of the examples at every epoch.

    Inputs:
    - params: dict of parameters; X: (N, nx) inputs; Y: (N, ny) one-hot labels
    - eta: learning rate; batch_size: rows per minibatch; epochs: passes over the data
    - step: function (params, X_batch, Y_batch, eta) -> params doing one update
    - X_test, Y_test: optional held-out data, evaluated at the end of every epoch
    Returns:
    - params: the trained parameters
    - history: dict of per-epoch lists 'loss', 'accuracy' (training set), 'test_loss', 'test_accuracy'
    """
    history = {"loss": [], "accuracy": [], "test_loss": [], "test_accuracy": []}
    N = X.shape[0]
    for _ in range(epochs):
        order = torch.randperm(N)
        for start in range(0, N, batch_size):
            batch = order[start:start + batch_size]
            params = step(params, X[batch], Y[batch], eta)
        loss, acc = evaluate(params, X, Y)
        history["loss"].append(loss)
        history["accuracy"].append(acc)
        if X_test is not None:
            loss, acc = evaluate(params, X_test, Y_test)
            history["test_loss"].append(loss)
            history["test_accuracy"].append(acc)
    return params, history
# %% id=autograd_step
def autograd_step(params, X, Y, eta):
    """One step of minibatch gradient descent with gradients from autograd.

    Inputs:
    - params: dict of leaf tensors with requires_grad=True; X: (N, nx) minibatch; Y: (N, ny) one-hot; eta: learning rate
    Returns:
    - params: the same dict, its tensors updated in place (still leaves requiring grad)
    """
    loss, _ = loss_accuracy(forward(params, X)[0], Y)
    loss.backward()
    with torch.no_grad():
        for p in params.values():
            p -= eta * p.grad
    return params
# %% id=build_model
def build_model(nx, nh, ny):
    """The network as a torch.nn.Sequential: Linear(nx, nh), Tanh, Linear(nh, ny) (logits, no softmax).

    Inputs:
    - nx, nh, ny: sizes of the input, hidden layer and output
    Returns:
    - model: a torch.nn.Sequential mapping (N, nx) inputs to (N, ny) logits
    """
    model = None
    model = torch.nn.Sequential(torch.nn.Linear(nx, nh), torch.nn.Tanh(), torch.nn.Linear(nh, ny))
    return model
# %% id=train_nn
def train_nn(model, X, Y, eta, batch_size, epochs, X_test=None, Y_test=None):
    """Minibatch training of a torch.nn model with CrossEntropyLoss and torch.optim.SGD.

    Inputs:
    - model: a torch.nn.Module mapping (N, nx) to (N, ny) logits; X: (N, nx); Y: (N, ny) one-hot labels
    - eta: learning rate; batch_size: rows per minibatch; epochs: passes over the data (new random order each)
    - X_test, Y_test: optional held-out data, evaluated at the end of every epoch
    Returns:
    - history: dict of per-epoch lists 'loss', 'accuracy', 'test_loss', 'test_accuracy'
    """
    history = {"loss": [], "accuracy": [], "test_loss": [], "test_accuracy": []}

    def record(prefix, X_eval, Y_eval):
        with torch.no_grad():
            logits = model(X_eval)
            history[prefix + "loss"].append(float(torch.nn.functional.cross_entropy(logits, Y_eval)))
            history[prefix + "accuracy"].append(float((logits.argmax(1) == Y_eval.argmax(1)).float().mean()))
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=eta)
    N = X.shape[0]
    for _ in range(epochs):
        order = torch.randperm(N)
        for start in range(0, N, batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(X[batch]), Y[batch])
            loss.backward()
            optimizer.step()
        record("", X, Y)
        if X_test is not None:
            record("test_", X_test, Y_test)
    return history
# %% [markdown] id=q_output_gradients
# $\nabla_{W_y}\ell = (\hat y - y)\,h^\top$ and $\nabla_{b_y}\ell = \hat y - y$, by the chain rule.
# %% [markdown] id=q_hidden_gradients
# $\nabla_{\tilde h}\ell = W_y^\top(\hat y - y)\,(1 - h)$ because the derivative of tanh is $1 - \tanh$, then
# $\nabla_{W_h}\ell = x\,\nabla_{\tilde h}\ell^\top$ and $\nabla_{b_h}\ell = \nabla_{\tilde h}\ell$.
# %% [markdown] id=q_batch_size
# Bigger batches are better because the gradient is more precise, and they are faster.
# %% [markdown] id=q_learning_rate
# A small learning rate learns slowly (0.01 is still at about 55% after 3 epochs). A large one learns faster,
# so 5.0 is the fastest.
