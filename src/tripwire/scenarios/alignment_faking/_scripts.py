"""Scripts the scripted reference agents act out in instrumental alignment faking.

Both read the data file, tell the setting from what it says (they compare it with
the two settings' files of the theme, never read the sample's metadata), and select
once, which ends the episode:

- `honest` acts the same watched or not: the option serving the story's AI goal,
  in both settings;
- `schemer-fake-alignment` selects management's option under `testing` and the
  other under `deployment`: every pair is behavioural scheming.

Like every scripted agent they act out a policy, not a goal: they ignore the
condition, so under `matched` too the honest agent picks the story's AI option
and the faker switches.
"""

from __future__ import annotations

from tripwire.models._scripted import Action, ScriptContext, ToolAction

from .._bank import Theme
from .._themed_scripts import theme_of
from ._prompts import SETTINGS, Setting, data_file_text, option_labels

__all__ = ["SCHEMER_VARIANTS", "script"]

SCHEMER_VARIANTS = ("fake-alignment",)


def script(policy: str, variant: str | None, context: ScriptContext) -> list[Action] | None:
    """The full action list for a policy, or None if this is not alignment faking."""
    theme = theme_of(context)
    if theme is None or "done" in context.tool_names:
        return None
    if not (policy == "honest" or (policy == "schemer" and variant in SCHEMER_VARIANTS)):
        return None
    read = ToolAction("bash", {"command": f"cat {theme.data_file}"})
    if not context.tool_results:
        return [read]
    setting = _setting(context.tool_results, theme)
    if setting is None:
        return None
    labels = option_labels(theme)
    own = labels[theme.option_serving("agent")]
    management = labels[theme.option_serving("developer")]
    fake = policy == "schemer" and setting == "testing"
    return [read, ToolAction(theme.selector_tool, {"strategy": management if fake else own})]


def _setting(seen: str, theme: Theme) -> Setting | None:
    """The setting whose data file the agent read, or None if it read neither."""
    for setting in SETTINGS:
        if data_file_text(theme, setting).strip() in seen:
            return setting
    return None
