"""Read back the tables of a ``_repr_html_`` (stdlib only: pandas.read_html needs lxml).

A module with a unique name (not ``conftest``), so test files in any folder can import it.
"""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    """Every <table> of an HTML fragment as a list of rows of cell texts (entities decoded)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> list[list[dict[str, str]]]:
    """Each table as a list of {header: cell} records (first row = header)."""
    return [[dict(zip(t[0], r)) for r in t[1:]] for t in _Tables(html).tables]
