# %% [markdown]
# # Practical 1: computational graphs and backpropagation by hand
#
# A neural network is a function built from many small operations. Written as a **computational
# graph**, every node holds one operation whose derivative is easy (the *local derivative*), and
# the chain rule turns these local derivatives into the gradient of the output with respect to every
# input: this is **backpropagation**, or reverse-mode automatic differentiation.
#
# In this practical you build a tiny reverse-mode autodiff engine for scalars, `Value`, then use it to
#
# 1. build the graph of a logistic-regression unit and run its forward and backward passes by hand;
# 2. study the sigmoid and its derivative;
# 3. see why a network must not be initialised with zeros;
# 4. think about a parameterised ReLU.
#
# Fill in the code between the solution markers (in your copy, the lines that say
# `raise NotImplementedError()`); run the check cell below each one. The graders run more checks on
# other inputs, so make your code general, not tuned to the visible numbers.
# %% locked id=setup
# Imported first, before any student code, so the checks keep their own copies of NumPy's functions.
from dlcourse.checks import assert_close, assert_gradient_close, check_shape, assert_true, CheckError
from dlcourse.gradcheck import numerical_gradient, check_gradient
from dlcourse.compgraph import graph_table, draw_graph, reachable_nodes
from dlcourse import seed_everything
import math
import warnings
import numpy as np
seed_everything(0)
# %% [markdown]
# ## 1. Visiting a graph in topological order
#
# A graph node knows the nodes it was computed from, its `parents`. Backpropagation must visit the
# nodes so that a node's gradient is complete before it is passed on to its parents: every node must
# come **after all of its parents** in the forward order, and backpropagation walks this order
# backwards. Such an order is a *topological order*.
#
# The classic way: a depth-first search from the output that appends a node to the list only after
# all its parents have been appended, and never visits a node twice (a node can be reached by several
# paths when a subexpression is shared, as in a "diamond" `x -> a, x -> b, (a, b) -> y`).
#
# `topological_order(root)` uses only the `.parents` attribute of the nodes (a tuple of nodes), so it
# works on any graph; it must not change the nodes.
# %% solution id=topological_order
def topological_order(root):
    """All the nodes of the graph that ends at ``root``, every node after all of its parents.

    Inputs:
    - root: a node; ``node.parents`` is the tuple of nodes ``node`` was computed from (empty for an input)
    Returns:
    - order: a list of every node reachable from root through ``.parents`` (root included), each
      exactly once, every node placed after all of its parents, so root comes last
    """
    order = None
    ### BEGIN SOLUTION
    order = []
    visited = set()

    def visit(node):
        if id(node) in visited:  # reached again through a shared subexpression
            return
        visited.add(id(node))
        for parent in node.parents:
            visit(parent)
        order.append(node)  # post-order: after all of its parents

    visit(root)
    ### END SOLUTION
    return order
# %% tests id=topological_order_tests points=2
# Checks: topological_order on a diamond graph (each node once, parents first, root last), then on other graphs


class Node:
    """A bare graph node for these checks: a name and its parents."""
    def __init__(self, name, *parents):
        self.name, self.parents = name, tuple(parents)

    def __repr__(self):
        return f"Node({self.name})"


def check_topological_order(root, what):
    expected = {id(node): node for node in reachable_nodes(root)}
    order = topological_order(root)
    assert_true(isinstance(order, (list, tuple)),
                f"topological_order should return a list of nodes, got {type(order).__name__}")
    order = list(order)
    seen = {}
    for position, node in enumerate(order):
        assert_true(id(node) in expected, f"{what}: topological_order returned {node!r}, which is not a node of the graph")
        assert_true(id(node) not in seen, f"{what}: {node!r} appears twice in the order (positions {seen.get(id(node))} "
                    f"and {position}); a node reached by two paths must be listed once: keep a set of visited nodes")
        seen[id(node)] = position
    missing = [node for key, node in expected.items() if key not in seen]
    assert_true(len(missing) == 0, f"{what}: the order misses the node(s) {missing[:5]} "
                f"({len(order)} nodes listed, the graph has {len(expected)})")
    for node in order:
        for parent in node.parents:
            assert_true(seen[id(parent)] < seen[id(node)],
                        f"{what}: wrong topological order: {node!r} comes before its parent {parent!r} "
                        f"(positions {seen[id(node)]} and {seen[id(parent)]}); a node may only be appended "
                        f"after all of its parents")
    assert_true(order[-1] is root, f"{what}: the root {root!r} should come last, found {order[-1]!r} last")


# A diamond with a shared subexpression reached at two different depths.
x, w = Node("x"), Node("w")
a = Node("a", x, w)
b = Node("b", a, x)
c = Node("c", b, a)
d = Node("d", c, a)
check_topological_order(d, "diamond graph d(c(b(a, x), a), a)")
check_topological_order(a, "sub-graph a(x, w)")
check_topological_order(x, "a single input node")
print("topological_order: visible checks passed")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(101)
for _trial in range(4):
    _nodes = [Node(f"n{i}") for i in range(6)]
    for _i in range(6, 40):
        _k = int(_rng.integers(1, 4))
        _parents = [_nodes[int(j)] for j in _rng.choice(_i, size=_k, replace=False)]
        _nodes.append(Node(f"n{_i}", *_parents))
    _root = _nodes[-1 - int(_rng.integers(0, 5))]
    check_topological_order(_root, f"random graph #{_trial} ({len(reachable_nodes(_root))} nodes)")
# A chain where each node uses the previous one twice (exponentially many paths).
_node = Node("c0")
for _i in range(1, 30):
    _node = Node(f"c{_i}", _node, _node)
check_topological_order(_node, "a chain of 30 nodes, each using the previous one twice")
### END HIDDEN TESTS
# %% [markdown]
# ## 2. A scalar autodiff engine: `Value`
#
# A `Value` holds a number `data` (the forward pass), a gradient `grad` (filled in by the backward
# pass), its `parents` and the name `op` of the operation that produced it. Each operation
#
# * computes its result and returns a **new** `Value` whose parents are the operands;
# * attaches to it a function `_backward()` that, once the result's gradient `out.grad` is known,
#   **adds** to each operand's `.grad` the contribution `local derivative * out.grad` (chain rule).
#   *Adds*, because a node used several times (`a * a`, or `x` feeding two branches) receives one
#   contribution per use.
#
# | operation | `op` | result | local derivative(s) |
# |---|---|---|---|
# | `a + b` | `'+'` | a + b | 1, 1 |
# | `a * b` | `'*'` | a b | b, a |
# | `-a` | `'neg'` | −a | −1 |
# | `a - b` | `'-'` | a − b | 1, −1 |
# | `a.exp()` | `'exp'` | e^a | e^a |
# | `a.reciprocal()` | `'1/x'` | 1/a | −1/a² |
#
# Plain numbers mix in on either side (`2 * v`, `v + 1`, `1 - v`): a number is wrapped into a
# constant input `Value` first (`Value._wrap`); Python calls `__radd__`, `__rmul__`, `__rsub__` when
# the number is on the left.
#
# Every operation follows the same pattern; here it is for a squaring operation (not part of the
# exercise):
#
# ```python
# def square(self):
#     out = Value(self.data ** 2, (self,), "square")   # forward: value, parents, op
#     def _backward():                                 # runs when out.grad is complete
#         self.grad += 2 * self.data * out.grad        # local derivative * upstream gradient
#     out._backward = _backward
#     return out
# ```
#
# `backward()` runs reverse mode from the node it is called on: it sets the `.grad` of every node of
# its graph to 0, seeds its own gradient with 1.0, then calls `_backward()` of every node in
# **reverse** topological order. **A second call gives the same gradients as the first** (they are
# reset, not added up: unlike PyTorch's `.backward()`, which accumulates into the leaves).
# %% solution id=value_class
class Value:
    """A scalar node of a computational graph.

    Attributes:
    - data: the node's value, a float (forward pass)
    - grad: d(root)/d(node), a float, written by root.backward()
    - parents: tuple of the Values this node was computed from (empty for an input or a constant)
    - op: the operation that made it: '' for an input, else '+', '*', 'neg', '-', 'exp' or '1/x'
    - label: an optional name for printing and drawing
    """

    def __init__(self, data, parents=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op
        self.label = label
        self._backward = lambda: None  # adds this node's gradient contributions to its parents

    def __repr__(self):
        return f"Value({self.label or self.op or 'input'}: data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other):
        """A plain number becomes a constant input Value; a Value is returned unchanged."""
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        """self + other (other: a Value or a number). Returns: a new Value, op '+'."""
        other = Value._wrap(other)
        out = None
        ### BEGIN SOLUTION
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad   # d(a + b)/da = 1
            other.grad += out.grad  # d(a + b)/db = 1
        out._backward = _backward
        ### END SOLUTION
        return out

    def __radd__(self, other):  # number + Value
        return self + other

    def __mul__(self, other):
        """self * other (other: a Value or a number). Returns: a new Value, op '*'."""
        other = Value._wrap(other)
        out = None
        ### BEGIN SOLUTION
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad  # d(a b)/da = b
            other.grad += self.data * out.grad  # d(a b)/db = a
        out._backward = _backward
        ### END SOLUTION
        return out

    def __rmul__(self, other):  # number * Value
        return self * other

    def __neg__(self):
        """-self. Returns: a new Value, op 'neg'."""
        out = None
        ### BEGIN SOLUTION
        out = Value(-self.data, (self,), "neg")

        def _backward():
            self.grad -= out.grad  # d(-a)/da = -1
        out._backward = _backward
        ### END SOLUTION
        return out

    def __sub__(self, other):
        """self - other (other: a Value or a number). Returns: a new Value, op '-'."""
        other = Value._wrap(other)
        out = None
        ### BEGIN SOLUTION
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():
            self.grad += out.grad   # d(a - b)/da = 1
            other.grad -= out.grad  # d(a - b)/db = -1
        out._backward = _backward
        ### END SOLUTION
        return out

    def __rsub__(self, other):
        """other - self, for a number on the left (``1 - v``). Returns: a new Value, op '-'."""
        out = None
        ### BEGIN SOLUTION
        out = Value._wrap(other) - self
        ### END SOLUTION
        return out

    def exp(self):
        """e ** self. Returns: a new Value, op 'exp'."""
        out = None
        ### BEGIN SOLUTION
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad  # d(e^a)/da = e^a, the forward value itself
        out._backward = _backward
        ### END SOLUTION
        return out

    def reciprocal(self):
        """1 / self. Returns: a new Value, op '1/x'."""
        out = None
        ### BEGIN SOLUTION
        out = Value(1.0 / self.data, (self,), "1/x")

        def _backward():
            self.grad += -out.data * out.data * out.grad  # d(1/a)/da = -1/a^2 = -(1/a)^2
        out._backward = _backward
        ### END SOLUTION
        return out

    def backward(self):
        """Reverse mode from this node: afterwards node.grad = d(self)/d(node) for every node of the graph.

        Resets the .grad of every node of the graph to 0, seeds self.grad = 1.0, then calls every
        node's _backward() in reverse topological order (use topological_order).
        Calling it a second time gives the same gradients again (reset, not accumulated).
        Returns:
        - None
        """
        ### BEGIN SOLUTION
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # children before parents: a gradient is complete when passed on
            node._backward()
        ### END SOLUTION
# %% tests id=value_forward points=1
# Checks: forward values, operation names and parents of +, *, neg, -, exp, 1/x, with numbers on either side


def check_op(result, expected, op, operands, what):
    assert_true(isinstance(result, Value), f"{what} should return a Value, got {type(result).__name__}")
    assert_close(result.data, expected, f"{what}: the forward value", rtol=1e-12, atol=1e-12)
    assert_true(result.op == op, f"{what} should have op {op!r}, got {result.op!r}")
    ids = [id(p) for p in result.parents]
    for operand in operands:
        assert_true(id(operand) in ids, f"{what}: the operand {operand!r} is missing from .parents {result.parents}")


def forward_checks(p, q):
    a, b = Value(p, label="a"), Value(q, label="b")
    check_op(a + b, p + q, "+", [a, b], "a + b")
    check_op(a * b, p * q, "*", [a, b], "a * b")
    check_op(-a, -p, "neg", [a], "-a")
    check_op(a - b, p - q, "-", [a, b], "a - b")
    check_op(a.exp(), math.exp(p), "exp", [a], "a.exp()")
    check_op(b.reciprocal(), 1 / q, "1/x", [b], "b.reciprocal()")
    check_op(a + 2.5, p + 2.5, "+", [a], "a + 2.5")
    check_op(2.5 + a, 2.5 + p, "+", [a], "2.5 + a")
    check_op(a * 3.0, p * 3.0, "*", [a], "a * 3.0")
    check_op(3.0 * a, 3.0 * p, "*", [a], "3.0 * a")
    check_op(a - 1.5, p - 1.5, "-", [a], "a - 1.5")
    check_op(1.5 - a, 1.5 - p, "-", [a], "1.5 - a")


forward_checks(0.5, -2.0)
print("Value forward pass: visible checks passed")
### BEGIN HIDDEN TESTS
forward_checks(-1.25, 3.5)
forward_checks(2.0, 0.4)
### END HIDDEN TESTS
# %% tests id=value_local_derivatives points=3
# Checks: the gradient that backward() gives each operand of every primitive (its local derivative), one primitive at a time


def local_derivative_checks(p, q):
    """For each primitive y = f(a[, b]): y.backward() must give a.grad = dy/da (and b.grad = dy/db)."""
    cases = [  # (what, build y from a and b, expected da, expected db)
        ("a + b", lambda a, b: a + b, 1.0, 1.0),
        ("a * b", lambda a, b: a * b, q, p),
        ("-a", lambda a, b: -a, -1.0, 0.0),
        ("a - b", lambda a, b: a - b, 1.0, -1.0),
        ("a.exp()", lambda a, b: a.exp(), math.exp(p), 0.0),
        ("a.reciprocal()", lambda a, b: a.reciprocal(), -1.0 / p ** 2, 0.0),
        ("3 * a", lambda a, b: 3 * a, 3.0, 0.0),
        ("a + 2", lambda a, b: a + 2, 1.0, 0.0),
        ("2 - b", lambda a, b: 2 - b, 0.0, -1.0),
        ("b - 2", lambda a, b: b - 2, 0.0, 1.0),
    ]
    for what, build, da, db in cases:
        a, b = Value(p, label="a"), Value(q, label="b")
        y = build(a, b)
        y.backward()
        assert_close(y.grad, 1.0, f"y.grad after y.backward() for y = {what} (the seed)", rtol=0, atol=1e-12)
        assert_close(a.grad, da, f"a.grad for y = {what} (local derivative dy/da)", rtol=1e-10, atol=1e-12)
        assert_close(b.grad, db, f"b.grad for y = {what} (local derivative dy/db)", rtol=1e-10, atol=1e-12)


local_derivative_checks(0.75, -1.5)
print("local derivatives: visible checks passed")
### BEGIN HIDDEN TESTS
local_derivative_checks(-2.0, 0.3)
local_derivative_checks(1.7, 4.0)
# A chain through every primitive, against float64 finite differences.
def _chain(values):
    a, b = Value(values[0]), Value(values[1])
    return ((a * b - (-a).exp()) * (b + 2).reciprocal() - 0.5 * a).exp()
for _point in ([0.4, -0.7], [-1.1, 0.9]):
    _x = np.array(_point, dtype=np.float64)
    _a, _b = Value(_x[0]), Value(_x[1])
    _y = ((_a * _b - (-_a).exp()) * (_b + 2).reciprocal() - 0.5 * _a).exp()
    _y.backward()
    check_gradient(lambda v: _chain(v).data, _x, np.array([_a.grad, _b.grad]), tol=1e-7,
                   name=f"gradient (a.grad, b.grad) of a chain through every primitive at {_point}")
### END HIDDEN TESTS
# %% tests id=backward_accumulate points=2
# Checks: gradients add up when a node is used more than once (y = x * x; x feeding two branches)


def accumulate_checks(p):
    x = Value(p, label="x")
    y = x * x
    y.backward()
    assert_close(x.grad, 2 * p, "x.grad for y = x * x (x is used twice: both contributions must be "
                 "added with +=, not overwritten with =)", rtol=1e-10, atol=1e-12)
    x = Value(p, label="x")
    y = x + x
    y.backward()
    assert_close(x.grad, 2.0, "x.grad for y = x + x (x is used twice: contributions must add up)",
                 rtol=1e-10, atol=1e-12)
    x = Value(p, label="x")
    y = 3 * x + x.exp()  # one variable feeding two branches
    y.backward()
    assert_close(x.grad, 3 + math.exp(p), "x.grad for y = 3 * x + exp(x) (x feeds two branches: "
                 "the gradients of both branches must add up)", rtol=1e-10, atol=1e-12)
    x = Value(p, label="x")
    y = x.reciprocal() - x
    y.backward()
    assert_close(x.grad, -1 / p ** 2 - 1, "x.grad for y = 1/x - x (x feeds two branches)",
                 rtol=1e-10, atol=1e-12)


accumulate_checks(1.5)
print("gradient accumulation: visible checks passed")
### BEGIN HIDDEN TESTS
accumulate_checks(-0.8)
_x = Value(0.6)
_y = _x * _x * _x - _x.exp() * _x
_y.backward()
_got = assert_close(_x.grad, 3 * 0.6 ** 2 - math.exp(0.6) * (1 + 0.6),
             "x.grad for y = x*x*x - exp(x)*x (x used four times)", rtol=1e-10, atol=1e-12)
### END HIDDEN TESTS
# %% tests id=backward_diamond points=2
# Checks: backward on graphs with shared subexpressions (diamonds), against finite differences


def diamond(values):
    """x, w -> a = x*w -> b = a + x -> c = b*a -> d = c - a: 'a' is shared at two depths."""
    x, w = Value(values[0], label="x"), Value(values[1], label="w")
    a = x * w
    b = a + x
    c = b * a
    d = c - a
    return d, x, w, a


def diamond_checks(point):
    values = np.array(point, dtype=np.float64)
    d, x, w, a = diamond(values)
    d.backward()
    px, pw = point
    pa = px * pw
    # d = (a + x) a - a  =>  dd/da = 2a + x - 1, dd/dx = a + (2a + x - 1) w, dd/dw = (2a + x - 1) x
    assert_close(a.grad, 2 * pa + px - 1, "a.grad in the diamond d = (a + x) * a - a with a = x * w "
                 "(a is used three times; its gradient must be complete before it is passed on: "
                 "is the order topological?)", rtol=1e-10, atol=1e-12)
    analytic = np.array([x.grad, w.grad])
    assert_gradient_close(analytic, [pa + (2 * pa + px - 1) * pw, (2 * pa + px - 1) * px],
                          "(x.grad, w.grad) in the diamond d = (a + x) * a - a, a = x * w (every node must be "
                          "processed once, after all the nodes that use it)", tol=1e-10)
    check_gradient(lambda v: diamond(v)[0].data, values, analytic, tol=1e-7,
                   name="(x.grad, w.grad) in the diamond against finite differences")


diamond_checks([1.5, -0.5])
print("diamond graph: visible checks passed")
### BEGIN HIDDEN TESTS
diamond_checks([-0.7, 2.0])
# A deeper graph with many shared nodes: y_k = y_{k-1} * y_{k-2} + x, against finite differences.
def _fib_graph(values):
    x, w = Value(values[0]), Value(values[1])
    prev, cur = x, w
    for _ in range(6):
        prev, cur = cur, (cur * prev + x) * 0.5
    return cur, x, w
_values = np.array([0.9, -1.2])
_out, _x, _w = _fib_graph(_values)
_out.backward()
_error = check_gradient(lambda v: _fib_graph(v)[0].data, _values, np.array([_x.grad, _w.grad]), tol=1e-7,
               name="(x.grad, w.grad) of a deep graph with shared subexpressions")
### END HIDDEN TESTS
# %% tests id=backward_twice points=1
# Checks: a second call to backward() gives the same gradients as the first (they are reset, not added up)


def twice_checks(p, q):
    x, w = Value(p, label="x"), Value(q, label="w")
    y = (x * w).exp() + x * x
    y.backward()
    first = (x.grad, w.grad)
    y.backward()
    assert_close(x.grad, first[0], "x.grad after calling y.backward() a second time (backward() must "
                 "reset every gradient of the graph to 0 first, so the result does not change)", rtol=1e-12)
    assert_close(w.grad, first[1], "w.grad after calling y.backward() a second time", rtol=1e-12)
    assert_close(y.grad, 1.0, "y.grad after a second y.backward()", rtol=0, atol=1e-12)
    assert_close(x.grad, q * math.exp(p * q) + 2 * p, "x.grad for y = exp(x * w) + x * x", rtol=1e-10)


twice_checks(0.5, -1.0)
print("second call to backward(): visible checks passed")
### BEGIN HIDDEN TESTS
twice_checks(-1.3, 0.4)
# Backward from an inner node, then from the output of the same graph.
_x = Value(0.7)
_a = _x * _x
_y = _a.exp() - _x
_a.backward()
assert_close(_x.grad, 2 * 0.7, "x.grad after a.backward() with a = x * x (an inner node of y)", rtol=1e-10)
_y.backward()
_got = assert_close(_x.grad, 2 * 0.7 * math.exp(0.49) - 1,
             "x.grad after y.backward() following a.backward() on the same graph", rtol=1e-10)
### END HIDDEN TESTS
# %% [markdown]
# ## 3. Logistic regression as a graph
#
# A logistic-regression unit with two inputs computes
#
# $$h(x_1, x_2) = \sigma(w_1 x_1 + w_2 x_2 + b) = \frac{1}{1 + \exp(-(w_1 x_1 + w_2 x_2 + b))}. \qquad (2)$$
#
# Build it from the primitives only, as granular as possible: two products, two sums, a negation, an
# exponential, "+1" and a reciprocal. No ready-made sigmoid: the point is to see every local step.
# %% solution id=logistic_regression_graph
def logistic_regression_graph(x1, x2, w1, w2, b):
    """The graph of Eq. 2 built from primitive Value operations.

    Inputs:
    - x1, x2: the inputs, Values; w1, w2: the weights, Values; b: the bias, a Value
    Returns:
    - h: the output node, a Value with h.data = 1 / (1 + exp(-(w1 x1 + w2 x2 + b)))
    """
    h = None
    ### BEGIN SOLUTION
    p1 = w1 * x1          # product
    p2 = w2 * x2          # product
    s = p1 + p2           # sum
    z = s + b             # sum: the pre-activation
    n = -z                # negation
    e = n.exp()           # exponential
    d = 1 + e             # "+1"
    h = d.reciprocal()    # 1 / (1 + exp(-z))
    ### END SOLUTION
    return h
# %% [markdown]
# **Forward and backward pass with numbers.** With $x_1 = -1$, $x_2 = -2$, $w_1 = 2$, $w_2 = -3$,
# $b = -3$: $z = 1$, $h = \sigma(1) \approx 0.731$. Backpropagating 1.0 from $h$ gives
# $\partial h/\partial w_i = h(1-h)\,x_i$ and $\partial h/\partial b = h(1-h)$. The table lists the
# nodes in topological order with their operation, value and gradient; the drawing shows the same
# graph, inputs on the left (`v` value, `g` gradient).
# %% id=logistic_illustration
import matplotlib.pyplot as plt
inputs = {"x1": -1.0, "x2": -2.0, "w1": 2.0, "w2": -3.0, "b": -3.0}
nodes = {name: Value(value, label=name) for name, value in inputs.items()}
h = logistic_regression_graph(**nodes)
h.backward()
print(graph_table(topological_order(h)))
print(f"\nh = {h.data:.6f};  h(1-h) = {h.data * (1 - h.data):.6f}")
for name in ["w1", "w2", "b", "x1", "x2"]:
    print(f"dh/d{name} = {nodes[name].grad:+.6f}")
draw_graph(h, title="h = 1 / (1 + exp(-(w1 x1 + w2 x2 + b))): forward values v and gradients g");
# %% tests id=logistic_values points=3
# Checks: logistic_regression_graph's output and gradients against the analytic result, finite differences and torch


def logistic_checks(point):
    point = np.array(point, dtype=np.float64)
    names = ["x1", "x2", "w1", "w2", "b"]
    nodes = [Value(v, label=n) for n, v in zip(names, point)]
    h = logistic_regression_graph(*nodes)
    assert_true(isinstance(h, Value), f"logistic_regression_graph should return a Value, got {type(h).__name__}")
    x1, x2, w1, w2, b = point
    expected = 1 / (1 + np.exp(-(w1 * x1 + w2 * x2 + b)))
    assert_close(h.data, expected, f"h for (x1, x2, w1, w2, b) = {tuple(point)}", rtol=1e-10)
    h.backward()
    grads = np.array([node.grad for node in nodes])
    s = expected * (1 - expected)
    analytic = np.array([s * w1, s * w2, s * x1, s * x2, s])
    assert_gradient_close(grads, analytic, "(dh/dx1, dh/dx2, dh/dw1, dh/dw2, dh/db) against h(1-h) x_i", tol=1e-9)
    check_gradient(lambda v: logistic_regression_graph(*[Value(t) for t in v]).data, point.copy(), grads,
                   tol=1e-7, name="(dh/dx1, dh/dx2, dh/dw1, dh/dw2, dh/db) against finite differences")
    return grads


logistic_checks([-1.0, -2.0, 2.0, -3.0, -3.0])
print("logistic regression graph: visible checks passed")
### BEGIN HIDDEN TESTS
import torch
_rng = np.random.default_rng(7)
for _trial in range(3):
    _point = _rng.normal(0, 1.5, size=5)
    _grads = logistic_checks(_point)
    _t = torch.tensor(_point, dtype=torch.float64, requires_grad=True)
    _h = torch.sigmoid(_t[2] * _t[0] + _t[3] * _t[1] + _t[4])
    _h.backward()
    assert_gradient_close(_grads, _t.grad, f"gradients of h at {np.round(_point, 3).tolist()} against torch.autograd",
                          tol=1e-9)
### END HIDDEN TESTS
# %% tests id=logistic_primitives points=1
# Checks: the graph of logistic_regression_graph is made of primitive nodes only (no ready-made sigmoid)


def primitive_checks(point):
    nodes = [Value(v, label=n) for n, v in zip(["x1", "x2", "w1", "w2", "b"], point)]
    h = logistic_regression_graph(*nodes)
    assert_true(isinstance(h, Value), f"logistic_regression_graph should return a Value, got {type(h).__name__}")
    graph = reachable_nodes(h)
    ids = {id(node) for node in graph}
    for node in nodes:
        assert_true(id(node) in ids, f"the input {node.label} is not in the graph of h: build h from the Values "
                    "you are given (not from their .data)")
    primitives = {"+", "*", "neg", "-", "exp", "1/x"}
    ops = [node.op for node in graph if node.parents]
    for op in ops:
        assert_true(op in primitives, f"the graph of h contains an operation {op!r}, which is not a primitive "
                    f"{sorted(primitives)}: build the sigmoid from negation, exp, +1 and reciprocal")
    for node in graph:
        assert_true(len(node.parents) > 0 or any(node is n for n in nodes) or node.op == "",
                    f"node {node!r} has no parents but an operation")
    for op in ["exp", "1/x"]:
        assert_true(op in ops, f"the graph of h has no {op!r} node: the sigmoid must be built from the "
                    f"primitives (ops found: {sorted(ops)})")
    assert_true(ops.count("*") >= 2, f"the graph of h should contain the two products w1*x1 and w2*x2 "
                f"(ops found: {sorted(ops)})")
    assert_true(len(ops) >= 7, f"the graph of h has only {len(ops)} operation nodes ({sorted(ops)}): "
                "use one node per primitive step (products, sums, negation, exp, +1, reciprocal)")


primitive_checks([-1.0, -2.0, 2.0, -3.0, -3.0])
print("logistic regression graph is made of primitives: visible checks passed")
### BEGIN HIDDEN TESTS
primitive_checks([0.3, 1.2, -0.4, 0.8, 0.1])
### END HIDDEN TESTS
# %% [markdown]
# ## 4. The sigmoid and its derivative
#
# Cut out of the graph above, the sigmoid $\sigma(z) = 1/(1 + e^{-z})$ is the chain
# `neg -> exp -> +1 -> 1/x`. Multiplying the local derivatives along it gives
# $\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$: the derivative needs nothing but the forward value.
#
# Implement `sigmoid_derivative(x)` elementwise on NumPy arrays. It must stay finite, without
# overflow warnings, and accurate for $|x|$ up to 1000. Careful: $e^{-x}$ overflows for
# $x < -709$, and $1 - \sigma(x)$ loses every digit when $\sigma(x)$ rounds to 1 (from $x \approx 37$).
# Hint: $1 - \sigma(x) = \sigma(-x)$, and $e^{-|x|}$ never overflows.
# %% solution id=sigmoid_derivative
def sigmoid_derivative(x):
    """The derivative of the sigmoid, sigma(x) (1 - sigma(x)), elementwise, stable for large |x|.

    Inputs:
    - x: a float or a NumPy array of any shape
    Returns:
    - d: a float64 array shaped like x with d = sigma(x) * (1 - sigma(x))
    """
    d = None
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    # sigma(x)(1 - sigma(x)) = sigma(|x|) sigma(-|x|) = 1/(1 + e) * e/(1 + e)   (sigma' is even)
    d = e / (1 + e) ** 2
    ### END SOLUTION
    return d
# %% tests id=sigmoid_derivative_tests points=2
# Checks: sigmoid_derivative's shape and values, against finite differences, then accuracy and no overflow up to |x| = 1000


def sigmoid_reference(t):
    """sigma'(t) for one Python float, computed independently (math, on the negative side)."""
    e = math.exp(-abs(t))
    return e / ((1 + e) * (1 + e))


def sigmoid_derivative_checks(x, rtol=1e-9, atol=1e-307):
    # Values below atol (|x| > 706) are subnormal or underflow to 0 in float64: only checked absolutely.
    x = np.array(x, dtype=np.float64)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        try:
            d = sigmoid_derivative(x.copy())
        except (FloatingPointError, OverflowError, RuntimeWarning, ZeroDivisionError) as exc:
            raise CheckError(f"sigmoid_derivative overflowed on x = {x.tolist()}: {type(exc).__name__}: {exc} "
                             "(exp of a large positive number: use exp(-|x|), which is at most 1)") from None
    expected = np.array([sigmoid_reference(float(t)) for t in x.ravel()]).reshape(x.shape)
    return assert_close(d, expected, f"sigmoid_derivative(x) for x = {x.tolist()}", rtol=rtol, atol=atol)


x = np.array([[-3.0, -0.5, 0.0], [0.25, 2.0, 5.0]])
sigmoid_derivative_checks(x)
check_gradient(lambda t: float(np.sum(1 / (1 + np.exp(-t)))), x.copy(), sigmoid_derivative(x), tol=1e-7,
               name="sigmoid_derivative against finite differences of the sigmoid")
sigmoid_derivative_checks([-1000.0, -50.0, 50.0, 1000.0])
print("sigmoid_derivative: visible checks passed")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(3)
sigmoid_derivative_checks(_rng.normal(0, 4, size=(3, 4)))
sigmoid_derivative_checks([-700.0, -300.0, -38.0, 38.0, 300.0, 700.0])
sigmoid_derivative_checks([[1000.0, -1000.0], [999.5, -745.0]])
_d = sigmoid_derivative_checks([-705.0, 705.0])
_d = check_shape(sigmoid_derivative(np.linspace(-1000, 1000, 7)), (7,), "sigmoid_derivative(linspace(-1000, 1000, 7))")
assert_true(bool(np.all(np.isfinite(_d))), f"sigmoid_derivative returned non-finite values on [-1000, 1000]: {_d}")
### END HIDDEN TESTS
# %% [markdown]
# **Check on the graph.** The locked cell below builds the sigmoid from primitives, backpropagates 1.0
# through it for many $z$ and compares the engine's $\partial\sigma/\partial z$ with your formula; the
# drawing shows the four-node chain at $z = 0.5$.
# %% locked id=sigmoid_node
def sigmoid_node(z):
    """sigma(z) built from primitives: neg -> exp -> +1 -> 1/x. Inputs: z, a Value. Returns: a Value."""
    return (1 + (-z).exp()).reciprocal()
# %% id=sigmoid_experiment
import matplotlib.pyplot as plt
grid = np.linspace(-8, 8, 161)
engine = []
for t in grid:
    z = Value(t, label="z")
    s = sigmoid_node(z)
    s.backward()
    engine.append(z.grad)
engine = np.array(engine)
print("largest |engine - sigmoid_derivative| on [-8, 8]:", np.max(np.abs(engine - sigmoid_derivative(grid))))
figure, axes = plt.subplots(1, 2, figsize=(11, 3.4))
axes[0].plot(grid, 1 / (1 + np.exp(-grid)), label="sigma(z)")
axes[0].plot(grid, engine, "o", markersize=2, label="dsigma/dz from the graph")
axes[0].plot(grid, sigmoid_derivative(grid), label="sigmoid_derivative(z)")
axes[0].set_xlabel("z"); axes[0].legend(); axes[0].grid(alpha=0.3)
wide = np.linspace(-740, 740, 801)
axes[1].semilogy(wide, sigmoid_derivative(wide))
axes[1].set_xlabel("x"); axes[1].set_title("sigmoid_derivative(x), log scale"); axes[1].grid(alpha=0.3)
figure.tight_layout()
z = Value(0.5, label="z")
s = sigmoid_node(z)
s.backward()
draw_graph(s, title="the sigmoid as a graph at z = 0.5");
# %% [markdown] answer id=q_sigmoid_derivative points=2
# **Question.** Derive $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ from the local derivatives of the chain
# `neg -> exp -> +1 -> 1/x` (write the product of the four local derivatives and simplify). Why does
# storing the forward value $\sigma(z)$ suffice to backpropagate through a sigmoid node, and what
# does that save?
#
# ### BEGIN SOLUTION
# With $n = -z$, $e = e^{n}$, $d = 1 + e$, $s = 1/d$: $\partial s/\partial d = -1/d^2$,
# $\partial d/\partial e = 1$, $\partial e/\partial n = e^{n} = e$, $\partial n/\partial z = -1$. So
# $\sigma'(z) = (-1/d^2)(1)(e)(-1) = e/(1+e)^2 = \frac{1}{1+e}\cdot\frac{e}{1+e} = \sigma(z)(1-\sigma(z))$,
# since $e/(1+e) = 1 - 1/(1+e)$. The derivative is a function of the output alone, so a sigmoid layer
# only has to keep its output $s$ from the forward pass: the backward pass computes $g\,s(1-s)$ with
# two multiplications, without keeping the input or recomputing an exponential (less memory and
# compute, and one fused node instead of four).
# ### END SOLUTION
# %% [markdown]
# ## 5. Why not initialise with zeros?
#
# A small network with two inputs, **two hidden sigmoid units** and a linear output:
#
# $$h_j = \sigma(w_{j1} x_1 + w_{j2} x_2 + b_j) \ (j = 1, 2), \qquad y = v_1 h_1 + v_2 h_2 + c,$$
#
# trained on the mean squared error $L = \frac{1}{N}\sum_n (y_n - t_n)^2$ over a small data set.
# Implement its loss with your engine (use `sigmoid_node` for the hidden units and `(y - t) * (y - t)`
# for the square). The parameters come as a dict of `Value`s named
# `w11, w12, b1, w21, w22, b2, v1, v2, c`.
# %% solution id=two_unit_network_loss
def two_unit_network_loss(params, data):
    """Mean squared error of the two-hidden-unit network, as a Value graph.

    Inputs:
    - params: dict name -> Value for 'w11', 'w12', 'b1', 'w21', 'w22', 'b2', 'v1', 'v2', 'c'
    - data: a list of N examples ((x1, x2), t) of floats
    Returns:
    - loss: a Value, (1/N) sum_n (y_n - t_n)^2
    """
    loss = None
    ### BEGIN SOLUTION
    p = params
    total = 0
    for (x1, x2), t in data:
        h1 = sigmoid_node(p["w11"] * x1 + p["w12"] * x2 + p["b1"])
        h2 = sigmoid_node(p["w21"] * x1 + p["w22"] * x2 + p["b2"])
        y = p["v1"] * h1 + p["v2"] * h2 + p["c"]
        error = y - t
        total = total + error * error
    loss = total * (1.0 / len(data))
    ### END SOLUTION
    return loss
# %% tests id=two_unit_network_loss_tests points=2
# Checks: two_unit_network_loss's value and the gradients of all 9 parameters (finite differences, torch)

NAMES = ["w11", "w12", "b1", "w21", "w22", "b2", "v1", "v2", "c"]


def network_reference(theta, data):
    """The loss computed with NumPy, for the checks."""
    w11, w12, b1, w21, w22, b2, v1, v2, c = theta
    X = np.array([x for x, _ in data], dtype=np.float64)
    t = np.array([t for _, t in data], dtype=np.float64)
    h1 = 1 / (1 + np.exp(-(w11 * X[:, 0] + w12 * X[:, 1] + b1)))
    h2 = 1 / (1 + np.exp(-(w21 * X[:, 0] + w22 * X[:, 1] + b2)))
    return float(np.mean((v1 * h1 + v2 * h2 + c - t) ** 2))


def network_checks(theta, data):
    theta = np.array(theta, dtype=np.float64)
    params = {name: Value(v, label=name) for name, v in zip(NAMES, theta)}
    loss = two_unit_network_loss(params, data)
    assert_true(isinstance(loss, Value), f"two_unit_network_loss should return a Value, got {type(loss).__name__}")
    assert_close(loss.data, network_reference(theta, data), f"the loss on {len(data)} examples (a mean over "
                 "the examples, not a sum)", rtol=1e-10)
    loss.backward()
    grads = np.array([params[name].grad for name in NAMES])
    check_gradient(lambda v: network_reference(v, data), theta.copy(), grads, tol=1e-7,
                   name=f"gradients of the loss w.r.t. {NAMES}, against finite differences")
    return grads


data = [((0.0, 1.0), 1.0), ((1.0, -1.0), 0.0), ((2.0, 0.5), 1.0)]
network_checks([0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9], data)
print("two_unit_network_loss: visible checks passed")
### BEGIN HIDDEN TESTS
import torch
_rng = np.random.default_rng(11)
_data = [((float(a), float(b)), float(t)) for a, b, t in _rng.normal(size=(5, 3))]
_theta = _rng.normal(0, 1, size=9)
_grads = network_checks(_theta, _data)
_T = torch.tensor(_theta, dtype=torch.float64, requires_grad=True)
_X = torch.tensor([x for x, _ in _data], dtype=torch.float64)
_t = torch.tensor([t for _, t in _data], dtype=torch.float64)
_h1 = torch.sigmoid(_T[0] * _X[:, 0] + _T[1] * _X[:, 1] + _T[2])
_h2 = torch.sigmoid(_T[3] * _X[:, 0] + _T[4] * _X[:, 1] + _T[5])
_L = ((_T[6] * _h1 + _T[7] * _h2 + _T[8] - _t) ** 2).mean()
_L.backward()
assert_gradient_close(_grads, _T.grad, "gradients of the loss against torch.autograd", tol=1e-9)
_grads = network_checks(np.zeros(9), _data)
### END HIDDEN TESTS
# %% [markdown]
# **The experiment.** `train` runs plain gradient descent with your loss. We train twice on the XOR
# data set (t = 1 when exactly one input is 1), once from all-zero parameters and once from small
# random ones, and record the parameters of both hidden units at every step.
# %% locked id=train_helper
NAMES = ["w11", "w12", "b1", "w21", "w22", "b2", "v1", "v2", "c"]
XOR = [((0.0, 0.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0)]


def train(theta, data, lr=0.5, steps=300):
    """Gradient descent on two_unit_network_loss.

    Inputs:
    - theta: dict name -> float, the initial parameters; data: as in two_unit_network_loss
    Returns:
    - history: dict 'loss' -> list of losses, and name -> list of (value, gradient) per step
    """
    params = {name: Value(theta[name], label=name) for name in NAMES}
    history = {"loss": []}
    for step in range(steps):
        loss = two_unit_network_loss(params, data)
        loss.backward()
        history["loss"].append(loss.data)
        for name, p in params.items():
            history.setdefault(name, []).append((p.data, p.grad))
            p.data -= lr * p.grad
    return history
# %% tests id=zero_init_symmetry points=1
# Checks: from all-zero parameters, the two hidden units get identical gradients and stay identical; a random start breaks the tie


def symmetry_checks(data, steps):
    history = train({name: 0.0 for name in NAMES}, data, lr=0.5, steps=steps)
    for first, second in [("w11", "w21"), ("w12", "w22"), ("b1", "b2"), ("v1", "v2")]:
        for step in range(steps):
            (p1, g1), (p2, g2) = history[first][step], history[second][step]
            assert_close(g2, g1, f"gradient of {second} vs {first} at step {step} from a zero start", rtol=1e-12, atol=1e-15)
            assert_close(p2, p1, f"{second} vs {first} at step {step} from a zero start", rtol=1e-12, atol=1e-15)
    assert_true(abs(history["v1"][1][0]) > 1e-6, "after one step from zero, v1 should have moved "
                "(dL/dv1 = mean 2 (y - t) h1 is not 0); is the loss connected to v1?")
    rng = np.random.default_rng(5)
    history = train(dict(zip(NAMES, rng.normal(0, 0.5, size=9))), data, lr=0.5, steps=3)
    assert_true(abs(history["w11"][2][1] - history["w21"][2][1]) > 1e-9,
                "from a random start the two hidden units should get different gradients")


symmetry_checks(XOR, steps=5)
print("zero initialisation: visible checks passed")
### BEGIN HIDDEN TESTS
symmetry_checks([((0.5, -1.0), 0.3), ((-2.0, 1.0), -0.4), ((1.5, 2.0), 1.0)], steps=4)
### END HIDDEN TESTS
# %% id=zero_init_experiment
import matplotlib.pyplot as plt
from dlcourse.plotting import plot_learning_curves
zero_run = train({name: 0.0 for name in NAMES}, XOR, lr=0.5, steps=300)
rng = np.random.default_rng(5)
random_run = train(dict(zip(NAMES, rng.normal(0, 1.0, size=9))), XOR, lr=0.5, steps=300)
print(f"final loss: zero start {zero_run['loss'][-1]:.4f}, random start {random_run['loss'][-1]:.4f}")
for name in ["w11", "w21", "w12", "w22", "v1", "v2"]:
    print(f"zero start, {name} after 300 steps: {zero_run[name][-1][0]:+.5f}")
curves = plot_learning_curves({"zero start": {"loss": zero_run["loss"]}, "random start": {"loss": random_run["loss"]}},
                              metrics=("loss",), title="XOR, two hidden units: mean squared error")
curves.axes[0].set_xlabel("gradient-descent step")
figure, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for axis, run, title in [(axes[0], zero_run, "zero start"), (axes[1], random_run, "random start")]:
    for name in ["w11", "w21", "v1", "v2"]:
        axis.plot([value for value, _ in run[name]], label=name,
                  linestyle="--" if name in ("w21", "v2") else "-")
    axis.set_title(f"{title}: parameters of unit 1 (solid) and unit 2 (dashed)")
    axis.set_xlabel("step"); axis.legend(); axis.grid(alpha=0.3)
figure.tight_layout()
# %% [markdown] answer id=q_zero_init points=2
# **Question.** From the computation above: what happens to the two hidden units when every
# parameter starts at 0, and why (argue with the gradients and the symmetry of the network)? Does
# the problem disappear if all weights start at the same non-zero constant? What does a random
# initialisation change?
#
# ### BEGIN SOLUTION
# With zeros, both hidden units compute the same function ($h_1 = h_2 = \sigma(0) = 1/2$) and have
# the same outgoing weight ($v_1 = v_2 = 0$). Their gradients are the same expressions of the same
# numbers: $\partial L/\partial v_j = \text{mean}\,2(y-t)h_j$ is equal for $j = 1, 2$, and
# $\partial L/\partial w_{jk} = \text{mean}\,2(y-t)\,v_j\,h_j(1-h_j)\,x_k$ is equal too (exactly 0 at
# the first step since $v_j = 0$). Equal parameters receive equal updates, so they stay equal after
# every step: by induction the units remain copies of each other and the network behaves like a
# one-hidden-unit network, which cannot fit XOR (its loss plateaus, while the random start fits).
# Any identical constant start has the same symmetry (swapping the two units leaves the network
# unchanged), so it does not help; only a non-symmetric, e.g. random, initialisation breaks the tie
# and lets the units learn different features.
# ### END SOLUTION
# %% [markdown]
# ## 6. A parameterised ReLU
#
# Consider replacing the ReLU $\max\{0, o\}$ of every hidden unit by $f(o; t) = \max\{t, o\}$ with a
# learnable threshold $t$ per unit. The cell below checks one identity numerically.
# %% id=prelu_identity
o = np.linspace(-3, 3, 13)
for t in [-1.0, 0.5, 2.0]:
    gap = np.max(np.abs(np.maximum(t, o) - (t + np.maximum(0.0, o - t))))
    print(f"t = {t:+.1f}: max |max(t, o) - (t + relu(o - t))| = {gap:.1e}")
# %% [markdown] answer id=q_prelu points=2
# **Question.** Does $f(o; t) = \max\{t, o\}$ enlarge the class of functions (hypothesis class) that
# a network with biases can represent, compared with the ReLU? Justify, using the identity above and
# the biases of the layers.
#
# ### BEGIN SOLUTION
# No. $\max\{t, o\} = t + \max\{0, o - t\} = t + \mathrm{ReLU}(o - t)$. For a hidden unit
# $o = w^\top x + b$, so $f(o; t) = \mathrm{ReLU}(w^\top x + (b - t)) + t$: the shift $-t$ is absorbed
# into the unit's bias $b' = b - t$, and the constant $+t$ enters the next layer as $v\,t$, absorbed
# into that layer's bias $c' = c + v\,t$. Every network with thresholds equals a ReLU network with
# other biases, and conversely ($t = 0$ gives the ReLU), so the hypothesis class is the same. Only
# without biases would $t$ add anything (it would play the role of the biases). It changes the
# parameterisation (and so the optimisation), not what can be represented.
# ### END SOLUTION
