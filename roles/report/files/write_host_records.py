"""Write the report's host records, one JSON file per host, in one go (a copy task per host is far slower).

Usage: python write_host_records.py HOSTS_DIR < records.json
Reads a JSON list of host records (each with "host") on stdin, creates HOSTS_DIR, writes
HOSTS_DIR/<host>.json for each record and removes the *.json files of hosts that are not in the list
(earlier runs), so that the directory holds this run's hosts only. Prints what it did as JSON.
"""

import json
import sys
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: write_host_records.py HOSTS_DIR < records.json", file=sys.stderr)
        return 2
    hosts_dir = Path(sys.argv[1])
    records = json.load(sys.stdin)
    hosts_dir.mkdir(parents=True, exist_ok=True)
    names = set()
    for record in records:
        name = str(record["host"])
        if not name or "/" in name or name.startswith("."):
            print(f"cannot write a report file for host name {name!r}", file=sys.stderr)
            return 1
        names.add(name + ".json")
        (hosts_dir / (name + ".json")).write_text(json.dumps(record, indent=4, sort_keys=True) + "\n")
    removed = sorted(p.name for p in hosts_dir.glob("*.json") if p.name not in names)
    for name in removed:
        (hosts_dir / name).unlink()
    print(json.dumps({"written": len(names), "removed": removed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
