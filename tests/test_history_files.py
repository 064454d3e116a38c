"""History files: corrupt or hostile files refused, permissions kept, step 0 and step checks."""

import os
import stat
import zipfile

import numpy as np
import pytest
import torch

import linfeat_widgets as lf


@pytest.fixture(scope="module")
def history():
    data = lf.make_dataset(n_samples=20, n_grid=20)
    return lf.train(lf.make_mlp(4, seed=0), data, n_steps=300, save_every=100, progress=False)


@pytest.fixture()
def saved(history, tmp_path):
    return history.save(tmp_path / "run.npz")


def _arrays(path):
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _write(path, arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def _changed(saved, tmp_path, **changes):
    arrays = _arrays(saved)
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return _write(tmp_path / "changed.npz", arrays)


def _refused(path, match):
    with pytest.raises(ValueError, match=match) as info:
        lf.History.load(path)
    assert str(path) in str(info.value)  # names the file
    return info


# --- files that are not archives ---------------------------------------------------------


def test_truncated_archive(saved, tmp_path):
    data = saved.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 5):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(data[:cut])
        _refused(path, "is not a valid History file: it is not a readable .npz archive")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(1000))
    _refused(path, "not a readable .npz archive")


def test_a_pickle_and_a_plain_npy_file(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, format=np.array("linfeat_widgets.History/1"), sizes=np.array([{"a": 1}], dtype=object))
    _refused(path, "array 'sizes' holds Python objects")
    npy = tmp_path / "single.npz"
    np.save(npy.with_suffix(".npy"), np.arange(3))
    npy.write_bytes(npy.with_suffix(".npy").read_bytes())
    _refused(npy, "not a readable .npz archive")


def test_corrupted_entry_is_refused(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("params.npy")
    at = info.header_offset + 30 + len(info.filename) + 200  # inside the params entry's data
    data[at] ^= 0xFF
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    _refused(path, "not a readable .npz archive .*CRC")


def test_missing_file_and_directory_keep_their_own_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        lf.History.load(tmp_path / "absent.npz")
    with pytest.raises(IsADirectoryError):
        lf.History.load(tmp_path)


# --- archives that are not History files ------------------------------------------------


def test_other_archives_and_wrong_versions(saved, tmp_path):
    other = _write(tmp_path / "other.npz", {"a": np.arange(3)})
    _refused(other, "it has no 'format' entry; it is not a History file written by History.save")
    _refused(_changed(saved, tmp_path, format=np.array("somebody.Else/1")), "its format is 'somebody.Else/1'")
    info = _refused(
        _changed(saved, tmp_path, format=np.array("linfeat_widgets.History/2")), "it is in format version '2'"
    )
    assert info.match("reads version 1")
    _refused(_changed(saved, tmp_path, format=np.array([1, 2])), "its format is 'array")


@pytest.mark.parametrize("key", ["sizes", "steps", "params", "train_error", "initial_params", "config_values"])
def test_missing_arrays_are_named(saved, tmp_path, key):
    _refused(_changed(saved, tmp_path, **{key: None}), f"it lacks the arrays '{key}'")


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"steps": np.array([1.0, 100.0, 200.0, 300.0])}, "array 'steps' has dtype float64"),
        ({"params": None}, "lacks the arrays 'params'"),
        ({"sizes": np.array(["1", "4", "1"])}, "array 'sizes' has dtype <U1"),
        ({"test_error": np.array([1, 2, 3, 4])}, "array 'test_error' has dtype int64"),
        (
            {"steps": np.array([1, 200, 100, 300])},
            "steps must be positive and strictly increasing; they are 1, 200, 100",
        ),
        ({"steps": np.array([1, 100, 100, 300])}, "steps must be positive and strictly increasing"),
        ({"steps": np.array([0, 100, 200, 300])}, "steps must be positive"),
        ({"steps": np.array([1, 100, 200, 2**63], dtype=np.uint64)}, "steps must fit in int64"),
        ({"steps": np.array([1, 100, 200, 300], dtype=np.uint16)}, None),
        ({"steps": np.array([1, 100, 200])}, r"params has shape \(4, 13\); expected \(3, d\)"),
        ({"train_error": np.zeros(3)}, r"train_error has shape \(3,\); expected \(4,\)"),
        ({"sizes": np.array([1, 5, 1])}, "sizes \\(1, 5, 1\\) ask for 16 parameters per snapshot, but params holds 13"),
        ({"sizes": np.array([2, 4, 1])}, "are not the layer sizes"),
        ({"sizes": np.array([1, 0, 1])}, "are not the layer sizes"),
        ({"sizes": np.ones(5000, dtype=np.int64)}, r"with 1 to 1000 layers"),
        ({"config_values": np.array(["'all'"])}, r"config has \d+ keys but 1 values"),
        ({"config_keys": np.array(["a"] * 11)}, "config has repeated keys"),
    ],
)
def test_inconsistent_arrays_are_refused(saved, tmp_path, changes, match):
    path = _changed(saved, tmp_path, **changes)
    if match is None:  # harmless: read as it is meant
        assert lf.History.load(path).steps.tolist() == [1, 100, 200, 300]
    else:
        _refused(path, match)


@pytest.mark.parametrize("key", ["params", "initial_params", "train_error", "test_error"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_refused(saved, tmp_path, key, bad):
    arrays = _arrays(saved)
    value = arrays[key].copy()
    value.reshape(-1)[1] = bad
    _refused(_changed(saved, tmp_path, **{key: value}), f"{key} has 1 NaN or infinite entries")


def test_mixed_parameter_dtypes_are_refused(saved, tmp_path):
    arrays = _arrays(saved)
    _refused(
        _changed(saved, tmp_path, initial_params=arrays["initial_params"].astype(np.float64)),
        "must both be float32 or both float64",
    )


@pytest.mark.parametrize("text", ["nan", "", "[1, 2", "__import__('os')", "lambda: 0"])
def test_config_values_that_do_not_parse_are_refused(saved, tmp_path, text):
    arrays = _arrays(saved)
    values = arrays["config_values"].astype(object)
    values[1] = text
    info = _refused(_changed(saved, tmp_path, config_values=values.astype(str)), "config value of 'lr'")
    assert info.match("is not a Python literal")


def test_a_small_file_asking_for_a_huge_network_is_refused_before_allocating(saved, tmp_path):
    path = _changed(saved, tmp_path, sizes=np.array([1, 10**9, 1]))
    assert path.stat().st_size < 5000
    _refused(path, r"sizes \(1, 1000000000, 1\) ask for 3000000001 parameters per snapshot, but params holds 13")


def test_an_array_header_claiming_more_than_its_entry_holds_is_refused(saved, tmp_path):
    # rewrite the params header to claim a (4, 10**9) array while the data stays 4 x 13
    arrays = _arrays(saved)
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in arrays.items():
            with archive.open(f"{key}.npy", "w") as handle:
                if key == "params":
                    header = {"descr": value.dtype.str, "fortran_order": False, "shape": (4, 10**9)}
                    np.lib.format.write_array_header_1_0(handle, header)
                    handle.write(value.tobytes())
                else:
                    np.lib.format.write_array(handle, value)
    _refused(path, r"array 'params' claims shape \(4, 1000000000\) \(16000000000 bytes\) but its entry is smaller")


def test_round_trip_still_exact(history, saved):
    loaded = lf.History.load(saved)
    assert np.array_equal(loaded.params, history.params) and loaded.params.dtype == history.params.dtype
    assert np.array_equal(loaded.initial_params, history.initial_params)
    assert np.array_equal(loaded.train_error, history.train_error)
    assert loaded.config == history.config


# --- permissions --------------------------------------------------------------------------


def test_save_over_a_file_keeps_its_permissions(history, tmp_path):
    path = tmp_path / "run.npz"
    path.write_bytes(b"old")
    for mode in (0o644, 0o640, 0o604):
        os.chmod(path, mode)
        history.save(path)
        assert stat.S_IMODE(path.stat().st_mode) == mode
    assert lf.History.load(path).steps.tolist() == history.steps.tolist()


def test_a_new_file_gets_the_umask_permissions(history, tmp_path):
    old = os.umask(0o027)
    try:
        history.save(tmp_path / "new.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.npz").stat().st_mode) == 0o640
    history.save(tmp_path / "default.npz")
    assert stat.S_IMODE((tmp_path / "default.npz").stat().st_mode) == 0o666 & ~old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.npz", "new.npz"], "a temporary file was left"


# --- steps --------------------------------------------------------------------------------


def test_step_zero_reads_the_initialization(history):
    entry = history[0]
    assert entry["train_error"] is None and entry["test_error"] is None
    for name, value in history.model(0).state_dict().items():
        assert torch.equal(entry["state"][name], value)
    assert 0 in history and 0 in history.keys()
    assert 0 not in list(history) and len(history) == len(history.steps)
    with pytest.raises(ValueError, match="step 0, the initialization, is not a snapshot: read it with history"):
        history.index(0)


@pytest.mark.parametrize("step", [True, False, 1.0, "1", None, np.float64(100)])
def test_steps_that_are_not_integers_are_refused(history, step):
    for read in (history.__getitem__, history.index, history.model, history.params_at, history.state):
        with pytest.raises(ValueError, match="step must be an integer"):
            read(step)
    assert step not in history


def test_unsaved_step_message_lists_the_saved_steps(history):
    with pytest.raises(ValueError, match=r"^step 150 was not saved; saved steps are 1, 100, 200, 300 \(4 snapshots\)"):
        history[150]
    data = lf.make_dataset(n_samples=20, n_grid=20)
    three = lf.train(lf.make_mlp(3, seed=0), data, n_steps=1500, save_every=1000, progress=False)
    assert three.steps.tolist() == [1, 1000, 1500]
    with pytest.raises(ValueError, match=r"saved steps are 1, 1000, 1500 \(3 snapshots\); step 0 is"):
        three.index(7)
    many = lf.train(lf.make_mlp(3, seed=0), data, n_steps=1000, save_every=100, progress=False)
    with pytest.raises(ValueError, match=r"saved steps are 1, 100, 200, \.\.\., 1000 \(11 snapshots\)"):
        many.index(7)
