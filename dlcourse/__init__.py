"""Helpers shared by the deep-learning practicals and their tests.

Student-facing modules (imported by the notebooks): ``checks`` (comparisons with messages for students),
``gradcheck`` (finite differences), ``data`` (offline MNIST and housing), ``seeding``, ``plotting``, and the
per-practical ``compgraph``, ``mlp_checks``, ``tf_tools``, ``pytorch_mlp``, ``convnets``. The instructor's
pipeline is the subpackage ``dlcourse.instructor`` (``./course``).
"""

from dlcourse.seeding import seed_everything

__all__ = ["seed_everything"]
