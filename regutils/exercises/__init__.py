"""Auto-checked exercises: the mechanism and every chapter's exercises.

Importing this package registers every chapter's exercises, so
``check("chapter.name", fn)`` and ``show_solution("chapter.name")`` work from any
notebook.
"""

# importing a chapter's module registers its exercises
import regutils.exercises.adversarial  # noqa: F401
import regutils.exercises.augmentation  # noqa: F401
import regutils.exercises.batch_norm  # noqa: F401
import regutils.exercises.choosing  # noqa: F401
import regutils.exercises.combining  # noqa: F401
import regutils.exercises.dropout  # noqa: F401
import regutils.exercises.ensembles  # noqa: F401
import regutils.exercises.implicit  # noqa: F401
import regutils.exercises.noise_injection  # noqa: F401
import regutils.exercises.regimes  # noqa: F401
import regutils.exercises.weight_sharing  # noqa: F401
from regutils.exercises import constraints, early_stopping, l1, l2, overfitting  # noqa: F401
from regutils.exercises.core import (
    REGISTRY,
    Case,
    CheckResult,
    Exercise,
    Solution,
    check,
    register,
    show_solution,
)

__all__ = [
    "REGISTRY",
    "Case",
    "CheckResult",
    "Exercise",
    "Solution",
    "check",
    "register",
    "show_solution",
]
