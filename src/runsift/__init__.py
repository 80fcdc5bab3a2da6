"""runsift: index, browse, diff and explain experiment run records kept as folders on disk."""

__version__ = "0.1.0"
