"""The instructor's side of the course: lessons to notebooks, releases, solutions, grading, feedback, tables.

Layered: a module imports only modules of earlier layers (tests/test_architecture.py checks it from the
code's own imports; docs/architecture.md says which file owns what). Student-facing helpers (dlcourse.checks,
...) never import anything from here.
"""

LAYERS = [
    ["config", "mathjax"],                        # facts: root, assignments, kernel, limits, ...; where MathJax is
    ["markers", "notebooks"],                     # the marker grammar; running nbgrader and notebooks
    ["nbgrader_ext", "lessons", "records", "exchange", "lms"],  # + the exchange's folders; LMS import files
    ["nbgrader_course", "inspection", "isolation", "validate"],  # private courses; checks; limits; validate
    ["submission", "gradebook", "tables", "feedback", "solutions", "samples", "jupyter_ext"],
    ["grading", "site"],                          # the parallel loop and its single writer; the solutions site
    ["cli"],                                      # the one command line; nothing imports it
]
