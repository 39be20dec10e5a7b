"""Exact digit extraction at the reported decimal precision (vectorised, no per-value Python loop).

Two inputs are handled:

* **Text** (``"0.29"``, ``"1,500,000"``, ``"12.30"``, ``"1.5e6"``): the characters are laid out as
  a ``uint8`` matrix (one row per value) and the digits are read by position. Nothing is converted
  to binary floating point, so ``0.29`` has first-two digits 29 and ``12.30`` has last digit 0, as
  reported. ``,``, ``_`` and spaces are read as thousands separators; a value with any other
  character, no digit, or two decimal points is *invalid* (``valid`` False), never guessed.
* **Floats**: a double ``x`` is read as the decimal it stands for, rounded to 15 significant
  digits (``DBL_DIG``: every decimal with at most 15 significant digits survives the round trip
  to a double and back, so a reported ``0.29`` is recovered exactly). With ``e = floor(log10 |x|)``
  the 15-digit significand is ``N = rint(|x| * 10^(14 - e))``, computed with exactly represented
  powers of ten (multiplication by ``10^s`` for ``s >= 0``, division by ``10^-s`` otherwise), so
  the one rounding of the product is below 0.11 units of ``N`` and ``rint`` gives the correctly
  rounded significand; ``e`` is corrected when ``N`` leaves ``[10^14, 10^15)``. Trailing zeros of
  a float are not recoverable (``12.30`` and ``12.3`` are the same double): last-digit tests on
  floats use the shortest decimal of each value, or ``decimals`` when the caller knows them.

``extraction="r-float"`` reproduces the R package benford.analysis:
``trunc(|x| * 10^(k - 1 - floor(log10 |x|)))`` in binary floating point with correctly rounded
powers of ten. It bins ``0.29`` as 28; it exists only to reproduce published R outputs
(docs/digits.md). It agrees with R's formula for values below 10^11; above, R multiplies by the
rounded 10^-n (``1e-11 * 1e11 = 0.9999999999999999``, first digit "0") where we divide by the
exact 10^n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Extraction = Literal["exact", "r-float"]
EXTRACTIONS: tuple[str, ...] = ("exact", "r-float")

#: Correctly rounded powers of ten 10^-340 .. 10^340 (Python's float() of the decimal literal).
_P_OFF = 340
_POW10 = np.array([float(f"1e{k}") for k in range(-_P_OFF, _P_OFF + 1)])
#: 10^0 .. 10^22 are exact doubles.
_EXACT_MAX = 22
_SIG = 15                      # significant digits read from a float (DBL_DIG)
_N_LO, _N_HI = 1e14, 1e15      # range of the 15-digit significand
_CHUNK_BYTES = 1 << 21         # text matrix processed in chunks of about 2 MB (cache-sized)


@dataclass(frozen=True)
class Digits:
    """Digits of each value, aligned with the input (arrays of equal length).

    Attributes
    ----------
    valid : bool array
        The value is a finite number (text that parses, a finite float).
    sign : int8 array
        -1, 0 (the value is zero) or +1; 0 also for invalid values.
    exponent : int16 array
        ``floor(log10 |x|)``, the decimal position of the first significant digit (0 when x is 0).
    lead3 : int16 array
        First three significant digits as 100..999, padded with zeros (``5`` -> 500); 0 for zero
        or invalid values. First digit = ``lead3 // 100``, first-two = ``lead3 // 10``, second
        digit = ``lead3 // 10 % 10``.
    decimals : int16 array or None
        Number of decimals reported (``12.30`` -> 2, ``1500000`` -> 0; negative for ``1.5e6``
        written in exponent form, reported to the hundred thousand). None for ``r-float``.
    last : int8 array or None
        Last reported digit (``12.30`` -> 0); -1 for zero or invalid values, and for floats whose
        reported precision lies beyond the 15 significant digits read (``1234567890123456.0``).
    last2 : int8 array or None
        Last two reported digit positions as 0..99 (``0.05`` -> 5, ``1153.35`` -> 35); -1 when
        the value has fewer than two digit positions (``7``).
    magnitude : float64 array
        ``|x|`` (NaN when invalid).
    r_lead : dict or None
        ``r-float`` only: ``{k: first-k digits}`` computed separately for k = 1, 2, 3 as R does
        (R bins 0.29 as 28 for k = 2 but as 290 for k = 3).
    """

    valid: np.ndarray
    sign: np.ndarray
    exponent: np.ndarray
    lead3: np.ndarray
    decimals: np.ndarray | None
    last: np.ndarray | None
    last2: np.ndarray | None
    magnitude: np.ndarray
    r_lead: dict | None = None

    def __len__(self) -> int:
        return len(self.valid)

    @property
    def first(self) -> np.ndarray:
        """First significant digit 1..9 (0 where zero or invalid)."""
        return self.r_lead[1] if self.r_lead else self.lead3 // 100

    @property
    def first_two(self) -> np.ndarray:
        """First two significant digits 10..99 (0 where zero or invalid)."""
        return self.r_lead[2] if self.r_lead else self.lead3 // 10

    @property
    def second(self) -> np.ndarray:
        """Second significant digit 0..9 (0 where zero or invalid; check ``sign``)."""
        return self.first_two % 10


def _scale(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``a * 10^s`` with one correctly rounded operation where ``|s| <= 22`` (two beyond)."""
    out = np.empty_like(a)
    pos = s >= 0
    sp = np.minimum(s[pos], _EXACT_MAX)
    out[pos] = a[pos] * _POW10[sp + _P_OFF]
    sn = np.minimum(-s[~pos], _EXACT_MAX)
    out[~pos] = a[~pos] / _POW10[sn + _P_OFF]
    rest = np.abs(s) - _EXACT_MAX
    far = rest > 0
    if far.any():  # |x| < 1e-8 or >= 1e37: further (rare) steps of at most 10^300
        idx = np.flatnonzero(far)
        rest, up = rest[idx], s[idx] > 0
        with np.errstate(over="ignore", under="ignore"):
            while len(idx):
                r = np.minimum(rest, 300)
                out[idx] = np.where(up, out[idx] * _POW10[r + _P_OFF], out[idx] / _POW10[r + _P_OFF])
                rest = rest - r
                more = rest > 0
                idx, rest, up = idx[more], rest[more], up[more]
    return out


def _significand(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """15-digit significand ``N`` (float holding an integer in [1e14, 1e15)) and exponent of
    positive finite ``a``."""
    e = np.floor(np.log10(a)).astype(np.int64)
    e = np.clip(e, -_P_OFF + 1, _P_OFF - 2)
    e = e - (a < _POW10[e + _P_OFF]) + (a >= _POW10[e + 1 + _P_OFF])   # log10 rounds near 10^k
    n = np.rint(_scale(a, _SIG - 1 - e))
    for _ in range(2):  # log10 may be one off next to a power of ten; rounding may carry to 10^15
        hi, lo = n >= _N_HI, n < _N_LO
        if not (hi.any() or lo.any()):
            break
        e = e + hi - lo
        bad = hi | lo
        n[bad] = np.rint(_scale(a[bad], _SIG - 1 - e[bad]))
    return n, e


def _trailing_zeros(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strip trailing decimal zeros of non-negative int64 ``q`` (at most 15): ``(q', count)``."""
    tz = np.zeros(q.shape, np.int64)
    for k in (8, 4, 2, 1):
        p = 10 ** k
        m = (q % p == 0) & (q > 0)
        q = np.where(m, q // p, q)
        tz += k * m
    return q, tz


def _from_float(x: np.ndarray, decimals: int | None, extraction: str, trailing: bool) -> Digits:
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    valid = np.isfinite(x)
    a = np.abs(np.where(valid, x, 0.0))
    sign = np.where(valid, np.sign(x), 0).astype(np.int8)
    pos = a > 0
    exponent = np.zeros(n, np.int16)
    lead3 = np.zeros(n, np.int16)
    ap = a[pos]
    if extraction == "r-float":
        e = np.floor(np.log10(ap)).astype(np.int64)
        r_lead = {}
        for k in (1, 2, 3):
            lk = np.zeros(n, np.int16)
            lk[pos] = np.trunc(_scale(ap, k - 1 - e)).astype(np.int16)
            r_lead[k] = lk
        exponent[pos] = e
        return Digits(valid, sign, exponent, r_lead[3], None, None, None, np.where(valid, a, np.nan), r_lead)
    if decimals is not None:  # the caller's precision: round there first
        ap = np.rint(_scale(ap, np.full(len(ap), decimals, np.int64)))
        ap = _scale(ap, np.full(len(ap), -decimals, np.int64))
        keep = ap > 0
        if not keep.all():   # rounds to zero at the stated precision
            idx = np.flatnonzero(pos)
            sign[idx[~keep]] = 0
            pos[idx[~keep]] = False
            ap = ap[keep]
    sig, e = _significand(ap)
    exponent[pos] = e
    lead3[pos] = np.floor(sig / 1e12).astype(np.int16)   # exact: sig < 2^53, quotient < 1000
    dec_arr = last = last2 = None
    if trailing:
        q, tz = _trailing_zeros(sig.astype(np.int64))
        nsig = _SIG - tz
        if decimals is not None:
            dec = np.full(len(ap), decimals, np.int64)
        else:
            dec = np.maximum(nsig - 1 - e, 0)        # shortest decimal, at least to the units
        shift = nsig - 1 - e - dec                   # digits of q right of the reported precision (<= 0)
        # integer of the value at its reported precision, modulo 100: q * 10^(-shift) mod 100
        mod100 = np.where(shift == 0, q % 100, np.where(shift == -1, (q % 10) * 10, 0))
        positions = np.maximum(e, 0) + 1 + dec
        dec_arr = np.zeros(n, np.int16)
        dec_arr[pos] = dec
        # a double holds 15 significant digits: a reported precision beyond them (1234567890123456,
        # 16 digits, is read as 1.23456789012346e15) leaves the last digits unknown, not zero
        known = e + dec + 1 <= _SIG
        last = np.full(n, -1, np.int8)
        last[pos] = np.where(known, mod100 % 10, -1)
        last2 = np.full(n, -1, np.int8)
        last2[pos] = np.where((positions >= 2) & known, mod100, -1)
    return Digits(valid, sign, exponent, lead3, dec_arr, last, last2, np.where(valid, a, np.nan))


_ALLOWED = np.zeros(256, bool)
_ALLOWED[[ord(c) for c in "0123456789.+-eE,_ \t"]] = True
_ALLOWED[0] = True  # numpy pads fixed-width bytes with NUL


def _text_chunk(b: np.ndarray) -> dict[str, np.ndarray]:
    """Digits of a chunk of fixed-width ASCII byte strings (``dtype='S<w>'``)."""
    n, w = len(b), b.dtype.itemsize
    c = np.frombuffer(b.tobytes(), np.uint8).reshape(n, w) if n else np.zeros((0, w), np.uint8)
    col = np.arange(w)
    isdig = (c >= 48) & (c <= 57)
    ise = (c == 101) | (c == 69)
    has_e = ise.any(1)
    epos = np.where(has_e, ise.argmax(1), w)
    inman = col[None, :] < epos[:, None]
    mdig = isdig & inman
    isdot = (c == 46) & inman
    ndot = isdot.sum(1)
    dotpos = np.where(ndot > 0, isdot.argmax(1), w)
    nminus = ((c == 45) & inman).sum(1)
    ok_chars = _ALLOWED[c].all(1) & (ise.sum(1) <= 1)
    ndig = mdig.sum(1)
    valid = ok_chars & (ndot <= 1) & (ndig > 0) & (nminus <= 1)
    # the exponent part (only where 'e' occurs)
    expv = np.zeros(n, np.int64)
    if has_e.any():
        edig = isdig & ~inman
        nafter = np.cumsum(edig[:, ::-1], axis=1)[:, ::-1] - edig
        expv = np.where(edig, (c.astype(np.int64) - 48) * 10 ** np.minimum(nafter, 18), 0).sum(1)
        eneg = ((c == 45) & ~inman).any(1)
        expv = np.where(eneg, -expv, expv)
        valid &= ~has_e | (edig.sum(1) > 0)
        expv = np.clip(expv, -400, 400)
    # digits compacted to the left: D[i, j] = j-th digit character of the mantissa
    didx = np.cumsum(mdig, axis=1, dtype=np.int32) - 1
    d = np.zeros((n, w + 3), np.uint8)
    rows = np.nonzero(mdig)[0]
    d[rows, didx[mdig]] = c[mdig] - 48
    nint = (mdig & (col[None, :] < dotpos[:, None])).sum(1)
    nz = d != 0
    nonzero = nz.any(1) & valid
    lz = nz.argmax(1)
    r = np.arange(n)
    e = nint - lz - 1 + expv
    dec = (ndig - nint) - expv
    lead3 = d[r, lz].astype(np.int16) * 100 + d[r, lz + 1] * 10 + d[r, lz + 2]
    last_idx = np.maximum(ndig - 1, 0)
    last = d[r, last_idx].astype(np.int8)
    prev = d[r, np.maximum(ndig - 2, 0)].astype(np.int8)
    positions = np.maximum(e, 0) + 1 + dec
    last2 = np.where((positions >= 2) & (ndig >= 2), prev * 10 + last, np.where(positions >= 2, last, -1))
    neg = nminus > 0
    sign = np.where(nonzero, np.where(neg, -1, 1), 0).astype(np.int8)
    # magnitude from the first 15 significant digits (one correctly rounded division)
    nsig_max = int(min(_SIG, max(int((ndig - lz).max()) if n else 1, 1)))
    sig = np.zeros(n, np.int64)
    for j in range(nsig_max):   # digits beyond the longest significand are zeros: not read
        sig = sig * 10 + d[r, np.minimum(lz + j, w + 2)]
    with np.errstate(over="ignore", under="ignore"):
        mag = _scale(sig.astype(np.float64), (e - (nsig_max - 1)).astype(np.int64))
    valid &= np.isfinite(mag) & ((mag > 0) | ~nonzero)   # beyond a double's range either way: 1e400, 1e-400
    nonzero &= valid
    mag = np.where(valid, np.where(nonzero, mag, 0.0), np.nan)
    sign = np.where(valid, sign, 0).astype(np.int8)
    z = ~nonzero
    return {
        "valid": valid, "sign": sign,
        "exponent": np.where(z, 0, e).astype(np.int16),
        "lead3": np.where(z, 0, lead3).astype(np.int16),
        "decimals": np.where(valid, dec, 0).astype(np.int16),
        "last": np.where(z, -1, last).astype(np.int8),
        "last2": np.where(z, -1, last2).astype(np.int8),
        "magnitude": mag,
    }


def _as_bytes(values: pd.Series | np.ndarray) -> np.ndarray:
    """Text values as a fixed-width ASCII byte array (non-ASCII characters become ``?``)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "S":
        return arr
    if arr.dtype.kind == "U" and arr.dtype.itemsize:   # UCS-4 code points: non-ASCII becomes "?" (invalid)
        w = arr.dtype.itemsize // 4
        u = np.ascontiguousarray(arr).view(np.uint32).reshape(len(arr), w)
        return np.where(u < 128, u, 63).astype(np.uint8).view(f"S{w}").ravel()
    if arr.dtype.kind in "UO":
        try:   # one C loop; None / NaN become b"None" / b"nan", which are invalid numbers
            return arr.astype("S")
        except (UnicodeEncodeError, TypeError, ValueError):
            pass
    s = pd.Series(arr, dtype="object").where(pd.notna(arr), "")
    s = s.astype(str).str.strip()
    return np.asarray(s.str.encode("ascii", errors="replace").tolist(), dtype="S") if len(s) else np.zeros(0, "S1")


def _from_text(values, trailing: bool) -> Digits:
    b = _as_bytes(values)
    n = len(b)
    w = max(b.dtype.itemsize, 1)
    step = max(1, _CHUNK_BYTES // (8 * w))
    parts = [_text_chunk(b[i:i + step]) for i in range(0, n, step)] or [_text_chunk(np.zeros(0, f"S{w}"))]
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if not trailing:
        cat["decimals"] = cat["last"] = cat["last2"] = None
    return Digits(**cat)


def is_text(values) -> bool:
    """True when ``values`` hold text (str / bytes / object of str) rather than numbers."""
    arr = values.dtype if hasattr(values, "dtype") else np.asarray(values).dtype
    if pd.api.types.is_string_dtype(arr) or getattr(arr, "kind", "") in "SU":
        if getattr(arr, "kind", "") == "O":
            vals = pd.Series(np.asarray(values, dtype=object)).dropna()
            return len(vals) > 0 and isinstance(vals.iat[0], (str, bytes))
        return True
    return False


def extract(values, *, extraction: Extraction = "exact", decimals: int | None = None,
            trailing: bool = True) -> Digits:
    """Digits of every value, at its reported precision.

    Parameters
    ----------
    values : array-like of str or float
        Text (exact, as reported) or numbers. Pandas Series, numpy arrays and lists are accepted.
    extraction : {"exact", "r-float"}
        ``exact`` (default) reads the reported decimal; ``r-float`` reproduces R benford.analysis'
        floating-point truncation (leading digits only) for comparison with published outputs.
    decimals : int, optional
        Reported number of decimals of float input (e.g. 2 for amounts in cents): values are
        rounded there and the last digits are read at that precision. Ignored for text, which
        carries its own precision.
    trailing : bool
        Also read the last digits (a little slower for floats); leading digits are always read.

    Returns
    -------
    Digits

    Examples
    --------
    >>> d = extract(["0.29", "1,500,000", "12.30"])
    >>> d.first_two.tolist(), d.last.tolist(), d.decimals.tolist()
    ([29, 15, 12], [9, 0, 0], [2, 0, 2])
    """
    if extraction not in EXTRACTIONS:
        raise ValueError(f"extraction must be one of {', '.join(EXTRACTIONS)}; got {extraction!r}")
    if is_text(values):
        if extraction == "r-float":
            num = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)).astype(str)
                                .str.replace(r"[,_\s]", "", regex=True), errors="coerce")
            return _from_float(num.to_numpy(np.float64), None, "r-float", False)
        return _from_text(values, trailing)
    arr = np.asarray(values)
    if arr.dtype == object or arr.dtype.kind == "b":
        arr = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(np.float64)
    return _from_float(np.asarray(arr, np.float64), decimals, extraction, trailing)


__all__ = ["Digits", "EXTRACTIONS", "Extraction", "extract", "is_text"]
