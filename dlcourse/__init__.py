"""Helpers shared by the deep-learning practicals and their tests.

Modules: ``checks`` (comparisons with messages for students), ``gradcheck`` (finite differences),
``data`` (offline MNIST and housing), ``seeding``, ``lessons`` (lesson files -> notebooks),
``course`` (the instructor commands), ``nbgrader_ext`` (grading preprocessors).
"""

from dlcourse.seeding import seed_everything

__all__ = ["seed_everything"]
