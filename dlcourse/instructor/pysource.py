"""Python source to a syntax tree, from any thread.

CPython 3.11 keeps the recursion depth of its AST conversion in interpreter-wide state, so two threads
parsing at once can fail with ``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905,
fixed in later releases). The local cluster's workers are threads of the grading process and parse every
submission's cells, and libraries parse too (``ast.literal_eval`` in lark's grammar loader, which
jsonschema's format checks load on first use, in whichever thread validates a notebook first).

``parse`` is the pipeline's one way to parse. ``lock_every_parse`` (called by grading before its worker
threads start) puts the same lock around ``ast.parse`` for the whole process, which ``ast.literal_eval`` and
``inspect`` call through the module: the libraries' parses then wait their turn too.
"""

import ast
import threading

_LOCK = threading.RLock()  # re-entrant: a finalizer run by the collector inside a parse may parse too
_UNLOCKED_PARSE = ast.parse


def parse(source, filename="<unknown>", mode="exec", **options):
    """``ast.parse(source, filename, mode)`` under the process's one parsing lock."""
    with _LOCK:
        return _UNLOCKED_PARSE(source, filename, mode, **options)


def literal_eval(text):
    """``ast.literal_eval(text)`` under the same lock."""
    with _LOCK:
        return ast.literal_eval(text)


def lock_every_parse():
    """Make ``ast.parse`` itself take the lock, for every caller in this process (idempotent)."""
    ast.parse = parse
