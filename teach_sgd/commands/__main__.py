"""`python -m teach_sgd.commands`: the same as `teach-sgd` (children and benchmarks start the app this way)."""
import sys

from teach_sgd.commands.main import main

sys.exit(main())
