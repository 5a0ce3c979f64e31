"""The package's structure: layers that import only downwards, and no import cycle.

Every ``import anrc...`` in the library counts, at module level or inside a
function (a function-local import dodges a cycle at run time, not in the design);
only ``if TYPE_CHECKING:`` blocks are left out.
"""

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "anrc"

#: lowest first; a part may import its own layer and the layers below it
LAYERS = [
    {"version", "errors", "registry", "fsio", "progress"},
    {"device", "config"},
    {"data"},
    {"adversarial", "metrics"},  # the methods work through the seam: no model class needed
    {"models", "builder"},  # a trained model reads its settings through the builder
    {"pretrained"},
    {"inference", "extraction"},  # the Python API's extract() runs the extraction path
    {"training", "attacks", "export", "serve"},
    {"experiments"},
    {"cli", "__main__"},
]
LEVEL = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                lines.add(getattr(sub, "lineno", -1))
    return lines


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("anrc")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base.startswith("anrc"):
                found.add(base)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imp in _imports(path):
            while imp not in modules and "." in imp:  # "from anrc.data import read": the package
                imp = imp.rpartition(".")[0]
            if imp in modules and imp != name:
                targets.add(imp)
        graph[name] = targets
    return graph


def _part(module: str) -> str:
    """The top-level part a module belongs to; ``__init__`` for the package's facade
    (``anrc.load``, above every layer, imported by no library module)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_library_module_imports_the_facade():
    assert [m for m, targets in _graph().items() if "anrc" in targets] == []


def test_every_part_has_a_layer():
    parts = {_part(m) for m in _graph()} - {"__init__"}
    assert parts <= set(LEVEL), f"add {sorted(parts - set(LEVEL))} to LAYERS"


def test_no_part_imports_a_higher_layer():
    upward = [
        f"{src} -> {dst}"
        for src, targets in _graph().items()
        for dst in targets
        if "__init__" not in (_part(src), _part(dst)) and LEVEL[_part(dst)] > LEVEL[_part(src)]
    ]
    assert upward == []


def test_no_import_cycle():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


# --- Imports at the top, unless a stated reason ---------------------------------------
#
# A function-local import carries one of two reasons as a comment on its line (or the
# line above a multi-line one), and the reason is checked, not just present:
#   # optional: EXTRA    the module is (or pulls in) a package of that pyproject extra;
#   # start-up: PACKAGE  PACKAGE is in benchmarks/bench_startup.py's HEAVY (the commands'
#                        start-up time measured there) and importing the module loads it.
REASON = re.compile(r"#\s*(optional|start-up):\s*([\w.]+)")
ROOT = SRC.parents[1]


def _local_imports() -> list[tuple[str, int, str, str]]:
    """(file, line, imported module, the line's text) of every function-local import."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import):
                    module = sub.names[0].name
                elif isinstance(sub, ast.ImportFrom):
                    module = sub.module or ""
                else:
                    continue
                where = f"{path.relative_to(ROOT)}:{sub.lineno}"
                said = lines[sub.lineno - 1] + " " + lines[sub.lineno - 2]
                found.append((where, sub.lineno, module, said))
    return found


def _extras() -> dict[str, set[str]]:
    """Each pyproject extra and the import names of its packages."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = data["project"]["optional-dependencies"]
    return {
        extra: {re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0].replace("-", "_") for spec in specs}
        for extra, specs in extras.items()
    }


def _heavy() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "benchmarks" / "bench_startup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "HEAVY":
            return ast.literal_eval(node.value)
    raise AssertionError("benchmarks/bench_startup.py has no HEAVY")


def _loads(module: str) -> set[str]:
    """The top-level packages importing ``module`` loads, in a fresh interpreter."""
    code = f"import sys, {module}; print(' '.join(sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-500:]
    return set(r.stdout.split())


def test_every_function_local_import_states_a_checked_reason():
    extras, heavy, wrong = _extras(), _heavy(), []
    for where, _, module, said in _local_imports():
        m = REASON.search(said)
        if not m:
            wrong.append(f"{where}: import {module} inside a function with no reason")
            continue
        kind, name = m.groups()
        if kind == "optional":
            wanted = extras.get(name, set())
            if module.split(".")[0] not in wanted and not (_loads(module) & wanted):
                wrong.append(f"{where}: {module} is not (and does not load) a package of [{name}]")
        elif name not in heavy:
            wrong.append(f"{where}: {name} is not measured in bench_startup.py's HEAVY")
        elif module != name and not module.startswith(name + ".") and name not in _loads(module):
            wrong.append(f"{where}: importing {module} does not load {name}")
    assert not wrong, "\n".join(wrong)


def test_a_reason_for_start_up_is_real():
    """The check above can fail: a module that does not load the package it names."""
    assert "optuna" in _loads("anrc.experiments.runner")
    assert "optuna" not in _loads("anrc.experiments.grid")
