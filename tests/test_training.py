"""Training the MLP with each gradient source: the runs must be the same run.

Most tests use three Gaussian blobs (no scikit-learn needed); the digits tests skip
cleanly without scikit-learn.  A deliberately wrong gradient must make the curves
disagree beyond the tolerance, so that agreement means something.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from diffcompare.mlp.training import (
    CURVE_TOLERANCE,
    GRADIENT_SOURCES,
    SKLEARN_MISSING_MESSAGE,
    TrainingConfig,
    TrainingResult,
    curve_differences,
    epoch_batches,
    load_digits_split,
    one_hot,
    split_data,
    stratified_split,
    train,
)

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_mlp.py"
BLOB_CONFIG = TrainingConfig(hidden=(6,), activation="tanh", epochs=6, batch_size=16, seed=3)


def gaussian_blobs(per_class: int = 40, classes: int = 3, features: int = 4, seed: int = 0):
    """``classes`` unit Gaussian blobs whose centres lie 3 apart along the axes."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), per_class)
    centres = 3.0 * np.eye(classes, features)
    return centres[labels] + rng.standard_normal((labels.size, features)), labels


@functools.cache
def blob_split():
    inputs, labels = gaussian_blobs()
    return split_data(inputs, labels, classes=3, test_fraction=0.25, seed=1)


@functools.cache
def blob_run(source: str, config: TrainingConfig = BLOB_CONFIG) -> TrainingResult:
    return train(blob_split(), config, source)


def load_script():
    spec = importlib.util.spec_from_file_location("train_mlp_script", SCRIPT)
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
    ],
)
def test_config_rejects_bad_values(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**{field: value})


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
