"""nbgrader preprocessors named in the course's configuration (``nbgrader_config.py``)."""

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade

from dlcourse.instructor.markers import cell_kind, strip_hidden_tests, strip_mark_scheme


class StderrToStdout(NbGraderPreprocessor):
    """Re-label stderr output of graded test cells as stdout, after execution and before scoring.

    nbgrader scores a test cell 0 as soon as it wrote anything to stderr, but stderr is where
    TensorFlow's logging, tqdm's progress bars and ``warnings.warn`` go: correct code would lose
    its points to library noise. Failures are unaffected: they are 'error' outputs, not streams.
    The text is kept (as stdout), so nothing is hidden from the grader or the feedback.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
        return cell, resources


class DropGraderOnlyCells(NbGraderPreprocessor):
    """Remove the graders-only cells (rubrics) from the student's copy, in ``generate_assignment``.

    ``generate_assignment`` has already saved their source into the gradebook (SaveCells) and emptied
    their mark-scheme region (ClearMarkScheme); an empty locked cell would only puzzle a student. The
    course's grading restores them from the source, so graders see them in formgrader.
    """

    def preprocess(self, nb, resources):
        nb.cells = [cell for cell in nb.cells if cell_kind(cell) != "rubric"]
        return nb, resources


def reduce_error_outputs(cell):
    """Replace each error output's traceback by one line 'ExceptionName: message' (a test cell's
    traceback runs through its hidden code)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]


class HideGraderOnlyContent(NbGraderPreprocessor):
    """For nbgrader's own ``generate_feedback`` (e.g. released from formgrader): remove the rubric cells
    and every mark-scheme region, the hidden-test region of every code cell, and every traceback, so that
    nbgrader's feedback never shows hidden tests or rubrics either (the course's own is dlcourse's
    ``instructor.feedback``)."""

    def preprocess(self, nb, resources):
        nb.cells = [cell for cell in nb.cells if cell_kind(cell) != "rubric"]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        cell.source = strip_mark_scheme(cell.source)
        if cell.cell_type == "code":
            cell.source = strip_hidden_tests(cell.source)
            reduce_error_outputs(cell)
        return cell, resources
