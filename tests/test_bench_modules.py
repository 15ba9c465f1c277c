"""The benchmarks are run by hand, not by CI: check here that each still imports against the
code it measures, so a moved function breaks a test rather than the next person's bench run."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(BENCH)]))


def test_the_benchmarks_are_found():
    assert {"ack_latency", "fanout", "pack_charts_bench", "reports_bench"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_each_benchmark_imports(name):
    module = importlib.import_module(f"bench.{name}")
    assert module.__doc__, f"bench/{name}.py says what it measures in its docstring"
