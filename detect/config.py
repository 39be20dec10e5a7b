"""Run configuration (``detect.toml``) and the thresholds file.

The configuration is a frozen dataclass read with :mod:`tomllib`. Every number that decides a
verdict lives in ``detect/thresholds.toml`` with its citation; a user's ``detect.toml`` may override
any of them under ``[thresholds.<area>]``.
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Mapping

from detect.exceptions import ConfigError

Severity = Literal["high", "medium", "low", "info"]
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")
LANGS: tuple[str, ...] = ("zh", "en")


@lru_cache(maxsize=1)
def _shipped_thresholds() -> dict[str, dict[str, dict[str, Any]]]:
    text = resources.files("detect").joinpath("thresholds.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def thresholds_meta() -> dict[str, dict[str, dict[str, Any]]]:
    """The shipped thresholds with their citations: ``{area: {name: {value, citation, note}}}``."""
    return copy.deepcopy(_shipped_thresholds())


def _freeze(obj: Any) -> Any:
    if isinstance(obj, dict):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


def _thaw(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [_thaw(v) for v in obj]
    return obj


def _merge_thresholds(overrides: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    shipped = _shipped_thresholds()
    values: dict[str, dict[str, Any]] = {
        area: {name: spec["value"] for name, spec in items.items()} for area, items in shipped.items()
    }
    for area, items in overrides.items():
        if area not in values:
            raise ConfigError(
                f"unknown thresholds area [thresholds.{area}]; known areas: {', '.join(sorted(values))}"
            )
        if not isinstance(items, Mapping):
            raise ConfigError(f"[thresholds.{area}] must be a table of name = value")
        for name, value in items.items():
            if name not in values[area]:
                raise ConfigError(
                    f"unknown threshold {area}.{name}; known: {', '.join(sorted(values[area]))}"
                )
            old = values[area][name]
            number = isinstance(old, (int, float)) and not isinstance(old, bool)
            if number and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                raise ConfigError(f"threshold {area}.{name} must be a number, got {value!r}")
            if number and not math.isfinite(value):   # TOML has nan and inf; no threshold means either
                raise ConfigError(f"threshold {area}.{name} must be a finite number, got {value!r}")
            lo, hi = shipped[area][name].get("range", (-math.inf, math.inf))
            if number and not lo <= value <= hi:
                raise ConfigError(f"threshold {area}.{name} must be between {lo:g} and {hi:g}, got {value!r}")
            values[area][name] = value
    sc = values["scoring"]
    if not sc["q_high"] <= sc["q_medium"] <= sc["q_low"]:
        raise ConfigError(f"thresholds scoring.q_high <= q_medium <= q_low must hold, got "
                          f"{sc['q_high']:g}, {sc['q_medium']:g}, {sc['q_low']:g}")
    return _freeze(values)


@dataclass(frozen=True)
class Config:
    """Parameters of one run.

    Parameters
    ----------
    detectors : tuple of str
        Names of the detectors to run; empty means every registered detector.
    lang : {"zh", "en", "auto"}
        Report language; ``auto`` picks Chinese when region names are Chinese.
    fail_on : str or None
        With a severity, ``detect run`` exits 1 when any finding is at or above it.
    seed : int
        Seed of every random step (permutation and Monte Carlo p-values, simulations).
    fdr_method : {"bh", "by"}
        Benjamini–Hochberg, or Benjamini–Yekutieli under arbitrary dependence.
    top_regions : int
        Number of regions given a section of their own in the report.
    thresholds : mapping
        ``{area: {name: value}}``; shipped values from ``thresholds.toml`` with user overrides.
    options : mapping
        Per-detector options, ``{detector_name: {key: value}}``.
    """

    detectors: tuple[str, ...] = ()
    lang: str = "auto"
    fail_on: str | None = None
    seed: int = 20240601
    fdr_method: str = "bh"
    top_regions: int = 10
    thresholds: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _merge_thresholds({}))
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.lang not in (*LANGS, "auto"):
            raise ConfigError(f"lang must be one of zh, en, auto; got {self.lang!r}")
        if self.fail_on is not None and self.fail_on not in SEVERITIES:
            raise ConfigError(f"fail_on must be one of {', '.join(SEVERITIES)}; got {self.fail_on!r}")
        if self.fdr_method not in ("bh", "by"):
            raise ConfigError(f"fdr_method must be 'bh' or 'by'; got {self.fdr_method!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"seed must be an integer; got {self.seed!r}")
        if not isinstance(self.top_regions, int) or self.top_regions < 1:
            raise ConfigError(f"top_regions must be a positive integer; got {self.top_regions!r}")

    def with_(self, **changes: Any) -> "Config":
        """A copy with some fields changed (``thresholds`` given as overrides ``{area: {name: v}}``)."""
        if "thresholds" in changes:
            merged = _thaw(self.thresholds)
            for area, items in changes.pop("thresholds").items():
                merged.setdefault(area, {}).update(items)
            shipped = {a: {n: s["value"] for n, s in it.items()} for a, it in _shipped_thresholds().items()}
            diff = {a: {n: v for n, v in it.items() if shipped.get(a, {}).get(n, object()) != v}
                    for a, it in merged.items()}
            changes["thresholds"] = _merge_thresholds({a: d for a, d in diff.items() if d})
        if "options" in changes:
            changes["options"] = _freeze(changes["options"])
        if "detectors" in changes:
            changes["detectors"] = tuple(changes["detectors"])
        return replace(self, **changes)

    def option(self, detector: str, key: str, default: Any = None) -> Any:
        """A per-detector option from ``[options.<detector>]`` in detect.toml."""
        return self.options.get(detector, {}).get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, recorded in manifest.json."""
        out = {f.name: _thaw(getattr(self, f.name)) for f in fields(self)}
        out["detectors"] = list(self.detectors)
        return out


_TOP_KEYS = {f.name for f in fields(Config)}


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Read ``detect.toml`` (or use the shipped defaults when ``path`` is None).

    Parameters
    ----------
    path : str or Path, optional
        The configuration file. Keys: ``detectors``, ``lang``, ``fail_on``, ``seed``,
        ``fdr_method``, ``top_regions``, tables ``[thresholds.<area>]`` and ``[options.<detector>]``.
    **overrides
        Values that win over the file (from the command line); None values are ignored.

    Raises
    ------
    ConfigError
        The file is missing, is not valid TOML, or holds an unknown key or a bad value.
    """
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(
            f"unknown key(s) in config: {', '.join(sorted(unknown))}; known: {', '.join(sorted(_TOP_KEYS))}"
        )
    for key in ("thresholds", "options"):   # a wrong type here crashed later with AttributeError
        if not isinstance(data.get(key, {}), Mapping):
            raise ConfigError(f"{key} must be a table ([{key}.<name>] sections); got {data[key]!r}")
    for det, opts in data.get("options", {}).items():
        if not isinstance(opts, Mapping):
            raise ConfigError(f"[options.{det}] must be a table of key = value; got {opts!r}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    dets = data.get("detectors", [])
    if isinstance(dets, str) or not isinstance(dets, (list, tuple)) or not all(isinstance(d, str) for d in dets):
        raise ConfigError(f'detectors must be a list of detector names, e.g. detectors = ["growth"]; got {dets!r}')
    data["thresholds"] = _merge_thresholds(data.get("thresholds", {}))
    data["options"] = _freeze(data.get("options", {}))
    if "detectors" in data:
        data["detectors"] = tuple(dict.fromkeys(data["detectors"]))   # a name twice ran it twice: duplicate finding ids
    try:
        return Config(**data)
    except TypeError as exc:
        raise ConfigError(f"bad config: {exc}") from None


def threshold(key: str, config: Config | None = None) -> Any:
    """One threshold value by ``"area.name"``, from ``config`` or the shipped defaults.

    Raises
    ------
    KeyError
        With the known names, when ``key`` is not in thresholds.toml.
    """
    area, _, name = key.partition(".")
    table = (config.thresholds if config is not None else _merge_thresholds({}))
    try:
        return table[area][name]
    except KeyError:
        known = ", ".join(f"{a}.{n}" for a in table for n in table[a]) or "(none)"
        raise KeyError(f"unknown threshold {key!r}; known: {known}") from None
