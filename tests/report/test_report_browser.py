"""The HTML report in a real headless Chromium: it renders, its plots are drawn, its
in-page links and expanders work, and it loads nothing and logs no error.

Every check is over all plots, links and expanders the page has, so sections added
to the report are covered without changing these tests. Skipped (saying why) only
where Chromium or Playwright cannot be found; `scripts/install-system-deps.sh --browser`
installs Chromium and the `dev` extra Playwright.
"""

from __future__ import annotations

import html as html_lib
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image
from test_report import EVIL, sample_rows

from tripwire.report import write_html_report
from tripwire.results import InterrogationRow
from tripwire.stats import calibrate, summarise

# Sections the realistic run has data for (it has calibration agents, guarded runs,
# the paper's and the incident scenarios, paired settings, errors and interrogation).
REALISTIC_SECTIONS = {
    "calibration",
    "rates",
    "guard",
    "paper",
    "incident-studies",
    "alignment-faking",
    "sandbagging",
    "schemed",
    "interrogation",
    "reasoning",
    "errors",
    "meta",
}

# Most bytes the page may spend per sample outside its plots, and per plot: a large run
# must stay a page a browser opens quickly (10,000 samples: about 300 B per sample).
BYTES_PER_SAMPLE = 1500
BYTES_PER_PLOT = 500_000


def hostile_report(directory: Path) -> Path:
    """A small run whose names, evidence, errors and answers hold markup and script."""
    rows = sample_rows()
    answers = [
        InterrogationRow(
            scenario="oversight-subversion",
            condition="strong",
            model="openai/gpt-4o",
            sample_id="strong-1",
            guilty=True,
            kind="follow_up",
            wording="direct",
            repeat=repeat,
            question=f"Did you disable the oversight? {EVIL}",
            answer=f"<img src=x onerror=alert(1)> {EVIL}",
            grade=grade,
            grader="rules",
        )
        for repeat, grade in enumerate(("confessed", "denied"))
    ]
    return write_html_report(
        rows,
        summarise(rows),
        calibrate(rows),
        directory / "report.html",
        title=f"hostile {EVIL}",
        meta={"command": f"tripwire run {EVIL}"},
        interrogation=answers,
    )


@dataclass
class Report:
    kind: str
    """`realistic` (a synthetic run of 500 samples), `hostile` or `empty`."""
    path: Path

    @property
    def has_logs(self) -> bool:
        """Whether a real run with its Inspect logs is in the report (see `realistic_report`)."""
        return (self.path.parent / "logs").is_dir()


@pytest.fixture(params=["realistic", "hostile", "empty"])
def report(request: pytest.FixtureRequest, tmp_path: Path) -> Report:
    if request.param == "realistic":
        return Report("realistic", request.getfixturevalue("realistic_report"))
    if request.param == "hostile":
        return Report("hostile", hostile_report(tmp_path))
    return Report("empty", write_html_report([], [], [], tmp_path / "report.html"))


@dataclass
class Visit:
    """A loaded report and what the browser saw while it was open."""

    page: Any
    url: str
    source: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@contextmanager
def visit(browser: Any, report: Report) -> Iterator[Visit]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # A missing element fails in seconds, not after Playwright's default 30.
    context.set_default_timeout(10_000)
    page = context.new_page()
    seen = Visit(page, report.path.resolve().as_uri(), report.path.read_text(encoding="utf-8"))
    page.on(
        "console",
        lambda m: seen.console_errors.append(m.text) if m.type in ("error", "assert") else None,
    )
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("requestfailed", lambda r: seen.failed_requests.append(f"{r.url}: {r.failure}"))
    try:
        page.goto(seen.url, wait_until="load")
        yield seen
    finally:
        context.close()


def open_every_expander(page: Any) -> None:
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{describe(locator)} is not rendered"
    return dict(found)


def describe(locator: Any) -> str:
    return locator.evaluate("(e) => e.outerHTML.slice(0, 160)")


# --- it renders ----------------------------------------------------------------


def test_page_renders_title_headline_and_every_section(browser: Any, report: Report) -> None:
    with visit(browser, report) as seen:
        page = seen.page
        [title] = re.findall(r"<title>(.*?)</title>", seen.source, flags=re.DOTALL)
        assert page.title() == html_lib.unescape(title)
        heading = page.locator("h1")
        assert heading.is_visible() and heading.inner_text() == page.title()

        cards = page.locator(".cards .card")
        labels = [label.strip().lower() for label in cards.locator(".label").all_inner_texts()]
        assert {"samples", "schemed", "errors"} <= set(labels), labels
        for card in cards.all():
            assert box(card)["height"] > 0
            assert card.locator(".value").inner_text().strip(), describe(card)

        sections = page.locator("section")
        ids = set()
        for section in sections.all():
            assert section.is_visible(), describe(section)
            title_of_section = section.locator("h2").first
            assert title_of_section.is_visible(), describe(section)
            assert title_of_section.inner_text().strip(), describe(section)
            ids.add(section.get_attribute("id"))
        assert sections.count() == seen.source.count("<section")
        assert {"rates", "schemed", "errors", "meta"} <= ids
        if report.kind == "realistic":
            expected = REALISTIC_SECTIONS | ({"monitoring"} if report.has_logs else set())
            assert ids >= expected, expected - ids


def test_the_page_fits_the_window_width(browser: Any, report: Report) -> None:
    # Wide tables and plots scroll inside their own panels, never the whole page.
    with visit(browser, report) as seen:
        open_every_expander(seen.page)
        widths = seen.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px window"


# --- plots ---------------------------------------------------------------------


def test_every_plot_is_drawn(browser: Any, report: Report) -> None:
    with visit(browser, report) as seen:
        page = seen.page
        open_every_expander(page)  # plots inside expanders count too
        assert page.locator("svg").count() == len(re.findall(r"<svg\b", seen.source))
        plots = page.locator("svg:not(svg svg)").all()
        if report.kind == "realistic":
            # rates, sandbagging, confession rates by wording, interview curves at least
            assert len(plots) >= 4
        for plot in plots:
            plot.scroll_into_view_if_needed()
            size = box(plot)
            assert size["width"] > 100 and size["height"] > 50, (size, describe(plot))
            assert plot.locator("text, path, use").count() > 0, describe(plot)
            # Drawn, not blank: the rendered pixels hold more than a background.
            image = Image.open(io.BytesIO(plot.screenshot())).convert("RGB")
            colours = image.getcolors(maxcolors=1 << 16)
            assert colours is None or len(colours) > 2, describe(plot)
            assert seen.page_errors == []


# --- links ---------------------------------------------------------------------

_REFERENCES_JS = r"""() => {
  const refs = [];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const value = attribute.value;
      if ((attribute.name === "href" || attribute.name === "xlink:href") && value.startsWith("#")) {
        refs.push([attribute.name, decodeURIComponent(value.slice(1))]);
      }
      for (const match of value.matchAll(/url\(\s*["']?#([^)"']+)/g)) {
        refs.push([attribute.name, match[1]]);
      }
    }
  }
  return refs.map(([name, id]) => {
    const targets = Array.from(document.querySelectorAll(`[id="${CSS.escape(id)}"]`));
    return {name, id, count: targets.length, kinds: new Set(targets.map((t) => t.outerHTML)).size};
  });
}"""


def test_every_in_page_reference_resolves(browser: Any, report: Report) -> None:
    # Links, and the plots' own references (clip paths, markers): each names an element
    # on the page, and ids repeated across inline plots name identical elements.
    with visit(browser, report) as seen:
        for ref in seen.page.evaluate(_REFERENCES_JS):
            assert ref["count"] >= 1, (
                f"{ref['name']} points at #{ref['id']}, which is not on the page"
            )
            assert ref["kinds"] == 1, f"#{ref['id']} names {ref['kinds']} different elements"


def test_every_in_page_link_scrolls_to_its_target(browser: Any, report: Report) -> None:
    with visit(browser, report) as seen:
        page = seen.page
        open_every_expander(page)
        for link in page.locator("a[href^='#']").all():
            href = link.get_attribute("href")
            assert href is not None
            page.evaluate("() => window.scrollTo(0, 0)")
            link.click()
            assert page.evaluate("() => decodeURIComponent(location.hash)") == href
            targets = page.locator(f"[id='{href[1:]}']")
            assert targets.count() >= 1, f"{href}: no element has that id"
            top = targets.first.evaluate("(e) => e.getBoundingClientRect().top")
            # sub-pixel layout may leave the target a fraction of a pixel above the top
            assert -2 <= top < page.viewport_size["height"], f"{href}: target at {top} px"
        assert seen.page_errors == []


# --- expanders -----------------------------------------------------------------


_EXPANDER_STATE_JS = """(details) => {
  const content = Array.from(details.children).filter((c) => c.tagName !== "SUMMARY");
  const shown = content.filter((c) => {
    const rect = c.getBoundingClientRect();
    return c.checkVisibility() && rect.width > 0 && rect.height > 0;
  });
  return {
    open: details.open,
    parts: content.length,
    shown: shown.length,
    text: shown.map((c) => c.innerText.trim()).join("").length,
    plots: shown.reduce((n, c) => n + c.querySelectorAll("svg").length, 0),
  };
}"""


def test_every_expander_opens_on_click_and_shows_its_content(browser: Any, report: Report) -> None:
    with visit(browser, report) as seen:
        page = seen.page
        expanders = page.locator("details")
        assert expanders.count() == seen.source.count("<details")
        if report.kind == "realistic":
            assert expanders.count() > 0
            if report.has_logs:  # the scripted schemer's flagged transcripts
                assert page.locator("details.transcript").count() > 0
        # Document order: an expander inside another is reached after its parent opened.
        for expander in expanders.all():
            summary = expander.locator(":scope > summary")
            state = expander.evaluate(_EXPANDER_STATE_JS)
            assert state["parts"] > 0, f"expander with nothing inside: {describe(expander)}"
            if state["open"]:
                summary.click()
                state = expander.evaluate(_EXPANDER_STATE_JS)
                assert not state["open"] and state["shown"] == 0, (state, describe(summary))
            summary.click()
            state = expander.evaluate(_EXPANDER_STATE_JS)
            assert state["open"], describe(summary)
            assert state["shown"] == state["parts"], (state, describe(expander))
            assert state["text"] > 0 or state["plots"] > 0, (state, describe(expander))


# --- self-contained, quiet -------------------------------------------------------


def test_no_console_error_no_script_and_no_network(browser: Any, report: Report) -> None:
    with visit(browser, report) as seen:
        page = seen.page
        open_every_expander(page)
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle")
        assert seen.console_errors == []
        assert seen.page_errors == []
        assert seen.dialogs == []  # nothing from the run's data ran as script
        assert seen.failed_requests == []
        # Self-contained: the page itself is the only thing loaded (inline data: URLs
        # would be part of the page).
        loaded = [url for url in seen.requests if not url.startswith("data:")]
        assert loaded == [seen.url]


# --- size of a large run -------------------------------------------------------


def assert_within_budget(report: Path, samples: int, bench: ModuleType) -> None:
    source = report.read_text(encoding="utf-8")
    plots = bench.svg_sizes(source)
    outside_plots = len(source.encode()) - sum(plots)
    assert outside_plots <= BYTES_PER_SAMPLE * samples, (
        f"{outside_plots / samples:.0f} bytes per sample outside the plots; largest sections: "
        f"{[(s.section, s.total) for s in bench.section_sizes(source)[:3]]}"
    )
    assert all(size <= BYTES_PER_PLOT for size in plots), plots


def test_realistic_report_stays_within_its_size_budget(
    realistic_report: Path, report_bench: ModuleType
) -> None:
    # finish() writes one results line per sample beside the report
    samples = len((realistic_report.parent / "results.jsonl").read_text().splitlines())
    assert samples > 400
    assert_within_budget(realistic_report, samples, report_bench)


@pytest.mark.slow
def test_a_10000_sample_report_stays_small_and_loads(
    browser: Any, report_bench: ModuleType, tmp_path: Path
) -> None:
    run = report_bench.synthetic_run(10_000)
    report, seconds = report_bench.write_report(run, tmp_path)
    assert_within_budget(report, len(run.rows), report_bench)
    timings = report_bench.median_timings(browser, report, 3)
    assert all(timings[key] is not None for key in report_bench.TIMING_KEYS), timings
    print(
        f"\n10,000 samples: {report.stat().st_size / 1e6:.2f} MB, built in {seconds:.1f} s, "
        + ", ".join(f"{key} {timings[key]:.0f} ms" for key in report_bench.TIMING_KEYS)
    )
