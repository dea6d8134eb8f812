"""Running one cell in a kernel from outside it, and collecting what it sent back.

The grader drives the kernel with jupyter_client's messaging protocol itself (not nbclient), so that it
decides what a timeout, an interrupt that is ignored and a dead kernel mean for each cell, measures each
cell, bounds what a cell may print, and reads the ``user_expressions`` of the reply (the channel the
grading guard answers on, see ``guard``).
"""

import queue
import time
from dataclasses import dataclass, field

import nbformat

OUTPUT_LIMIT = 2 * 2**20  # bytes of text and data a cell may send back; the rest is dropped (and said)
INTERRUPT_GRACE = 10.0  # seconds a cell has to stop after the interrupt sent at its timeout


@dataclass
class CellRun:
    """What running one cell produced.

    - status: "ok", "error" (the kernel replied with an error), "timeout" (past the cell timeout; it stopped
      after the interrupt), "hung" (it ignored the interrupt: the kernel must be killed), "dead" (the
      kernel died during the cell).
    - outputs: nbformat output nodes, in order; reply: the execute_reply content ({} when none came).
    """
    status: str
    outputs: list = field(default_factory=list)
    reply: dict = field(default_factory=dict)
    seconds: float = 0.0
    truncated: bool = False


class _Outputs:
    """Collects output messages into nbformat outputs: streams merged, clear_output honoured, size bounded."""

    def __init__(self, limit):
        self.items, self.size, self.limit, self.truncated, self._clear_pending = [], 0, limit, False, False

    def add(self, msg):
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "clear_output":
            if content.get("wait"):
                self._clear_pending = True
            else:
                self.items, self.size = [], 0
            return
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return
        if self._clear_pending:
            self.items, self.size, self._clear_pending = [], 0, False
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        if self.size + size > self.limit:
            self.truncated = True
            if kind != "error":
                return
        self.size += size
        last = self.items[-1] if self.items else None
        if kind == "stream" and last is not None and last.output_type == "stream" and last.name == content["name"]:
            last.text += content["text"]
        else:
            self.items.append(nbformat.v4.output_from_msg(msg))


class KernelSession:
    """A started kernel seen from the grader: run cells one at a time.

    Inputs:
    - client: a started jupyter_client BlockingKernelClient (channels running).
    - is_alive: callable() -> bool, False once the kernel process is gone.
    - interrupt: callable() sending the kernel an interrupt.
    """

    def __init__(self, client, is_alive, interrupt, output_limit=OUTPUT_LIMIT):
        self.client, self.is_alive, self.interrupt, self.output_limit = client, is_alive, interrupt, output_limit

    def run(self, code, timeout, user_expressions=None):
        """Run ``code`` and wait for it, at most ``timeout`` seconds (then interrupt, then give up).

        Returns:
        - a CellRun.
        """
        start = time.perf_counter()
        msg_id = self.client.execute(code, silent=False, store_history=False, user_expressions=user_expressions or {},
                                     allow_stdin=False, stop_on_error=False)
        outputs = _Outputs(self.output_limit)
        status = self._wait_idle(msg_id, outputs, start + timeout)
        if status == "timeout":
            self.interrupt()
            if self._wait_idle(msg_id, outputs, time.perf_counter() + INTERRUPT_GRACE) != "idle":
                status = "hung" if self.is_alive() else "dead"
        reply = self._reply(msg_id) if status in ("idle", "timeout") else {}
        if status == "idle":
            status = "error" if reply.get("status") == "error" else "ok" if reply else "dead"
        return CellRun(status, outputs.items, reply, time.perf_counter() - start, outputs.truncated)

    def _wait_idle(self, msg_id, outputs, deadline):
        """Read IOPub until the kernel is idle for ``msg_id``: "idle", "timeout" or "dead"."""
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return "timeout"
            try:
                msg = self.client.get_iopub_msg(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not self.is_alive():
                    return "dead"
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["header"]["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "idle"
            outputs.add(msg)

    def _reply(self, msg_id, timeout=10.0):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                msg = self.client.get_shell_msg(timeout=0.5)
            except queue.Empty:
                if not self.is_alive():
                    return {}
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]
        return {}
