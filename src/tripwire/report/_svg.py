"""Matplotlib figures as inline SVG for the HTML report: one style, no external assets."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from markupsafe import Markup

__all__ = ["Plots", "figure_svg", "interval_dot", "plot_style"]


def plot_style() -> Any:
    """The report's matplotlib settings, as a context manager for drawing figures."""
    # Matplotlib takes a second or two to import; only reports pay for it.
    import matplotlib as mpl

    return mpl.rc_context(
        {
            "svg.fonttype": "none",  # real text: small, selectable, in the page's font
            "svg.hashsalt": "tripwire",  # stable element ids between runs
            "text.parse_math": False,  # "$" in a model or scenario name is literal
            "font.family": "sans-serif",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def interval_dot(
    ax: Any,
    y: float,
    rate: float | None,
    low: float | None,
    high: float | None,
    *,
    colour: str,
    counts: str,
    errors: int,
    unscored_colour: str | None = None,
) -> None:
    """One rate as a dot with its interval bar and its counts beside it, at height `y`.

    A rate without an interval is written as `unscored` (never drawn as 0); counts are
    red when some samples or answers could not be scored.
    """
    if rate is None or low is None or high is None:
        ax.text(0, y, f"unscored ({errors} err)", va="center", color=unscored_colour, size=8)
        return
    ax.errorbar(
        rate * 100,
        y,
        # Clamped: rounding can put a bound a hair inside the point estimate.
        xerr=[[max(0.0, rate - low) * 100], [max(0.0, high - rate) * 100]],
        fmt="o",
        color=colour,
        markersize=5,
        capsize=3,
        elinewidth=1.5,
    )
    shown = f"{counts}, {errors} err" if errors else counts
    ax.text(
        high * 100 + 2,
        y,
        shown,
        va="center",
        size=8,
        color="#b42318" if errors else "#555555",
    )


class Plots:
    """The report's figures: each drawn inline as SVG and, when asked, saved as files.

    Every figure of a report passes through one `Plots`, so the page and the `plots/`
    directory beside it always hold the same figures.
    """

    def __init__(self, directory: Path | None = None) -> None:
        """Collect figures.

        Args:
            directory: Where to save each figure as `<name>.svg` and `<name>.png`
                (created on the first figure); None saves nothing.
        """
        self.directory = directory
        self.written: list[Path] = []

    def add(self, figure: Any, name: str, label: str) -> Markup:
        """Render `figure` for the page and save it under `name`.

        Args:
            figure: A matplotlib `Figure`.
            name: File stem, unique within the report (`scheming-rates`).
            label: What the figure shows, for screen readers.

        Returns:
            The inline `<svg>` element.
        """
        with plot_style():
            svg = figure_svg(figure, label)
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                for suffix in (".svg", ".png"):
                    target = self.directory / f"{name}{suffix}"
                    # No date in the SVG: the same run gives the same bytes.
                    metadata = {"Date": None} if suffix == ".svg" else None
                    figure.savefig(target, dpi=150, metadata=metadata)
                    self.written.append(target)
        return Markup(svg)


def figure_svg(figure: Any, label: str) -> str:
    """A matplotlib figure as an `<svg>` element, labelled for screen readers."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    return inline_svg(buffer.getvalue(), label)


def inline_svg(svg: str, label: str) -> str:
    """Matplotlib's SVG document trimmed to an element for inline use in HTML.

    The XML prolog, DOCTYPE, RDF metadata and namespace declarations are dropped:
    HTML parsers do not need them, and their URLs would be the page's only
    `http` strings.
    """
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    head, rest = svg.split(">", 1)
    head = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", head)
    return f'{head} role="img" aria-label="{label}">{rest}'
