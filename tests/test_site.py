"""The executed solutions (solutions/) and their static HTML site (dlcourse/instructor/solutions.py and site.py).

* freshness of the committed solutions: each one records the sha256 of the source notebook it was
  executed from (re-executing every practical here would be too slow for CI);
* nothing of the grading machinery leaks into them (markers, hidden tests, nbgrader metadata);
* headless Chromium (Debian's ``chromium``) opens the index and a solution page and the plots render.
"""

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from dlcourse.instructor import lessons, site
from dlcourse.instructor.config import ROOT, assignments_present
from dlcourse.instructor.records import sha256_file
from dlcourse.instructor.solutions import failed_test_cells, strip_for_reading

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000"]
# Appended to a copy of a page: after load, count the images that decoded (naturalWidth > 0).
PROBE = ("<script>window.addEventListener('load', function () { var images = Array.from(document.images);"
         " document.body.setAttribute('data-probe', images.filter(function (i) {"
         " return i.complete && i.naturalWidth > 0; }).length + '/' + images.length"
         " + '/' + document.body.innerText.length); });</script>")


def chromium():
    """The chromium executable, installed with apt-get when missing (skip loudly only without apt)."""
    found = shutil.which("chromium")
    if found:
        return found
    if not shutil.which("apt-get"):
        pytest.skip("SKIPPED LOUDLY: chromium is not installed and apt-get is unavailable "
                    "(install Debian's 'chromium' package to run the headless site test)")
    subprocess.run(["apt-get", "update"], check=False, capture_output=True, timeout=600)
    result = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True, timeout=1200)
    found = shutil.which("chromium")
    assert found, f"apt-get install chromium failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return found


def dump_dom(page, tmp_path, probe=False):
    """The DOM of ``page`` after load, as headless Chromium renders it (with the image probe if asked)."""
    page = Path(page)
    if probe:
        copy = page.parent / f".probe-{page.name}"  # same folder: relative links keep working
        copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
        page = copy
    try:
        result = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}",
                                 "--dump-dom", page.resolve().as_uri()],
                                capture_output=True, text=True, timeout=180)
    finally:
        if probe:
            page.unlink()
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def probe_counts(dom):
    match = re.search(r'data-probe="(\d+)/(\d+)/(\d+)"', dom)
    assert match, "the page's load event never fired in Chromium"
    return tuple(int(n) for n in match.groups())


def _png():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(3, 2))
    axis.plot([0, 1, 2], [1, 0, 1])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def test_site_renders_in_headless_chromium(tmp_path):
    """A demo solutions folder: the index links every page, the page and its plot render."""
    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("plot_learning_curves(...)")
    code.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"})]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Demo practical\nSome text."), code]
    folder = tmp_path / "solutions" / "demo"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "demo.ipynb")
    index = site.build_site(tmp_path)
    dom = dump_dom(index, tmp_path)
    links = re.findall(r'href="([^"]+)"', dom)
    assert links == ["demo/demo.html"], links
    assert "Demo practical" in dom
    loaded, images, text = probe_counts(dump_dom(folder / "demo.html", tmp_path, probe=True))
    assert (loaded, images) == (1, 1) and text > 10, (loaded, images, text)


def test_strip_for_reading_removes_markers_and_hidden_tests():
    lesson = ("# %% solution id=f\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
              "# %% tests id=t points=1\n# Checks: f\nassert f() == 1\n### BEGIN HIDDEN TESTS\nsecret_check = 2\n"
              "### END HIDDEN TESTS\n# %% [markdown] answer id=q points=1\n# ### BEGIN SOLUTION\n# Model answer.\n"
              "# ### END SOLUTION\n")
    notebook = strip_for_reading(lessons.build_notebook(lesson))
    text = nbformat.writes(notebook)
    for word in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "secret_check", '"nbgrader"'):
        assert word not in text, word
    assert "return 1" in text and "Model answer." in text and "assert f() == 1" in text


def test_failed_test_cells_reports_a_failing_reference():
    lesson = "# %% tests id=t points=1\n# Checks: nothing\nraise AssertionError('boom')\n"
    notebook = lessons.build_notebook(lesson)
    notebook.cells[0].execution_count = 1
    notebook.cells[0].outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="boom",
                                                        traceback=[])]
    assert failed_test_cells(notebook) == {"t": "AssertionError: boom"}


PRACTICALS = assignments_present(ROOT)
SOURCES = [path for a in PRACTICALS for path in sorted((ROOT / "source" / a).glob("*.ipynb"))]


@pytest.mark.parametrize("source", SOURCES or [pytest.param(None, marks=pytest.mark.skip(
    reason="no practical in source/ yet"))], ids=lambda p: p.parent.name if p else "none")
def test_committed_solution_is_fresh_and_clean(source):
    target = ROOT / "solutions" / source.parent.name / source.name
    assert target.is_file(), f"{target} missing: run ./course solutions (or ./course build)"
    notebook = nbformat.read(target, as_version=4)
    assert notebook.metadata.get("dlcourse", {}).get("source_sha256") == sha256_file(source), (
        f"{target} was executed from another version of {source}: run ./course solutions")
    text = target.read_text(encoding="utf-8")
    for word in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", '"nbgrader"'):
        assert word not in text, f"{target} contains {word!r}"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count is not None for cell in code), f"{target} is not fully executed"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"], f"{target} has errors"
    page = target.with_suffix(".html")
    assert page.is_file(), f"{page} missing: run ./course site"
    index = (ROOT / "solutions" / "index.html").read_text(encoding="utf-8")
    assert f"href='{source.parent.name}/{page.name}'" in index


@pytest.mark.skipif(not SOURCES, reason="no practical in source/ yet")
def test_committed_site_renders_in_headless_chromium(tmp_path):
    index = ROOT / "solutions" / "index.html"
    dom = dump_dom(index, tmp_path)
    links = re.findall(r'href="([^"]+)"', dom)
    assert len(links) == len(SOURCES), links
    # the solution page with the most figures: every plot must decode
    pages = [ROOT / "solutions" / link for link in links]
    best = max(pages, key=lambda p: p.read_text(encoding="utf-8").count("data:image/png"))
    loaded, images, text = probe_counts(dump_dom(best, tmp_path, probe=True))
    assert images > 0, f"{best} shows no plot"
    assert loaded == images, f"{best}: only {loaded} of {images} images rendered"
    assert text > 1000, f"{best} renders almost no text ({text} characters)"
