"""`python -m window_terminal` runs the `wt` command."""

from window_terminal.cli import main

main()
