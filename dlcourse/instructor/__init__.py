"""The instructor's side of the course: lessons to notebooks, releases, solutions, grading, feedback, tables.

Layered: a module imports only modules of earlier layers (tests/test_architecture.py checks it from the
code's own imports; docs/architecture.md says which file owns what). Student-facing helpers (dlcourse.checks,
...) never import anything from here.
"""

LAYERS = [
    ["config"],                                   # facts: root, assignments, kernel, limits, cell timeout, log
    ["markers", "notebooks"],                     # the marker grammar; running nbgrader and notebooks
    ["nbgrader_ext", "lessons", "records", "mutation", "cellflow"],  # preprocessors; lessons; records; mutation
                                                  # operators; how an answer flows through the cells
    ["nbgrader_course", "inspection", "isolation", "variants"],  # private courses; submission checks; limits;
                                                  # a notebook run with cells replaced, scored like nbgrader
    ["submission", "gradebook", "tables", "feedback", "solutions", "samples", "mutants"],
    ["grading", "site"],                          # the parallel loop and its single writer; the solutions site
    ["cli"],                                      # the one command line; nothing imports it
]
