"""Every number a model answer quotes is a number the notebook itself printed.

A model answer describes what the executed notebook shows; a retrained reference must not silently
contradict its text. For each written-answer cell of source/<a>/<n>.ipynb, every number of its model
answer (the text between the solution markers) must be either

* printed by the executed solution (solutions/<a>/<n>.ipynb, the notebook ``./course solutions`` ran):
  some number of its outputs, rounded to the quoted precision, equals the quoted number (a quoted
  percentage ``93%`` or ``93.1%`` also matches a printed fraction 0.93.. or 0.931..); or
* a number the task itself sets: a numeric literal of the notebook's code, or a number of its
  explanatory text (layer sizes, learning rates, epochs).

Formulas (``$...$``) and inline code (`` `...` ``) are not quotations of results and are skipped, as are
numbers inside words (``h_1``, ``x0``, ``conv2d``) and section numbers (``§2.5``).
"""

import io
import re
import tokenize
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

import nbformat
import pytest

from harness import ROOT

SOURCES = sorted((ROOT / "source").glob("*/*.ipynb"))
MODEL_ANSWER = re.compile(r"^[ \t]*#*[ \t]*BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*#*[ \t]*END SOLUTION[ \t]*$",
                          re.MULTILINE | re.DOTALL)
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`\n]*`", re.DOTALL)
SECTION = re.compile(r"§\s*[\d.]+")
# A number: optional sign, digits with optional thousands separators (1,000 or 60 000 or 60_000),
# optional decimals, optional exponent, optional percent sign; not inside a word.
NUMBER = re.compile(r"(?<![\w.])(?P<number>[-+−]?(?:\d{1,3}(?:[,_]\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?)"
                    r"(?P<percent>\s?%)?(?![\w])")
OUTPUT_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _decimal(text):
    return Decimal(text.replace(",", "").replace("_", "").replace("−", "-"))


def quoted_numbers(text):
    """[(text as quoted, Decimal value, is_percent)] of the numbers a model answer quotes."""
    text = SECTION.sub(" ", MATH.sub(" ", text))
    found = []
    for match in NUMBER.finditer(text):
        try:
            found.append((match.group(0).strip(), _decimal(match.group("number")), bool(match.group("percent"))))
        except InvalidOperation:
            continue
    return found


def _output_texts(notebook):
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                yield output.get("text", "")
            for kind in ("text/plain", "text/markdown", "text/html"):
                value = output.get("data", {}).get(kind)
                if value:
                    yield value if isinstance(value, str) else "".join(value)


def printed_numbers(notebook):
    """Every number in the outputs of an executed notebook, as Decimal."""
    numbers = set()
    for text in _output_texts(notebook):
        for token in OUTPUT_NUMBER.findall(text):
            try:
                numbers.add(Decimal(token))
            except InvalidOperation:
                continue
    return numbers


def task_numbers(notebook):
    """The numbers the task sets: numeric literals of the code cells and numbers of the prose outside
    the model answers."""
    numbers = set()
    for cell in notebook.cells:
        if (cell.metadata.get("dlcourse") or {}).get("rubric_for"):
            continue  # a rubric repeats the model answer: it sets nothing
        if cell.cell_type == "code":
            try:
                for token in tokenize.generate_tokens(io.StringIO(cell.source).readline):
                    if token.type == tokenize.NUMBER:
                        try:
                            numbers.add(_decimal(token.string.rstrip("jJ")))
                        except InvalidOperation:
                            continue
            except (tokenize.TokenError, IndentationError, SyntaxError):
                continue
        else:
            numbers.update(value for _, value, _ in quoted_numbers(MODEL_ANSWER.sub(" ", cell.source)))
    return numbers


def _places(value):
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def matches(value, is_percent, candidates):
    """True when some candidate, rounded to the precision of ``value``, equals it (half-up or half-even)."""
    places = _places(value)
    quantum = Decimal(1).scaleb(-places)
    targets = [value] + ([value / 100] if is_percent else [])
    for candidate in candidates:
        for target in targets:
            scale = quantum if target is value else quantum / 100
            for rounding in (ROUND_HALF_UP, ROUND_HALF_EVEN):
                try:
                    if abs(candidate).quantize(scale, rounding=rounding) == abs(target):
                        return True
                except InvalidOperation:
                    continue
    return False


def answer_cells(source_notebook):
    for cell in source_notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
            yield meta["grade_id"], "\n".join(MODEL_ANSWER.findall(cell.source))


def notebook_id(path):
    return f"{path.parent.name}/{path.name}"


def test_quoted_numbers_skip_formulas_code_words_and_sections():
    text = "Accuracy 0.931 (93.1 %), 1,000 rows, $h_1 = 0.5$, `eta=0.1`, x0 and §2.5.1; 3e-4; −2."
    assert [quoted for quoted, _, _ in quoted_numbers(text)] == ["0.931", "93.1 %", "1,000", "3e-4", "−2"]


def test_matching_rounds_to_the_quoted_precision():
    printed = {Decimal("0.93149"), Decimal("12.5"), Decimal("0.00123")}
    assert matches(Decimal("0.93"), False, printed) and matches(Decimal("0.931"), False, printed)
    assert matches(Decimal("93.1"), True, printed), "93.1% is the printed fraction 0.93149"
    assert matches(Decimal("13"), False, printed) and matches(Decimal("12"), False, printed)  # 12.5 half-even
    assert not matches(Decimal("0.94"), False, printed)
    assert not matches(Decimal("0.9314"), False, printed)


@pytest.mark.parametrize("source", SOURCES, ids=notebook_id)
def test_every_number_of_a_model_answer_is_printed_by_the_notebook_or_set_by_the_task(source):
    executed_path = ROOT / "solutions" / source.parent.name / source.name
    assert executed_path.is_file(), f"{executed_path} is missing: run ./course solutions"
    source_notebook = nbformat.read(source, as_version=4)
    printed = printed_numbers(nbformat.read(executed_path, as_version=4))
    given = task_numbers(source_notebook)
    unsupported = []
    for grade_id, answer in answer_cells(source_notebook):
        for quoted, value, is_percent in quoted_numbers(answer):
            if value in given or (is_percent and value / 100 in given):
                continue
            if not matches(value, is_percent, printed):
                unsupported.append(f"{grade_id}: {quoted!r}")
    assert not unsupported, (
        f"{notebook_id(source)}: model answers quote numbers that the executed notebook does not print and "
        f"the task does not set (rewrite them from the outputs, or print what they rely on): {unsupported}")
