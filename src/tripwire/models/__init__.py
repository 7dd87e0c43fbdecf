"""Models: the embedded local default and the scripted reference agents."""

from ._provider import DEFAULT_MODEL, EMBEDDED_MODELS, ChatBackend, TripwireModelAPI
from ._scripted import SCRIPTED_POLICIES, ScriptedBackend, schemer_variants

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_MODELS",
    "SCRIPTED_POLICIES",
    "ChatBackend",
    "ScriptedBackend",
    "TripwireModelAPI",
    "schemer_variants",
]
