"""Listing and drawing scalar computational graphs (practical 01_computational_graph).

Works with any node object that has ``.data`` (a number), ``.grad`` (a number), ``.parents`` (a
tuple of nodes), ``.op`` (a string, '' for an input) and optionally ``.label`` (a string): the
students' ``Value`` class. Nothing here depends on the students' code being right: the layout uses its
own traversal, so a broken ``topological_order`` cannot break the drawing.
"""


def _nodes_and_depths(root):
    """Every node reachable from ``root`` with its depth (longest path from an input), iteratively."""
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
    - nodes: a list of nodes, e.g. ``topological_order(root)`` (printed in that order).
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
    """Every node reachable from ``root`` through ``.parents`` (root included), each once, in no
    particular order. An independent traversal, used by the tests to inspect a student's graph."""
    nodes, _ = _nodes_and_depths(root)
    return list(nodes.values())


__all__ = ["graph_table", "draw_graph", "node_name", "reachable_nodes"]
