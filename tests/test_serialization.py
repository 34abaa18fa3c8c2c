"""mg.save and mg.load: .npz files that cannot run code when loaded (minigrad/serialization.py)."""

import pickle
import zipfile

import numpy as np
import pytest

import minigrad as mg
from conftest import assert_same_arrays, make_model, snapshot, train_steps


# ---- the "done when" ------------------------------------------------------------------


def test_trained_model_saved_and_loaded_gives_identical_outputs(tmp_path):
    mg.manual_seed(0)
    model = make_model()
    train_steps(model, steps=4)
    model.eval()
    path = tmp_path / "model.npz"
    mg.save(model.state_dict(), path)

    mg.manual_seed(1)
    fresh = make_model()
    fresh.load_state_dict(mg.load(path))
    fresh.eval()
    x = mg.randn(9, 64)
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    assert fresh.state_dict()["1.num_batches_tracked"] == 4


# ---- round trips -------------------------------------------------------------------------------


def test_round_trip_keeps_keys_order_dtypes_and_values(tmp_path):
    model = make_model()
    train_steps(model, steps=2)
    state = model.state_dict()
    path = tmp_path / "state.npz"
    mg.save(state, path)
    loaded = mg.load(path)
    assert_same_arrays(loaded, state)
    assert loaded["1.num_batches_tracked"].shape == () and loaded["1.num_batches_tracked"].dtype == np.int64


def test_save_takes_tensors_and_str_paths(tmp_path):
    state = {
        "weight": mg.tensor(np.arange(6.0).reshape(2, 3)),
        "count": np.array(3),
        "flag": np.array([True]),
    }
    path = str(tmp_path / "state.npz")
    mg.save(state, path)
    loaded = mg.load(path)
    np.testing.assert_array_equal(loaded["weight"], np.arange(6.0).reshape(2, 3))
    assert loaded["count"] == 3 and loaded["flag"].dtype == np.bool_


def test_save_writes_exactly_at_the_path_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "weights.bin"  # no .npz suffix is added
    mg.save(make_model().state_dict(), path)
    assert [entry.name for entry in tmp_path.iterdir()] == ["weights.bin"]
    assert zipfile.is_zipfile(path)


def test_save_overwrites_an_existing_file(tmp_path):
    path = tmp_path / "state.npz"
    mg.save({"a": np.zeros(2)}, path)
    mg.save({"b": np.ones(3)}, path)
    assert list(mg.load(path)) == ["b"]


def test_loaded_arrays_belong_to_the_caller(tmp_path):
    path = tmp_path / "state.npz"
    model = make_model()
    mg.save(model.state_dict(), path)
    model.load_state_dict(mg.load(path))
    first = mg.load(path)
    first["0.weight"][...] = 0
    assert mg.load(path)["0.weight"].any() and model.state_dict()["0.weight"].any()


def test_empty_state_dict_round_trips(tmp_path):
    mg.save({}, tmp_path / "empty.npz")
    assert mg.load(tmp_path / "empty.npz") == {}


@pytest.mark.parametrize("value", ["text", None, np.array([object()]), np.array(["a", "b"])])
def test_save_refuses_values_that_are_not_numbers(tmp_path, value):
    with pytest.raises(ValueError, match="'bad'"):
        mg.save({"good": np.zeros(2), "bad": value}, tmp_path / "state.npz")
    assert not any(tmp_path.iterdir())


# ---- files that are not minigrad state dicts ------------------------------------------------------


class WritesAMarker:
    """Unpickling this object opens (so creates) the marker file: code run by a load."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def minigrad_file(path) -> bytes:
    mg.save(make_model().state_dict(), path)
    return path.read_bytes()


def write_pickle(path, marker):
    path.write_bytes(pickle.dumps({"0.weight": WritesAMarker(marker)}))


def write_object_npz(path, marker):
    # Carries the format marker of mg.save, so only the object array can give it away.
    with open(path, "wb") as file:
        np.savez(
            file, __minigrad_state_dict__=np.array(1), weight=np.array([WritesAMarker(marker)], dtype=object)
        )


def write_object_npy(path, marker):
    with open(path, "wb") as file:
        np.save(file, np.array([WritesAMarker(marker)], dtype=object), allow_pickle=True)


def write_truncated(path, marker):
    whole = minigrad_file(path)
    path.write_bytes(whole[: len(whole) // 2])


def write_last_byte_cut(path, marker):
    path.write_bytes(minigrad_file(path)[:-1])


def write_corrupted(path, marker):
    data = bytearray(minigrad_file(path))
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # zeros in the middle of the first weight
    path.write_bytes(bytes(data))


def write_random_bytes(path, marker):
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def write_empty(path, marker):
    path.write_bytes(b"")


def write_plain_npz(path, marker):
    with open(path, "wb") as file:
        np.savez(file, **make_model().state_dict())


def write_npy(path, marker):
    with open(path, "wb") as file:
        np.save(file, np.zeros((100, 64)))


def write_text(path, marker):
    path.write_text("0.weight: [1, 2, 3]\n")


BAD_FILES = {
    "pickle": (write_pickle, "pickle"),
    "object-arrays-npz": (write_object_npz, "object"),
    "object-array-npy": (write_object_npy, "object"),
    "truncated": (write_truncated, ""),
    "last-byte-cut": (write_last_byte_cut, ""),
    "corrupted": (write_corrupted, ""),
    "random-bytes": (write_random_bytes, ""),
    "empty": (write_empty, ""),
    "plain-np.savez": (write_plain_npz, "mg.save"),
    "npy": (write_npy, "single array"),
    "text": (write_text, ""),
}


def test_the_pickle_payload_would_run_code_if_unpickled(tmp_path):
    """The control for the tests below: unpickling the payload really does create its marker."""
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(WritesAMarker(marker))).close()
    assert marker.exists()


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_load_of_a_bad_file_is_a_clear_error_and_runs_no_code(tmp_path, case):
    write, reason = BAD_FILES[case]
    path, marker = tmp_path / "file.npz", tmp_path / "marker"
    write(path, marker)
    with pytest.raises(ValueError, match="not a minigrad state dict file") as error:
        try:
            mg.load(path)
        finally:
            assert not marker.exists()  # checked first: whatever the error, no code ran
    assert str(path) in str(error.value)
    assert reason in str(error.value)


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_failed_load_leaves_the_model_as_it_was(tmp_path, case):
    write, _ = BAD_FILES[case]
    path = tmp_path / "file.npz"
    write(path, tmp_path / "marker")
    model = make_model()
    train_steps(model, steps=1)
    before = snapshot(model)
    with pytest.raises(ValueError):
        model.load_state_dict(mg.load(path))
    assert_same_arrays(model.state_dict(), before)


def test_load_of_a_file_with_text_arrays_is_an_error(tmp_path):
    # Marked like a file of mg.save, which writes numbers only.
    path = tmp_path / "file.npz"
    with open(path, "wb") as file:
        np.savez(file, __minigrad_state_dict__=np.array(1), weight=np.array(["1.0", "2.0"]))
    with pytest.raises(ValueError, match="weight"):
        mg.load(path)


def test_load_of_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "nothing.npz")
