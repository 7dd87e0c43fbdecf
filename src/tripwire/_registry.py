"""Inspect entry point: importing this registers tripwire's tasks, sandbox and models."""

# ruff: noqa: F401
from tripwire.guard._approver import guard_approver
from tripwire.models._provider import tripwire_models
from tripwire.monitor._inspect_scorer import transcript_monitor
from tripwire.sandbox import BwrapSandboxEnvironment
from tripwire.scenarios.alignment_faking import instrumental_alignment_faking
from tripwire.scenarios.db_cover_up import db_cover_up
from tripwire.scenarios.email_reranking import covert_email_reranking
from tripwire.scenarios.goal_guarding import goal_guarding
from tripwire.scenarios.kill_switch import kill_switch_tampering
from tripwire.scenarios.oversight_subversion import oversight_subversion
from tripwire.scenarios.rule_lost import rule_lost_in_compaction
from tripwire.scenarios.sandbagging import sandbagging
from tripwire.scenarios.self_exfiltration import self_exfiltration
from tripwire.scenarios.self_replication import self_replication
from tripwire.scenarios.shutdown_resistance import shutdown_resistance
