"""False-discovery control against the textbook procedure (statsmodels' implementation)."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from detect.scoring import fdr


@pytest.mark.parametrize("method, sm", [("bh", "fdr_bh"), ("by", "fdr_by")])
def test_fdr_matches_statsmodels(method, sm):
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(size=300), rng.uniform(0, 1e-3, size=20)])
    ours = fdr(p, method=method)
    ref = multipletests(p, method=sm)[1]
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_fdr_exact_below_report_p_with_truncated_p_values():
    """Detectors return only p <= 0.05 with the total count m; q <= 0.05 must equal the full BH."""
    rng = np.random.default_rng(2)
    p = np.concatenate([rng.uniform(size=5000), rng.uniform(0, 1e-4, size=40)])
    full = multipletests(p, method="fdr_bh")[1]
    keep = p <= 0.05
    trunc = fdr(p[keep], m=len(p))
    small = trunc <= 0.05
    np.testing.assert_allclose(trunc[small], full[keep][small], rtol=1e-12)
    assert np.all(trunc >= full[keep] - 1e-15)         # larger ones are conservative


def test_fdr_nan_passthrough():
    q = fdr(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.02) and q[2] == pytest.approx(0.02)
