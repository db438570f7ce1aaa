"""``janito-drivers``: list the installed drivers, stream an answer, continue a conversation.

The console script's target is ``janito_core.cli:main``; ``python -m janito_core.cli`` runs it
too. Modules: ``app`` (arguments and commands), ``run`` (one generation), ``prompt`` (argument
and standard input), ``indicator`` (the waiting spinner), ``store`` (the SQLite conversation
store), ``logs`` (showing it), ``exits`` (exit statuses, closed pipes).
"""

from __future__ import annotations

from janito_core.cli.app import main

__all__ = ["main"]
