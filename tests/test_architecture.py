"""The shape of the house, checked: the core never imports its wrappers, modules import each
other without circles, the public face is pinned, and modules and functions stay readable."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import truceline

PACKAGE = Path(truceline.__file__).resolve().parent
WRAPPERS = ("api", "cli", "store", "web")


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, *, top_level_only: bool) -> set[str]:
    """The truceline modules ``name`` imports (resolving relative imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("truceline")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("truceline"):
                found.add(target)
                found |= {f"{target}.{a.name}" for a in node.names}
    modules = _modules()
    return {m for m in found if m in modules and m != name}


def _layer(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in WRAPPERS else None


WRAPPERS = (*WRAPPERS, "__main__")  # `python -m truceline` is the command line


def test_the_core_never_imports_a_wrapper() -> None:
    offenders = []
    for name, path in _modules().items():
        if _layer(name) is None:
            for target in _imports(name, path, top_level_only=False):
                if _layer(target) is not None:
                    offenders.append(f"{name} imports {target}")
    assert not offenders, offenders


def _related(a: str, b: str) -> bool:
    """A package and one of its own modules (a package shows its face by importing them)."""
    return a.startswith(b + ".") or b.startswith(a + ".")


def test_no_import_circles() -> None:
    graph = {n: _imports(n, p, top_level_only=True) for n, p in _modules().items()}
    graph = {n: {m for m in targets if not _related(n, m)} for n, targets in graph.items()}
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in path:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in done:
                visit(nxt, [*path, nxt])
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node, [node])
    assert not cycles, cycles


def test_the_public_face_is_pinned() -> None:
    assert truceline.__all__ == [
        "Agreement",
        "InputError",
        "TrucelineError",
        "__version__",
        "analyze",
        "evaluate",
        "load_agreement",
        "read_observations",
        "simulate",
    ]
    for name in truceline.__all__:
        assert hasattr(truceline, name), name


def test_every_module_says_what_it_exports_and_has_it() -> None:
    for info in pkgutil.walk_packages(truceline.__path__, "truceline."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{info.name} has no __all__"
        missing = [n for n in exported if not hasattr(module, n)]
        assert not missing, (info.name, missing)


@pytest.mark.parametrize("limit", [500])
def test_modules_stay_readable(limit: int) -> None:
    long = {n: len(p.read_text().splitlines()) for n, p in _modules().items()}
    assert {n: k for n, k in long.items() if k > limit} == {}


def test_functions_stay_readable() -> None:
    """No function over 80 lines outside the simulator (a world description is long)."""
    long = []
    for name, path in _modules().items():
        if name.startswith("truceline.simulate"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > 80:
                    long.append(f"{name}.{node.name}: {size} lines")
    assert not long, long
