"""Debt dynamics: the identity, its history per region, and deterministic / simulated projections.

The debt-dynamics identity, with debt ``D``, a base ``B`` (综合财力 or GDP), ``d = D / B``,
nominal growth of the base ``g_t = B_t / B_{t-1} - 1`` and the effective interest rate
``i_t = interest_t / D_{t-1}``:

    D_t = (1 + i_t) D_{t-1} - PB_t + SFA_t
    d_t = (1 + i_t) / (1 + g_t) · d_{t-1} - pb_t + sfa_t          (pb = PB / B_t, sfa = SFA / B_t)

``PB`` is the primary balance (revenue minus non-interest spending) and ``SFA`` the stock-flow
adjustment: everything that moves debt but is not in the budget balance (debt taken on off-budget,
swaps of LGFV debt into bonds, arrears, valuation, misreporting). From canonical indicators we can
compute the general-budget primary balance

    PB_t = fiscal_revenue_t + transfer_revenue_t - (fiscal_expenditure_t - interest_paid_t)

(government-fund spending is not a canonical indicator, so special-bond-financed fund deficits land in
SFA; see docs/debt.md). When PB cannot be computed, only the combined *borrowing flow*
``f_t = -pb_t + sfa_t = d_t - (1+i_t)/(1+g_t) d_{t-1}`` is known, and projections use it.

Which base for which line: ``d = D / 综合财力`` is compared with the 债务率 warning line (100 %) and
the grade cut-offs (120 / 200 / 300 %); ``d = D / GDP`` with the 60 % 负债率 reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detect.config import Config, threshold
from detect.debt._inputs import DebtFrame, resources

BASES: tuple[str, ...] = ("resources", "gdp")


def project(d0: np.ndarray | float, g: np.ndarray, i: np.ndarray, pb: np.ndarray,
            sfa: np.ndarray | float = 0.0) -> np.ndarray:
    """Project ``d_t = (1+i_t)/(1+g_t)·d_{t-1} - pb_t + sfa_t`` for ``t = 1..H``.

    Parameters
    ----------
    d0 : array (...,) or float
        Ratio in the last observed year.
    g, i, pb : array (..., H)
        Growth of the base, effective interest rate and primary balance / base, per projected year.
    sfa : array (..., H) or float
        Stock-flow adjustment / base.

    Returns
    -------
    array (..., H)
        The projected ratios (NaN propagates).
    """
    g, i, pb = np.asarray(g, dtype=float), np.asarray(i, dtype=float), np.asarray(pb, dtype=float)
    sfa = np.broadcast_to(np.asarray(sfa, dtype=float), g.shape)
    out = np.empty(g.shape, dtype=float)
    d = np.asarray(d0, dtype=float)
    for t in range(g.shape[-1]):
        d = (1.0 + i[..., t]) / (1.0 + g[..., t]) * d - pb[..., t] + sfa[..., t]
        out[..., t] = d
    return out


@dataclass
class History:
    """Regions x years matrices of the identity's terms for one base (NaN where not computable).

    ``D`` debt, ``B`` base, ``d`` ratio, ``g`` base growth, ``i`` effective interest (default rate
    filled where interest_paid is missing; ``i_reported`` says where it was reported), ``pb``
    primary balance / base, ``flow`` = -pb + sfa (always defined when d, d_lag, g are), ``sfa``.
    """

    base: str
    codes: np.ndarray
    years: np.ndarray
    D: np.ndarray
    B: np.ndarray
    d: np.ndarray
    g: np.ndarray
    i: np.ndarray
    i_reported: np.ndarray
    pb: np.ndarray
    flow: np.ndarray
    sfa: np.ndarray
    land: np.ndarray
    transfers: np.ndarray
    lgfv: np.ndarray


def history(frame: DebtFrame, base: str = "resources", config: Config | None = None) -> History:
    """The identity's terms for every region-year of ``frame`` with base ``resources`` (综合财力) or ``gdp``."""
    if base not in BASES:
        from detect.exceptions import UsageError

        raise UsageError(f"base must be one of {', '.join(BASES)}; got {base!r}")
    m = frame.matrix
    D = m("debt_balance")
    B = m(resources(frame)[0]) if base == "resources" else m("gdp")
    B = np.where(B > 0, B, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = D / B
        D_lag = _lag(D)
        B_lag = _lag(B)
        g = B / B_lag - 1.0
        i_rep = m("interest_paid") / np.where(D_lag > 0, D_lag, np.nan)
        default_i = float(threshold("debt_stress.default_interest_rate", config))
        i = np.where(np.isfinite(i_rep), i_rep, np.where(np.isfinite(D_lag), default_i, np.nan))
        PB = m("fiscal_revenue") + m("transfer_revenue") - (m("fiscal_expenditure") - m("interest_paid"))
        pb = PB / B
        flow = d - (1.0 + i) / (1.0 + g) * _lag(d)
        sfa = flow + pb
    return History(base, frame.codes, frame.years, D, B, d, g, i, np.isfinite(i_rep), pb, flow, sfa,
                   m("land_revenue"), m("transfer_revenue"), m("lgfv_debt"))


def _lag(x: np.ndarray) -> np.ndarray:
    out = np.full_like(x, np.nan, dtype=float)
    out[:, 1:] = x[:, :-1]
    return out


@dataclass
class Assumptions:
    """Per-region projection inputs (arrays over regions; NaN where not computable).

    ``year0`` last year with an observed ratio; ``d0`` that ratio; ``g``, ``i``, ``flow`` baseline
    (medians over the last ``history_years`` years, i = the last reported effective rate); ``pb``,
    ``sfa`` the split of the flow where the primary balance is computable (else pb = -flow, sfa = 0);
    ``sd_g``, ``sd_pb`` shock sizes (s.d. over all history; sd_pb falls back to the s.d. of the flow);
    ``land_share``, ``transfer_share``, ``lgfv_share`` land revenue, transfers, LGFV debt over the base
    in year0; ``reason`` why a region cannot be projected ("" when it can).
    """

    base: str
    codes: np.ndarray
    year0: np.ndarray
    d0: np.ndarray
    g: np.ndarray
    i: np.ndarray
    flow: np.ndarray
    pb: np.ndarray
    sfa: np.ndarray
    sd_g: np.ndarray
    sd_pb: np.ndarray
    land_share: np.ndarray
    transfer_share: np.ndarray
    lgfv_share: np.ndarray
    reason: np.ndarray
    n_hist: np.ndarray
    #: True where no interest was reported in the window and ``debt_stress.default_interest_rate`` is used.
    i_default: np.ndarray | None = None


def assumptions(h: History, config: Config | None = None) -> Assumptions:
    """Baseline assumptions and shock sizes from each region's own history."""
    R, T = h.d.shape
    window = int(threshold("debt_stress.history_years", config))
    ok_d = np.isfinite(h.d)
    has = ok_d.any(axis=1)
    last = np.where(has, T - 1 - np.argmax(ok_d[:, ::-1], axis=1), 0)
    cols = np.arange(T)
    in_win = (cols[None, :] <= last[:, None]) & (cols[None, :] > last[:, None] - window)
    rows = np.arange(R)

    def wmed(x):
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.nanmedian(np.where(in_win, x, np.nan), axis=1)

    def allsd(x):
        ok = np.isfinite(x) & (cols[None, :] <= last[:, None])
        n = ok.sum(axis=1)
        xs = np.where(ok, x, 0.0)
        mean = xs.sum(axis=1) / np.maximum(n, 1)
        var = (np.where(ok, (x - mean[:, None]) ** 2, 0.0)).sum(axis=1) / np.maximum(n - 1, 1)
        return np.where(n >= 3, np.sqrt(var), np.nan)

    flow_ok = np.isfinite(h.flow) & in_win
    n_hist = flow_ok.sum(axis=1)
    g_bar = wmed(h.g)
    flow_bar = wmed(np.where(np.isfinite(h.flow), h.flow, np.nan))
    # interest: last reported effective rate in the window, else the default
    i_rep = np.where(h.i_reported & in_win, h.i, np.nan)
    has_i = np.isfinite(i_rep).any(axis=1)
    last_i = np.where(has_i, T - 1 - np.argmax(np.isfinite(i_rep)[:, ::-1], axis=1), 0)
    i_bar = np.where(has_i, i_rep[rows, last_i], float(threshold("debt_stress.default_interest_rate", config)))
    pb_bar = wmed(h.pb)
    pb_ok = np.isfinite(pb_bar)
    pb_use = np.where(pb_ok, pb_bar, -flow_bar)
    sfa_use = np.where(pb_ok, flow_bar + pb_bar, 0.0)
    sd_pb = allsd(h.pb)
    sd_pb = np.where(np.isfinite(sd_pb), sd_pb, allsd(h.flow))
    at = (rows, last)
    with np.errstate(divide="ignore", invalid="ignore"):
        land_share = h.land[at] / h.B[at]
        transfer_share = h.transfers[at] / h.B[at]
        lgfv_share = h.lgfv[at] / h.B[at]
    reason = np.full(R, "", dtype=object)
    reason[n_hist < 2] = "fewer than 2 years with debt, base and previous-year figures in the last " \
                         f"{window} years (need consecutive years of debt_balance and the base)"
    reason[~np.isfinite(g_bar) & (reason == "")] = "base growth not computable"
    reason[~has] = "no year with both debt_balance and the base"
    d0 = np.where(has, h.d[at], np.nan)
    year0 = np.where(has, h.years[last], -1)
    return Assumptions(h.base, h.codes, year0.astype(int), d0, g_bar, i_bar, flow_bar, pb_use, sfa_use,
                       allsd(h.g), sd_pb, land_share, transfer_share, lgfv_share, reason, n_hist, ~has_i)
