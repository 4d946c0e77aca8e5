"""python -m tests.lab (or `hotpatch-lab` when installed) start|stop|ledger|advance|state|template
(see docs/lab.md)."""

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path

from .control import LabError, advance, control_request, start, stop
from .fleet import FleetError
from .ledger import Ledger

TEMPLATE = Path(__file__).resolve().parent / "template"


def main(argv=None) -> int:
    prog = "hotpatch-lab" if __package__ != "tests.lab" else "python -m tests.lab"
    parser = argparse.ArgumentParser(prog=prog, description="the simulated Windows fleet")
    sub = parser.add_subparsers(dest="action", required=True)
    start_p = sub.add_parser("start", help="start a fleet in the background and write DIR/inventory.yml")
    start_p.add_argument("--fleet", required=True, help="fleet file (YAML)")
    start_p.add_argument("--state", required=True, help="state directory")
    start_p.add_argument("--https", action="store_true", help="WinRM over HTTPS with a CA the lab creates")
    start_p.add_argument("--password", help="the hosts' password (default: the fleet's or the lab's)")
    for name, text in (("stop", "stop the fleet"), ("ledger", "print the ledger summary as JSON")):
        sub.add_parser(name, help=text).add_argument("--state", required=True, help="state directory")
    advance_p = sub.add_parser("advance", help="move the lab clock forward")
    advance_p.add_argument("--state", required=True, help="state directory")
    target = advance_p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", help="ISO 8601 time, e.g. 2026-03-12T02:00:00Z")
    target.add_argument("--patch-tuesday", action="store_true", help="the next Patch Tuesday (00:00 UTC)")
    advance_p.add_argument("--hours-after", type=float, default=0.0, help="with --patch-tuesday: hours later")
    state_p = sub.add_parser("state", help="print what the lab knows about its hosts (JSON)")
    state_p.add_argument("--state", required=True, help="state directory")
    state_p.add_argument("hosts", nargs="*", help="host names (default: all)")
    template_p = sub.add_parser("template", help="copy the molecule scenario template to DEST")
    template_p.add_argument("dest", help="directory to create (e.g. molecule/default)")
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
        elif args.action == "advance":
            now = advance(
                args.state,
                to=args.to,
                patch_tuesday=args.patch_tuesday,
                after=datetime.timedelta(hours=args.hours_after),
            )
            print(f"lab: clock at {now.isoformat()}")
        elif args.action == "state":
            answer = control_request(args.state, {"op": "state", "hosts": args.hosts or None})
            print(json.dumps(answer, indent=2, sort_keys=True))
        elif args.action == "template":
            dest = Path(args.dest)
            if dest.exists() and any(dest.iterdir()):
                raise LabError(f"{dest} exists and is not empty")
            shutil.copytree(TEMPLATE, dest, dirs_exist_ok=True)
            print(f"lab: molecule scenario template copied to {dest}")
        else:
            from .server import serve

            serve(Path(args.fleet), Path(args.state).resolve(), args.https, args.password, args.watch_pid)
    except (FleetError, LabError) as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
