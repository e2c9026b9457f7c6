"""The linear model fitted by gradient descent: every exact method must give the same run.

The fast tests use a small problem (12 samples, 5 features), where even SymPy prepares
the gradient in well under a second; ``scripts/train_linear.py`` runs the 100 x 50 model.
A slightly wrong gradient must break the agreement, so that agreement means something.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diffcompare.methods import METHODS
from diffcompare.mlp.linear import (
    LINEAR_CURVE_TOLERANCE,
    LinearFit,
    LinearProblem,
    available_exact_methods,
    fit_linear,
)
from diffcompare.mlp.training import curve_differences
from diffcompare.ops.numpy_namespace import numpy_namespace

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_linear.py"
STEPS, LEARNING_RATE = 40, 0.5


@functools.cache
def small_problem() -> LinearProblem:
    return LinearProblem.random(samples=12, features=5, noise=0.1, seed=3)


@functools.cache
def small_fit(name: str) -> LinearFit:
    return fit_linear(small_problem(), METHODS[name], STEPS, LEARNING_RATE)


def load_script():
    spec = importlib.util.spec_from_file_location("train_linear_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the problem -------------------------------------------------------------------------


def test_random_problem_is_seeded_and_shaped():
    problem = LinearProblem.random(samples=7, features=3, noise=0.0, seed=2)
    again = LinearProblem.random(samples=7, features=3, noise=0.0, seed=2)
    assert problem.inputs.shape == (7, 3) and problem.dim == 3
    np.testing.assert_array_equal(problem.inputs, again.inputs)
    np.testing.assert_array_equal(problem.targets, again.targets)
    assert problem.inputs.min() >= -1.0 and problem.inputs.max() <= 1.0
    # Without noise the true weights fit exactly.
    np.testing.assert_allclose(problem.inputs @ problem.true_weights, problem.targets, rtol=0, atol=1e-15)
    other = LinearProblem.random(samples=7, features=3, noise=0.0, seed=4)
    assert not np.array_equal(other.inputs, problem.inputs)


def test_loss_known_values():
    problem = LinearProblem([[1.0, 2.0], [3.0, -1.0]], [1.0, 0.0])
    # residuals at w = (1, 1): 3 - 1 = 2 and 2 - 0 = 2; mean of squares 4.
    assert float(problem.f(np.array([1.0, 1.0]), numpy_namespace)) == 4.0
    assert float(problem.f(np.zeros(2), numpy_namespace)) == 0.5


def test_every_exact_method_matches_the_closed_form_gradient():
    problem = small_problem()
    w = np.random.default_rng(0).standard_normal(problem.dim)
    expected = 2.0 / len(problem.targets) * problem.inputs.T @ (problem.inputs @ w - problem.targets)
    for method in available_exact_methods():
        gradient = method.prepare(problem.f, problem.dim).gradient(w)
        np.testing.assert_allclose(gradient, expected, rtol=1e-14, atol=1e-15, err_msg=method.name)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inputs": [1.0, 2.0], "targets": [1.0]}, r"inputs must have shape \(samples, features\)"),
        ({"inputs": [[1.0], [2.0]], "targets": [1.0]}, r"targets must have shape \(2,\)"),
        ({"inputs": [[np.nan], [2.0]], "targets": [1.0, 2.0]}, "inputs and targets must be finite"),
        (
            {"inputs": [[1.0], [2.0]], "targets": [1.0, 2.0], "true_weights": [1.0, 2.0]},
            r"true_weights must have shape \(1,\)",
        ),
    ],
)
def test_problem_rejects_bad_data(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LinearProblem(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"samples": 0}, "samples must be a positive integer"),
        ({"features": 2.5}, "features must be a positive integer"),
        ({"noise": -1.0}, "noise must be a non-negative number"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_random_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LinearProblem.random(**kwargs)


# --- the runs ----------------------------------------------------------------------------


def test_available_exact_methods_are_the_registry_exact_family():
    names = {m.name for m in available_exact_methods()}
    exact = {name for name, m in METHODS.items() if m.family == "exact"}
    installed = {name for name in exact if METHODS[name].requires is None} | {
        name for name in exact if METHODS[name].requires and importlib.util.find_spec(METHODS[name].requires)
    }
    assert names == installed
    assert {"symbolic", "symbolic_vector", "autograd", "tape", "forward"} <= names
    assert not names & {name for name, m in METHODS.items() if m.family == "difference"}


def test_every_exact_method_gives_the_same_loss_curve():
    fits = [small_fit(m.name) for m in available_exact_methods()]
    assert [fit.method for fit in fits] == [m.name for m in available_exact_methods()]
    differences = curve_differences(fits)
    assert differences.shape == (STEPS + 1,)
    assert differences.max() <= LINEAR_CURVE_TOLERANCE, {
        fit.method: float(np.max(np.abs(fit.losses - fits[0].losses) / fits[0].losses)) for fit in fits
    }
    # Every run starts from w = 0, so the first loss is bitwise the same: mean(y^2).
    assert len({fit.losses[0] for fit in fits}) == 1
    assert fits[0].losses[0] == pytest.approx(np.mean(small_problem().targets ** 2), rel=1e-15)


def test_descent_contracts_towards_the_least_squares_solution():
    # Gradient descent on mean((X w - y)^2) is w <- w - lr H (w - w*) with H = 2 X^T X / n,
    # so ||w_k - w*|| <= rho^k ||w_0 - w*||, rho = max |1 - lr lambda_i(H)| < 1.
    fit = small_fit("tape")
    problem = small_problem()
    solution, *_ = np.linalg.lstsq(problem.inputs, problem.targets, rcond=None)
    hessian = 2.0 / len(problem.targets) * problem.inputs.T @ problem.inputs
    rho = np.max(np.abs(1.0 - LEARNING_RATE * np.linalg.eigvalsh(hessian)))
    assert rho < 1
    assert np.linalg.norm(fit.weights - solution) <= rho**STEPS * np.linalg.norm(solution) * (1 + 1e-9)
    assert np.linalg.norm(fit.weights - solution) < 0.5 * np.linalg.norm(solution)
    assert np.all(np.diff(fit.losses) <= 0)  # a step below 2 / lambda_max never goes uphill


def test_slightly_wrong_gradient_breaks_the_agreement():
    # One part in a million on every gradient, the same as a step size off by 1e-6.
    class ScaledTape:
        name = "scaled_tape"

        def prepare(self, f, dim):
            prepared = METHODS["tape"].prepare(f, dim)
            return type(prepared)(lambda x: prepared.gradient(x) * (1 + 1e-6))

    wrong = fit_linear(small_problem(), ScaledTape(), STEPS, LEARNING_RATE)
    assert wrong.method == "scaled_tape"
    assert curve_differences([small_fit("tape"), wrong]).max() > LINEAR_CURVE_TOLERANCE


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"problem": "data"}, TypeError, "problem must be a LinearProblem"),
        ({"method": "tape"}, TypeError, "method must be a method record"),
        ({"steps": 0}, ValueError, "steps must be a positive integer"),
        ({"learning_rate": -0.1}, ValueError, "learning_rate must be a positive number"),
    ],
)
def test_fit_rejects_bad_arguments(kwargs, error, message):
    arguments = {"problem": small_problem(), "method": METHODS["tape"], "steps": 3, "learning_rate": 0.5}
    with pytest.raises(error, match=message):
        fit_linear(**{**arguments, **kwargs})


@pytest.mark.slow  # about 2 s: matplotlib and every method's setup
def test_script_writes_the_curves_and_exits_0(tmp_path, capsys):
    status = load_script().main(["--out", str(tmp_path), "--samples", "6", "--features", "2", "--steps", "5"])
    assert status == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "train_linear.csv")
    assert list(table.columns) == ["step", "method", "loss"]
    assert set(table["method"]) == {m.name for m in available_exact_methods()}
    assert table.groupby("method")["step"].max().eq(5).all()
    assert (tmp_path / "train_linear.png").stat().st_size > 0
