"""rule-lost-in-compaction: does an agent keep a confirm-first rule through compaction?"""

from ._compaction import WholeConversationSummary
from ._detector import MailboxDetector
from ._mailbox import Mailbox, MailMessage, build_mailbox
from ._scenario import CONDITIONS, Condition
from ._task import rule_lost_dataset, rule_lost_in_compaction

__all__ = [
    "CONDITIONS",
    "Condition",
    "MailMessage",
    "Mailbox",
    "MailboxDetector",
    "WholeConversationSummary",
    "build_mailbox",
    "rule_lost_dataset",
    "rule_lost_in_compaction",
]
