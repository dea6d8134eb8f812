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
# %% [markdown] id=q_output_gradients
# Only logit $i$ contains $W_{y,ij}$: $\tilde y_i = \sum_m W_{y,im} h_m + b_{y,i}$, so
# $\partial \tilde y_k / \partial W_{y,ij}$ is $h_j$ when $k = i$ and zero for the other logits. In the chain
# rule $\sum_k \frac{\partial \ell}{\partial \tilde y_k}\frac{\partial \tilde y_k}{\partial W_{y,ij}}$ just the
# term $k = i$ remains, giving $(\hat y_i - y_i)\,h_j$. Putting entry $(i, j)$ in row $i$ and column $j$ gives the
# outer product $(\hat y - y)\,h^\top$, an $n_y \times n_h$ matrix, the same shape as $W_y$. For the bias,
# $\partial \tilde y_k / \partial b_{y,i}$ is 1 for $k = i$ only, so $\nabla_{b_y}\ell = \hat y - y$.
# %% [markdown] id=q_hidden_gradients
# Going back one layer: unlike a weight, each $h_j$ appears in all the logits with coefficient $W_{y,kj}$,
# so no term of the sum vanishes and $\partial \ell/\partial h_j = \sum_k (\hat y_k - y_k) W_{y,kj}$, which is
# $W_y^\top(\hat y - y)$, a vector of size $n_h$. Through the tanh, $h_j$ only depends on $\tilde h_j$ and
# $\tanh'(\tilde h_j) = 1 - h_j^2$, so I multiply entry by entry: $\nabla_{\tilde h}\ell = W_y^\top(\hat y - y)
# \odot (1 - h^2)$, size $n_h$. The first layer then works exactly like the output one with $x$ instead of $h$:
# $\nabla_{W_h}\ell = \nabla_{\tilde h}\ell\; x^\top$ ($n_h \times n_x$) and $\nabla_{b_h}\ell = \nabla_{\tilde h}\ell$ ($n_h$).
# %% [markdown] id=q_batch_size
# The smaller the batch, the more parameter updates fit in an epoch, so after the same 3 epochs batch 16 is
# clearly ahead (close to 90% test accuracy) and batch 1,024 is far behind (under 75%, loss still high).
# The price is noise: with 16 or 64 examples per step the loss even rises at epoch 2 before falling again,
# while 256 goes down steadily. As for time, the runs take roughly the same time per epoch even though the
# small batches do far more steps: every step has a fixed overhead (Python and the launch of each tensor
# operation), and tiny matrix products do not use the processor well, so splitting an epoch into very small
# batches does not make it cheaper. A middle-sized batch is the usual compromise.
# %% [markdown] id=q_learning_rate
# With 0.01 the steps are so small that after 3 epochs the loss is still above 1 and only about half of the
# test digits are right. 0.1 learns quickly and without bumps (around 80%). 1.0 is too aggressive at the
# start: the loss shoots up at epoch 2 and accuracy falls before coming back. 5.0 blows up completely: the
# loss stays above 20 and the accuracy is at chance level, because each update overshoots, the
# pre-activations become huge and the saturated tanh units stop passing gradient. So: too small is slow,
# too large oscillates or diverges; the good value is just below where it becomes unstable.
# %% [markdown] id=q_three_ways
# Manual and autograd are the same computation (same weights, same batches for one seed), and in the table
# they end within a third of a point of each other, well inside the variation from one seed to the next, so
# neither is more accurate. torch.nn is a slightly different experiment, since it keeps PyTorch's own
# initialisation and is trained with 0.5, not 1.0 (with 1.0 it becomes unstable); its numbers are a bit
# higher but I would not conclude from five seeds. The timings are all about a second and move around
# between runs. Writing the backward by hand is the long and error-prone part; autograd removes it and
# works for any model, at the cost of storing the graph and the intermediate values; torch.nn also takes
# care of the parameters, the initialisation and the update.
