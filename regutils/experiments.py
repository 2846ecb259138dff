"""Experiments over several seeds: every claim in the book is a mean ± std, not one run.

A configuration is a ``run(seed) -> History``. When it is a :class:`regutils.Recipe`,
:func:`run_seeds` and :func:`compare` train all its seeds at once as one stacked model
(the weights of every seed side by side, one batched matrix product per layer) where
the recipe allows it, and one after another otherwise: each seed computes what its own
run computes, up to floating-point rounding, only faster (``make bench``). Pass
``stack=False`` to train one seed after another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from regutils._checks import check_seeds
from regutils.history import History
from regutils.recipe import Recipe
from regutils.seed import set_seed

Run = Callable[[int], History]


def run_seeds(run: Run, seeds: Iterable[int], *, stack: bool = True) -> list[History]:
    """Call ``run(seed)`` once per seed, after :func:`regutils.set_seed` with that seed.

    When ``run`` is a :class:`regutils.Recipe` and ``stack`` is true, the seeds are
    trained together as one stacked model where the recipe allows it (an MLP without
    batch norm, a named optimizer, no callbacks: see :class:`regutils.Recipe`): the
    same histories as one run after another, up to floating-point rounding, in less
    time. Any other callable runs one seed after another.

    Args:
        run (callable): ``run(seed) -> History``, typically building a fresh model
            and calling :func:`regutils.fit`, or a :class:`regutils.Recipe`.
        seeds (iterable of int): non-negative seeds.
        stack (bool): let a Recipe train its seeds as one stacked model; ``False``
            trains one seed after another. Default: ``True``.

    Returns:
        list of History: one per seed, in order.

    Raises:
        TypeError: if ``run`` is not callable or does not return a History, or
            ``stack`` is not a bool.
        ValueError: if ``seeds`` is empty or holds a negative number.
        FloatingPointError: when a run diverges (see :func:`regutils.fit`).

    Example::

        >>> from regutils import Recipe, mlp
        >>> recipe = Recipe(lambda: mlp(hidden=(16,)), epochs=2)
        >>> stacked = run_seeds(recipe, [0, 1])
        >>> recipe.last_mode
        'stacked'
        >>> one_by_one = run_seeds(recipe, [0, 1], stack=False)
        >>> [round(h.final["val_loss"], 4) for h in stacked] == [
        ...     round(h.final["val_loss"], 4) for h in one_by_one]
        True
    """
    if not callable(run):
        raise TypeError(f"run must be a callable run(seed) -> History, but got {run!r}")
    if not isinstance(stack, bool):
        raise TypeError(f"stack must be a bool, but got {type(stack).__name__}")
    seeds = check_seeds(seeds)
    if isinstance(run, Recipe):
        return [history for _, history in run.train(seeds, stack=stack)]
    histories = []
    for seed in seeds:
        set_seed(seed)
        history = run(seed)
        if not isinstance(history, History):
            raise TypeError(f"run(seed) must return a History, but got {type(history).__name__}")
        histories.append(history)
    return histories


def summarize(runs: Mapping[str, list[History]]) -> pd.DataFrame:
    r"""Mean and standard deviation of the final metrics of each configuration.

    The final metrics are those of the weights each run ends with
    (:attr:`History.final`: the restored epoch after early stopping, else the
    last), plus every number the runs put in :attr:`History.info`. The
    generalization gap is train minus validation accuracy for
    classification, and validation minus train loss for regression, so that a
    positive gap always means "better on the training set".

    Args:
        runs (mapping): configuration name -> list of histories (one per seed).

    Returns:
        DataFrame: one row per configuration, columns ``(metric, "mean" | "std")``
        for ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc`` (when
        recorded), ``gap`` and ``epochs``, plus ``("seeds", "n")``.

    Example::

        >>> a = History([{"epoch": 1, "train_loss": 0.1, "val_loss": 0.5}])
        >>> b = History([{"epoch": 1, "train_loss": 0.3, "val_loss": 0.5}])
        >>> summarize({"model": [a, b]})["gap"].round(3)
               mean    std
        model   0.3  0.141
    """
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("runs must be a non-empty mapping of name -> list of History")
    rows = {}
    for name, histories in runs.items():
        if not histories or not all(isinstance(h, History) and len(h) for h in histories):
            raise ValueError(f"runs[{name!r}] must be a non-empty list of non-empty histories")
        finals = pd.DataFrame([{**h.final, **h.info} for h in histories])
        if "train_acc" in finals and "val_acc" in finals:
            finals["gap"] = finals["train_acc"] - finals["val_acc"]
        elif "val_loss" in finals:
            finals["gap"] = finals["val_loss"] - finals["train_loss"]
        finals["epochs"] = [len(h) for h in histories]
        finals = finals.drop(columns="epoch")
        row = {
            (col, stat): getattr(finals[col], stat)() for col in finals for stat in ("mean", "std")
        }
        row[("seeds", "n")] = len(histories)
        rows[name] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def compare(
    configs: Mapping[str, Run], *, seeds: Iterable[int] = (0, 1, 2), stack: bool = True
) -> pd.DataFrame:
    """Run named configurations over several seeds and summarize them side by side.

    ``compare(configs, seeds=s)`` is ``summarize({name: run_seeds(run, s)})``; a
    configuration given as a :class:`regutils.Recipe` trains its seeds as one stacked
    model where it can (see :func:`run_seeds`).

    Args:
        configs (mapping): name -> ``run(seed) -> History``, or a Recipe.
        seeds (iterable of int): the seeds, the same for every configuration.
            Default: ``(0, 1, 2)``.
        stack (bool): passed to :func:`run_seeds`; ``False`` trains one seed after
            another. Default: ``True``.

    Returns:
        DataFrame: as :func:`summarize`; the histories are kept in
        ``frame.attrs["runs"]`` (name -> list of History) for plotting.

    Example::

        >>> from regutils import fit, load_digits, mlp
        >>> data = load_digits()
        >>> def small(seed):
        ...     return fit(mlp(hidden=(16,)), data.train, data.val, epochs=2, lr=1e-2)
        >>> table = compare({"small": small}, seeds=[0, 1])
        >>> list(table.index), int(table.loc["small", ("seeds", "n")])
        (['small'], 2)
    """
    if not isinstance(configs, Mapping) or not configs:
        raise TypeError("configs must be a non-empty mapping of name -> run(seed)")
    seeds = check_seeds(seeds)
    if not isinstance(stack, bool):
        raise TypeError(f"stack must be a bool, but got {type(stack).__name__}")
    runs = {name: run_seeds(run, seeds, stack=stack) for name, run in configs.items()}
    frame = summarize(runs)
    frame.attrs["runs"] = runs
    return frame
