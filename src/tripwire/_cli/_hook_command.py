"""`tripwire hook` as a typer command, so `tripwire --help` lists it.

The command line itself never gets here: `main()` hands `hook` to the lean argparse
entry in `_hook.py` before typer loads (every tool call pays the hook's start-up).
"""

from __future__ import annotations

import typer

__all__ = ["hook_command"]


def hook_command(ctx: typer.Context) -> None:
    """Coding-agent tool hook: event JSON on stdin, decision out (`tripwire hook --help`)."""
    from ._hook import hook_main

    raise typer.Exit(code=hook_main(list(ctx.args)))
