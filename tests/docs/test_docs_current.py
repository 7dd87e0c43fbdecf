"""The generated docs are current, and the scenario catalogue covers every evaluation.

`scripts/make_docs.py` regenerates the reference blocks of `docs/` from the code and
from real commands. The fast test here regenerates the blocks that read the code (and
the one command that prints the default policy) into a temporary copy of `docs/`; the
slow one regenerates everything, scripted scenario runs included (minutes).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tripwire._catalog import all_evaluations

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_docs", ROOT / "scripts" / "make_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_docs"] = module
    spec.loader.exec_module(module)
    return module


make_docs = _load_generator()

# Blocks made from the code and data alone (plus `tripwire guard policy`): seconds. The
# others run commands that each pay the CLI's start-up, or whole evaluations.
_SCENARIO_PARTS = ("summary", "setup", "detection", "conditions", "anchors", "running")
FAST_BLOCKS = {
    "docs.index",
    "scenarios.index",
    "policy.schema",
    "policy.default",
    "transcripts.readers",
    "audit.format",
    "results.schema",
    *(f"{e.name}.{part}" for e in all_evaluations() for part in _SCENARIO_PARTS),
}


def _assert_current(tmp_path: Path, **render_args: object) -> None:
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    rendered = make_docs.render(copy, **render_args)
    problems = make_docs.stale(DOCS, rendered)
    assert not problems, (
        f"{len(problems)} docs page(s) are not current: run `make docs`.\n\n"
        + "\n\n".join(problems)
    )


def test_code_derived_blocks_are_current(tmp_path: Path) -> None:
    _assert_current(tmp_path, blocks=FAST_BLOCKS)


@pytest.mark.slow
def test_every_generated_block_is_current(tmp_path: Path) -> None:
    _assert_current(tmp_path)


def test_every_scenario_has_a_page_linked_from_the_index() -> None:
    index = (DOCS / "scenarios" / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    pages = {p.name for p in (DOCS / "scenarios").glob("*.md")} - {"index.md"}
    names = {f"{e.name}.md" for e in all_evaluations()}
    assert names <= pages, f"no page for {sorted(names - pages)}: run `make docs`"
    assert pages <= names, f"pages for no evaluation: {sorted(pages - names)}"
    assert pages <= linked, f"pages the index does not link: {sorted(pages - linked)}"


def test_every_page_has_its_generated_blocks() -> None:
    for page in make_docs.pages():
        text = (DOCS / page.path).read_text(encoding="utf-8")
        missing = set(page.blocks) - set(make_docs.block_names(text))
        assert not missing, f"docs/{page.path} lacks blocks {sorted(missing)}"
        for name in page.blocks:
            body = text.split(make_docs.begin(name), 1)[1].split("<!-- /generated -->", 1)[0]
            assert body.strip(), f"docs/{page.path}: block {name} is empty: run `make docs`"


def test_docs_index_lists_every_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    top = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    missing = {p for p in top if f"]({p})" not in index}
    assert not missing, f"docs/index.md does not link {sorted(missing)}: add them to make_docs.py"


def test_replace_blocks_keeps_prose_and_swaps_only_named_blocks() -> None:
    text = (
        "intro prose\n"
        + make_docs.block("a", "old a")
        + "\nmiddle prose\n"
        + make_docs.block("b", "old b")
        + "\nend\n"
    )
    out = make_docs.replace_blocks(text, {"a": "new a\n"})
    assert out == text.replace("old a", "new a")
    assert make_docs.block_names(out) == ["a", "b"]


def test_stale_names_a_changed_page(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text("x\n", encoding="utf-8")
    assert make_docs.stale(tmp_path, {"p.md": "x\n"}) == []
    [problem] = make_docs.stale(tmp_path, {"p.md": "y\n"})
    assert "docs/p.md" in problem and "+y" in problem


def test_normalise_volatile_replaces_times_and_run_ids() -> None:
    line = (
        "run/logs/2026-12-01T19-05-01-00-00_oversight-subversion_ArczJR9sTTvgZafETsxaJN.eval"
        " at 2026-12-01T19:05:01.123456+00:00"
    )
    assert (
        make_docs.normalise_volatile(line)
        == "run/logs/<time>_oversight-subversion_<id>.eval at <time>"
    )
