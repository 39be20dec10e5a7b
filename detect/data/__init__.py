"""Loading, validation, aliases, units and the synthetic sample generator."""

from detect.data.load import EXCLUSION_COLUMNS, LoadResult, load
from detect.data.panel import PANEL_COLUMNS, Panel

__all__ = ["EXCLUSION_COLUMNS", "LoadResult", "PANEL_COLUMNS", "Panel", "load"]
