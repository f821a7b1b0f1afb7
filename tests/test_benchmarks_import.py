"""Every benchmark script still imports: a module moved in the library must not leave a
benchmark that no longer runs (three had rotted that way before this test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).parent.parent / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_imports(script: Path) -> None:
    if script.name == "pyocto_compare.py" and importlib.util.find_spec("pyocto") is None:
        pytest.skip("PyOcto is an optional baseline (pip install pyocto)")
    spec = importlib.util.spec_from_file_location(f"bench_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
