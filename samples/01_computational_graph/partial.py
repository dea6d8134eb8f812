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
    """A scalar node; correct primitives, but backward() does not reset the gradients (a second call adds up)."""

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

    def backward(self):
        self.grad = 1.0  # BUG: the other gradients are not reset, so a second call adds up
        for node in reversed(topological_order(self)):
            node._backward()
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
