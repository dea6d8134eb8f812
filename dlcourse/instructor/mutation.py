"""Mutation operators: one small, plausible bug in the code between a cell's solution markers.

``cell_mutants(cell_id, source)`` parses a solution cell and returns its *mutants*: copies of the cell
that differ from it by exactly one change to a node lying wholly between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` (markers.solution_line_spans: the locked scaffolding around the answer, the stub's
``return`` line, the tests and every other cell are never changed). The operators, in ``OPERATORS`` order:

    arithmetic  + <-> -, * <-> /, // -> /, ** -> *, @ -> * (also in +=, -=...); a unary minus dropped
    comparison  < <-> <=, > <-> >=, == <-> !=, in <-> not in, is <-> is not
    boolean     and <-> or, & <-> |, ``not`` dropped
    reduction   sum <-> mean (np, torch, tf's reduce_sum/reduce_mean, methods), max <-> min, argmax <-> argmin
    axis        axis=/dim= (keyword, or the axis argument of a reduction) 0 <-> 1, -1 <-> -2; keepdims=True dropped
    transpose   ``.T``/``.mT`` dropped, ``x.transpose(...)``/``x.t()``/``x.permute(...)``/``np.transpose(x)`` -> x
    slice       a slice's start + 1, its stop - 1 and + 1
    range       range(stop) -> stop - 1, stop + 1; range(start, ...) -> start + 1
    constant    a number: 0 <-> 1, n -> n + 1, and its sign flipped; True <-> False
    return      an element of a returned tuple or a value of a returned dict (also a tuple or dict literal
                assigned to the name the function returns) -> None; two returned elements swapped;
                ``return x`` -> ``return None``
    delete      a simple statement (assignment, call, raise, assert) -> ``pass``

Not mutated: strings, f-strings and the arguments of ``print`` (nbgrader never grades what is printed,
so such a mutant could only survive), docstrings, and the constant of an axis (the axis operator owns it).

Each mutant is rendered as text by splicing only the changed node (or operator symbol, or attribute name)
into the cell, so the rest of the cell keeps its layout and comments, and is checked: the mutant's text must
parse to exactly the intended syntax tree (else it is dropped as a rendering failure), and it must compile
(else it is counted as *discarded*: ``nonlocal`` left without a binding, for example). Identical mutants
are kept once. A mutant's ``key`` (``<cell id>:<operator>:<8 hex digits>``) is computed from the changed
lines' text, not their numbers, so it survives edits elsewhere in the cell (equivalent-mutant lists use it).
"""

import ast
import copy
import hashlib
from dataclasses import dataclass

from dlcourse.instructor.markers import solution_line_spans
from dlcourse.instructor.pysource import parse as parse_python

OPERATORS = ("arithmetic", "comparison", "boolean", "reduction", "axis", "transpose", "slice", "range",
             "constant", "return", "delete")

ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
              ast.Pow: ast.Mult, ast.MatMult: ast.Mult}
BITWISE = {ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
COMPARISON = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
              ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**",
           ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
           ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.And: "and", ast.Or: "or"}
REDUCTIONS = {"sum": "mean", "mean": "sum", "nansum": "nanmean", "nanmean": "nansum", "reduce_sum": "reduce_mean",
              "reduce_mean": "reduce_sum", "max": "min", "min": "max", "amax": "amin", "amin": "amax",
              "nanmax": "nanmin", "nanmin": "nanmax", "reduce_max": "reduce_min", "reduce_min": "reduce_max",
              "argmax": "argmin", "argmin": "argmax", "maximum": "minimum", "minimum": "maximum"}
BUILTIN_REDUCTIONS = {"max": "min", "min": "max"}
AXIS_KEYWORDS = ("axis", "dim")
KEEPDIMS_KEYWORDS = ("keepdims", "keepdim")
# Functions and methods whose first positional argument after the data (a method's first) is an axis.
AXIS_CALLS = {"sum", "mean", "max", "min", "argmax", "argmin", "std", "var", "prod", "cumsum", "cumprod", "all",
              "any", "softmax", "log_softmax", "logsumexp", "nansum", "nanmean", "amax", "amin", "median",
              "concatenate", "cat", "stack", "expand_dims", "unsqueeze", "squeeze", "reduce_sum", "reduce_mean",
              "reduce_max", "reduce_min"}
MODULES = {"np", "numpy", "torch", "tf", "F", "keras", "ops", "jnp", "scipy", "math"}
TRANSPOSE_ATTRIBUTES = ("T", "mT")
TRANSPOSE_CALLS = ("transpose", "t", "permute", "swapaxes")
DELETABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Raise, ast.Assert)


@dataclass(frozen=True)
class Mutant:
    """One mutant of a solution cell: what changed, where, and the whole mutated cell."""
    cell_id: str
    operator: str  # one of OPERATORS
    line: int  # the first changed line, 1-based in the cell's source
    before: str  # the changed lines as they were
    after: str  # the same lines in the mutant
    source: str  # the whole mutated cell
    key: str  # "<cell id>:<operator>:<8 hex digits>", stable across edits elsewhere in the cell

    def diff(self):
        """The change as a short two-part diff: '- old line' then '+ new line' (indentation removed)."""
        return "\n".join([f"- {line.strip()}" for line in self.before.splitlines()] +
                         [f"+ {line.strip()}" for line in self.after.splitlines()])


@dataclass
class CellMutants:
    """The mutants of one cell and how many generated ones did not compile (discarded, never counted)."""
    mutants: list
    discarded: int = 0
    rendering_failures: int = 0


# ----------------------------------------------------------------------------------------------
# Small constructors
# ----------------------------------------------------------------------------------------------

def number_node(value):
    """A number as the parser writes it: negative numbers are a unary minus on a positive constant."""
    if value < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    return ast.Constant(value)


def number_value(node):
    """The int or float a node spells (``3``, ``-1.5``), or None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)):
        return -node.operand.value
    return None


def shifted(node, delta):
    """``node + delta`` (a new constant when node is a number)."""
    value = number_value(node)
    if value is not None and isinstance(value, int):
        return number_node(value + delta)
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(left=copy.deepcopy(node), op=op, right=ast.Constant(abs(delta)))


def with_fields(node, **changes):
    """A shallow copy of ``node`` with some fields replaced."""
    new = copy.copy(node)
    for name, value in changes.items():
        setattr(new, name, value)
    return new


def call_name(call):
    """The name a call is made by: ``f`` for ``f(...)`` and ``np.f(...)`` and ``x.f(...)``."""
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def is_module_call(call):
    """``np.f(x, ...)`` (a library function, data first) rather than ``x.f(...)`` (a method)."""
    func = call.func
    return isinstance(func, ast.Attribute) and (
        (isinstance(func.value, ast.Name) and func.value.id in MODULES) or isinstance(func.value, ast.Attribute)
        and isinstance(func.value.value, ast.Name) and func.value.value.id in MODULES)


def positional_axis(call):
    """The index in ``call.args`` of a reduction's positional axis argument, when it is a number; else None."""
    if call_name(call) not in AXIS_CALLS or isinstance(call.func, ast.Name):
        return None
    index = 1 if is_module_call(call) else 0
    if len(call.args) > index and isinstance(number_value(call.args[index]), int):
        return index
    return None


def flipped_axis(axis):
    return {0: 1, 1: 0, -1: -2, -2: -1}.get(axis, axis - 1 if axis > 0 else axis + 1)


# ----------------------------------------------------------------------------------------------
# The operators: node -> [(node to replace, its replacement)]
# ----------------------------------------------------------------------------------------------

def arithmetic(node, context):
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC and not _is_text(node):
        return [(node, with_fields(node, op=ARITHMETIC[type(node.op)]()))]
    if isinstance(node, ast.AugAssign) and type(node.op) in ARITHMETIC:
        return [(node, with_fields(node, op=ARITHMETIC[type(node.op)]()))]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and number_value(node) is None:
        return [(node, node.operand)]
    return []


def comparison(node, context):
    if not isinstance(node, ast.Compare):
        return []
    return [(node, with_fields(node, ops=node.ops[:i] + [COMPARISON[type(op)]()] + node.ops[i + 1:]))
            for i, op in enumerate(node.ops) if type(op) in COMPARISON]


def boolean(node, context):
    if isinstance(node, ast.BoolOp):
        return [(node, with_fields(node, op=ast.Or() if isinstance(node.op, ast.And) else ast.And()))]
    if isinstance(node, ast.BinOp) and type(node.op) in BITWISE:
        return [(node, with_fields(node, op=BITWISE[type(node.op)]()))]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return [(node, node.operand)]
    return []


def reduction(node, context):
    if not isinstance(node, ast.Call):
        return []
    if isinstance(node.func, ast.Attribute) and node.func.attr in REDUCTIONS:
        func = with_fields(node.func, attr=REDUCTIONS[node.func.attr])
        return [(node.func, func)]
    if isinstance(node.func, ast.Name) and node.func.id in BUILTIN_REDUCTIONS:
        return [(node.func, with_fields(node.func, id=BUILTIN_REDUCTIONS[node.func.id]))]
    return []


def axis(node, context):
    if not isinstance(node, ast.Call):
        return []
    found = []
    for keyword in node.keywords:
        value = number_value(keyword.value)
        if keyword.arg in AXIS_KEYWORDS and isinstance(value, int):
            found.append((keyword.value, number_node(flipped_axis(value))))
        if keyword.arg in KEEPDIMS_KEYWORDS and isinstance(keyword.value, ast.Constant) and keyword.value.value is True:
            found.append((node, with_fields(node, keywords=[k for k in node.keywords if k is not keyword])))
    index = positional_axis(node)
    if index is not None:
        found.append((node.args[index], number_node(flipped_axis(number_value(node.args[index])))))
    return found


def transpose(node, context):
    if (isinstance(node, ast.Attribute) and node.attr in TRANSPOSE_ATTRIBUTES
            and isinstance(node.ctx, ast.Load)):
        return [(node, node.value)]
    if isinstance(node, ast.Call) and call_name(node) in TRANSPOSE_CALLS and isinstance(node.func, ast.Attribute):
        if is_module_call(node):
            return [(node, node.args[0])] if node.args else []
        return [(node, node.func.value)]
    return []


def slice_bounds(node, context):
    if not isinstance(node, ast.Slice):
        return []
    found = [(node.lower, shifted(node.lower, 1))] if node.lower is not None else []
    if node.upper is not None:
        found += [(node.upper, shifted(node.upper, -1)), (node.upper, shifted(node.upper, 1))]
    return found


def range_bounds(node, context):
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and 1 <= len(node.args) <= 3 and not node.keywords):
        return []
    stop = node.args[0] if len(node.args) == 1 else node.args[1]
    found = [(stop, shifted(stop, -1)), (stop, shifted(stop, 1))]
    if len(node.args) >= 2:
        found.insert(0, (node.args[0], shifted(node.args[0], 1)))
    return found


def constant(node, context):
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return [(node, ast.Constant(not node.value))]
    value = number_value(node)
    if value is None or node in context["axis_constants"]:
        return []
    if isinstance(node, ast.Constant) and isinstance(context["parents"].get(node), ast.UnaryOp) \
            and number_value(context["parents"][node]) is not None:
        return []  # -c is mutated as one number, by its unary minus node
    changed = 1 if value == 0 else 0 if value == 1 else value + 1
    found = [(node, number_node(type(value)(changed)))]
    parent = context["parents"].get(node)
    if value != 0 and not (isinstance(parent, ast.BinOp) and parent.right is node
                           and isinstance(parent.op, (ast.Add, ast.Sub))):
        found.append((node, number_node(-value)))  # (x + c -> x + -c is the arithmetic x - c again)
    return found


def returned(node, context):
    if isinstance(node, ast.Return) and node.value is not None:
        if isinstance(node.value, (ast.Tuple, ast.Dict)):
            return _container_mutants(node.value)
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            return [(node.value, ast.Constant(None))]
        return []
    if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, (ast.Tuple, ast.Dict)) and node.targets[0].id in context["returned_names"]):
        return _container_mutants(node.value)
    return []


def delete(node, context):
    if not isinstance(node, DELETABLE) or isinstance(node, ast.Expr) and not isinstance(node.value, ast.Call):
        return []
    if isinstance(node, ast.Expr) and call_name(node.value) == "print":
        return []
    return [(node, ast.Pass())]


OPERATOR_FUNCTIONS = {"arithmetic": arithmetic, "comparison": comparison, "boolean": boolean,
                      "reduction": reduction, "axis": axis, "transpose": transpose, "slice": slice_bounds,
                      "range": range_bounds, "constant": constant, "return": returned, "delete": delete}


def _is_text(node):
    """A BinOp on strings (concatenation, % formatting): not arithmetic."""
    return any(isinstance(side, ast.JoinedStr) or isinstance(side, ast.Constant) and isinstance(side.value, str)
               for side in (node.left, node.right))


def _container_mutants(container):
    """Each element of a tuple (each value of a dict) -> None, and each two neighbouring elements swapped."""
    elements = container.elts if isinstance(container, ast.Tuple) else container.values
    found = [(element, ast.Constant(None)) for element in elements
             if not (isinstance(element, ast.Constant) and element.value is None)]
    if isinstance(container, ast.Tuple):
        for i in range(len(elements) - 1):
            if ast.dump(elements[i]) != ast.dump(elements[i + 1]):
                swapped = list(elements)
                swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
                found.append((container, with_fields(container, elts=swapped)))
    return found


# ----------------------------------------------------------------------------------------------
# Where to mutate, rendering, checking
# ----------------------------------------------------------------------------------------------

def _parents(tree):
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _unobservable(node, parents):
    """Inside an f-string, a ``print(...)`` call or a docstring: nothing a test reads."""
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.JoinedStr) or isinstance(parent, ast.Call) and call_name(parent) == "print":
            return True
        if isinstance(parent, ast.Expr) and isinstance(node, ast.Constant) and isinstance(node.value, str):
            return True
        node = parent
    return False


def _returned_names(tree):
    """Names returned by a ``return name`` of any function of the cell."""
    return {node.value.id for node in ast.walk(tree)
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Name)}


def _context(tree):
    parents = _parents(tree)
    axis_constants = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            axis_constants |= {keyword.value for keyword in node.keywords if keyword.arg in AXIS_KEYWORDS}
            index = positional_axis(node)
            if index is not None:
                axis_constants.add(node.args[index])
    axis_constants |= {parents[n] for n in list(axis_constants) if isinstance(parents.get(n), ast.UnaryOp)}
    axis_constants |= {n.operand for n in list(axis_constants) if isinstance(n, ast.UnaryOp)}
    return {"parents": parents, "axis_constants": axis_constants, "returned_names": _returned_names(tree)}


def _inside(node, spans):
    return hasattr(node, "lineno") and any(first <= node.lineno and node.end_lineno <= last
                                           for first, last in spans)


def candidate_changes(tree, spans, operators=OPERATORS):
    """[(operator, node to replace, replacement)] for the nodes wholly inside ``spans``, in source order."""
    context = _context(tree)
    found = []
    for node in ast.walk(tree):
        if not _inside(node, spans) or _unobservable(node, context["parents"]):
            continue
        for rank, name in enumerate(operators):
            for target, replacement in OPERATOR_FUNCTIONS[name](node, context):
                if _inside(target, spans):
                    found.append(((target.lineno, target.col_offset, rank, len(found)), name, target, replacement))
    return [(name, target, replacement) for _, name, target, replacement in sorted(found, key=lambda f: f[0])]


def _offset(lines, line, column):
    """The character offset in the joined text of (1-based line, UTF-8 byte column), as the ast gives them."""
    before = sum(len(text) for text in lines[:line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:column].decode("utf-8", errors="replace"))


def _span(lines, node):
    return _offset(lines, node.lineno, node.col_offset), _offset(lines, node.end_lineno, node.end_col_offset)


def _gap_splice(lines, left, right, old, new):
    """Replace the operator ``old`` written between two nodes by ``new`` (None if the gap is not just it)."""
    start, end = _offset(lines, left.end_lineno, left.end_col_offset), _offset(lines, right.lineno, right.col_offset)
    gap = "".join(lines)[start:end]
    if gap.replace("(", "").replace(")", "").replace("\\", "").split() != [old]:
        return None
    return start, end, gap.replace(old, new, 1)


def _operator_splices(lines, target, replacement):
    """Text splices that write only a changed operator symbol or attribute name; None when not applicable."""
    same_operands = {ast.BinOp: ("left", "right"), ast.AugAssign: ("target", "value"), ast.BoolOp: ("values",),
                     ast.Compare: ("left", "comparators"), ast.Attribute: ("value",)}.get(type(target))
    if type(target) is not type(replacement) or not same_operands or any(
            getattr(target, name) is not getattr(replacement, name) for name in same_operands):
        return None
    if isinstance(target, (ast.BinOp, ast.AugAssign)):
        left, right = (target.left, target.right) if isinstance(target, ast.BinOp) else (target.target, target.value)
        suffix = "=" if isinstance(target, ast.AugAssign) else ""
        splice = _gap_splice(lines, left, right, SYMBOLS[type(target.op)] + suffix,
                             SYMBOLS[type(replacement.op)] + suffix)
        return [splice] if splice else None
    if isinstance(target, ast.BoolOp):
        old, new = SYMBOLS[type(target.op)], SYMBOLS[type(replacement.op)]
        splices = [_gap_splice(lines, a, b, old, new) for a, b in zip(target.values, target.values[1:])]
        return splices if all(splices) else None
    if isinstance(target, ast.Compare):
        operands = [target.left] + target.comparators
        changed = [i for i, (a, b) in enumerate(zip(target.ops, replacement.ops)) if type(a) is not type(b)]
        if len(changed) != 1 or type(target.ops[changed[0]]) not in SYMBOLS:
            return None
        i = changed[0]
        splice = _gap_splice(lines, operands[i], operands[i + 1], SYMBOLS[type(target.ops[i])],
                             SYMBOLS.get(type(replacement.ops[i]), ""))
        return [splice] if splice and type(replacement.ops[i]) in SYMBOLS else None
    if isinstance(target, ast.Attribute):
        start, end = _span(lines, target)
        return [(end - len(target.attr), end, replacement.attr)] if "".join(lines)[end - len(target.attr):end] \
            == target.attr else None
    return None


def _node_splices(lines, target, replacement):
    """The whole node written again: as it unparses, then parenthesised (for a context of higher precedence)."""
    start, end = _span(lines, target)
    text = ast.unparse(replacement)
    if isinstance(target, ast.stmt):
        return [[(start, end, text)]]
    bare = [[(start, end, text[1:-1])]] if isinstance(replacement, ast.Tuple) and text.startswith("(") else []
    return bare + [[(start, end, text)], [(start, end, f"({text})")]]


def renderings(source, target, replacement):
    """Candidate texts of the cell with ``target`` replaced by ``replacement``, the most local first: the
    changed operator symbol or attribute name alone, then the whole node written again (parenthesised)."""
    lines = source.splitlines(keepends=True)
    texts = []
    for splices in [_operator_splices(lines, target, replacement)] + _node_splices(lines, target, replacement):
        if splices:
            text = source
            for start, end, new in sorted(splices, reverse=True):
                text = text[:start] + new + text[end:]
            texts.append(text)
    return texts


def replaced_dump(tree, target, replacement):
    """ast.dump of ``tree`` with ``target`` replaced (the tree itself is left as it was)."""
    index = next(i for i, node in enumerate(ast.walk(tree)) if node is target)
    copied = copy.deepcopy(tree)
    old = list(ast.walk(copied))[index]
    parent = _parents(copied)[old]
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, copy.deepcopy(replacement))
        elif isinstance(value, list):
            setattr(parent, name, [copy.deepcopy(replacement) if item is old else item for item in value])
    return ast.dump(copied)


def _changed_lines(source, mutated, first, last):
    """(before, after): lines first..last of the cell, and the lines that replaced them in the mutant."""
    old, new = source.splitlines(), mutated.splitlines()
    tail = len(old) - last  # lines after the change, the same in both
    return "\n".join(old[first - 1:last]), "\n".join(new[first - 1:len(new) - tail])


def mutant_key(cell_id, operator, before, after, occurrence):
    digest = hashlib.sha256(f"{operator}\0{before.strip()}\0{after.strip()}\0{occurrence}".encode()).hexdigest()
    return f"{cell_id}:{operator}:{digest[:8]}"


def _compiles(text):
    try:
        compile(text, "<mutant>", "exec")
        return True
    except (SyntaxError, ValueError):
        return False


def _faithful_rendering(source, tree, target, replacement):
    """(text, its ast.dump): the first rendering that parses to exactly the intended tree; (None, None)."""
    intended = replaced_dump(tree, target, replacement)
    for text in renderings(source, target, replacement):
        try:
            if ast.dump(parse_python(text)) == intended:
                return text, intended
        except SyntaxError:
            continue
    return None, None


def cell_mutants(cell_id, source, operators=OPERATORS):
    """The mutants of the solution code of one cell (see the module docstring).

    Inputs:
    - cell_id: the cell's id (names the mutants); source: the cell's text, markers included.
    - operators: the operator names to apply (default: all of OPERATORS).
    Returns:
    - a CellMutants: the mutants in source order, and the counts of discarded ones (did not compile) and of
      rendering failures (text that would not parse back to the intended tree: a bug of this module).
    """
    spans = solution_line_spans(source)
    result = CellMutants([])
    try:
        tree = parse_python(source)
    except SyntaxError:
        return result
    original, seen, occurrences = ast.dump(tree), set(), {}
    for operator, target, replacement in candidate_changes(tree, spans, operators):
        text, parsed = _faithful_rendering(source, tree, target, replacement)
        if text is None:
            result.rendering_failures += 1
            continue
        if parsed == original or text in seen:
            continue
        seen.add(text)
        if not _compiles(text):
            result.discarded += 1
            continue
        before, after = _changed_lines(source, text, target.lineno, target.end_lineno)
        occurrence = occurrences[(operator, before, after)] = occurrences.get((operator, before, after), -1) + 1
        result.mutants.append(Mutant(cell_id, operator, target.lineno, before, after, text,
                                     mutant_key(cell_id, operator, before, after, occurrence)))
    return result
