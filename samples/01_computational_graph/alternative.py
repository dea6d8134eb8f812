# %% id=topological_order
def topological_order(root):
    """All the nodes of the graph that ends at ``root``, every node after all of its parents.

    Iterative (Kahn's algorithm): no recursion, so deep graphs do not hit Python's recursion limit.
    Inputs:
    - root: a node with a ``.parents`` tuple
    Returns:
    - order: list of the reachable nodes, parents first, root last
    """
    nodes = {}
    stack = [root]
    while stack:  # collect every reachable node once
        node = stack.pop()
        if id(node) not in nodes:
            nodes[id(node)] = node
            stack.extend(node.parents)
    waiting = {key: len(node.parents) for key, node in nodes.items()}  # parent edges not yet placed
    children = {key: [] for key in nodes}
    for node in nodes.values():
        for parent in node.parents:
            children[id(parent)].append(node)
    ready = [node for key, node in nodes.items() if waiting[key] == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for child in children[id(node)]:
            waiting[id(child)] -= 1
            if waiting[id(child)] == 0:
                ready.append(child)
    return order
# %% id=value_class
class Value:
    """A scalar graph node that stores the local derivatives with respect to its parents.

    Instead of a closure per node, every node keeps ``local``: one number per parent,
    d(node)/d(parent), computed in the forward pass; backward() applies the chain rule generically.
    """

    def __init__(self, data, parents=(), op="", label="", local=()):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op
        self.label = label
        self.local = tuple(local)

    def __repr__(self):
        return f"Value({self.label or self.op or 'input'}: data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = Value._wrap(other)
        return Value(self.data + other.data, (self, other), "+", local=(1.0, 1.0))

    def __radd__(self, other):
        return Value._wrap(other) + self

    def __mul__(self, other):
        other = Value._wrap(other)
        return Value(self.data * other.data, (self, other), "*", local=(other.data, self.data))

    def __rmul__(self, other):
        return Value._wrap(other) * self

    def __neg__(self):
        return Value(-self.data, (self,), "neg", local=(-1.0,))

    def __sub__(self, other):
        other = Value._wrap(other)
        return Value(self.data - other.data, (self, other), "-", local=(1.0, -1.0))

    def __rsub__(self, other):
        other = Value._wrap(other)
        return Value(other.data - self.data, (other, self), "-", local=(1.0, -1.0))

    def exp(self):
        value = math.exp(self.data)
        return Value(value, (self,), "exp", local=(value,))

    def reciprocal(self):
        value = 1.0 / self.data
        return Value(value, (self,), "1/x", local=(-value * value,))

    def backward(self):
        """Reset the graph's gradients, seed 1.0, then push gradients from children to parents.
        A second call recomputes the same gradients."""
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in order[::-1]:
            for parent, derivative in zip(node.parents, node.local):
                parent.grad = parent.grad + derivative * node.grad
# %% id=logistic_regression_graph
def logistic_regression_graph(x1, x2, w1, w2, b):
    """Eq. 2 from primitives, written as one expression (binary minus instead of negation)."""
    z = x1 * w1 + (x2 * w2 + b)
    return ((0 - z).exp() + 1).reciprocal()
# %% id=sigmoid_derivative
def sigmoid_derivative(x):
    """sigma(x) * sigma(-x) with SciPy's stable logistic function (1 - sigma(x) = sigma(-x))."""
    from scipy.special import expit
    x = np.asarray(x, dtype=np.float64)
    return expit(x) * expit(-x)
# %% id=two_unit_network_loss
def two_unit_network_loss(params, data):
    """Mean squared error, accumulating the squared errors in a list and summing them at the end."""
    squares = []
    for (x1, x2), t in data:
        hidden = [sigmoid_node(params[f"w{j}1"] * x1 + params[f"w{j}2"] * x2 + params[f"b{j}"]) for j in (1, 2)]
        y = params["c"] + params["v1"] * hidden[0] + params["v2"] * hidden[1]
        error = t - y
        squares.append(error * error)
    total = squares[0]
    for square in squares[1:]:
        total = total + square
    return total * (1.0 / len(squares))
