"""spark-tui: a terminal dashboard for the NVIDIA DGX Spark."""

__version__ = "0.1.0"
