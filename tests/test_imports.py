"""Every package the chapters and regutils import is declared: nothing arrives by accident.

A chapter's imports are the book's: requirements.txt pins them (make book, make test). What
regutils imports at module level is also what Colab must install with it: pyproject.toml's
dependencies list them as loose lower bounds. A package used only inside a function that says
how to install it (torchvision) may be an optional extra instead.
"""

from __future__ import annotations

import ast
import re
import sys

import pytest

from tests.book import CHAPTERS, ROOT, cells, source

#: import name -> distribution name, for the packages whose names differ
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "IPython": "ipython",
    "yaml": "pyyaml",
    "myst_nb": "myst-nb",
}
#: packages that come with the notebook tool-chain itself: ipykernel runs every chapter, and
#: jupyter-book brings myst-nb (chapter 11 imports it in a try, for the front page's figure)
WITH_JUPYTER = {"ipython", "myst-nb"}


def imported(code: str, *, top_level_only: bool = False) -> set[str]:
    """The top-level package names imported by ``code``."""
    tree = ast.parse(code)
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def third_party(names: set[str]) -> set[str]:
    own = {"regutils", "tests", "scripts", "benchmarks"}
    return {
        DISTRIBUTIONS.get(n, n).lower()
        for n in names
        if n not in sys.stdlib_module_names and n not in own and n != "__future__"
    }


def requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~\[ ;]", line)[0].lower())
    return names


PINNED = requirement_names((ROOT / "requirements.txt").read_text().splitlines())


def toml_list(text: str, name: str) -> list[str]:
    """The strings of the first list assigned to ``name`` in pyproject.toml (no tomllib on
    Python 3.10, which the book supports)."""
    body = re.search(rf"^{name} = \[(.*?)\]", text, re.M | re.S).group(1)
    return re.findall(r'"([^"]+)"', re.sub(r"#.*", "", body))


PYPROJECT = (ROOT / "pyproject.toml").read_text()
DEPENDENCIES = requirement_names(toml_list(PYPROJECT, "dependencies"))
OPTIONAL = requirement_names(toml_list(PYPROJECT, "torchvision"))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_imports_are_pinned(path):
    code = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "code")
    missing = third_party(imported(code)) - PINNED - WITH_JUPYTER
    assert not missing, f"{path.name} imports {sorted(missing)}: pin them in requirements.txt"


def test_regutils_module_level_imports_are_dependencies():
    missing = {}
    for module in sorted((ROOT / "regutils").rglob("*.py")):
        names = third_party(imported(module.read_text(), top_level_only=True))
        if names - DEPENDENCIES:
            missing[module.name] = sorted(names - DEPENDENCIES)
    assert not missing, f"declare in pyproject.toml's dependencies: {missing}"


def test_regutils_imports_anywhere_are_declared():
    """Imports inside functions too: a dependency, an optional extra, or Jupyter's own."""
    found = set()
    for module in (ROOT / "regutils").rglob("*.py"):
        found |= third_party(imported(module.read_text()))
    missing = found - DEPENDENCIES - OPTIONAL - WITH_JUPYTER
    assert not missing, f"regutils imports {sorted(missing)}, which pyproject.toml does not declare"


def test_the_pins_cover_regutils_dependencies():
    assert DEPENDENCIES <= PINNED, f"pin {sorted(DEPENDENCIES - PINNED)} in requirements.txt"
