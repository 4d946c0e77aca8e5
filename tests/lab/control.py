"""Start and stop a lab (the server runs in its own process) and the `Lab` context manager for tests."""

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .fleet import FleetError, load_fleet, parse_time
from .ledger import Ledger

PACKAGE = __package__  # tests.lab in this repository, hotpatch_lab when installed as a package
# the directory from which `python -m PACKAGE` imports the lab
IMPORT_ROOT = Path(__file__).resolve().parents[len(PACKAGE.split("."))]
REPO = IMPORT_ROOT
START_TIMEOUT = 60


class LabError(Exception):
    """The lab could not start or stop; the message says why."""


def _fleet_file(fleet, state_dir: Path) -> Path:
    """The fleet as a file the server process can read (a dict is written to DIR/fleet.yml)."""
    if isinstance(fleet, str | Path):
        return Path(fleet).resolve()
    path = state_dir / "fleet.yml"
    path.write_text(yaml.safe_dump(fleet, sort_keys=False))
    return path


def start(fleet, state_dir, https: bool = False, password=None, watch_pid=None) -> dict:
    """Start the fleet in the background; returns once every host listens. Returns lab.json's content.
    With `watch_pid` the lab also stops by itself when that process is gone (a killed test run)."""
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    if (state_dir / "lab.json").exists() and _alive(state_dir):
        raise LabError(f"a lab is already running in {state_dir}: stop it first")
    for stale in ("ready", "lab.json", "inventory.yml", "ledger.jsonl", "counters.json", "lab.pid"):
        (state_dir / stale).unlink(missing_ok=True)
    fleet_path = _fleet_file(fleet, state_dir)
    load_fleet(fleet_path)  # raises FleetError with a clear message before anything starts
    command = [
        sys.executable,
        "-m",
        PACKAGE,
        "serve",
        "--fleet",
        str(fleet_path),
        "--state",
        str(state_dir),
    ]
    if https:
        command.append("--https")
    if password:
        command += ["--password", password]
    if watch_pid:
        command += ["--watch-pid", str(watch_pid)]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(IMPORT_ROOT), os.environ.get("PYTHONPATH")]))
    )
    log = (state_dir / "lab.log").open("a")
    process = subprocess.Popen(
        command,
        cwd=state_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    (state_dir / "lab.pid").write_text(str(process.pid))
    deadline = time.monotonic() + START_TIMEOUT
    while not (state_dir / "ready").exists():
        if process.poll() is not None:
            tail = (state_dir / "lab.log").read_text()[-2000:]
            raise LabError(f"the lab server exited with code {process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            process.kill()
            raise LabError(f"the lab did not start within {START_TIMEOUT}s (see {state_dir / 'lab.log'})")
        time.sleep(0.05)
    return json.loads((state_dir / "lab.json").read_text())


def _pid(state_dir: Path):
    try:
        return int((Path(state_dir) / "lab.pid").read_text())
    except (OSError, ValueError):
        return None


def _alive(state_dir: Path) -> bool:
    pid = _pid(state_dir)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop(state_dir) -> bool:
    """Stop the lab of state_dir; returns whether one was running."""
    state_dir = Path(state_dir).resolve()
    pid = _pid(state_dir)
    if pid is None or not _alive(state_dir):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = 0 if _alive(state_dir) else pid
        if finished == pid or not _alive(state_dir):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    (state_dir / "ready").unlink(missing_ok=True)
    return True


def control_request(state_dir, request: dict, timeout: float = 30.0) -> dict:
    """Sends one request to the running lab of `state_dir` over its loopback control channel."""
    try:
        info = json.loads((Path(state_dir) / "lab.json").read_text())
    except (OSError, ValueError):
        raise LabError(f"no lab is running in {state_dir}") from None
    try:
        with socket.create_connection(("127.0.0.1", info["control_port"]), timeout=timeout) as sock:
            sock.sendall((json.dumps(request) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise LabError(f"the lab in {state_dir} does not answer: {exc}") from None
    answer = json.loads(data or b"{}")
    if "error" in answer:
        raise LabError(answer["error"])
    return answer


def advance(state_dir, to=None, patch_tuesday: bool = False, after=datetime.timedelta()) -> datetime.datetime:
    """Moves the lab clock forward: to `to` (a datetime or ISO 8601 text), or to the next Patch Tuesday
    (00:00 UTC of the second Tuesday, when the lab's release cycle opens) plus `after`. Returns the new
    time."""
    from .catalog import next_patch_tuesday

    if (to is None) == (not patch_tuesday):
        raise LabError("advance: give either a time or patch_tuesday=True")
    if patch_tuesday:
        now = parse_time(control_request(state_dir, {"op": "now"})["now"], "lab now")
        day = next_patch_tuesday(now)
        target = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC) + after
    else:
        target = parse_time(to, "advance to") if not isinstance(to, datetime.datetime) else to
        if target.tzinfo is None:
            target = target.replace(tzinfo=datetime.UTC)
    answer = control_request(state_dir, {"op": "advance", "to": target.isoformat()})
    return parse_time(answer["now"], "lab now")


class Lab:
    """`with Lab(fleet, state_dir) as lab:` runs a fleet for the block; `fleet` is a path or a dict."""

    def __init__(self, fleet, state_dir, https: bool = False, password=None):
        self.fleet = fleet
        self.state_dir = Path(state_dir).resolve()
        self.https = https
        self.password = password
        self.info = None

    def __enter__(self):
        self.info = start(self.fleet, self.state_dir, self.https, self.password, watch_pid=os.getpid())
        return self

    def __exit__(self, *exc):
        stop(self.state_dir)
        return False

    @property
    def inventory(self) -> Path:
        return self.state_dir / "inventory.yml"

    def ports(self) -> dict:
        return {name: entry["port"] for name, entry in self.info["hosts"].items()}

    def ledger(self) -> Ledger:
        return Ledger(self.state_dir)

    def now(self) -> datetime.datetime:
        """The lab clock."""
        return parse_time(control_request(self.state_dir, {"op": "now"})["now"], "lab now")

    def advance(self, to=None, patch_tuesday: bool = False, after=datetime.timedelta()) -> datetime.datetime:
        """`lab.advance("2026-03-12T02:00:00Z")`, `lab.advance(patch_tuesday=True, after=timedelta(days=2))`:
        moves the lab clock forward (never back); each host's offers follow. Restarts under way keep their
        own boot time. Returns the new lab time."""
        return advance(self.state_dir, to, patch_tuesday, after)

    def state(self, *hosts) -> dict:
        """{host: what the lab knows about it}: build, line, eligibility, installed KBs, pending restarts and
        what Windows Update offers it now (the lab's own view, not read over WinRM)."""
        return control_request(self.state_dir, {"op": "state", "hosts": list(hosts) or None})["hosts"]


__all__ = ["FleetError", "Lab", "LabError", "advance", "control_request", "start", "stop"]
