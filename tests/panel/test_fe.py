"""Robust two-way fixed effects against the dummy-variable OLS fit (statsmodels)."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from detect.panel._fe import robust_fe


def _panel(seed=0, n=30, t=12, drop=0.1):
    rng = np.random.default_rng(seed)
    gi, gt = np.meshgrid(np.arange(n), np.arange(t), indexing="ij")
    gi, gt = gi.ravel(), gt.ravel()
    keep = rng.random(len(gi)) > drop  # unbalanced
    gi, gt = gi[keep], gt[keep]
    x = rng.normal(0, 1, (len(gi), 2)) + rng.normal(0, 1, n)[gi, None]
    y = rng.normal(0, 1, n)[gi] + rng.normal(0, 1, t)[gt] + x @ np.array([0.8, -0.3]) + rng.normal(0, 0.2, len(gi))
    return y, x, gi, gt


def test_huge_tuning_constant_reproduces_lsdv_ols():
    y, x, gi, gt = _panel()
    fit = robust_fe(y, x, gi, gt, huber_c=1e9)
    d = np.column_stack([x, np.eye(gi.max() + 1)[gi], np.eye(gt.max() + 1)[gt][:, 1:]])
    ols = sm.OLS(y, d).fit()
    np.testing.assert_allclose(fit.beta, ols.params[:2], atol=1e-7)
    np.testing.assert_allclose(fit.resid, ols.resid, atol=1e-7)


def test_robust_fit_resists_an_outlying_region_year():
    y, x, gi, gt = _panel(seed=1)
    y = y.copy()
    y[5] += 25.0
    ols = robust_fe(y, x, gi, gt, huber_c=1e9)
    rob = robust_fe(y, x, gi, gt)
    assert np.abs(rob.beta - [0.8, -0.3]).max() < np.abs(ols.beta - [0.8, -0.3]).max()
    assert rob.student[5] > 20 and np.abs(np.delete(rob.student, 5)).max() < 6
