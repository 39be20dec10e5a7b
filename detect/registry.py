"""Detector base class and the registry of detectors by name.

Adding a detector is adding one module with one :class:`Detector` subclass decorated with
:func:`register`, and one line in ``_MODULES`` below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, ClassVar

from detect.exceptions import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from detect.config import Config
    from detect.data.panel import Panel
    from detect.findings import Findings

#: Modules that define detectors; importing them registers the detectors.
_MODULES: tuple[str, ...] = (
    "detect.series.growth",
    "detect.digits.detector",
    "detect.debt.ratios",
    "detect.debt.surge",
    "detect.debt.identity",
    "detect.debt.stress",
    "detect.panel.proxy",
    "detect.panel.composition",
    "detect.panel.aggregation",
    "detect.panel.environment",
    "detect.panel.peer",
    "detect.series.level_shift",
    "detect.series.smoothness",
    "detect.series.target",
    "detect.series.revisions",
    "detect.series.arima",
)

_REGISTRY: dict[str, type["Detector"]] = {}


class Detector:
    """One detector: reads a Panel, returns Findings. Never reads files or prints.

    Subclasses set ``name`` (registry key, also the ``detector`` column of findings.csv),
    ``family`` (``digits``, ``series``, ``panel`` or ``debt``), ``title`` / ``title_zh`` and
    ``null_hypothesis`` / ``null_hypothesis_zh`` (for the report's methods appendix; the Chinese
    report falls back to the English text only when ``null_hypothesis_zh`` is empty), and
    implement :meth:`run`.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    title: ClassVar[str] = ""
    title_zh: ClassVar[str] = ""
    null_hypothesis: ClassVar[str] = ""
    null_hypothesis_zh: ClassVar[str] = ""

    def run(self, panel: "Panel", config: "Config") -> "Findings":  # pragma: no cover - interface
        """Screen ``panel`` and return the findings with the number of hypotheses tested."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator: add a detector to the registry under ``cls.name``."""
    if not cls.name or not cls.family:
        raise TypeError(f"{cls.__name__} must set name and family")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"detector name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    for mod in _MODULES:
        importlib.import_module(mod)


def available() -> list[str]:
    """Names of all registered detectors, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def get_detector(name: str) -> Detector:
    """A new instance of the detector registered as ``name``.

    Raises
    ------
    UsageError
        When no detector has that name (the message lists the known ones).
    """
    _load_all()
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise UsageError(f"unknown detector {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def detectors_for(names: tuple[str, ...] | list[str] = ()) -> list[Detector]:
    """Instances of the named detectors (all registered ones when ``names`` is empty), by name."""
    return [get_detector(n) for n in (names or available())]
