"""The package's one-way stack: runtime at the bottom, train above it, export on top.

Read from the source, so an import hidden in a rarely-run branch fails here too: the runtime
must install and run on a Raspberry Pi without TensorFlow, and training must not depend on
its exporters.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = {  # folder -> modules its code may never import
    "runtime": ("tegaki.train", "tegaki.export", "tensorflow", "keras", "tf2onnx", "onnx"),
    "train": ("tegaki.export",),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("folder", list(FORBIDDEN))
def test_no_module_imports_a_layer_above_it(folder):
    sources = sorted((REPO / folder).rglob("*.py"))
    assert sources, f"no sources under {folder}/"
    breaches = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in sources
        for line, module in imported_modules(path)
        if any(module == banned or module.startswith(banned + ".") for banned in FORBIDDEN[folder])
    ]
    assert not breaches, "\n".join(breaches)


def test_the_rule_sees_a_breach(tmp_path):
    """The scan itself works: an import of a banned module is found."""
    source = tmp_path / "bad.py"
    source.write_text("def f():\n    from tegaki.train.training import train\n    import onnx.helper\n")
    modules = [module for _, module in imported_modules(source)]
    assert modules == ["tegaki.train.training", "onnx.helper"]
