"""Saving and loading state dicts as .npz files, never with pickle.

A pickle can run code when it is loaded; an .npz of plain numeric arrays cannot.
``load`` refuses pickled data and object arrays, and accepts only files written by
``save`` (they carry a format marker), so a wrong file gives a clear error.
"""

from __future__ import annotations

import os
import zipfile
from typing import Any

import numpy as np

from minigrad.tensor import Tensor

_FORMAT_KEY = "__minigrad_state_dict__"
_FORMAT_VERSION = 1


def save(state_dict: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a state dict (names to arrays or Tensors) to ``path`` as an .npz file.

    The file is written exactly at ``path`` (no suffix is added), through a temporary
    file, so an interrupted save never leaves a half-written file behind.
    """
    arrays = {}
    for key, value in state_dict.items():
        if key == _FORMAT_KEY:
            raise ValueError(f"save: the key {key!r} is reserved")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"save: {key!r} holds {array.dtype} values; a state dict holds numbers only")
        arrays[key] = array
    arrays[_FORMAT_KEY] = np.array(_FORMAT_VERSION)
    temporary = f"{os.fspath(path)}.partial"
    with open(temporary, "wb") as file:
        np.savez(file, **arrays)
    os.replace(temporary, path)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a state dict written by :func:`save`; the values are numpy arrays.

    Raises ValueError (FileNotFoundError for a missing file) for anything else: a
    pickle, an object array, a truncated or random file, or an .npz not made by save.
    """
    name = os.fspath(path)
    try:
        return _read_state_dict(name)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        reason = str(error)
        if reason.startswith("Object arrays cannot be loaded"):
            reason = "it holds an array of Python objects, which could run code when loaded"
        elif "pickle" in reason:
            reason = "it is neither .npz nor .npy, and pickled data is never loaded (it could run code)"
        raise ValueError(f"load: {name} is not a minigrad state dict file: {reason}") from None


def _read_state_dict(name: str) -> dict[str, np.ndarray]:
    contents = np.load(name, allow_pickle=False)
    if not isinstance(contents, np.lib.npyio.NpzFile):
        raise ValueError("it holds a single array, not a state dict")
    with contents as archive:
        if _FORMAT_KEY not in archive.files:
            raise ValueError(
                "it is an .npz file but was not written by mg.save; load it with "
                "np.load and pass the arrays to load_state_dict"
            )
        state_dict = {key: archive[key] for key in archive.files if key != _FORMAT_KEY}
    for key, array in state_dict.items():
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{key!r} holds {array.dtype} values, and a state dict holds numbers only")
    return state_dict
