"""The table style every terminal table uses, so each reads in an 80-column log.

A CI log or a file piped from `tripwire run` has no terminal: rich falls back to 80
columns and cuts what does not fit to `oversig…`. Tables drawn in this style give
their label column the room that rules and edge padding would take; names in it
fold (`overflow="fold"`), numbers never wrap.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

__all__ = ["narrow_table"]


def narrow_table(title: str | None = None, caption: str | None = None) -> Table:
    """An empty table with a rule under its header and no vertical rules.

    Args:
        title: Title above the table, left-aligned (wraps, never cut).
        caption: Caption below it, left-aligned.

    Returns:
        A table to add columns and rows to.
    """
    # As wide as its title where it can be: a narrow table would fold its title,
    # which names the model, into a column of short lines.
    width = Text.from_markup(title).cell_len if title else None
    return Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        caption=caption,
        caption_justify="left",
        min_width=width,
    )
