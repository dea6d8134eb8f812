"""dlcourse/instructor/mutation.py: each operator makes the expected mutants of small snippets, only
between the solution markers, rendered faithfully; non-compiling mutants are discarded; keys are stable."""

import re
import textwrap

import pytest

from dlcourse.instructor.mutation import OPERATORS, cell_mutants


def cell(body, before="", after=""):
    """A solution cell: ``def f(x, y, n):`` with ``body`` between the solution markers."""
    body = textwrap.dedent(body).rstrip("\n") + "\n"
    return ("def f(x, y, n):\n" + textwrap.indent(textwrap.dedent(before), "    ")
            + "    ### BEGIN SOLUTION\n" + textwrap.indent(body, "    ")
            + "    ### END SOLUTION\n" + textwrap.indent(textwrap.dedent(after), "    "))


def changed(body, operator, before="", after=""):
    """{the mutated line(s), stripped} of the mutants one operator makes of ``body``."""
    return {"\n".join(line.strip() for line in m.after.splitlines())
            for m in cell_mutants("f", cell(body, before, after), (operator,)).mutants}


@pytest.mark.parametrize("operator, body, expected", [
    ("arithmetic", "z = x + y * 2", {"z = x - y * 2", "z = x + y / 2"}),
    ("arithmetic", "z -= x @ y", {"z += x @ y", "z -= x * y"}),
    ("arithmetic", "z = -x", {"z = x"}),
    ("arithmetic", "d = x / (1 + x) ** 2", {"d = x * (1 + x) ** 2", "d = x / (1 - x) ** 2", "d = x / ((1 + x) * 2)"}),
    ("comparison", "ok = x < y", {"ok = x <= y"}),
    ("comparison", "ok = x == y", {"ok = x != y"}),
    ("comparison", "ok = x not in y", {"ok = x in y"}),
    ("boolean", "ok = x and y", {"ok = x or y"}),
    ("boolean", "m = (x > 0) & (y > 0)", {"m = (x > 0) | (y > 0)"}),
    ("boolean", "ok = not x", {"ok = x"}),
    ("reduction", "s = np.sum(x, axis=0)", {"s = np.mean(x, axis=0)"}),
    ("reduction", "s = x.mean()", {"s = x.sum()"}),
    ("reduction", "s = tf.reduce_sum(x)", {"s = tf.reduce_mean(x)"}),
    ("reduction", "i = x.argmax(axis=1)", {"i = x.argmin(axis=1)"}),
    ("reduction", "m = max(x, y)", {"m = min(x, y)"}),
    ("axis", "s = np.sum(x, axis=0, keepdims=True)", {"s = np.sum(x, axis=1, keepdims=True)", "s = np.sum(x, axis=0)"}),
    ("axis", "s = x.sum(1)", {"s = x.sum(0)"}),
    ("axis", "p = torch.softmax(x, dim=-1)", {"p = torch.softmax(x, dim=-2)"}),
    ("axis", "c = np.concatenate([x, y], 1)", {"c = np.concatenate([x, y], 0)"}),
    ("transpose", "z = x.T @ y", {"z = x @ y"}),
    ("transpose", "z = np.transpose(x)", {"z = x"}),
    ("transpose", "z = x.transpose(0, 2, 1)", {"z = x"}),
    ("transpose", "z = x.t() @ y", {"z = x @ y"}),
    ("slice", "b = x[n:n + 4]", {"b = x[n + 1:n + 4]", "b = x[n:n + 4 - 1]", "b = x[n:n + 4 + 1]"}),
    ("slice", "b = x[:, 2:]", {"b = x[:, 3:]"}),
    ("range", "for i in range(1, n):\n    y.append(i)", {"for i in range(2, n):", "for i in range(1, n - 1):",
                                                           "for i in range(1, n + 1):"}),
    ("constant", "z = x * 3", {"z = x * 4", "z = x * -3"}),
    ("constant", "z = x + 2", {"z = x + 3"}),  # x + -2 would be the arithmetic mutant x - 2 again
    ("constant", "z = x[0] + 0.5", {"z = x[1] + 0.5", "z = x[0] + 1.5"}),
    ("constant", "z = x ** -1", {"z = x ** 0", "z = x ** 1"}),
    ("constant", "flag = True", {"flag = False"}),
    ("return", "return x, y", {"return None, y", "return x, None", "return y, x"}),
    ("return", 'return {"a": x, "b": y}', {'return {"a": None, "b": y}', 'return {"a": x, "b": None}'}),
    ("return", "return x + 1", {"return None"}),
    ("delete", "y.append(x)\nz = x", {"pass"}),
])
def test_each_operator_makes_the_expected_mutants(operator, body, expected):
    assert changed(body, operator) == expected


def test_a_dict_assigned_to_the_returned_name_is_a_returned_value():
    """``out = {...}`` inside the markers, ``return out`` in the locked scaffolding after them."""
    assert changed('out = {"loss": x}', "return", after="return out\n") == {'out = {"loss": None}'}


def test_only_the_code_between_the_markers_is_mutated():
    source = cell("z = x - y\n", before="w = x + y\n", after="return w * z\n")
    mutants = cell_mutants("f", source).mutants
    assert mutants, "the solution line has mutants"
    assert {m.line for m in mutants} == {4}, [(m.line, m.diff()) for m in mutants]
    for m in mutants:
        kept = [line for i, line in enumerate(source.splitlines(), 1) if i != 4]
        assert [line for i, line in enumerate(m.source.splitlines(), 1) if i != 4] == kept


def test_strings_prints_fstrings_and_docstrings_are_not_mutated():
    body = '"""Docstring 1."""\nprint(x + 1, "a" + "b")\nlabel = f"{x + 1:.2f}"\nname = "a" + "b"\n'
    mutants = cell_mutants("f", cell(body)).mutants
    assert [(m.operator, m.after.strip()) for m in mutants] == [("delete", "pass")] * 2, \
        [m.diff() for m in mutants]  # the two assignments may be deleted; nothing else changes


def test_mutants_that_do_not_compile_are_discarded_and_counted():
    """Deleting ``count = 0`` leaves ``nonlocal count`` without a binding: a SyntaxError at compile time."""
    body = "count = 0\ndef tally():\n    nonlocal count\n    count = len(x)\ntally()\nreturn count\n"
    made = cell_mutants("f", cell(body), ("delete",))
    assert made.discarded == 1 and made.rendering_failures == 0
    assert "- count = 0" not in [m.diff().splitlines()[0] for m in made.mutants]
    for m in made.mutants:
        compile(m.source, "<mutant>", "exec")


def test_every_operator_renders_faithfully_on_a_realistic_cell():
    """Each mutant's text parses to exactly the intended tree (no rendering failure), keeps the cell's
    comments, and differs from the reference; a short diff says what changed."""
    body = '''\
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))  # (N,)
    total = 0.0
    for start in range(0, len(x), n):
        batch = order[start:start + n]
        scores = x[batch] @ y.T + 1e-3  # (B, D) @ (D, K) -> (B, K)
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        total += float(np.sum(np.log(probs.sum(axis=1)))) / len(x)
        if total > 10 and not np.isfinite(total):
            raise ValueError("diverged")
    '''
    made = cell_mutants("f", cell(body, after="return total\n"))
    assert made.rendering_failures == 0 and made.discarded == 0
    operators = {m.operator for m in made.mutants}
    assert operators == set(OPERATORS) - {"return"}, operators
    for m in made.mutants:
        assert m.source != cell(body, after="return total\n")
        assert "# (B, D) @ (D, K) -> (B, K)" in m.source or m.line == 10
        assert m.diff().startswith("- ") and "\n+ " in m.diff()


def test_keys_are_unique_well_formed_and_stable_when_other_lines_change():
    body = "a = x + 1\nb = a + 1\n"
    first = cell_mutants("f", cell(body)).mutants
    moved = cell_mutants("f", cell(body, before="w = 0\nv = 1\n")).mutants
    keys = [m.key for m in first]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"f:[a-z]+:[0-9a-f]{8}", key) for key in keys)
    assert [m.key for m in moved] == keys and [m.line for m in moved] == [m.line + 2 for m in first]


def test_a_cell_without_markers_or_that_does_not_parse_has_no_mutants():
    assert cell_mutants("f", "def f(x):\n    return x + 1\n").mutants == []
    assert cell_mutants("f", "%matplotlib inline\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n").mutants == []
