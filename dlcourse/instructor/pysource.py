"""Python source to a syntax tree, from any thread.

CPython 3.11 keeps the recursion depth of its AST conversion in interpreter-wide state, so two threads
parsing at once can fail with ``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905,
fixed in later releases). The local cluster's workers are threads of the grading process, and they parse
every submission's cells; every parse of the instructor pipeline goes through ``parse``, one at a time.
"""

import ast
import threading

_LOCK = threading.RLock()  # re-entrant: a finalizer run by the collector inside a parse may parse too


def parse(source, filename="<unknown>", mode="exec"):
    """``ast.parse(source, filename, mode)`` under the process's one parsing lock."""
    with _LOCK:
        return ast.parse(source, filename, mode)
