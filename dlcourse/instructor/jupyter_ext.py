"""The course's Jupyter server extension: nbgrader's Validate button runs the course's check.

nbgrader's Validate button (notebook toolbar, and the Assignments panel) posts the notebook's path to
``<base_url>assignments/validate``; nbgrader's handler runs its Validator in the server process, which
counts library stderr as a failure, reports unanswered written answers as failed cells and sends whole
test cells with their tracebacks. None of that can be changed through ``nbgrader_config.py``: the
Validator's preprocessor list is not a configurable trait, its failure rule (``determine_grade`` on every
grade cell) and its reply (each failed cell's source and traceback) are fixed in code, and the stderr
relabelling cannot be hooked in through the execute preprocessor's configurable hooks (nbgrader's
``Execute`` overrides ``on_cell_executed`` with a method, and ``on_notebook_complete`` is not called on the
synchronous path it uses).

This extension answers the same URL instead, with the course's check (``instructor.validate``: a copy of
the notebook executed in a child process, stderr as grading treats it, one line per failed check, written
answers "not answered yet", the notebook never written), in the reply format nbgrader's front end shows:
one entry per finding, its name as the "cell" and its one-line message as the "error"; no entry at all
(the front end then says "Success!") when the notebook is ready to submit. Jupyter server loads extensions
in alphabetical order and tornado takes the first matching handler, so ``dlcourse...`` answers before
``nbgrader...``.

Enable it with ``jupyter server extension enable --sys-prefix dlcourse.instructor.jupyter_ext`` in the
environment students use (or ``--ServerApp.jpserver_extensions``; docs/exchange.md). The front end still
saves the notebook before validating: that is nbgrader's JavaScript, which no server setting changes.
"""

import asyncio
import html
import json
import sys
from pathlib import Path

from dlcourse.instructor import validate

VALIDATE_URL = "/assignments/validate"
VALIDATE_TIMEOUT = 3600  # seconds for a whole notebook (each cell has its own limit)
LABELS = {"failed": "check {name} ({points})", "unanswered": "written answer {name} ({points})",
          "code-error": "your code: {name}", "changed": "locked cell {name}", "problem": "{name}"}
MESSAGES = {"unanswered": "not answered yet (graded by hand after you submit)"}


def nbgrader_reply(report):
    """The course's report (``validate.report_json``) in the shape nbgrader's Validate front end displays."""
    if report["ok"]:
        return {"success": True, "value": {}}
    checks, _, answers = report["summary"].rstrip(".").partition("; ")
    entries = [{"source": checks, "error": html.escape(answers or "fix the lines below, then validate again")}]
    for kind, _ in validate.SECTIONS:
        entries += [{"source": LABELS[kind].format(name=f["name"], points=validate.points_text(f["points"])),
                     "error": html.escape(MESSAGES.get(kind, f["message"]))}
                    for f in report["findings"] if f["kind"] == kind]
    return {"success": True, "value": {"failed": entries}}


async def run_validate(path):
    """Run ``python -m dlcourse.instructor.validate --json <path>`` in a child process; its report."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", validate.__name__, "--json", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=VALIDATE_TIMEOUT)
    except asyncio.TimeoutError:
        process.kill()
        raise RuntimeError(f"validation took longer than {VALIDATE_TIMEOUT} s") from None
    lines = [line for line in out.decode("utf-8", "replace").splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"validation failed to run: {err.decode('utf-8', 'replace')[-2000:]}")
    return json.loads(lines[-1])


def _handler_class():
    from jupyter_server.base.handlers import JupyterHandler
    from tornado import web

    class ValidateHandler(JupyterHandler):
        """POST path=<notebook path relative to the server root> -> nbgrader's reply format."""

        @web.authenticated
        async def post(self):
            path = self.get_argument("path", None)
            if path is None:
                path = (json.loads(self.request.body or b"{}") or {}).get("path", "")
            root = Path(self.settings["server_root_dir"]).expanduser().resolve()
            target = (root / path).resolve()
            if not target.is_relative_to(root):
                raise web.HTTPError(403, "Access denied: path outside allowed directory")
            try:
                reply = nbgrader_reply(await run_validate(target))
            except Exception as exc:  # noqa: BLE001 - shown in the front end's dialog
                reply = {"success": False, "value": f"{type(exc).__name__}: {exc}"}
            self.finish(json.dumps(reply))

    return ValidateHandler


def _jupyter_server_extension_points():
    return [{"module": "dlcourse.instructor.jupyter_ext"}]


def _load_jupyter_server_extension(serverapp):
    from jupyter_server.utils import url_path_join

    web_app = serverapp.web_app
    pattern = url_path_join(web_app.settings["base_url"], VALIDATE_URL)
    web_app.add_handlers(".*$", [(pattern, _handler_class())])
    serverapp.log.info("dlcourse: the Validate button runs the course's check (%s)", pattern)
