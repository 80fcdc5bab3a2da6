"""runsift.core.stats against known answers: brute force, hand computations, SciPy, scikit-learn, statsmodels."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from scipy import stats as st

from runsift.core import stats as S
from runsift.core.stats import bootstrap as B

# -- brute-force references --------------------------------------------------------------------------


def psi(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Pairwise kernel, positives x negatives: 1 when the positive scores higher, 1/2 on ties."""
    y = np.asarray(labels).astype(bool)
    x, v = scores[y][:, None], scores[~y][None, :]
    return (x > v) + 0.5 * (x == v)


def brute_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(psi(labels, scores).mean())


def brute_delong(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(auc_a, auc_b, variance of auc_b - auc_a) from DeLong's structural components, O(m*n)."""
    comps = []
    for s in (a, b):
        k = psi(labels, s)
        comps.append((k.mean(axis=1), k.mean(axis=0), k.mean()))  # V10 per positive, V01 per negative
    (v10a, v01a, auc_a), (v10b, v01b, auc_b) = comps
    m, n = v10a.size, v01a.size
    s10 = np.cov(np.vstack([v10a, v10b]))
    s01 = np.cov(np.vstack([v01a, v01b]))
    cov = s10 / m + s01 / n
    return auc_a, auc_b, cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]


def brute_ap(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision straight from the definition: for each distinct threshold, recall step x precision."""
    y = np.asarray(labels).astype(bool)
    total, prev_recall = 0.0, 0.0
    for t in np.unique(scores)[::-1]:
        pred = scores >= t
        tp = np.count_nonzero(pred & y)
        recall = tp / y.sum()
        total += (recall - prev_recall) * tp / pred.sum()
        prev_recall = recall
    return total


def data(seed: int, n: int = 300, prevalence: float = 0.3, ties: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    a = rng.normal(size=n) + 1.0 * y
    b = 0.7 * a + rng.normal(scale=0.7, size=n) + 0.3 * y
    if ties:
        a, b = np.round(a, 1), np.round(b, 1)
    return y, a, b


# -- metrics -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_roc_auc_equals_pairwise_count(seed: int, ties: bool) -> None:
    y, a, _ = data(seed, ties=ties)
    assert S.roc_auc(y, a) == pytest.approx(brute_auc(y, a), abs=1e-12)


def test_roc_auc_hand_cases() -> None:
    assert S.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert S.roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert S.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    # positives 0.8, 0.4; negatives 0.6, 0.4: pairs 1 + 1 + 0 + 1/2
    assert S.roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.6, 0.4]) == pytest.approx(2.5 / 4)
    assert S.roc_auc([True, False], [0.9, 0.1]) == 1.0


def test_roc_auc_undefined_and_bad_input() -> None:
    assert math.isnan(S.roc_auc([1, 1, 1], [0.1, 0.2, 0.3]))
    assert math.isnan(S.roc_auc([], []))
    with pytest.raises(ValueError, match="0/1"):
        S.roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="one value per label"):
        S.roc_auc([0, 1], [0.1, 0.2, 0.3])


def test_average_precision_by_hand() -> None:
    # thresholds .9 (P 1, R 1/3), .8 (P 1/2, R 1/3), .7 (P 2/3, R 2/3), .6 (P 3/4, R 1)
    y, s = [1, 0, 1, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.5]
    assert S.average_precision(y, s) == pytest.approx(1 / 3 + (1 / 3) * (2 / 3) + (1 / 3) * (3 / 4))
    assert math.isnan(S.average_precision([0, 0], [0.1, 0.2]))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_average_precision_equals_definition(seed: int, ties: bool) -> None:
    y, a, _ = data(seed, n=120, ties=ties)
    assert S.average_precision(y, a) == pytest.approx(brute_ap(y, a), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [False, True])
def test_metrics_match_sklearn(seed: int, ties: bool) -> None:
    sk = pytest.importorskip("sklearn.metrics")
    y, a, _ = data(seed, ties=ties)
    p = 1 / (1 + np.exp(-a))
    assert S.roc_auc(y, p) == pytest.approx(sk.roc_auc_score(y, p), abs=1e-12)
    assert S.average_precision(y, p) == pytest.approx(sk.average_precision_score(y, p), abs=1e-12)
    for t in (0.3, 0.5, 0.7):
        pred = (p >= t).astype(int)
        assert S.f1_at(y, p, t) == pytest.approx(sk.f1_score(y, pred, zero_division=0))
        assert S.precision_at(y, p, t) == pytest.approx(sk.precision_score(y, pred, zero_division=0))
        assert S.recall_at(y, p, t) == pytest.approx(sk.recall_score(y, pred, zero_division=0))
        assert S.accuracy_at(y, p, t) == pytest.approx(sk.accuracy_score(y, pred))


def test_threshold_metrics_by_hand() -> None:
    y = [1, 1, 1, 0, 0, 0]
    s = [0.9, 0.5, 0.2, 0.6, 0.1, 0.5]
    # at 0.5 (score >= 0.5 is positive): tp 2 (0.9, 0.5), fp 2 (0.6, 0.5), fn 1, tn 1
    assert S.confusion_at(y, s, 0.5) == (2, 2, 1, 1)
    assert S.precision_at(y, s, 0.5) == pytest.approx(0.5)
    assert S.recall_at(y, s, 0.5) == pytest.approx(2 / 3)
    assert S.f1_at(y, s, 0.5) == pytest.approx(4 / 7)
    assert S.accuracy_at(y, s, 0.5) == pytest.approx(0.5)
    # nothing predicted positive: precision and F1 are 0, not nan
    assert S.precision_at(y, s, 2.0) == 0.0 and S.f1_at(y, s, 2.0) == 0.0
    assert S.recall_at([0, 0], [0.1, 0.9], 0.5) == 0.0


def test_compute_metric_names() -> None:
    y, s = [1, 0, 1, 0], [0.9, 0.6, 0.4, 0.1]
    auc = S.roc_auc(y, s)
    for name in ("val_auc", "auc", "roc_auc", "test_roc_auc", "VAL-AUC", "val/auc", "auroc"):
        assert S.compute_metric(name, y, s) == auc, name
    for name in ("val_pr_auc", "average_precision", "ap", "test_ap", "auprc"):
        assert S.compute_metric(name, y, s) == S.average_precision(y, s), name
    assert S.compute_metric("val_f1", y, s, 0.5) == S.f1_at(y, s, 0.5)
    assert S.compute_metric("f1", y, s) == S.f1_at(y, s, 0.5)  # default threshold
    assert S.compute_metric("val_f1", y, s, 0.3) == S.f1_at(y, s, 0.3)
    assert S.compute_metric("precision", y, s, 0.5) == S.precision_at(y, s, 0.5)
    assert S.compute_metric("test_recall", y, s, 0.5) == S.recall_at(y, s, 0.5)
    assert S.compute_metric("acc", y, s, 0.5) == S.compute_metric("val_accuracy", y, s, 0.5) == S.accuracy_at(y, s, 0.5)
    for name in ("train_loss", "val_loss", "ndcg", "aucx", "val_"):
        assert S.compute_metric(name, y, s) is None, name
    assert S.metric_for("val_auc") is S.roc_auc
    f1 = S.metric_for("val_f1", 0.4)
    assert isinstance(f1, partial) and f1.func is S.f1_at and f1.keywords == {"threshold": 0.4}


# -- DeLong --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True])
def test_delong_matches_brute_force(seed: int, ties: bool) -> None:
    y, a, b = data(seed, n=150, ties=ties)
    res = S.delong_test(y, a, b)
    auc_a, auc_b, var = brute_delong(y, a, b)
    assert res.auc_a == pytest.approx(auc_a, abs=1e-12) and res.auc_a == pytest.approx(S.roc_auc(y, a), abs=1e-12)
    assert res.auc_b == pytest.approx(auc_b, abs=1e-12) and res.auc_b == pytest.approx(S.roc_auc(y, b), abs=1e-12)
    assert res.delta == pytest.approx(auc_b - auc_a, abs=1e-12)
    assert res.se == pytest.approx(math.sqrt(var), rel=1e-9)
    assert res.z == pytest.approx((auc_b - auc_a) / math.sqrt(var), rel=1e-9)
    assert res.p_value == pytest.approx(2 * st.norm.sf(abs(res.z)), rel=1e-9)
    assert res.ci_low == pytest.approx(res.delta - 1.959963984540054 * res.se)
    assert (res.n_pos, res.n_neg) == (int(y.sum()), int(y.size - y.sum()))


def test_delong_identical_runs_and_bad_input() -> None:
    y, a, _ = data(0)
    same = S.delong_test(y, a, a)
    assert (same.delta, same.se, same.z, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="2 positives"):
        S.delong_test([1, 0, 0], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1])
    with pytest.raises(ValueError, match="finite"):
        S.delong_test([1, 1, 0, 0], [0.1, np.nan, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4])


def test_delong_is_calibrated_under_the_null() -> None:
    """Two runs with the same true AUC: p < 0.05 in about 5% of datasets."""
    rng = np.random.default_rng(7)
    rejections = 0
    trials = 300
    for _ in range(trials):
        y = (rng.random(200) < 0.4).astype(int)
        shared = rng.normal(size=200)
        a = y + shared + rng.normal(scale=0.8, size=200)
        b = y + shared + rng.normal(scale=0.8, size=200)
        rejections += S.delong_test(y, a, b).p_value < 0.05
    assert 0.02 <= rejections / trials <= 0.09


# -- paired bootstrap --------------------------------------------------------------------------------


def test_weighted_auc_and_ap_kernels_equal_metrics_on_repeated_examples() -> None:
    """The block kernels, given integer counts, give the metric of the data with examples repeated."""
    rng = np.random.default_rng(3)
    for ties in (False, True):
        y, a, _ = data(11, n=80, ties=ties)
        yb = y.astype(bool)
        pos, neg = np.flatnonzero(yb), np.flatnonzero(~yb)
        w = rng.poisson(1.0, size=(y.size, 6)).astype(np.uint8)  # rows: positives then negatives
        canon = np.concatenate([pos, neg])
        auc = B._AucPlan(a[pos], a[neg])(w[: pos.size], w[pos.size :].astype(np.float32))
        ap = B._ApPlan(a[pos], a[neg])(w[: pos.size], w[pos.size :].astype(np.float32))
        for j in range(w.shape[1]):
            idx = np.repeat(canon, w[:, j])
            assert auc[j] == pytest.approx(S.roc_auc(y[idx], a[idx]), abs=1e-12)
            assert ap[j] == pytest.approx(S.average_precision(y[idx], a[idx]), abs=1e-12)


def test_resampling_counts() -> None:
    """Poisson(1) table within 1/65536 of the pmf; multinomial columns sum to n."""
    table = np.bincount(B._POISSON_TABLE, minlength=12) / 65536
    assert np.abs(table - st.poisson.pmf(np.arange(12), 1.0)).max() <= 1 / 65536
    assert (B._POISSON_TABLE.astype(float).mean()) == pytest.approx(1.0, abs=1e-4)
    rng = np.random.default_rng(0)
    w = B._draw_weights(rng, 1000, 7, "multinomial")
    assert w.shape == (1000, 7) and (w.sum(axis=0) == 1000).all()
    w = B._draw_weights(rng, 100_000, 3, "poisson")
    assert w.shape == (100_000, 3) and w.mean() == pytest.approx(1.0, abs=0.01) and w.var() == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("prevalence", [0.3, 0.7])
@pytest.mark.parametrize("resampling", ["poisson", "multinomial"])
@pytest.mark.parametrize("metric", [S.roc_auc, S.average_precision])
def test_block_path_equals_per_replicate_path(resampling: str, metric, prevalence: float) -> None:
    """Same seed: the vectorised path and a plain callable see the same replicates."""
    y, a, b = data(2, n=200, prevalence=prevalence, ties=True)
    fast = S.paired_bootstrap(y, a, b, metric, n_resamples=300, seed=5, resampling=resampling)
    slow = S.paired_bootstrap(y, a, b, lambda yy, ss: metric(yy, ss), n_resamples=300, seed=5, resampling=resampling)
    assert fast.n_resamples == slow.n_resamples == 300
    assert fast.ci_low == pytest.approx(slow.ci_low, abs=1e-12)
    assert fast.ci_high == pytest.approx(slow.ci_high, abs=1e-12)
    assert fast.se == pytest.approx(slow.se, abs=1e-12)
    assert fast.p_value == slow.p_value


def test_bootstrap_same_seed_same_result_whatever_the_threads() -> None:
    y, a, b = data(4, n=2000)
    one = S.paired_bootstrap(y, a, b, S.roc_auc, n_resamples=1000, seed=1, workers=1)
    two = S.paired_bootstrap(y, a, b, S.roc_auc, n_resamples=1000, seed=1, workers=2)
    again = S.paired_bootstrap(y, a, b, S.roc_auc, n_resamples=1000, seed=1)
    assert one == two == again
    other = S.paired_bootstrap(y, a, b, S.roc_auc, n_resamples=1000, seed=2)
    assert (other.ci_low, other.ci_high) != (one.ci_low, one.ci_high)
    assert one.delta == pytest.approx(S.roc_auc(y, b) - S.roc_auc(y, a))
    assert (one.metric_a, one.metric_b) == (S.roc_auc(y, a), S.roc_auc(y, b))


@pytest.mark.parametrize("metric", [S.roc_auc, S.average_precision, partial(S.f1_at, threshold=0.5), partial(S.accuracy_at, threshold=0.0)])
def test_bootstrap_identical_runs(metric) -> None:
    y, a, _ = data(5)
    res = S.paired_bootstrap(y, a, a.copy(), metric, n_resamples=500)
    assert res.delta == 0.0 and res.ci_low == 0.0 and res.ci_high == 0.0
    assert res.p_value == 1.0


def _binormal(rng: np.random.Generator, n: int, d_a: float, d_b: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores N(d * label, 1) for both runs, their noise correlated 0.6: true AUC is Phi(d / sqrt 2)."""
    y = (rng.random(n) < 0.35).astype(int)
    e1 = rng.normal(size=n)
    e2 = 0.6 * e1 + 0.8 * rng.normal(size=n)
    return y, d_a * y + e1, d_b * y + e2


def test_bootstrap_and_delong_intervals_cover_the_true_delta() -> None:
    """Over many synthetic datasets with a known AUC gain, the 95% intervals cover it about 95% of the time."""
    rng = np.random.default_rng(2024)
    true = st.norm.cdf(1.4 / math.sqrt(2)) - st.norm.cdf(1.0 / math.sqrt(2))
    trials, boot_hits, delong_hits = 80, 0, 0
    for k in range(trials):
        y, a, b = _binormal(rng, 400, 1.0, 1.4)
        res = S.paired_bootstrap(y, a, b, S.roc_auc, n_resamples=400, seed=k)
        boot_hits += res.ci_low <= true <= res.ci_high
        dl = S.delong_test(y, a, b)
        delong_hits += dl.ci_low <= true <= dl.ci_high
    assert 0.85 <= boot_hits / trials <= 1.0
    assert 0.85 <= delong_hits / trials <= 1.0


def test_bootstrap_single_dataset_detects_a_known_shift() -> None:
    rng = np.random.default_rng(99)
    y, a, b = _binormal(rng, 3000, 1.0, 1.4)
    true = st.norm.cdf(1.4 / math.sqrt(2)) - st.norm.cdf(1.0 / math.sqrt(2))
    res = S.paired_bootstrap(y, a, b, S.roc_auc, n_resamples=2000, seed=0)
    assert res.ci_low <= true <= res.ci_high
    assert res.ci_low > 0 and res.p_value < 0.001
    # the bootstrap standard error agrees with DeLong's
    assert res.se == pytest.approx(S.delong_test(y, a, b).se, rel=0.1)


def test_bootstrap_p_value_is_twice_the_share_beyond_zero() -> None:
    """Mean score difference (a plain callable): the p-value follows the normal two-sided p."""
    rng = np.random.default_rng(1)
    n = 200
    y = np.zeros(n, dtype=int)
    diff = rng.normal(size=n)
    diff = diff - diff.mean() + 1.7 * diff.std(ddof=1) / math.sqrt(n)  # z about 1.7: p about 0.09
    a = rng.normal(size=n)
    b = a + diff

    def mean_score(_labels: np.ndarray, scores: np.ndarray) -> float:
        return float(scores.mean())

    for resampling in ("multinomial", "poisson"):
        res = S.paired_bootstrap(y, a, b, mean_score, n_resamples=4000, seed=3, resampling=resampling)
        expected = 2 * st.norm.sf(1.7)
        assert res.p_value == pytest.approx(expected, abs=0.03), resampling
    neg = S.paired_bootstrap(y, b, a, mean_score, n_resamples=4000, seed=3, resampling="multinomial")
    assert neg.delta < 0 and neg.p_value == pytest.approx(2 * st.norm.sf(1.7), abs=0.03)


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_threshold_metric_bootstrap_matches_theory(resampling: str) -> None:
    """Accuracy delta = (fixed - broken) / n: its bootstrap spread is known in closed form."""
    rng = np.random.default_rng(8)
    n = 1000
    y = (rng.random(n) < 0.5).astype(int)
    right_a = rng.random(n) < 0.80
    right_b = np.where(rng.random(n) < 0.9, right_a, ~right_a)  # 10% of decisions flip
    a = np.where(right_a == y.astype(bool), 0.9, 0.1)
    b = np.where(right_b == y.astype(bool), 0.9, 0.1)
    p01 = np.mean(~right_a & right_b)
    p10 = np.mean(right_a & ~right_b)
    res = S.paired_bootstrap(y, a, b, partial(S.accuracy_at, threshold=0.5), n_resamples=10_000, seed=0, resampling=resampling)
    assert res.delta == pytest.approx(p01 - p10)
    assert res.se == pytest.approx(math.sqrt((p01 + p10 - (p01 - p10) ** 2) / n), rel=0.05)
    # the cell path and a per-replicate callable estimate the same distribution
    slow = S.paired_bootstrap(y, a, b, lambda yy, ss: S.accuracy_at(yy, ss, 0.5), n_resamples=2000, seed=0, resampling=resampling)
    assert slow.se == pytest.approx(res.se, rel=0.1)


def test_threshold_metric_cell_path_agrees_with_callable_for_f1() -> None:
    y, a, b = data(6, n=800)
    fast = S.paired_bootstrap(y, a, b, partial(S.f1_at, threshold=0.2), n_resamples=4000, seed=4, resampling="multinomial")
    slow = S.paired_bootstrap(y, a, b, lambda yy, ss: S.f1_at(yy, ss, 0.2), n_resamples=1000, seed=4, resampling="multinomial")
    assert fast.delta == slow.delta
    assert fast.se == pytest.approx(slow.se, rel=0.1)
    width = fast.ci_high - fast.ci_low
    assert abs(fast.ci_low - slow.ci_low) < 0.15 * width and abs(fast.ci_high - slow.ci_high) < 0.15 * width


def test_bootstrap_counts_undefined_replicates() -> None:
    y = np.array([1] + [0] * 19)
    a = np.linspace(0, 1, 20)
    b = a[::-1].copy()
    res = S.paired_bootstrap(y, a, b, S.roc_auc, n_resamples=400, seed=0)
    assert res.n_failed > 50  # P(the only positive is left out) = e^-1
    assert res.n_resamples + res.n_failed == 400


def test_bootstrap_bad_input() -> None:
    y, a, b = data(0, n=20)
    with pytest.raises(ValueError):
        S.paired_bootstrap(y, a, b[:-1], S.roc_auc)
    with pytest.raises(ValueError):
        S.paired_bootstrap(y, a, b, S.roc_auc, ci=1.5)
    with pytest.raises(ValueError):
        S.paired_bootstrap(y, a, b, S.roc_auc, resampling="jackknife")  # type: ignore[arg-type]


# -- McNemar, Welch, seeds ---------------------------------------------------------------------------------


def _table(b01: int, b10: int, both_right: int = 40, both_wrong: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and predictions with the given counts of fixed (b01) and broken (b10) examples."""
    right_a = [False] * b01 + [True] * b10 + [True] * both_right + [False] * both_wrong
    right_b = [True] * b01 + [False] * b10 + [True] * both_right + [False] * both_wrong
    y = np.ones(len(right_a), dtype=int)
    return y, np.where(right_a, 1, 0), np.where(right_b, 1, 0)


def test_mcnemar_exact_by_hand() -> None:
    y, pa, pb = _table(8, 2)
    res = S.mcnemar_test(y, pa, pb)
    # two-sided binomial, n=10, k=2: 2 * (1 + 10 + 45) / 1024
    assert (res.b01, res.b10, res.exact) == (8, 2, True)
    assert res.statistic == 2
    assert res.p_value == pytest.approx(112 / 1024)


def test_mcnemar_chi_square_by_hand() -> None:
    y, pa, pb = _table(30, 12)
    res = S.mcnemar_test(y, pa, pb)
    assert (res.b01, res.b10, res.exact) == (30, 12, False)
    assert res.statistic == pytest.approx(17**2 / 42)
    assert res.p_value == pytest.approx(st.chi2.sf(17**2 / 42, 1))
    assert res.p_value == pytest.approx(0.008711, abs=1e-6)


@pytest.mark.parametrize("counts", [(8, 2), (3, 3), (0, 5), (30, 12), (13, 11), (100, 70)])
def test_mcnemar_matches_statsmodels(counts: tuple[int, int]) -> None:
    contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
    y, pa, pb = _table(*counts)
    res = S.mcnemar_test(y, pa, pb)
    b01, b10 = counts
    table = [[40, b10], [b01, 5]]  # rows: A right/wrong; columns: B right/wrong
    ref = contingency.mcnemar(table, exact=b01 + b10 < 25, correction=True)
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.p_value == pytest.approx(ref.pvalue)


def test_mcnemar_no_discordant_pairs_and_classes() -> None:
    assert S.mcnemar_test([1, 0], [1, 0], [1, 0]) == S.McNemarResult(0, 0, 0.0, 1.0, True)
    res = S.mcnemar_test(["cat", "dog", "cow"], ["cat", "cat", "cow"], ["cat", "dog", "dog"])
    assert (res.b01, res.b10) == (1, 1)
    with pytest.raises(ValueError):
        S.mcnemar_test([1, 0], [1], [1, 0])


def test_welch_matches_scipy() -> None:
    a = [0.910, 0.912, 0.905, 0.915, 0.909]
    b = [0.920, 0.918, 0.925, 0.917]
    res = S.welch_test(a, b)
    ref = st.ttest_ind(b, a, equal_var=False)
    assert res.t == pytest.approx(ref.statistic) and res.t > 0
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.df == pytest.approx(ref.df)
    assert res.delta == pytest.approx(np.mean(b) - np.mean(a))
    # Welch-Satterthwaite degrees of freedom by hand
    va, vb = np.var(a, ddof=1) / 5, np.var(b, ddof=1) / 4
    assert res.df == pytest.approx((va + vb) ** 2 / (va**2 / 4 + vb**2 / 3))


def test_welch_edge_cases() -> None:
    same = S.welch_test([1.0, 1.0], [1.0, 1.0])
    assert (same.delta, same.t, same.p_value) == (0.0, 0.0, 1.0)
    apart = S.welch_test([1.0, 1.0], [2.0, 2.0])
    assert apart.t == math.inf and apart.p_value == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        S.welch_test([1.0], [1.0, 2.0])


def test_seed_noise() -> None:
    values = [0.91, 0.915, 0.905, 0.92]
    assert S.seed_noise(values) == pytest.approx(np.std(values, ddof=1))
    assert math.isnan(S.seed_noise([0.9]))


def test_prediction_interval_test_is_student_t_on_k_minus_1_df() -> None:
    reps = [0.910, 0.914, 0.906]
    single = 0.925
    res = S.prediction_interval_test(single, reps)
    s, k = np.std(reps, ddof=1), 3
    t = (single - np.mean(reps)) / (s * math.sqrt(1 + 1 / k))
    assert res.t == pytest.approx(t) and res.df == pytest.approx(k - 1)
    assert res.p_value == pytest.approx(2 * st.t.sf(abs(t), k - 1))
    half = st.t.ppf(0.975, k - 1) * s * math.sqrt(1 + 1 / k)
    assert (res.ci_low, res.ci_high) == pytest.approx((res.delta - half, res.delta + half))
    with pytest.raises(ValueError, match="at least 2"):
        S.prediction_interval_test(0.9, [0.9])


def test_known_evaluation_variance_adds_variance_but_no_degrees_of_freedom() -> None:
    reps = [0.910, 0.914, 0.906, 0.911]
    plain = S.prediction_interval_test(0.93, reps)
    extra = S.prediction_interval_test(0.93, reps, extra_var=0.004**2)
    seed_part = np.var(reps, ddof=1) * (1 + 1 / 4)
    assert extra.se == pytest.approx(math.sqrt(seed_part + 0.004**2))
    assert extra.df == pytest.approx(3)  # the known part adds no degrees of freedom
    assert extra.p_value > plain.p_value  # more noise ruled in, weaker evidence


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_one_sided_rule_is_calibrated_under_seed_only_null(k: int) -> None:
    """One run of B against k replicates of A, all the same setup: "real" about 5% of the time, not 10-28%."""
    rng = np.random.default_rng(100 + k)
    trials = 2000
    real = sum(S.prediction_interval_test(rng.normal(0.9, 0.003), rng.normal(0.9, 0.003, k)).p_value < 0.05 for _ in range(trials))
    assert real / trials <= 0.07  # expected 0.05; the normal-z rule gave 0.28 at k=2


def test_welch_is_calibrated_under_seed_only_null() -> None:
    rng = np.random.default_rng(5)
    real = sum(S.welch_test(rng.normal(0.9, 0.003, 3), rng.normal(0.9, 0.003, 3)).p_value < 0.05 for _ in range(2000))
    assert real / 2000 <= 0.07


def test_zero_variance_replicates_never_give_p_zero() -> None:
    """Rounded metrics: four replicates all 0.9120 must not make a 0.0001 change certain."""
    reps = [0.912, 0.912, 0.912, 0.912]
    floor = S.precision_floor(reps)
    assert floor == pytest.approx(0.001 / math.sqrt(12))
    res = S.prediction_interval_test(0.913, reps, floor=floor)
    assert res.p_value > 0.0 and res.p_value > 0.01  # one rounding unit is not a change
    assert S.prediction_interval_test(0.99, reps, floor=floor).p_value > 0.0
    welch = S.welch_test(reps, [0.913, 0.913], floor=floor)
    assert 0.0 < welch.p_value < 1.0 and math.isfinite(welch.t)
    with pytest.raises(ValueError):
        S.prediction_interval_test(0.913, [0.912, 0.912])  # no floor: nothing to judge against


def test_decimals_of_recorded_values() -> None:
    assert [S.decimals(v) for v in (0.925, 0.9, 3.0, 1e-05, 1.25e-3, 12.5, float("nan"))] == [3, 1, 0, 5, 5, 1, 0]


# -- divergence and flips ------------------------------------------------------------------------------------


def test_divergence_step_synthetic_curves() -> None:
    steps = range(1, 11)
    a = [(s, 1 / s) for s in steps]
    b = [(s, 1 / s + (0.1 if s >= 6 else 0.001)) for s in steps]
    assert S.divergence_step(a, b, band=0.01) == 6.0
    # separated from the first step
    assert S.divergence_step(a, [(s, v + 0.5) for s, v in a], band=0.01) == 1.0
    # apart for a while, then back together at the end: no divergence
    back = [(s, v + (0.2 if 3 <= s <= 7 else 0.0)) for s, v in a]
    assert S.divergence_step(a, back, band=0.01) is None
    # apart, together, apart again: the last separation counts
    twice = [(s, v + (0.2 if s in (2, 3, 8, 9, 10) else 0.0)) for s, v in a]
    assert S.divergence_step(a, twice, band=0.01) == 8.0
    # identical curves and a wide band
    assert S.divergence_step(a, a, band=0.0) is None
    assert S.divergence_step(a, b, band=1.0) is None


def test_divergence_step_compares_only_shared_steps() -> None:
    a = [(0, 0.0), (10, 0.0), (20, 0.0), (30, 0.0), (40, 0.0)]
    b = [(5, 9.0), (10, 0.0), (20, 0.5), (25, 0.0), (40, 0.5)]  # step 30 missing in b, 5 and 25 missing in a
    assert S.divergence_step(a, b, band=0.1) == 20.0
    assert S.divergence_step(a, [(100, 1.0)], band=0.1) is None
    assert S.divergence_step([(1, float("nan")), (2, 1.0)], [(1, 0.0), (2, 0.0)], band=0.1) == 2.0
    with pytest.raises(ValueError):
        S.divergence_step(a, b, band=-1)


def test_flips_by_hand() -> None:
    ids = ["e1", "e2", "e3", "e4", "e5", "e6"]
    y = [1, 1, 0, 0, 1, 0]
    a = [0.9, 0.4, 0.6, 0.2, 0.3, 0.7]
    b = [0.8, 0.7, 0.3, 0.55, 0.1, 0.9]
    # threshold 0.5: A says 1 0 1 0 0 1, B says 1 1 0 1 0 1
    # e2: A wrong (0 vs 1) -> B right: fixed, negative->positive
    # e3: A wrong (1 vs 0) -> B right: fixed, positive->negative
    # e4: A right (0) -> B wrong (1): broken, negative->positive
    res = S.flips(ids, y, a, b, 0.5)
    assert (res.fixed, res.broken) == (2, 1)
    assert (res.positive_to_negative, res.negative_to_positive) == (1, 2)
    assert res.mean_score_shift_of_flipped == pytest.approx(np.mean([0.3, -0.3, 0.35]))
    assert set(res.examples["fixed"]) == {"e2", "e3"}
    assert res.examples["broken"] == ("e4",)
    assert res.examples["negative_to_positive"] == ("e4", "e2")  # largest shift first
    assert res.examples["positive_to_negative"] == ("e3",)
    assert (res.n, res.threshold) == (6, 0.5)


def test_flips_none_and_example_cap() -> None:
    res = S.flips(["a", "b"], [1, 0], [0.9, 0.1], [0.8, 0.2], 0.5)
    assert (res.fixed, res.broken, res.positive_to_negative, res.negative_to_positive) == (0, 0, 0, 0)
    assert math.isnan(res.mean_score_shift_of_flipped)
    n = 50
    many = S.flips([f"x{i}" for i in range(n)], [1] * n, [0.1] * n, np.linspace(0.6, 0.99, n), 0.5)
    assert many.fixed == n and len(many.examples["fixed"]) == 10
    assert many.examples["fixed"][0] == f"x{n - 1}"


def test_holm_matches_hand_computation_and_keeps_order() -> None:
    # sorted: 0.01*3 = 0.03; 0.03*2 = 0.06; 0.04*1 = 0.04 -> raised to 0.06 (step-down is monotone)
    assert S.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert S.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert S.holm([]) == []


def test_holm_agrees_with_statsmodels() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(3)
    for m in (1, 2, 5, 17):
        p = [*rng.uniform(0, 0.2, m), 0.03, 0.03]
        assert S.holm(p) == pytest.approx(list(multitest.multipletests(p, method="holm")[1]))
