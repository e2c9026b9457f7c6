"""Training the MLP with each gradient source: the runs must be the same run.

Most tests use three Gaussian blobs (no scikit-learn needed); the digits tests skip
cleanly without scikit-learn.  A deliberately wrong gradient must make the curves
disagree beyond the tolerance, so that agreement means something.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from diffcompare.mlp.training import (
    CURVE_TOLERANCE,
    DIGITS_CONFIG,
    GRADIENT_SOURCES,
    MIN_TEST_ACCURACY,
    SKLEARN_MISSING_MESSAGE,
    TrainingConfig,
    TrainingResult,
    curve_differences,
    epoch_batches,
    load_digits_split,
    momentum_step,
    one_hot,
    split_data,
    stratified_split,
    train,
    validation_split,
)

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_mlp.py"
SELECTION_SCRIPT = SCRIPT.with_name("select_mlp_config.py")
SELECTION_REPORT = SCRIPT.parents[1] / "reports" / "train_mlp_selection.csv"
BLOB_CONFIG = TrainingConfig(hidden=(6,), activation="tanh", epochs=6, batch_size=16, seed=3)


def gaussian_blobs(per_class: int = 40, classes: int = 3, features: int = 4, seed: int = 0):
    """``classes`` unit Gaussian blobs whose centres lie 3 apart along the axes."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), per_class)
    centres = 3.0 * np.eye(classes, features)
    return centres[labels] + rng.standard_normal((labels.size, features)), labels


@pytest.fixture(autouse=True)
def one_blas_thread():
    """BLAS on one thread, as in the script: threads only slow these small products down
    on a shared machine (5x for the 256-wide digits network)."""
    with threadpool_limits(1):
        yield


@functools.cache
def blob_split():
    inputs, labels = gaussian_blobs()
    return split_data(inputs, labels, classes=3, test_fraction=0.25, seed=1)


@functools.cache
def blob_run(source: str, config: TrainingConfig = BLOB_CONFIG) -> TrainingResult:
    return train(blob_split(), config, source)


def load_script(path: Path = SCRIPT):
    spec = importlib.util.spec_from_file_location(path.stem + "_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- data -------------------------------------------------------------------------------


def test_one_hot_known_values():
    np.testing.assert_array_equal(one_hot([1, 0, 2], 3), [[0, 1, 0], [1, 0, 0], [0, 0, 1]])


@pytest.mark.parametrize(
    ("labels", "message"),
    [([0, 3], r"labels must lie in 0 \.\.\. 2; got 0 \.\.\. 3"), ([0.0, 1.0], "1-d integer array")],
)
def test_one_hot_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        one_hot(labels, 3)


def test_stratified_split_keeps_class_shares_and_partitions():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train_idx, test_idx = stratified_split(labels, 0.2, seed=5)
    assert np.intersect1d(train_idx, test_idx).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, test_idx])), np.arange(100))
    np.testing.assert_array_equal(np.bincount(labels[test_idx]), [10, 6, 4])
    again = stratified_split(labels, 0.2, seed=5)
    np.testing.assert_array_equal(again[1], test_idx)
    assert not np.array_equal(stratified_split(labels, 0.2, seed=6)[1], test_idx)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_stratified_split_rejects_fraction(fraction):
    with pytest.raises(ValueError, match="test_fraction must be between 0 and 1"):
        stratified_split([0, 1], fraction, seed=0)


def test_split_data_rejects_mismatched_rows():
    with pytest.raises(ValueError, match=r"inputs must have shape \(3, features\)"):
        split_data(np.zeros((4, 2)), [0, 1, 0], classes=2)


def test_epoch_batches_cover_every_sample_once_and_depend_on_epoch():
    batches = epoch_batches(50, 16, seed=0, epoch=2)
    assert [b.size for b in batches] == [16, 16, 16, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(50))
    np.testing.assert_array_equal(np.concatenate(epoch_batches(50, 16, 0, 2)), np.concatenate(batches))
    assert not np.array_equal(np.concatenate(epoch_batches(50, 16, 0, 3)), np.concatenate(batches))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("epochs", 0, "epochs must be a positive integer"),
        ("batch_size", 2.5, "batch_size must be a positive integer"),
        ("seed", -1, "seed must be a non-negative integer"),
        ("learning_rate", 0.0, "learning_rate must be a positive number"),
        ("momentum", 1.0, r"momentum must be in \[0, 1\)"),
        ("schedule", "linear", "schedule must be one of 'constant', 'cosine'"),
        ("weight_decay", -1e-3, "weight_decay must be a non-negative number"),
    ],
)
def test_config_rejects_bad_values(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**{field: value})


def test_momentum_step_known_values_and_plain_descent():
    x, velocity = momentum_step(np.array([1.0, -2.0]), np.array([0.5, 0.0]), np.array([2.0, 4.0]), 0.1, 0.9)
    np.testing.assert_allclose(velocity, [0.45 - 0.2, -0.4], rtol=1e-15)
    np.testing.assert_allclose(x, [1.25, -2.4], rtol=1e-15)
    # momentum 0: x - lr g; weight decay adds lambda x to the gradient.
    x, velocity = momentum_step(np.array([1.0]), np.array([7.0]), np.array([2.0]), 0.5, 0.0, weight_decay=0.5)
    np.testing.assert_allclose(x, [1.0 - 0.5 * (2.0 + 0.5)], rtol=1e-15)


def test_cosine_schedule_falls_from_the_learning_rate_towards_zero():
    config = TrainingConfig(epochs=10, learning_rate=0.3, schedule="cosine")
    rates = np.array([config.learning_rate_at(e) for e in range(10)])
    assert rates[0] == 0.3
    assert np.all(np.diff(rates) < 0) and 0 < rates[-1] < 0.01
    assert rates[5] == pytest.approx(0.15, rel=1e-15)  # half way: half the rate
    constant = TrainingConfig(epochs=10, learning_rate=0.3)
    assert {constant.learning_rate_at(e) for e in range(10)} == {0.3}


def test_weight_decay_shrinks_the_parameters():
    plain = blob_run("tape")
    decayed = train(blob_split(), TrainingConfig(**{**BLOB_CONFIG.__dict__, "weight_decay": 0.05}), "tape")
    assert np.linalg.norm(decayed.parameters) < 0.95 * np.linalg.norm(plain.parameters)


def test_validation_split_partitions_the_training_set_by_class():
    data = blob_split()
    inner = validation_split(data, 0.25, seed=2)
    rows = np.concatenate([inner.train_inputs, inner.test_inputs])
    assert len(rows) == len(data.train_inputs)
    # The same rows as the training set, in some order; nothing from the test set.
    np.testing.assert_array_equal(np.sort(rows, axis=0), np.sort(data.train_inputs, axis=0))
    counts = np.bincount(data.train_labels)
    np.testing.assert_array_equal(np.bincount(inner.test_labels), np.round(0.25 * counts))
    assert not np.array_equal(validation_split(data, 0.25, seed=3).test_inputs, inner.test_inputs)


def test_train_rejects_unknown_source():
    with pytest.raises(ValueError, match="unknown gradient source 'numeric'; expected one of"):
        train(blob_split(), BLOB_CONFIG, "numeric")


# --- the runs on synthetic blobs ---------------------------------------------------------


def test_sources_give_the_same_loss_curve():
    results = [blob_run(source) for source in GRADIENT_SOURCES]
    differences = curve_differences(results)
    assert differences.shape == (BLOB_CONFIG.epochs,)
    assert differences.max() <= CURVE_TOLERANCE, differences
    accuracies = {r.source: r.test_accuracy for r in results}
    assert len(set(accuracies.values())) == 1, accuracies


@pytest.mark.parametrize("source", list(GRADIENT_SOURCES))
def test_loss_decreases_and_blobs_are_learned(source):
    result = blob_run(source)
    assert result.losses[-1] < 0.5 * result.losses[0]
    assert result.test_accuracy >= 0.9


def test_same_seed_gives_identical_curves_and_another_seed_does_not():
    again = train(blob_split(), BLOB_CONFIG, "symbolic_rules")
    first = blob_run("symbolic_rules")
    np.testing.assert_array_equal(again.losses, first.losses)
    np.testing.assert_array_equal(again.parameters, first.parameters)
    other = train(blob_split(), TrainingConfig(**{**BLOB_CONFIG.__dict__, "seed": 4}), "symbolic_rules")
    assert not np.array_equal(other.losses, first.losses)


def test_slightly_wrong_gradient_breaks_the_agreement():
    # One part in a million on every gradient: the check must see it.
    rules = GRADIENT_SOURCES["symbolic_rules"]

    def wrong_source(mlp):
        gradient = rules(mlp)
        return lambda x: gradient(x) * (1 + 1e-6)

    wrong = train(blob_split(), BLOB_CONFIG, wrong_source)
    assert wrong.source == "custom"
    assert curve_differences([blob_run("symbolic_rules"), wrong]).max() > CURVE_TOLERANCE


def test_curve_differences_rejects_a_single_run():
    with pytest.raises(ValueError, match="need at least two runs"):
        curve_differences([blob_run("tape")])


# --- scikit-learn: missing, and present ---------------------------------------------------


def test_missing_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes "import sklearn..." fail
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[train\]"') as caught:
        load_digits_split()
    assert str(caught.value) == SKLEARN_MISSING_MESSAGE
    assert "scikit-learn is not installed" in SKLEARN_MISSING_MESSAGE


def test_script_without_sklearn_exits_2_with_the_message(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    status = load_script().main(["--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 2
    assert SKLEARN_MISSING_MESSAGE in captured.err
    assert "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []


def test_digits_split_is_scaled_and_stratified():
    pytest.importorskip("sklearn")
    data = load_digits_split(test_fraction=0.2, seed=0)
    assert data.features == 64 and data.classes == 10
    assert len(data.train_labels) + len(data.test_labels) == 1797
    assert len(data.test_labels) == 359
    for inputs in (data.train_inputs, data.test_inputs):
        assert inputs.min() == 0.0 and inputs.max() == 1.0
    shares = np.bincount(data.test_labels, minlength=10) / np.bincount(
        np.concatenate([data.train_labels, data.test_labels]), minlength=10
    )
    np.testing.assert_allclose(shares, 0.2, atol=0.01)


def test_digits_short_run_agrees_and_learns():
    pytest.importorskip("sklearn")
    data = load_digits_split()
    config = TrainingConfig(epochs=2)
    results = [train(data, config, source) for source in GRADIENT_SOURCES]
    assert curve_differences(results).max() <= CURVE_TOLERANCE
    assert results[0].losses[1] < results[0].losses[0]
    assert results[0].test_accuracy > 0.85


def test_digits_config_is_the_pick_of_the_committed_selection():
    """The committed validation run picked DIGITS_CONFIG: highest mean validation accuracy,
    ties to the cheaper run, and it is one of the script's candidates."""
    pd = pytest.importorskip("pandas")
    selection = load_script(SELECTION_SCRIPT)
    assert DIGITS_CONFIG in selection.CANDIDATES
    table = pd.read_csv(SELECTION_REPORT)
    assert len(table) == len(selection.CANDIDATES)
    best = table.sort_values(
        ["validation_accuracy", "cost", "candidate"], ascending=[False, True, True]
    ).iloc[0]
    assert selection.CANDIDATES[int(best["candidate"])] == DIGITS_CONFIG
    assert best["validation_accuracy"] >= MIN_TEST_ACCURACY


def test_digits_config_short_run_agrees_and_learns():
    """The chosen configuration's code path (relu, batches of 32, cosine schedule) for 2 epochs."""
    pytest.importorskip("sklearn")
    data = load_digits_split()
    config = dataclasses.replace(DIGITS_CONFIG, epochs=2)
    results = [train(data, config, source) for source in GRADIENT_SOURCES]
    assert curve_differences(results).max() <= CURVE_TOLERANCE
    assert results[0].losses[1] < results[0].losses[0]
    assert results[0].test_accuracy > 0.9


def test_script_exit_status_checks_the_accuracy_bar(monkeypatch, capsys, tmp_path):
    pytest.importorskip("sklearn")
    script = load_script()
    monkeypatch.setattr(script, "MIN_TEST_ACCURACY", 1.01)  # no run reaches it
    status = script.main(["--out", str(tmp_path), "--epochs", "1"])
    assert status == 1
    assert "test accuracy" in capsys.readouterr().err
    assert (tmp_path / "train_mlp.csv").exists()


@pytest.mark.slow  # about 15 s: three full training runs
def test_digits_full_run_reaches_the_accuracy_bar_with_every_source():
    pytest.importorskip("sklearn")
    data = load_digits_split()
    results = [train(data, DIGITS_CONFIG, source) for source in GRADIENT_SOURCES]
    assert curve_differences(results).max() <= CURVE_TOLERANCE
    for result in results:
        assert result.test_accuracy >= MIN_TEST_ACCURACY, (result.source, result.test_accuracy)
