import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.book import ROOT


@pytest.fixture
def device():
    """The device fit runs on in tests: the CPU, or REGUTILS_TEST_DEVICE (e.g. cuda)."""
    return torch.device(os.environ.get("REGUTILS_TEST_DEVICE", "cpu"))


@pytest.fixture
def toy():
    """A tiny separable 3-class problem: trains to 100% in a few epochs."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(60, 4, generator=g)
    y = X[:, :3].argmax(dim=1)
    return (X[:40], y[:40]), (X[40:], y[40:])


@pytest.fixture(scope="session")
def built():
    """The book built once per test run with -W -n (zero warnings), into _build/html.

    Session-scoped so that tests/test_book.py and tests/test_site.py share one build.
    """
    jb = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run(
        [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-6000:]
    return run
