"""Benchmarks for Saydo; each module's docstring says what it measures and how to run it."""
