"""Practical 01_computational_graph: buggy variants lose points, the alternative gets full marks.

Every buggy variant is executed with ``score_variant`` on the cells it needs only (the setup, the
engine, the cell under test and its test cells), so each costs one kernel start and a second or two.
"""

import nbformat
import pytest

from harness import assert_fails, assert_passes
from harness import (autograde_variants, load_replacements, mutate, score_variant, solution_code,
                     source_notebook_path)
from harness import ROOT

A = "01_computational_graph"
SAMPLES = ROOT / "samples" / A
ALL_IDS = [cell.get("id") for cell in nbformat.read(source_notebook_path(A), as_version=4).cells]
ENGINE = ["setup", "topological_order", "value_class"]
ENGINE_TESTS = ["topological_order_tests", "value_forward", "value_local_derivatives", "backward_accumulate",
                "backward_diamond", "backward_twice"]
LOGISTIC = ["logistic_regression_graph", "logistic_values", "logistic_primitives"]
SIGMOID = ["setup", "sigmoid_derivative", "sigmoid_derivative_tests"]
NETWORK = ["sigmoid_node", "two_unit_network_loss", "two_unit_network_loss_tests", "train_helper",
           "zero_init_symmetry"]
# Plots and illustrations: ordinary cells that no test cell depends on.
PLOTS = ["logistic_illustration", "sigmoid_experiment", "zero_init_experiment", "prelu_identity"]


def run_only(ids, replacements=None):
    """score_variant executing only the cells ``ids`` (every other code cell is skipped)."""
    return score_variant(A, replacements, skip=[i for i in ALL_IDS if i not in set(ids)])


# ---------------------------------------------------------------- (b) one test per bug of the issue

# A wrong local derivative in a primitive: each mutation must fail the primitive check, with a
# message naming the operation, while the forward pass still passes.
LOCAL_DERIVATIVE_BUGS = {
    "mul uses its own value": ("self.grad += other.data * out.grad", "self.grad += self.data * out.grad", "a * b"),
    "neg without the minus": ("self.grad -= out.grad  # d(-a)/da", "self.grad += out.grad  # d(-a)/da", "-a"),
    "sub second operand +1": ("other.grad -= out.grad", "other.grad += out.grad", "a - b"),
    "exp derivative is the input": ("self.grad += out.data * out.grad", "self.grad += self.data * out.grad",
                                    "a.exp()"),
    "reciprocal without the minus": ("self.grad += -out.data * out.data * out.grad",
                                     "self.grad += out.data * out.data * out.grad", "a.reciprocal()"),
}

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


class TestEngineBugs:
    """Bugs in the Value engine and its topological order: one short notebook run each."""

    @pytest.mark.parametrize("bug", sorted(LOCAL_DERIVATIVE_BUGS))
    def test_wrong_local_derivative_fails_the_primitive_check(self, bug):
        old, new, what = LOCAL_DERIVATIVE_BUGS[bug]
        result = run_only(ENGINE + ["value_forward", "value_local_derivatives"], mutate(A, "value_class", old, new))
        assert_passes(result, "value_forward")  # the forward pass is right: only the derivative is wrong
        assert_fails(result, "value_local_derivatives", f"y = {what}", "local derivative")

    def test_gradient_overwritten_instead_of_accumulated(self):
        code = solution_code(A, "value_class")
        buggy = {"value_class": code.replace("self.grad += ", "self.grad = ").replace("other.grad += ", "other.grad = ")
                 .replace("self.grad -= out.grad", "self.grad = -out.grad")
                 .replace("other.grad -= out.grad", "other.grad = -out.grad")}
        assert buggy["value_class"].count("grad = ") >= 8
        result = run_only(ENGINE + ["backward_accumulate"], buggy)
        assert_fails(result, "backward_accumulate", "x * x", "used twice", "+=")

    def test_wrong_topological_order_on_a_diamond(self):
        result = run_only(ENGINE + ["topological_order_tests", "value_local_derivatives", "backward_diamond"],
                          {"topological_order": BFS_ORDER})
        assert_fails(result, "topological_order_tests", "diamond", "wrong topological order", "comes before its parent")
        assert_fails(result, "backward_diamond", "in the diamond", "processed once, after all the nodes that use it")
        assert_passes(result, "value_local_derivatives")  # single-operation graphs are still right

    def test_shared_nodes_visited_twice(self):
        result = run_only(ENGINE + ["topological_order_tests", "backward_accumulate", "backward_diamond"],
                          {"topological_order": NO_VISITED_SET})
        assert_fails(result, "topological_order_tests", "appears twice", "visited")
        assert_fails(result, "backward_diamond", "in the diamond")  # the shared node 'a' passes its gradient on twice
        assert_passes(result, "backward_accumulate")  # a repeated leaf (x * x) is harmless

    def test_second_backward_call_accumulates_instead_of_resetting(self):
        buggy = mutate(A, "value_class", "        for node in order:\n            node.grad = 0.0\n", "")
        result = run_only(ENGINE + ENGINE_TESTS, buggy)
        assert_passes(result, "value_local_derivatives", "backward_accumulate", "backward_diamond")
        assert_fails(result, "backward_twice", "second time", "reset")


class TestGraphBugs:
    """Bugs in the logistic graph, the sigmoid derivative and the network loss."""

    def test_ready_made_sigmoid_instead_of_primitives(self):
        result = run_only(ENGINE + LOGISTIC, {"logistic_regression_graph": READY_MADE_SIGMOID})
        assert_passes(result, "logistic_values")  # the values and gradients are right...
        assert_fails(result, "logistic_primitives", "'sigmoid'", "not a primitive")  # ...but not the graph

    def test_graph_cut_from_its_inputs(self):
        result = run_only(ENGINE + LOGISTIC, {"logistic_regression_graph": WRAPPED_FLOAT})
        assert_fails(result, "logistic_values", "dh/dx1", "relative error")
        assert_fails(result, "logistic_primitives", "is not in the graph of h")

    @pytest.mark.parametrize("code, words", [
        (NAIVE_SIGMOID_DERIVATIVE, ["overflowed", "-1000"]),
        (NAN_SIGMOID_DERIVATIVE, ["overflowed", "1000"]),
        (CANCELLING_SIGMOID_DERIVATIVE, ["wrong values", "expected 1.9287498e-22, got 0"]),
    ], ids=["overflow", "nan", "cancellation"])
    def test_unstable_sigmoid_derivative(self, code, words):
        result = run_only(SIGMOID, {"sigmoid_derivative": code})
        assert_fails(result, "sigmoid_derivative_tests", *words)

    def test_hidden_inputs_catch_a_loss_tuned_to_the_visible_data(self):
        """Dividing by 3 (the visible data set's size) instead of len(data): only the hidden data (5
        examples) shows it, against float64 finite differences of the NumPy loss."""
        buggy = mutate(A, "two_unit_network_loss", "(1.0 / len(data))", "(1.0 / 3)")
        result = run_only(ENGINE + NETWORK, buggy)
        assert_fails(result, "two_unit_network_loss_tests", "the loss on 5 examples", "mean over the examples")
        assert "the loss on 3 examples" not in result.cells["two_unit_network_loss_tests"].error
        assert_passes(result, "zero_init_symmetry")

    def test_summed_loss_instead_of_mean(self):
        buggy = mutate(A, "two_unit_network_loss", "loss = total * (1.0 / len(data))", "loss = total")
        result = run_only(ENGINE + NETWORK, buggy)
        assert_fails(result, "two_unit_network_loss_tests", "the loss on 3 examples", "not a sum")


# ---------------------------------------------------------------- (a), (c), (d) whole notebooks

def test_alternative_replaces_every_solution_cell():
    solution_ids = {cell.get("id") for cell in nbformat.read(source_notebook_path(A), as_version=4).cells
                    if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"}
    assert set(load_replacements(SAMPLES / "alternative.py")) == solution_ids
    assert set(load_replacements(SAMPLES / "partial.py")) == solution_ids


class TestSamples:
    """The reference, the alternative and the partial submission, executed whole (plots skipped)."""

    def test_reference_passes_every_test_cell(self):
        result = score_variant(A, skip=PLOTS)
        assert not result.failed(), result.failed()
        tests = {cell.metadata.nbgrader.grade_id for cell in nbformat.read(source_notebook_path(A), as_version=4).cells
                 if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")}
        assert set(result.cells) == tests
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


# ---------------------------------------------------------------- (e) the real nbgrader

def test_real_nbgrader_gives_the_alternative_full_marks_and_docks_the_partial(tmp_path):
    scores, process = autograde_variants(A, {"alternative": load_replacements(SAMPLES / "alternative.py"),
                                             "partial": load_replacements(SAMPLES / "partial.py")},
                                         workdir=tmp_path)
    notebook = source_notebook_path(A).stem
    cells = scores["alternative"].get(notebook)
    assert cells, f"the alternative was not graded: {scores}\n{process.stderr[-3000:]}"
    assert len(cells) == 11
    lost = {gid: (score, maximum) for gid, (score, maximum) in cells.items() if score != maximum}
    assert not lost, f"the alternative lost points under nbgrader autograde: {lost}"
    partial = scores["partial"].get(notebook)
    assert partial, f"the partial submission was not graded: {scores}\n{process.stderr[-3000:]}"
    lost = {gid for gid, (score, maximum) in partial.items() if score != maximum}
    assert lost == {"sigmoid_derivative_tests", "two_unit_network_loss_tests", "backward_twice"}, partial


# ---------------------------------------------------------------- dlcourse/compgraph.py (no kernel)

class _Node:
    def __init__(self, data, grad, op="", label="", parents=()):
        self.data, self.grad, self.op, self.label, self.parents = data, grad, op, label, tuple(parents)


def test_compgraph_lists_and_draws_every_node_once():
    from dlcourse.compgraph import draw_graph, graph_table, reachable_nodes

    x = _Node(2.0, 5.0, label="x")
    a = _Node(4.0, 2.0, "*", parents=(x, x))
    y = _Node(6.0, 1.0, "+", parents=(a, x))
    assert {id(n) for n in reachable_nodes(y)} == {id(x), id(a), id(y)} and len(reachable_nodes(y)) == 3
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
