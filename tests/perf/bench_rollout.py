"""Rollout at fleet scale: the collection's cost per wave against the path users take today, on one lab.

    python tests/perf/bench_rollout.py [--sizes 20,100,500] [--full] [--forks 50] [--scale 0.01] [--per-task]

For each size, a fleet of that many Windows Server 2025 Azure Edition hosts in ten availability groups, in the
April 2026 baseline month (every host is offered the cumulative update and restarts once), with the lab's
timing model (tests/lab, docs/lab.md: a cumulative update installs in 900 lab seconds, a host shuts down in 60
and boots in 180; `--scale` real seconds per lab second). Three runs on fresh labs of that fleet:

- collection: `ansible-playbook hotpatch.windows.patch -e patch_batch_size=25% -e patch_max_per_group=3`;
- assess: `ansible-playbook hotpatch.windows.assess` (what the rollout's assessment costs on its own);
- today: tests/perf/playbooks/today_patch.yml (`ansible.windows.win_updates`, `reboot: true`, `serial: 25%`);
- lockstep (with `--lockstep`): tests/perf/playbooks/lockstep_patch.yml, the assess and patch roles in one
  play, whose waves run in lock step (the mechanism the playbook does not use; docs/performance.md).

With --per-task, the controller CPU of every task of the collection's run, per host (main process and
worker processes; tests/perf/callback_plugins/task_cpu.py), largest first.

Measured: wall time, controller CPU (the ansible-playbook process and every fork it waited for, from the
kernel's rusage), tasks dispatched per host (the play recap), the span from the first restart to the last
(the lab's ledger), the most hosts down at once (ledger), restarts (ledger), and the floor: the number of
waves times one host's install and restart time from the lab's timing model (the time a rollout cannot beat
when each wave installs and restarts its hosts).

Targets (exit status 1 when one fails): controller CPU per host at most today's path plus the assessment, at
every size; wall time at most 1.2 x the floor at 100 and 500 hosts, and below today's path at every size;
500 hosts within 5.5 x the time of 100.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, collections_path, int_list, load_average, print_machine, verdict

PERF = Path(__file__).resolve().parent
TODAY = PERF / "playbooks" / "today_patch.yml"
LOCKSTEP = PERF / "playbooks" / "lockstep_patch.yml"
GROUPS = 10
BATCH = "25%"
MAX_PER_GROUP = 3
RECAP = re.compile(
    r"^(\S+)\s+: ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)",
    re.MULTILINE,
)
TIMING = {"install": {"lcu": 900}, "shutdown": 60, "boot": 180, "search": 60, "download": {"lcu": 300}}


def make_fleet(count: int, scale: float) -> dict:
    hosts = {
        f"web{index:04d}": {"os": "2025", "vars": {"hotpatch_availability_group": f"g{index % GROUPS:02d}"}}
        for index in range(count)
    }
    return {"date": "2026-04-16T02:00:00Z", "timing": dict(TIMING, scale=scale), "hosts": hosts}


def waves_needed(count: int) -> int:
    """The fewest waves the caps allow: 25% of the hosts a wave, at most 3 of each of the 10 groups."""
    size = max(1, count * 25 // 100)
    per_wave = min(size, GROUPS * MAX_PER_GROUP)
    return math.ceil(count / per_wave)


def run_playbook(args: list, inventory: Path, work: Path, forks: int, per_task: bool = False) -> dict:
    """Runs ansible-playbook; returns wall seconds, controller CPU seconds (rusage of the process tree it
    waited for) and the recap's task count per host."""
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_NOCOLOR="true",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
        ANSIBLE_DISPLAY_SKIPPED_HOSTS="true",
    )
    if per_task:
        env.update(
            ANSIBLE_CALLBACK_PLUGINS=str(PERF / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="task_cpu",
            HOTPATCH_TASK_CPU=str(work / "task_cpu.json"),
        )
    command = [str(Path(sys.executable).parent / "ansible-playbook"), *args, "-i", str(inventory)]
    started = time.monotonic()
    with (work / "out.txt").open("w") as out:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    text = (work / "out.txt").read_text(errors="replace")
    tasks = {m.group(1): sum(int(m.group(i)) for i in (2, 3, 4, 5, 6)) for m in RECAP.finditer(text)}
    tasks.pop("localhost", None)
    return {
        "rc": os.waitstatus_to_exitcode(status),
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "tasks": sum(tasks.values()) / max(1, len(tasks)),
        "skipped_lines": text.count("skipping:"),
        "per_task": json.loads((work / "task_cpu.json").read_text()) if per_task else None,
    }


def measure(kind: str, count: int, scale: float, forks: int, root: Path, per_task: bool = False) -> dict:
    from tests.lab import Lab

    work = root / f"{kind}-{count}"
    work.mkdir(parents=True)
    with Lab(make_fleet(count, scale), work / "lab") as lab:
        if kind in ("collection", "lockstep"):
            target = "hotpatch.windows.patch" if kind == "collection" else str(LOCKSTEP)
            args = [target, "-e", f"patch_batch_size={BATCH}"]
            args += [
                "-e",
                f"patch_max_per_group={MAX_PER_GROUP}",
                "-e",
                f"hotpatch_report_dir={work / 'report'}",
            ]
        elif kind == "assess":
            args = ["hotpatch.windows.assess", "-e", f"hotpatch_report_dir={work / 'report'}"]
        else:
            args = [str(TODAY)]
        result = run_playbook(args, lab.inventory, work, forks, per_task and kind == "collection")
        ledger = lab.ledger()
        events = ledger.events
        downs = [e["time"] for e in events if e["event"] == "restart_down"]
        ups = [e["time"] for e in events if e["event"] == "restart_up"]
    span = 0.0
    if downs and ups:
        from tests.lab.ledger import event_time

        first = min(event_time({"time": t}) for t in downs)
        last = max(event_time({"time": t}) for t in ups)
        span = (last - first).total_seconds() * scale  # lab seconds to real seconds
    restarts = ledger.restarts()
    result.update(
        span=span,
        max_down=ledger.max_down(),
        restarts=sum(restarts.values()),
        restarted_hosts=len(restarts),
    )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int_list, default=[20, 100, 500])
    parser.add_argument("--full", action="store_true", help="also 1,000 hosts")
    parser.add_argument(
        "--lockstep", action="store_true", help="also the roles in one play (waves in lock step)"
    )
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--scale", type=float, default=0.01, help="real seconds per lab second")
    parser.add_argument("--per-task", action="store_true", help="the collection's controller CPU per task")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    sizes = [*args.sizes, *([1000] if args.full and 1000 not in args.sizes else [])]
    print_machine()
    per_host_restart = (TIMING["install"]["lcu"] + TIMING["shutdown"] + TIMING["boot"]) * args.scale
    print(
        f"fleet: Windows Server 2025 Azure Edition, April 2026 baseline (every host restarts once), {GROUPS} "
        f"groups; patch_batch_size={BATCH}, patch_max_per_group={MAX_PER_GROUP}; forks {args.forks}; "
        f"lab scale {args.scale} (one host's install and restart: {per_host_restart:.1f} s)\n"
    )
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-rollout-") as tmp:
        for count in sizes:
            for kind in ("collection", "assess", "today", *(["lockstep"] if args.lockstep else [])):
                rows[(kind, count)] = measure(kind, count, args.scale, args.forks, Path(tmp), args.per_task)
                r = rows[(kind, count)]
                print(
                    f"  {count:>5} {kind:<10} rc {r['rc']} wall {r['wall']:7.1f} s  cpu {r['cpu']:7.1f} s  "
                    f"tasks/host {r['tasks']:5.1f}  restarts {r['restarts']:>4}  span {r['span']:6.1f} s  "
                    f"max down {r['max_down']:>3}  (load {load_average()})",
                    flush=True,
                )
    if args.per_task:
        for count in sizes:
            print(
                f"\ncollection, {count} hosts: controller CPU per task, ms per host (main process + workers)"
            )
            tasks = rows[("collection", count)]["per_task"] or {}
            ranked = sorted(tasks.items(), key=lambda item: -(item[1]["main"] + item[1]["workers"]))
            for name, row in ranked:
                cost = (row["main"] + row["workers"]) * 1000 / count
                main_ms, workers_ms = row["main"] * 1000 / count, row["workers"] * 1000 / count
                if cost >= 1:
                    print(f"  {cost:7.1f}  ({main_ms:6.1f} + {workers_ms:6.1f})  {name}")
    header = (
        "| hosts | floor s | collection wall s | today wall s | collection CPU s/host | today CPU s/host | "
        "assess CPU s/host | tasks/host (coll./today) | restart span s (coll./today) | "
        "most down (coll./today) |"
    )
    print("\n" + header)
    print("|" + "---:|" * (header.count("|") - 1))
    ok = True
    for count in sizes:
        col, today, assess = rows[("collection", count)], rows[("today", count)], rows[("assess", count)]
        floor = waves_needed(count) * per_host_restart
        print(
            f"| {count} | {floor:.1f} | {col['wall']:.1f} | {today['wall']:.1f} | {col['cpu'] / count:.3f} | "
            f"{today['cpu'] / count:.3f} | {assess['cpu'] / count:.3f} | "
            f"{col['tasks']:.1f} / {today['tasks']:.1f} | "
            f"{col['span']:.1f} / {today['span']:.1f} | {col['max_down']} / {today['max_down']} |"
        )
    print()
    for count in sizes:
        col, today, assess = rows[("collection", count)], rows[("today", count)], rows[("assess", count)]
        ok &= verdict(
            f"{count} hosts: every run succeeded and restarted every host once",
            col["rc"] == 0 and today["rc"] == 0 and col["restarted_hosts"] == count == col["restarts"],
            f"collection rc {col['rc']} restarts {col['restarts']}, today rc {today['rc']}",
        )
        ok &= verdict(
            f"{count} hosts: controller CPU per host at most today's plus the assessment",
            col["cpu"] <= today["cpu"] + assess["cpu"],
            f"{col['cpu'] / count:.3f} <= {today['cpu'] / count:.3f} + {assess['cpu'] / count:.3f} s/host",
        )
        ok &= verdict(
            f"{count} hosts: wall time below today's path",
            col["wall"] < today["wall"],
            f"{col['wall']:.1f} s against {today['wall']:.1f} s",
        )
        if count in (100, 500):
            floor = waves_needed(count) * per_host_restart
            ok &= verdict(
                f"{count} hosts: wall time at most 1.2 x the floor",
                col["wall"] <= 1.2 * floor,
                f"{col['wall']:.1f} s against 1.2 x {floor:.1f} s",
            )
    if 100 in sizes and 500 in sizes:
        ratio = rows[("collection", 500)]["wall"] / rows[("collection", 100)]["wall"]
        ok &= verdict("500 hosts within 5.5 x the time of 100", ratio <= 5.5, f"{ratio:.2f} x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
