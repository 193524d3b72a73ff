"""The benchmark (``python -m benchmarks``): see ``__main__``."""
