"""The lab's own capacity: raw pywinrm round trips against the simulated fleet, without Ansible.

    python tests/perf/bench_lab.py [--hosts 200] [--workers 16] [--rounds 2]

Each round trip is what the collection's probe costs a host: open a shell, run one command with the probe
script on stdin, read its output, clean up, close the shell (six WinRM requests: Create, Command, Send,
Receive, Signal, Delete). --workers client processes run them over every host --rounds times. Reported:
round trips and requests per second, and the lab server's CPU seconds per request (its process's own CPU
time, which other work on the machine does not inflate). One core divided by that cost is the most the lab
can serve; bench_assess.py compares each run's request rate with it, so that no figure is the lab's limit
passed off as the collection's.
"""

import argparse
import base64
import concurrent.futures
import os
import resource
import sys
import time
from pathlib import Path

import yaml
from _common import REPO, load_average, print_machine

LAUNCHER = "$ErrorActionPreference = 'Stop'\n& ([ScriptBlock]::Create((@($input) -join \"`n\")))"
PROBE = REPO / "plugins" / "plugin_utils" / "hotpatch_probe.ps1"


def lab_cpu_seconds(state_dir: Path) -> float:
    """CPU seconds (user + system) the lab server process of `state_dir` has used so far."""
    pid = int((Path(state_dir) / "lab.pid").read_text())
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def total_counters(counters: dict) -> dict:
    total = {"requests": 0, "commands": 0, "bytes_in": 0, "bytes_out": 0}
    for values in counters.values():
        for key in total:
            total[key] += values.get(key, 0)
    return total


def settled_counters(ledger, expected_requests: int, timeout: float = 5.0) -> dict:
    """The lab's totals once its counters file (written twice a second) shows at least `expected_requests`."""
    deadline = time.monotonic() + timeout
    total = total_counters(ledger.counters())
    while total["requests"] < expected_requests and time.monotonic() < deadline:
        time.sleep(0.2)
        total = total_counters(ledger.counters())
    time.sleep(0.6)  # one more write, for requests still on their way when the client finished
    return total_counters(ledger.counters())


def endpoints(inventory: Path) -> list:
    """[(host, endpoint, user, password)] from a lab's inventory.yml."""
    hosts = yaml.safe_load(inventory.read_text())["all"]["children"]["windows"]["hosts"]
    return [
        (
            name,
            f"{entry['ansible_winrm_scheme']}://{entry['ansible_host']}:{entry['ansible_port']}/wsman",
            entry["ansible_user"],
            entry["ansible_password"],
        )
        for name, entry in hosts.items()
    ]


def probe_round_trip(target) -> int:
    """One probe round trip on one host, as pywinrm does it; returns the bytes of stdout received."""
    from winrm.protocol import Protocol

    _name, endpoint, user, password = target
    protocol = Protocol(
        endpoint=endpoint,
        transport="basic",
        username=user,
        password=password,
        server_cert_validation="ignore",
    )
    encoded = base64.b64encode(LAUNCHER.encode("utf-16-le")).decode("ascii")
    shell = protocol.open_shell()
    try:
        command = protocol.run_command(
            shell,
            "powershell.exe",
            ["-NoProfile", "-NonInteractive", "-EncodedCommand", encoded],
            console_mode_stdin=False,
        )
        protocol.send_command_input(shell, command, PROBE.read_bytes(), end=True)
        stdout, stderr, rc = protocol.get_command_output(shell, command)
        protocol.cleanup_command(shell, command)
    finally:
        protocol.close_shell(shell)
    if rc != 0 or not stdout.strip().startswith(b"{"):
        raise RuntimeError(f"{target[0]}: the probe failed (rc {rc}): {stderr[:200]!r}")
    return len(stdout)


def _warm(_index) -> int:
    import winrm.protocol  # noqa: F401  (the import is what a worker pays once)

    return os.getpid()


def measure(lab, workers: int, rounds: int) -> dict:
    """Round trips over every host of a running `lab`, `rounds` times, from `workers` processes (started
    and warmed up before the clock starts)."""
    targets = endpoints(lab.inventory) * rounds
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers)
    list(pool.map(_warm, range(workers * 4)))
    before = total_counters(lab.ledger().counters())
    cpu_before = lab_cpu_seconds(lab.state_dir)
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with pool:
        received = sum(pool.map(probe_round_trip, targets, chunksize=4))
        wall = time.perf_counter() - started
    lab_cpu = lab_cpu_seconds(lab.state_dir) - cpu_before
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = settled_counters(lab.ledger(), before["requests"] + 6 * len(targets))
    requests = after["requests"] - before["requests"]
    return {
        "round_trips": len(targets),
        "requests": requests,
        "commands": after["commands"] - before["commands"],
        "stdout_bytes": received,
        "wall": wall,
        "lab_cpu": lab_cpu,
        "client_cpu": (client_after.ru_utime + client_after.ru_stime)
        - (client_before.ru_utime + client_before.ru_stime),
        "round_trips_per_s": len(targets) / wall,
        "requests_per_s": requests / wall,
        "lab_cpu_per_request_ms": lab_cpu / requests * 1000 if requests else None,
        "lab_capacity_requests_per_s": requests / lab_cpu if lab_cpu else None,
        "lab_busy": lab_cpu / wall,
    }


def report(figures: dict):
    print(
        f"lab capacity: {figures['round_trips']} probe round trips ({figures['requests']} WinRM requests, "
        f"{figures['commands']} commands) in {figures['wall']:.1f} s: "
        f"{figures['round_trips_per_s']:.1f} round trips/s, {figures['requests_per_s']:.0f} requests/s"
    )
    print(
        f"lab server: {_num(figures['lab_cpu'], '.1f')} CPU s, "
        f"{_num(figures['lab_cpu_per_request_ms'], '.2f')} CPU ms per request, "
        f"busy {_num(figures['lab_busy'], '.0%')} of one core; "
        f"at most ~{_num(figures['lab_capacity_requests_per_s'], '.0f')} "
        f"requests/s on one core; pywinrm clients {_num(figures['client_cpu'], '.1f')} CPU s"
    )


def _num(value, spec: str) -> str:
    """A figure, or 'n/a' when a run was too short to measure it (no lab CPU time counted)."""
    return "n/a" if value is None else format(value, spec)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=200, help="hosts in the lab fleet (default 200)")
    parser.add_argument("--workers", type=int, default=16, help="client processes (default 16)")
    parser.add_argument("--rounds", type=int, default=2, help="round trips per host (default 2)")
    parser.add_argument("--state", default=str(REPO / "build" / "perf-bench"), help="lab state directory")
    args = parser.parse_args(argv)
    if min(args.hosts, args.workers, args.rounds) < 1:
        parser.error("--hosts, --workers and --rounds must be at least 1")
    sys.path.insert(0, str(REPO))
    from bench_fleet import write_fleet

    from tests.lab import Lab

    print_machine()
    state = Path(args.state) / f"lab-{args.hosts}"
    fleet = write_fleet(args.hosts, Path(args.state))
    with Lab(fleet, state) as lab:
        report(measure(lab, args.workers, args.rounds))
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
