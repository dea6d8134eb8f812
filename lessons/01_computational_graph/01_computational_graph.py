# %% [markdown]
# # Practical 1: computational graphs and backpropagation by hand
#
# A neural network is a function built from many small operations. Written as a **computational
# graph**, every node holds one operation whose derivative is easy (the *local derivative*), and
# the chain rule turns these local derivatives into the gradient of the output with respect to every
# input: this is **backpropagation**, or reverse-mode automatic differentiation.
#
# In this practical you build a tiny reverse-mode autodiff engine for scalars, `Value` (in the spirit
# of Karpathy's *micrograd*), in three steps: an order in which to visit a graph, the nodes and their
# primitive operations, then the backward pass. You then use it to
#
# 1. build the graph of a logistic-regression unit and run its forward and backward passes by hand;
# 2. study the sigmoid and its derivative;
# 3. see why a network must not be initialised with zeros;
# 4. think about a parameterised ReLU.
#
# Fill in the code between the solution markers (in your copy, the lines that say
# `raise NotImplementedError()`); run the check cell below each one. The graders run more checks on
# other inputs, so make your code general, not tuned to the visible numbers. Each exercise is graded
# on its own: when the graders check a later exercise (the backward pass, the logistic graph, the
# network's loss), they run it with their own version of the earlier ones, so a mistake costs the
# points of the exercise where it is, not of the ones built on it. The check cells in your copy use
# your own earlier answers: when several fail, fix the first one first.
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
# paths when a subexpression is shared, as in a "diamond" `x -> a, x -> b, (a, b) -> y`; visiting it
# again on every path takes exponential time on a chain where each node uses the previous one twice).
#
# `topological_order(root)` uses only the `.parents` attribute of the nodes (a tuple of nodes), so it
# works on any graph; it must not change the nodes. (`reachable_nodes` of the course's helpers lists a
# graph's nodes root first, breadth-first: handy for printing, but not a topological order, nor is
# its reverse; the graders do not let `topological_order` call it.)
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
### BEGIN HIDDEN TESTS
# The graders' own engine (a solution, so hidden), defined here, before any check can fail. The test
# cells of later exercises run the function they grade with these in place of the student's earlier
# answers (dlcourse.compgraph.rebinding), so a wrong answer costs its own points only.
import sys as _sys
import torch
from dlcourse.compgraph import rebinding


def _reference_topological_order(root):
    order, placed = [], set()

    def visit(node):
        if id(node) not in placed:
            placed.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)
    visit(root)
    return order


def _reference_backward(root, upstream=1.0):
    """Reset, seed and call every node's _backward in reverse topological order (the student's nodes too)."""
    order = _reference_topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = upstream
    for node in reversed(order):
        node._backward()


class _ReferenceValue:
    """The reference engine: the Value of this practical, for the tests of later exercises."""

    def __init__(self, data, parents=(), op="", label=""):
        self.data, self.grad, self.parents, self.op, self.label = float(data), 0.0, tuple(parents), op, label
        self._backward = lambda: None

    def __repr__(self):
        return f"Value({self.label or self.op or 'input'}: data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, _ReferenceValue) else _ReferenceValue(other)

    def _node(self, data, parents, op, local):
        out = _ReferenceValue(data, parents, op)

        def _backward():
            for parent, derivative in zip(parents, local):
                parent.grad += derivative * out.grad
        out._backward = _backward
        return out

    def __add__(self, other):
        other = _ReferenceValue._wrap(other)
        return self._node(self.data + other.data, (self, other), "+", (1.0, 1.0))

    def __radd__(self, other):
        return _ReferenceValue._wrap(other) + self

    def __mul__(self, other):
        other = _ReferenceValue._wrap(other)
        return self._node(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __rmul__(self, other):
        return _ReferenceValue._wrap(other) * self

    def __neg__(self):
        return self._node(-self.data, (self,), "neg", (-1.0,))

    def __sub__(self, other):
        other = _ReferenceValue._wrap(other)
        return self._node(self.data - other.data, (self, other), "-", (1.0, -1.0))

    def __rsub__(self, other):
        return _ReferenceValue._wrap(other) - self

    def exp(self):
        value = math.exp(self.data)
        return self._node(value, (self,), "exp", (value,))

    def reciprocal(self):
        value = 1.0 / self.data
        return self._node(value, (self,), "1/x", (-value * value,))

    def backward(self):
        _reference_backward(self)
### END HIDDEN TESTS


def attempt(what, compute):
    """Run one of your functions (used by the checks of every exercise): an exception becomes a check failure
    that names the call."""
    try:
        return compute()
    except CheckError:
        raise
    except Exception as error:
        raise CheckError(f"{what} raised {type(error).__name__}: {error}") from None


class Node:
    """A bare graph node for these checks: a name and its parents (it counts how often they are read)."""
    reads = 0
    budget = None  # how many reads of .parents the graph at hand allows
    what = ""  # the graph at hand, for the message

    def __init__(self, name, *parents):
        self.name, self._parents = name, tuple(parents)

    @property
    def parents(self):
        Node.reads += 1
        if Node.budget is not None and Node.reads > Node.budget:
            Node.budget = None
            raise CheckError(f"{Node.what}: topological_order read the parents of the graph's nodes more than {Node.reads - 1} "
                             "times: it visits a node again on every path that reaches it (exponential time "
                             "on shared subexpressions); keep a set of the visited nodes")
        return self._parents

    def __repr__(self):
        return f"Node({self.name})"


def check_topological_order(root, nodes, what):
    """topological_order(root) against the graph's nodes (listed by reachable_nodes(root), in any order)."""
    expected = {id(node): node for node in nodes}
    Node.reads, Node.budget, Node.what = 0, 10 * len(expected) + 50, what
    try:
        order = attempt("topological_order(root)", lambda: topological_order(root))
    finally:
        Node.budget = None
    assert_true(isinstance(order, (list, tuple)),
                f"topological_order should return a list of nodes, got {type(order).__name__}")
    order = list(order)
    seen = {}
    for position, node in enumerate(order):
        assert_true(id(node) in expected, f"{what}: topological_order returned {node!r}, which is not a node of the graph")
        assert_true(id(node) not in seen, f"{what}: {node!r} appears twice in the order (positions {seen.get(id(node))} "
                    f"and {position}); a node reached by two paths must be listed once")
        seen[id(node)] = position
    missing = [node for key, node in expected.items() if key not in seen]
    assert_true(len(missing) == 0, f"{what}: the order misses the node(s) {missing[:5]} "
                f"({len(order)} nodes listed, the graph has {len(expected)})")
    for node in order:
        for parent in node._parents:
            assert_true(seen[id(parent)] < seen[id(node)],
                        f"{what}: wrong topological order: {node!r} comes before its parent {parent!r} "
                        f"(positions {seen[id(node)]} and {seen[id(parent)]}); a node may only be appended "
                        f"after all of its parents")
    assert_true(order[-1] is root, f"{what}: the root {root!r} should come last, found {order[-1]!r} last")


### BEGIN HIDDEN TESTS
# Tripwire: topological_order must not be built on the course's traversals.
check_topological_order = rebinding(check_topological_order, globals(), "topological_order", forbid_traversal=True)
### END HIDDEN TESTS
# A diamond with a shared subexpression reached at two different depths.
x, w = Node("x"), Node("w")
a = Node("a", x, w)
b = Node("b", a, x)
c = Node("c", b, a)
d = Node("d", c, a)
check_topological_order(d, reachable_nodes(d), "diamond graph d(c(b(a, x), a), a)")
check_topological_order(a, reachable_nodes(a), "sub-graph a(x, w)")
check_topological_order(x, reachable_nodes(x), "a single input node")
# A chain where each node uses the previous one twice (2^24 paths from the root to c0).
node = Node("c0")
for i in range(1, 25):
    node = Node(f"c{i}", node, node)
check_topological_order(node, reachable_nodes(node), "a chain of 25 nodes, each using the previous one twice")
print("topological_order: visible checks passed (diamond, sub-graph, single node, chain of shared nodes)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(101)
for _trial in range(4):
    _nodes = [Node(f"n{i}") for i in range(6)]
    for _i in range(6, 40):
        _k = int(_rng.integers(1, 4))
        _parents = [_nodes[int(j)] for j in _rng.choice(_i, size=_k, replace=False)]
        _nodes.append(Node(f"n{_i}", *_parents))
    _root = _nodes[-1 - int(_rng.integers(0, 5))]
    _graph = reachable_nodes(_root)
    check_topological_order(_root, _graph, f"random graph #{_trial} ({len(_graph)} nodes)")
# Parents listed in both orders (so an order that happens to follow the parents' order is not enough).
_p, _q = Node("p"), Node("q")
_r = Node("r", _q, _p)
_s = Node("s", _p, _r)
_t = Node("t", _s, _q)
check_topological_order(_t, reachable_nodes(_t), "graph t(s(p, r(q, p)), q)")
# A longer chain (300 nodes: within Python's default recursion limit of 1000).
_node = Node("k0")
for _i in range(1, 300):
    _node = Node(f"k{_i}", _node)
check_topological_order(_node, reachable_nodes(_node), "a chain of 300 nodes")
print("topological_order: hidden checks passed (random graphs, parents in either order, a chain of 300 nodes)")
### END HIDDEN TESTS
# %% [markdown]
# ## 2. A scalar autodiff engine: `Value`
#
# ### 2a. The nodes and their primitive operations
#
# A `Value` holds a number `data` (the forward pass), a gradient `grad` (filled in by the backward
# pass), its `parents` and the name `op` of the operation that produced it. Each operation
#
# * computes its result and returns a **new** `Value` whose parents are the operands: one node per
#   operation, with the `op` of the table (`-a` and `a - b` may instead be built from the other
#   primitives, as micrograd does: `-a` as `a * -1`, `a - b` as `a + (-b)`);
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
#     out._backward = _backward                        # attached to the result, not to self
#     return out
# ```
#
# The checks below call each result's `_backward()` directly, with an upstream gradient `out.grad`
# other than 1; the whole backward pass comes in 2b.
# %% solution id=value_class
class Value:
    """A scalar node of a computational graph.

    Attributes:
    - data: the node's value, a float (forward pass)
    - grad: d(root)/d(node), a float, written by the backward pass
    - parents: tuple of the Values this node was computed from (empty for an input or a constant)
    - op: the operation that made it: '' for an input, else '+', '*', 'neg', '-', 'exp' or '1/x'
    - label: an optional name for printing and drawing
    - _backward: a function that adds this node's gradient contributions to its parents' .grad
    """

    def __init__(self, data, parents=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op
        self.label = label
        self._backward = lambda: None  # an input has no parents to pass a gradient to

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
# %% tests id=value_forward points=1
# Checks: forward values, operation names and parents of +, *, neg, -, exp, 1/x, with numbers on either side


PRIMITIVE_OPS = ("+", "*", "neg", "-", "exp", "1/x")
COMPOSABLE_OPS = ("neg", "-")  # -a = a * -1 and a - b = a + (-b) may be built from the other primitives


def check_op(result, expected, op, operands, what):
    assert_true(isinstance(result, Value), f"{what} should return a Value, got {type(result).__name__}")
    assert_close(result.data, expected, f"{what}: the forward value", rtol=1e-12, atol=1e-12)
    direct = {id(node) for node in result.parents}
    composed = result.op != op or any(id(operand) not in direct for operand in operands)
    if op in COMPOSABLE_OPS and composed:  # built from other primitives: check the whole small graph
        graph = reachable_nodes(result)
        ops = sorted({node.op for node in graph if node.parents})
        assert_true(all(o in PRIMITIVE_OPS for o in ops), f"{what} should be a node with op {op!r} or be built "
                    f"from the primitives {list(PRIMITIVE_OPS)}; its graph has the operations {ops}")
        ids = {id(node) for node in graph}
        for operand in operands:
            assert_true(id(operand) in ids, f"{what}: the operand {operand!r} is not in the graph of the result")
        return
    assert_true(result.op == op, f"{what} should be a node with op {op!r}, got op {result.op!r} "
                f"(parents {result.parents})")
    ids = [id(p) for p in result.parents]
    for operand in operands:
        assert_true(id(operand) in ids, f"{what}: the operand {operand!r} is missing from .parents {result.parents}")


def forward_checks(p, q):
    a, b = Value(p, label="a"), Value(q, label="b")
    cases = [("a + b", lambda: a + b, p + q, "+", [a, b]), ("a * b", lambda: a * b, p * q, "*", [a, b]),
             ("-a", lambda: -a, -p, "neg", [a]), ("a - b", lambda: a - b, p - q, "-", [a, b]),
             ("a.exp()", lambda: a.exp(), math.exp(p), "exp", [a]),
             ("b.reciprocal()", lambda: b.reciprocal(), 1 / q, "1/x", [b]),
             ("a + 2.5", lambda: a + 2.5, p + 2.5, "+", [a]), ("2.5 + a", lambda: 2.5 + a, 2.5 + p, "+", [a]),
             ("a * 3.0", lambda: a * 3.0, p * 3.0, "*", [a]), ("3.0 * a", lambda: 3.0 * a, 3.0 * p, "*", [a]),
             ("a - 1.5", lambda: a - 1.5, p - 1.5, "-", [a]), ("1.5 - a", lambda: 1.5 - a, 1.5 - p, "-", [a])]
    for what, compute, expected, op, operands in cases:
        check_op(attempt(what, compute), expected, op, operands, what)
    assert_true(a.data == p and b.data == q and a.grad == 0 and b.grad == 0,
                f"the operations changed their operands (a, b) = ({a!r}, {b!r}): they must return new Values")


forward_checks(0.5, -2.0)
print("Value forward pass: visible checks passed (values, op names and parents of the six primitives)")
### BEGIN HIDDEN TESTS
forward_checks(-1.25, 3.5)
forward_checks(2.0, 0.4)
_a = Value(4.0)
assert_true(attempt("a + a", lambda: _a + _a).data == 8.0, "a + a: the forward value should be 8 for a = 4")
print("Value forward pass: hidden checks passed")
### END HIDDEN TESTS
# %% tests id=value_local_derivatives points=3
# Checks: each primitive's _backward(): with out.grad = g set by hand, each operand's grad becomes g * its local derivative


def local_derivative_checks(p, q, g):
    """For each primitive out = f(a[, b]): out.grad = g, out._backward() must give a.grad = g * d(out)/da."""
    cases = [  # (what, build out from a and b, its op, d(out)/da, d(out)/db)
        ("a + b", lambda a, b: a + b, "+", 1.0, 1.0),
        ("a * b", lambda a, b: a * b, "*", q, p),
        ("-a", lambda a, b: -a, "neg", -1.0, 0.0),
        ("a - b", lambda a, b: a - b, "-", 1.0, -1.0),
        ("a.exp()", lambda a, b: a.exp(), "exp", math.exp(p), 0.0),
        ("a.reciprocal()", lambda a, b: a.reciprocal(), "1/x", -1.0 / p ** 2, 0.0),
        ("3 * a", lambda a, b: 3 * a, "*", 3.0, 0.0),
        ("a + 2", lambda a, b: a + 2, "+", 1.0, 0.0),
        ("2 - b", lambda a, b: 2 - b, "-", 0.0, -1.0),
        ("b - 2", lambda a, b: b - 2, "-", 0.0, 1.0),
    ]
    for what, build, op, da, db in cases:
        a, b = Value(p, label="a"), Value(q, label="b")
        out = attempt(what, lambda: build(a, b))
        assert_true(isinstance(out, Value), f"{what} should return a Value, got {type(out).__name__}")
        direct = {id(node) for node in out.parents}
        checked = [(operand, derivative) for operand, derivative in ((a, da), (b, db))
                   if derivative == 0 or id(operand) in direct]
        if len(checked) < 2:  # an operand reached through other nodes: only -a and a - b may be built so
            assert_true(op in COMPOSABLE_OPS, f"out = {what} is not one node with the operand(s) among its parents "
                        f"(op {out.op!r}, parents {out.parents}): {what} must be a single {op!r} node")
        out.grad = g
        attempt(f"out._backward() for out = {what}", out._backward)
        moving = [operand for operand, derivative in checked if derivative]
        assert_true(not moving or not all(operand.grad == 0 for operand in moving),
                    f"out._backward() for out = {what} with out.grad = {g} left the operands' .grad at 0: the "
                    "result's _backward does not pass gradients to its operands (is the function attached to "
                    "the result, out._backward = _backward, and does it add to the operands' .grad?)")
        for operand, derivative in checked:  # an operand inside a composite is checked by its own primitive
            assert_close(operand.grad, g * derivative, f"{operand.label}.grad after out._backward() for out = {what} "
                         f"with out.grad = {g} (out.grad * the local derivative d(out)/d{operand.label} = "
                         f"{derivative:.6g})", rtol=1e-10, atol=1e-12)


local_derivative_checks(0.75, -1.5, 0.6)
print("local derivatives: visible checks passed (the _backward of each primitive, upstream gradient 0.6)")
### BEGIN HIDDEN TESTS
local_derivative_checks(-2.0, 0.3, -1.7)
local_derivative_checks(1.7, 4.0, 2.5)
# Each result's _backward uses its own out.grad (two results built before either is backpropagated).
_a, _b = Value(0.8), Value(-1.1)
_y1, _y2 = _a * _b, _a + _b
_y1.grad, _y2.grad = 0.5, 0.0
_y1._backward()
assert_close(_a.grad, 0.5 * -1.1, "a.grad after y1._backward() with y1 = a * b built before y2 = a + b "
             "(each _backward must use the gradient of its own result)", rtol=1e-10, atol=1e-12)
# -a, a - b and 2 - b whole (also when built from other primitives), backpropagated by the graders' loop.
for _what, _build, _da, _db in [("-a", lambda a, b: -a, -1.0, 0.0), ("a - b", lambda a, b: a - b, 1.0, -1.0),
                                ("2 - b", lambda a, b: 2 - b, 0.0, -1.0)]:
    _a, _b = Value(0.3), Value(-0.9)
    _reference_backward(_build(_a, _b), upstream=1.4)
    assert_gradient_close([_a.grad, _b.grad], [1.4 * _da, 1.4 * _db], f"(a.grad, b.grad) for out = {_what}, "
                          "backpropagated from out.grad = 1.4 through all of its nodes", tol=1e-10)
print("local derivatives: hidden checks passed (other values and upstream gradients, results built together)")
### END HIDDEN TESTS
# %% tests id=backward_accumulate points=2
# Checks: each _backward adds to the operands' gradients (+=): a node used twice (x * x, x + x), a stale gradient, two branches


def accumulate_checks(p, g):
    x = Value(p, label="x")
    y = attempt("x * x", lambda: x * x)
    y.grad = g
    attempt("y._backward() for y = x * x", y._backward)
    if abs(x.grad - p * g) <= 1e-12 * abs(p * g) and abs(p * g) > 1e-12:
        raise CheckError(f"x.grad after y._backward() for y = x * x with y.grad = {g} is {x.grad:.6g}, one of the "
                         f"two contributions x g (expected 2 x g = {2 * p * g:.6g}): only one use of x reached "
                         "x.grad (written with = instead of added with +=, or one operand's gradient not updated)")
    assert_close(x.grad, 2 * p * g, f"x.grad after y._backward() for y = x * x with y.grad = {g} (x is used "
                 "twice: both contributions add up)", rtol=1e-10, atol=1e-12)
    x = Value(p, label="x")
    y = attempt("x + x", lambda: x + x)
    y.grad = g
    attempt("y._backward() for y = x + x", y._backward)
    assert_close(x.grad, 2 * g, f"x.grad after y._backward() for y = x + x with y.grad = {g} (x is used twice)",
                 rtol=1e-10, atol=1e-12)
    # An operand that already holds a gradient (from another use elsewhere in a graph) keeps it.
    for what, build, local in [("a + b", lambda a, b: a + b, 1.0), ("a * b", lambda a, b: a * b, 1.3),
                               ("-a", lambda a, b: -a, -1.0), ("a - b", lambda a, b: a - b, 1.0),
                               ("a.exp()", lambda a, b: a.exp(), math.exp(p)),
                               ("a.reciprocal()", lambda a, b: a.reciprocal(), -1 / p ** 2)]:
        a, b = Value(p, label="a"), Value(1.3, label="b")
        out = attempt(what, lambda: build(a, b))
        a.grad = 0.25
        out.grad = g
        attempt(f"out._backward() for out = {what}", out._backward)
        assert_close(a.grad, 0.25 + local * g, f"a.grad after out._backward() for out = {what}, out.grad = {g}, "
                     "when a.grad held 0.25 before (the contribution is added to it, +=, not written over it)",
                     rtol=1e-10, atol=1e-12)
    # x feeding two branches: y = u + v with u = 3 * x and v = exp(x), backpropagated by hand.
    x = Value(p, label="x")
    u, v = attempt("3 * x", lambda: 3 * x), attempt("x.exp()", lambda: x.exp())
    y = attempt("u + v", lambda: u + v)
    y.grad = g
    for node in (y, u, v):
        attempt("_backward()", node._backward)
    assert_close(x.grad, (3 + math.exp(p)) * g, f"x.grad for y = 3 * x + exp(x), y.grad = {g}, after the "
                 "_backward of y, then of 3 * x and of exp(x) (the two branches' contributions add up)",
                 rtol=1e-10, atol=1e-12)


accumulate_checks(1.5, 0.8)
print("gradient accumulation: visible checks passed (x * x, x + x, a stale gradient kept, two branches)")
### BEGIN HIDDEN TESTS
accumulate_checks(-0.8, -1.3)
_x = Value(0.6)
_y = _x * _x * _x - _x.exp() * _x
_reference_backward(_y)
assert_close(_x.grad, 3 * 0.6 ** 2 - math.exp(0.6) * (1 + 0.6),
             "x.grad for y = x*x*x - exp(x)*x (x used four times), backpropagated by the graders' loop",
             rtol=1e-10, atol=1e-12)
# A chain through every primitive (a and b used several times), backpropagated by the graders' loop,
# against finite differences and torch.
def _chain(values):
    a, b = Value(values[0]), Value(values[1])
    return ((a * b - (-a).exp()) * (b + 2).reciprocal() - 0.5 * a).exp(), a, b
for _point in ([0.4, -0.7], [-1.1, 0.9]):
    _x = np.array(_point, dtype=np.float64)
    _y, _a, _b = _chain(_x)
    _reference_backward(_y)
    _grads = np.array([_a.grad, _b.grad])
    check_gradient(lambda v: _chain(v)[0].data, _x, _grads, tol=1e-7,
                   name=f"gradient (a.grad, b.grad) of a chain through every primitive at {_point}")
    _t = torch.tensor(_point, dtype=torch.float64, requires_grad=True)
    ((_t[0] * _t[1] - torch.exp(-_t[0])) / (_t[1] + 2) - 0.5 * _t[0]).exp().backward()
    assert_gradient_close(_grads, _t.grad, f"(a.grad, b.grad) of the chain at {_point} against torch.autograd", tol=1e-10)
print("gradient accumulation: hidden checks passed (x used four times, a chain of every primitive vs finite differences and torch)")
### END HIDDEN TESTS
# %% [markdown]
# ### 2b. The backward pass
#
# `backward()` runs reverse mode from the node it is called on: it sets the `.grad` of every node of
# its graph to 0, seeds its own gradient with 1.0, then calls `_backward()` of every node in
# **reverse** topological order (use your `topological_order`), so each node passes its gradient on
# only once it is complete. **A second call gives the same gradients as the first** (they are reset,
# not added up: unlike PyTorch's `.backward()`, which accumulates into the leaves).
#
# It is written as a function and attached to the class below (`Value.backward = backward`): every
# `Value`, including those made before, then has the method.
#
# The checks build their graphs by hand (nodes with known local derivatives), so they test
# `backward()` alone, not your primitives; they record the order in which the nodes' `_backward()`
# run.
# %% solution id=value_backward
def backward(self):
    """Reverse mode from this node: afterwards node.grad = d(self)/d(node) for every node of the graph.

    Resets the .grad of every node of the graph to 0, seeds self.grad = 1.0, then calls every
    node's _backward() once, in reverse topological order. Calling it a second time gives the same
    gradients again (reset, not accumulated).
    Inputs:
    - self: the output node (a Value) whose gradients are wanted
    Returns:
    - None (the gradients are written into the nodes' .grad)
    """
    ### BEGIN SOLUTION
    order = topological_order(self)
    for node in order:
        node.grad = 0.0
    self.grad = 1.0
    for node in reversed(order):  # children before parents: a gradient is complete when passed on
        node._backward()
    ### END SOLUTION


Value.backward = backward
# %% tests id=backward_diamond points=2
# Checks: backward() on hand-built graphs with shared nodes: seed 1, each _backward once and after its users, gradients vs finite differences


def graph_node(data, parents=(), local=(), op="", label="", calls=None):
    """A Value made by hand with its local derivatives (so these checks do not use your primitives).
    Its _backward records its label in ``calls``, then adds local * node.grad to each parent."""
    node = Value(data, parents, op, label)

    def _backward():
        if calls is not None:
            calls.append(label)
        for parent, derivative in zip(parents, local):
            parent.grad += derivative * node.grad
    node._backward = _backward
    return node


def check_calls(calls, users, what):
    """Each computed node's _backward ran exactly once, after the _backward of every node that uses it."""
    for label, using in users.items():
        count = calls.count(label)
        assert_true(count == 1, f"{what}: the _backward of node {label} ran {count} times during backward(); "
                    "each node's must run exactly once (a node reached by several paths is visited once)")
        for user in using:
            assert_true(calls.index(user) < calls.index(label),
                        f"{what}: the _backward of {label} ran before that of {user}, which uses {label} "
                        f"(order of the calls: {calls}): {label} passed on an incomplete gradient; backward() "
                        "must call them in reverse topological order (if yours uses topological_order, check "
                        "that its test passes)")


def diamond(px, pw, calls=None):
    """x, w -> a = x*w -> b = a + x -> c = b*a -> d = c - a: 'a' is shared at three depths."""
    x, w = graph_node(px, label="x", calls=calls), graph_node(pw, label="w", calls=calls)
    a = graph_node(px * pw, (x, w), (pw, px), "*", "a", calls)
    b = graph_node(a.data + px, (a, x), (1.0, 1.0), "+", "b", calls)
    c = graph_node(b.data * a.data, (b, a), (a.data, b.data), "*", "c", calls)
    d = graph_node(c.data - a.data, (c, a), (1.0, -1.0), "-", "d", calls)
    return d, x, w, a


def diamond_value(v):
    a = v[0] * v[1]
    return (a + v[0]) * a - a


def diamond_checks(point):
    px, pw = point
    calls = []
    d, x, w, a = diamond(px, pw, calls)
    attempt("d.backward()", d.backward)
    assert_close(d.grad, 1.0, "d.grad after d.backward() (the seed, d(d)/d(d) = 1)", rtol=0, atol=1e-12)
    check_calls(calls, {"d": [], "c": ["d"], "b": ["c"], "a": ["b", "c", "d"]}, "the diamond d = (a + x) * a - a")
    pa = px * pw
    # d = (a + x) a - a  =>  dd/da = 2a + x - 1, dd/dx = a + (2a + x - 1) w, dd/dw = (2a + x - 1) x
    assert_close(a.grad, 2 * pa + px - 1, "a.grad in the diamond d = (a + x) * a - a with a = x * w",
                 rtol=1e-10, atol=1e-12)
    analytic = np.array([x.grad, w.grad])
    assert_gradient_close(analytic, [pa + (2 * pa + px - 1) * pw, (2 * pa + px - 1) * px],
                          "(x.grad, w.grad) in the diamond d = (a + x) * a - a, a = x * w", tol=1e-10)
    check_gradient(diamond_value, np.array(point, dtype=np.float64), analytic, tol=1e-7,
                   name="(x.grad, w.grad) in the diamond against finite differences")


### BEGIN HIDDEN TESTS
diamond_checks = rebinding(diamond_checks, globals(), "backward", forbid_traversal=True,
                           topological_order=_reference_topological_order)
### END HIDDEN TESTS
diamond_checks([1.5, -0.5])
print("backward on a diamond: visible checks passed (seed, each _backward once and in order, gradients)")
### BEGIN HIDDEN TESTS
diamond_checks([-0.7, 2.0])


def _deep_checks(values):
    """y_k = (y_{k-1} * y_{k-2} + x) / 2, six times: many shared nodes; against finite differences and torch."""
    def build(px, pw, node):
        x, w = node(px, label="x"), node(pw, label="w")
        prev, cur = x, w
        for k in range(6):
            m = node(cur.data * prev.data, (cur, prev), (prev.data, cur.data), "*", f"m{k}")
            s = node(m.data + px, (m, x), (1.0, 1.0), "+", f"s{k}")
            prev, cur = cur, node(s.data * 0.5, (s,), (0.5,), "*", f"y{k}")
        return cur, x, w

    out, x, w = build(*values, graph_node)
    attempt("y.backward()", out.backward)
    grads = np.array([x.grad, w.grad])

    def value(v):
        prev, cur = v[0], v[1]
        for _ in range(6):
            prev, cur = cur, (cur * prev + v[0]) * 0.5
        return cur
    check_gradient(value, np.array(values, dtype=np.float64), grads, tol=1e-7,
                   name="(x.grad, w.grad) of a deep graph with shared subexpressions, against finite differences")
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    value(t).backward()
    assert_gradient_close(grads, t.grad, "(x.grad, w.grad) of the deep graph against torch.autograd", tol=1e-10)


_deep_checks = rebinding(_deep_checks, globals(), "backward", forbid_traversal=True,
                         topological_order=_reference_topological_order)
_deep_checks([0.9, -1.2])
_deep_checks([-0.4, 0.7])
print("backward on a diamond: hidden checks passed (another point, a deep graph vs finite differences and torch)")
### END HIDDEN TESTS
# %% tests id=backward_twice points=1
# Checks: backward() resets every gradient of the graph first: stale gradients are cleared and a second call gives the same result


def twice_checks(p, q):
    x, w = graph_node(p, label="x"), graph_node(q, label="w")
    m = graph_node(p * q, (x, w), (q, p), "*", "m")
    e = graph_node(math.exp(p * q), (m,), (math.exp(p * q),), "exp", "e")
    s = graph_node(p * p, (x, x), (p, p), "*", "s")
    y = graph_node(e.data + s.data, (e, s), (1.0, 1.0), "+", "y")
    expected = (q * math.exp(p * q) + 2 * p, p * math.exp(p * q))
    x.grad, w.grad, m.grad = 5.0, -3.0, 2.0  # stale gradients, left by an earlier computation
    attempt("y.backward()", y.backward)
    assert_close(x.grad, expected[0], "x.grad for y = exp(x * w) + x * x after y.backward(), when x.grad held 5.0 "
                 "before (backward() must first reset every gradient of the graph to 0)", rtol=1e-10, atol=1e-12)
    assert_close(w.grad, expected[1], "w.grad after y.backward(), when w.grad held -3.0 before", rtol=1e-10, atol=1e-12)
    attempt("a second y.backward()", y.backward)
    assert_close(x.grad, expected[0], "x.grad after calling y.backward() a second time (backward() must reset "
                 "every gradient of the graph to 0 first, so the result does not change)", rtol=1e-10, atol=1e-12)
    assert_close(w.grad, expected[1], "w.grad after calling y.backward() a second time", rtol=1e-10, atol=1e-12)
    assert_close(y.grad, 1.0, "y.grad after a second y.backward()", rtol=0, atol=1e-12)


def inner_node_checks(p):
    """Backward from an inner node a = x * x, then from the output y = exp(a) - x of the same graph."""
    x = graph_node(p, label="x")
    a = graph_node(p * p, (x, x), (p, p), "*", "a")
    y = graph_node(math.exp(a.data) - p, (graph_node(math.exp(a.data), (a,), (math.exp(a.data),), "exp", "e"), x),
                   (1.0, -1.0), "-", "y")
    attempt("a.backward()", a.backward)
    assert_close(x.grad, 2 * p, "x.grad after a.backward() with a = x * x (an inner node of y)", rtol=1e-10)
    attempt("y.backward()", y.backward)
    assert_close(x.grad, 2 * p * math.exp(p * p) - 1,
                 "x.grad after y.backward() following a.backward() on the same graph", rtol=1e-10)


### BEGIN HIDDEN TESTS
twice_checks = rebinding(twice_checks, globals(), "backward", forbid_traversal=True,
                         topological_order=_reference_topological_order)
inner_node_checks = rebinding(inner_node_checks, globals(), "backward", forbid_traversal=True,
                              topological_order=_reference_topological_order)
### END HIDDEN TESTS
twice_checks(0.5, -1.0)
inner_node_checks(0.7)
print("backward called twice: visible checks passed (stale gradients reset, same result twice, inner node then output)")
### BEGIN HIDDEN TESTS
twice_checks(-1.3, 0.4)
inner_node_checks(-0.45)
print("backward called twice: hidden checks passed")
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
    h = attempt("logistic_regression_graph(x1, x2, w1, w2, b)", lambda: logistic_regression_graph(*nodes))
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


### BEGIN HIDDEN TESTS
logistic_checks = rebinding(logistic_checks, globals(), "logistic_regression_graph", Value=_ReferenceValue)
### END HIDDEN TESTS
logistic_checks([-1.0, -2.0, 2.0, -3.0, -3.0])
print("logistic regression graph: visible checks passed (h and its 5 gradients: analytic, finite differences)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(7)
for _trial in range(3):
    _point = _rng.normal(0, 1.5, size=5)
    _grads = logistic_checks(_point)
    _t = torch.tensor(_point, dtype=torch.float64, requires_grad=True)
    _h = torch.sigmoid(_t[2] * _t[0] + _t[3] * _t[1] + _t[4])
    _h.backward()
    assert_gradient_close(_grads, _t.grad, f"gradients of h at {np.round(_point, 3).tolist()} against torch.autograd",
                          tol=1e-9)
print("logistic regression graph: hidden checks passed (3 random points, against torch.autograd too)")
### END HIDDEN TESTS
# %% tests id=logistic_primitives points=1
# Checks: the graph of logistic_regression_graph is made of primitive nodes only (no ready-made sigmoid)


def primitive_checks(point):
    nodes = [Value(v, label=n) for n, v in zip(["x1", "x2", "w1", "w2", "b"], point)]
    h = attempt("logistic_regression_graph(x1, x2, w1, w2, b)", lambda: logistic_regression_graph(*nodes))
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


### BEGIN HIDDEN TESTS
primitive_checks = rebinding(primitive_checks, globals(), "logistic_regression_graph", Value=_ReferenceValue)
### END HIDDEN TESTS
primitive_checks([-1.0, -2.0, 2.0, -3.0, -3.0])
print("logistic regression graph is made of primitives: visible checks passed (inputs connected, primitive ops only)")
### BEGIN HIDDEN TESTS
primitive_checks([0.3, 1.2, -0.4, 0.8, 0.1])
print("logistic regression graph is made of primitives: hidden checks passed")
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
            raise CheckError(f"sigmoid_derivative raised {type(exc).__name__}: {exc}, on x = {x.tolist()} (a "
                             "floating-point overflow, invalid operation or division by zero; hint: exp of a large "
                             "positive number overflows, exp(-|x|) is at most 1)") from None
        except Exception as exc:
            raise CheckError(f"sigmoid_derivative raised {type(exc).__name__}: {exc}, on x = {x.tolist()} (a NumPy "
                             "array of floats)") from None
    expected = np.array([sigmoid_reference(float(t)) for t in x.ravel()]).reshape(x.shape)
    return assert_close(d, expected, f"sigmoid_derivative(x) for x = {x.tolist()}", rtol=rtol, atol=atol)


x = np.array([[-3.0, -0.5, 0.0], [0.25, 2.0, 5.0]])
sigmoid_derivative_checks(x)
check_gradient(lambda t: float(np.sum(1 / (1 + np.exp(-t)))), x.copy(), sigmoid_derivative(x), tol=1e-7,
               name="sigmoid_derivative against finite differences of the sigmoid")
sigmoid_derivative_checks([-1000.0, -50.0, 50.0, 1000.0])
print("sigmoid_derivative: visible checks passed (values, finite differences, no overflow at |x| = 1000)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(3)
sigmoid_derivative_checks(_rng.normal(0, 4, size=(3, 4)))
sigmoid_derivative_checks([-700.0, -300.0, -38.0, 38.0, 300.0, 700.0])
sigmoid_derivative_checks([[1000.0, -1000.0], [999.5, -745.0]])
_d = sigmoid_derivative_checks([-705.0, 705.0])
_d = check_shape(sigmoid_derivative(np.linspace(-1000, 1000, 7)), (7,), "sigmoid_derivative(linspace(-1000, 1000, 7))")
assert_true(bool(np.all(np.isfinite(_d))), f"sigmoid_derivative returned non-finite values on [-1000, 1000]: {_d}")
print("sigmoid_derivative: hidden checks passed (random values, |x| from 38 to 1000)")
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
# **Question.** Write the sigmoid as a computational graph from its input $z$ to its output $\sigma(z)$
# (the chain `neg -> exp -> +1 -> 1/x`, with the local derivative on each edge). Derive
# $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ from these local derivatives (write their product and
# simplify). Why does storing the forward value $\sigma(z)$ suffice to backpropagate through a sigmoid
# node, and what does that save?
#
# ### BEGIN SOLUTION
# The graph: $z \to n = -z \to e = e^{n} \to d = 1 + e \to s = 1/d = \sigma(z)$, with local derivatives
# $\partial n/\partial z = -1$, $\partial e/\partial n = e^{n} = e$, $\partial d/\partial e = 1$,
# $\partial s/\partial d = -1/d^2$. By the chain rule
# $\sigma'(z) = (-1/d^2)(1)(e)(-1) = e/(1+e)^2 = \frac{1}{1+e}\cdot\frac{e}{1+e} = \sigma(z)(1-\sigma(z))$,
# since $e/(1+e) = 1 - 1/(1+e)$. The derivative is a function of the output alone, so a sigmoid layer
# only has to keep its output $s$ from the forward pass: the backward pass computes $g\,s(1-s)$ with
# two multiplications, without keeping the input or recomputing an exponential (less memory and
# compute, and one fused node instead of four).
# ### END SOLUTION
# %% [markdown] rubric id=q_sigmoid_derivative_rubric
# - **2 points**: the four nodes in order (negation, exponential, +1, reciprocal) with their four local
#   derivatives ($-1$, $e^{-z}$, $1$, $-1/(1+e^{-z})^2$); their product simplified to $\sigma(1-\sigma)$
#   with the step $e^{-z}/(1+e^{-z}) = 1 - \sigma$ shown; and the reason: the backward pass needs only
#   the stored output ($g\,s(1-s)$), so no input is kept and no exponential is recomputed.
# - **1 point**: the right result with one gap: a local derivative missing or with a sign error, the
#   simplification asserted rather than shown, or no reason why storing $\sigma(z)$ suffices.
# - **0 points**: only the formula $\sigma(1-\sigma)$ quoted, a derivation that does not go through the
#   graph's local derivatives, or a wrong result.
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
    loss = attempt("two_unit_network_loss(params, data)", lambda: two_unit_network_loss(params, data))
    assert_true(isinstance(loss, Value), f"two_unit_network_loss should return a Value, got {type(loss).__name__}")
    expected = network_reference(theta, data)
    n = len(data)
    if n > 1 and abs(loss.data - n * expected) <= 1e-10 * abs(n * expected) and abs(expected) > 1e-12:
        raise CheckError(f"the loss on {n} examples is {loss.data:.6g}, {n} times the expected mean squared error "
                         f"{expected:.6g}: the sum of the squared errors, not their mean")
    assert_close(loss.data, expected, f"the loss on {n} examples (the mean of the squared errors)", rtol=1e-10)
    loss.backward()
    grads = np.array([params[name].grad for name in NAMES])
    check_gradient(lambda v: network_reference(v, data), theta.copy(), grads, tol=1e-7,
                   name=f"gradients of the loss w.r.t. {NAMES}, against finite differences")
    return grads


### BEGIN HIDDEN TESTS
network_checks = rebinding(network_checks, globals(), "two_unit_network_loss", Value=_ReferenceValue)
### END HIDDEN TESTS
data = [((0.0, 1.0), 1.0), ((1.0, -1.0), 0.0), ((2.0, 0.5), 1.0)]
network_checks([0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9], data)
print("two_unit_network_loss: visible checks passed (the loss and its 9 gradients on 3 examples)")
### BEGIN HIDDEN TESTS
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
print("two_unit_network_loss: hidden checks passed (5 random examples, against torch.autograd, a zero start)")
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


### BEGIN HIDDEN TESTS
symmetry_checks = rebinding(symmetry_checks, globals(), "two_unit_network_loss", Value=_ReferenceValue)
### END HIDDEN TESTS
symmetry_checks(XOR, steps=5)
print("zero initialisation: visible checks passed (5 steps on XOR: the two units stay identical; a random start differs)")
### BEGIN HIDDEN TESTS
symmetry_checks([((0.5, -1.0), 0.3), ((-2.0, 1.0), -0.4), ((1.5, 2.0), 1.0)], steps=4)
print("zero initialisation: hidden checks passed (4 steps on other data)")
### END HIDDEN TESTS
# %% id=zero_init_experiment
import matplotlib.pyplot as plt
from dlcourse.plotting import plot_learning_curves
zero_run = train({name: 0.0 for name in NAMES}, XOR, lr=0.5, steps=300)
print("zero start, gradients at step 0:", ", ".join(f"{name} {zero_run[name][0][1]:+.4f}" for name in NAMES))
for first, second in [("w11", "w21"), ("w12", "w22"), ("b1", "b2"), ("v1", "v2")]:
    gap = max(abs(p1 - p2) for (p1, _), (p2, _) in zip(zero_run[first], zero_run[second]))
    print(f"zero start, largest |{first} - {second}| over the 300 steps: {gap:.1e}")
for name in ["w11", "w12", "v1", "c"]:
    print(f"zero start, {name} after 300 steps: {zero_run[name][-1][0]:+.5f}")
# Random starts differ from seed to seed: five of them, not one picked.
random_runs = {}
for seed in range(5):
    rng = np.random.default_rng(seed)
    random_runs[seed] = train(dict(zip(NAMES, rng.normal(0, 1.0, size=9))), XOR, lr=0.5, steps=300)
print(f"final loss after 300 steps: zero start {zero_run['loss'][-1]:.4f}; random starts, seed 0-4: "
      + ", ".join(f"{run['loss'][-1]:.4f}" for run in random_runs.values()))
curves = plot_learning_curves({"zero start": {"loss": zero_run["loss"]},
                               **{f"random start, seed {seed}": {"loss": run["loss"]} for seed, run in random_runs.items()}},
                              metrics=("loss",), title="XOR, two hidden units: mean squared error")
curves.axes[0].set_xlabel("gradient-descent step")
figure, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for axis, run, title in [(axes[0], zero_run, "zero start"), (axes[1], random_runs[2], "random start, seed 2")]:
    for name in ["w11", "w21", "v1", "v2"]:
        axis.plot([value for value, _ in run[name]], label=name,
                  linestyle="--" if name in ("w21", "v2") else "-")
    axis.set_title(f"{title}: unit 1 (solid), unit 2 (dashed)")
    axis.set_xlabel("step"); axis.legend(); axis.grid(alpha=0.3)
figure.tight_layout()
# %% [markdown] answer id=q_zero_init points=2
# **Question.** (a) Compute by hand the gradient of $L$ with respect to each of the nine parameters at
# the all-zero start on the XOR data, and compare with the step-0 gradients printed above. (b) Explain,
# with the gradients and the symmetry of the network, what then happens to the two hidden units over
# training, and why this is a problem. (c) Does the problem disappear if all weights start at the same
# non-zero constant? What does a random initialisation change, and what does it not guarantee?
#
# ### BEGIN SOLUTION
# (a) At zero, $h_1 = h_2 = \sigma(0) = 1/2$ and $y = 0$ for every example, so with
# $\bar t = 1/2$ on XOR: $\partial L/\partial c = \text{mean}\,2(y-t) = -1$,
# $\partial L/\partial v_j = \text{mean}\,2(y-t)h_j = -0.5$ for both units, and
# $\partial L/\partial w_{jk} = \text{mean}\,2(y-t)\,v_j\,h_j(1-h_j)\,x_k = 0$,
# $\partial L/\partial b_j = 0$, because $v_j = 0$: as printed.
# (b) The two units compute the same function and have the same outgoing weight, so their gradients
# are the same expressions of the same numbers; equal parameters receive equal updates and stay equal
# after every step (by induction; the printed largest difference between the units is 0 over the 300
# steps). The network behaves like one hidden unit. Here it is worse: XOR is symmetric in $x_1, x_2$,
# and once the output is the constant 1/2 the hidden weights get no gradient, so the loss stays at
# 0.2500 (the constant prediction) while the hidden weights barely move.
# (c) A common non-zero constant has the same symmetry (swapping the two units changes nothing), so it
# does not help. A random start breaks the tie: the units get different gradients and can learn
# different features. It does not guarantee a fit: after 300 steps the five random seeds end between
# 0.0457 and 0.2434, all below the zero start's 0.2500 but only one of them close to fitting XOR (a
# two-unit network has plateaus of its own).
# ### END SOLUTION
# %% [markdown] rubric id=q_zero_init_rubric
# - **2 points**: (a) the nine gradients at zero: $-1$ for $c$, $-0.5$ for each $v_j$, 0 for every
#   $w_{jk}$ and $b_j$ because $v_j = 0$ (or the same values derived as formulas); (b) the symmetry
#   argument: identical units get identical gradients, hence identical updates, so they stay copies at
#   every step (induction), and the network is no better than one hidden unit (stuck at 0.25 on XOR);
#   (c) an equal non-zero constant keeps the symmetry; a random start breaks it, without guaranteeing
#   convergence (the seeds differ).
# - **1 point**: the symmetry argument without the gradient computation, or the gradients without the
#   argument that the units stay equal; or (c) missing or wrong.
# - **0 points**: "all gradients are zero, so nothing learns" (the output weights and bias do learn), or
#   no reference to the symmetry between the units.
# %% [markdown]
# ## 6. A parameterised ReLU
#
# Replace the ReLU $\max\{0, o_i\}$ of every hidden unit by $f_i(o; t) = \max\{t, o_i\}$, where the
# threshold $t$ is learned (one per unit, or one shared by a layer). Does this define a larger
# hypothesis class? The cell below checks an identity numerically, then compares a small network with
# thresholds with a ReLU network whose biases are changed, on random inputs, and looks at a network
# without biases. (The name is the course's: this is not the PReLU of He et al., 2015,
# $\max\{0, o\} + a\min\{0, o\}$ with a learned slope $a$.)
# %% id=prelu_identity
o = np.linspace(-3, 3, 13)
for t in [-1.0, 0.5, 2.0]:
    gap = np.max(np.abs(np.maximum(t, o) - (t + np.maximum(0.0, o - t))))
    print(f"t = {t:+.1f}: max |max(t, o) - (t + relu(o - t))| = {gap:.1e}")
# 3 inputs, 4 hidden units with their own thresholds t, a linear output with bias c.
rng = np.random.default_rng(0)
W, b, t, v, c = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), rng.normal()
X = rng.normal(size=(1000, 3))
with_thresholds = np.maximum(t, X @ W.T + b) @ v + c               # (1000, 3) @ (3, 4) -> (1000, 4) -> (1000,)
relu_network = np.maximum(0.0, X @ W.T + (b - t)) @ v + (c + v @ t)  # biases b - t and c + v.t instead
print(f"with biases: max |threshold network - ReLU network with biases b - t, c + v.t| over 1000 inputs: "
      f"{np.max(np.abs(with_thresholds - relu_network)):.1e}")
# Without biases, a ReLU network outputs 0 at x = 0 (every unit is max(0, 0) = 0); with thresholds:
print(f"without biases: at x = 0 every ReLU network outputs 0, this threshold network outputs "
      f"{np.maximum(t, 0.0) @ v:+.4f}")
# %% [markdown] answer id=q_prelu points=2
# **Question.** In a network whose layers all have biases and whose output layer is linear, does
# replacing the ReLUs of the hidden units by $f_i(o; t) = \max\{t, o_i\}$ define a larger hypothesis
# class (the set of functions the network can represent)? Explain with the identity checked above and
# the biases of the layers. What changes if the layers have no biases? Give an example.
#
# ### BEGIN SOLUTION
# No, the class is the same. $\max\{t, o\} = t + \max\{0, o - t\} = t + \mathrm{ReLU}(o - t)$. For a
# hidden unit $o = w^\top x + b$, so $f(o; t) = \mathrm{ReLU}(w^\top x + (b - t)) + t$: the shift $-t$ is
# absorbed into the unit's bias $b' = b - t$, and the constant $+t$ reaches the next layer as $v\,t$,
# absorbed into that layer's bias $c' = c + v^\top t$ (the same with one $t$ per unit or per layer).
# Every network with thresholds is a ReLU network with other biases (the printed gap is at rounding
# level), and conversely $t = 0$ gives the ReLU back. Only the parameterisation changes, which can
# matter for optimisation, not what can be represented. Without biases the class is larger: the
# thresholds play the role of biases. Every bias-free ReLU network outputs 0 at $x = 0$ (and is
# positively homogeneous, $N(\alpha x) = \alpha N(x)$ for $\alpha > 0$), whereas one threshold unit
# $\max\{t, w x\}$ with $t \neq 0$ is $t$ at $x = 0$; the printed threshold network is not 0 there.
# (Likewise, if $f$ were applied to the output itself, the $+t$ could not be absorbed.)
# ### END SOLUTION
# %% [markdown] rubric id=q_prelu_rubric
# - **2 points**: the verdict "not larger" when the layers have biases, justified by
#   $\max\{t, o\} = t + \mathrm{ReLU}(o - t)$ with both absorptions ($-t$ into the unit's own bias, $+t$
#   times the outgoing weights into the next layer's bias) and the converse ($t = 0$ is the ReLU); and
#   the bias-free case: larger, with an example (a network that is not 0 at $x = 0$, or that is not
#   positively homogeneous).
# - **1 point**: the right verdict with the identity but only one of the two absorptions explained, or
#   no bias-free case; or only the bias-free example with the right conclusion there.
# - **0 points**: "larger, because there are more parameters" (more parameters do not mean more
#   functions), or a verdict without a justification.
