"""Helpers of the fault suite: run a playbook of the installed collection against a lab and read what it left
(the report's host records, fleet.json, the lab ledger)."""

import csv
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.lab import Lab

FLEETS = Path(__file__).resolve().parent / "fleets"
BIN = Path(sys.executable).parent
PLAYBOOK_TIMEOUT = 600
PARALLEL_SCENARIOS = 4  # lab runs at once: they mostly wait on the simulated hosts, so this saves minutes
SCENARIOS: dict = {}  # name -> (start order, function(work directory) -> result), from the test modules


def wait_until(predicate, timeout: float) -> bool:
    """Whether ``predicate()`` became true within ``timeout`` seconds (asked every 0.2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def ansible_env(work: Path, **extra) -> dict:
    """The environment of a run: the installed collection, no colour, temp and log files under `work`."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_NOCOLOR="true",
        ANSIBLE_FORCE_COLOR="false",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_DEPRECATION_WARNINGS="false",
        ANSIBLE_FORKS="20",
        ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
        ANSIBLE_HOME=str(work / "ansible-home"),
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def run_playbook(playbook: str, inventory: Path, work: Path, extra_vars: dict, *args, **env):
    """ansible-playbook `playbook` (e.g. hotpatch.windows.patch); stdout+stderr also go to work/<name>.out."""
    work.mkdir(parents=True, exist_ok=True)
    vars_file = work / f"{playbook.rsplit('.', 1)[-1]}-vars.yml"
    vars_file.write_text(yaml.safe_dump(extra_vars))
    command = [str(BIN / "ansible-playbook"), playbook, "-i", str(inventory), "-e", f"@{vars_file}", *args]
    proc = subprocess.run(
        command,
        cwd=work,
        env=ansible_env(work, **env),
        capture_output=True,
        text=True,
        timeout=PLAYBOOK_TIMEOUT,
        check=False,
    )
    (work / f"{playbook.rsplit('.', 1)[-1]}.out").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    return proc


@dataclass
class Run:
    """What one lab run left behind."""

    proc: subprocess.CompletedProcess
    ledger_events: list
    restarts: dict
    installs: dict
    max_down: int
    max_down_per_group: dict
    records: dict  # host -> report record (hosts/<host>.json)
    fleet: dict  # fleet.json
    csv_rows: list
    hosts: list  # the lab's host names
    output: str

    def events(self, host: str, event: str) -> list:
        return [e for e in self.ledger_events if e["host"] == host and e["event"] == event]


def read_records(report_dir: Path) -> dict:
    return {path.stem: json.loads(path.read_text()) for path in sorted((report_dir / "hosts").glob("*.json"))}


def patch_run(fleet, work: Path, extra_vars=None, https: bool = False, password=None, args=()) -> Run:
    """Starts the lab of `fleet`, runs hotpatch.windows.patch on it with the report under work/report."""
    report_dir = work / "report"
    variables = {"hotpatch_report_dir": str(report_dir)}
    variables.update(extra_vars or {})
    with Lab(fleet, work / "lab", https=https, password=password) as lab:
        proc = run_playbook("hotpatch.windows.patch", lab.inventory, work, variables, *args)
        ledger = lab.ledger()
        hosts = sorted(lab.ports())
    run_dir = report_dir / "latest"  # the run's own folder (docs/report.md)
    fleet_json = run_dir / "fleet.json"
    csv_path = run_dir / "fleet.csv"
    rows = []
    if csv_path.exists():
        with csv_path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    return Run(
        proc=proc,
        ledger_events=ledger.events,
        restarts=ledger.restarts(),
        installs=ledger.installs(),
        max_down=ledger.max_down(),
        max_down_per_group=ledger.max_down_per_group(),
        records=read_records(run_dir) if run_dir.exists() else {},
        fleet=json.loads(fleet_json.read_text()) if fleet_json.exists() else {},
        csv_rows=rows,
        hosts=hosts,
        output=proc.stdout + proc.stderr,
    )


def run_restarting_a_host(lab, work: Path, playbook: str, extra: list, victim: str, job_started) -> dict:
    """Runs `playbook` on `lab` and, once `job_started(ledger events)` is true, restarts `victim` from a
    second, ad-hoc ansible.windows.win_reboot, as an admin or another tool would. Returns whether the job
    was seen (`started`), the ad-hoc run (`reboot`, None when the job was never seen), the playbook's `rc`
    and `output`, and the ledger's `events` and `restarts`."""
    command = [str(BIN / "ansible-playbook"), playbook, "-i", str(lab.inventory), *extra]
    with (work / "playbook.out").open("w") as out:
        env = ansible_env(work)
        process = subprocess.Popen(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            started = wait_until(lambda: bool(job_started(lab.ledger().events)), 120)
            reboot = None
            if started:
                adhoc = [
                    str(BIN / "ansible"),
                    victim,
                    "-i",
                    str(lab.inventory),
                    "-m",
                    "ansible.windows.win_reboot",
                ]
                reboot = subprocess.run(
                    adhoc,
                    cwd=work,
                    # the restart-safety audit records this win_reboot as the test's own (not a role's)
                    env=ansible_env(work / "adhoc", ANSIBLE_LOAD_CALLBACK_PLUGINS="true"),
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
            process.wait(PLAYBOOK_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)
    ledger = lab.ledger()
    return {
        "started": started,
        "reboot": reboot,
        "rc": process.returncode,
        "output": (work / "playbook.out").read_text(),
        "events": ledger.events,
        "restarts": ledger.restarts(),
        "installs": ledger.installs(),
    }


def play_ran_tasks(output: str, play: str) -> bool:
    """Whether the play named `play` ran any task (a play that matched no host prints no TASK line)."""
    body = output.split(f"PLAY [{play}]", 1)[1]
    return "TASK [" in body.split("\nPLAY [", 1)[0]


def scenario(name: str, order: int = 50):
    """Registers `function(work: Path)` as the lab scenario `name` (run once per session by ScenarioPool);
    the longest scenarios get a low `order` so that they start first."""

    def register(function):
        SCENARIOS[name] = (order, function)
        return function

    return register


class ScenarioPool:
    """Runs the registered lab scenarios in background threads; `get(name)` waits for one and returns its
    result (or raises what it raised). `start(modules)` starts the scenarios of the selected test modules at
    once, so that a serial pytest run waits for the slowest scenario rather than for their sum."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.executor = ThreadPoolExecutor(max_workers=PARALLEL_SCENARIOS, thread_name_prefix="lab-scenario")
        self.futures: dict = {}

    def _submit(self, name: str):
        if name not in self.futures:
            work = self.tmp_path_factory.mktemp(name)
            self.futures[name] = self.executor.submit(SCENARIOS[name][1], work)
        return self.futures[name]

    def start(self, modules) -> None:
        """Starts at once every scenario registered by one of `modules` (module names), longest first."""
        names = [name for name, (_, function) in SCENARIOS.items() if function.__module__ in set(modules)]
        for name in sorted(names, key=lambda key: (SCENARIOS[key][0], key)):
            self._submit(name)

    def get(self, name: str):
        return self._submit(name).result()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
