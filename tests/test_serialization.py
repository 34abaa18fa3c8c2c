"""mg.save and mg.load: .npz files that cannot run code when loaded (minigrad/serialization.py)."""

import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import optim
from minigrad.optim import lr_scheduler
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


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, np.array([object()]), np.array(["a", "b"])])
def test_save_refuses_values_that_are_not_numbers(tmp_path, value):
    with pytest.raises(ValueError, match="'bad'"):
        mg.save({"good": np.zeros(2), "bad": value}, tmp_path / "state.npz")
    assert not any(tmp_path.iterdir())


# ---- nested state dicts: optimizers, schedulers, checkpoints -----------------------------------


def train_with(model, optimizer, scheduler, steps, seed):
    """Adam steps on random data, the scheduler stepped after each; the losses."""
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(mg.tensor(rng.standard_normal((16, 64)))), rng.integers(0, 10, 16))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def training_run(seed):
    mg.manual_seed(seed)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    return model, optimizer, lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)


def test_a_checkpoint_resumes_training_exactly(tmp_path):
    model, optimizer, scheduler = training_run(seed=0)
    train_with(model, optimizer, scheduler, steps=3, seed=1)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": 3,
    }
    mg.save(checkpoint, tmp_path / "checkpoint.npz")
    expected_losses = train_with(model, optimizer, scheduler, steps=3, seed=2)

    resumed_model, resumed_optimizer, resumed_scheduler = training_run(seed=5)  # other weights
    loaded = mg.load(tmp_path / "checkpoint.npz")
    resumed_model.load_state_dict(loaded["model"])
    resumed_optimizer.load_state_dict(loaded["optimizer"])
    resumed_scheduler.load_state_dict(loaded["scheduler"])
    assert loaded["epoch"] == 3 and type(loaded["epoch"]) is int
    assert train_with(resumed_model, resumed_optimizer, resumed_scheduler, steps=3, seed=2) == expected_losses
    assert_same_arrays(resumed_model.state_dict(), model.state_dict())
    assert resumed_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"] == 0.01 * 0.5**3


def test_a_nested_round_trip_keeps_keys_containers_and_number_types(tmp_path):
    state = {
        "state": {0: {"step": np.array(3), "exp_avg": np.arange(4, dtype=np.float32)}, 7: {}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": True, "params": [0, 7]}],
        "weights": mg.tensor(np.ones((2, 2))),
        "scalar": np.float32(2.5),
        "empty": ([], (), {}),
        "odd floats": [float("inf"), -0.0, 1e-300],
    }
    mg.save(state, tmp_path / "nested.npz")
    loaded = mg.load(tmp_path / "nested.npz")
    assert list(loaded) == list(state) and list(loaded["state"]) == [0, 7]
    assert loaded["state"][7] == {} and loaded["empty"] == ([], (), {})
    assert loaded["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": True, "params": [0, 7]}]
    assert type(loaded["param_groups"][0]["amsgrad"]) is bool
    exp_avg = loaded["state"][0]["exp_avg"]
    assert exp_avg.dtype == np.float32 and exp_avg.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert loaded["state"][0]["step"].dtype == state["state"][0]["step"].dtype
    assert loaded["weights"].dtype == np.float64 and loaded["weights"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert loaded["scalar"].shape == () and loaded["scalar"].dtype == np.float32 and loaded["scalar"] == 2.5
    assert loaded["odd floats"][0] == float("inf") and np.signbit(loaded["odd floats"][1])
    assert loaded["odd floats"][2] == 1e-300


def same_nesting(actual, expected):
    """The same containers, keys in order, Python number types, and arrays (dtype and values)."""
    if isinstance(expected, np.ndarray):
        return (
            isinstance(actual, np.ndarray)
            and actual.dtype == expected.dtype
            and np.array_equal(actual, expected)
        )
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, dict):
        return list(actual) == list(expected) and all(same_nesting(actual[k], expected[k]) for k in expected)
    if isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(map(same_nesting, actual, expected))
    return actual == expected


numbers_and_arrays = (
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.builds(np.array, st.lists(st.floats(-1e6, 1e6, width=32), max_size=4), st.just(np.float32))
    | st.builds(np.array, st.integers(-(2**40), 2**40))
)
nestings = st.recursive(
    numbers_and_arrays,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5) | st.integers(-5, 5), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(max_size=5) | st.integers(-5, 5), nestings, max_size=4))
def test_any_nesting_of_numbers_round_trips(tmp_path, state):
    path = tmp_path / "state.npz"
    mg.save(state, path)
    loaded = mg.load(path)
    assert same_nesting(loaded, state)


def test_python_numbers_come_back_as_python_numbers_and_any_name_will_do(tmp_path):
    state = {"epoch": 3, "lr": 0.1, "file": np.zeros(2), "allow_pickle": np.ones(1)}  # np.savez's own names
    mg.save(state, tmp_path / "state.npz")
    loaded = mg.load(tmp_path / "state.npz")
    assert same_nesting(loaded, state)
    mg.save({"file": np.zeros(2)}, tmp_path / "flat.npz")  # a model-like dict, one array per name
    assert list(mg.load(tmp_path / "flat.npz")) == ["file"]


def test_a_model_state_dict_is_still_written_one_array_per_name(tmp_path):
    mg.save(make_model().state_dict(), tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz") as archive:
        assert "0.weight" in archive.files and "1.running_mean" in archive.files


@pytest.mark.parametrize(
    ("state", "where"),
    [
        ({"optimizer": {"state": {0: {"fn": print}}}}, "state_dict['optimizer']['state'][0]['fn']"),
        ({"groups": [{"lr": b"0.1"}]}, "state_dict['groups'][0]['lr']"),
        ({"names": (1.0, {"a"})}, "state_dict['names'][1]"),
        ({"state": {(0, 1): np.zeros(2)}}, "the key (0, 1)"),
        ({"state": {True: np.zeros(2)}}, "the key True"),
        ({"nested": [np.array(["text"])]}, "state_dict['nested'][0]"),
    ],
)
def test_save_says_where_a_nested_value_is_not_a_number(tmp_path, state, where):
    with pytest.raises(ValueError, match="save: ") as error:
        mg.save(state, tmp_path / "state.npz")
    assert where in str(error.value)
    assert not any(tmp_path.iterdir())


def test_strings_and_none_round_trip_and_are_never_taken_for_arrays(tmp_path):
    # A scheduler saves mode="min"; a string that looks like the file's own tags stays a string.
    state = {"mode": "min", "note": None, "nested": {"array": "0", "tags": ["dict", "list"]}, "w": np.ones(2)}
    mg.save(state, tmp_path / "state.npz")
    loaded = mg.load(tmp_path / "state.npz")
    assert loaded["mode"] == "min" and loaded["note"] is None
    assert loaded["nested"] == {"array": "0", "tags": ["dict", "list"]}
    np.testing.assert_array_equal(loaded["w"], np.ones(2))


def test_save_of_something_other_than_a_dict_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="save: expected a dict"):
        mg.save([np.zeros(2)], tmp_path / "state.npz")


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


def nested_file_writer(nesting: bytes, marker_value: int = 2, **arrays):
    """A writer of a file marked as mg.save's nested layout, with this JSON text."""

    def write(path, marker):
        with open(path, "wb") as file:
            layout = np.frombuffer(nesting, dtype=np.uint8)
            np.savez(
                file, __minigrad_state_dict__=np.array(marker_value), __minigrad_nesting__=layout, **arrays
            )

    return write


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
    "nested-not-json": (nested_file_writer(b"{not json"), ""),
    "nested-unknown-tag": (
        nested_file_writer(b'{"dict": [["a", {"pickle": "0"}]]}'),
        "not a value mg.save writes",
    ),
    "nested-missing-array": (
        nested_file_writer(b'{"dict": [["a", {"array": "5"}]]}'),
        "not a value mg.save writes",
    ),
    "nested-bad-key": (nested_file_writer(b'{"dict": [[[1], 2]]}'), "a key and a value"),
    "nested-not-a-dict": (nested_file_writer(b'{"list": []}'), "not a dict"),
    "nested-without-layout": (nested_file_writer(b"", weight=np.zeros(2)), ""),
    "nested-too-deep": (nested_file_writer(b'{"list": [' * 5000 + b"]}" * 5000), ""),
    "newer-format": (nested_file_writer(b'{"dict": []}', marker_value=3), "newer minigrad"),
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
