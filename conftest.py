"""Pytest set-up shared by the unit tests, the doctests and the notebook runs."""

import json
import os
from pathlib import Path

import matplotlib
import pytest
import torch
from torch import nn

matplotlib.use("Agg")  # no windows during tests


def pytest_configure(config: pytest.Config) -> None:
    # A claim of the text that does not hold fails its cell under the test suite (a reader's
    # run only reports it; regutils.claims). nbval's kernels inherit this environment.
    # REGUTILS_CLAIMS=report, set by hand or by `make claims`, lets a run go on past a failed
    # claim, so that every claim is measured.
    os.environ.setdefault("REGUTILS_CLAIMS", "strict")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a chapter's first cell, name the chapter in the claims log (make claims reads
    it to tell which chapter each claim that follows belongs to)."""
    log = os.environ.get("REGUTILS_CLAIMS_LOG", "").strip()
    if log and type(item).__name__ == "IPyNbCell" and getattr(item, "cell_num", None) == 0:
        with open(log, "a", encoding="utf-8") as file:
            file.write(json.dumps({"chapter": Path(str(item.parent.path)).name}) + "\n")


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace.update(torch=torch, nn=nn)
