# %% id=init_params
def init_params(nx, nh, ny):
    """Initial parameters of the network (alternative: torch.normal and empty().zero_())."""
    shapes = {"Wh": (nh, nx), "bh": (nh,), "Wy": (ny, nh), "by": (ny,)}
    params = {}
    for name, shape in shapes.items():
        if name.startswith("W"):
            params[name] = torch.normal(0.0, 0.3, size=shape)
        else:
            params[name] = torch.empty(shape).zero_()
    return params
# %% id=forward
def forward(params, X):
    """Forward pass with torch.einsum and a log-sum-exp softmax."""
    outputs = {"X": X}
    htilde = torch.einsum("nx,hx->nh", X, params["Wh"]) + params["bh"][None, :]
    h = torch.tanh(htilde)
    ytilde = torch.einsum("nh,yh->ny", h, params["Wy"]) + params["by"][None, :]
    yhat = torch.exp(ytilde - torch.logsumexp(ytilde, dim=1, keepdim=True))
    outputs.update(htilde=htilde, h=h, ytilde=ytilde, yhat=yhat)
    return yhat, outputs
# %% id=loss_accuracy
def loss_accuracy(Yhat, Y):
    """Cross-entropy from the probability of the label's class only; accuracy as a Python float."""
    p_label = (Yhat * Y).sum(dim=1)  # the zeros of the other classes never reach the log
    loss = -torch.log(p_label.clamp_min(1e-10)).mean()
    labels = torch.nonzero(Y)[:, 1]
    acc = torch.eq(torch.argmax(Yhat, dim=1), labels).sum().item() / Y.shape[0]
    return loss, acc
# %% id=backward
def backward(params, outputs, Y):
    """Manual gradients written with einsum, the 1/N applied at the end."""
    N = Y.shape[0]
    delta_y = outputs["yhat"] - Y  # (N, ny), per-example gradients of the summed loss
    delta_h = torch.einsum("ny,yh->nh", delta_y, params["Wy"]) * (1.0 - torch.tanh(outputs["htilde"]) ** 2)
    grads = {
        "Wy": torch.einsum("ny,nh->yh", delta_y, outputs["h"]) / N,
        "by": torch.einsum("ny->y", delta_y) / N,
        "Wh": torch.einsum("nh,nx->hx", delta_h, outputs["X"]) / N,
        "bh": torch.einsum("nh->h", delta_h) / N,
    }
    return grads
# %% id=sgd
def sgd(params, grads, eta):
    """In-place update, returning the same dict."""
    for name in params:
        params[name] = params[name].sub(grads[name], alpha=eta)
    return params
# %% id=train
def manual_step(params, X, Y, eta):
    """One manual step."""
    outputs = forward(params, X)[1]
    grads = backward(params, outputs, Y)
    return sgd(params, grads, eta)


def train(params, X, Y, eta, batch_size, epochs, step=manual_step, X_test=None, Y_test=None):
    """Minibatch gradient descent; the order is drawn with NumPy, batches taken with index_select."""
    history = {"loss": [], "accuracy": [], "test_loss": [], "test_accuracy": []}
    N = len(X)
    for epoch in range(epochs):
        order = torch.from_numpy(np.random.permutation(N))
        start = 0
        while start < N:
            rows = order[start:min(start + batch_size, N)]
            params = step(params, X.index_select(0, rows), Y.index_select(0, rows), eta)
            start += batch_size
        datasets = [("", X, Y)] + ([("test_", X_test, Y_test)] if X_test is not None else [])
        for prefix, data, labels in datasets:
            loss, acc = evaluate(params, data, labels)
            history[prefix + "loss"].append(loss)
            history[prefix + "accuracy"].append(acc)
    return params, history
# %% id=autograd_step
def autograd_step(params, X, Y, eta):
    """Autograd step: gradients cleared (set to None) before the backward pass, update with .sub_."""
    for p in params.values():
        p.grad = None
    Yhat, _ = forward(params, X)
    loss, _ = loss_accuracy(Yhat, Y)
    loss.backward()
    with torch.no_grad():
        for p in params.values():
            p.sub_(p.grad, alpha=eta)
    return params
# %% id=build_model
def build_model(nx, nh, ny):
    """Named layers through an OrderedDict."""
    from collections import OrderedDict

    return torch.nn.Sequential(OrderedDict([
        ("hidden", torch.nn.Linear(nx, nh)),
        ("tanh", torch.nn.Tanh()),
        ("output", torch.nn.Linear(nh, ny)),
    ]))
# %% id=train_nn
def train_nn(model, X, Y, eta, batch_size, epochs, X_test=None, Y_test=None):
    """Class-index targets, a DataLoader over a TensorDataset, gradients set to None."""
    history = {"loss": [], "accuracy": [], "test_loss": [], "test_accuracy": []}

    def record(prefix, X_eval, Y_eval):
        with torch.no_grad():
            logits = model(X_eval)
            history[prefix + "loss"].append(float(torch.nn.functional.cross_entropy(logits, Y_eval)))
            history[prefix + "accuracy"].append(float((logits.argmax(1) == Y_eval.argmax(1)).float().mean()))
    criterion = torch.nn.CrossEntropyLoss(reduction="mean")
    optimizer = torch.optim.SGD(model.parameters(), lr=eta)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y.argmax(dim=1)),
                                         batch_size=batch_size, shuffle=True)
    for epoch in range(epochs):
        for inputs, labels in loader:
            optimizer.zero_grad(set_to_none=True)
            criterion(model(inputs), labels).backward()
            optimizer.step()
        record("", X, Y)
        if X_test is not None:
            record("test_", X_test, Y_test)
    return history
