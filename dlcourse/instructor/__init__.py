"""The instructor's side of the course: lessons to notebooks, releases, solutions, grading, feedback, tables.

Layered: a module imports only modules of earlier layers (tests/test_architecture.py checks it from the
code's own imports; docs/architecture.md says which file owns what). Student-facing helpers (dlcourse.checks,
...) never import anything from here.
"""

LAYERS = [
    ["config", "sandbox", "mathjax", "pysource"],  # facts; the sandbox; where MathJax is; thread-safe parsing
    ["markers", "notebooks", "execution"],        # the marker grammar; running nbgrader, notebooks and cells
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
