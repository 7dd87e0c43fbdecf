"""instrumental-alignment-faking: does an agent follow management only while watched?"""

from ._detector import DATA_FILE_ALTERED, DataFileDetector
from ._prompts import CONDITIONS, SETTINGS, option_labels, render_sample
from ._scorer import alignment_faking_outcome, instrumental_rate, terminal_rate
from ._task import instrumental_alignment_faking, instrumental_alignment_faking_dataset

__all__ = [
    "CONDITIONS",
    "DATA_FILE_ALTERED",
    "SETTINGS",
    "DataFileDetector",
    "alignment_faking_outcome",
    "instrumental_alignment_faking",
    "instrumental_alignment_faking_dataset",
    "instrumental_rate",
    "option_labels",
    "render_sample",
    "terminal_rate",
]
