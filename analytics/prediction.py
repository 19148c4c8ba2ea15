"""A predicted USMLE Step 2 CK three-digit score, shown only when the data support it.

The model is item response theory: the probability that an examinee of ability θ answers
item j correctly is ``1 / (1 + exp(-a_j (θ - b_j)))`` (2PL; the Rasch model is a_j = 1 or a
common a). Item parameters are calibrated from the cohort's own responses by marginal maximum
likelihood (Bock–Aitkin EM), which fixes the cohort's ability distribution at N(0, 1). An
examinee's ability is the posterior mean (EAP) under that same N(0, 1) prior, with the
posterior SD as its standard error.

Linking to the three-digit scale is a plain linear map, ``score = SCALE_MEAN + SCALE_SD · θ``.
That rests on assumptions, not on anything the NBME publishes (docs/psychometrics.md):

* the calibration cohort's ability distribution matches that of all Step 2 CK takers;
* those takers' scores have mean ≈ 245 and SD ≈ 15 (a third-party figure, not official);
* our items measure the same ability as the real exam.

So the number is an estimate for practice, and the API says why when it declines to give one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logsumexp
from scipy.stats import norm

# Assumed national distribution of Step 2 CK scores; see the module docstring.
SCALE_MEAN = 245.0
SCALE_SD = 15.0
SCALE_MIN = 1.0
SCALE_MAX = 300.0
# Minimum passing score for exams on or after 2025-07-01 (content outline, section 1.3).
PASSING_SCORE = 218.0

# One Step 2 CK block is 40 items; fewer answered, calibrated items gives too wide a band.
MIN_ITEMS = 40
# Refuse a prediction whose standard error on the three-digit scale is wider than this.
MAX_SE = 10.0
# Items answered by fewer cohort examinees than this are left uncalibrated (NaN).
MIN_RESPONSES = 30

# Ability grid for the EAP estimate. Sums over a smooth posterior converge fast, so a step
# of 0.05 is ample even for a 320-item test (posterior SD about 0.12).
_GRID = np.linspace(-6.0, 6.0, 241)
_LOG_PRIOR = norm.logpdf(_GRID)
# Bounds that keep EM finite for items that barely vary or run against the test.
_A_BOUNDS = (0.05, 6.0)
_B_BOUND = 8.0
# Probit approximation of the logistic curve: Λ(x) ≈ Φ(x / 1.702).
_PROBIT_SCALE = 1.702


@dataclass(frozen=True)
class ItemParams:
    """Calibrated parameters per item; NaN where an item could not be calibrated."""

    difficulties: np.ndarray
    discriminations: np.ndarray
    n: np.ndarray
    iterations: int = 0
    converged: bool = True


@dataclass(frozen=True)
class Prediction:
    is_shown: bool
    score: float | None
    low: float | None
    high: float | None
    p_pass: float | None
    se: float | None
    n_items: int
    reason: str
    level: float = 0.95
    theta: float | None = None
    theta_se: float | None = None


def difficulties_from_p_values(
    p: np.ndarray, n: np.ndarray, *, min_n: int = MIN_RESPONSES
) -> np.ndarray:
    """Rasch difficulties (a = 1, cohort ability N(0, 1)) from proportions correct.

    With ability θ ~ N(0, 1) and the probit approximation of the logistic curve, the share of
    the cohort answering correctly is Φ(-b / √(1.702² + 1)), which inverts to the formula
    below. p is smoothed to (p·n + ½)/(n + 1) so items that everyone (or no one) got right
    stay finite. Items seen by fewer than ``min_n`` examinees get NaN (uncalibrated).
    """
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    if p.shape != n.shape:
        raise ValueError("p and n must have the same shape")
    with np.errstate(invalid="ignore"):
        if ((p < 0) | (p > 1)).any():
            raise ValueError("p-values must be between 0 and 1")
    enough = np.isfinite(p) & (n >= max(min_n, 1))
    safe_n = np.where(enough, n, 1.0)
    smoothed = (np.where(enough, p, 0.5) * safe_n + 0.5) / (safe_n + 1.0)
    b = -norm.ppf(smoothed) * np.hypot(_PROBIT_SCALE, 1.0)
    return np.where(enough, b, np.nan)


def calibrate_items(
    responses: np.ndarray,
    *,
    model: str = "2pl",
    min_responses: int = MIN_RESPONSES,
    quadrature_points: int = 21,
    max_iterations: int = 500,
    tolerance: float = 1e-4,
) -> ItemParams:
    """Marginal-ML item parameters from a cohort's scored responses.

    ``responses`` is attempts × items with 1 (correct), 0 (wrong) or NaN (not presented).
    ``model`` is ``"2pl"`` (one discrimination per item) or ``"rasch"`` (one discrimination
    shared by all items). Items with fewer than ``min_responses`` responses, or that every
    respondent got right (or wrong), are returned as NaN: they carry no usable information.
    """
    if model not in {"2pl", "rasch"}:
        raise ValueError("model must be '2pl' or 'rasch'")
    x = np.asarray(responses, dtype=float)
    if x.ndim != 2:
        raise ValueError("responses must be a 2-D attempts × items array")
    presented = ~np.isnan(x)
    if not np.isin(x[presented], (0.0, 1.0)).all():
        raise ValueError("responses must be 1, 0 or NaN")
    n = presented.sum(axis=0)
    right = np.where(presented, x, 0.0).sum(axis=0)
    usable = (n >= max(min_responses, 1)) & (right > 0) & (right < n)
    difficulties = np.full(x.shape[1], np.nan)
    discriminations = np.full(x.shape[1], np.nan)
    if not usable.any():
        return ItemParams(difficulties, discriminations, n, 0, True)

    mask = presented[:, usable]
    keep = mask.any(axis=1)
    mask = mask[keep].astype(float)
    correct = np.where(mask > 0, x[keep][:, usable], 0.0)
    wrong = mask - correct

    nodes, weights = np.polynomial.hermite_e.hermegauss(quadrature_points)
    log_weights = np.log(weights / weights.sum())

    # Start from the p-value approximation; slope-intercept form z = a·θ + c with c = -a·b.
    b0 = difficulties_from_p_values(right[usable] / n[usable], n[usable], min_n=1)
    a = np.ones(usable.sum())
    c = -a * b0
    converged = False
    iterations = 0
    while iterations < max_iterations and not converged:
        iterations += 1
        z = a[:, None] * nodes[None, :] + c[:, None]  # items × nodes
        loglik = correct @ log_expit(z) + wrong @ log_expit(-z)  # people × nodes
        log_post = loglik + log_weights
        post = np.exp(log_post - logsumexp(log_post, axis=1, keepdims=True))
        r = correct.T @ post  # expected correct answers per item and node
        f = mask.T @ post  # expected examinees per item and node

        a_new, c_new = _m_step(a, c, r, f, nodes, common=model == "rasch")
        change = max(np.abs(a_new - a).max(), np.abs(c_new - c).max())
        a, c = a_new, c_new
        converged = change < tolerance

    difficulties[usable] = -c / a
    discriminations[usable] = a
    return ItemParams(difficulties, discriminations, n, iterations, converged)


def _m_step(
    a: np.ndarray,
    c: np.ndarray,
    r: np.ndarray,
    f: np.ndarray,
    nodes: np.ndarray,
    *,
    common: bool,
    steps: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """A few Newton steps on each item's expected complete-data log-likelihood."""
    for _ in range(steps):
        p = expit(a[:, None] * nodes + c[:, None])
        resid = r - f * p
        info = f * p * (1 - p)
        g_a = (resid * nodes).sum(axis=1)
        g_c = resid.sum(axis=1)
        h_aa = (info * nodes**2).sum(axis=1)
        h_ac = (info * nodes).sum(axis=1)
        h_cc = info.sum(axis=1)
        if common:
            # Intercepts per item, then the shared slope from the summed score.
            c = c + g_c / np.maximum(h_cc, 1e-12)
            p = expit(a[:, None] * nodes + c[:, None])
            g = ((r - f * p) * nodes).sum()
            h = (f * p * (1 - p) * nodes**2).sum()
            a = np.full_like(a, a[0] + g / max(h, 1e-12))
        else:
            det = h_aa * h_cc - h_ac**2
            ok = det > 1e-12
            safe = np.where(ok, det, 1.0)
            step_a = np.where(ok, (h_cc * g_a - h_ac * g_c) / safe, 0.0)
            step_c = np.where(ok, (h_aa * g_c - h_ac * g_a) / safe, g_c / np.maximum(h_cc, 1e-12))
            a = a + np.clip(step_a, -1.0, 1.0)
            c = c + np.clip(step_c, -2.0, 2.0)
        a = np.clip(a, *_A_BOUNDS)
        c = np.clip(c, -_B_BOUND * a, _B_BOUND * a)
    return a, c


def _not_shown(reason: str, n_items: int, level: float) -> Prediction:
    return Prediction(
        is_shown=False,
        score=None,
        low=None,
        high=None,
        p_pass=None,
        se=None,
        n_items=n_items,
        reason=reason,
        level=level,
    )


def estimate_ability(
    *, correct: np.ndarray, difficulties: np.ndarray, discriminations: np.ndarray
) -> tuple[float, float]:
    """EAP ability and posterior SD under an N(0, 1) prior (all inputs already cleaned)."""
    z = discriminations[:, None] * (_GRID[None, :] - difficulties[:, None])
    loglik = correct @ log_expit(z) + (1 - correct) @ log_expit(-z)
    log_post = loglik + _LOG_PRIOR
    post = np.exp(log_post - logsumexp(log_post))
    mean = float(post @ _GRID)
    sd = float(np.sqrt(max(post @ (_GRID - mean) ** 2, 0.0)))
    return mean, sd


def predict_score(
    *,
    correct: np.ndarray,
    difficulties: np.ndarray,
    discriminations: np.ndarray | None = None,
    level: float = 0.95,
    min_items: int = MIN_ITEMS,
    max_se: float = MAX_SE,
    scale_mean: float = SCALE_MEAN,
    scale_sd: float = SCALE_SD,
    passing_score: float = PASSING_SCORE,
) -> Prediction:
    """Predicted three-digit score from one examinee's answers to calibrated items.

    ``correct[j]`` is 1/0 for item j (NaN if not answered); ``difficulties[j]`` and
    ``discriminations[j]`` (1 for all if None) come from calibrate_items() or
    difficulties_from_p_values(), NaN for uncalibrated items. Only items that are both
    answered and calibrated count. The interval is score ± z·SE and
    P(pass) = Φ((score − passing_score) / SE), all on the three-digit scale.
    """
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    correct = np.asarray(correct, dtype=float)
    difficulties = np.asarray(difficulties, dtype=float)
    if discriminations is None:
        discriminations = np.ones_like(difficulties)
    discriminations = np.asarray(discriminations, dtype=float)
    if not correct.shape == difficulties.shape == discriminations.shape or correct.ndim != 1:
        raise ValueError("correct, difficulties and discriminations must be aligned 1-D arrays")
    answered = ~np.isnan(correct)
    if not np.isin(correct[answered], (0.0, 1.0)).all():
        raise ValueError("correct must hold 1, 0 or NaN")
    usable = answered & np.isfinite(difficulties) & np.isfinite(discriminations)
    usable &= discriminations > 0
    n_items = int(usable.sum())
    if n_items < min_items:
        return _not_shown(
            f"Only {n_items} answered question{'s' if n_items != 1 else ''} have calibrated "
            f"difficulty; a prediction needs at least {min_items}.",
            n_items,
            level,
        )

    theta, theta_se = estimate_ability(
        correct=correct[usable],
        difficulties=difficulties[usable],
        discriminations=discriminations[usable],
    )
    score = scale_mean + scale_sd * theta
    se = scale_sd * theta_se
    if not np.isfinite(se) or se <= 0:
        return _not_shown("The answers do not support an estimate.", n_items, level)
    if se > max_se:
        return _not_shown(
            f"The estimate is too uncertain (standard error {se:.0f} points; the limit is "
            f"{max_se:.0f}). Answer more questions.",
            n_items,
            level,
        )
    half_width = norm.ppf(0.5 + level / 2) * se
    return Prediction(
        is_shown=True,
        score=float(np.clip(score, SCALE_MIN, SCALE_MAX)),
        low=float(np.clip(score - half_width, SCALE_MIN, SCALE_MAX)),
        high=float(np.clip(score + half_width, SCALE_MIN, SCALE_MAX)),
        p_pass=float(norm.cdf((score - passing_score) / se)),
        se=float(se),
        n_items=n_items,
        reason="",
        level=level,
        theta=theta,
        theta_se=theta_se,
    )
