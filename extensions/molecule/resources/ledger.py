"""Print a lab's ledger as JSON for molecule verify playbooks: `python ledger.py STATE [SINCE [UNTIL]]`.

SINCE and UNTIL (event indexes, default the whole ledger) limit restarts/installs/peaks to the events of one
run, so each run can be checked on its own. Run from the repository root (it imports tests.lab).
"""

import json
import sys

from tests.lab.ledger import Ledger


class Since(Ledger):
    """The ledger from event index `since` on."""

    def __init__(self, state_dir, since=0, until=None):
        super().__init__(state_dir)
        self.since = since
        self.until = until

    @property
    def events(self):
        return super().events[self.since : self.until]


def main(argv):
    state_dir = argv[1]
    since = int(argv[2]) if len(argv) > 2 else 0
    until = int(argv[3]) if len(argv) > 3 else None
    ledger = Since(state_dir, since, until)
    events = ledger.events
    waves = []
    down = set()
    # Restart waves as the ledger saw them: hosts down together between two moments with nobody down.
    for entry in events:
        if entry["event"] == "restart_down":
            if not down:
                waves.append([])
            down.add(entry["host"])
            waves[-1].append(entry["host"])
        elif entry["event"] == "restart_up":
            down.discard(entry["host"])
    summary = {
        "events": len(Ledger(state_dir).events),
        "restarts": ledger.restarts(),
        "restarts_up": {
            host: sum(1 for e in events if e["host"] == host and e["event"] == "restart_up")
            for host in ledger.restarts()
        },
        "installs": ledger.installs(),
        "uninstalls": ledger.uninstalls(),
        "max_down": ledger.max_down(),
        "max_down_per_group": ledger.max_down_per_group(),
        "down_spans": waves,
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
