"""Typst escaping of untrusted text (detect/report/pdf.py)."""

from __future__ import annotations

import pytest

pypdf = pytest.importorskip("pypdf")

from detect.report.fonts import font_dir  # noqa: E402
from detect.report.pdf import lit, txt  # noqa: E402

HOSTILE = [
    "#set page(width: 1cm)",
    "= heading?",
    "*bold* _emph_ $x^2$ <label> @ref",
    "back\\slash \\u{41} \"quoted\" // comment /* block */",
    "`raw` ~ -- --- ... 'q' [b] {c} #(1+1) #let x = 1",
    "辽宁省#省;地区\n第二行\t制表",
]


def _compile(src: str) -> str:
    import io

    import typst

    pdf = typst.compile(src.encode("utf-8"), font_paths=[str(font_dir())], ignore_system_fonts=True)
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_literal_escapes_backslash_quote_and_controls():
    assert lit('a"b') == '"a\\"b"'
    assert lit("a\\b") == '"a\\\\b"'
    assert lit("x\ny\tz\x00") == '"x\\ny\\tz"'
    assert lit("\u202ecba") == '"cba"'  # bidi overrides dropped
    assert lit("a\udc80b") == '"a?b"'  # a lone surrogate cannot be written as UTF-8


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_shown_verbatim(text):
    """Each hostile string, placed in markup and in a table cell, comes out as written."""
    src = ('#set text(font: "Noto Sans CJK SC", size: 8pt)\n'
           f"{txt(text)}after\n\n#table(columns: 1, {lit(text)})\n")
    out = _compile(src)
    flat = "".join(out.split())
    want = "".join(text.split())
    assert flat.count(want) == 2, (text, out)
    assert "after" in out
