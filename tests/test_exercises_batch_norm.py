"""Oracles for the Batch normalization chapter's reference solutions: PyTorch's own layers and
regutils' intervals."""

import numpy as np
import pytest
import torch
from torch import nn

from regutils import paired_interval
from regutils.exercises import batch_norm as ex


@pytest.mark.parametrize("keras_momentum", [0.99, 0.9, 0.5, 0.0])
def test_keras_running_stats_match_batchnorm1d_with_the_converted_momentum(keras_momentum):
    g = torch.Generator().manual_seed(0)
    batches = [3.0 * torch.randn(5, 4, generator=g) + 2.0 for _ in range(6)]
    layer = nn.BatchNorm1d(4, momentum=1.0 - keras_momentum)  # PyTorch's convention
    layer.train()
    for x in batches:
        layer(x)
    mean, var = ex.keras_running_stats(batches, keras_momentum)
    torch.testing.assert_close(mean, layer.running_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(var, layer.running_var, rtol=1e-5, atol=1e-6)


def test_keras_running_stats_scripted():
    # Keras momentum 0.5, one batch [[0], [2]]: mean 1, unbiased variance 2.
    mean, var = ex.keras_running_stats([torch.tensor([[0.0], [2.0]])], 0.5)
    assert mean.tolist() == [0.5] and var.tolist() == [1.5]
    # Keras momentum 0 keeps only the newest batch.
    mean, var = ex.keras_running_stats([torch.ones(3, 1), torch.tensor([[1.0], [3.0]])], 0.0)
    assert mean.tolist() == [2.0] and var.tolist() == [2.0]


@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_fold_batch_norm_equals_linear_then_batchnorm_in_eval(eps):
    torch.manual_seed(0)
    linear, norm = nn.Linear(6, 4), nn.BatchNorm1d(4, eps=eps)
    with torch.no_grad():
        norm.running_mean.normal_()
        norm.running_var.uniform_(0.2, 3.0)
        norm.weight.uniform_(0.5, 2.0)
        norm.bias.normal_()
    pair = nn.Sequential(linear, norm).eval()
    W, b = ex.fold_batch_norm(
        linear.weight,
        linear.bias,
        norm.running_mean,
        norm.running_var,
        norm.weight,
        norm.bias,
        eps,
    )
    x = torch.randn(10, 6)
    torch.testing.assert_close(x @ W.T + b, pair(x), rtol=1e-5, atol=1e-5)
    assert W.shape == (4, 6) and b.shape == (4,)


def test_which_is_better_counts_the_images_not_only_the_seeds():
    # Every seed gets one image more right, but always the same image of six: the seeds
    # agree, the images do not (paired_image_interval's docstring example).
    a = np.array([[1, 1, 1, 0, 1, 1], [1, 1, 0, 1, 1, 1], [1, 1, 1, 1, 0, 1]], dtype=float)
    b = np.array([[1, 0, 1, 0, 1, 1], [1, 0, 0, 1, 1, 1], [1, 0, 1, 1, 0, 1]], dtype=float)
    assert paired_interval(a.mean(axis=1), b.mean(axis=1)).low > 0
    assert ex.which_is_better(a, b) == 0


def test_which_is_better_orders_a_clear_difference_both_ways():
    g = torch.Generator().manual_seed(0)
    strong = (torch.rand(4, 400, generator=g) < 0.95).double()
    weak = (torch.rand(4, 400, generator=g) < 0.75).double()
    assert ex.which_is_better(strong, weak) == 1
    assert ex.which_is_better(weak, strong) == -1
    assert ex.which_is_better(strong, strong.clone()) == 0
