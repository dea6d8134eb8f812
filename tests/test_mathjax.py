"""Formulas offline (dlcourse/instructor/mathjax.py, templates/base/mathjax.html.j2).

* The course's copy of MathJax is the environment's (jupyter-server-mathjax), file for file, refreshed when
  stale, and each page points at it by a relative path.
* No committed page (feedback, solutions site) loads a script or a stylesheet from another host; each one
  was rendered with the course's template (a stale page still names the CDN).
* formgrader's template, with nbgrader_config.py, loads the Jupyter server's MathJax, not the CDN.
* In headless Chromium without any network, a committed feedback page and a committed solutions page are
  typeset: MathJax's output elements are there and no raw $...$ is left in the rendered Markdown.
  (A page served by a Jupyter server away from the course's copy: tests/test_browser.py.)
"""

import os
import re

import nbformat
import pytest
from nbconvert import HTMLExporter
from traitlets.config.loader import PyFileConfigLoader

from browser import MARKDOWN_TEXT, Browser, screenshot, typeset_counts, wait_for_typeset
from dlcourse.instructor import mathjax
from dlcourse.instructor.notebooks import notebook_html
from harness import ROOT

FEEDBACK_PAGES = sorted((ROOT / "feedback").glob("sample-*/*/*.html"))
SOLUTION_PAGES = sorted((ROOT / "solutions").glob("*/*.html"))
REMOTE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=[\"']?(?:[a-z][a-z0-9+.-]*:)?//", re.I)
RAW_MATH = re.compile(r"\$[^$\s][^$]*\$")


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_copy_is_the_environments_mathjax_and_is_refreshed_when_stale(tmp_path):
    script = mathjax.install_copy(tmp_path)
    source = mathjax.environment_mathjax()
    assert script == tmp_path / "mathjax" / "MathJax.js"
    assert [f for f in _files(tmp_path / "mathjax") if f != mathjax.STAMP] == _files(source)
    assert script.read_bytes() == (source / "MathJax.js").read_bytes()
    before = script.stat().st_mtime_ns
    mathjax.install_copy(tmp_path)
    assert script.stat().st_mtime_ns == before, "a current copy must not be copied again"
    (tmp_path / "mathjax" / mathjax.STAMP).write_text("another version\n", encoding="utf-8")
    script.write_text("stale", encoding="utf-8")
    mathjax.install_copy(tmp_path)
    assert script.read_bytes() == (source / "MathJax.js").read_bytes(), "a stale copy must be replaced"


def test_page_url_is_relative_to_the_page(tmp_path):
    assert mathjax.page_url(tmp_path / "feedback" / "s" / "a" / "n.html", tmp_path) == "../../../mathjax/MathJax.js"
    assert mathjax.page_url(tmp_path / "solutions" / "a" / "n.html", tmp_path) == "../../mathjax/MathJax.js"


def test_a_rendered_page_names_no_other_host():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("Inline $x^2$.")]
    page = notebook_html(notebook, "t", "../mathjax/MathJax.js")
    assert not REMOTE.search(page), REMOTE.search(page)
    assert "cdnjs" not in page and "unpkg" not in page
    assert '"../mathjax/MathJax.js"' in page and "jupyter_server_mathjax" in page


@pytest.mark.parametrize("page", FEEDBACK_PAGES + SOLUTION_PAGES or [pytest.param(None, marks=pytest.mark.skip(
    reason="no committed page yet"))], ids=lambda p: str(p.relative_to(ROOT)) if p else "none")
def test_committed_page_loads_nothing_from_another_host(page):
    text = page.read_text(encoding="utf-8")
    assert not REMOTE.search(text), f"{page} loads {REMOTE.search(text).group(0)}: run ./course feedback / site"
    assert "cdnjs" not in text, f"{page} was rendered with nbconvert's CDN template: run ./course feedback / site"
    assert f'"{mathjax.page_url(page, ROOT)}"' in text, f"{page} does not point at the course's MathJax copy"


def test_formgraders_template_with_the_course_config_loads_the_servers_mathjax():
    """formgrader renders a submission with HTMLExporter(config=<nbgrader config>, template 'formgrade')."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("$x^2$")]
    resources = {"assignment_id": "a", "notebook_id": "n", "submission_id": "s", "index": 0, "total": 1,
                 "base_url": "", "student": "x", "last_name": "", "first_name": "", "notebook_path": "p"}
    page, _ = HTMLExporter(config=config, template_name="formgrade").from_notebook_node(notebook, resources)
    assert "formgrade.js" in page, "not formgrader's template: nbgrader's template folder went missing"
    assert "cdnjs" not in page and not REMOTE.search(page)
    assert "static/jupyter_server_mathjax/MathJax.js" in page


@pytest.fixture(scope="module")
def browser():
    mathjax.install_copy(ROOT)  # what every ./course command that writes pages does
    instance = Browser()
    yield instance
    instance.close()


def _most_formulas(pages):
    return max(pages, key=lambda p: len(RAW_MATH.findall(p.read_text(encoding="utf-8"))))


@pytest.mark.skipif(not FEEDBACK_PAGES or not SOLUTION_PAGES, reason="no committed pages yet")
@pytest.mark.parametrize("kind", ["feedback", "solutions"])
def test_committed_page_is_typeset_offline_in_chromium(browser, kind):
    page_path = _most_formulas(FEEDBACK_PAGES if kind == "feedback" else SOLUTION_PAGES)
    context = browser.offline_context()
    try:
        page = context.new_page()
        page.goto(page_path.as_uri())
        wait_for_typeset(page)
        typeset, sources = typeset_counts(page)
        assert typeset > 0 and sources > 0, f"{page_path}: no formula typeset ({typeset} of {sources})"
        raw = RAW_MATH.findall(page.evaluate(MARKDOWN_TEXT))
        assert not raw, f"{page_path}: raw formulas left after MathJax: {raw[:5]}"
        loaded_from = page.evaluate("document.documentElement.getAttribute('data-mathjax-source')")
        assert loaded_from.startswith((ROOT / "mathjax" / "MathJax.js").as_uri()), loaded_from
        formula = page.locator(".MathJax").first
        formula.scroll_into_view_if_needed()
        screenshot(page, f"{kind}-page-formulas")
    finally:
        context.close()
    assert os.path.isfile(ROOT / "mathjax" / "MathJax.js")
