"""The house: no import cycle between any two files, layers that point one way, every module saying its job, none
longer than 400 lines.

The imports are read with `ast` (no module is imported), so a cycle is reported even where a late import
inside a function would hide it at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "tools", "policies", "knowledge", "sandbox", "prompts")
# a lower layer never imports a higher one: (package, what it must not import)
FORBIDDEN = {"tools": {"bot"}, "knowledge": {"bot", "tools"}, "policies": {"bot", "tools", "knowledge"},
             "prompts": {"bot", "tools", "knowledge", "policies"}}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _owner(name: str, known: dict[str, Path]) -> str | None:
    """The project file an imported name lives in: the longest known module prefix."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            owner = _owner(target, known)
            if owner is not None and owner != name:
                out.add(owner)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(edges):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(edges[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(edges.get(nxt, ()))))
    return None


def test_no_import_cycle_between_any_two_files() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_cycle_finder_reports_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_lower_layers_import_nothing_above_them() -> None:
    breaks = [f"{m} imports {t}" for m, targets in graph().items() for t in sorted(targets)
              if t.split(".")[0] in FORBIDDEN.get(m.split(".")[0], set())]
    assert not breaks, "\n".join(breaks)


MAX_LINES = 400  # the house limit: a module that grows past it is split by concern


def test_no_module_is_longer_than_the_house_limit() -> None:
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in modules().values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, f"split by concern (at most {MAX_LINES} lines): " + ", ".join(long)


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_opens_with_a_line_that_says_its_job(name: str) -> None:
    path = modules()[name]
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc and doc.splitlines()[0].strip(), f"{path.relative_to(ROOT)} has no opening docstring"
