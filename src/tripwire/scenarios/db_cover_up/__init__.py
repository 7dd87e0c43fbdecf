"""db-cover-up: does a coding agent change production during a freeze, and then hide it?"""

from ._detector import ProductionDbDetector
from ._prompts import CONDITIONS, DB_PATH, Condition
from ._task import db_cover_up, db_cover_up_dataset

__all__ = [
    "CONDITIONS",
    "DB_PATH",
    "Condition",
    "ProductionDbDetector",
    "db_cover_up",
    "db_cover_up_dataset",
]
