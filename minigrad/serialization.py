"""Saving and loading state dicts as .npz files, never with pickle.

A pickle can run code when it is loaded; an .npz of plain numeric arrays cannot.
``load`` refuses pickled data and object arrays, and accepts only files written by
``save`` (they carry a format marker), so a wrong file gives a clear error.

Two layouts, told apart by the marker's value:

1. A model's state dict, names to arrays: one array per name, as ``np.savez`` writes
   them, so ``np.load`` shows the same names.
2. Anything that nests dicts, lists and tuples, as an optimizer's state dict does, or
   a checkpoint such as ``{"model": ..., "optimizer": ..., "epoch": 3}``: the arrays
   by number, and the nesting as JSON text, with the Python numbers, strings and
   Nones in place. JSON is read by a parser, so it cannot run code either.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from minigrad.tensor import Tensor

_FORMAT_KEY = "__minigrad_state_dict__"
_FLAT, _NESTED = 1, 2  # the marker's value: which layout the file has
_NESTING_KEY = "__minigrad_nesting__"  # the JSON text of the nested layout, as bytes
_VALUES = "arrays, tensors, Python numbers, bools, strings and None"


def save(state_dict: dict[Any, Any], path: str | os.PathLike) -> None:
    """Write a state dict to ``path`` as an .npz file.

    ``state_dict`` maps names to arrays or Tensors (a model's), or nests dicts, lists
    and tuples (an optimizer's, a scheduler's, or a checkpoint holding several): dict
    keys are strings or ints; the values are arrays, Tensors, Python numbers, bools,
    strings (a scheduler's ``mode="min"``) and None. :func:`load` gives back the same
    nesting, with numpy arrays.
    The file is written exactly at ``path`` (no suffix is added), through a temporary
    file, so an interrupted save never leaves a half-written file behind.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict (a state dict), got {type(state_dict).__name__}")
    arrays: dict[str, np.ndarray] = {}
    if _is_flat(state_dict):
        for key, value in state_dict.items():
            if key in (_FORMAT_KEY, _NESTING_KEY):
                raise ValueError(f"save: the key {key!r} is reserved")
            arrays[key] = _numeric_array(value, repr(key))
        marker = _FLAT
    else:
        nesting = _nesting(state_dict, "state_dict", arrays)
        arrays[_NESTING_KEY] = np.frombuffer(json.dumps(nesting).encode(), dtype=np.uint8)
        marker = _NESTED
    arrays[_FORMAT_KEY] = np.array(marker)
    temporary = f"{os.fspath(path)}.partial"
    _write_npz(temporary, arrays)
    os.replace(temporary, path)


def load(path: str | os.PathLike) -> dict[Any, Any]:
    """Read a state dict written by :func:`save`; its arrays come back as numpy arrays.

    Raises ValueError (FileNotFoundError for a missing file) for anything else: a
    pickle, an object array, a truncated or random file, or an .npz not made by save.
    """
    name = os.fspath(path)
    try:
        return _read_state_dict(name)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, RecursionError) as error:
        reason = str(error)
        if reason.startswith("Object arrays cannot be loaded"):
            reason = "it holds an array of Python objects, which could run code when loaded"
        elif "pickled" in reason:  # numpy: "This file contains pickled (object) data..."
            reason = "it is neither .npz nor .npy, and pickled data is never loaded (it could run code)"
        raise ValueError(f"load: {name} is not a minigrad state dict file: {reason}") from None


# ---- writing ---------------------------------------------------------------------------


def _is_flat(state_dict: dict[Any, Any]) -> bool:
    """Names to arrays, as a model's state dict: written one array per name.

    Python values, containers or int keys make it nested, so that they come back as
    they went in (a flat file gives back arrays only).
    """
    return all(isinstance(key, str) for key in state_dict) and not any(
        value is None or isinstance(value, (dict, list, tuple, bool, int, float, str))
        for value in state_dict.values()
    )


def _write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    """What ``np.savez`` writes, one ``.npy`` member per array.

    Written here because ``np.savez`` takes the names as keyword arguments, and a state
    dict may well have an entry called ``file``.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _numeric_array(value: Any, where: str) -> np.ndarray:
    """``value`` as an array of numbers, or a ValueError that says where it was."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"save: {where} holds {array.dtype} values; the arrays of a state dict hold numbers only "
            f"(text goes in as a Python str)"
        )
    return array


def _nesting(value: Any, where: str, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` as JSON: containers tagged with their kind, arrays moved to ``arrays``.

    ``{"dict": [[key, value], ...]}`` keeps int keys (JSON's own objects have string
    keys only) and the order; ``{"list": [...]}``, ``{"tuple": [...]}``; an array is
    ``{"array": "<its name in the file>"}``; Python numbers, bools, strings and None
    stand as they are (a tagged value is always a JSON object, so a string is never
    mistaken for one).
    """
    if isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise ValueError(
                    f"save: {where} has the key {key!r}; the keys of a state dict are strings or ints"
                )
            pairs.append([key, _nesting(item, f"{where}[{key!r}]", arrays)])
        return {"dict": pairs}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_nesting(item, f"{where}[{index}]", arrays) for index, item in enumerate(value)]}
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic):
        return value
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        name = str(len(arrays))
        arrays[name] = _numeric_array(value, where)
        return {"array": name}
    raise ValueError(
        f"save: {where} holds a {type(value).__name__}; a state dict holds {_VALUES}, "
        f"in dicts, lists and tuples"
    )


# ---- reading ---------------------------------------------------------------------------


def _read_state_dict(name: str) -> dict[Any, Any]:
    contents = np.load(name, allow_pickle=False)
    if not isinstance(contents, np.lib.npyio.NpzFile):
        raise ValueError("it holds a single array, not a state dict")
    with contents as archive:
        if _FORMAT_KEY not in archive.files:
            raise ValueError(
                "it is an .npz file but was not written by mg.save; load it with "
                "np.load and pass the arrays to load_state_dict"
            )
        marker = archive[_FORMAT_KEY]
        arrays = {key: archive[key] for key in archive.files if key not in (_FORMAT_KEY, _NESTING_KEY)}
        nesting = archive[_NESTING_KEY] if _NESTING_KEY in archive.files else None
    for key, array in arrays.items():
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{key!r} holds {array.dtype} values, and a state dict holds numbers only")
    if marker.shape != () or marker.dtype.kind not in "iu" or int(marker) not in (_FLAT, _NESTED):
        raise ValueError(f"its format marker is {marker!r}; a newer minigrad may have written it")
    if int(marker) == _FLAT:
        return arrays
    if nesting is None or nesting.dtype != np.uint8:
        raise ValueError("its nested layout is missing")
    state_dict = _rebuild(json.loads(nesting.tobytes().decode()), arrays)
    if not isinstance(state_dict, dict):
        raise ValueError("its nested layout is not a dict")
    return state_dict


def _rebuild(nesting: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The value that :func:`_nesting` wrote as ``nesting``; a ValueError if it is malformed."""
    if nesting is None or isinstance(nesting, (bool, int, float, str)):
        return nesting
    if not (isinstance(nesting, dict) and len(nesting) == 1):
        raise ValueError(f"its nested layout has {nesting!r} where a tagged value belongs")
    ((kind, content),) = nesting.items()
    if kind == "array" and isinstance(content, str) and content in arrays:
        return arrays[content]
    if kind in ("list", "tuple") and isinstance(content, list):
        items = [_rebuild(item, arrays) for item in content]
        return items if kind == "list" else tuple(items)
    if kind == "dict" and isinstance(content, list):
        state = {}
        for pair in content:
            if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) in (str, int)):
                raise ValueError(f"its nested layout has {pair!r} where a key and a value belong")
            state[pair[0]] = _rebuild(pair[1], arrays)
        return state
    raise ValueError(f"its nested layout has {nesting!r}, which is not a value mg.save writes")
