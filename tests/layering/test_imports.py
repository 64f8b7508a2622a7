"""Layering: the library never imports its CLI, and module-level imports inside `dlpo` form no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """The dlpo modules `path` imports (the module itself, or the package whose name it imports)."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("dlpo"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlpo"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    return {
        name: {m for m in imports(path, top_level_only) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_the_library_never_imports_the_cli():
    offenders = {
        m: sorted(i for i in deps if i == "dlpo.cli" or i.startswith("dlpo.cli."))
        for m, deps in graph(top_level_only=False).items()
        if not (m == "dlpo.cli" or m.startswith("dlpo.cli."))
    }
    assert {m: d for m, d in offenders.items() if d} == {}


def test_module_level_imports_have_no_cycle():
    g = graph(top_level_only=True)
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(g[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node)
    assert cycles == []
