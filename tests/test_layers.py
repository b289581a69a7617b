"""Layers point one way: base ← engine (with models, data) ← domain (lessons, sim, classroom, replay, …) ← tui ←
commands. Built from the source with ast, imports inside functions included: a module may import only from
its own layer or below, and none hides an import inside a function (to dodge a circle, or to load later)."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "teach_sgd"

# top-level name under teach_sgd → layer; a module not named here is in the base layer (errors, values,
# settings, format, output, signals, child, userdata: what every layer uses)
LAYERS = {
    **dict.fromkeys(("engine", "models", "data"), 1),
    **dict.fromkeys(("lessons", "sim", "classroom", "replay", "runs", "columns", "report", "timeline"), 2),
    "tui": 3,
    "commands": 4,
}
NAMES = {0: "base", 1: "engine", 2: "domain", 3: "tui", 4: "commands"}
# The imports allowed inside a function, each with its reason (none dodges a circle)
IN_FUNCTION = {
    "teach_sgd.commands.main": "the stop signals are installed before the command modules bring in numba, the "
                               "engine and the app (one to two seconds), so a Ctrl-C during that import ends "
                               "cleanly (commands/main.py)",
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def _targets(module: str, node) -> list[str]:
    """The teach_sgd modules an import statement loads."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = module.split(".")
        if node.level:
            keep = len(base) - node.level + (MODULES[module].name == "__init__.py")
            base = base[:keep]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]
    out = []
    for name in names:
        if name.startswith("teach_sgd"):
            while name not in MODULES and "." in name:
                name = name.rsplit(".", 1)[0]
            out.append(name)
    return out


def imports():
    """(importer, imported, line, inside a function) for every import of a teach_sgd module."""
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        in_function = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, node):
                    yield module, target, node.lineno, id(node) in in_function


def test_every_import_points_down_or_sideways():
    upward = [f"{a}:{line} ({NAMES[layer(a)]}) imports {b} ({NAMES[layer(b)]})"
              for a, b, line, _ in imports() if layer(b) > layer(a)]
    assert not upward, "\n".join(upward)


def test_no_import_is_hidden_inside_a_function():
    hidden = [f"{a}:{line} imports {b} inside a function" for a, b, line, inner in imports()
              if inner and a not in IN_FUNCTION]
    assert not hidden, "\n".join(hidden)


def test_no_circle_between_packages():
    """sim ↔ lessons, engine.runner ↔ engine.warmup: a circle of modules means neither can be read alone."""
    graph: dict[str, set[str]] = {}
    for a, b, _, _ in imports():
        if a != b and not a.startswith(b + "."):  # a package's own __init__ is not a circle
            graph.setdefault(a, set()).add(b)
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    assert not circles, circles


def test_the_graph_sees_imports_inside_functions():
    """The test reads what it claims to: an import inside a function is found and placed."""
    source = "def f():\n    from teach_sgd.tui.app import launch\n"
    tree = ast.parse(source)
    node = tree.body[0].body[0]
    assert _targets("teach_sgd.replay", node) == ["teach_sgd.tui.app"]
    assert layer("teach_sgd.tui.app") > layer("teach_sgd.replay")
