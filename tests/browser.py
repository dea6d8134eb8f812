"""Headless Chromium for the tests, driven by Playwright's sync API.

Debian's ``chromium`` is launched through ``executable_path`` (Playwright's own browsers are never
downloaded), with a fresh profile, no background networking and, for pages opened from disk, no network
at all (``offline``). Pages served by a local Jupyter server get a context in which every request to a
host other than 127.0.0.1 is aborted and recorded (``LocalOnly.blocked``), so a test can say that nothing
was fetched from the internet.

Screenshots: ``screenshot(page, name)`` writes ``<DLCOURSE_SCREENSHOTS>/<name>.png`` when that variable is
set (``./course screenshots`` sets it to docs/screenshots), and does nothing otherwise.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 860}
SCREENSHOTS_ENV = "DLCOURSE_SCREENSHOTS"
LOCAL_PREFIXES = ("http://127.0.0.1", "file:", "data:", "blob:", "about:")


def chromium_path():
    """Debian's chromium, installed with apt-get when missing (skipped loudly without apt)."""
    found = shutil.which("chromium")
    if found:
        return found
    if not shutil.which("apt-get"):
        pytest.skip("SKIPPED LOUDLY: chromium is not installed and apt-get is unavailable "
                    "(install Debian's 'chromium' package to run the browser tests)")
    subprocess.run(["apt-get", "update"], check=False, capture_output=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "chromium"], check=False, capture_output=True, timeout=1200)
    found = shutil.which("chromium")
    assert found, "apt-get install chromium failed: the browser tests need Debian's chromium"
    return found


class Browser:
    """One Chromium process for a test module; contexts are made per page set."""

    def __init__(self):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._profile = tempfile.mkdtemp(prefix="dlcourse-chromium-")
        self.browser = self._playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                                        headless=True)

    def offline_context(self):
        """A context without any network (pages opened from disk)."""
        return self.browser.new_context(viewport=VIEWPORT, offline=True)

    def local_context(self):
        """A context that reaches 127.0.0.1 only; blocked requests are listed in ``context.blocked``."""
        context = self.browser.new_context(viewport=VIEWPORT)
        context.blocked = []

        def route(request_route):
            url = request_route.request.url
            if url.startswith(LOCAL_PREFIXES):
                request_route.continue_()
            else:
                context.blocked.append(url)
                request_route.abort()

        context.route("**/*", route)
        return context

    def close(self):
        self.browser.close()
        self._playwright.stop()
        shutil.rmtree(self._profile, ignore_errors=True)


def wait_for_typeset(page, timeout=60_000):
    """Wait until MathJax has typeset the page (the course's loader marks <html data-mathjax="typeset">)."""
    page.wait_for_function("document.documentElement.getAttribute('data-mathjax') === 'typeset'",
                           timeout=timeout)


# The text of the rendered Markdown, without code: what must hold no raw $...$ once MathJax has run.
MARKDOWN_TEXT = """() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown, .text_cell_render')).map(e => {
  const copy = e.cloneNode(true);
  copy.querySelectorAll('code, pre, script').forEach(c => c.remove());
  return copy.textContent;
}).join('\\n')"""


def typeset_counts(page):
    """(number of typeset formulas, number of math sources MathJax found) on the page."""
    return page.evaluate("""() => [document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_SVG').length,
                                   document.querySelectorAll('script[type^="math/tex"]').length]""")


def screenshot(page, name, full_page=False):
    """Save a PNG of the page as <$DLCOURSE_SCREENSHOTS>/<name>.png when the variable is set."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
