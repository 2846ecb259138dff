import os

import pytest
import torch


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
