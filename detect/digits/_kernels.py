"""Fast leading-digit counting of float arrays (cache-sized blocks, preallocated buffers, threads).

Same arithmetic as :func:`detect.digits.extract._significand` (15 significant digits, exact powers
of ten), arranged for speed:

* the array is cut into blocks of ``_BLOCK`` values that stay in the CPU cache, and every step
  writes into buffers allocated once per worker (no page faults from large temporaries);
* the scale index ``j = 14 - floor(log10 a)`` is ``trunc(15 - log10 a)`` computed in single
  precision (four times faster; equal unless ``a`` is within about 10^-6 of a power of ten, and a
  wrong ``j`` puts the significand ten times out of range, so the range check below sends it to
  the exact path), looked up in the 23 exact powers 10^0..10^22;
* one ``bincount`` over the joint index ``(j, first-two digits)`` gives both the digit counts and
  the magnitude histogram used by the span check;
* values the fast path cannot vouch for (significand outside (10^14, 10^15) after rounding, which
  covers exact powers of ten, ``log10`` rounding up just below a power of ten, and exponents
  outside [-8, 14] that no single exact power of ten scales) are recomputed by the exact slow path,
  so the counts equal those of :func:`detect.digits.extract.extract`;
* workers (numpy releases the GIL inside its loops) each count a contiguous part.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from detect.digits.extract import _significand

_BLOCK = 1 << 16
_E_LO, _E_HI = -40, 59                          # as detect.digits.counts
_N_E = _E_HI - _E_LO + 1
_T = np.array([float(10 ** j) for j in range(23)])   # exact doubles 10^0 .. 10^22
_NJ = 23
_DISCARD = _NJ * 90 + 100                       # joint-index bin for values counted elsewhere
_TINY = 5e-324                                  # the smallest positive double: "no minimum"


def _count_part(x: np.ndarray, k: int, lo: float, sign: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Joint counts (exponent x first-two digits, or first-three for k = 3) of one part of ``x``.

    Returns ``(counts_k, hist, kept)``.
    """
    m = min(_BLOCK, len(x))
    a = np.empty(m)
    f = np.empty(m)
    g = np.empty(m, np.float32)
    jj = np.empty(m, np.intp)
    ll = np.empty(m, np.intp)
    kb = np.empty(m, bool)
    joint = np.zeros(_DISCARD + 1, np.int64)
    k3 = np.zeros(900, np.int64)
    slow_e: list[np.ndarray] = []
    slow_l: list[np.ndarray] = []
    kept = 0
    div = 1e12 if k == 3 else 1e13
    for s in range(0, len(x), _BLOCK):
        xb = x[s:s + _BLOCK]
        n = len(xb)
        ab, fb, jb, lb, kk = a[:n], f[:n], jj[:n], ll[:n], kb[:n]
        # which values are tested: finite, non-zero, right sign, at least lo in absolute value.
        # Positive sign without a minimum (or a block whose minimum passes it): no pre-check; NaN,
        # inf, zero and negatives all fail the significand range check below and are sorted there.
        deferred = sign == "positive" and (lo == _TINY or xb.min() >= lo)
        if deferred:
            src, nk, some_out = xb, n, False
        else:
            np.abs(xb, out=ab)
            if sign == "positive":
                np.greater_equal(xb, lo, out=kk)
            elif sign == "negative":
                np.less_equal(xb, -lo, out=kk)
            else:
                np.greater_equal(ab, lo, out=kk)
            kk &= ab < np.inf
            nk = int(np.count_nonzero(kk))
            some_out = nk < n
            if some_out:
                np.copyto(ab, 1.0, where=~kk)
            src = ab
        kept += nk
        gb = g[:n]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            np.copyto(gb, src, casting="unsafe")          # single precision suffices to pick j: a wrong j
            np.log10(gb, out=gb)                          # puts N 10x out of range and is redone exactly
            np.subtract(np.float32(15.0), gb, out=gb)
            np.copyto(jb, gb, casting="unsafe")           # j = 14 - floor(log10 a) (see module notes)
        np.take(_T, jb, out=fb, mode="clip")              # out-of-range j fail the range check below
        np.multiply(src, fb, out=fb)
        np.rint(fb, out=fb)                               # 15-digit significand N
        fixed = False
        if not (fb.min() > 1e14 and fb.max() < 1e15) or some_out:
            fixed = True
            bad = ~((fb > 1e14) & (fb < 1e15))              # NaN included
            if some_out:
                bad &= kk
            idx = np.flatnonzero(bad)
            if len(idx) and deferred:
                jb[idx] = -1000
                fb[idx] = 1e14                            # no NaN / inf left for the integer casts below
                xv = xb[idx]
                ok = (xv >= lo) & (xv < np.inf)           # False for NaN, inf, zero and negatives
                kept -= int(len(idx) - np.count_nonzero(ok))
                idx = idx[ok]
            if len(idx):
                nn, ee = _significand(np.abs(xb[idx]))
                lead = np.floor(nn / div).astype(np.intp)
                slow_e.append(ee)
                slow_l.append(lead)
                fb[idx] = 1e14                            # any in-range value; sent to the discard bin
                jb[idx] = -1000
            if some_out:
                jb[~kk] = -1000
        np.divide(fb, div, out=fb)
        np.copyto(lb, fb, casting="unsafe")               # first-two (or first-three) digits
        if k == 3:
            ok = jb >= 0
            k3 += np.bincount(lb[ok] - 100, minlength=900)
            np.floor_divide(lb, 10, out=lb)
        np.multiply(jb, 90, out=jb)
        np.add(jb, lb, out=jb)
        if fixed:
            np.copyto(jb, _DISCARD, where=(jb < 0) | (jb >= _DISCARD))
        joint += np.bincount(jb, minlength=_DISCARD + 1)
    return _assemble(joint, k3, slow_e, slow_l, kept, k)


def _assemble(joint: np.ndarray, k3: np.ndarray, slow_e: list[np.ndarray], slow_l: list[np.ndarray], kept: int,
              k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Counts and magnitude histogram from the joint bins ``j * 90 + lead2`` and the exact slow path."""
    # joint bins j * 90 + lead2 -> (j, lead2 - 10); e = 14 - j
    grid = joint[10:10 + _NJ * 90].reshape(_NJ, 90)
    hist = np.zeros((_N_E, 90), np.int64)
    hist[14 - np.arange(_NJ) - _E_LO] += grid
    if k == 3:
        counts = k3
    else:
        lead2 = grid.sum(0)
        counts = lead2 if k == 2 else lead2.reshape(9, 10).sum(1)
    if slow_e:
        e = np.clip(np.concatenate(slow_e), _E_LO, _E_HI) - _E_LO
        lead = np.concatenate(slow_l)
        l2 = lead // 10 if k == 3 else lead
        hist += np.bincount(e * 90 + (l2 - 10), minlength=_N_E * 90).reshape(_N_E, 90)
        if k == 3:
            counts = counts + np.bincount(lead - 100, minlength=900)
        elif k == 2:
            counts = counts + np.bincount(lead - 10, minlength=90)
        else:
            counts = counts + np.bincount(lead // 10 - 1, minlength=9)
    return counts.astype(np.int64), hist.ravel(), kept


# --- optional compiled scan (numba) --------------------------------------------------------------
#: the numba kernel is used for arrays at least this long (below, its one-off compile costs more than it saves)
NUMBA_MIN_VALUES = 1 << 20
#: values per call of the compiled scan (its slow-path index buffer has this many entries)
_NUMBA_STEP = 1 << 20
#: j = 14 - floor(log10 a) is JEST[e2] or JEST[e2] - 1 for a in [2^(e2-1023), 2^(e2-1022)): the decimal
#: exponent of a binade is floor((e2 - 1023) log10 2) or one more. Out-of-range entries send values to the
#: exact path (zero and subnormals, exponents no single exact power of ten scales).
_JEST = np.where((np.arange(2048) > 0) & (np.arange(2048) < 2047),
                 14 - np.floor((np.arange(2048) - 1023) * np.log10(2.0)).astype(np.int64), -1)
_SIGN_MODE = {"positive": 0, "negative": 1, "absolute": 2}
_numba_scan = None


def _numba_kernel():
    """The compiled scan (built once; None when numba is not installed or disabled by DETECT_NO_NUMBA)."""
    global _numba_scan
    if _numba_scan is not None or os.environ.get("DETECT_NO_NUMBA"):
        return _numba_scan or None
    try:
        import numba
    except ImportError:
        _numba_scan = False
        return None

    @numba.njit(cache=True, nogil=True)
    def scan(x, xi, k, lo, mode, T, JEST, joint, k3, slow):  # pragma: no cover - compiled
        kept = 0
        ns = 0
        for i in range(x.shape[0]):
            v = x[i]
            a = v if mode == 0 else (-v if mode == 1 else abs(v))
            if not (a >= lo and a < np.inf):          # NaN, inf, zero, wrong sign, below the minimum
                continue
            kept += 1
            j = JEST[(xi[i] >> 52) & 2047]
            if j < 0 or j > 22:
                slow[ns] = i
                ns += 1
                continue
            n = np.rint(a * T[j])
            if n >= 1e15 and j > 0:
                j -= 1
                n = np.rint(a * T[j])
            if not (n > 1e14 and n < 1e15):
                slow[ns] = i
                ns += 1
                continue
            if k == 3:                               # constant divisors: multiply-and-shift, no division
                lead3 = np.int64(n) // 1000000000000
                k3[lead3 - 100] += 1
                joint[j * 90 + lead3 // 10] += 1
            else:
                joint[j * 90 + np.int64(n) // 10000000000000] += 1
        return kept, ns

    _numba_scan = scan
    return scan


def _count_part_numba(scan, x: np.ndarray, k: int, lo: float, sign: str) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`_count_part` by the compiled scan: one pass, the same joint bins and exact slow path."""
    joint = np.zeros(_DISCARD + 1, np.int64)
    k3 = np.zeros(900, np.int64)
    step = _NUMBA_STEP                           # the slow-path index buffer is one block, not len(x)
    slow = np.empty(min(step, len(x)), np.int64)
    slow_e, slow_l = [], []
    kept = 0
    for s in range(0, len(x), step):
        xb = x[s:s + step]
        kb, ns = scan(xb, xb.view(np.int64), k, lo, _SIGN_MODE[sign], _T, _JEST, joint, k3, slow)
        kept += int(kb)
        if ns:
            nn, ee = _significand(np.abs(xb[slow[:ns]]))
            slow_e.append(ee)
            slow_l.append(np.floor(nn / (1e12 if k == 3 else 1e13)).astype(np.intp))
    return _assemble(joint, k3, slow_e, slow_l, kept, k)


def count_leading_float(x: np.ndarray, k: int, min_value: float | None, sign: str,
                        workers: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Counts of the first-``k`` digit groups of float array ``x`` (``k`` in 1, 2, 3).

    Parameters
    ----------
    x : float array
    k : int
        1, 2 or 3 leading digits.
    min_value : float or None
        Values below it in absolute value are not counted.
    sign : {"positive", "negative", "absolute"}
    workers : int, optional
        Threads (default: the number of CPUs, at most 8).

    Returns
    -------
    counts : int64 array of length 9 * 10^(k-1)
    hist : magnitude histogram (exponent x first-two digits) of the counted values
    kept : number of values counted
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    lo = float(min_value) if min_value is not None and min_value > 0 else _TINY
    workers = workers or min(os.cpu_count() or 1, 8)
    parts = max(1, min(workers, len(x) // (8 * _BLOCK)))
    bounds = np.linspace(0, len(x), parts + 1).astype(int)
    chunks = [x[bounds[i]:bounds[i + 1]] for i in range(parts)]
    scan = _numba_kernel() if len(x) >= NUMBA_MIN_VALUES else None
    if scan is not None:
        def part(c):
            return _count_part_numba(scan, c, k, lo, sign)
    else:
        def part(c):
            return _count_part(c, k, lo, sign)
    if parts == 1:
        res = [part(chunks[0])]
    else:
        with ThreadPoolExecutor(parts) as ex:
            res = list(ex.map(part, chunks))
    return sum(r[0] for r in res), sum(r[1] for r in res), int(sum(r[2] for r in res))
