"""The layout of the dlcourse package, computed from the code's own imports.

* No import circle anywhere in dlcourse (imports inside functions count: they are how a circle hides).
* The instructor pipeline (dlcourse/instructor/) is layered as ``dlcourse.instructor.LAYERS`` says: every
  module is in exactly one layer and imports only modules of earlier layers; nothing imports the CLI.
* The student-facing helpers never import the instructor pipeline.
* README.md's module table and docs/architecture.md name exactly the modules that exist.
"""

import ast
import re
from pathlib import Path

from dlcourse import instructor
from harness import ROOT

PACKAGE = ROOT / "dlcourse"


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path):
    """The dlcourse modules a file imports, anywhere in it (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from dlcourse.instructor import grading" imports the module dlcourse.instructor.grading
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("dlcourse"):
                found.add(name)
    return found - {module_name(path)}


GRAPH = {name: imported_modules(path) for name, path in MODULES.items()}


def find_cycle(graph):
    """One import circle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_import_graph_sees_imports_inside_functions():
    graph = {"a": {"b"}, "b": {"a"}}
    assert find_cycle(graph) == ["a", "b", "a"]
    assert "dlcourse.instructor.config" in GRAPH["dlcourse.instructor.cli"]


def test_no_import_circle_anywhere_in_dlcourse():
    assert find_cycle(GRAPH) is None, f"import circle: {' -> '.join(find_cycle(GRAPH))}"


def test_every_instructor_module_is_in_one_layer_and_imports_only_earlier_layers():
    layer_of = {}
    for index, layer in enumerate(instructor.LAYERS):
        for short in layer:
            assert f"dlcourse.instructor.{short}" not in layer_of, f"{short} is in two layers"
            layer_of[f"dlcourse.instructor.{short}"] = index
    pipeline = {name for name in MODULES if name.startswith("dlcourse.instructor.")}
    assert set(layer_of) == pipeline, (f"modules missing from dlcourse.instructor.LAYERS: "
                                       f"{sorted(pipeline - set(layer_of))}; listed but absent: "
                                       f"{sorted(set(layer_of) - pipeline)}")
    upward = [f"{name} (layer {layer_of[name]}) imports {target} (layer {layer_of[target]})"
              for name in pipeline for target in GRAPH[name] if target in layer_of
              and layer_of[target] >= layer_of[name]]
    assert not upward, "imports that do not go down the layers:\n" + "\n".join(sorted(upward))
    assert not GRAPH["dlcourse.instructor"], "the package's __init__ imports nothing"
    importers = [name for name, targets in GRAPH.items() if "dlcourse.instructor.cli" in targets]
    assert not importers, f"the CLI is the top: nothing may import it, but {importers} do"


def test_student_helpers_never_import_the_instructor_pipeline():
    student = [name for name in MODULES if not name.startswith("dlcourse.instructor")]
    leaks = {name: sorted(t for t in GRAPH[name] if t.startswith("dlcourse.instructor")) for name in student}
    assert not {k: v for k, v in leaks.items() if v}, f"student-facing modules importing the pipeline: {leaks}"


def _documented_modules(text):
    return {f"dlcourse.{name}" for name in re.findall(r"^\|(?: \d+ \|)? `([a-z_.]+)` \|", text, flags=re.MULTILINE)}


def test_readme_and_architecture_name_exactly_the_modules_that_exist():
    existing = {name for name, path in MODULES.items() if path.name != "__init__.py"}
    for document in ("README.md", "docs/architecture.md"):
        named = _documented_modules((ROOT / document).read_text(encoding="utf-8"))
        assert named == existing, (f"{document}'s module table is out of date: missing "
                                   f"{sorted(existing - named)}, gone {sorted(named - existing)}")


def test_no_pipeline_function_is_longer_than_60_lines():
    long = []
    for name, path in MODULES.items():
        if not name.startswith("dlcourse.instructor"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert not long, "split these functions (one concern each):\n" + "\n".join(long)


def test_instructor_commands_skip_the_iri_grammar_and_still_validate_notebooks():
    # dlcourse/instructor/__init__.py marks rfc3987_syntax absent: its Lark grammar cost 0.8-1.5 CPU-s at the
    # start of every command. nbformat must still reject an invalid notebook.
    import subprocess
    import sys

    code = ("import sys, dlcourse.instructor.cli, nbformat\n"
            "print('lark' in sys.modules, sys.modules.get('rfc3987_syntax'))\n"
            "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
            "nbformat.validate(nb)\n"
            "nb.cells[0]['cell_type'] = 'nonsense'\n"
            "try:\n    nbformat.validate(nb)\nexcept nbformat.ValidationError:\n    print('rejected')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "None", "rejected"], (
        f"after importing the CLI: lark loaded / rfc3987_syntax / an invalid notebook: {result.stdout!r}")
