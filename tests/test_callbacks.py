"""EarlyStopping driven by scripted metric sequences: no training needed."""

import pytest
import torch
from torch import nn

from regutils import EarlyStopping, History, TrainState, fit


def drive(stopper, values, monitor="val_loss", model=None):
    """Feed ``values`` epoch by epoch; return the state at the end."""
    model = model or nn.Linear(1, 1)
    state = TrainState(model=model, optimizer=None)
    stopper.on_fit_start(state)
    for epoch, value in enumerate(values, start=1):
        state.epoch = epoch
        with torch.no_grad():
            model.weight.fill_(epoch)  # the weights remember which epoch they are from
        state.metrics = {"epoch": epoch, monitor: value}
        state.history.append(state.metrics)
        stopper.on_epoch_end(state)
        if state.stop:
            break
    stopper.on_fit_end(state)
    return state


def test_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping(patience=2)
    state = drive(stopper, [1.0, 0.8, 0.9, 0.85, 0.7, 0.6])
    assert (stopper.best_epoch, stopper.stopped_epoch, state.epoch) == (2, 4, 4)


def test_runs_to_the_end_while_improving():
    stopper = EarlyStopping(patience=1)
    state = drive(stopper, [5, 4, 3, 2])
    assert stopper.stopped_epoch is None and state.epoch == 4 and stopper.best_epoch == 4


def test_min_delta_ignores_small_improvements():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    drive(stopper, [1.0, 0.95, 0.92, 0.5])
    assert (stopper.best_epoch, stopper.stopped_epoch) == (1, 3)


def test_mode_max_for_accuracy():
    stopper = EarlyStopping(monitor="val_acc", mode="max", patience=2)
    drive(stopper, [0.5, 0.7, 0.6, 0.7], monitor="val_acc")
    assert (stopper.best_epoch, stopper.stopped_epoch, stopper.best_value) == (2, 4, 0.7)


def test_restores_best_weights_and_marks_history():
    model = nn.Linear(1, 1)
    state = drive(EarlyStopping(patience=2), [3.0, 1.0, 2.0, 2.5], model=model)
    assert model.weight.item() == 2.0  # the weights of epoch 2
    assert state.history.restored_epoch == 2
    assert state.history.final["val_loss"] == 1.0


def test_no_restore_keeps_last_weights():
    model = nn.Linear(1, 1)
    drive(EarlyStopping(patience=2, restore_best_weights=False), [3.0, 1.0, 2.0, 2.5], model=model)
    assert model.weight.item() == 4.0


def test_state_is_reset_so_an_instance_can_be_reused():
    stopper = EarlyStopping(patience=1)
    drive(stopper, [0.1, 0.2])
    assert stopper.stopped_epoch == 2
    drive(stopper, [5.0, 4.0, 3.0])
    assert (stopper.best_value, stopper.best_epoch, stopper.stopped_epoch) == (3.0, 3, None)


def test_reuse_inside_fit(toy):
    train, val = toy
    stopper = EarlyStopping(patience=3)
    for _ in range(2):
        history = fit(nn.Linear(4, 3), train, val, epochs=200, lr=0.5, callbacks=[stopper])
        assert len(history) < 200 and history.restored_epoch == stopper.best_epoch


def test_unknown_monitor_and_mode_list_the_choices():
    with pytest.raises(ValueError, match="'val_loss', 'val_acc', 'train_loss', 'train_acc'"):
        EarlyStopping(monitor="val_accuracy")
    with pytest.raises(ValueError, match="mode must be one of 'min', 'max', but got 'auto'"):
        EarlyStopping(mode="auto")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(min_delta=-0.1)


def test_a_metric_fit_did_not_record_is_named(toy):
    train, _ = toy
    with pytest.raises(ValueError, match="monitors 'val_loss', but fit recorded only 'train_loss'"):
        fit(nn.Linear(4, 3), train, epochs=2, callbacks=[EarlyStopping()])


def test_history_final_defaults_to_last_epoch():
    h = History([{"epoch": 1, "val_loss": 2.0}, {"epoch": 2, "val_loss": 3.0}])
    assert h.final["epoch"] == 2 and h.best_epoch == 1


def test_replay_equals_a_real_early_stopped_run():
    """One run trained to the end, replayed, gives what early stopping would have kept."""
    from regutils import EarlyStopping, fit, load_digits, mlp, set_seed

    data = load_digits()

    def run(callbacks):
        set_seed(4)
        return fit(mlp(hidden=(32,)), data.train, data.val, epochs=40, lr=3e-3,
                   batch_size=32, callbacks=callbacks, track={"test": data.test})  # fmt: skip

    full = run([])
    for patience in (1, 3):
        stopper = EarlyStopping(patience=patience)
        real = run([stopper])
        replayed = EarlyStopping(patience=patience).replay(full)
        assert len(replayed) == len(real) and replayed.restored_epoch == real.restored_epoch
        assert replayed.final["test_acc"] == real.final["test_acc"]  # the kept weights' score
        assert replayed.records == real.records


def test_replay_checks_its_input():
    from regutils import EarlyStopping, History

    with pytest.raises(TypeError, match="History"):
        EarlyStopping().replay([{"epoch": 1, "val_loss": 1.0}])
    with pytest.raises(ValueError, match="val_acc"):
        EarlyStopping("val_acc", "max").replay(History([{"epoch": 1, "val_loss": 1.0}]))


def test_for_each_model_builds_its_callback_on_each_model():
    from regutils import ForEachModel, ProximalL1, Recipe, load_digits, mlp

    built = []

    def first_layer_l1(model):
        built.append(model)
        return ProximalL1(model[0], lam=0.5)

    data = load_digits(n_train=60, n_val=40)
    recipe = Recipe(lambda: mlp(hidden=(16,)), data, epochs=3, lr=1e-2,
                    callbacks=[ForEachModel(first_layer_l1)])  # fmt: skip
    runs = recipe.train([0, 1])
    assert recipe.last_mode.startswith("sequential")
    assert [id(m) for m in built] == [id(m) for m, _ in runs]  # one per model
    for model, _ in runs:  # each model's own first layer was thresholded
        assert (model[0].weight == 0).float().mean() > 0.1
        assert (model[2].weight == 0).float().mean() == 0  # not the output layer
    with pytest.raises(TypeError, match="build must be a callable"):
        ForEachModel(3)
    bad = Recipe(lambda: mlp(hidden=(16,)), data, epochs=1, callbacks=[ForEachModel(lambda m: m)])
    with pytest.raises(TypeError, match="build\\(model\\) must return a Callback"):
        bad.train([0])
