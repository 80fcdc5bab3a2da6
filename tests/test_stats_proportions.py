"""Tests for the two-proportion statistics of A/B tests, from plain counts."""

from __future__ import annotations

import math

import pytest
from runsift.core.stats import proportions as pr
from scipy import stats as st
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

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
