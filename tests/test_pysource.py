"""dlcourse/instructor/pysource.py: parsing from many threads at once (the local cluster's workers are
threads), and no parse of the pipeline that bypasses it."""

import gc
import re
import threading
import time

from dlcourse.instructor.config import ROOT
from dlcourse.instructor.pysource import parse

NESTED = "def f(x):\n" + "".join(f"    y{i} = [(a, {{'b': [c for c in a]}}) for a in x if a > {i}]\n" for i in range(60))


class YieldingGarbage:
    """Cyclic garbage whose finalizer lets another thread run: the garbage collector can run it in the middle
    of an AST conversion, which is how two parses interleave (with a bare ast.parse, this recipe fails with
    "AST constructor recursion depth mismatch" on CPython 3.11.7)."""

    def __del__(self):
        time.sleep(0)


def test_parse_from_eight_threads_at_once():
    errors = []

    def work():
        try:
            for _ in range(40):
                garbage = YieldingGarbage()
                garbage.cycle = garbage
                del garbage
                assert len(parse(NESTED).body[0].body) == 60
        except Exception as error:  # noqa: BLE001 - collected and reported below
            errors.append(error)

    threshold = gc.get_threshold()
    gc.set_threshold(50, 5, 5)
    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.set_threshold(*threshold)
    assert not errors, f"parsing from 8 threads failed: {errors[:3]}"


def test_every_parse_of_the_pipeline_goes_through_pysource():
    bypassing = [f"{path.name}:{number}" for path in sorted((ROOT / "dlcourse" / "instructor").glob("*.py"))
                 if path.name != "pysource.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\bast\.(parse|literal_eval)\(", line)]
    assert not bypassing, f"ast.parse or ast.literal_eval called directly (not thread-safe on CPython 3.11) at {bypassing}"


def test_lock_every_parse_covers_the_libraries_literal_eval():
    """After lock_every_parse, ast.literal_eval (lark's grammar loader, traitlets, ...) waits for the lock too:
    the stress recipe with literal_eval on some threads and parse on the others."""
    import ast

    from dlcourse.instructor.pysource import lock_every_parse

    lock_every_parse()
    assert ast.parse is parse
    errors = []

    def work(index):
        try:
            for _ in range(40):
                garbage = YieldingGarbage()
                garbage.cycle = garbage
                del garbage
                if index % 2:
                    assert ast.literal_eval("[(1, {'a': [2, (3, 4)]})]") == [(1, {"a": [2, (3, 4)]})]
                else:
                    parse(NESTED)
        except Exception as error:  # noqa: BLE001 - collected and reported below
            errors.append(error)

    threshold = gc.get_threshold()
    gc.set_threshold(50, 5, 5)
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.set_threshold(*threshold)
    assert not errors, f"literal_eval and parse from 8 threads failed: {errors[:3]}"
