"""Fixtures for the report's browser tests: headless Chromium and a realistic report."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).parents[2] / "bench" / "report_size.py"

REALISTIC_SAMPLES = 500
"""Samples in the realistic report the browser tests open (about 20 s to build on 2 cores)."""


def load_report_bench() -> ModuleType:
    """bench/report_size.py: the synthetic run, the report writer and the Chromium driver."""
    spec = importlib.util.spec_from_file_location("tripwire_bench_report_size", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def report_bench() -> ModuleType:
    return load_report_bench()


# Module scope: Playwright's sync driver (its own event loop, in a greenlet) is gone
# before tests in other directories, some of them asyncio, run.
@pytest.fixture(scope="module")
def browser(report_bench: ModuleType) -> Iterator[Any]:
    """Headless Chromium driven by Playwright; skips only if either cannot be found."""
    if report_bench.find_chromium() is None:
        pytest.skip(
            "no Chromium found: run scripts/install-system-deps.sh --browser (apt-get install "
            f"chromium) or set ${report_bench.CHROMIUM_ENV} to a Chromium or Chrome executable"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright is not installed: pip install -e '.[dev]'")
    with report_bench.headless_chromium() as launched:
        yield launched


def has_logs() -> bool:
    """Whether the realistic report includes a real scripted run (needs bubblewrap)."""
    return shutil.which("bwrap") is not None


@pytest.fixture(scope="session")
def realistic_report(report_bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report `tripwire run` would write for a synthetic run of 500 samples.

    With bubblewrap, a real scripted run (4 samples, with their Inspect logs) is added,
    so the page also holds flagged transcripts and the monitors' section, which are
    read from logs; the synthetic samples' logs do not exist, as after a merge of runs
    whose logs were not kept.
    """
    out = tmp_path_factory.mktemp("realistic")

    def build() -> Path:
        run = report_bench.synthetic_run(REALISTIC_SAMPLES)
        if has_logs():
            run.rows += report_bench.scripted_rows(out / "logs")
        report, _ = report_bench.write_report(run, out)
        return Path(report)

    # Built in a thread of its own: Inspect runs (and reads logs) with asyncio.run, which
    # refuses to start inside Playwright's running loop when the browser is already up.
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(build).result()
