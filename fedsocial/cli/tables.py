"""Composition root: the tab-separated listings the `fedsocial` command prints.

Every listing starts with one header line naming its columns (upper case, like `ps`), so a
reader knows what each column is and a script can skip it with `tail -n +2`. `--json` output
does not go through here.

Text from remote servers (names, posts, errors) reaches the terminal through `terminal_text`:
an escape sequence in a display name must not recolour, retitle or clear the user's terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Inside a cell, a tab or line break would shift or split the row: they become spaces.
_CELL_BREAKS = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
# C0 controls but tab and line feed, DEL, and C1 controls (U+009B is a CSI on some terminals).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` with every control character but tab and line feed shown as U+FFFD.

    The result cannot move the cursor, change colours or run terminal commands (ESC, CSI,
    OSC, BEL, backspace, carriage return); printable text, tabs and line feeds are kept.
    """
    return _CONTROLS.sub("\ufffd", text)


def table_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The header line then one line per row, cells joined by tabs.

    Each row has as many cells as the header (raises ValueError otherwise); None prints as an
    empty cell; tabs and line breaks inside a cell become spaces, other control characters
    U+FFFD (see `terminal_text`).
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
    return "" if value is None else terminal_text(str(value).translate(_CELL_BREAKS))
