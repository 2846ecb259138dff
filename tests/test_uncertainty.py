import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from regutils import (
    cpu_threads,
    expected_calibration_error,
    mc_predict,
    reliability,
    temperature_scale,
)


def _model(p=0.5, batch_norm=False):
    torch.manual_seed(0)
    layers = [nn.Linear(6, 32)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(32))
    layers += [nn.ReLU(), nn.Dropout(p), nn.Linear(32, 4)]
    return nn.Sequential(*layers)


def test_shape_and_probabilities():
    probs = mc_predict(_model(), torch.randn(7, 6), passes=9)
    assert probs.shape == (9, 7, 4)
    assert (probs >= 0).all()
    assert torch.allclose(probs.sum(dim=2), torch.ones(9, 7))


def test_passes_differ_and_match_manual_masks():
    # Oracle: the same random state drives nn.Dropout in training mode by hand.
    model, X = _model(), torch.randn(5, 6)
    torch.manual_seed(1)
    probs = mc_predict(model, X, passes=3)
    torch.manual_seed(1)
    model.train()
    with torch.no_grad(), cpu_threads(1):  # the same thread count as mc_predict
        manual = torch.stack([torch.softmax(model(X), dim=1) for _ in range(3)])
    assert torch.equal(probs, manual)
    assert not torch.equal(probs[0], probs[1])


def test_mean_of_linear_model_matches_the_logit_level_oracle():
    # Dropout on the input of one linear layer. The mean over passes of each
    # pass's probabilities equals the softmax of that pass's logits, which we
    # recompute by hand from the masks: same random state, same masks.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(3, 2))
    X = torch.randn(4, 3)
    torch.manual_seed(3)
    probs = mc_predict(model, X, passes=6)
    torch.manual_seed(3)
    W, b = model[1].weight.detach(), model[1].bias.detach()
    for t in range(6):
        keep = torch.empty_like(X).bernoulli_(0.5)
        logits = (X * keep / 0.5) @ W.T + b
        assert torch.allclose(probs[t], torch.softmax(logits, dim=1), atol=1e-6)


def test_mixed_initial_modes_are_restored_exactly():
    model = nn.Sequential(
        nn.Linear(6, 8),
        nn.BatchNorm1d(8),
        nn.Dropout(0.5),
        nn.Linear(8, 8),
        nn.Dropout1d(0.3),
        nn.ReLU(),
        nn.AlphaDropout(0.2),
        nn.Linear(8, 3),
    )
    model.train()
    model[1].eval()  # batch norm in eval, the rest in training mode
    model[4].eval()  # one dropout layer off
    model[7].eval()
    before = [m.training for m in model.modules()]
    mc_predict(model, torch.randn(5, 6), passes=3)
    assert [m.training for m in model.modules()] == before


def test_modes_are_restored_and_batch_norm_stays_in_eval():
    model = _model(batch_norm=True)
    running = model[1].running_mean.clone()
    model.eval()
    mc_predict(model, torch.randn(8, 6), passes=4)
    assert not any(m.training for m in model.modules())
    assert torch.equal(model[1].running_mean, running), "batch norm statistics untouched"
    model.train()
    mc_predict(model, torch.randn(8, 6), passes=2)
    assert all(m.training for m in model.modules())


def test_single_sample_works_with_batch_norm():
    # Batch norm in training mode would raise on a batch of one; it stays in eval.
    probs = mc_predict(_model(batch_norm=True), torch.randn(1, 6), passes=3)
    assert probs.shape == (3, 1, 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="passes must be an int >= 1, but got 0"):
        mc_predict(_model(), torch.randn(2, 6), passes=0)
    with pytest.raises(ValueError, match="threads must be an int >= 1, but got 0"):
        mc_predict(_model(), torch.randn(2, 6), passes=2, threads=0)
    with pytest.raises(TypeError, match="passes must be an int"):
        mc_predict(_model(), torch.randn(2, 6), passes=2.0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        mc_predict(lambda x: x, torch.randn(2, 6), passes=2)
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        mc_predict(_model(), [[0.0] * 6], passes=2)
    with pytest.raises(ValueError, match="must contain a dropout layer"):
        mc_predict(nn.Linear(6, 2), torch.randn(2, 6), passes=2)


def test_confidence_splits_right_and_wrong_answers():
    from regutils import confidence

    model = nn.Linear(3, 3)
    with torch.no_grad():
        model.weight.copy_(torch.diag(torch.tensor([1.0, 2.0, 3.0])))
        model.bias.zero_()
    X, y = torch.eye(3), torch.tensor([0, 1, 0])  # the third answer (2) is wrong
    top = torch.eye(3).mul(torch.tensor([1.0, 2.0, 3.0])).softmax(dim=1).max(dim=1).values
    c = confidence(model, (X, y))
    assert c.mistakes == 1
    assert c.wrong == pytest.approx(top[2].item())
    assert c.right == pytest.approx(top[:2].mean().item())
    assert not model.training


def test_confidence_bad_arguments():
    from regutils import confidence

    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        confidence("model", (torch.zeros(2, 3), torch.zeros(2, dtype=torch.long)))
    with pytest.raises(TypeError, match="data must be an"):
        confidence(nn.Linear(3, 3), torch.zeros(2, 3))


# --- calibration: reliability bins, ECE, temperature scaling ------------------------------------


def test_reliability_and_ece_by_hand():
    probs = torch.tensor(
        [[0.95, 0.05], [0.85, 0.15], [0.85, 0.15], [0.65, 0.35], [0.3, 0.7], [0.52, 0.48]]
    )
    targets = torch.tensor([0, 0, 1, 0, 0, 0])
    r = reliability(probs, targets, bins=5)  # bins of width 0.2
    # (0.6, 0.8]: 0.65 right, 0.7 wrong; (0.8, 1.0]: 0.95 right, 0.85 right, 0.85 wrong;
    # (0.4, 0.6]: 0.52 right
    assert r.count.tolist() == [0, 0, 1, 2, 3]
    assert r.accuracy[2:].tolist() == pytest.approx([1.0, 0.5, 2 / 3])
    assert r.confidence[2:].tolist() == pytest.approx([0.52, 0.675, 0.55 + 0.333333333])
    by_hand = (1 * abs(1 - 0.52) + 2 * abs(0.5 - 0.675) + 3 * abs(2 / 3 - 2.65 / 3)) / 6
    assert expected_calibration_error(probs, targets, bins=5) == pytest.approx(by_hand)


def test_temperature_minimizes_the_loss_over_a_fine_grid():
    g = torch.Generator().manual_seed(1)
    logits = 4 * torch.randn(300, 5, generator=g)
    targets = torch.multinomial((logits / 2.5).softmax(dim=1), 1, generator=g).squeeze(1)
    found = temperature_scale(logits, targets)
    grid = torch.linspace(0.5, 10, 20000, dtype=torch.float64)
    losses = [F.cross_entropy(logits.double() / t, targets).item() for t in grid[::20]]
    best = grid[::20][int(np.argmin(losses))].item()
    assert found == pytest.approx(best, rel=0.03)
    # no prediction changes: the accuracy is that of the logits
    assert torch.equal((logits / found).argmax(dim=1), logits.argmax(dim=1))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: reliability(torch.ones(3, 2), torch.zeros(3).long()), ValueError, "probabilities"),
        (lambda: reliability([[1.0]], torch.zeros(1).long()), TypeError, "torch.Tensors"),
        (lambda: reliability(torch.eye(2), torch.zeros(3).long()), ValueError, "targets"),
        (lambda: reliability(torch.eye(2), torch.zeros(2).long(), bins=0), ValueError, "bins"),
        (lambda: temperature_scale(torch.ones(2), torch.zeros(2).long()), ValueError, "shape"),
        (
            lambda: temperature_scale(torch.eye(2), torch.zeros(2).long(), bounds=(1, 0.5)),
            ValueError,
            "bounds",
        ),
    ],
)
def test_calibration_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_plot_reliability_draws_one_line_per_model():
    import matplotlib.pyplot as plt

    from regutils import plot_reliability

    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    ax = plot_reliability({"a": probs, "b": probs.flip(1)}, torch.tensor([0, 1, 1]))
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "calibrated" and labels[1].startswith("a (ECE")
    plt.close(ax.figure)
