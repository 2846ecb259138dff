"""Colab, simulated: the setup cell's `pip install` leaves an existing torch stack alone.

Colab ships its own torch, torchvision, numpy and matplotlib, built for its GPUs; a chapter's
setup cell that reinstalled, upgraded or downgraded any of them would cost the reader minutes
and could break the runtime. This test runs the setup cell's own pip command, with the
repository swapped for this checkout, as a dry run in this virtual environment (which has the
same packages installed, like Colab), and reads pip's JSON report of what it *would* install.

Offline and fast (about 2 s): `--no-index` means pip can only use what is installed, so a
requirement the installed packages cannot satisfy fails the resolution instead of reaching for
the network; `--no-build-isolation` builds regutils' metadata with the installed setuptools
(pyproject.toml's build requirement) instead of downloading one into a fresh environment.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.book import CHAPTERS, ROOT, cells, source

COLAB_STACK = ("torch", "torchvision", "numpy", "matplotlib")  # preinstalled in Colab


def canonical(name: str) -> str:
    """PEP 503 normalized project name: `Scikit_Learn` -> `scikit-learn`."""
    return name.lower().replace("_", "-").replace(".", "-")


def setup_cell_pip_command(notebook: Path) -> list[str]:
    """The argument list of the setup cell's ``subprocess.run([...])``, made runnable here.

    ``sys.executable`` stays this interpreter; ``f"git+{REPOSITORY_URL}"`` becomes this
    checkout, which is what pip would fetch from GitHub in Colab.
    """
    tree = ast.parse(source(cells(notebook)[0]))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "subprocess.run"
    ]
    assert len(calls) == 1, f"{notebook.name}: the setup cell should make one subprocess.run call"
    command = []
    for element in calls[0].args[0].elts:
        if isinstance(element, ast.Constant):
            command.append(element.value)
        elif ast.unparse(element) == "sys.executable":
            command.append(sys.executable)
        elif isinstance(element, ast.JoinedStr) and "git+" in ast.unparse(element):
            command.append(str(ROOT))  # the repository, as Colab would clone it
        else:
            pytest.fail(f"{notebook.name}: unexpected pip argument {ast.unparse(element)}")
    assert command[:4] == [sys.executable, "-m", "pip", "install"], command
    return command


def test_setup_cell_install_keeps_colabs_torch_numpy_and_matplotlib(tmp_path):
    installed = {}
    for name in COLAB_STACK:
        try:
            installed[name] = version(name)
        except PackageNotFoundError:
            pytest.fail(f"{name} is not installed here, so this simulation would prove nothing")

    commands = {tuple(setup_cell_pip_command(chapter)) for chapter in CHAPTERS}
    assert len(commands) == 1, f"the chapters' setup cells install differently: {commands}"
    report_path = tmp_path / "pip-report.json"
    command = [*commands.pop()] + [
        "--dry-run",  # resolve only: nothing is installed or changed
        "--report",
        str(report_path),
        "--no-index",
        "--no-build-isolation",
        "--disable-pip-version-check",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (
        "pip could not install regutils over the installed packages without fetching others; "
        "are regutils' dependencies in pyproject.toml loose lower bounds?\n"
        + run.stdout[-3000:]
        + run.stderr[-3000:]
    )

    report = json.loads(report_path.read_text())
    would_install = {
        canonical(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    # A reinstall, upgrade or downgrade would list the package here (with its new version).
    touched = {name: v for name, v in would_install.items() if name in COLAB_STACK}
    assert not touched, f"pip would replace Colab's {touched} (installed: {installed})"
    assert list(would_install) == ["regutils"], f"pip would also install {would_install}"

    # The report is about the right thing: regutils from this checkout, depending on torch
    # (so pip did weigh the installed torch against regutils' requirement and kept it).
    (regutils,) = report["install"]
    assert regutils["requested"] and regutils["download_info"]["url"] == ROOT.as_uri()
    required = {canonical(Requirement(r).name) for r in regutils["metadata"]["requires_dist"]}
    assert {"torch", "numpy", "matplotlib"} <= required, required
