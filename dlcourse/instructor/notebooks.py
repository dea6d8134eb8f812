"""Running things: the course kernel's registration, nbgrader's command line, and notebook execution."""

import subprocess
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


def notebook_html(notebook, title=None, mathjax_url=""):
    """The notebook as one HTML page that needs no network (plots embedded as data: URIs).

    nbconvert's lab template through the course's template (dlcourse/instructor/mathjax.py): MathJax from
    ``mathjax_url`` (the course's copy, relative to the page: mathjax.page_url) or else from the Jupyter
    server serving the page; never from a CDN.
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.from_dict(dict(notebook))
    if title:
        notebook.metadata["title"] = title
    exporter = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES)],
                            mathjax_url=mathjax_url)
    body, _ = exporter.from_notebook_node(notebook)
    return body
