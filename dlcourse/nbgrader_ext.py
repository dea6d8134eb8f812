"""nbgrader preprocessors used by the course's configuration (``nbgrader_config.py``)."""

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade


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
    """Remove the graders-only cells (rubrics, ``cell.metadata.dlcourse.rubric_for``) from the student's copy.

    ``generate_assignment`` has already saved their source into the gradebook (SaveCells) and emptied
    their mark-scheme region (ClearMarkScheme); an empty locked cell would only puzzle a student. The
    course's grading restores them from the source, so graders see them in formgrader.
    """

    def preprocess(self, nb, resources):
        nb.cells = [cell for cell in nb.cells if not (cell.metadata.get("dlcourse") or {}).get("rubric_for")]
        return nb, resources
