"""`python -m teach_sgd.commands`: the same as `teach-sgd` (children and benchmarks start the app this way)."""
from teach_sgd.commands.main import entry

entry()
