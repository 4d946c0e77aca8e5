"""Benchmark of the assessment: hotpatch.windows.assess against what users run today, on the same lab fleet.

    python tests/perf/bench_assess.py [--hosts 50,200] [--forks 50] [--with-search] [--lab-rounds 1]

For each fleet size N a lab of N simulated hosts (tests/lab) is started and, one after the other, runs:
  collection          ansible-playbook hotpatch.windows.assess -e assess_search_updates=false
  collection+search   the same with assess_search_updates=true (only with --with-search)
  today               tests/perf/playbooks/today_assess.yml: ansible.windows.setup,
                      ansible.windows.win_updates state=searched, ansible.windows.win_reg_stat for the
                      three pending-restart places
Each run reports wall time, hosts per second, controller CPU seconds per host (getrusage(RUSAGE_CHILDREN)
around ansible-playbook: the controller process and all its workers), and, from the lab's counters, WinRM
requests, command executions and bytes per host. The lab's own capacity is measured first with raw
pywinrm (bench_lab.py) and each run's request rate and the lab's busy share are printed beside it, so that a
figure is never the lab's limit passed off as the collection's. Ratios today/collection follow, then
PASS/FAIL per target of issue 7. Exit code 1 when a target fails or a run fails.
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, collections_path, int_list, load_average, print_machine, verdict

PERF = Path(__file__).resolve().parent
TODAY_PLAYBOOK = PERF / "playbooks" / "today_assess.yml"
ROLE_ONLY_PLAYBOOK = PERF / "playbooks" / "assess_role_only.yml"
RECAP = re.compile(r"^(\S+)\s+:\s+(.*)$")
LAB_BUSY_LIMIT = 0.8  # above this share of one core the lab, not the controller, may be what limits


def ansible_env(state: Path, forks: int) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path()),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "true",  # ansible.windows from the ansible package
            "ANSIBLE_FORKS": str(forks),
            "ANSIBLE_HOST_KEY_CHECKING": "false",
            "ANSIBLE_NOCOLOR": "true",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_LOCAL_TEMP": str(state / "ansible-tmp"),
            "ANSIBLE_HOME": str(state / "ansible-home"),
        }
    )
    return env


def recap(output: str) -> dict:
    """{host: {ok, changed, unreachable, failed, skipped, rescued, ignored}} from the PLAY RECAP."""
    hosts = {}
    text = output[output.rfind("PLAY RECAP") :]
    for line in text.splitlines()[1:]:
        match = RECAP.match(line.strip())
        if match:
            hosts[match.group(1)] = {
                key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(2))
            }
    return hosts


def own_cpu_seconds(pid: int, last: float) -> float:
    """CPU seconds a running process has used itself (not its workers), or `last` once it has gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return last
    return max(last, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))


TASK_TIME = re.compile(r"^(.*?) -{2,} (\d+\.\d+)s$")


def slowest_tasks(output: str, count: int = 6) -> list:
    """[(seconds, task)] of the slowest tasks in the profile_tasks recap."""
    text = output[output.rfind("TASKS RECAP") :] if "TASKS RECAP" in output else ""
    tasks = []
    for line in text.splitlines():
        match = TASK_TIME.match(line.strip())
        if match:
            tasks.append((float(match.group(2)), match.group(1).strip()))
    return sorted(tasks, reverse=True)[:count]


def run_playbook(label: str, arguments: list, lab, forks: int, log_dir: Path, profile: bool = False) -> dict:
    """Runs ansible-playbook against the lab; returns the run's figures (absolute, and per host)."""
    from bench_lab import lab_cpu_seconds, settled_counters, total_counters

    hosts = len(lab.info["hosts"])
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(lab.inventory), *arguments]
    host_before = lab.ledger().counters()
    before = total_counters(host_before)
    lab_cpu_before = lab_cpu_seconds(lab.state_dir)
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = log_dir / f"{re.sub(r'[^a-z0-9]+', '-', label)}-{hosts}.log"
    env = ansible_env(lab.state_dir, forks)
    if profile:
        env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
        env["PROFILE_TASKS_TASK_OUTPUT_LIMIT"] = "all"
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=lab.state_dir, env=env, stdout=output, stderr=subprocess.STDOUT, text=True
        )
        main_cpu = 0.0
        while process.poll() is None:
            main_cpu = own_cpu_seconds(process.pid, main_cpu)
            time.sleep(0.1)
    wall = time.perf_counter() - started
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lab_cpu = lab_cpu_seconds(lab.state_dir) - lab_cpu_before
    stdout = log.read_text()
    after = settled_counters(lab.ledger(), before["requests"] + 1)
    counters = {key: after[key] - before[key] for key in after}
    per_host = {
        host: {key: value - host_before.get(host, {}).get(key, 0) for key, value in row.items()}
        for host, row in lab.ledger().counters().items()
    }
    stats = recap(stdout)
    problems = [
        f"{host}: {', '.join(f'{key}={value}' for key, value in row.items() if value)}"
        for host, row in sorted(stats.items())
        if row.get("failed") or row.get("unreachable") or row.get("rescued")
    ]
    if process.returncode != 0 or len(stats) < hosts:
        problems.insert(
            0, f"ansible-playbook exited {process.returncode}, recap of {len(stats)}/{hosts} hosts"
        )
    cpu = (usage_after.ru_utime + usage_after.ru_stime) - (usage_before.ru_utime + usage_before.ru_stime)
    return {
        "label": label,
        "hosts": hosts,
        "wall": wall,
        "hosts_per_s": hosts / wall,
        "cpu_per_host": cpu / hosts,
        "main_cpu": main_cpu,
        "main_share": main_cpu / cpu if cpu else 0.0,
        "tasks": slowest_tasks(stdout) if profile else [],
        "requests_per_host": counters["requests"] / hosts,
        "commands_per_host": counters["commands"] / hosts,
        "bytes_per_host": (counters["bytes_in"] + counters["bytes_out"]) / hosts,
        "requests_per_s": counters["requests"] / wall,
        "lab_busy": lab_cpu / wall,
        "counters": counters,
        "per_host_counters": per_host,
        "problems": problems,
        "log": log,
    }


FIELDS = [
    ("wall", "wall s", "{:.1f}"),
    ("hosts_per_s", "hosts/s", "{:.2f}"),
    ("cpu_per_host", "ctl CPU s/host", "{:.3f}"),
    ("requests_per_host", "requests/host", "{:.1f}"),
    ("commands_per_host", "commands/host", "{:.2f}"),
    ("bytes_per_host", "KiB/host", "{:.1f}"),
    ("main_cpu", "main CPU s", "{:.1f}"),
    ("requests_per_s", "requests/s", "{:.0f}"),
    ("lab_busy", "lab busy", "{:.0%}"),
]


def print_table(runs: list):
    head = f"{'run':<20}{'hosts':>6}" + "".join(f"{title:>16}" for _, title, _ in FIELDS)
    print(head)
    for run in runs:
        cells = []
        for key, _, form in FIELDS:
            value = run[key] / 1024 if key == "bytes_per_host" else run[key]
            cells.append(f"{form.format(value):>16}")
        print(f"{run['label']:<20}{run['hosts']:>6}" + "".join(cells))


def print_ratios(today: dict, ours: dict):
    """today / collection for each figure (>1: the collection is cheaper; hosts/s: collection / today)."""
    parts = []
    for key, title, _ in FIELDS[:7]:
        if key == "hosts_per_s":
            ratio = ours[key] / today[key] if today[key] else float("inf")
        else:
            ratio = today[key] / ours[key] if ours[key] else float("inf")
        parts.append(f"{title} {ratio:.1f}x")
    print(f"ratio today / {ours['label']} ({ours['hosts']} hosts): " + ", ".join(parts))


def check_targets(by_size: dict) -> bool:
    results = []
    for size, runs in sorted(by_size.items()):
        ours, today = runs["collection"], runs["today"]
        commands = sorted({row.get("commands", 0) for row in ours["per_host_counters"].values()})
        results.append(
            verdict(
                f"one command execution per host, assess without the search ({size} hosts)",
                commands == [1] and len(ours["per_host_counters"]) == size,
                f"{ours['counters']['commands']} commands on {size} hosts; per host: "
                + ", ".join(str(value) for value in commands),
            )
        )
        ratio = today["requests_per_host"] / ours["requests_per_host"] if ours["requests_per_host"] else 0
        results.append(
            verdict(
                f">= 3x fewer WinRM requests per host than today's path ({size} hosts)",
                ratio >= 3,
                f"{today['requests_per_host']:.1f} / {ours['requests_per_host']:.1f} = {ratio:.1f}x",
            )
        )
        results.append(
            verdict(
                f"shorter wall time than today's path ({size} hosts)",
                ours["wall"] < today["wall"],
                f"{ours['wall']:.1f} s vs {today['wall']:.1f} s"
                f" (the assess role alone, without the report: {runs['assess role only']['wall']:.1f} s)",
            )
        )
        for run in runs.values():
            if run["problems"]:
                results.append(
                    verdict(
                        f"{run['label']} ran cleanly ({size} hosts)",
                        False,
                        "; ".join(run["problems"][:3]) + f" (log: {run['log'].name})",
                    )
                )
    sizes = sorted(by_size)
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        allowed = large / small
        ratio = by_size[large]["collection"]["wall"] / by_size[small]["collection"]["wall"]
        results.append(
            verdict(
                f"no worse than linear: wall time for {large} hosts <= {allowed:g}x the time for {small}",
                ratio <= allowed,
                f"{by_size[large]['collection']['wall']:.1f} s / {by_size[small]['collection']['wall']:.1f} s"
                f" = {ratio:.2f}x",
            )
        )
    for size, runs in sorted(by_size.items()):
        for run in runs.values():
            if run["lab_busy"] > LAB_BUSY_LIMIT:
                print(
                    f"WARNING  {run['label']} ({size} hosts): the lab server was busy "
                    f"{run['lab_busy']:.0%} of one core: this figure may be the lab's limit, "
                    "not the collection's"
                )
    return all(results)


def bench_size(
    size: int, forks: int, with_search: bool, lab_rounds: int, state_root: Path, profile: bool
) -> dict:
    from bench_fleet import write_fleet
    from bench_lab import measure
    from bench_lab import report as report_lab

    from tests.lab import Lab

    fleet = write_fleet(size, state_root)
    runs = {}
    print(f"\n== {size} hosts, forks {forks} (load average {load_average()})")
    with Lab(fleet, state_root / f"lab-{size}") as lab:
        if lab_rounds:
            report_lab(measure(lab, min(forks, 16), lab_rounds))
        report_dir = lab.state_dir / "report"
        plays = [
            ("collection", ["hotpatch.windows.assess", "-e", "assess_search_updates=false"]),
            ("assess role only", [str(ROLE_ONLY_PLAYBOOK), "-e", "assess_search_updates=false"]),
        ]
        if with_search:
            plays.append(
                ("collection+search", ["hotpatch.windows.assess", "-e", "assess_search_updates=true"])
            )
        plays.append(("today", [str(TODAY_PLAYBOOK)]))
        for label, arguments in plays:
            arguments = [*arguments, "-e", f"hotpatch_report_dir={report_dir}"]
            run = run_playbook(label, arguments, lab, forks, state_root, profile)
            runs[label] = run
            print(
                f"{label}: {run['wall']:.1f} s, {run['counters']['requests']} requests, "
                f"{run['counters']['commands']} commands; log {run['log'].name}"
            )
            for seconds, task in run["tasks"]:
                print(f"    {seconds:7.2f} s  {task}")
    table = [runs[label] for label, _ in plays]
    print_table(table)
    for label, _ in plays[:-1]:
        print_ratios(runs["today"], runs[label])
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int_list, default=[50, 200], help="fleet sizes (default 50,200)")
    parser.add_argument("--forks", type=int, default=50, help="ansible-playbook forks (default 50)")
    parser.add_argument(
        "--with-search", action="store_true", help="also run assess with assess_search_updates=true"
    )
    parser.add_argument(
        "--lab-rounds",
        type=int,
        default=1,
        help="raw pywinrm probe round trips per host measuring the lab's capacity first (0: skip)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="time each task with ansible.posix.profile_tasks and print the slowest per run",
    )
    parser.add_argument(
        "--state", default=str(REPO / "build" / "perf-bench"), help="directory for fleets, labs and logs"
    )
    args = parser.parse_args(argv)
    if args.forks < 1 or args.lab_rounds < 0:
        parser.error("--forks must be at least 1 and --lab-rounds at least 0")
    installed = collections_path() / "ansible_collections" / "hotpatch" / "windows"
    if not installed.is_dir():
        parser.exit(2, f"bench: the collection is not installed at {installed}: run `make collection`\n")
    sys.path.insert(0, str(REPO))
    state_root = Path(args.state).resolve()
    state_root.mkdir(parents=True, exist_ok=True)
    print_machine()
    by_size = {}
    for size in args.hosts:
        by_size[size] = bench_size(
            size, args.forks, args.with_search, args.lab_rounds, state_root, args.profile
        )
    print(f"\nload average after: {load_average()}")
    return 0 if check_targets(by_size) else 1


if __name__ == "__main__":
    sys.exit(main())
