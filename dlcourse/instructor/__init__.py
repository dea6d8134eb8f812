"""The instructor pipeline: releasing, grading in sandboxed kernels, feedback and grades."""
