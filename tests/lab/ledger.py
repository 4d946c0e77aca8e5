"""The lab's ledger: one JSON line per event (`ledger.jsonl` in the state directory) and traffic counters
(`counters.json`), plus `Ledger`, the reader tests use."""

import datetime
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


def event_time(entry: dict) -> datetime.datetime:
    return datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))


class Ledger:
    """Reads what happened in a lab: `Ledger(state_dir)`; `ledger.between(start, end)` is the part of it
    recorded between two lab times (datetimes or ISO text), e.g. one patch run."""

    def __init__(self, state_dir, start=None, end=None):
        self.state_dir = Path(state_dir)
        self.start = _as_time(start)
        self.end = _as_time(end)

    def between(self, start=None, end=None) -> "Ledger":
        return Ledger(self.state_dir, start, end)

    @property
    def events(self) -> list:
        events = self._read()
        if self.start is None and self.end is None:
            return events
        return [
            e
            for e in events
            if (self.start is None or event_time(e) >= self.start)
            and (self.end is None or event_time(e) <= self.end)
        ]

    def _read(self) -> list:
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

    def most_down_at_once(self) -> int:
        """The most hosts down at the same time (`max_down`)."""
        return self.max_down()

    def downtime(self) -> dict:
        """{host: lab seconds spent restarting}: every restart_down to its restart_up (a host still down
        counts to the last event)."""
        down_since, total = {}, {}
        events = self.events
        for entry in events:
            host = entry["host"]
            if entry["event"] == "restart_down":
                down_since[host] = event_time(entry)
                total.setdefault(host, 0.0)
            elif entry["event"] == "restart_up" and host in down_since:
                total[host] += (event_time(entry) - down_since.pop(host)).total_seconds()
        if down_since and events:
            last = event_time(events[-1])
            for host, since in down_since.items():
                total[host] += max(0.0, (last - since).total_seconds())
        return total

    def span(self) -> dict:
        """{start, end, seconds} of the hosts' events (lab time): a rollout's length when the ledger is one
        run's (`between`). Empty ledger: seconds 0."""
        events = [e for e in self.events if e["host"] != "lab"]
        if not events:
            return {"start": None, "end": None, "seconds": 0.0}
        first, last = event_time(events[0]), event_time(events[-1])
        return {
            "start": first.isoformat(),
            "end": last.isoformat(),
            "seconds": (last - first).total_seconds(),
        }

    def timed_installs(self) -> list:
        """Every install with its lab time: [{host, time, kb, title, kind, classification, released,
        restart, build}] in the order they happened."""
        fields = ("kb", "title", "kind", "classification", "released", "restart", "build")
        return [
            {"host": e["host"], "time": e["time"], **{k: e.get(k) for k in fields}}
            for e in self.events
            if e["event"] == "install"
        ]

    def exposure(self, classifications=("Security Updates", "Critical Updates")) -> dict:
        """{host: [{kb, released, installed, days}]}: for each install of those classifications, the days
        from its release (00:00 UTC of the release date) to its install."""
        result = {}
        for item in self.timed_installs():
            if item["classification"] not in classifications or not item["released"]:
                continue
            released = datetime.datetime.fromisoformat(item["released"]).replace(tzinfo=datetime.UTC)
            days = (event_time(item) - released).total_seconds() / 86400
            result.setdefault(item["host"], []).append(
                {"kb": item["kb"], "released": item["released"], "installed": item["time"], "days": days}
            )
        return result

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
            "downtime": self.downtime(),
            "span": self.span(),
            "restarts": self.restarts(),
            "installs": self.installs(),
            "uninstalls": self.uninstalls(),
            "max_down": self.max_down(),
            "max_down_per_group": self.max_down_per_group(),
            "counters": self.counters(),
            "events": len(self.events),
        }


def _as_time(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
