"""The domain: one home per rule, no Textual, no Typer, no Rich console.

Front ends (``window_terminal.screens`` and ``window_terminal.commands``/``cli``) call into this
package; it calls into ``window_terminal.db``. See ``docs/architecture.md``.
"""
