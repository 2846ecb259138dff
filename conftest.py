"""Pytest set-up shared by the unit tests, the doctests and the notebook runs."""

import matplotlib
import pytest
import torch
from torch import nn

matplotlib.use("Agg")  # no windows during tests


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace.update(torch=torch, nn=nn)
