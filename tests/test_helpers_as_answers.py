"""No helper a notebook imports computes an exercise's answer: each dlcourse name imported by a
practical's locked cells, tried as the answer of every exercise (``harness.helpers_as_answers``), scores
no point. Each practical's own tests add the helpers that need an adapter to pose as an answer."""

import pytest

from harness import ROOT, helpers_as_answers

ASSIGNMENTS = sorted({path.parent.name for path in (ROOT / "source").glob("*/*.ipynb")})


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_imported_helper_passes_any_test_as_an_answer(assignment):
    scored = {helper: cells for helper, cells in helpers_as_answers(assignment).items() if cells}
    assert not scored, (f"{assignment}: course helpers that pass test cells when a student returns them as the "
                        f"answer (they hand out solution logic): {scored}")
