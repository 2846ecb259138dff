import pytest

from regutils import REFERENCE_FIT, reference_model, reference_run, set_seed


def test_seed_gives_the_same_run_as_seeding_by_hand():
    a = reference_run(3, epochs=2)
    set_seed(3)
    b = reference_run(model=reference_model(), epochs=2)
    assert a == b


def test_seed_and_model_together_is_an_error():
    with pytest.raises(ValueError, match="pass seed or model, not both"):
        reference_run(0, model=reference_model(), epochs=1)


def test_overrides_replace_the_reference_budget():
    history = reference_run(0, epochs=3, batch_size=None)
    assert len(history) == 3 and REFERENCE_FIT["epochs"] == 150
