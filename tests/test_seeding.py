"""One source for every random draw (initcore.seeding)."""
import numpy as np
import pytest

from initcore import seeding


def test_the_seed_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("INITCORE_SEED", raising=False)
    assert seeding.current_seed() == seeding.DEFAULT_SEED
    monkeypatch.setenv("INITCORE_SEED", "7")
    assert seeding.current_seed() == 7
    a = seeding.reset().standard_normal(3)
    assert np.allclose(a, np.random.default_rng(7).standard_normal(3))
    monkeypatch.setenv("INITCORE_SEED", "seven")
    with pytest.raises(ValueError, match="INITCORE_SEED must be an integer"):
        seeding.current_seed()
    monkeypatch.undo()
    seeding.reset()  # leave the default generator as the session had it


def test_as_generator_accepts_none_an_int_or_a_generator():
    gen = np.random.default_rng(1)
    assert seeding.as_generator(gen) is gen
    assert np.allclose(seeding.as_generator(5).random(2), np.random.default_rng(5).random(2))
    assert isinstance(seeding.as_generator(None), np.random.Generator)
