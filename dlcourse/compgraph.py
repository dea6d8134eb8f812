"""Listing and drawing scalar computational graphs (practical 01_computational_graph), and the hidden
tests' tools to grade one answer at a time.

Works with any node object that has ``.data`` (a number), ``.grad`` (a number), ``.parents`` (a
tuple of nodes), ``.op`` (a string, '' for an input) and optionally ``.label`` (a string): the
students' ``Value`` class. Nothing here depends on the students' code being right: the layout uses its
own traversal, so a broken ``topological_order`` cannot break the drawing.

Nothing here is an answer: ``reachable_nodes`` lists a graph breadth-first from its root (root first),
which is not a topological order, nor is its reverse; the drawing's layout (depths) is private, and
``forbidding_traversal`` makes every traversal of this module fail while a graded function runs, so a
student's ``topological_order`` or ``backward`` cannot be built on it.
"""

import functools

from dlcourse.checks import CheckError

_forbidden = []  # names of the graded functions running under forbidding_traversal (a stack)


class HelperUsed(CheckError):
    """Raised when a graded function calls this module's traversals (see forbidding_traversal)."""


def _refuse_if_forbidden(helper):
    if _forbidden:
        raise HelperUsed(f"{_forbidden[-1]} called dlcourse.compgraph.{helper}, which the graders forbid here: "
                         f"visit the graph yourself through .parents")


def _nodes_and_depths(root):
    """Every node reachable from ``root`` with its depth (longest path from an input), iteratively."""
    _refuse_if_forbidden("_nodes_and_depths (the layout of draw_graph)")
    depth = {}
    nodes = {}
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if key in depth:
            continue
        parents = tuple(getattr(node, "parents", ()))
        if expanded:
            depth[key] = 1 + max((depth[id(p)] for p in parents), default=-1)
            nodes[key] = node
            continue
        stack.append((node, True))
        stack.extend((p, False) for p in parents if id(p) not in depth)
    return nodes, depth


def node_name(node):
    """A short name for a node: its label, else its operation, else 'input' (or 'const' for a number)."""
    label = getattr(node, "label", "") or ""
    if label:
        return label
    op = getattr(node, "op", "") or ""
    return op if op else "const"


def graph_table(nodes):
    """A text table of graph nodes, one line each: index, name, operation, parents, value and gradient.

    Inputs:
    - nodes: a list of nodes, e.g. ``topological_order(root)`` or ``reachable_nodes(root)`` (printed in that order).
    Returns:
    - the table as a string (print it).
    """
    nodes = list(nodes)
    index = {id(node): i for i, node in enumerate(nodes)}
    lines = [f"{'#':>3}  {'node':<8} {'op':<6} {'parents':<10} {'value':>12} {'grad':>12}"]
    for i, node in enumerate(nodes):
        parents = ",".join(str(index.get(id(p), "?")) for p in getattr(node, "parents", ()))
        op = getattr(node, "op", "") or "input"
        lines.append(f"{i:>3}  {node_name(node):<8} {op:<6} {parents:<10} "
                     f"{float(node.data):>12.6g} {float(node.grad):>12.6g}")
    return "\n".join(lines)


def draw_graph(root, title=None, show_grad=True):
    """Draw the graph that ends at ``root``, inputs on the left, with each node's value and gradient.

    Nodes are placed in columns by depth (longest path from an input); an arrow goes from every
    parent to its child. Each box reads: the node's name (label or operation), ``v=`` its value and
    ``g=`` its gradient (as left by the last ``backward()``).
    Inputs:
    - root: the output node; title: an optional title; show_grad: also print the gradients.
    Returns:
    - the matplotlib Figure.
    """
    import matplotlib.pyplot as plt  # imported here: listing a graph should not cost matplotlib's import
    from matplotlib.patches import FancyBboxPatch

    nodes, depth = _nodes_and_depths(root)
    columns = {}
    for key in sorted(nodes, key=lambda k: depth[k]):
        columns.setdefault(depth[key], []).append(key)
    height = max(len(keys) for keys in columns.values())
    position = {}
    for column, keys in columns.items():
        # Sort each column by the mean row of its parents to reduce crossings.
        keys.sort(key=lambda k: sum(position.get(id(p), (0, 0))[1] for p in nodes[k].parents)
                  / max(1, len(nodes[k].parents)))
        for row, key in enumerate(keys):
            position[key] = (column, (height - 1) / 2 - (len(keys) - 1) / 2 + row)
    width = max(columns) + 1
    figure, axis = plt.subplots(figsize=(1.9 * width + 1, 1.1 * height + 1.2))
    box_w, box_h = 0.72, 0.62
    for key, node in nodes.items():
        x, y = position[key]
        for parent in node.parents:
            px, py = position[id(parent)]
            axis.annotate("", xy=(x - box_w / 2, y), xytext=(px + box_w / 2, py),
                          arrowprops=dict(arrowstyle="->", color="0.4", lw=1))
    for key, node in nodes.items():
        x, y = position[key]
        is_input = not node.parents
        axis.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                      boxstyle="round,pad=0.02", linewidth=1.2,
                                      facecolor="#e8f0fe" if is_input else "#fff4e0",
                                      edgecolor="#3367d6" if is_input else "#e08000"))
        text = f"{node_name(node)}\nv={float(node.data):.4g}"
        if show_grad:
            text += f"\ng={float(node.grad):.4g}"
        axis.text(x, y, text, ha="center", va="center", fontsize=8, family="monospace")
    axis.set_xlim(-0.6, width - 0.4)
    axis.set_ylim(-0.7, height - 0.3)
    axis.invert_yaxis()
    axis.axis("off")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def reachable_nodes(root):
    """Every node reachable from ``root`` through ``.parents`` (root included), each once, breadth-first from
    the root: the root, then its parents, then theirs, each node at its shortest distance from the root.

    For listing or inspecting a graph (``graph_table(reachable_nodes(h))``, the set of a graph's nodes).
    It is not a topological order (the root comes first, before its parents), and neither is its reverse:
    in ``b = a + x, c = b * a, d = c - a``, ``a`` is one step from ``d`` and ``b`` two, so ``a`` is listed
    before ``b``, and reversed, ``b`` comes before its parent ``a``.
    Inputs:
    - root: a node with a ``.parents`` tuple.
    Returns:
    - a list of nodes, root first.
    """
    _refuse_if_forbidden("reachable_nodes")
    order, seen, index = [root], {id(root)}, 0
    while index < len(order):
        for parent in tuple(getattr(order[index], "parents", ())):
            if id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
        index += 1
    return order


def forbidding_traversal(function, graded):
    """``function`` wrapped so that, while it runs, this module's traversals (reachable_nodes, draw_graph)
    raise HelperUsed naming ``graded``: a hidden test's tripwire, so that the graded function cannot use
    them. Inputs: function, any callable; graded, the name of the graded function. Returns: the wrapper."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        _forbidden.append(graded)
        try:
            return function(*args, **kwargs)
        finally:
            _forbidden.pop()
    return wrapper


def rebinding(check, namespace, graded, forbid_traversal=False, **names):
    """``check`` wrapped so that, while it runs, each of ``names`` in ``namespace`` (the notebook's globals)
    is bound to the given object (the test's reference implementation of an earlier exercise), and
    restored afterwards, even when the check fails. So a test of ``graded`` grades that function alone:
    a wrong answer elsewhere costs nothing here. A CheckError raised by the check says so.

    Inputs:
    - check: the check function to wrap; namespace: a dict (``globals()`` of the notebook).
    - graded: the name of the function under test, for the messages.
    - forbid_traversal: also make this module's traversals fail while the check runs (see
      forbidding_traversal; the check itself must not use them then).
    - names: name -> the object bound to that name during the check.
    Returns:
    - the wrapper (same arguments and result as ``check``).
    """
    note = (f" [graded with the course's own {', '.join(sorted(names))} in place of yours, so this is "
            f"{graded}'s own error]") if names else ""
    if forbid_traversal:
        check = forbidding_traversal(check, graded)

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        missing = object()
        saved = {name: namespace.get(name, missing) for name in names}
        namespace.update(names)
        try:
            return check(*args, **kwargs)
        except CheckError as error:
            if not note or isinstance(error, HelperUsed) or note in str(error):
                raise
            raise CheckError(f"{error}{note}") from None
        finally:
            for name, value in saved.items():
                if value is missing:
                    namespace.pop(name, None)
                else:
                    namespace[name] = value
    return wrapper


__all__ = ["graph_table", "draw_graph", "node_name", "reachable_nodes", "forbidding_traversal", "rebinding",
           "HelperUsed"]
