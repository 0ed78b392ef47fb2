"""The import rules of docs/design.md, read from the source (every import statement, also those
inside functions): the trainer knows no family or network, metrics and data do not depend on
each other, and no two gan_jax modules import each other in a cycle."""
import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "gan_jax")


def _module_name(path):
    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def _modules():
    out = {}
    for root, _, files in os.walk(PACKAGE):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(root, f)
                out[_module_name(path)] = path
    return out


MODULES = _modules()


def _imports(path):
    """Every gan_jax module named by an import in the file (a `from gan_jax.x import y` counts
    as gan_jax.x.y when that is a module, else gan_jax.x)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                     else node.module for a in node.names]
        else:
            continue
        found.update(n for n in names if n == "gan_jax" or n.startswith("gan_jax."))
    return found


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _violations(package, forbidden):
    return sorted((m, i) for m, imported in GRAPH.items() if m.startswith(package + ".")
                  or m == package for i in imported
                  if any(i == f or i.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("package,forbidden", [
    ("gan_jax.train", ("gan_jax.gans", "gan_jax.nets", "gan_jax.build")),
    ("gan_jax.metrics", ("gan_jax.data", "gan_jax.train", "gan_jax.gans", "gan_jax.nets",
                         "gan_jax.registry", "gan_jax.evaluators")),
    ("gan_jax.data", ("gan_jax.metrics", "gan_jax.train", "gan_jax.gans", "gan_jax.nets",
                      "gan_jax.evaluators")),
    ("gan_jax.nets", ("gan_jax.gans", "gan_jax.train", "gan_jax.data", "gan_jax.metrics",
                      "gan_jax.registry")),
    ("gan_jax.ops", tuple(sorted({m for m in MODULES if m.startswith("gan_jax.")
                                  and not m.startswith("gan_jax.ops") and m != "gan_jax.errors"}))),
])
def test_import_rules(package, forbidden):
    assert _violations(package, forbidden) == []


def test_no_import_cycles():
    """Depth-first search for a cycle among gan_jax modules (imports inside functions count)."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(GRAPH.get(m, ())):
            if n not in GRAPH or n == m:
                continue
            if state.get(n) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_the_rules_see_imports_inside_functions():
    """The checker itself: a function-level import is found."""
    assert "gan_jax.registry" in GRAPH["gan_jax.evaluators"]   # imported inside a method


def test_metrics_do_not_load_tensorflow_datasets():
    """Computing an MNIST FID (features, statistics, distance) imports no tfds."""
    code = ("import sys, numpy as np\n"
            "from gan_jax.metrics.features.lenet import MnistExtractor\n"
            "from gan_jax.metrics import compare\n"
            "x = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype(np.float32)\n"
            "e = MnistExtractor()\n"
            "print(compare.score_sets(e(x), e(x[::-1]), ('fid',))['fid'] >= 0)\n"
            "print('tensorflow_datasets' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "False"]
