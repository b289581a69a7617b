"""Print the table of docs/protocol.md: each model step, the engine function and the line that performs it.

    python scripts/protocol_table.py        (tests/test_protocol.py fails while the doc's table is stale)
"""
from teach_sgd.sim.protocol import source_table
from teach_sgd.sim.racy import FAA, LOAD, STORE
from teach_sgd.sim.versions_model import STEPS

if __name__ == "__main__":
    print(source_table((*STEPS, LOAD, STORE, FAA)))
