"""Real workloads from ADBench, each written once as ``f(x, xp)`` on seeded data.

Three objectives of the ADBench benchmark (Srajer, Baydin, Fitzgibbon, 2018), written
from their mathematical definitions:

``gmm``
    The log posterior of a Gaussian mixture with a Wishart prior on the precision
    matrices, in GradBench's corrected formulation.  ADBench's paper and code had three
    mistakes that GradBench fixed and documented: a sign error on one of the likelihood
    and the prior (so that the two did not add up to a log posterior), a transposed
    precision matrix, and a Wishart prior written over the covariances where it is over
    the precisions.  Here, with ``Q_k`` lower triangular (diagonal ``exp(q_k)``, strictly
    lower part ``l_k`` filled column by column), the precision is
    ``Lambda_k = Q_k^T Q_k`` and

    .. math::

        F = \\sum_i \\operatorname{lse}_k(\\alpha_k + \\textstyle\\sum_j q_{kj}
              - \\tfrac12 \\|Q_k (x_i - \\mu_k)\\|^2)
            - N (\\tfrac D2 \\log 2\\pi + \\operatorname{lse}(\\alpha))
            + \\sum_k (m \\textstyle\\sum_j q_{kj} - \\tfrac{\\gamma^2}{2} \\|Q_k\\|_F^2)
            + K (n_W D \\log\\tfrac{\\gamma}{\\sqrt 2} - \\log\\Gamma_D(\\tfrac{n_W}{2}))

    with ``n_W = D + m + 1`` degrees of freedom and scale ``V = I / gamma^2``: the log
    of ``p(X | theta, phi) p(theta)``, each Wishart density taken at ``Lambda_k``.
``bundle_adjustment``
    Reprojection residuals of 3-D points seen by cameras with a Rodrigues rotation, a
    centre, a focal length, a principal point and two radial distortion coefficients,
    each residual weighted by ``w``, plus the weight residuals ``1 - w^2``.
``lstm``
    ADBench's "diagonal" LSTM language model: every weight matrix is diagonal, so each
    layer is elementwise; the loss is the cross-entropy of predicting each next
    one-hot character.

Each factory (:func:`gmm`, :func:`bundle_adjustment`, :func:`lstm`) draws its data
from seeded generators and returns a :class:`WorkloadFunction`: a suite record whose
``f`` holds the data, so every backend sees the same float64 constants; its
:meth:`~WorkloadFunction.scaled` builds the same workload at other sizes
(:data:`ADBENCH_SIZES`).  :func:`workloads` gives the small default records the
``compare`` command runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..validation import check_count, check_seed
from .records import SEED, SuiteFunction

__all__ = [
    "ADBENCH_SIZES",
    "BundleAdjustment",
    "DiagonalLSTM",
    "GaussianMixture",
    "WorkloadFunction",
    "bundle_adjustment",
    "gmm",
    "lstm",
    "workloads",
]

#: The sizes of ADBench's instances: GMM's grid (n = 1,000 and 10,000), the smallest
#: bundle-adjustment problems (cameras, points, observations) and the LSTM's grid.
ADBENCH_SIZES = {
    "gmm": {"d": (2, 10, 20, 32, 64), "k": (5, 10, 25, 50, 100, 200), "n": (1_000, 10_000)},
    "bundle_adjustment": ((49, 7_776, 31_843), (21, 11_315, 36_455), (161, 48_126, 182_072)),
    "lstm": {"layers": (2, 4), "chars": (1_024, 4_096), "alphabet": (14,)},
}

#: Above this many scalar operations per evaluation the harness does not trace the
#: workload into SymPy for the full 50-digit reference (one symbol per coordinate, an
#: expression per data point): it measures random directional derivatives instead.
SYMBOLIC_WORK_LIMIT = 500


def _rng(seed: int, workload: str, *sizes: int) -> np.random.Generator:
    # One stream per (seed, workload, sizes): a workload's data never depends on another's.
    return np.random.default_rng([seed, *workload.encode(), *sizes])


@dataclass(frozen=True)
class WorkloadFunction(SuiteFunction):
    """A suite record of a workload built by a factory at given sizes.

    Attributes
    ----------
    sizes : tuple of (str, int)
        The factory's size arguments, e.g. ``(("d", 2), ("k", 3), ("n", 10))``.
    seed : int
        Seed of the workload's data.
    work : int
        Scalar operations of one evaluation, roughly: decides whether the harness
        traces ``f`` into SymPy (see ``symbolic_reference``).

    Examples
    --------
    >>> small = gmm(2, 2, 3)
    >>> small.dim, small.scaled(k=5, n=1000).dim
    (12, 30)
    """

    sizes: tuple[tuple[str, int], ...] = ()
    seed: int = SEED
    work: int = 0

    def scaled(self, **sizes: int) -> WorkloadFunction:
        """The same workload (same factory and seed) with some sizes changed.

        Raises
        ------
        ValueError
            If a size is not an argument of the workload's factory, or out of range.
        """
        current = dict(self.sizes)
        unknown = sorted(set(sizes) - set(current))
        if unknown:
            raise ValueError(f"{self.name} has the sizes {list(current)}; got {unknown}")
        return _FACTORIES[self.name](**{**current, **sizes}, seed=self.seed)


# --- Gaussian mixture with a Wishart prior --------------------------------------------------


def _triangle_indices(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each entry of ``Q`` sits in a row of ``icf``, and the two masks.

    ``icf`` holds ``q`` (``d`` entries) then ``l`` (the strictly lower part, column by
    column); ``position[r, c]`` is the index of ``Q[r, c]`` in it (0 above the diagonal,
    where the strict mask zeroes it anyway).
    """
    position = np.zeros((d, d), dtype=np.intp)
    position[np.arange(d), np.arange(d)] = np.arange(d)
    rows, cols = np.nonzero(np.tri(d, d, -1, dtype=bool).T)  # column-major order of the lower part
    position[cols, rows] = d + np.arange(rows.size)
    diagonal = np.eye(d)
    strict = np.tri(d, d, -1)
    return position, diagonal, strict


class GaussianMixture:
    """The GMM log posterior ``f(x, xp)`` at fixed data (see the module docstring).

    ``x`` is ``alphas`` (``k``), then ``means`` (``k x d``, row-major), then ``icf``
    (``k x d(d+1)/2``: each row ``q`` then ``l``), as in ADBench.
    """

    def __init__(self, data: np.ndarray, k: int, gamma: float, m: int):
        self.data = np.asarray(data, dtype=np.float64)
        self.n, self.d = self.data.shape
        self.k, self.gamma, self.m = k, float(gamma), int(m)
        d, triangle = self.d, self.d * (self.d + 1) // 2
        position, self.diagonal, self.strict = _triangle_indices(d)
        # one flat gather for all k factors: row j of icf starts at j * triangle
        self.gather = np.arange(k)[:, None, None] * triangle + position
        self.data_t = np.ascontiguousarray(self.data.T)
        # the constants of F: log 2 pi from the likelihood, the Wishart normaliser
        from scipy.special import multigammaln

        dof = d + self.m + 1
        self.likelihood_constant = -self.n * d / 2.0 * math.log(2.0 * math.pi)
        self.prior_constant = k * (
            dof * d * (math.log(self.gamma) - 0.5 * math.log(2.0)) - float(multigammaln(dof / 2.0, d))
        )
        self.__name__ = "gmm"

    @property
    def dim(self) -> int:
        return self.k * (1 + self.d + self.d * (self.d + 1) // 2)

    def factors(self, x, xp):
        """``(alphas, means, Q, sum of q per component)`` from the parameter vector."""
        k, d = self.k, self.d
        alphas = x[:k]
        means = xp.reshape(x[k : k + k * d], (k, d))
        raw = x[k + k * d :][self.gather]  # (k, d, d): q on the diagonal, l below, q_0 above
        # exp only where the mask keeps it: off the diagonal exp(0) = 1 is multiplied by 0,
        # so a large l can never overflow into an unused entry.
        q_factor = xp.exp(raw * self.diagonal) * self.diagonal + raw * self.strict
        log_det_half = xp.sum(xp.reshape(raw * self.diagonal, (k, d * d)), axis=1)
        return alphas, means, q_factor, log_det_half

    def __call__(self, x, xp):
        k, d = self.k, self.d
        alphas, means, q_factor, sum_q = self.factors(x, xp)
        # Q_k (x_i - mu_k) for all i at once: (k, d, d) @ (k, d, n)
        centred = xp.asarray(self.data_t) - xp.reshape(means, (k, d, 1))
        mahalanobis = xp.sum(xp.matmul(q_factor, centred) ** 2, axis=1)  # (k, n)
        beta = xp.reshape(alphas + sum_q, (k, 1)) - 0.5 * mahalanobis
        likelihood = xp.sum(xp.logsumexp(beta, axis=0)) - self.n * xp.logsumexp(alphas)
        prior = self.m * xp.sum(sum_q) - 0.5 * self.gamma**2 * xp.sum(q_factor**2)
        return likelihood + prior + (self.likelihood_constant + self.prior_constant)


def gmm(d: int, k: int, n: int, seed: int = SEED, gamma: float = 1.0, m: int = 0) -> WorkloadFunction:
    """The GMM workload: ``d``-dimensional data, ``k`` components, ``n`` points.

    Parameters
    ----------
    d, k, n : int
        Dimension, components, data points (ADBench: :data:`ADBENCH_SIZES`).
    seed : int
        Seed of the data (standard normal points).
    gamma : float
        Wishart precision (ADBench: 1).
    m : int
        Extra Wishart degrees of freedom (ADBench: 0).

    Returns
    -------
    WorkloadFunction
        Of dimension ``k (1 + d + d (d + 1) / 2)``; its domain is ``[-1, 1]`` for every
        parameter (log-diagonals included, so ``exp(q)`` stays in ``[1/e, e]``).

    Raises
    ------
    ValueError
        Naming the argument that is not a positive integer (``m``: non-negative), or
        ``gamma`` that is not positive.

    Examples
    --------
    >>> record = gmm(2, 5, 1000)
    >>> record.dim, record.name
    (30, 'gmm')
    """
    d, k, n = check_count(d, "d"), check_count(k, "k"), check_count(n, "n")
    m, seed = check_count(m, "m", 0), check_seed(seed)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not gamma > 0:
        raise ValueError(f"gamma must be a positive number; got {gamma!r}")
    data = _rng(seed, "gmm", d, k, n).standard_normal((n, d))
    f = GaussianMixture(data, k, gamma, m)
    work = n * k * d * (d + 2)
    return WorkloadFunction(
        "gmm",
        f,
        f.dim,
        (-1.0, 1.0),
        notes=f"Gaussian mixture log posterior, d={d} k={k} n={n}",
        symbolic_reference=work <= SYMBOLIC_WORK_LIMIT,
        sizes=(("d", d), ("k", k), ("n", n)),
        seed=seed,
        work=work,
    )


# --- bundle adjustment --------------------------------------------------------------------

#: Parameters per camera, in ADBench's order: Rodrigues rotation (3), centre (3), focal
#: length (1), principal point (2), radial distortion (2).
CAMERA_PARAMETERS = 11
_ROTATION, _CENTRE, _FOCAL, _PRINCIPAL, _DISTORTION = slice(0, 3), slice(3, 6), 6, slice(7, 9), slice(9, 11)
# The box the parameters are drawn from: small rotations, cameras 10 units behind the
# points (so every point is well in front of every camera), focal length near 1, the
# principal point at 0 (as in ADBench's data), mild distortion.
_CAMERA_BOX = (
    (-0.2, 0.2), (-0.2, 0.2), (-0.2, 0.2), (-1.0, 1.0), (-1.0, 1.0), (-11.0, -9.0),
    (0.8, 1.2), (0.0, 0.0), (0.0, 0.0), (-0.05, 0.05), (-0.05, 0.05),
)  # fmt: skip
_POINT_BOX = ((-1.0, 1.0),) * 3
_WEIGHT_BOX = ((0.5, 1.5),)


def _cross(a, b, xp):
    """Row-wise cross product of two ``(p, 3)`` arrays."""
    return xp.stack(
        [
            a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
            a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
            a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0],
        ],
        axis=1,
    )


class BundleAdjustment:
    """Bundle-adjustment residuals and their sum of squares, at fixed observations.

    ``x`` is the cameras (``cameras x 11``), then the points (``points x 3``), then one
    weight per observation.  Observation ``i`` is point ``point_index[i]`` seen by camera
    ``camera_index[i]`` at ``features[i]``.
    """

    def __init__(self, cameras: int, points: int, camera_index, point_index, features):
        self.cameras, self.points = cameras, points
        self.camera_index = np.asarray(camera_index, dtype=np.intp)
        self.point_index = np.asarray(point_index, dtype=np.intp)
        self.features = np.asarray(features, dtype=np.float64)
        self.observations = self.camera_index.size
        self.__name__ = "bundle_adjustment"

    @property
    def dim(self) -> int:
        return CAMERA_PARAMETERS * self.cameras + 3 * self.points + self.observations

    def project(self, camera, point, xp):
        """Image coordinates ``(p, 2)`` of ``point`` ``(p, 3)`` seen by ``camera`` ``(p, 11)``."""
        rotation = camera[:, _ROTATION]
        relative = point - camera[:, _CENTRE]
        # Rodrigues: R y = y cos t + (r x y) sin(t)/t + r (r . y) (1 - cos t)/t^2 with
        # t = |r|.  sin(t)/t = sinc(t/pi) and (1 - cos t)/t^2 = sinc(t/(2 pi))^2 / 2 are
        # smooth at t = 0, so no branch for small rotations is needed, and the second
        # form has no cancellation (1 - cos t loses all digits for tiny t).
        theta = xp.sqrt(xp.sum(rotation**2, axis=1))
        cos_t = xp.reshape(xp.cos(theta), (-1, 1))
        sin_over_t = xp.reshape(xp.sinc(theta / math.pi), (-1, 1))
        one_minus_cos_over_t2 = xp.reshape(0.5 * xp.sinc(theta / (2.0 * math.pi)) ** 2, (-1, 1))
        along = xp.reshape(xp.sum(rotation * relative, axis=1), (-1, 1))
        rotated = (
            relative * cos_t
            + _cross(rotation, relative, xp) * sin_over_t
            + rotation * (along * one_minus_cos_over_t2)
        )
        image = rotated[:, :2] / rotated[:, 2:3]
        radius2 = xp.sum(image**2, axis=1, keepdims=True)
        distortion = camera[:, _DISTORTION]
        scale = 1.0 + distortion[:, 0:1] * radius2 + distortion[:, 1:2] * radius2**2
        return image * scale * camera[:, _FOCAL : _FOCAL + 1] + camera[:, _PRINCIPAL]

    def residuals(self, x, xp):
        """The ``3 p`` residuals: ``w (projection - feature)`` (``2 p``) then ``1 - w^2`` (``p``)."""
        cams = xp.reshape(x[: CAMERA_PARAMETERS * self.cameras], (self.cameras, CAMERA_PARAMETERS))
        start = CAMERA_PARAMETERS * self.cameras
        pts = xp.reshape(x[start : start + 3 * self.points], (self.points, 3))
        weights = x[start + 3 * self.points :]
        projected = self.project(cams[self.camera_index], pts[self.point_index], xp)
        reprojection = xp.reshape(projected - xp.asarray(self.features), (-1, 2)) * xp.reshape(
            weights, (-1, 1)
        )
        return xp.concatenate([xp.reshape(reprojection, (-1,)), 1.0 - weights**2])

    def __call__(self, x, xp):
        return xp.sum(self.residuals(x, xp) ** 2)


def bundle_adjustment(cameras: int, points: int, observations: int, seed: int = SEED) -> WorkloadFunction:
    """The bundle-adjustment workload at seeded synthetic data.

    Every point is observed at least once (the first ``points`` observations see each
    point in turn), the rest are drawn at random; each camera is used, when
    ``observations >= cameras``.  The features are the projections of a seeded true
    scene (drawn from the record's box) plus a little noise, so the residuals at the
    record's points are those of a perturbed scene, of moderate size.

    Parameters
    ----------
    cameras, points, observations : int
        As in ADBench's file names (``ba1_n49_m7776_p31843``: 49, 7776, 31843).
    seed : int
        Seed of the scene, the observations and the noise.

    Returns
    -------
    WorkloadFunction
        Its ``f`` (a :class:`BundleAdjustment`) also has ``residuals(x, xp)``.

    Raises
    ------
    ValueError
        Naming a size that is not a positive integer, or ``observations < points``.

    Examples
    --------
    >>> bundle_adjustment(49, 7776, 31843).dim
    55710
    """
    cameras, points = check_count(cameras, "cameras"), check_count(points, "points")
    observations, seed = check_count(observations, "observations"), check_seed(seed)
    if observations < points:
        raise ValueError(
            f"observations must be >= points ({points}) so that every point is seen; got {observations}"
        )
    rng = _rng(seed, "bundle_adjustment", cameras, points, observations)
    point_index = np.concatenate([np.arange(points), rng.integers(0, points, observations - points)])
    camera_index = np.concatenate(
        [np.arange(min(cameras, observations)), rng.integers(0, cameras, max(observations - cameras, 0))]
    )[:observations]
    box = np.array(_CAMERA_BOX * cameras + _POINT_BOX * points + _WEIGHT_BOX * observations)
    scene = rng.uniform(box[:, 0], box[:, 1])
    f = BundleAdjustment(cameras, points, camera_index, point_index, np.zeros((observations, 2)))
    from ..ops.numpy_namespace import numpy_namespace

    start = CAMERA_PARAMETERS * cameras
    cams = scene[:start].reshape(cameras, CAMERA_PARAMETERS)
    pts = scene[start : start + 3 * points].reshape(points, 3)
    clean = f.project(cams[camera_index], pts[point_index], numpy_namespace)
    f.features = clean + 0.01 * rng.standard_normal(clean.shape)
    return WorkloadFunction(
        "bundle_adjustment",
        f,
        f.dim,
        tuple(map(tuple, box)),
        notes=f"bundle adjustment, {cameras} cameras, {points} points, {observations} observations",
        symbolic_reference=60 * observations <= SYMBOLIC_WORK_LIMIT,
        sizes=(("cameras", cameras), ("points", points), ("observations", observations)),
        seed=seed,
        work=60 * observations,
    )


# --- the diagonal LSTM --------------------------------------------------------------------


class DiagonalLSTM:
    """ADBench's LSTM language-model loss at a fixed one-hot sequence and initial state.

    ``x`` is the main parameters ``(layers, 2, 4, b)`` (per layer the weights, then the
    biases, of the forget, input, output and change gates), then the extra parameters
    ``(3, b)`` (input weight, output weight, output bias), both row-major.
    """

    def __init__(self, layers: int, state: np.ndarray, sequence: np.ndarray):
        self.layers = layers
        self.state = np.asarray(state, dtype=np.float64)  # (layers, 2, b): hidden, cell
        self.sequence = np.asarray(sequence, dtype=np.float64)  # (chars, b), one-hot rows
        self.chars, self.alphabet = self.sequence.shape
        self.__name__ = "lstm"

    @property
    def dim(self) -> int:
        return (8 * self.layers + 3) * self.alphabet

    def __call__(self, x, xp):
        b, layers = self.alphabet, self.layers
        main = xp.reshape(x[: 8 * layers * b], (layers, 2, 4, b))
        extra = xp.reshape(x[8 * layers * b :], (3, b))
        hidden = [xp.asarray(self.state[i, 0]) for i in range(layers)]
        cell = [xp.asarray(self.state[i, 1]) for i in range(layers)]
        # each gate's weights and biases, sliced once: (layer, gate) -> (weight, bias)
        gates = [[(main[i, 0, g], main[i, 1, g]) for g in range(4)] for i in range(layers)]
        in_weight, out_weight, out_bias = extra[0], extra[1], extra[2]
        total = 0.0
        for t in range(self.chars - 1):
            signal = xp.asarray(self.sequence[t]) * in_weight
            for i in range(layers):
                (w_forget, b_forget), (w_in, b_in), (w_out, b_out), (w_change, b_change) = gates[i]
                # diagonal weights: each gate is elementwise in the signal or the hidden state
                forget = xp.sigmoid(signal * w_forget + b_forget)
                ingate = xp.sigmoid(hidden[i] * w_in + b_in)
                outgate = xp.sigmoid(signal * w_out + b_out)
                change = xp.tanh(hidden[i] * w_change + b_change)
                cell[i] = cell[i] * forget + ingate * change
                hidden[i] = outgate * xp.tanh(cell[i])
                signal = hidden[i]
            prediction = signal * out_weight + out_bias
            # ADBench's normaliser is log(sum(exp) + 2), not a plain log-sum-exp: kept, as
            # it is the benchmark's definition (exp of predictions of order 1 cannot overflow).
            normaliser = xp.log(xp.sum(xp.exp(prediction)) + 2.0)
            total = total + xp.sum(xp.asarray(self.sequence[t + 1]) * (prediction - normaliser))
        return -total / float((self.chars - 1) * b)


def lstm(layers: int, chars: int, alphabet: int = 14, seed: int = SEED) -> WorkloadFunction:
    """The diagonal-LSTM workload: ``layers`` layers over ``chars`` one-hot characters.

    Parameters
    ----------
    layers : int
        Layers (ADBench: 2 or 4).
    chars : int
        Characters in the sequence, at least 2 (ADBench: 1024 or 4096).
    alphabet : int
        Alphabet size, also the hidden size (ADBench: 14).
    seed : int
        Seed of the sequence and of the initial state.

    Returns
    -------
    WorkloadFunction
        Of dimension ``(8 layers + 3) alphabet``.

    Raises
    ------
    ValueError
        Naming a size that is not a positive integer (``chars``: at least 2).

    Examples
    --------
    >>> lstm(2, 1024).dim
    266
    """
    layers, chars = check_count(layers, "layers"), check_count(chars, "chars", 2)
    alphabet, seed = check_count(alphabet, "alphabet"), check_seed(seed)
    rng = _rng(seed, "lstm", layers, chars, alphabet)
    sequence = np.eye(alphabet)[rng.integers(0, alphabet, chars)]
    state = rng.standard_normal((layers, 2, alphabet))
    f = DiagonalLSTM(layers, state, sequence)
    work = 30 * layers * chars * alphabet
    return WorkloadFunction(
        "lstm",
        f,
        f.dim,
        (-1.0, 1.0),
        notes=f"diagonal LSTM, {layers} layers, {chars} characters, b={alphabet}",
        symbolic_reference=work <= SYMBOLIC_WORK_LIMIT,
        sizes=(("layers", layers), ("chars", chars), ("alphabet", alphabet)),
        seed=seed,
        work=work,
    )


_FACTORIES = {"gmm": gmm, "bundle_adjustment": bundle_adjustment, "lstm": lstm}


def workloads() -> tuple[WorkloadFunction, ...]:
    """The workloads at the small sizes of the default ``compare`` run.

    Small enough that SymPy traces them for the full reference: GMM with ``d = 2,
    k = 2, n = 3`` (12 parameters), bundle adjustment with one camera, point and
    observation (15), the LSTM with 1 layer, 3 characters and an alphabet of 2 (22).
    The ``symbolic`` method still takes seconds on bundle adjustment (the Rodrigues
    rotation's ``sinc`` terms).  :meth:`WorkloadFunction.scaled` gives ADBench's sizes.

    Examples
    --------
    >>> [(record.name, record.dim) for record in workloads()]
    [('gmm', 12), ('bundle_adjustment', 15), ('lstm', 22)]
    """
    return (gmm(2, 2, 3), bundle_adjustment(1, 1, 1), lstm(1, 3, 2))
