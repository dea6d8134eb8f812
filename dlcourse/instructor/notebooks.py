"""Running things: the course kernel's registration, nbgrader's command line, and notebook execution."""

import subprocess
import threading
import sys
from pathlib import Path

from dlcourse.instructor.config import CELL_TIMEOUT, KERNEL_ENV, KERNEL_NAME, KERNELSPEC, ROOT, tool_environment
from dlcourse.instructor.mathjax import TEMPLATE_NAME, TEMPLATES


def install_kernel():
    """Register the course kernel in this environment (``<venv>/share/jupyter/kernels/dlcourse``)."""
    from ipykernel.kernelspec import install

    return install(kernel_name=KERNEL_NAME, display_name=KERNELSPEC["display_name"], prefix=sys.prefix,
                   env=dict(KERNEL_ENV))


def nbgrader_command():
    """The nbgrader executable of this environment."""
    candidate = Path(sys.executable).parent / "nbgrader"
    return [str(candidate)] if candidate.exists() else [sys.executable, "-m", "nbgrader"]


def run_nbgrader(args, cwd=ROOT, check=True, timeout=None):
    """Run ``nbgrader <args>`` in ``cwd``; raise with its output when it fails and ``check``.

    Returns:
    - the CompletedProcess (text stdout and stderr).
    """
    result = subprocess.run(nbgrader_command() + list(args), cwd=cwd, env=tool_environment(), text=True,
                            capture_output=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n"
                           f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def execute_notebook(notebook, cwd, timeout=CELL_TIMEOUT, allow_errors=False):
    """Execute a notebook in the course kernel with ``cwd`` as working directory; return it (changed in place)."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL_NAME, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


STYLESHEET = "style.css"


def notebook_html(notebook, title=None, mathjax_url="", stylesheet=None):
    """The notebook as one HTML page that needs no network (plots embedded as data: URIs).

    ``stylesheet``: the URL (relative to the page) of the folder's one stylesheet (``write_stylesheet``),
    linked instead of embedding nbconvert's CSS in every page.

    nbconvert's lab template through the course's template (dlcourse/instructor/mathjax.py): MathJax from
    ``mathjax_url`` (the course's copy, relative to the page: mathjax.page_url) or else from the Jupyter
    server serving the page; never from a CDN.
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.from_dict(dict(notebook))
    if title:
        notebook.metadata["title"] = title
    body, _ = _exporter(mathjax_url).from_notebook_node(
        notebook, resources={"stylesheet": stylesheet} if stylesheet else None)
    return body


_EXPORTERS = threading.local()


def _exporter(mathjax_url):
    """This thread's page exporter for ``mathjax_url``: made once, so that its Jinja templates are compiled
    once per run and not for every page (they were a quarter of a feedback page's rendering)."""
    cache = _EXPORTERS.__dict__.setdefault("by_url", {})
    if mathjax_url not in cache:
        cache[mathjax_url] = _page_exporter()(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES)],
                                              mathjax_url=mathjax_url)
    return cache[mathjax_url]


class _Highlighted(dict):
    """Highlighted code by (source, language, magics language): the test and locked cells of a batch of pages are the same
    text for every student, so each is highlighted once (Pygments was a third of a page's rendering).
    Bounded: emptied when it holds LIMIT sources."""

    LIMIT = 4096

    def __init__(self, highlight):
        super().__init__()
        self.highlight = highlight

    def __call__(self, source, language=None, metadata=None):
        key = (source, language, (metadata or {}).get("magics_language"))  # the only metadata Pygments reads
        if key not in self:
            if len(self) >= self.LIMIT:
                self.clear()
            self[key] = self.highlight(source, language, metadata)
        return self[key]


def _page_exporter():
    """nbconvert's HTMLExporter without its last step, which parses the whole page (embedded plots
    included) with BeautifulSoup only to add alt texts and tabindex attributes: done here on the text, at a
    fraction of the cost (it was a third of a feedback page's rendering)."""
    import re

    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            current = self.environment.filters.get("highlight_code")
            if not isinstance(current, _Highlighted) or current.highlight.pygments_lexer != (lexer or "ipython3"):
                self.register_filter("highlight_code", _Highlighted(Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            html = re.sub(r"<img(?![^>]*\balt=)", '<img alt="No description has been provided for this image"', html)
            html = html.replace('<div class="jp-Cell-inputWrapper">', '<div class="jp-Cell-inputWrapper" tabindex="0">')
            html = re.sub(r'(<div class="[^"]*\bjp-OutputArea-output\b[^"]*")', r'\1 tabindex="0"', html)
            return html, resources

    return PageExporter


def write_stylesheet(folder):
    """Write ``folder/style.css``: the CSS nbconvert's lab template embeds in a page, once for all the pages
    of the folder (rewritten only when it changed). Returns its path."""
    import re

    import nbformat

    page = notebook_html(nbformat.v4.new_notebook())
    css = "\n".join(re.findall(r"<style type=\"text/css\">(.*?)</style>", page, flags=re.S))
    path = Path(folder) / STYLESHEET
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != css:
        path.write_text(css, encoding="utf-8")
    _STYLESHEETS.add(path)
    return path


_STYLESHEETS = set()


def stylesheet_for(page, folder):
    """The relative URL from ``page`` to ``folder``'s stylesheet, written first if this process has not yet."""
    import os

    path = Path(folder) / STYLESHEET
    if path not in _STYLESHEETS:
        write_stylesheet(folder)
    return os.path.relpath(path, Path(page).parent).replace(os.sep, "/")
