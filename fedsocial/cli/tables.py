"""Composition root: the tab-separated listings the `fedsocial` command prints.

Every listing starts with one header line naming its columns (upper case, like `ps`), so a
reader knows what each column is and a script can skip it with `tail -n +2`. `--json` output
does not go through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# Inside a cell, a tab or line break would shift or split the row: they become spaces.
_CELL_BREAKS = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def table_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The header line then one line per row, cells joined by tabs.

    Each row has as many cells as the header (raises ValueError otherwise); None prints as an
    empty cell; tabs and line breaks inside a cell become spaces.
    """
    lines = ["\t".join(header)]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells for {len(header)} columns")
        lines.append("\t".join(_cell(value) for value in row))
    return lines


def print_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print `table_lines(header, rows)`, the header even when there are no rows."""
    for line in table_lines(header, rows):
        print(line)


def _cell(value: object) -> str:
    return "" if value is None else str(value).translate(_CELL_BREAKS)
