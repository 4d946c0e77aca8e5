"""The lab's ledger: one JSON line per event (`ledger.jsonl` in the state directory) and traffic counters
(`counters.json`), plus `Ledger`, the reader tests use."""

import json
import threading
from pathlib import Path

LEDGER_FILE = "ledger.jsonl"
COUNTERS_FILE = "counters.json"


class LedgerWriter:
    """Appends events; used by the server process only."""

    def __init__(self, state_dir: Path, clock, groups: dict):
        self.path = Path(state_dir) / LEDGER_FILE
        self.clock = clock
        self.groups = groups
        self.lock = threading.Lock()
        self.path.touch()

    def record(self, host: str, event: str, **fields):
        from .windows import iso

        entry = {"time": iso(self.clock.now()), "host": host, "event": event}
        if self.groups.get(host) is not None:
            entry["group"] = self.groups[host]
        entry.update({k: v for k, v in fields.items() if v is not None})
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.lock, self.path.open("a") as handle:
            handle.write(line)


class Ledger:
    """Reads what happened in a lab: `Ledger(state_dir)`."""

    def __init__(self, state_dir):
        self.state_dir = Path(state_dir)

    @property
    def events(self) -> list:
        path = self.state_dir / LEDGER_FILE
        if not path.exists():
            return []
        events = []
        for line in path.read_text().splitlines():
            if line.strip():
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue  # a line being written right now
        return events

    def _by_host(self, event: str) -> dict:
        result = {}
        for entry in self.events:
            if entry["event"] == event:
                result.setdefault(entry["host"], []).append(entry.get("kb"))
        return result

    def restarts(self) -> dict:
        """{host: number of restarts begun}."""
        return {host: len(kbs) for host, kbs in self._by_host("restart_down").items()}

    def installs(self) -> dict:
        return self._by_host("install")

    def uninstalls(self) -> dict:
        return self._by_host("uninstall")

    def _down_peaks(self) -> tuple:
        down = set()
        peak = 0
        group_down: dict = {}
        group_peak: dict = {}
        for entry in self.events:
            host, group = entry["host"], entry.get("group")
            if entry["event"] == "restart_down":
                down.add(host)
                if group is not None:
                    group_down.setdefault(group, set()).add(host)
            elif entry["event"] == "restart_up":
                down.discard(host)
                if group is not None:
                    group_down.setdefault(group, set()).discard(host)
            else:
                continue
            peak = max(peak, len(down))
            if group is not None:
                group_peak[group] = max(group_peak.get(group, 0), len(group_down[group]))
        return peak, group_peak

    def max_down(self) -> int:
        """The most hosts down (restarting) at the same time."""
        return self._down_peaks()[0]

    def max_down_per_group(self) -> dict:
        """{hotpatch_availability_group: the most hosts of that group down at once}."""
        return self._down_peaks()[1]

    def counters(self) -> dict:
        """{host: {requests, commands, bytes_in, bytes_out}} (written by the lab at most once a second)."""
        path = self.state_dir / COUNTERS_FILE
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except ValueError:
            return {}

    def summary(self) -> dict:
        return {
            "restarts": self.restarts(),
            "installs": self.installs(),
            "uninstalls": self.uninstalls(),
            "max_down": self.max_down(),
            "max_down_per_group": self.max_down_per_group(),
            "counters": self.counters(),
            "events": len(self.events),
        }
