"""The command line: every `teach-sgd` command, one module each, and `main` (teach_sgd/commands/main.py).

This is the top layer: it may import everything (the engine, the lessons, the simulator, the app), and nothing
imports it. Each command module has `add_parser(sub)`, which declares its subcommand(s) and sets `run`, the
function `main` calls with the parsed arguments and the stop signals.
"""
