"""How an answer flows through a notebook: the names each cell defines, reads and may change, the test
cells that judge an exercise, and the cells a run of that exercise needs.

All of it is read from the cells' code (``ast``), never executed:

- ``cell_names``: what a cell *defines* (module-level assignments, functions, classes, imports, ``for``
  and ``with`` targets, names declared ``global``), what it *reads* (every name loaded, inside its
  functions too: a function defined in a test cell reads the exercise's function when it is called), and
  what it *touches* (names its top-level code may change in place: a call's bare-name arguments, a
  method call's receiver such as ``model.fit``, an attribute or item assigned; never an imported module,
  never the arguments of a builtin such as ``len`` or ``print``).
- ``judging_cells``: the test cells that grade an exercise E (a solution cell) are (1) the test cells
  after E and before the next solution code cell (E's own tests), and (2) any later test cell that reads a
  name *derived from* E: a name E defines, or one defined or touched by a later ordinary, locked or test
  cell that reads a derived name (``history = train(net, ...)`` derives ``history`` and ``net`` from
  ``train``). Another exercise's solution cell does not pass E on: its tests grade that exercise, and a
  test that depends on another student function is exactly what the course forbids (issue 13, item 1).
  A solution or ordinary cell that redefines a derived name without reading one cuts the chain.
- ``run_plan``: the cells a run of E's mutants executes: every cell up to E's last judging cell, except
  the expensive ones (``EXPENSIVE_SECONDS`` or more in the reference run) that no judging test needs: a
  backward pass marks the cells whose defined or touched names are read by a needed cell (E, its judging
  cells, every locked cell); a forward pass leaves out the expensive unneeded cells and any cell that reads
  a name only a left-out cell defines. Cheap cells all run, so the run stays as close to the real one as
  possible (seeds, the random generators' state). The plan is a static guess; ``./course mutants`` proves
  it by running the reference solution through it (every judging cell must pass) before any mutant.
"""

import ast
import builtins
from dataclasses import dataclass

from dlcourse.instructor.markers import cell_kind, is_test_cell, solution_line_spans
from dlcourse.instructor.pysource import parse as parse_python

EXPENSIVE_SECONDS = 1.0
# Builtins that may change their arguments; the others (len, print, float, sorted...) only read them.
MUTATING_BUILTINS = {"setattr", "delattr", "exec", "eval", "globals", "vars", "next", "iter"}
# Methods that only read their object (``x.reshape(...)`` does not change ``x``); any other method may.
READING_METHODS = {"reshape", "astype", "copy", "mean", "sum", "std", "var", "max", "min", "argmax", "argmin",
                   "predict", "evaluate", "item", "numpy", "tolist", "get", "keys", "values", "items", "transform",
                   "inverse_transform", "score", "count", "index", "format", "detach", "clone", "cpu", "view",
                   "flatten", "ravel", "squeeze", "unsqueeze", "transpose", "dot", "round", "all", "any", "nonzero",
                   "to_numpy", "head", "describe", "isna", "unique", "map", "get_operations", "startswith"}
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
          ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class CellNames:
    """Names of one cell, or of one of its top-level statements."""
    defines: frozenset
    reads: frozenset  # a cell's free reads (values from earlier cells); a statement's every read
    touches: frozenset
    imports: frozenset  # names bound by import statements (modules and imported functions)
    statements: tuple = ()  # the CellNames of each top-level statement, in order (for a cell)


def parse_cell(source):
    """The cell's syntax tree; IPython magics and shell lines (``%...``, ``!...``) read as ``pass``."""
    lines = ["pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return parse_python("\n".join(lines))
    except SyntaxError:
        return parse_python("")


def _own_scope(node):
    """The nodes of ``node``'s scope (not inside the functions, classes, lambdas, comprehensions it holds)."""
    stack, found = [node], []
    while stack:
        current = stack.pop()
        found.append(current)
        if current is node or not isinstance(current, SCOPES):
            stack.extend(ast.iter_child_nodes(current))
    return found


def _bound_in_scope(scope):
    """Names local to a function, lambda or comprehension: its parameters and the names it stores."""
    bound = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        arguments = scope.args
        bound |= {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
        bound |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a}
    declared = {n for node in _own_scope(scope) if isinstance(node, (ast.Global, ast.Nonlocal)) for n in node.names}
    for node in _own_scope(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not scope:
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
    return bound - declared


def _loads(node, local=frozenset(), nested=False):
    """(names loaded by ``node`` at its own level, names loaded inside the functions, lambdas and
    comprehensions it holds that are not local to them)."""
    direct, inner = set(), set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, SCOPES):
            scope_local = local | _bound_in_scope(current)
            for part in ast.iter_child_nodes(current):
                found_direct, found_inner = _loads(part, scope_local, True)
                inner |= found_direct | found_inner
            continue
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Load) and current.id not in local:
            (inner if nested else direct).add(current.id)
        stack.extend(ast.iter_child_nodes(current))
    return direct, inner


def _base_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _touched(node):
    """Names a module-level node may change in place."""
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in dir(builtins) and node.func.id not in MUTATING_BUILTINS:
            return set()
        names = {arg.id for arg in node.args + [k.value for k in node.keywords] if isinstance(arg, ast.Name)}
        if isinstance(node.func, ast.Attribute) and node.func.attr not in READING_METHODS:
            names.add(_base_name(node.func.value))
        return names
    if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return {_base_name(node.value)}
    return set()


def _statement_names(statement):
    """(defines, direct loads, loads inside its functions, touches, imports) of one top-level statement."""
    defines, touches, imports = set(), set(), set()
    for node in [statement] if isinstance(statement, SCOPES) else _own_scope(statement):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defines.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imports |= {alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name != "*"}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            defines.add(node.id)
        touches |= _touched(node)
    defines |= {name for node in ast.walk(statement) if isinstance(node, ast.Global) for name in node.names}
    direct, inner = _loads(statement)
    return defines | imports, direct - _loop_targets(statement), inner, touches - imports - {None}, imports


def _loop_targets(statement):
    """Names bound by the statement's ``for``, ``with ... as`` and ``except ... as`` before the code that
    reads them (a loop variable read in the loop is not read from an earlier cell)."""
    found = set()
    for node in [statement] if isinstance(statement, SCOPES) else _own_scope(statement):
        targets = [node.target] if isinstance(node, (ast.For, ast.AsyncFor)) else \
            [item.optional_vars for item in node.items if item.optional_vars] if isinstance(node, (ast.With, ast.AsyncWith)) \
            else []
        found |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        if isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
    return found


def cell_names(source):
    """The CellNames of a code cell's source, with one CellNames per top-level statement (module docstring).

    A name read by a statement counts as a (free) read unless an earlier statement of the cell defined it;
    a name read inside a function of the cell, unless the cell defines it anywhere.
    """
    parsed = [_statement_names(statement) for statement in parse_cell(source).body]
    everything = set().union(*(p[0] for p in parsed)) if parsed else set()
    statements, defined, free_reads = [], set(), set()
    for defines, direct, inner, touches, imports in parsed:
        free_reads |= (direct - defined) | (inner - everything)
        statements.append(CellNames(frozenset(defines), frozenset(direct | inner), frozenset(touches),
                                    frozenset(imports)))
        defined |= defines
    union = lambda field: frozenset().union(*(getattr(s, field) for s in statements))  # noqa: E731
    return CellNames(union("defines"), frozenset(free_reads), union("touches"), union("imports"), tuple(statements))


def notebook_names(notebook):
    """{cell id: CellNames} of the code cells; touches never include a name the notebook imports anywhere."""
    names = {cell.get("id"): cell_names(cell.source) for cell in notebook.cells if cell.cell_type == "code"}
    imported = set().union(*(n.imports for n in names.values())) if names else set()
    return {cid: CellNames(n.defines, n.reads, n.touches - imported, n.imports,
                           tuple(CellNames(t.defines, t.reads, t.touches - imported, t.imports) for t in n.statements))
            for cid, n in names.items()}


def is_exercise(cell):
    """A solution code cell with code between its solution markers (what students write and mutants change)."""
    return cell.cell_type == "code" and cell_kind(cell) == "solution" and any(
        line.strip() for first, last in solution_line_spans(cell.source)
        for line in cell.source.splitlines()[first - 1:last])


def exercises(notebook):
    """The cell ids of the exercises, in notebook order."""
    return [cell.get("id") for cell in notebook.cells if is_exercise(cell)]


def judging_cells(notebook, exercise, names=None):
    """The grade ids (= cell ids) of the test cells that judge ``exercise``, in order (module docstring)."""
    names = names or notebook_names(notebook)
    ids = [cell.get("id") for cell in notebook.cells]
    start = ids.index(exercise)
    derived, own, judging = set(names[exercise].defines), True, []
    for cell in notebook.cells[start + 1:]:
        if cell.cell_type != "code":
            continue
        cell_names_ = names[cell.get("id")]
        if cell_kind(cell) == "solution":
            own = False
            derived -= cell_names_.defines
            continue
        hit = False
        for statement in cell_names_.statements:
            if statement.reads & derived:
                hit = True
                derived |= statement.defines | statement.touches
            else:
                derived -= statement.defines
        if is_test_cell(cell) and (own or hit):
            judging.append(cell.get("id"))
    return judging


def _needed(cells, names, always):
    """Backward pass: the ids of the cells whose defined or touched names a needed later cell reads."""
    needed, wanted = set(always), set()
    for cell in reversed(cells):
        cid = cell.get("id")
        if cid not in needed and not (names[cid].defines | names[cid].touches) & wanted:
            continue
        needed.add(cid)
        wanted |= names[cid].reads
    return needed


def run_plan(notebook, exercise, judging, seconds, names=None, expensive=EXPENSIVE_SECONDS):
    """The cells to execute for the mutants of ``exercise``, and the ones left out.

    Inputs:
    - judging: its judging cell ids (judging_cells); seconds: cell id -> seconds of the reference run.
    Returns:
    - (planned cell ids in notebook order, left-out code cell ids); ([], []) when nothing judges it.
    """
    if not judging:
        return [], []
    names = names or notebook_names(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    ids = [cell.get("id") for cell in code]
    code = code[:ids.index(judging[-1]) + 1]
    always = {exercise, *judging} | {c.get("id") for c in code if cell_kind(c) == "locked"}
    needed = _needed(code, names, always)
    planned, left_out, missing = [], [], set()
    for cell in code:
        cid = cell.get("id")
        if cid not in needed and (seconds.get(cid, 0.0) >= expensive or names[cid].reads & missing):
            left_out.append(cid)
            missing |= names[cid].defines
            continue
        planned.append(cid)
        missing -= names[cid].defines
    return planned, left_out
