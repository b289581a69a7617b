import sys

from teach_sgd.tui.app import launch

sys.exit(launch())
