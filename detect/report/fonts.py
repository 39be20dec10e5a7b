"""The one font of the report: Noto Sans CJK (SIL Open Font Licence), shipped by the PyPI package
``noto-cjk-sans-otc``, used by both typst (PDF text) and matplotlib (charts).

One font for Latin and CJK text means no missing glyphs in either language, and the same look in the
charts as in the text. The font is embedded (subset) in every PDF, so the report reads the same on a
machine without it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from detect.exceptions import InputError

#: Family names inside the collection (simplified-Chinese glyph variants).
FAMILY = "Noto Sans CJK SC"
MONO_FAMILY = "Noto Sans Mono CJK SC"


@lru_cache(maxsize=1)
def font_file() -> Path:
    """Path of ``NotoSansCJK-Regular.ttc``.

    Raises
    ------
    InputError
        When the ``noto-cjk-sans-otc`` package is not installed (it is a dependency of detect).
    """
    try:
        import noto_cjk_sans_otc
    except ImportError:  # pragma: no cover - it is a declared dependency
        raise InputError("the report needs the font package noto-cjk-sans-otc: pip install noto-cjk-sans-otc") from None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    if not path.is_file():  # pragma: no cover
        raise InputError(f"font file {path} of noto-cjk-sans-otc is missing; reinstall the package")
    return path


def font_dir() -> Path:
    """Folder holding the font (typst's ``font_paths`` takes folders)."""
    return font_file().parent


@lru_cache(maxsize=1)
def register_matplotlib() -> str:
    """Register the font with matplotlib once; returns the family name to use."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if FAMILY not in names:
        font_manager.fontManager.addfont(str(font_file()))
    return FAMILY
