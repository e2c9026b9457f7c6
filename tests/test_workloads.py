"""The ADBench workloads: values against second, loop-based implementations, gradients
against complex step and central differences, sizes checked by name."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy.special import gammaln

from diffcompare.harness.run import HarnessOptions, run_function
from diffcompare.methods import METHODS
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.suite.records import suite
from diffcompare.suite.workloads import ADBENCH_SIZES, bundle_adjustment, gmm, lstm, workloads

WORKLOADS = {record.name: record for record in workloads()}


# --- second implementations, written as loops straight from the definitions --------------


def gmm_by_loops(x, data, k, gamma, m):
    n, d = data.shape
    alphas = x[:k]
    means = x[k : k + k * d].reshape(k, d)
    icf = x[k + k * d :].reshape(k, d * (d + 1) // 2)
    factors = []
    for j in range(k):
        q, lower = icf[j, :d], icf[j, d:]
        factor = np.diag(np.exp(q))
        entry = 0
        for column in range(d):  # the strictly lower part, column by column
            for row in range(column + 1, d):
                factor[row, column] = lower[entry]
                entry += 1
        factors.append(factor)
    log_likelihood = 0.0
    for i in range(n):
        terms = []
        for j in range(k):
            precision = factors[j].T @ factors[j]
            centred = data[i] - means[j]
            log_det = math.log(np.linalg.det(precision))
            terms.append(alphas[j] + 0.5 * log_det - 0.5 * centred @ precision @ centred)
        log_likelihood += math.log(sum(math.exp(t) for t in terms))
    log_likelihood -= n * math.log(sum(math.exp(a) for a in alphas)) + n * d / 2 * math.log(2 * math.pi)
    dof = d + m + 1
    log_prior = 0.0
    for j in range(k):
        precision = factors[j].T @ factors[j]
        # the Wishart log density of the precision, scale V = I / gamma^2
        multigamma = d * (d - 1) / 4 * math.log(math.pi) + sum(gammaln(dof / 2 - i / 2) for i in range(d))
        log_prior += (
            (dof - d - 1) / 2 * math.log(np.linalg.det(precision))
            - 0.5 * gamma**2 * np.trace(precision)
            - dof * d / 2 * math.log(2)
            + dof * d * math.log(gamma)
            - multigamma
        )
    return log_likelihood + log_prior


def rodrigues_by_matrix(r, y):
    theta = np.linalg.norm(r)
    axis = r / theta
    skew = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + math.sin(theta) * skew + (1 - math.cos(theta)) * skew @ skew
    return rotation @ y


def ba_residuals_by_loops(x, f):
    cams = x[: 11 * f.cameras].reshape(f.cameras, 11)
    pts = x[11 * f.cameras : 11 * f.cameras + 3 * f.points].reshape(f.points, 3)
    weights = x[11 * f.cameras + 3 * f.points :]
    reprojection, weight_residuals = [], []
    for i in range(f.observations):
        cam, point = cams[f.camera_index[i]], pts[f.point_index[i]]
        seen = rodrigues_by_matrix(cam[0:3], point - cam[3:6])
        image = seen[:2] / seen[2]
        r2 = image @ image
        image = image * (1 + cam[9] * r2 + cam[10] * r2 * r2)
        projected = image * cam[6] + cam[7:9]
        reprojection += list(weights[i] * (projected - f.features[i]))
        weight_residuals.append(1 - weights[i] ** 2)
    return np.array(reprojection + weight_residuals)


def lstm_by_loops(x, f):
    b, layers = f.alphabet, f.layers
    main = x[: 8 * layers * b].reshape(layers, 2, 4, b)
    extra = x[8 * layers * b :].reshape(3, b)
    state = f.state.copy()

    def sigmoid(z):
        return 1 / (1 + math.exp(-z))

    total = 0.0
    for t in range(f.chars - 1):
        signal = [f.sequence[t][e] * extra[0][e] for e in range(b)]
        for layer in range(layers):
            w, bias = main[layer, 0], main[layer, 1]
            for e in range(b):
                hidden, cell = state[layer, 0, e], state[layer, 1, e]
                forget = sigmoid(signal[e] * w[0][e] + bias[0][e])
                ingate = sigmoid(hidden * w[1][e] + bias[1][e])
                outgate = sigmoid(signal[e] * w[2][e] + bias[2][e])
                change = math.tanh(hidden * w[3][e] + bias[3][e])
                state[layer, 1, e] = cell * forget + ingate * change
                state[layer, 0, e] = outgate * math.tanh(state[layer, 1, e])
            signal = list(state[layer, 0])
        prediction = [signal[e] * extra[1][e] + extra[2][e] for e in range(b)]
        normaliser = math.log(sum(math.exp(p) for p in prediction) + 2)
        total += sum(f.sequence[t + 1][e] * (prediction[e] - normaliser) for e in range(b))
    return -total / ((f.chars - 1) * b)


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize("gamma, m", [(1.0, 0), (0.7, 3)])
def test_gmm_value_matches_the_definition_written_as_loops(gamma, m):
    record = gmm(3, 4, 7, seed=5, gamma=gamma, m=m)
    for x in record.points:
        expected = gmm_by_loops(x, record.f.data, 4, gamma, m)
        assert record.f(x, numpy_namespace) == pytest.approx(expected, rel=1e-12)


def test_bundle_adjustment_residuals_match_the_definition_written_as_loops():
    record = bundle_adjustment(3, 4, 9, seed=2)
    for x in record.points:
        residuals = record.f.residuals(x, numpy_namespace)
        expected = ba_residuals_by_loops(x, record.f)
        assert residuals.shape == (3 * 9,)
        np.testing.assert_allclose(residuals, expected, rtol=1e-12, atol=1e-14)
        assert record.f(x, numpy_namespace) == pytest.approx(np.sum(expected**2), rel=1e-12)


def test_lstm_loss_matches_the_definition_written_as_loops():
    record = lstm(2, 5, alphabet=4, seed=3)
    for x in record.points:
        assert record.f(x, numpy_namespace) == pytest.approx(lstm_by_loops(x, record.f), rel=1e-12)


def test_the_bundle_adjustment_data_are_a_perturbed_true_scene():
    # features are projections of a scene from the record's box plus noise of 0.01
    record = bundle_adjustment(2, 5, 8, seed=1)
    assert np.all(np.abs(record.f.features) < 1.0)
    assert sorted(set(record.f.point_index)) == list(range(5))
    assert sorted(set(record.f.camera_index)) == [0, 1]


# --- gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_gradients_agree_with_the_complex_step_and_central_differences(name):
    record = WORKLOADS[name]
    x = record.points[0]
    step = METHODS["complex_step"].prepare(record.f, record.dim).gradient(x)
    central = METHODS["central"].prepare(record.f, record.dim).gradient(x)
    scale = np.max(np.abs(step))
    assert np.max(np.abs(central - step)) <= 1e-7 * scale
    for method in ("tape", "autograd", "forward"):
        gradient = METHODS[method].prepare(record.f, record.dim).gradient(x)
        assert np.max(np.abs(gradient - step)) <= 1e-13 * scale, method


def test_a_larger_gmm_gradient_matches_between_tape_and_forward_mode():
    record = gmm(5, 3, 40, seed=9)
    x = record.points[1]
    tape = METHODS["tape"].prepare(record.f, record.dim).gradient(x)
    forward = METHODS["forward"].prepare(record.f, record.dim).gradient(x)
    np.testing.assert_allclose(tape, forward, rtol=1e-12, atol=1e-12 * np.max(np.abs(tape)))


# --- records and sizes ----------------------------------------------------------------------


def test_default_workloads_are_small_and_traced_by_sympy():
    for record in workloads():
        assert record.dim <= 30 and record.symbolic_reference, record.name
    assert [r.name for r in suite(["gmm", "lstm"])] == ["gmm", "lstm"]
    assert "gmm" not in [r.name for r in suite()]  # the test functions alone by default


def test_scaled_reaches_the_adbench_sizes_and_stops_tracing():
    small = WORKLOADS["gmm"]
    large = small.scaled(d=10, k=25, n=1000)
    assert large.dim == 25 * (1 + 10 + 55) and dict(large.sizes) == {"d": 10, "k": 25, "n": 1000}
    assert not large.symbolic_reference
    cameras, points, observations = ADBENCH_SIZES["bundle_adjustment"][0]
    ba = WORKLOADS["bundle_adjustment"].scaled(cameras=cameras, points=points, observations=observations)
    assert ba.dim == 11 * 49 + 3 * 7776 + 31843
    assert WORKLOADS["lstm"].scaled(layers=2, chars=1024, alphabet=14).dim == (8 * 2 + 3) * 14
    with pytest.raises(ValueError, match=r"gmm has the sizes \['d', 'k', 'n'\]; got \['layers'\]"):
        small.scaled(layers=2)


def test_same_seed_same_data_and_another_seed_other_data():
    assert np.array_equal(gmm(2, 3, 5, seed=1).f.data, gmm(2, 3, 5, seed=1).f.data)
    assert not np.array_equal(gmm(2, 3, 5, seed=1).f.data, gmm(2, 3, 5, seed=2).f.data)


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: gmm(0, 3, 5), "d"),
        (lambda: gmm(2, 2.5, 5), "k"),
        (lambda: gmm(2, 3, True), "n"),
        (lambda: gmm(2, 3, 5, m=-1), "m"),
        (lambda: gmm(2, 3, 5, gamma=0.0), "gamma"),
        (lambda: gmm(2, 3, 5, seed=-1), "seed"),
        (lambda: bundle_adjustment(0, 3, 5), "cameras"),
        (lambda: bundle_adjustment(2, 0, 5), "points"),
        (lambda: bundle_adjustment(2, 6, 5), "observations"),
        (lambda: lstm(0, 5), "layers"),
        (lambda: lstm(2, 1), "chars"),
        (lambda: lstm(2, 5, alphabet=0), "alphabet"),
    ],
)
def test_bad_sizes_raise_value_error_naming_the_argument(build, argument):
    with pytest.raises(ValueError, match=f"^{argument} must be"):
        build()


def test_records_travel_to_worker_processes():
    for record in workloads():
        copy = pickle.loads(pickle.dumps(record))
        x = record.points[0]
        assert copy.f(x, numpy_namespace) == record.f(x, numpy_namespace)
        assert copy.sizes == record.sizes


def test_the_harness_scores_a_large_workload_along_a_direction_without_tracing_it():
    record = gmm(3, 4, 60, seed=4)  # 40 parameters, but 60 data points: not traced
    assert not record.symbolic_reference
    options = HarnessOptions(methods=("tape", "central"), timing=False, ordinary_points=1, hard_points=False)
    rows = {row["method"]: row for row in run_function(record, options)}
    assert {row["status"] for row in rows.values()} == {"directional"}
    assert "too large for the symbolic reference" in rows["tape"]["message"]
    assert rows["tape"]["dir_rel_err"] <= 1e-15
    assert 0 < rows["central"]["dir_rel_err"] <= METHODS["central"].accuracy
