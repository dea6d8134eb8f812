"""The instructor's side of the course: lessons to notebooks, releases, solutions, grading, feedback, tables.

Layered: a module imports only modules of earlier layers (tests/test_architecture.py checks it from the
code's own imports; docs/architecture.md says which file owns what). Student-facing helpers (dlcourse.checks,
...) never import anything from here.
"""

import sys as _sys

# jsonschema (loaded by nbformat's validator) imports rfc3987_syntax when it is installed, only to check the
# "iri" string format, which no notebook schema uses; that import compiles a Lark grammar, 0.8-1.5 CPU-s at
# the start of every instructor command (`python -X importtime -c "import nbformat"`). Marked absent,
# jsonschema skips that one format check and validates notebooks as before.
_sys.modules.setdefault("rfc3987_syntax", None)

LAYERS = [
    ["config", "sandbox", "mathjax", "pysource"],  # facts; the sandbox; where MathJax is; thread-safe parsing
    ["markers", "notebooks", "execution",         # the marker grammar; running nbgrader, notebooks and cells
     "forkserver"],                               # sandboxed kernels forked from pre-imported libraries
    ["nbgrader_ext", "lessons", "records", "guard", "exchange", "lms",  # + tamper evidence; exchange; LMS files
     "mutation", "cellflow"],                     # mutation operators; how an answer flows through the cells
    ["nbgrader_course", "inspection", "kernels", "gradebook", "validate",  # stock nbgrader; checks; kernels; ...
     "variants"],                                 # a notebook run with cells replaced, scored like nbgrader
    ["submission", "tables", "feedback", "solutions", "samples", "jupyter_ext",  # one submission; results
     "mutants"],                                  # ./course mutants: the mutation score of the hidden tests
    ["worker", "site", "bench"],                  # a worker's task; the solutions site; the speed benchmark
    ["grading"],                                  # a folder of submissions on Dask; the single writer
    ["watch"],                                    # grading on submission, from the exchange
    ["cli"],                                      # the one command line; nothing imports it
]
