"""`make demo`: the collection at work on a simulated fleet, for a hotpatch month and a baseline month.

Starts the lab's demo fleet (tests/lab/fleets/demo.yml) twice, each time on a fresh lab, runs
`ansible-playbook hotpatch.windows.patch` against it and prints what happened: hosts per action, restarts
done (counted by the lab, not by Ansible), restarts avoided, the restart waves, and the HTML report.

    python -m tests.demo [-v] [--workdir DIR] [--fleet FILE]

ansible-playbook's own output is shown only when it fails, or always with -v.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from tests.lab import Lab

REPO = Path(__file__).resolve().parent.parent
DEMO_FLEET = REPO / "tests" / "lab" / "fleets" / "demo.yml"
# Restart waves of at most a quarter of the fleet and at most two hosts of one availability group at once.
PATCH_VARS = {"patch_batch_size": "25%", "patch_max_per_group": 2}

# (label, title, lab date or None for the fleet's own date, what a newcomer should expect)
RUNS = [
    (
        "hotpatch-month",
        "February 2026: a hotpatch month",
        None,
        "Eligible hosts on the January baseline take February's security hotpatch with no restart.\n"
        "Hosts that are off their baseline, have a restart pending or cannot use hotpatch restart,\n"
        "in waves.",
    ),
    (
        "baseline-month",
        "April 2026: a baseline month",
        "2026-04-16T02:00:00Z",
        "April is a planned baseline: every host that needs the cumulative update restarts once, in waves\n"
        "no larger than the batch size and never two hosts of one availability group at once.",
    ),
]

ACTION_MEANING = {
    "none": "nothing to do",
    "hotpatch": "security hotpatch installed, no restart",
    "baseline": "baseline cumulative update, one restart",
    "reboot": "a restart was already pending: restart first, then its updates",
    "conventional": "not hotpatch-eligible: regular updates, restart only if needed",
    "unknown": "not assessed (unreachable or failed)",
}


def ansible_env() -> dict:
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / "build" / "collections"))
    env.setdefault("ANSIBLE_HOST_KEY_CHECKING", "false")
    env["ANSIBLE_NOCOLOR"] = "true"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "false"
    return env


def write_fleet(label: str, date, workdir: Path, source: Path = DEMO_FLEET) -> Path:
    """The demo fleet, with its date replaced when `date` is given, written beside the run's other files."""
    fleet = yaml.safe_load(source.read_text())
    if date is not None:
        fleet["date"] = date
    path = workdir / label / "fleet.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(fleet, sort_keys=False))
    return path


def run_playbook(inventory: Path, report_dir: Path, verbose: bool) -> subprocess.CompletedProcess:
    playbook = Path(sys.executable).parent / "ansible-playbook"
    command = [
        str(playbook),
        "hotpatch.windows.patch",
        "-i",
        str(inventory),
        "-e",
        f"hotpatch_report_dir={report_dir}",
        "-e",
        json.dumps(PATCH_VARS),
    ]
    if verbose:
        print("$ " + " ".join(command), flush=True)
        return subprocess.run(command, env=ansible_env(), text=True, check=False)
    return subprocess.run(command, env=ansible_env(), text=True, capture_output=True, check=False)


def action_order(item) -> tuple:
    actions = list(ACTION_MEANING)
    return (actions.index(item[0]) if item[0] in actions else len(actions), item[0])


def names(hosts) -> str:
    return ", ".join(hosts) if hosts else "-"


def describe(title: str, expect: str, fleet: dict, restarts: dict, max_down: int, report_html: Path) -> None:
    """Print one run: what the report says, checked against the restarts the lab counted."""
    records = fleet["hosts"]
    groups = {r["host"]: r["group"] for r in records}
    print(f"\n== {title} ({fleet['host_count']} hosts) ==")
    print(textwrap.indent(expect, "   "))
    print("\n   Hosts per action:")
    for action, count in sorted(fleet["by_action"].items(), key=action_order):
        if not count:
            continue
        hosts = [r["host"] for r in records if r["action"] == action]
        meaning = ACTION_MEANING.get(action, "")
        print(f"     {action:<13}{count:>3}  {meaning}")
        print(textwrap.indent(textwrap.fill(names(hosts), 88), " " * 21))
    restarted = sorted(host for host, count in restarts.items() if count)
    total = sum(restarts.values())
    print(f"\n   Restarts done (counted by the lab): {total} on {len(restarted)} host(s):")
    print(textwrap.indent(textwrap.fill(names(restarted), 88), " " * 5))
    print(f"   Most hosts down at once: {max_down}")
    avoided = [r["host"] for r in records if r["reboot_avoided"]]
    print(f"   Restarts avoided (hotpatched, no restart): {len(avoided)}:")
    print(textwrap.indent(textwrap.fill(names(avoided), 88), " " * 5))
    if fleet["waves"]:
        print(
            f"   Restart waves (at most {PATCH_VARS['patch_batch_size']} of the fleet, "
            f"at most {PATCH_VARS['patch_max_per_group']} hosts of one availability group at once):"
        )
        for wave in fleet["waves"]:
            members = [f"{host} ({groups[host]})" if groups.get(host) else host for host in wave["hosts"]]
            print(f"     wave {wave['wave']}: {names(members)}")
    else:
        print("   Restart waves: none")
    for label, key in (
        ("Failed", "failed_hosts"),
        ("Deferred", "deferred_hosts"),
        ("Not reached", "not_reached_hosts"),
    ):
        if fleet[key]:
            print(f"   {label}: {names(fleet[key])}")
    print(f"   HTML report: {report_html}")


def demo_run(
    label: str, title: str, date, expect: str, workdir: Path, verbose: bool, source: Path = DEMO_FLEET
) -> bool:
    fleet_file = write_fleet(label, date, workdir, source)
    report_dir = workdir / label / "report"
    print(f"\nStarting the lab for: {title} ...", flush=True)
    with Lab(fleet_file, workdir / label / "lab") as lab:
        result = run_playbook(Path(lab.inventory), report_dir, verbose)
        ledger = lab.ledger()
        restarts = ledger.restarts()
        max_down = ledger.max_down()
    fleet_json = report_dir / "latest" / "fleet.json"  # the run's own folder (the report's `latest` link)
    if result.returncode != 0 and not verbose:
        print(f"ansible-playbook ended with rc={result.returncode}; its output:")
        print(textwrap.indent((result.stdout or "")[-12000:] + (result.stderr or "")[-4000:], "  | "))
    if not fleet_json.is_file():
        print(f"no report was written ({fleet_json} is missing)")
        return False
    html = report_dir / "latest" / "fleet.html"
    describe(title, expect, json.loads(fleet_json.read_text()), restarts, max_down, html)
    return result.returncode == 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.demo", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="show ansible-playbook's output")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=REPO / "build" / "demo",
        help="where the fleets, lab state and reports go (default: build/demo)",
    )
    parser.add_argument(
        "--fleet",
        type=Path,
        default=DEMO_FLEET,
        help="the lab fleet to patch (default: tests/lab/fleets/demo.yml; the tests use a smaller one)",
    )
    args = parser.parse_args(argv)
    # stopped from outside (a timeout): leave through the `with Lab` blocks so that the lab stops too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = args.workdir.resolve()
    print(
        "hotpatch.windows demo: the simulated fleet of tests/lab/fleets/demo.yml, patched with\n"
        "`ansible-playbook hotpatch.windows.patch` over real WinRM, once in a hotpatch month and once\n"
        "in a baseline month. Every restart below is counted by the simulated hosts themselves."
    )
    ok = True
    for label, title, date, expect in RUNS:
        ok = demo_run(label, title, date, expect, workdir, args.verbose, args.fleet.resolve()) and ok
    print("\nDone: the lab is stopped. Open the HTML reports above in a browser (no network needed).")
    if not ok:
        print("Some hosts failed (see above): the report lists them.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
