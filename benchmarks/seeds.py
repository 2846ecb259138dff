"""Seeds stacked: five seeds of one configuration as one model, against one after another.

Every claim of the book is a mean over seeds, so :func:`regutils.run_seeds` trains the
seeds of a :class:`regutils.Recipe` together as one stacked model (the weights of the
seeds side by side, one batched matrix product per layer, one optimizer), with the
same results per seed. This scenario times :data:`SEEDS` seeds of the reference run
(:func:`regutils.reference_model`, Adam, batches of 32, :data:`EPOCHS` epochs) and of
the reference model with dropout 0.5, trained

* ``one after another`` -- ``run_seeds(recipe, seeds, stack=False)``, one thread;
* ``stacked`` -- ``run_seeds(recipe, seeds)``, one thread (the default);
* ``stacked, 2 threads`` -- the same with ``threads=2``.

Repetitions rotate the settings; the table gives medians and the ratio to one after
another (above 1: faster).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from benchmarks.training import rotated
from regutils import Recipe, load_digits, reference_model, run_seeds

EPOCHS = 100
REPS = 3
SEEDS = (0, 1, 2, 3, 4)
SEQUENTIAL = "one after another"
STACKED = "stacked"
STACKED_2 = "stacked, 2 threads"
SETTINGS = {SEQUENTIAL: (False, 1), STACKED: (True, 1), STACKED_2: (True, 2)}
MODELS = {
    "reference MLP": reference_model,
    "reference MLP, dropout 0.5": lambda: reference_model(dropout=0.5),
}


def time_setting(model: str, setting: str, *, epochs: int) -> float:
    """Seconds to train the :data:`SEEDS` of ``model`` in ``setting`` (building included)."""
    stack, threads = SETTINGS[setting]
    recipe = Recipe(MODELS[model], load_digits(), epochs=epochs, threads=threads)
    start = time.perf_counter()
    run_seeds(recipe, SEEDS, stack=stack)
    seconds = time.perf_counter() - start
    expected = "stacked" if stack else "sequential: stack=False"
    assert recipe.last_mode == expected, f"{setting} ran {recipe.last_mode!r}"
    return seconds


def run(*, reps: int = REPS, epochs: int = EPOCHS, log: Callable[[str], None] = print) -> dict:
    """Medians per model and setting, and each setting's speed-up over one after another."""
    for model in MODELS:  # warm-up, not timed
        for setting in SETTINGS:
            time_setting(model, setting, epochs=1)
    seconds = {(m, s): [] for m in MODELS for s in SETTINGS}
    for rep in range(reps):
        for model in MODELS:
            for setting in rotated(list(SETTINGS), rep):
                seconds[model, setting].append(time_setting(model, setting, epochs=epochs))
            log(
                f"  rep {rep}  {model}: "
                + ", ".join(f"{s} {seconds[model, s][-1]:.2f} s" for s in SETTINGS)
            )
    rows = []
    for model in MODELS:
        base = statistics.median(seconds[model, SEQUENTIAL])
        for setting in SETTINGS:
            median = statistics.median(seconds[model, setting])
            rows.append(
                {
                    "model": model,
                    "setting": setting,
                    "median_s": median,
                    "speedup": base / median,
                    "seconds": seconds[model, setting],
                }
            )
    return {"epochs": epochs, "reps": reps, "seeds": len(SEEDS), "rows": rows}
