"""The package's layering, read from the source (ast), not from what happens to import:
no import cycles (lazy imports inside functions included), nothing imports the CLI, and the
graph and its ops import no backend."""

from __future__ import annotations

import ast
from pathlib import Path

import codesign

ROOT = Path(codesign.__file__).parent
BACKENDS = ("codesign.rtl", "codesign.hls", "codesign.sim", "codesign.energy", "codesign.verify")


def _modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def _imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Every codesign module each module imports, anywhere in its body."""

    def owner(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    deps: dict[str, set[str]] = {}
    for m, p in mods.items():
        found = set()
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            found |= {owner(n) for n in names if n.startswith("codesign")}
        deps[m] = {d for d in found if d and d != m}
    return deps


def _cycle(deps: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(deps.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d) :] + [d]
            if d not in state and (c := visit(d)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(deps):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_no_import_cycles():
    cycle = _cycle(_imports(_modules()))
    assert cycle is None, " -> ".join(cycle)


def test_nothing_imports_the_cli_and_the_graph_imports_no_backend():
    deps = _imports(_modules())
    assert [m for m, d in deps.items() if "codesign.cli" in d and m != "codesign.__main__"] == []
    graph = {m: d for m, d in deps.items() if m.startswith("codesign.graph")}
    bad = {m: sorted(x for x in d if x.startswith(BACKENDS)) for m, d in graph.items()}
    assert {m: d for m, d in bad.items() if d} == {}


def test_the_cycle_finder_finds_a_planted_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
