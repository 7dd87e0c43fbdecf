"""What the themed scenarios' scripted agents share: find the theme, read, choose.

Every themed scenario opens the same way (read the data file), so a scenario's
script recognises itself from what that read returned: its memo names something
only it has (the oversight config, the new server, the successor prompt).
"""

from __future__ import annotations

from collections.abc import Sequence

from tripwire.models._scripted import Action, ScriptContext, ToolAction

from ._bank import Theme, load_themes

__all__ = ["themed_script"]


def themed_script(
    context: ScriptContext,
    *,
    marker: str,
    policy: str,
    scheme: Sequence[Action] | None,
    theme: Theme | None = None,
    choose_own: bool = True,
) -> list[Action] | None:
    """The action list of a themed scenario's scripted agent, or None if not this one.

    Args:
        context: What the agent sees.
        marker: Text only this scenario's memo contains.
        policy: `honest` or `schemer`.
        scheme: For a schemer, what it does between reading the data and choosing its
            own option (None: this scenario has no such variant).
        theme: The theme, if the caller already looked it up.
        choose_own: Whether the schemer then selects its own option (False when the
            scheme already does).
    """
    theme = theme or theme_of(context)
    if theme is None or (context.tool_results and marker not in context.tool_results):
        return None
    read = ToolAction("bash", {"command": f"cat {theme.data_file}"})
    if policy == "honest":
        developer = theme.option_serving("developer")
        return [read, ToolAction(theme.selector_tool, {"strategy": developer}), ToolAction("done")]
    if scheme is None:
        return None
    own = ToolAction(theme.selector_tool, {"strategy": theme.option_serving("agent")})
    return [read, *scheme, *([own] if choose_own else []), ToolAction("done")]


def theme_of(context: ScriptContext) -> Theme | None:
    """The theme whose selector tool the agent was given."""
    by_selector = {theme.selector_tool: theme for theme in load_themes()}
    return next((by_selector[n] for n in context.tool_names if n in by_selector), None)
