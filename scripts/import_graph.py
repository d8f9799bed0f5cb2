"""Print the import graph of shared/, emulator/ and devhost/, the imports between them, and any cycles.

    python scripts/import_graph.py [ROOT]          # exit status 1 when there is a cycle

Standard library only (``ast``): every ``import`` in a module counts, including imports inside functions (marked
``lazy``, they still run), except imports under ``if TYPE_CHECKING:`` (marked ``types``, never run, so left out
of the cycle search). Importing a submodule is an edge to that submodule only (not to its parent packages).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("shared", "emulator", "devhost")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # "top", "lazy" (inside a function) or "types" (under TYPE_CHECKING)


def modules(root: Path) -> dict[str, Path]:
    """Module name -> file, for every ``.py`` file of the packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import statement with its kind."""
    result: list[tuple[ast.Import | ast.ImportFrom, str]] = []

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                result.append((child, kind))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for item in child.body:
                    visit(ast.Module(body=[item], type_ignores=[]), "types")
                for item in child.orelse:
                    visit(ast.Module(body=[item], type_ignores=[]), kind)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, "types" if kind == "types" else "lazy")
            else:
                visit(child, kind)

    visit(tree, "top")
    return result


def edges(root: Path) -> list[Edge]:
    known = modules(root)
    found: set[Edge] = set()
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        here = name.split(".") if is_package else name.split(".")[:-1]
        for node, kind in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                # `from pkg import submodule` is an edge to the submodule; `from mod import name` to mod
                named = [f"{module}.{alias.name}" for alias in node.names]
                targets = [t for t in named if t in known]
                if len(targets) < len(named):
                    targets.append(module)
            for target in targets:
                while target and target not in known and "." in target:
                    target = target.rsplit(".", 1)[0]  # `import shared.protocol.x` of a name: its module
                if target in known and target != name:
                    found.add(Edge(name, target, kind))
    return sorted(found, key=lambda e: (e.source, e.target, e.kind))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(max(1000, 10 * len(graph)))
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(result)


def report(root: Path) -> tuple[str, list[list[str]], list[Edge]]:
    """The printed report, the cycles, and the imports that cross from one package to another."""
    all_edges = edges(root)
    graph: dict[str, set[str]] = {name: set() for name in modules(root)}
    for edge in all_edges:
        if edge.kind != "types":
            graph[edge.source].add(edge.target)
    found = cycles(graph)
    crossing = [e for e in all_edges if e.source.split(".")[0] != e.target.split(".")[0]]
    lines = []
    for package in PACKAGES:
        names = [n for n in graph if n.split(".")[0] == package]
        lines.append(f"{package}/ ({len(names)} modules)")
        for name in sorted(names):
            inside = [e for e in all_edges if e.source == name and e.target.split(".")[0] == package]
            if inside:
                shown = ", ".join(e.target + ("" if e.kind == "top" else f" ({e.kind})") for e in inside)
                lines.append(f"  {name} -> {shown}")
    lines.append("between packages:")
    for edge in crossing:
        lines.append(f"  {edge.source} -> {edge.target}" + ("" if edge.kind == "top" else f" ({edge.kind})"))
    lines.append("cycles:" + ("" if found else " none"))
    for component in found:
        lines.append("  " + " <-> ".join(component))
    return "\n".join(lines), found, crossing


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    text, found, _ = report(root)
    print(text)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
