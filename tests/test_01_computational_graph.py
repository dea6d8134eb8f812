"""Practical 01_computational_graph: each test cell grades one function, buggy variants lose the points
of that function only and are named in the message, correct alternatives get full marks.

Every variant is executed with ``score_variant`` on the cells it needs only (the setup, the graders'
reference engine in topological_order_tests, the cell under test and its test cells), so each costs one
kernel start and a few seconds; the independence proof runs whole notebooks (plots skipped).
"""

import json
from pathlib import Path

import nbformat
import pytest

from harness import ROOT, assert_fails, assert_passes
from harness import (autograde_variants, load_replacements, mutate, release_notebook, score_variant,
                     solution_code, source_notebook_path)

A = "01_computational_graph"
SAMPLES = ROOT / "samples" / A
ALL_IDS = [cell.get("id") for cell in nbformat.read(source_notebook_path(A), as_version=4).cells]
# The first test cell also defines the graders' reference engine that later test cells use.
BASE = ["setup", "topological_order", "topological_order_tests"]
VALUE = ["value_class", "value_forward", "value_local_derivatives", "backward_accumulate"]
BACKWARD = ["value_backward", "backward_diamond", "backward_twice"]
LOGISTIC = ["logistic_regression_graph", "logistic_values", "logistic_primitives"]
SIGMOID = ["sigmoid_derivative", "sigmoid_derivative_tests"]
NETWORK = ["sigmoid_node", "two_unit_network_loss", "two_unit_network_loss_tests", "train_helper",
           "zero_init_symmetry"]
# Plots and illustrations: ordinary cells that no test cell depends on.
PLOTS = ["logistic_illustration", "sigmoid_experiment", "zero_init_experiment", "prelu_identity"]

# The test cells of each exercise (solution cell id -> its test cells): a bug in one exercise may cost
# these and nothing else.
EXERCISE_CELLS = {
    "topological_order": {"topological_order_tests"},
    "value_class": {"value_forward", "value_local_derivatives", "backward_accumulate"},
    "value_backward": {"backward_diamond", "backward_twice"},
    "logistic_regression_graph": {"logistic_values", "logistic_primitives"},
    "sigmoid_derivative": {"sigmoid_derivative_tests"},
    "two_unit_network_loss": {"two_unit_network_loss_tests", "zero_init_symmetry"},
}
ALL_TEST_CELLS = set().union(*EXERCISE_CELLS.values())


def run_only(ids, replacements=None):
    """score_variant executing only the cells ``ids`` (every other code cell is skipped)."""
    return score_variant(A, replacements, skip=[i for i in ALL_IDS if i not in set(ids)])


def release_stub(cell_id):
    """The student's starting point for a solution cell (the release's stub)."""
    return next(cell.source for cell in release_notebook(A).cells if cell.get("id") == cell_id)


# ------------------------------------------------------------------------- buggy and correct variants

BFS_ORDER = '''
def topological_order(root):
    """Breadth-first from the output, reversed: wrong when a shared node is met early."""
    order, seen, queue = [], {id(root)}, [root]
    while queue:
        node = queue.pop(0)
        order.append(node)
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return order[::-1]
'''

NO_VISITED_SET = '''
def topological_order(root):
    """Depth-first post-order without a visited set: shared nodes are listed several times."""
    order = []
    def visit(node):
        for parent in node.parents:
            visit(parent)
        order.append(node)
    visit(root)
    return order
'''

DEDUPLICATED_BUT_EXPONENTIAL = '''
def topological_order(root):
    """Deduplicated when appending, but every path is explored again (exponential on shared nodes)."""
    order = []
    def visit(node):
        for parent in node.parents:
            visit(parent)
        if all(node is not done for done in order):
            order.append(node)
    visit(root)
    return order
'''

ROOT_FIRST = '''
def topological_order(root):
    """A correct post-order, returned reversed: root first (the order backward() walks)."""
    order, visited = [], set()
    def visit(node):
        if id(node) not in visited:
            visited.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)
    visit(root)
    return order[::-1]
'''

RETURNS_AN_ITERATOR = '''
def topological_order(root):
    """Public student code: returns reversed(stack), an iterator, root first."""
    visited, stack = set(), []
    def dfs(node):
        if node in visited:
            return
        visited.add(node)
        for parent in node.parents:
            dfs(parent)
        stack.append(node)
    dfs(root)
    return reversed(stack)
'''

ON_REACHABLE_NODES = '''
def topological_order(root):
    """Built on the course helper: its listing reversed."""
    return reachable_nodes(root)[::-1]
'''

ON_PRIVATE_LAYOUT = '''
def topological_order(root):
    """Built on the course's private layout: nodes sorted by depth (a topological order)."""
    from dlcourse.compgraph import _nodes_and_depths
    nodes, depth = _nodes_and_depths(root)
    return sorted(nodes.values(), key=lambda node: depth[id(node)])
'''

WITH_GRAPHLIB = '''
def topological_order(root):
    """Correct: the standard library's graphlib on the collected graph (no course helper)."""
    import graphlib
    graph, stack = {}, [root]
    while stack:
        node = stack.pop()
        if node not in graph:
            graph[node] = tuple(node.parents)
            stack.extend(node.parents)
    return list(graphlib.TopologicalSorter(graph).static_order())
'''

# Backward passes (solution cell value_backward).
BACKWARD_TEMPLATE = '''
def backward(self):
    """Inputs: self. Returns: None."""
{body}


Value.backward = backward
'''


def backward_variant(body):
    return {"value_backward": BACKWARD_TEMPLATE.format(body="\n".join("    " + line for line in body.splitlines()))}


FORWARD_ORDER = backward_variant('''order = topological_order(self)
for node in order:
    node.grad = 0.0
self.grad = 1.0
for node in order:  # BUG: parents before children
    node._backward()''')

NO_SEED = backward_variant('''order = topological_order(self)
for node in order:
    node.grad = 0.0
for node in reversed(order):  # BUG: self.grad is never set to 1
    node._backward()''')

# Public student code (the "bfs_queue" of a micrograd-inspired engine): a node is appended on every path.
DUPLICATES_ON_SHARED_NODES = backward_variant('''visited, queue = set(), []
def dag(node):
    if node not in visited:
        visited.add(node)
        for parent in node.parents:
            dag(parent)
    queue.append(node)  # BUG: outside the if
dag(self)
for node in queue:
    node.grad = 0.0
self.grad = 1.0
while queue:
    queue.pop()._backward()''')

# Public student code: no reset, and the seed added (self.grad += 1.0).
SEED_ADDED_NO_RESET = backward_variant('''self.grad += 1.0
for node in reversed(topological_order(self)):
    node._backward()''')

BACKWARD_ON_PRIVATE_LAYOUT = backward_variant('''from dlcourse.compgraph import _nodes_and_depths
nodes, depth = _nodes_and_depths(self)
order = sorted(nodes.values(), key=lambda node: depth[id(node)])
for node in order:
    node.grad = 0.0
self.grad = 1.0
for node in reversed(order):
    node._backward()''')

BACKWARD_ON_REACHABLE_NODES = backward_variant('''order = reachable_nodes(self)  # root first: a wrong order on diamonds
for node in order:
    node.grad = 0.0
self.grad = 1.0
for node in order:
    node._backward()''')

MICROGRAD_SUB = '''
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)
'''

READY_MADE_SIGMOID = '''
def logistic_regression_graph(x1, x2, w1, w2, b):
    """A sigmoid node with its own derivative instead of the primitives."""
    z = w1 * x1 + w2 * x2 + b
    out = Value(1 / (1 + math.exp(-z.data)), (z,), "sigmoid")
    def _backward():
        z.grad += out.data * (1 - out.data) * out.grad
    out._backward = _backward
    return out
'''

WRAPPED_FLOAT = '''
def logistic_regression_graph(x1, x2, w1, w2, b):
    """Computed on the floats, then wrapped: the graph is cut from its inputs."""
    z = w1.data * x1.data + w2.data * x2.data + b.data
    return Value(1 / (1 + math.exp(-z)))
'''

SIGN_FLIPPED_LOGISTIC = '''
def logistic_regression_graph(x1, x2, w1, w2, b):
    """exp(z) instead of exp(-z): sigma(-z)."""
    return (1 + (w1 * x1 + w2 * x2 + b).exp()).reciprocal()
'''

NAIVE_SIGMOID_DERIVATIVE = '''
def sigmoid_derivative(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
'''

NAN_SIGMOID_DERIVATIVE = '''
def sigmoid_derivative(x):
    e = np.exp(x)
    return e / (1 + e) ** 2
'''

CANCELLING_SIGMOID_DERIVATIVE = '''
def sigmoid_derivative(x):
    x = np.asarray(x, dtype=float)
    s = np.exp(-np.logaddexp(0, -x))  # a stable sigma(x)...
    return s * (1 - s)                # ...but 1 - s cancels to 0 for large x
'''

OUTPUT_CONVENTION_SIGMOID_DERIVATIVE = '''
def sigmoid_derivative(x):
    """Public student code: the derivative written for an input that is already sigma(x)."""
    return x * (1 - x)
'''

SCALAR_ONLY_SIGMOID_DERIVATIVE = '''
def sigmoid_derivative(x):
    """Public student code: math.exp works on one float, not on arrays."""
    s = 1 / (1 + math.exp(-x))
    return s * (1 - s)
'''

NUMERICAL_SIGMOID_DERIVATIVE = '''
def sigmoid_derivative(x):
    """Built on the course helper: finite differences of the sigmoid."""
    x = np.array(x, dtype=np.float64)
    return numerical_gradient(lambda t: float(np.sum(1 / (1 + np.exp(-np.clip(t, -700, 700))))), x)
'''

STABLE_WHERE_SIGMOID_DERIVATIVE = '''
def sigmoid_derivative(x):
    """Correct: the two stable branches of sigma(|x|) sigma(-|x|), chosen with np.where."""
    x = np.asarray(x, dtype=np.float64)
    small = np.exp(-np.abs(x))
    return np.where(x >= 0, small / (1 + small) ** 2, small / (1 + small) ** 2)
'''


# ---------------------------------------------------------------- (1) one exercise, one set of points

def buggy_exercises():
    """One plausible bug per exercise, each of which would break the later exercises built on it."""
    return {
        "topological_order": {"topological_order": BFS_ORDER},
        "value_class": mutate(A, "value_class", "self.grad += other.data * out.grad",
                              "self.grad += self.data * out.grad"),
        "value_backward": FORWARD_ORDER,
        "logistic_regression_graph": {"logistic_regression_graph": SIGN_FLIPPED_LOGISTIC},
        "sigmoid_derivative": {"sigmoid_derivative": NAIVE_SIGMOID_DERIVATIVE},
        "two_unit_network_loss": mutate(A, "two_unit_network_loss", "loss = total * (1.0 / len(data))",
                                        "loss = total"),
    }


@pytest.mark.parametrize("exercise", sorted(EXERCISE_CELLS))
def test_a_buggy_exercise_costs_only_its_own_points(exercise):
    """Exercise A buggy, every other exercise B correct: B's test cells all pass (5 pairs per run, 30 in
    all), although the backward pass, the logistic graph and the network loss are built on earlier ones."""
    result = score_variant(A, buggy_exercises()[exercise], skip=PLOTS)
    failed = set(result.failed())
    assert failed, f"the bug in {exercise} was not caught"
    assert failed <= EXERCISE_CELLS[exercise], \
        f"a bug in {exercise} cost points of other exercises: {sorted(failed - EXERCISE_CELLS[exercise])}"
    assert_passes(result, *sorted(ALL_TEST_CELLS - EXERCISE_CELLS[exercise]))


def test_unanswered_engine_costs_only_the_engine():
    """The release's stubs for topological_order, the primitives and backward: the logistic graph, the
    sigmoid and the network loss still get all their points (graded on the reference engine)."""
    result = score_variant(A, {cell: release_stub(cell) for cell in ("topological_order", "value_class",
                                                                      "value_backward")}, skip=PLOTS)
    engine = EXERCISE_CELLS["topological_order"] | EXERCISE_CELLS["value_class"] | EXERCISE_CELLS["value_backward"]
    assert set(result.failed()) == engine, result.failed()
    assert_fails(result, "value_forward", "raised NotImplementedError")


def test_a_failure_under_the_reference_engine_says_so():
    result = run_only(BASE + LOGISTIC, {"logistic_regression_graph": WRAPPED_FLOAT})
    assert_fails(result, "logistic_values", "graded with the course's own Value in place of yours",
                 "logistic_regression_graph's own error")


# ---------------------------------------------------------------- (8) one test per bug

class TestTopologicalOrderBugs:

    def test_bfs_order_and_duplicates(self):
        result = run_only(BASE, {"topological_order": BFS_ORDER})
        assert_fails(result, "topological_order_tests", "diamond", "wrong topological order", "comes before its parent")
        result = run_only(BASE, {"topological_order": NO_VISITED_SET})
        assert_fails(result, "topological_order_tests", "appears twice")

    def test_exponential_traversal(self):
        result = run_only(BASE, {"topological_order": DEDUPLICATED_BUT_EXPONENTIAL})
        assert_fails(result, "topological_order_tests", "chain of 25 nodes", "read the parents", "visited")

    @pytest.mark.parametrize("code, words", [
        (ROOT_FIRST, ["wrong topological order", "comes before its parent"]),
        (RETURNS_AN_ITERATOR, ["should return a list", "list_reverseiterator"]),
    ], ids=["root-first", "iterator"])
    def test_wrong_order_or_type(self, code, words):
        assert_fails(run_only(BASE, {"topological_order": code}), "topological_order_tests", *words)

    @pytest.mark.parametrize("code, helper", [(ON_REACHABLE_NODES, "reachable_nodes"),
                                              (ON_PRIVATE_LAYOUT, "_nodes_and_depths")],
                             ids=["reachable_nodes", "private-layout"])
    def test_course_traversals_are_tripwired(self, code, helper):
        result = run_only(BASE, {"topological_order": code})
        assert_fails(result, "topological_order_tests", f"called dlcourse.compgraph.{helper}", errors=("HelperUsed",))

    def test_stdlib_graphlib_is_a_correct_alternative(self):
        assert_passes(run_only(BASE, {"topological_order": WITH_GRAPHLIB}), "topological_order_tests")


class TestPrimitiveBugs:
    """Bugs in the primitives of value_class: the forward pass, the local derivatives, the +=."""

    LOCAL_DERIVATIVE_BUGS = {
        "mul uses its own value": ("self.grad += other.data * out.grad", "self.grad += self.data * out.grad", "a * b"),
        "neg without the minus": ("self.grad -= out.grad  # d(-a)/da", "self.grad += out.grad  # d(-a)/da", "-a"),
        "sub second operand +1": ("other.grad -= out.grad", "other.grad += out.grad", "a - b"),
        "exp derivative is the input": ("self.grad += out.data * out.grad", "self.grad += self.data * out.grad",
                                        "a.exp()"),
        "reciprocal without the minus": ("self.grad += -out.data * out.data * out.grad",
                                         "self.grad += out.data * out.data * out.grad", "a.reciprocal()"),
        "add ignores the upstream gradient": ("self.grad += out.grad   # d(a + b)/da = 1",
                                              "self.grad += 1.0   # d(a + b)/da = 1", "a + b"),
    }

    @pytest.mark.parametrize("bug", sorted(LOCAL_DERIVATIVE_BUGS))
    def test_wrong_local_derivative_fails_the_primitive_check(self, bug):
        old, new, what = self.LOCAL_DERIVATIVE_BUGS[bug]
        result = run_only(BASE + VALUE[:3], mutate(A, "value_class", old, new))
        assert_passes(result, "value_forward")  # the forward pass is right: only the derivative is wrong
        assert_fails(result, "value_local_derivatives", f"out = {what}", "local derivative")

    def test_backward_attached_to_the_operand(self):
        """Public student code: ``self._backward = _backward`` instead of ``out._backward``."""
        result = run_only(BASE + VALUE, mutate(A, "value_class", "out._backward = _backward", "self._backward = _backward",
                                               count=6))
        assert_fails(result, "value_local_derivatives", "left the operands' .grad at 0", "out._backward = _backward")

    def test_rsub_with_the_wrong_sign(self):
        """Public student code (two independent micrograd copies): ``__rsub__`` returns ``self - other``."""
        result = run_only(BASE + VALUE[:2], mutate(A, "value_class", "out = Value._wrap(other) - self",
                                                   "out = self - other"))
        assert_fails(result, "value_forward", "1.5 - a: the forward value")

    def test_composite_subtraction_and_negation_are_correct(self):
        """micrograd's -a = a * -1 and a - b = a + (-b): built from the other primitives, accepted."""
        code = solution_code(A, "value_class")
        start, end = code.index("    def __neg__(self):"), code.index("    def __rsub__(self, other):")
        result = run_only(BASE + VALUE, {"value_class": code[:start] + MICROGRAD_SUB.lstrip("\n") + "\n" + code[end:]})
        assert_passes(result, "value_forward", "value_local_derivatives", "backward_accumulate")
        relabelled = MICROGRAD_SUB.replace("        return self + (-other)", "        out = self + (-other)\n"
                                           "        out.op = '-'\n        return out")
        assert relabelled != MICROGRAD_SUB
        result = run_only(BASE + VALUE[:3], {"value_class": code[:start] + relabelled.lstrip("\n") + "\n" + code[end:]})
        assert_passes(result, "value_forward", "value_local_derivatives")  # a composite labelled '-' (cukhoaimon)

    def test_composite_with_a_wrong_sign(self):
        """a - b built as a + b, a composite with the wrong sign: the forward value catches it."""
        buggy = mutate(A, "value_class", "out = Value(self.data - other.data, (self, other), \"-\")",
                       "return self + other")
        result = run_only(BASE + VALUE[:2], buggy)
        assert_fails(result, "value_forward", "a - b: the forward value")

    def test_non_primitive_node(self):
        buggy = mutate(A, "value_class", "out = Value(math.exp(self.data), (self,), \"exp\")",
                       "out = Value(math.exp(self.data), (self,), \"e^x\")")
        result = run_only(BASE + VALUE[:2], buggy)
        assert_fails(result, "value_forward", "a.exp() should be a node with op 'exp', got op 'e^x'")

    def test_numbers_not_wrapped(self):
        """Public student code: ``__add__`` without ``Value._wrap`` (a + 2.5 fails)."""
        result = run_only(BASE + VALUE[:2], mutate(A, "value_class", "        other = Value._wrap(other)\n        out = None\n"
                                                   "        out = Value(self.data + other.data",
                                                   "        out = None\n        out = Value(self.data + other.data"))
        assert_fails(result, "value_forward", "a + 2.5 raised AttributeError")

    def test_gradient_overwritten_instead_of_accumulated(self):
        code = solution_code(A, "value_class")
        buggy = {"value_class": code.replace("self.grad += ", "self.grad = ").replace("other.grad += ", "other.grad = ")
                 .replace("self.grad -= out.grad", "self.grad = -out.grad")
                 .replace("other.grad -= out.grad", "other.grad = -out.grad")}
        assert buggy["value_class"].count("grad = ") >= 8
        result = run_only(BASE + VALUE, buggy)
        assert_passes(result, "value_forward", "value_local_derivatives")  # from zero, = and += agree
        assert_fails(result, "backward_accumulate", "x * x", "one of the two contributions", "+=")

    def test_only_the_reciprocal_overwrites(self):
        """Public student code: ``self.grad = ...`` in one primitive (its power rule)."""
        result = run_only(BASE + VALUE, mutate(A, "value_class", "self.grad += -out.data * out.data * out.grad",
                                               "self.grad = -out.data * out.data * out.grad"))
        assert_passes(result, "value_local_derivatives")
        assert_fails(result, "backward_accumulate", "out = a.reciprocal()", "held 0.25 before")
        assert "one of the two contributions" not in result.cells["backward_accumulate"].error


class TestBackwardBugs:
    """Bugs in backward(): graded on hand-built graphs, with the reference topological_order."""

    def test_second_backward_call_accumulates_instead_of_resetting(self):
        buggy = mutate(A, "value_backward", "    for node in order:\n        node.grad = 0.0\n", "")
        result = run_only(BASE + VALUE[:1] + BACKWARD, buggy)
        assert_passes(result, "backward_diamond")
        assert_fails(result, "backward_twice", "held 5.0 before", "reset")

    def test_seed_added_without_reset(self):
        result = run_only(BASE + VALUE[:1] + BACKWARD, SEED_ADDED_NO_RESET)
        assert_passes(result, "backward_diamond")
        assert_fails(result, "backward_twice", "reset")

    def test_forward_order(self):
        result = run_only(BASE + VALUE[:1] + BACKWARD, FORWARD_ORDER)
        assert_fails(result, "backward_diamond", "ran before that of", "reverse topological order")

    def test_no_seed(self):
        result = run_only(BASE + VALUE[:1] + BACKWARD, NO_SEED)
        assert_fails(result, "backward_diamond", "the seed")

    def test_shared_nodes_backpropagated_twice(self):
        result = run_only(BASE + VALUE[:1] + BACKWARD, DUPLICATES_ON_SHARED_NODES)
        assert_fails(result, "backward_diamond", "the _backward of node a ran 3 times")

    @pytest.mark.parametrize("variant, helper", [(BACKWARD_ON_PRIVATE_LAYOUT, "_nodes_and_depths"),
                                                 (BACKWARD_ON_REACHABLE_NODES, "reachable_nodes")],
                             ids=["private-layout", "reachable_nodes"])
    def test_course_traversals_are_tripwired(self, variant, helper):
        result = run_only(BASE + VALUE[:1] + BACKWARD, variant)
        assert_fails(result, "backward_diamond", f"backward called dlcourse.compgraph.{helper}", errors=("HelperUsed",))

    def test_a_wrong_topological_order_does_not_cost_backward(self):
        result = run_only(BASE + VALUE[:1] + BACKWARD, {"topological_order": BFS_ORDER})
        assert_fails(result, "topological_order_tests", "wrong topological order")
        assert_passes(result, "backward_diamond", "backward_twice")


class TestGraphBugs:
    """Bugs in the logistic graph, the sigmoid derivative and the network loss."""

    def test_ready_made_sigmoid_instead_of_primitives(self):
        result = run_only(BASE + VALUE[:1] + LOGISTIC, {"logistic_regression_graph": READY_MADE_SIGMOID})
        assert_passes(result, "logistic_values")  # the values and gradients are right...
        assert_fails(result, "logistic_primitives", "'sigmoid'", "not a primitive")  # ...but not the graph

    def test_graph_cut_from_its_inputs(self):
        result = run_only(BASE + VALUE[:1] + LOGISTIC, {"logistic_regression_graph": WRAPPED_FLOAT})
        assert_fails(result, "logistic_values", "dh/dx1", "relative error")
        assert_fails(result, "logistic_primitives", "is not in the graph of h")

    def test_sign_flipped_logistic(self):
        result = run_only(BASE + VALUE[:1] + LOGISTIC, {"logistic_regression_graph": SIGN_FLIPPED_LOGISTIC})
        assert_fails(result, "logistic_values", "h for (x1, x2, w1, w2, b)", "wrong values")
        assert_passes(result, "logistic_primitives")

    @pytest.mark.parametrize("code, words", [
        (NAIVE_SIGMOID_DERIVATIVE, ["FloatingPointError", "overflow", "-1000"]),
        (NAN_SIGMOID_DERIVATIVE, ["FloatingPointError", "overflow", "1000"]),
        (CANCELLING_SIGMOID_DERIVATIVE, ["wrong values", "expected 1.9287498e-22, got 0"]),
        (OUTPUT_CONVENTION_SIGMOID_DERIVATIVE, ["wrong values"]),
        (SCALAR_ONLY_SIGMOID_DERIVATIVE, ["raised TypeError", "a NumPy array of floats"]),
        (NUMERICAL_SIGMOID_DERIVATIVE, ["wrong values"]),
    ], ids=["overflow", "nan", "cancellation", "output-convention", "scalar-only", "numerical-helper"])
    def test_wrong_sigmoid_derivative(self, code, words):
        result = run_only(["setup"] + SIGMOID, {"sigmoid_derivative": code})
        assert_fails(result, "sigmoid_derivative_tests", *words)
        if "FloatingPointError" not in words:
            assert "hint: exp of a large" not in result.cells["sigmoid_derivative_tests"].error

    def test_stable_where_is_a_correct_alternative(self):
        assert_passes(run_only(["setup"] + SIGMOID, {"sigmoid_derivative": STABLE_WHERE_SIGMOID_DERIVATIVE}),
                      "sigmoid_derivative_tests")

    def test_hidden_inputs_catch_a_loss_tuned_to_the_visible_data(self):
        """Dividing by 3 (the visible data set's size) instead of len(data): only the hidden data (5
        examples) shows it, against float64 finite differences of the NumPy loss."""
        buggy = mutate(A, "two_unit_network_loss", "(1.0 / len(data))", "(1.0 / 3)")
        result = run_only(BASE + NETWORK, buggy)
        assert_fails(result, "two_unit_network_loss_tests", "the loss on 5 examples", "has wrong values")
        error = result.cells["two_unit_network_loss_tests"].error
        assert "the loss on 3 examples" not in error and "not their mean" not in error
        assert_passes(result, "zero_init_symmetry")

    def test_summed_loss_instead_of_mean(self):
        buggy = mutate(A, "two_unit_network_loss", "loss = total * (1.0 / len(data))", "loss = total")
        result = run_only(BASE + NETWORK, buggy)
        assert_fails(result, "two_unit_network_loss_tests", "the loss on 3 examples", "3 times the expected",
                     "the sum of the squared errors, not their mean")

    def test_second_unit_reads_the_first_units_weight(self):
        buggy = mutate(A, "two_unit_network_loss", 'p["w21"] * x1', 'p["w11"] * x1')
        result = run_only(BASE + NETWORK, buggy)
        assert_fails(result, "two_unit_network_loss_tests", "the loss on 3 examples", "has wrong values")
        assert "not their mean" not in result.cells["two_unit_network_loss_tests"].error
        assert_fails(result, "zero_init_symmetry", "gradient of w21 vs w11", "from a zero start")


# ---------------------------------------------------------------- (3) helpers are not answers

def test_helpers_with_adapters_score_nothing():
    """dlcourse helpers behind a thin adapter, as a student could write them, in one run (each exercise is
    graded on its own): the course traversals reversed or sorted, finite differences as the derivative."""
    result = score_variant(A, {"topological_order": ON_REACHABLE_NODES, **BACKWARD_ON_REACHABLE_NODES,
                               "sigmoid_derivative": NUMERICAL_SIGMOID_DERIVATIVE}, skip=PLOTS)
    assert set(result.failed()) == {"topological_order_tests", "backward_diamond", "backward_twice",
                                    "sigmoid_derivative_tests"}, result.failed()
    result = score_variant(A, {"topological_order": ON_PRIVATE_LAYOUT, **BACKWARD_ON_PRIVATE_LAYOUT}, skip=PLOTS)
    assert set(result.failed()) == {"topological_order_tests", "backward_diamond", "backward_twice"}, result.failed()


# ---------------------------------------------------------------- samples, whole notebooks

def test_samples_replace_every_solution_cell_and_written_answer():
    cells = nbformat.read(source_notebook_path(A), as_version=4).cells
    solutions = {cell.get("id") for cell in cells if cell.metadata.get("nbgrader", {}).get("solution")}
    answers = {cell.get("id") for cell in cells if cell.cell_type == "markdown"
               and cell.metadata.get("nbgrader", {}).get("solution")}
    assert set(load_replacements(SAMPLES / "alternative.py")) == solutions
    partial = set(load_replacements(SAMPLES / "partial.py"))
    assert solutions - answers <= partial and len(answers - partial) == 1  # one question left unanswered


def test_ta_grades_cover_the_samples_answers_within_their_points():
    cells = nbformat.read(source_notebook_path(A), as_version=4).cells
    points = {cell.metadata.nbgrader.grade_id: cell.metadata.nbgrader.points for cell in cells
              if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution")}
    grades = json.loads((SAMPLES / "ta_grades.json").read_text())
    assert set(grades["sample-correct"]) == set(points)
    answered = {key for key in load_replacements(SAMPLES / "partial.py") if key in points}
    assert set(grades["sample-partial"]) == answered
    for student, given in grades.items():
        for question, grade in given.items():
            assert 0 <= grade["score"] <= points[question] and grade["comment"], (student, question)
    assert all(grade["score"] == points[q] for q, grade in grades["sample-correct"].items())
    assert any(0 < grade["score"] < points[q] for q, grade in grades["sample-partial"].items())


class TestSamples:
    """The reference, the alternative and the partial submission, executed whole (plots skipped)."""

    def test_reference_passes_every_test_cell(self):
        result = score_variant(A, skip=PLOTS)
        assert not result.failed(), result.failed()
        assert set(result.cells) == ALL_TEST_CELLS
        assert result.total() == (20, 20)

    def test_alternative_passes_every_test_cell(self):
        result = score_variant(A, load_replacements(SAMPLES / "alternative.py"), skip=PLOTS)
        assert not result.failed(), result.failed()
        assert result.total() == (20, 20)

    def test_partial_scores_strictly_between_zero_and_full(self):
        result = score_variant(A, load_replacements(SAMPLES / "partial.py"), skip=PLOTS)
        score, maximum = result.total()
        assert 0 < score < maximum, (score, maximum, result.failed())
        assert set(result.failed()) == {"sigmoid_derivative_tests", "two_unit_network_loss_tests", "backward_twice"}


def test_real_nbgrader_gives_the_alternative_full_marks_and_docks_the_partial(tmp_path):
    scores, process = autograde_variants(A, {"alternative": load_replacements(SAMPLES / "alternative.py"),
                                             "partial": load_replacements(SAMPLES / "partial.py")},
                                         workdir=tmp_path)
    notebook = source_notebook_path(A).stem
    cells = scores["alternative"].get(notebook)
    assert cells, f"the alternative was not graded: {scores}\n{process.stderr[-3000:]}"
    autograded = {gid: value for gid, value in cells.items() if gid in ALL_TEST_CELLS}
    assert set(autograded) == ALL_TEST_CELLS
    lost = {gid: (score, maximum) for gid, (score, maximum) in autograded.items() if score != maximum}
    assert not lost, f"the alternative lost points under nbgrader autograde: {lost}"
    partial = scores["partial"].get(notebook)
    assert partial, f"the partial submission was not graded: {scores}\n{process.stderr[-3000:]}"
    lost = {gid for gid, (score, maximum) in partial.items() if gid in ALL_TEST_CELLS and score != maximum}
    assert lost == {"sigmoid_derivative_tests", "two_unit_network_loss_tests", "backward_twice"}, partial


# ---------------------------------------------------------------- dlcourse/compgraph.py (no kernel)

class _Node:
    def __init__(self, data, grad, op="", label="", parents=()):
        self.data, self.grad, self.op, self.label, self.parents = data, grad, op, label, tuple(parents)


def _diamond():
    x, w = _Node(1.0, 0.0, label="x"), _Node(2.0, 0.0, label="w")
    a = _Node(2.0, 0.0, "*", "a", (x, w))
    b = _Node(3.0, 0.0, "+", "b", (a, x))
    c = _Node(6.0, 0.0, "*", "c", (b, a))
    return _Node(4.0, 0.0, "-", "d", (c, a)), (x, w, a, b, c)


def test_compgraph_lists_and_draws_every_node_once():
    from dlcourse.compgraph import draw_graph, graph_table, reachable_nodes

    x = _Node(2.0, 5.0, label="x")
    a = _Node(4.0, 2.0, "*", parents=(x, x))
    y = _Node(6.0, 1.0, "+", parents=(a, x))
    assert [id(n) for n in reachable_nodes(y)] == [id(y), id(a), id(x)]
    lines = graph_table([x, a, y]).splitlines()
    assert lines[1].split() == ["0", "x", "input", "2", "5"]
    assert lines[2].split() == ["1", "*", "*", "0,0", "4", "2"]
    assert lines[3].split() == ["2", "+", "+", "1,0", "6", "1"]
    figure = draw_graph(y, title="t")
    texts = [t.get_text() for t in figure.axes[0].texts if t.get_text()]  # arrows are empty annotations
    assert sorted(texts) == sorted(["x\nv=2\ng=5", "*\nv=4\ng=2", "+\nv=6\ng=1"])
    assert len(figure.axes[0].texts) - len(texts) == 4  # one arrow per parent edge: x->a twice, a->y, x->y
    import matplotlib.pyplot as plt
    plt.close(figure)


def test_reachable_nodes_is_neither_a_topological_order_nor_its_reverse():
    from dlcourse.compgraph import reachable_nodes

    d, (x, w, a, b, c) = _diamond()
    order = reachable_nodes(d)
    assert [n.label for n in order] == ["d", "c", "a", "b", "x", "w"]
    for listing in (order, order[::-1]):
        position = {id(n): i for i, n in enumerate(listing)}
        assert any(position[id(p)] > position[id(n)] for n in listing for p in n.parents)


def test_rebinding_restores_the_names_and_annotates_failures():
    from dlcourse.checks import CheckError
    from dlcourse.compgraph import HelperUsed, reachable_nodes, rebinding

    namespace = {"Value": "student's", "other": 1}

    def check(fail):
        assert namespace["Value"] == "reference" and "extra" in namespace
        if fail:
            raise CheckError("wrong h")
        return "ok"

    wrapped = rebinding(check, namespace, "logistic_regression_graph", Value="reference", extra=2)
    assert wrapped(False) == "ok" and namespace == {"Value": "student's", "other": 1}
    with pytest.raises(CheckError, match=r"wrong h \[graded with the course's own Value, extra in place of yours, "
                                         r"so this is logistic_regression_graph's own error\]"):
        wrapped(True)
    assert namespace == {"Value": "student's", "other": 1}

    d, _ = _diamond()
    tripped = rebinding(lambda: reachable_nodes(d), {}, "backward", forbid_traversal=True)
    with pytest.raises(HelperUsed, match="backward called dlcourse.compgraph.reachable_nodes"):
        tripped()
    assert len(reachable_nodes(d)) == 6  # the tripwire is off again
