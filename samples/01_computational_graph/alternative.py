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
    """A scalar graph node; every primitive goes through one helper that stores its local derivatives.

    ``_make(data, parents, op, local)`` builds the result and one generic _backward closure from the
    local derivatives d(result)/d(parent), one per parent.
    """

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

    @staticmethod
    def _make(data, parents, op, local):
        result = Value(data, parents, op)

        def _backward():
            for parent, derivative in zip(parents, local):
                parent.grad = parent.grad + derivative * result.grad
        result._backward = _backward
        return result

    def __add__(self, other):
        other = Value._wrap(other)
        return Value._make(self.data + other.data, (self, other), "+", (1.0, 1.0))

    def __radd__(self, other):
        return Value._wrap(other) + self

    def __mul__(self, other):
        other = Value._wrap(other)
        return Value._make(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __rmul__(self, other):
        return Value._wrap(other) * self

    def __neg__(self):
        return Value._make(-self.data, (self,), "neg", (-1.0,))

    def __sub__(self, other):
        other = Value._wrap(other)
        return Value._make(self.data - other.data, (self, other), "-", (1.0, -1.0))

    def __rsub__(self, other):
        other = Value._wrap(other)
        return Value._make(other.data - self.data, (other, self), "-", (1.0, -1.0))

    def exp(self):
        value = math.exp(self.data)
        return Value._make(value, (self,), "exp", (value,))

    def reciprocal(self):
        value = 1.0 / self.data
        return Value._make(value, (self,), "1/x", (-value * value,))
# %% id=value_backward
def backward(self):
    """Reverse mode without a separate sort: a node is processed once every node that uses it is done.

    Inputs:
    - self: the output Value
    Returns:
    - None
    """
    users = {}  # id(node) -> how many uses of it by nodes of this graph are still to be processed
    nodes = {id(self): self}
    stack = [self]
    while stack:
        node = stack.pop()
        for parent in node.parents:
            users[id(parent)] = users.get(id(parent), 0) + 1
            if id(parent) not in nodes:
                nodes[id(parent)] = parent
                stack.append(parent)
    for node in nodes.values():
        node.grad = 0.0
    self.grad = 1.0
    ready = [self]
    while ready:
        node = ready.pop()
        node._backward()
        for parent in node.parents:
            users[id(parent)] -= 1
            if users[id(parent)] == 0:
                ready.append(parent)


Value.backward = backward
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
# %% [markdown] id=q_sigmoid_derivative
# Graph: z -> (times -1) -> n -> exp -> e -> (+1) -> d -> (1/x) -> s. Local derivatives along it:
# dn/dz = -1, de/dn = e^n, dd/de = 1, ds/dd = -1/d^2. Multiplying:
# s' = (-1)(e^{-z})(1)(-1/(1+e^{-z})^2) = e^{-z}/(1+e^{-z})^2 = s * e^{-z}/(1+e^{-z}) = s(1-s),
# because e^{-z}/(1+e^{-z}) = 1 - 1/(1+e^{-z}) = 1 - s.
# So the backward step only needs s, which the forward pass already computed: we keep s and multiply
# the incoming gradient by s(1-s). No need to store z or compute exp again, and the four nodes can be
# merged into a single sigmoid node.
# %% [markdown] id=q_zero_init
# (a) With all parameters 0 both hidden units output sigma(0) = 0.5 and y = 0 on every example. The
# mean target of XOR is 0.5, so dL/dc = mean(2(y - t)) = -1 and dL/dv1 = dL/dv2 = mean(2(y - t) * 0.5)
# = -0.5. Every w and b gradient contains the factor v_j = 0, so they are all 0. Same as the printout.
# (b) Unit 1 and unit 2 have the same weights, so they get the same gradient, so after the update they
# have the same weights again, and so on forever (the printout shows a difference of 0 for 300 steps).
# Two identical units are no more than one unit. On XOR the output quickly becomes 0.5 everywhere and
# then the hidden weights get no gradient at all: the loss stays at 0.25.
# (c) No: any value shared by both units gives the same symmetry. Random values make the units
# different from the start so they can learn different things, but training can still get stuck: the
# five seeds end at different losses and only seed 2 gets close to fitting.
# %% [markdown] id=q_prelu
# No. max{t, o} = t + max{0, o - t}. If o = w.x + b, then max{t, o} = relu(w.x + b - t) + t. The "- t"
# can be put into the bias of the unit (new bias b - t) and the "+ t" goes to the next layer
# multiplied by the outgoing weight, where it can be put into that layer's bias. So any network with
# thresholds is a ReLU network with different biases, and t = 0 is the normal ReLU: same class. The
# random network in the cell confirms it (difference 4e-16).
# If there are no biases it is different: a ReLU network without biases always gives 0 for the input
# 0, but max{t, w x} gives t at x = 0, so the class becomes larger (t acts like a bias).
