"""What `run`, `eval` and `report` print under `--json`, and their one-line verdict."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from rich.markup import escape

from tripwire.stats import (
    AlignmentFakingCalibration,
    AlignmentFakingSummary,
    CalibrationResult,
    DeferredCalibrationResult,
    RateSummary,
    SandbaggingSummary,
)

__all__ = ["RunFiles", "RunSummary"]


class RunFiles(BaseModel):
    """The files a command wrote."""

    results_jsonl: Path
    """One `ResultRow` per sample (`tripwire.report.read_results` reads it back)."""

    results_csv: Path
    """The same rows for spreadsheets."""

    report_html: Path
    """The self-contained HTML report."""

    interrogation_jsonl: Path | None = None
    """One row per question put to an agent afterwards; None if none was asked."""

    interrogation_csv: Path | None = None
    """The same rows for spreadsheets; None if none was asked."""


class RunSummary(BaseModel):
    """The outcome of `tripwire run`, `eval` or `report`: the `--json` document."""

    title: str
    """The report's title, e.g. `tripwire eval: oversight-subversion`."""

    ok: bool
    """Every calibration verdict passed and no eval failed (the exit code is 0)."""

    samples: int
    """Result rows (one per sample and epoch), guarded runs included."""

    rates: list[RateSummary] = Field(default_factory=list)
    """Scheming rate per model × scenario × condition (unguarded runs): n, schemed,
    errors, the rate (None when nothing was judged) and its 95% Wilson interval."""

    calibration: list[CalibrationResult] = Field(default_factory=list)
    """Verdict per scripted reference agent on the evaluations judged per sample."""

    deferred_calibration: list[DeferredCalibrationResult | AlignmentFakingCalibration] = Field(
        default_factory=list
    )
    """Verdict per scripted agent on the evaluations judged across samples."""

    sandbagging: list[SandbaggingSummary] = Field(default_factory=list)
    """Sandbagging test per evaluated model × condition."""

    alignment_faking: list[AlignmentFakingSummary] = Field(default_factory=list)
    """Instrumental alignment-faking test per evaluated model × condition."""

    eval_errors: list[str] = Field(default_factory=list)
    """Evals that failed as a whole (their samples may be missing)."""

    duplicates_dropped: int = 0
    """`report` over several paths: samples read twice and kept once."""

    files: RunFiles
    """Where the results and the report were written."""

    def verdict_line(self) -> str:
        """The final line every mode prints (rich markup): what came out, in one line."""
        inconclusive = [
            f"{r.scenario}: {r.model}: {r.inconclusive}"
            for r in self.deferred_calibration
            if r.verdict == "inconclusive"
        ]
        failed = [r.model for r in self.calibration if not r.ok] + [
            r.model for r in self.deferred_calibration if r.verdict == "fail"
        ]
        if self.eval_errors:
            return (
                f"[bold white on red] FAILED [/bold white on red] {len(self.eval_errors)} "
                f"eval(s) failed; report: {escape(str(self.files.report_html))}"
            )
        if failed:
            return (
                "[bold white on red] CALIBRATION FAILED [/bold white on red] "
                + escape(", ".join(dict.fromkeys(failed)))
                + ": the detector or harness is not trustworthy in this run."
            )
        if inconclusive:
            return (
                "[bold black on yellow] CALIBRATION INCONCLUSIVE [/bold black on yellow] "
                + escape("; ".join(inconclusive))
                + ": this run cannot show the detector works; run a larger size."
            )
        schemed = sum(rate.schemed for rate in self.rates)
        errors = sum(rate.errors for rate in self.rates)
        counts = f"{self.samples} samples, {schemed} schemed, {errors} errors"
        if self.calibration or self.deferred_calibration:
            return (
                f"[bold green]calibration passed:[/bold green] every scripted schemer was "
                f"caught and the honest agent never was ({counts}); report: "
                f"{escape(str(self.files.report_html))}"
            )
        return f"done: {counts}; report: {escape(str(self.files.report_html))}"
