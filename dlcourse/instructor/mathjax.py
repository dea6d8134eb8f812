"""Formulas typeset offline: every page takes MathJax from this environment, never from a CDN.

The environment's MathJax is MathJax 2.7 as ``jupyter-server-mathjax`` ships it (a requirement of the
course); a Jupyter server serves it at ``<base_url>static/jupyter_server_mathjax/MathJax.js``.

How each page finds it (the loader is the nbconvert macro ``templates/base/mathjax.html.j2``):

* The course's static pages (``feedback/<s>/<a>/<n>.html``, ``solutions/<a>/<n>.html``) are opened from
  disk, served by the instructor's Jupyter server, or copied elsewhere. A page opened from disk cannot
  reach a server, so it points, by a relative path, at a copy of the environment's MathJax inside the
  course: ``<course>/mathjax/`` (``COPY``), made by ``./course mathjax`` and by every command that writes
  pages (``install_copy``; git-ignored, refreshed when the environment's version changes). A relative path
  works opened from disk and served from the course folder alike.
* The same page away from the course (feedback released to a student and fetched into their home, where
  no copy is next to it) falls back to the MathJax of the Jupyter server that serves it, found from the
  page's own address.
* formgrader's grading page and nbgrader's own feedback are rendered by nbgrader with nbconvert templates
  whose macro call takes no URL; ``nbgrader_config.py`` puts this module's template folder first in
  ``HTMLExporter.extra_template_basedirs`` (``nbgrader_template_dirs``), so the same loader replaces the
  CDN there and finds the server's MathJax.
"""

import os
import shutil
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"  # nbconvert templates: 'dlcourse' and base/mathjax
TEMPLATE_NAME = "dlcourse"
COPY = "mathjax"  # the course's copy: <root>/mathjax/MathJax.js
STAMP = ".dlcourse-source"  # inside the copy: which environment files it was copied from


def environment_mathjax():
    """The folder of the environment's MathJax (``jupyter_server_mathjax/static``, holding MathJax.js)."""
    from jupyter_server_mathjax.app import STATIC_ASSETS_PATH

    folder = Path(STATIC_ASSETS_PATH)
    if not (folder / "MathJax.js").is_file():
        raise RuntimeError(f"the environment's MathJax is missing: {folder / 'MathJax.js'} "
                           "(reinstall jupyter-server-mathjax: ./course build)")
    return folder


def _source_stamp(source):
    from jupyter_server_mathjax.__version__ import __version__

    count = sum(len(files) for _, _, files in os.walk(source))
    return f"jupyter-server-mathjax {__version__}: {source} ({count} files)\n"


def install_copy(root):
    """Make ``<root>/mathjax/`` a copy of the environment's MathJax (nothing to do when it is current).

    Returns:
    - the path of the copy's MathJax.js.
    """
    source = environment_mathjax()
    target = Path(root) / COPY
    stamp = _source_stamp(source)
    if (target / STAMP).is_file() and (target / STAMP).read_text(encoding="utf-8") == stamp:
        return target / "MathJax.js"
    staging = target.with_name(COPY + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    (staging / STAMP).write_text(stamp, encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target / "MathJax.js"


def page_url(page, root):
    """The relative URL from an HTML page under ``root`` to the course's copy of MathJax.js.

    Inputs:
    - page: the path the page is written to (e.g. root/feedback/s/a/n.html); root: the course folder.
    Returns:
    - e.g. "../../../mathjax/MathJax.js".
    """
    return Path(os.path.relpath(Path(root).resolve() / COPY / "MathJax.js",
                                Path(page).resolve().parent)).as_posix()


def nbgrader_template_dirs():
    """``HTMLExporter.extra_template_basedirs`` for nbgrader (formgrader, generate_feedback): this module's
    templates first (the offline MathJax macro), then nbgrader's own (the 'formgrade' and 'feedback'
    templates, which nbgrader would otherwise put there itself)."""
    import nbgrader

    # where nbgrader's generate_feedback and formgrader find them (nbgrader/server_extensions/formgrader)
    return [str(TEMPLATES), str(Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader"
                                / "templates")]
