# %% id=topological_order
def topological_order(root):
    """Recursive depth-first search (correct)."""
    order = []
    done = set()

    def visit(node):
        if node in done:
            return
        done.add(node)
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    return order
# %% id=value_class
class Value:
    """A scalar node with correct primitives."""

    def __init__(self, data, parents=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op
        self.label = label
        self._backward = lambda: None

    def __repr__(self):
        return f"Value({self.label or self.op or 'input'}: data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = Value._wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __radd__(self, other):
        return self + other

    def __mul__(self, other):
        other = Value._wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        out = Value(-self.data, (self,), "neg")

        def _backward():
            self.grad += -out.grad
        out._backward = _backward
        return out

    def __sub__(self, other):
        other = Value._wrap(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():
            self.grad += out.grad
            other.grad += -out.grad
        out._backward = _backward
        return out

    def __rsub__(self, other):
        return Value(other) - self

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def reciprocal(self):
        out = Value(1 / self.data, (self,), "1/x")

        def _backward():
            self.grad += -1 / self.data ** 2 * out.grad
        out._backward = _backward
        return out
# %% id=value_backward
def backward(self):
    """Inputs: self, the output. Returns: None. BUG: the other gradients are not reset, so a second call adds up."""
    self.grad = 1.0
    for node in reversed(topological_order(self)):
        node._backward()


Value.backward = backward
# %% id=logistic_regression_graph
def logistic_regression_graph(x1, x2, w1, w2, b):
    """Correct."""
    z = w1 * x1 + w2 * x2 + b
    return (1 + (-z).exp()).reciprocal()
# %% id=sigmoid_derivative
def sigmoid_derivative(x):
    """BUG: the textbook formula overflows for x = -1000 (and 1 - s cancels for large x)."""
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
# %% id=two_unit_network_loss
def two_unit_network_loss(params, data):
    """BUG: the sum of the squared errors, not their mean."""
    loss = 0
    for (x1, x2), t in data:
        h1 = sigmoid_node(params["w11"] * x1 + params["w12"] * x2 + params["b1"])
        h2 = sigmoid_node(params["w21"] * x1 + params["w22"] * x2 + params["b2"])
        y = params["v1"] * h1 + params["v2"] * h2 + params["c"]
        loss = loss + (y - t) * (y - t)
    return loss
# %% [markdown] id=q_sigmoid_derivative
# The graph is n = -z, e = exp(n), d = 1 + e, s = 1/d. The local derivatives are -1, e, 1 and 1/d^2,
# and multiplying them gives e/(1 + e)^2, which is sigma(z)(1 - sigma(z)). So we only need to remember
# sigma(z) from the forward pass and the backward pass is cheap.
# %% [markdown] id=q_zero_init
# If everything starts at 0, all the gradients are 0, so gradient descent never changes anything and
# the network does not learn. A constant like 0.5 would be fine, the important thing is not to use 0.
