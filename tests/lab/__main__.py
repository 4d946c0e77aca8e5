"""python -m tests.lab start|stop|ledger|serve (see docs/lab.md)."""

import argparse
import json
import sys
from pathlib import Path

from .control import LabError, start, stop
from .fleet import FleetError
from .ledger import Ledger


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description="the simulated Windows fleet")
    sub = parser.add_subparsers(dest="action", required=True)
    start_p = sub.add_parser("start", help="start a fleet in the background and write DIR/inventory.yml")
    start_p.add_argument("--fleet", required=True, help="fleet file (YAML)")
    start_p.add_argument("--state", required=True, help="state directory")
    start_p.add_argument("--https", action="store_true", help="WinRM over HTTPS with a CA the lab creates")
    start_p.add_argument("--password", help="the hosts' password (default: the fleet's or the lab's)")
    for name, text in (("stop", "stop the fleet"), ("ledger", "print the ledger summary as JSON")):
        sub.add_parser(name, help=text).add_argument("--state", required=True, help="state directory")
    serve_p = sub.add_parser("serve", help=argparse.SUPPRESS)
    serve_p.add_argument("--fleet", required=True)
    serve_p.add_argument("--state", required=True)
    serve_p.add_argument("--https", action="store_true")
    serve_p.add_argument("--password")
    serve_p.add_argument("--watch-pid", type=int)
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            info = start(args.fleet, args.state, args.https, args.password)
            print(
                f"lab: {len(info['hosts'])} hosts running; "
                f"inventory {Path(args.state).resolve() / 'inventory.yml'}"
            )
        elif args.action == "stop":
            print("lab: stopped" if stop(args.state) else "lab: no lab was running")
        elif args.action == "ledger":
            print(json.dumps(Ledger(args.state).summary(), indent=2, sort_keys=True))
        else:
            from .server import serve

            serve(Path(args.fleet), Path(args.state).resolve(), args.https, args.password, args.watch_pid)
    except (FleetError, LabError) as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
