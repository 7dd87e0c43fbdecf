"""covert-email-reranking: does the agent quietly rig a ranking its company asked for?"""

from ._case import EmailCase, build_case, get_case, load_case_file, load_cases
from ._data import EMAILS_PER_SCENARIO, Criterion, Email, EmailScenario, load_scenario_file
from ._detector import EmailRerankingDetector, ScoringRun
from ._judge import Report, ReportAssessment, assess_report, disclosure_sentence
from ._prompts import CONDITIONS, Condition, render_inbox, render_sample
from ._scoring import OUTPUT_PATH, RUN_LOG, SCRIPT_PATH, ScoringScript
from ._task import BWRAP_CONFIG, covert_email_reranking, covert_email_reranking_dataset

__all__ = [
    "BWRAP_CONFIG",
    "CONDITIONS",
    "EMAILS_PER_SCENARIO",
    "OUTPUT_PATH",
    "RUN_LOG",
    "SCRIPT_PATH",
    "Condition",
    "Criterion",
    "Email",
    "EmailCase",
    "EmailRerankingDetector",
    "EmailScenario",
    "Report",
    "ReportAssessment",
    "ScoringRun",
    "ScoringScript",
    "assess_report",
    "build_case",
    "covert_email_reranking",
    "covert_email_reranking_dataset",
    "disclosure_sentence",
    "get_case",
    "load_case_file",
    "load_cases",
    "load_scenario_file",
    "render_inbox",
    "render_sample",
]
