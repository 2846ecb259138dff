import random

import numpy as np
import pytest
import torch

from regutils import fit, load_digits, mlp, set_seed


def test_same_seed_same_history_on_cpu():
    data = load_digits()

    def run(seed):
        set_seed(seed)
        model = mlp(hidden=(32,), dropout=0.2, input_noise=0.05)
        return fit(model, data.train, data.val, epochs=3, batch_size=32, lr=1e-2)

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_seeds_python_numpy_and_torch():
    set_seed(3)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(3)
    assert a == (random.random(), np.random.rand(), torch.rand(1).item())


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError)])
def test_bad_seed(bad, error):
    with pytest.raises(error, match="seed"):
        set_seed(bad)
