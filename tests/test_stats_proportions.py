"""Tests for the two-proportion statistics of A/B tests, from plain counts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_h
from scipy import stats as st
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from runsift.core.stats import proportions as pr

TABLES = [(804, 10243, 893, 10284), (2, 5, 3, 5), (40, 100, 25, 120), (1, 30, 9, 30)]
"""(control conversions, control units, treatment conversions, treatment units)."""


@pytest.mark.parametrize(("x_c", "n_c", "x_t", "n_t"), TABLES)
def test_wald_interval_is_statsmodels_wald(x_c: int, n_c: int, x_t: int, n_t: int) -> None:
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
    assert pr.wald_difference_interval(x_c, n_c, x_t, n_t) == pytest.approx((low, high), rel=1e-9)


@pytest.mark.parametrize(("x_c", "n_c", "x_t", "n_t"), TABLES)
def test_pooled_z_test_is_statsmodels_ztest(x_c: int, n_c: int, x_t: int, n_t: int) -> None:
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    assert pr.pooled_z_test(x_c, n_c, x_t, n_t) == pytest.approx((z, p), rel=1e-9)


def test_delta_interval_by_hand() -> None:
    # 2/5 vs 3/5: rel = 0.5; var = var_t / p_c^2 + p_t^2 var_c / p_c^4 = 0.048/0.16 + 0.36*0.048/0.0256 = 0.975
    z = st.norm.ppf(0.975)
    low, high = pr.delta_relative_interval(2, 5, 3, 5)  # type: ignore[misc]
    assert (low, high) == pytest.approx((0.5 - z * math.sqrt(0.975), 0.5 + z * math.sqrt(0.975)))
    assert pr.delta_relative_interval(0, 5, 3, 5) is None  # no control conversions: no relative lift


def test_equal_rates_of_zero_or_one_have_nothing_to_test() -> None:
    assert pr.pooled_z_test(0, 10, 0, 12) == (0.0, 1.0)
    assert pr.pooled_z_test(10, 10, 12, 12) == (0.0, 1.0)


def test_sample_ratio_test_by_hand() -> None:
    # 6000/4000 against 50/50: chi2 = 2 * 1000^2 / 5000 = 400, one degree of freedom
    chi2, p = pr.sample_ratio_test([6000, 4000], [0.5, 0.5])
    assert chi2 == pytest.approx(400.0)
    assert p == pytest.approx(st.chi2.sf(400.0, 1))
    chi2, p = pr.sample_ratio_test([50, 100], [1, 2])  # shares need not sum to 1; a perfect fit
    assert chi2 == pytest.approx(0.0) and p == pytest.approx(1.0)


@pytest.mark.parametrize("counts", [(1, 0, 1, 5), (6, 5, 1, 5), (-1, 5, 1, 5), (1, 5, 1, -5)])
def test_counts_that_are_not_proportions_are_refused(counts: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError):
        pr.pooled_z_test(*counts)
    with pytest.raises(ValueError):
        pr.wald_difference_interval(*counts)


# -- the intervals the replay reports -----------------------------------------------------------------


def test_newcombe_interval_matches_newcombes_worked_examples() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10
    assert pr.newcombe_interval(48, 80, 56, 70) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert pr.newcombe_interval(3, 10, 9, 10) == pytest.approx((0.1705, 0.8090), abs=5e-5)


@pytest.mark.parametrize(("x_c", "n_c", "x_t", "n_t"), TABLES)
def test_ratio_interval_is_koopmans_where_the_closed_form_is_sound(x_c: int, n_c: int, x_t: int, n_t: int) -> None:
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="score", compare="ratio", correction=False)
    assert pr.ratio_score_interval(x_c, n_c, x_t, n_t) == pytest.approx((low, high), rel=1e-8)


@pytest.mark.parametrize(("x_c", "n_c", "x_t", "n_t"), [*TABLES, (0, 8, 3, 9), (4, 7, 0, 6), (5, 5, 7, 7), (1, 1, 0, 1)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_the_score_test_at_each_finite_bound_is_exactly_at_the_level(
    x_c: int, n_c: int, x_t: int, n_t: int, level: float
) -> None:
    from statsmodels.stats.proportion import score_test_proportions_2indep

    for bound in pr.ratio_score_interval(x_c, n_c, x_t, n_t, level):
        if 0 < bound < math.inf:
            res = score_test_proportions_2indep(x_t, n_t, x_c, n_c, value=bound, compare="ratio", correction=False)
            assert res.pvalue == pytest.approx(1 - level, rel=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_statsmodels_closed_form_fails_where_the_inversion_does_not() -> None:
    """Why the interval is found numerically: treatment 1/1 against control 0/1 is not significant (p = 0.16)."""
    low, _ = confint_proportions_2indep(1, 1, 0, 1, method="score", compare="ratio", correction=False)
    _, p = pr.pooled_z_test(0, 1, 1, 1)
    assert p > 0.05 and low > 1  # the closed form excludes ratio 1 anyway
    assert pr.ratio_score_interval(0, 1, 1, 1)[0] < 1


def test_zero_conversions_give_open_ended_intervals_not_nan() -> None:
    assert pr.ratio_score_interval(0, 10, 0, 12) == (0.0, math.inf)
    low, high = pr.ratio_score_interval(0, 10, 4, 12)  # control never converts: no upper bound
    assert 0 < low < math.inf and high == math.inf
    low, high = pr.ratio_score_interval(4, 10, 0, 12)  # treatment never converts: a ratio of 0 is possible
    assert low == 0.0 and 0 < high < math.inf
    for counts in [(0, 10, 0, 12), (0, 10, 4, 12), (4, 10, 0, 12), (10, 10, 12, 12)]:
        assert not any(math.isnan(b) for b in pr.newcombe_interval(*counts))


def _agrees(x_c: int, n_c: int, x_t: int, n_t: int, level: float) -> None:
    """The relative interval excludes 0 exactly when the z-test rejects; it never goes below -100%."""
    low, high = pr.ratio_score_interval(x_c, n_c, x_t, n_t, level)
    _, p = pr.pooled_z_test(x_c, n_c, x_t, n_t)
    assert not (math.isnan(low) or math.isnan(high))
    assert 0.0 <= low <= high  # ratio >= 0: relative lift >= -100%
    assert (not low <= 1 <= high) == (p < 1 - level), (x_c, n_c, x_t, n_t, low, high, p)
    if x_c:
        assert low <= (x_t / n_t) / (x_c / n_c) <= high


def test_interval_and_p_value_agree_on_every_table_up_to_6_units_per_arm() -> None:
    for n_c in range(1, 7):
        for n_t in range(1, 7):
            for x_c in range(n_c + 1):
                for x_t in range(n_t + 1):
                    _agrees(x_c, n_c, x_t, n_t, 0.95)


@settings(max_examples=300, deadline=None)
@given(
    st_h.integers(1, 30).flatmap(lambda n: st_h.tuples(st_h.integers(0, n), st_h.just(n))),
    st_h.integers(1, 30).flatmap(lambda n: st_h.tuples(st_h.integers(0, n), st_h.just(n))),
    st_h.sampled_from([0.9, 0.95, 0.99]),
)
def test_interval_and_p_value_agree_on_small_tables(
    control: tuple[int, int], treatment: tuple[int, int], level: float
) -> None:
    _agrees(*control, *treatment, level)


def test_small_counts_rule() -> None:
    assert pr.small_counts(9, 1000) and pr.small_counts(995, 1000)  # few conversions / few non-conversions
    assert not pr.small_counts(10, 1000) and not pr.small_counts(990, 1000)
    assert pr.small_counts(0, 0)
