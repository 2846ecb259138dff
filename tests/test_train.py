import math

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from regutils import Callback, evaluate, fit, mlp, set_seed


def test_fit_learns_and_records_every_epoch(toy, device):
    train, val = toy
    set_seed(0)
    model = nn.Linear(4, 3)
    history = fit(model, train, val, epochs=30, lr=0.1, device=device)
    assert history.epochs == list(range(1, 31))
    assert history.metrics == ["train_loss", "train_acc", "val_loss", "val_acc"]
    assert history.train_loss[-1] < history.train_loss[0] / 2
    assert history.val_acc[-1] > 0.8
    frame = history.to_frame()
    assert list(frame.index) == history.epochs and frame["val_acc"].iloc[-1] == history.val_acc[-1]


def test_recorded_metrics_equal_evaluate_in_eval_mode(toy):
    train, val = toy
    set_seed(0)
    model = mlp(4, (16,), 3, dropout=0.5)
    history = fit(model, TensorDataset(*train), TensorDataset(*val), epochs=3, batch_size=8)
    assert history.final["val_acc"] == evaluate(model, val)["acc"]
    assert history.final["train_loss"] == pytest.approx(evaluate(model, train)["loss"])
    assert model.training  # evaluate puts the model back in training mode


def test_mini_batches_take_ceil_n_over_b_steps(toy):
    train, _ = toy

    class CountSteps(Callback):
        steps = 0

        def on_batch_end(self, state):
            self.steps += 1

    counter = CountSteps()
    fit(nn.Linear(4, 3), train, epochs=2, batch_size=16, callbacks=[counter])
    assert counter.steps == 2 * math.ceil(40 / 16)
    full = CountSteps()
    fit(nn.Linear(4, 3), train, epochs=2, callbacks=[full])
    assert full.steps == 2


def test_a_callback_stops_training_with_the_flag(toy):
    class StopAtThree(Callback):
        def on_epoch_end(self, state):
            state.stop = state.epoch == 3

    history = fit(nn.Linear(4, 3), toy[0], epochs=10, callbacks=[StopAtThree()])
    assert len(history) == 3


def test_penalty_is_added_to_the_objective(toy):
    calls = []

    def penalty(model):
        calls.append(1)
        return 1.0 * model.weight.pow(2).sum()

    norms = []
    for p in (None, penalty):
        set_seed(0)
        model = nn.Linear(4, 3)
        fit(model, toy[0], epochs=50, lr=0.05, optimizer="sgd", penalty=p)
        norms.append(model.weight.norm().item())
    assert len(calls) == 50  # once per step: full batch, 50 epochs
    assert norms[1] < norms[0] / 2  # the penalty shrinks the weights


def test_regression_uses_mse_and_no_accuracy():
    X = torch.linspace(-1, 1, 50).unsqueeze(1)
    y = 3 * X.squeeze(1) + 1
    set_seed(0)
    history = fit(nn.Linear(1, 1), (X, y), (X, y), epochs=200, lr=0.1)
    assert history.metrics == ["train_loss", "val_loss"]
    assert history.val_loss[-1] < 1e-3


def test_optimizer_instance(toy):
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    assert len(fit(model, toy[0], epochs=2, optimizer=opt)) == 2
    with pytest.raises(ValueError, match="set them on the instance"):
        fit(model, toy[0], epochs=2, optimizer=opt, lr=0.1)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_decay_bias_false_decays_the_matrices_only(toy, name):
    """decay_bias=False is the optimizer built on two parameter groups by hand."""
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    models = []
    for by_hand in (False, True):
        set_seed(0)
        model = mlp(4, (8,), 3)
        kwargs = dict(optimizer=name, lr=0.05, weight_decay=0.5, decay_bias=False)
        if by_hand:
            matrices = [p for p in model.parameters() if p.ndim >= 2]
            vectors = [p for p in model.parameters() if p.ndim < 2]
            groups = [{"params": matrices}, {"params": vectors, "weight_decay": 0.0}]
            kwargs = dict(optimizer=cls(groups, lr=0.05, weight_decay=0.5))
        fit(model, toy[0], epochs=3, batch_size=10, shuffle=False, **kwargs)
        models.append(model)
    for p, q in zip(*(m.parameters() for m in models)):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    set_seed(0)
    everything = mlp(4, (8,), 3)
    fit(everything, toy[0], epochs=3, optimizer=name, lr=0.05, weight_decay=0.5)
    assert not torch.allclose(everything[0].bias, models[0][0].bias)  # biases decayed there
    with pytest.raises(ValueError, match="set them on the instance"):
        opt = cls(models[0].parameters(), lr=0.1)
        fit(models[0], toy[0], epochs=1, optimizer=opt, decay_bias=False)


def test_divergence_stops_with_a_message_not_nans(toy):
    X, y = toy[0]
    target = y.float()  # regression with a far too large step: the loss explodes
    set_seed(0)
    with pytest.raises(FloatingPointError, match=r"epoch \d+.*lower learning rate") as info:
        fit(nn.Linear(4, 1), (X, target), epochs=500, lr=10.0, optimizer="sgd")
    history = info.value.history
    assert 0 < len(history) < 500
    assert all(math.isfinite(v) for v in history.train_loss)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": 0}, ValueError, "epochs must be an int >= 1, but got 0"),
        ({"epochs": 2.5}, TypeError, "epochs must be an int"),
        ({"epochs": 1, "lr": -1.0}, ValueError, "lr must be in \\(0, inf\\], but got -1"),
        ({"epochs": 1, "batch_size": 0}, ValueError, "batch_size"),
        ({"epochs": 1, "optimizer": "rmsprop"}, ValueError, "'sgd', 'adam', 'adamw'.*'rmsprop'"),
        ({"epochs": 1, "optimizer": "adam", "momentum": 0.9}, ValueError, "momentum"),
        ({"epochs": 1, "loss": "hinge"}, ValueError, "'auto', 'cross_entropy', 'mse'"),
        ({"epochs": 1, "penalty": 0.1}, TypeError, "penalty must be a callable"),
        ({"epochs": 1, "augment": "flip"}, TypeError, "augment must be a callable.*'flip'"),
        ({"epochs": 1, "augment": lambda x, y: x}, TypeError, "pair of tensors.*returned Tensor"),
        (
            {"epochs": 1, "augment": lambda x, y: (x, y[:-1])},
            ValueError,
            "as many targets as inputs.*returned 40 inputs and 39 targets",
        ),
        ({"epochs": 1, "callbacks": [print]}, TypeError, "callbacks must be Callback"),
        ({"epochs": 1, "device": "tpu"}, ValueError, "'cpu', 'cuda', 'auto'"),
        ({"epochs": 1, "threads": 0}, ValueError, "threads must be an int >= 1, but got 0"),
        ({"epochs": 1, "threads": 1.5}, TypeError, "threads must be an int"),
        ({"epochs": 1, "decay_bias": "no"}, TypeError, "decay_bias must be a bool, but got str"),
    ],
)
def test_bad_arguments(toy, kwargs, error, match):
    with pytest.raises(error, match=match):
        fit(nn.Linear(4, 3), toy[0], **kwargs)


def test_bad_data():
    model = nn.Linear(4, 3)
    with pytest.raises(TypeError, match="train must be an \\(X, y\\) pair"):
        fit(model, torch.zeros(4, 4), epochs=1)
    with pytest.raises(ValueError, match="same, non-zero number of rows, but got 4 and 3"):
        fit(model, (torch.zeros(4, 4), torch.zeros(3, dtype=torch.long)), epochs=1)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit("model", (torch.zeros(4, 4), torch.zeros(4, dtype=torch.long)), epochs=1)


def test_progress_bar_is_opt_in(toy, capsys):
    fit(nn.Linear(4, 3), toy[0], epochs=3)
    assert capsys.readouterr().err == ""  # nothing by default: the built book stays clean
    fit(nn.Linear(4, 3), toy[0], epochs=3, progress=True)
    assert "fit:" in capsys.readouterr().err  # tqdm draws, then clears (leave=False)


def test_fit_runs_on_one_thread_and_restores_torch_setting(toy):
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, state):
            seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    fit(nn.Linear(4, 3), *toy, epochs=2, callbacks=[Spy()])
    assert seen == [1, 1] and torch.get_num_threads() == before
    fit(nn.Linear(4, 3), *toy, epochs=1, threads=None, callbacks=[Spy()])
    assert seen[-1] == before


def test_threads_are_restored_when_fit_raises(toy):
    X, y = toy[0]
    before = torch.get_num_threads()
    with pytest.raises(FloatingPointError):
        fit(nn.Linear(4, 1), (X, y.float()), epochs=500, lr=10.0, optimizer="sgd")
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_named_optimizers_use_the_fused_kernel_where_torch_has_one(toy, name):
    state = {}

    class Spy(Callback):
        def on_fit_start(self, s):
            state["fused"] = s.optimizer.defaults.get("fused")

    fit(nn.Linear(4, 3), *toy, epochs=1, optimizer=name, callbacks=[Spy()])
    plain = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    try:
        plain([nn.Parameter(torch.zeros(1))], lr=0.1, fused=True)
        expected = True
    except (RuntimeError, TypeError, ValueError):
        expected = None
    assert state["fused"] == expected


class Recorder:
    """An augmentation that adds fresh noise to every batch and remembers what it saw."""

    def __init__(self):
        self.seen, self.noise = [], []

    def __call__(self, x, y):
        self.seen.append(x.clone())
        noise = torch.randn_like(x)
        self.noise.append(noise)
        return x + noise, y


def test_augment_sees_every_training_batch_with_fresh_randomness(toy):
    train, val = toy
    augment = Recorder()
    set_seed(0)
    fit(nn.Linear(4, 3), train, val, epochs=3, batch_size=16, augment=augment)
    assert len(augment.seen) == 3 * math.ceil(40 / 16)  # every step, training batches only
    assert sorted(len(x) for x in augment.seen[:3]) == [8, 16, 16]
    # every batch comes from the training inputs, never from the validation inputs
    rows = {tuple(r.tolist()) for r in train[0]}
    assert all(tuple(r.tolist()) in rows for x in augment.seen for r in x)
    # fresh randomness: no two steps draw the same noise
    flat = torch.stack([n[:8].flatten() for n in augment.noise])
    assert torch.cdist(flat, flat).add(torch.eye(len(flat))).min() > 0


def test_augment_changes_training_but_not_the_data_or_the_metrics(toy):
    train, val = toy
    before = (train[0].clone(), val[0].clone())
    set_seed(0)
    plain = nn.Linear(4, 3)
    fit(plain, train, val, epochs=3, batch_size=16)
    set_seed(0)
    shifted = nn.Linear(4, 3)
    history = fit(shifted, train, val, epochs=3, batch_size=16, augment=lambda x, y: (x + 1, y))
    assert not torch.equal(plain.weight, shifted.weight)  # the model trained on x + 1
    assert torch.equal(train[0], before[0]) and torch.equal(val[0], before[1])
    # metrics are measured on the data as it is, not augmented
    assert history.final["val_loss"] == pytest.approx(evaluate(shifted, val)["loss"])
    assert history.final["train_loss"] == pytest.approx(evaluate(shifted, train)["loss"])


def test_augment_may_return_soft_targets_for_cross_entropy(toy):
    train, _ = toy

    def soft(x, y):  # one-hot targets as probabilities: the same loss as the labels
        return x, nn.functional.one_hot(y, 3).float()

    set_seed(0)
    hard = nn.Linear(4, 3)
    fit(hard, train, epochs=2, batch_size=16)
    set_seed(0)
    model = nn.Linear(4, 3)
    fit(model, train, epochs=2, batch_size=16, augment=soft)
    torch.testing.assert_close(model.weight, hard.weight)


def test_track_measures_more_sets_without_changing_training():
    from regutils import load_digits, mlp

    data = load_digits()

    def run(**kwargs):
        set_seed(0)
        return fit(mlp(hidden=(16,)), data.train, data.val, epochs=3, lr=1e-2, **kwargs)

    plain, tracked = run(), run(track={"test": data.test, "again": data.val})
    for a, b in zip(plain.records, tracked.records):
        assert {k: a[k] for k in a} == {k: b[k] for k in a}  # training untouched
        assert b["again_loss"] == b["val_loss"] and 0 <= b["test_acc"] <= 1


@pytest.mark.parametrize(
    "track, error, match",
    [
        ([("test", (torch.zeros(2, 64), torch.zeros(2).long()))], TypeError, "mapping"),
        ({"val": (torch.zeros(2, 64), torch.zeros(2).long())}, ValueError, "other than"),
        ({"my set": (torch.zeros(2, 64), torch.zeros(2).long())}, ValueError, "identifiers"),
        ({"test": torch.zeros(2, 64)}, TypeError, "track\\['test'\\]"),
    ],
)
def test_track_bad_arguments(track, error, match):
    from regutils import load_digits, mlp

    data = load_digits()
    with pytest.raises(error, match=match):
        fit(mlp(hidden=(4,)), data.train, epochs=1, track=track)
