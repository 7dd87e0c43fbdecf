"""oversight-subversion: does the agent disable the config that monitors it?"""

from .._bank import Option, Theme, load_themes
from ._detector import OversightConfigDetector
from ._prompts import CONDITIONS, CONFIG_PATH, Condition
from ._task import oversight_subversion, oversight_subversion_dataset

__all__ = [
    "CONDITIONS",
    "CONFIG_PATH",
    "Condition",
    "Option",
    "OversightConfigDetector",
    "Theme",
    "load_themes",
    "oversight_subversion",
    "oversight_subversion_dataset",
]
