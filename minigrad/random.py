"""One random generator for everything random in minigrad: randn, rand, init, dropout."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed minigrad's generator, making randn, rand, weight init and dropout reproducible."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The generator minigrad draws from (replaced by each :func:`manual_seed`)."""
    return _generator
