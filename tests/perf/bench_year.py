"""A simulated year of patching: the collection's defaults and the path users take today, side by side.

    python tests/perf/bench_year.py [--cycles 12] [--start 2026-01] [--scale 0.002] [--only collection|today]

One mixed fleet (Windows Server 2025 and 2022 Datacenter: Azure Edition on Azure, Arc-connected 2025 with and
without a Hotpatch licence, one whose licence lapses in May, Azure Local, Windows Server 2025 Datacenter on
Azure, 2019 and 2016 on premises; one host whose security agent keeps PendingFileRenameOperations filled, one
with a driver pending) on the lab's realistic Windows Update model (Defender definitions, MSRT, .NET, optional
previews, out-of-band releases) and timing model, with an unplanned baseline in August 2026 that no catalog
knows. Two labs run that fleet through the same cycles: each cycle the lab clock moves to two days after
Patch Tuesday, 02:00 UTC, and one patch run goes:

- collection: `ansible-playbook hotpatch.windows.patch` with its defaults (report under the state directory);
- today: `tests/perf/playbooks/today_patch.yml`, `ansible.windows.win_updates` with Critical, Security and
  Update Rollups, `reboot: true`, `serial: 25%`.

Per host and year, read from the lab's ledger: restarts, security-update exposure days (release to install;
updates still offered at the end count to the end), failed runs, and per cycle the rollout's length (lab
time, first to last host event of the run). The floor is computed from the lab's own model without Ansible:
the restarts a perfect patcher cannot avoid (every Critical/Security/Update Rollups update installed each
cycle, a restart only when one of them needs it).

Targets (exit status 1 when one fails): the collection never restarts a host more than the floor; every
security update still offered after a collection run is named in that run's report for the host; the
collection restarts every hotpatch-enrolled host less often than today's path.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, collections_path, load_average, print_machine, verdict

PERF = Path(__file__).resolve().parent
TODAY_PLAYBOOK = PERF / "playbooks" / "today_patch.yml"
SECURITY = ("Security Updates", "Critical Updates")
REQUIRED = ("Security Updates", "Critical Updates", "Update Rollups")
AE_IMAGE_2025 = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2025-Datacenter-Azure-Edition-Core",
}
AE_IMAGE_2022 = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-Datacenter-Azure-Edition-Hotpatch",
}


def fleet(start_month: str, scale: float) -> dict:
    """The benchmark's fleet, dated the day before the first cycle opens."""
    sys.path.insert(0, str(REPO))
    from tests.lab import catalog

    first_day = catalog.release_day_of(start_month) - datetime.timedelta(days=1)
    arc = {"os": "2025", "platform": "arc", "edition_id": "ServerDatacenter"}
    return {
        "date": f"{first_day.isoformat()}T02:00:00Z",
        "timing": {"scale": scale},
        "windows_update": {
            "dotnet": {"months": [1, 4, 7, 10], "extra": ["2026-06"]},
            "releases": [
                {"os": "2025", "month": "2026-08", "kind": "baseline", "unplanned": True},
                {"os": "2022", "month": "2026-08", "kind": "baseline", "unplanned": True},
            ],
        },
        "hosts": {
            "az25-web1": {
                "os": "2025",
                "image": AE_IMAGE_2025,
                "vars": {"hotpatch_availability_group": "web"},
            },
            "az25-web2": {
                "os": "2025",
                "image": AE_IMAGE_2025,
                "security_agent": True,  # PendingFileRenameOperations again after every restart
                "vars": {"hotpatch_availability_group": "web"},
            },
            "az22-sql1": {
                "os": "2022",
                "image": AE_IMAGE_2022,
                "vars": {"hotpatch_availability_group": "sql"},
            },
            "az22-sql2": {
                "os": "2022",
                "image": AE_IMAGE_2022,
                "drivers": [{"title": "VMware, Inc. - Net - 1.9.2.0", "outage_seconds": 20}],
                "vars": {"hotpatch_availability_group": "sql"},
            },
            # what the inventory says about each machine is what its owner knows (design: host variables for
            # what a machine cannot see about itself); nobody knows in advance that a licence will lapse
            "arc25-lic": dict(
                arc,
                arc={"hotpatch_license": "enabled"},
                vars={"hotpatch_availability_group": "app", "hotpatch_arc_license": "enabled"},
            ),
            "arc25-lapse": dict(
                arc,
                arc={"hotpatch_license": "enabled", "hotpatch_license_expires": "2026-05-01T00:00:00Z"},
                vars={"hotpatch_availability_group": "app", "hotpatch_arc_license": "enabled"},
            ),
            "arc25-nolic": dict(
                arc,
                arc={"hotpatch_license": "disabled"},
                vars={"hotpatch_availability_group": "app", "hotpatch_arc_license": "disabled"},
            ),
            "hci25": {
                "os": "2025",
                "platform": "azure_local",
                "vars": {
                    "hotpatch_availability_group": "branch",
                    "hotpatch_platform": "azure_local",
                    "hotpatch_image": AE_IMAGE_2025,
                },
            },
            "az25-dc": {
                "os": "2025",
                "image": {
                    "publisher": "MicrosoftWindowsServer",
                    "offer": "WindowsServer",
                    "sku": "2025-Datacenter",
                },
                "vars": {"hotpatch_availability_group": "web"},
            },
            "dc19": {"os": "2019", "platform": "on_premises", "vars": {"hotpatch_availability_group": "dc"}},
            "dc16": {"os": "2016", "platform": "on_premises", "vars": {"hotpatch_availability_group": "dc"}},
        },
    }


def cycle_times(start_month: str, cycles: int, days_after: int = 2) -> list:
    from tests.lab import catalog

    times = []
    for index in range(cycles):
        month = catalog.add_months(start_month, index)
        day = catalog.release_day_of(month) + datetime.timedelta(days=days_after)
        times.append((month, datetime.datetime(day.year, day.month, day.day, 2, tzinfo=datetime.UTC)))
    return times


# ---------------------------------------------------------------------------------------------------- floor
def floor(fleet_data: dict, times: list) -> dict:
    """{host: {restarts, exposure_days, update_days}} of a perfect patcher, from the lab's own model (no
    WinRM): every cycle it installs each Critical/Security/Update Rollups update offered, restarting only when
    Windows needs it."""
    from tests.lab.fleet import load_fleet
    from tests.lab.windows import LabClock, SimHost

    loaded = load_fleet(fleet_data)
    clock = LabClock(loaded["date"], time.time(), scale=1e9)  # frozen: only advance_to moves it
    hosts = {name: SimHost(spec, clock, lambda *a, **k: None) for name, spec in loaded["hosts"].items()}
    result = {name: {"restarts": 0, "exposure_days": 0.0, "update_days": 0.0} for name in hosts}
    for _month, moment in times:
        clock.advance_to(moment)
        for name, host in hosts.items():
            restart = False
            spans = []
            for _round in range(3):  # what a restart makes applicable is installed in the same cycle
                offered = [u for u in host.offered_updates() if u["classification"] in REQUIRED]
                if not offered:
                    break
                for update in offered:
                    restart = host.install(update) or restart
                    if update["classification"] in SECURITY and update.get("released"):
                        released = datetime.datetime.fromisoformat(update["released"]).replace(
                            tzinfo=datetime.UTC
                        )
                        spans.append((moment - released).total_seconds() / 86400)
                if host.wu_reboot_required():
                    host.go_down()
                    host.come_up()
            result[name]["restarts"] += int(restart)
            result[name]["update_days"] += sum(spans)
            result[name]["exposure_days"] += max(spans, default=0.0)
    return result


# ---------------------------------------------------------------------------------------------------- runs
def ansible_env(state: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path()),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "true",
            "ANSIBLE_FORKS": "20",
            "ANSIBLE_HOST_KEY_CHECKING": "false",
            "ANSIBLE_NOCOLOR": "true",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_LOCAL_TEMP": str(state / "ansible-tmp"),
            "ANSIBLE_HOME": str(state / "ansible-home"),
        }
    )
    return env


def run_path(path: str, fleet_data: dict, times: list, work: Path, log) -> dict:
    """Runs one path through every cycle on its own lab; returns what the lab and the runs recorded."""
    from tests.lab import Lab

    state = work / path
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    cycles = []
    with Lab(fleet_data, state / "lab") as lab:
        for index, (month, moment) in enumerate(times, start=1):
            lab.advance(moment)
            start = lab.now()
            report = state / f"report-{index:02d}"
            if path == "collection":
                command = [
                    str(Path(sys.executable).parent / "ansible-playbook"),
                    "hotpatch.windows.patch",
                    "-i",
                    str(lab.inventory),
                    "-e",
                    f"hotpatch_report_dir={report}",
                ]
            else:
                command = [
                    str(Path(sys.executable).parent / "ansible-playbook"),
                    str(TODAY_PLAYBOOK),
                    "-i",
                    str(lab.inventory),
                ]
            began = time.monotonic()
            proc = subprocess.run(
                command, capture_output=True, text=True, env=ansible_env(state), cwd=state, timeout=3600
            )
            wall = time.monotonic() - began
            (state / f"run-{index:02d}.log").write_text(proc.stdout + proc.stderr)
            end = lab.now()
            stats = {}
            start_json = proc.stdout.find("{")
            if start_json >= 0:
                try:
                    stats = json.loads(proc.stdout[start_json:]).get("stats", {})
                except ValueError:
                    stats = {}
            hosts_state = lab.state()
            left = {
                name: [u for u in info["offered"] if u["classification"] in SECURITY]
                for name, info in hosts_state.items()
            }
            cycles.append(
                {
                    "month": month,
                    "rc": proc.returncode,
                    "wall": wall,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "span_hours": lab.ledger().between(start, end).span()["seconds"] / 3600,
                    "failed": sorted(
                        name for name, s in stats.items() if s.get("failures") or s.get("unreachable")
                    ),
                    "left": left,
                    "report": str(report) if path == "collection" else None,
                }
            )
            log(
                f"  {path:<10} {month}: rc {proc.returncode}, {wall:6.1f} s real, rollout "
                f"{cycles[-1]['span_hours']:5.2f} h lab, failed {cycles[-1]['failed'] or '-'}"
            )
        ledger = lab.ledger()
        final_now = lab.now()
        return {
            "cycles": cycles,
            "restarts": ledger.restarts(),
            "exposure": {
                host: [dict(item, kind=_kind_of(ledger, host, item["kb"])) for item in items]
                for host, items in ledger.exposure().items()
            },
            "installs": _installs_by_host(ledger),
            "downtime": ledger.downtime(),
            "end": final_now.isoformat(),
            "hosts": sorted(fleet_data["hosts"]),
        }


OS_KINDS = ("baseline", "hotpatch", "lcu", "oob", "oob_hotpatch", "preview")


def _family(kind: str) -> str:
    return "os" if kind in OS_KINDS else kind


def exposure_intervals(result: dict, host: str) -> list:
    """[(start, end)] for each security update the host was offered (installed, or left behind after a run
    and read from the lab): from its release to the first install of the same family (the OS's cumulative
    line, or .NET) released no earlier (cumulative updates fix what came before), or to the year's end."""
    seen = {}
    for item in result["exposure"].get(host, []):
        seen[item["kb"]] = (item["released"], item["kind"])
    for cycle in result["cycles"]:
        for update in cycle["left"].get(host, []):
            if update.get("released"):
                seen.setdefault(update["kb"], (update["released"], update["kind"]))
    installs = [
        (datetime.datetime.fromisoformat(i["time"].replace("Z", "+00:00")), i["released"], _family(i["kind"]))
        for i in result["installs"].get(host, [])
        if i["released"]
    ]
    end = datetime.datetime.fromisoformat(result["end"])
    intervals = []
    for released, kind in seen.values():
        start = datetime.datetime.fromisoformat(released).replace(tzinfo=datetime.UTC)
        fixed = [
            when
            for when, rel, family in installs
            if family == _family(kind) and rel >= released and when >= start
        ]
        intervals.append((start, min(fixed) if fixed else end))
    return intervals


def exposure(result: dict, host: str) -> tuple:
    """(days with at least one security update open, update-days: the sum over updates)."""
    intervals = sorted(exposure_intervals(result, host))
    update_days = sum((end - start).total_seconds() for start, end in intervals) / 86400
    union, current = 0.0, None
    for start, end in intervals:
        if current and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current:
            union += (current[1] - current[0]).total_seconds()
        current = (start, end)
    if current:
        union += (current[1] - current[0]).total_seconds()
    return union / 86400, update_days


def _installs_by_host(ledger) -> dict:
    found = {}
    for item in ledger.timed_installs():
        found.setdefault(item["host"], []).append(item)
    return found


def _kind_of(ledger, host: str, kb: str) -> str:
    for item in ledger.timed_installs():
        if item["host"] == host and item["kb"] == kb:
            return item["kind"]
    return "os"


def unreported(result: dict) -> list:
    """[(cycle, host, kb)] of security updates still offered after a collection run that the run's report for
    the host does not name."""
    missing = []
    for cycle in result["cycles"]:
        for host, updates in cycle["left"].items():
            if not updates:
                continue
            path = Path(cycle["report"]) / "hosts" / f"{host}.json"
            text = path.read_text() if path.exists() else ""
            for update in updates:
                if update["kb"] not in text:
                    missing.append((cycle["month"], host, update["kb"]))
    return missing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--start", default="2026-01", help="first cycle (YYYY-MM)")
    parser.add_argument("--scale", type=float, default=0.002, help="real seconds per lab second")
    parser.add_argument("--days-after", type=int, default=2, help="days after Patch Tuesday of each run")
    parser.add_argument("--only", choices=("collection", "today"))
    parser.add_argument("--workdir", default=str(REPO / "build" / "perf-year"))
    parser.add_argument("--from-results", help="print the figures of a saved results.json (no runs)")
    args = parser.parse_args(argv)
    collections = collections_path()
    if not (collections / "ansible_collections" / "hotpatch" / "windows").is_dir():
        sys.exit(f"bench: the collection is not installed under {collections}: run `make collection` first")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    print_machine()
    fleet_data = fleet(args.start, args.scale)
    times = cycle_times(args.start, args.cycles, args.days_after)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"year: {args.cycles} cycles from {args.start}, {len(fleet_data['hosts'])} hosts, scale {args.scale}"
    )
    paths = [args.only] if args.only else ["collection", "today"]
    if args.from_results:
        saved = json.loads(Path(args.from_results).read_text())
        results = saved["results"]
        paths = [p for p in ("collection", "today") if p in results]
    else:
        with concurrent.futures.ThreadPoolExecutor(len(paths)) as pool:
            futures = {p: pool.submit(run_path, p, fleet_data, times, work, print) for p in paths}
            results = {p: f.result() for p, f in futures.items()}
        (work / "results.json").write_text(
            json.dumps({"results": results}, indent=2, default=str)
        )  # early copy
    ideal = floor(fleet_data, times)
    enrolled = [h for h, s in fleet_data["hosts"].items() if _enrolled(s)]
    print()
    print("per host and year: restarts / days exposed (at least one security update open) / update-days (sum")
    print("over updates) / failed runs; floor: what a perfect patcher gets on the lab's own model")
    print(f"{'':<12} {'floor':^17} " + " ".join(f"{p:^24}" for p in paths))
    print(
        f"{'host':<12} {'rst':>3} {'exp d':>6} {'upd d':>6} "
        + " ".join(f"{'rst':>3} {'exp d':>6} {'upd d':>7} {'fail':>4}" for _ in paths)
    )
    for host in sorted(fleet_data["hosts"]):
        best = ideal[host]
        cells = [
            f"{host:<12}",
            f"{best['restarts']:>3} {best['exposure_days']:6.1f} {best['update_days']:6.1f}",
        ]
        for p in paths:
            result = results[p]
            failed = sum(1 for c in result["cycles"] if host in c["failed"])
            days, update_days = exposure(result, host)
            cells.append(f"{result['restarts'].get(host, 0):>3} {days:6.1f} {update_days:7.1f} {failed:>4}")
        print(" ".join(cells))
    for p in paths:
        bad = sum(1 for c in results[p]["cycles"] if c["rc"] != 0)
        print(f"{p}: {bad} of {len(times)} runs exited non-zero")
    print()
    print(
        "rollout length per cycle (lab hours from the first to the last host event of the run; the lab clock "
        f"runs {1 / args.scale:g} times faster than real time, so Ansible's own seconds count as much):"
    )
    for index, (month, _moment) in enumerate(times):
        cells = []
        for p in paths:
            cycle = results[p]["cycles"][index]
            cells.append(f"{p} {cycle['span_hours']:.2f} h ({cycle['wall']:.0f} s real)")
        print(f"  {month}: " + "  ".join(cells))
    ok = True
    if "collection" in results:
        result = results["collection"]
        above = {
            h: result["restarts"].get(h, 0)
            for h in fleet_data["hosts"]
            if result["restarts"].get(h, 0) > ideal[h]["restarts"]
        }
        ok &= verdict(
            "restarts per host-year at the floor",
            not above,
            f"above the floor: {above}" if above else "no host above the floor",
        )
        missing = unreported(result)
        ok &= verdict(
            "no security update left behind without a report line",
            not missing,
            f"{len(missing)} unreported, e.g. {missing[:5]}" if missing else "every one reported",
        )
        if "today" in results:
            today = results["today"]
            worse = {
                h: (result["restarts"].get(h, 0), today["restarts"].get(h, 0))
                for h in enrolled
                if result["restarts"].get(h, 0) >= today["restarts"].get(h, 0)
            }
            ok &= verdict(
                "fewer restarts than today's path on every enrolled host",
                not worse,
                f"not fewer (collection, today): {worse}" if worse else f"{len(enrolled)} enrolled hosts",
            )
    if "collection" in results and "today" in results:
        longer = {}
        for host in sorted(fleet_data["hosts"]):
            ours, theirs = exposure(results["collection"], host)[0], exposure(results["today"], host)[0]
            if ours > theirs + 0.5:
                longer[host] = (round(ours, 1), round(theirs, 1))
        print(
            f"INFO  days exposed: {len(longer)} host(s) longer exposed with the collection than today's path"
            + (f" (collection, today): {longer}" if longer else "")
        )
    if not args.from_results:
        (work / "results.json").write_text(
            json.dumps({"results": results, "floor": ideal}, indent=2, default=str)
        )
    print(f"load average now {load_average()}; details in {work}")
    return 0 if ok else 1


def _enrolled(spec: dict) -> bool:
    if spec.get("platform", "azure") in ("azure", "azure_local"):
        return (
            "azure-edition"
            in str((spec.get("image") or {}).get("sku", "2025-Datacenter-Azure-Edition")).lower()
        )
    return spec.get("platform") == "arc" and spec.get("arc", {}).get("hotpatch_license") == "enabled"


if __name__ == "__main__":
    sys.exit(main())
