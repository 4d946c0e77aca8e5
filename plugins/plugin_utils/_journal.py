# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run journal: one folder per run under the report directory, an append-only ``journal.jsonl`` in it.

FOR INTERNAL COLLECTION USE ONLY: the interfaces here are meant for this collection's own plugins (the
``hotpatch.windows.journal`` action plugin, the report renderer and the watcher). They may change in any
release, even a bugfix release.

A run folder is named by its start time (UTC) and a short random id (``20261125T231500Z-3f2a``); the link
``latest`` beside it points to the newest run (replaced atomically). ``journal.jsonl`` holds one JSON object
per line, each with ``v`` (the journal format version), ``event`` (one of ``EVENTS``) and ``time`` (UTC,
ISO 8601). Lines are appended with ``O_APPEND`` under an exclusive ``flock`` (many forks append at once);
a line is complete or absent: a reader skips a line that does not parse (a writer killed mid-write), and a
writer that finds the file not ending in a newline starts its line on a fresh one.

A run without ``run_end`` is ``running`` while its controller process (``ansible-playbook``) lives, else
``interrupted``. The watcher (``_watcher.py``) started at ``run_start`` appends ``run_interrupted`` and
renders the report when the controller ends without ``run_end``; a later run marks the unfinished runs of
dead controllers the same way.

Every string written is passed through ``mask_secrets`` (credentials inside URLs become ``***``), and the
rollout settings of ``run_start`` through ``mask_settings`` (values of secret-looking keys become ``***``).
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

VERSION = 1
JOURNAL = "journal.jsonl"
LATEST = "latest"
LOCK = ".journal.lock"
EVENTS = (
    "run_start",
    "host",
    "restart_begin",
    "restart_end",
    "wave_start",
    "wave_end",
    "run_end",
    "run_interrupted",
)
HOST_STAGES = ("assess", "install", "wave", "final", "rollback", "enable")
RunState = Literal["running", "finished", "interrupted"]
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4,8}$")
MASK = "***"

# Credentials inside a URL: scheme://user:password@host, scheme://token@host. The user:password form may hold
# any character but whitespace and quotes in the password (an '@' or '/' a user did not escape too); the
# token form stops at the first '/', '?' or '#'. Over-masking a URL is preferred to leaking a secret.
_URL_USERPASS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^\s'\"<>/@:]*:[^\s'\"<>]*@")
_URL_TOKEN = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^\s'\"<>/?#@]+@")
_SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?$|^pass|secret|token|api[_-]?key|private[_-]?key|credential|auth(orization)?$"
    r"|auth[_-]?header|cookie|session[_-]?key",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------- events
class Controller(TypedDict, total=False):
    """The ``ansible-playbook`` process of a run: its pid and, where /proc exists, its start time (ticks) and
    the boot id of the machine it runs on (a process of another machine or boot is never taken as alive)."""

    pid: int
    start: int | None
    boot: str | None


class RunStart(TypedDict, total=False):
    v: int
    event: Literal["run_start"]
    time: str
    run: str  # the run id
    playbook: str | None
    check_mode: bool
    settings: dict[str, Any]  # the rollout settings, secrets masked
    controller: Controller
    hosts: list[str]
    catalog: dict[str, Any]  # freshness: {newest_month: {os: month}, sources: {...}, rows: [user rows]}
    watcher: int | None  # the watcher's pid


class HostEvent(TypedDict, total=False):
    v: int
    event: Literal["host"]
    time: str
    host: str
    stage: str  # assess | install | wave | final | rollback
    record: dict[str, Any]  # one complete host record (_report.host_record)


class RestartBegin(TypedDict, total=False):
    v: int
    event: Literal["restart_begin"]
    time: str
    host: str
    wave: int | None


class RestartEnd(TypedDict, total=False):
    v: int
    event: Literal["restart_end"]
    time: str
    host: str
    wave: int | None
    elapsed: float | None  # seconds, as the restart module measured them
    ok: bool


class WaveStart(TypedDict, total=False):
    v: int
    event: Literal["wave_start"]
    time: str
    wave: int
    hosts: list[str]
    held: list[str]


class WaveEnd(TypedDict, total=False):
    v: int
    event: Literal["wave_end"]
    time: str
    wave: int
    hosts: list[str]
    held: list[str]
    failed: list[str]
    stopped: bool
    message: str


class RunEnd(TypedDict, total=False):
    v: int
    event: Literal["run_end"]
    time: str
    state: Literal["finished"]
    summary: dict[str, Any]


class RunInterrupted(TypedDict, total=False):
    v: int
    event: Literal["run_interrupted"]
    time: str
    by: str  # 'watcher' or 'next run'
    message: str


# The fields each event takes besides v, event and time (what ``event_line`` keeps; the rest is dropped).
FIELDS: dict[str, tuple[str, ...]] = {
    "run_start": ("run", "playbook", "check_mode", "settings", "controller", "hosts", "catalog", "watcher"),
    "host": ("host", "stage", "record"),
    "restart_begin": ("host", "wave"),
    "restart_end": ("host", "wave", "elapsed", "ok"),
    "wave_start": ("wave", "hosts", "held"),
    "wave_end": ("wave", "hosts", "held", "failed", "stopped", "message"),
    "run_end": ("state", "summary"),
    "run_interrupted": ("by", "message"),
}


class JournalError(Exception):
    """A journal cannot be opened, written or read; the message says which and why."""


# ---------------------------------------------------------------------------------------------- secrets
def mask_url(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced: ``scheme://user:pass@host`` ->
    ``scheme://***@host``."""
    if "://" not in text or "@" not in text:
        return text
    text = _URL_USERPASS.sub(rf"\g<scheme>{MASK}@", text)
    return _URL_TOKEN.sub(rf"\g<scheme>{MASK}@", text)


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) with URL credentials masked in every string, keys included."""
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, Mapping):
        return {mask_url(str(key)): mask_secrets(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [mask_secrets(item) for item in value]
    return value


def is_secret_key(key: str) -> bool:
    """Whether a setting's name says it holds a secret (password, token, api_key, authorization ...)."""
    return bool(_SECRET_KEY.search(str(key)))


def mask_settings(value: Any) -> Any:
    """Settings as they may be written: values under secret-looking keys replaced by ``***`` (at any depth),
    URL credentials masked everywhere."""
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if is_secret_key(key) and item not in (None, "", [], {}):
                result[mask_url(str(key))] = MASK
            else:
                result[mask_url(str(key))] = mask_settings(item)
        return result
    if isinstance(value, (list, tuple)):
        return [mask_settings(item) for item in value]
    return mask_secrets(value)


# ---------------------------------------------------------------------------------------------- time
def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def timestamp(moment: datetime.datetime | None = None) -> str:
    """UTC ISO 8601 with milliseconds: ``2026-11-25T23:15:00.123Z``."""
    moment = (moment or utcnow()).astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: Any) -> datetime.datetime | None:
    """An aware datetime from an ISO 8601 text (``Z`` accepted), or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip()
    if value[-1] in "Zz":
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def new_run_id(moment: datetime.datetime | None = None) -> str:
    moment = (moment or utcnow()).astimezone(datetime.UTC)
    return f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


# ---------------------------------------------------------------------------------------------- processes
def process_start(pid: int) -> int | None:
    """The start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    try:
        # the command name (field 2) is in parentheses and may hold spaces: split after its last ')'
        fields = data[data.rindex(b")") + 2 :].split()
        return int(fields[19])
    except (ValueError, IndexError):
        return None


def boot_id() -> str | None:
    """This machine's boot id (Linux), or None."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def controller_of(pid: int | None = None) -> Controller:
    """The controller identity: ``pid`` (default: this process's parent, the ``ansible-playbook`` process
    that forked the worker running an action plugin) with its start time and the machine's boot id."""
    pid = os.getppid() if pid is None else int(pid)
    return {"pid": pid, "start": process_start(pid), "boot": boot_id()}


def is_alive(controller: Mapping[str, Any] | None) -> bool:
    """Whether the controller process still runs (same pid and, where known, same start time)."""
    if not isinstance(controller, Mapping) or not isinstance(controller.get("pid"), int):
        return False
    pid = controller["pid"]
    if pid <= 0:
        return False
    boot = controller.get("boot")
    if boot is not None and boot != boot_id():
        return False  # another machine (an execution node, a container host) or an earlier boot
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    start = controller.get("start")
    if start is not None:
        now = process_start(pid)
        if now is not None and now != start:
            return False  # the pid was reused by another process
        if now is None and os.path.isdir("/proc"):
            return False
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
        return data[data.rindex(b")") + 2 : data.rindex(b")") + 3] in (b"Z", b"X")
    except (OSError, ValueError):
        return False


def same_controller(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    if a.get("pid") != b.get("pid"):
        return False
    if a.get("boot") is not None and b.get("boot") is not None and a.get("boot") != b.get("boot"):
        return False
    return a.get("start") is None or b.get("start") is None or a.get("start") == b.get("start")


# ---------------------------------------------------------------------------------------------- lines
def _jsonable(value: Any) -> Any:
    """Plain JSON types from whatever Ansible hands over (tagged strings, tuples, sets, dates)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def event_line(event: str, data: Mapping[str, Any] | None = None, moment: datetime.datetime | None = None):
    """The JSON object of one journal line: known fields only, secrets masked."""
    if event not in FIELDS:
        raise JournalError(f"unknown journal event {event!r}: use one of {', '.join(EVENTS)}")
    data = data or {}
    line: dict[str, Any] = {"v": VERSION, "event": event, "time": data.get("time") or timestamp(moment)}
    for key in FIELDS[event]:
        if key in data:
            line[key] = data[key]
    if event == "run_start" and "settings" in line:
        line["settings"] = mask_settings(line["settings"])
    return mask_secrets(_jsonable(line))


def encode(line: Mapping[str, Any]) -> bytes:
    return (json.dumps(line, ensure_ascii=True, separators=(",", ":"), sort_keys=False) + "\n").encode()


def append(path: os.PathLike | str, lines: Iterable[Mapping[str, Any]], fsync: bool = False) -> int:
    """Append lines (already built with ``event_line``) in one write under an exclusive lock; returns the
    bytes written. A file not ending in a newline (a writer killed mid-line) gets one first, so the broken
    fragment stays a line of its own that readers skip."""
    payload = b"".join(encode(line) for line in lines)
    if not payload:
        return 0
    fd = os.open(os.fspath(path), os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                payload = b"\n" + payload
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if fsync:
                os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return len(payload)


@dataclass
class Journal:
    """What a journal file holds: its events in order, and how many lines were skipped (partial or bad)."""

    path: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0

    @property
    def start(self) -> dict[str, Any]:
        return next((e for e in self.events if e.get("event") == "run_start"), {})

    @property
    def end(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.events) if e.get("event") == "run_end"), None)

    @property
    def interrupted(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.events) if e.get("event") == "run_interrupted"), None)

    @property
    def run_id(self) -> str:
        return str(self.start.get("run") or self.path.parent.name)

    def state(self, alive: bool | None = None) -> RunState:
        """finished (run_end), interrupted (run_interrupted, or no run_end and the controller gone), or
        running. ``alive`` overrides the controller check (tests, renders that know)."""
        if self.end is not None:
            return "finished"
        if self.interrupted is not None:
            return "interrupted"
        if alive is None:
            alive = is_alive(self.start.get("controller"))
        return "running" if alive else "interrupted"


def read(path: os.PathLike | str) -> Journal:
    """The events of a journal; lines that do not parse as a JSON object with an event are skipped."""
    path = Path(path)
    journal = Journal(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return journal
    except OSError as exc:
        raise JournalError(f"cannot read the journal {path}: {exc.strerror or exc}") from None
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            journal.skipped += 1
            continue
        if not isinstance(line, dict) or line.get("event") not in FIELDS:
            journal.skipped += 1
            continue
        journal.events.append(line)
    return journal


def read_first(path: os.PathLike | str) -> dict[str, Any] | None:
    """The first line of a journal (its run_start), read without reading the whole file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.readline(1 << 20)
        line = json.loads(raw)
    except (OSError, ValueError):
        return None
    return line if isinstance(line, dict) else None


# ---------------------------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Run:
    """One run folder."""

    id: str
    dir: Path

    @property
    def journal(self) -> Path:
        return self.dir / JOURNAL

    @property
    def report_dir(self) -> Path:
        return self.dir.parent

    def fact(self, start: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What ``hotpatch_run`` holds: the run's id, folder, journal, controller and check mode."""
        start = start if start is not None else (read_first(self.journal) or {})
        return {
            "id": self.id,
            "dir": str(self.dir),
            "journal": str(self.journal),
            "report_dir": str(self.report_dir),
            "controller": start.get("controller"),
            "check_mode": bool(start.get("check_mode")),
            "started": start.get("time"),
        }


def report_root(path: os.PathLike | str | None) -> Path:
    """The report directory, absolute (``~`` expanded, symlinks resolved); default ``hotpatch-report``."""
    text = os.fspath(path) if path not in (None, "") else "hotpatch-report"
    return Path(os.path.realpath(os.path.expanduser(text)))


def run_dirs(root: os.PathLike | str) -> list[Path]:
    """The run folders under a report directory, oldest first."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    return sorted(
        (Path(entry.path) for entry in entries if RUN_ID_RE.match(entry.name) and entry.is_dir()),
        key=lambda path: path.name,
    )


def latest_run(root: os.PathLike | str) -> Run | None:
    """The run ``latest`` points to, else the newest run folder, else None."""
    root = Path(root)
    link = root / LATEST
    try:
        target = Path(os.path.realpath(link))
        if link.is_symlink() and target.is_dir() and (target / JOURNAL).exists():
            return Run(target.name, target)
    except OSError:
        pass
    dirs = run_dirs(root)
    return Run(dirs[-1].name, dirs[-1]) if dirs else None


def point_latest(root: Path, run: Run) -> None:
    """Make ``latest`` point to ``run`` (relative link; a temporary link renamed over the old one)."""
    temp = root / f".{LATEST}.{os.getpid()}.{secrets.token_hex(3)}"
    os.symlink(run.dir.name, temp)
    try:
        os.replace(temp, root / LATEST)
    except OSError:
        os.unlink(temp)
        raise


class _Lock:
    """An exclusive flock on the report directory's lock file (finding or creating a run)."""

    def __init__(self, root: Path):
        self.path = root / LOCK

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def find_run(root: os.PathLike | str, controller: Mapping[str, Any], limit: int = 100) -> Run | None:
    """The run of ``controller`` (this ansible-playbook process) under ``root``, newest first, or None."""
    for path in reversed(run_dirs(root)[-limit:]):
        first = read_first(path / JOURNAL)
        if (
            first
            and first.get("event") == "run_start"
            and same_controller(first.get("controller"), controller)
        ):
            return Run(path.name, path)
    return None


def run_of_fact(fact: Any, controller: Mapping[str, Any]) -> Run | None:
    """The run a ``hotpatch_run`` value names, if it belongs to ``controller`` and its folder exists (a fact
    cached by an earlier ansible-playbook process names another controller and is ignored)."""
    if not isinstance(fact, Mapping) or not fact.get("dir"):
        return None
    if not same_controller(fact.get("controller"), controller):
        return None
    path = Path(str(fact["dir"]))
    if not (path / JOURNAL).is_file():
        return None
    return Run(path.name, path)


def open_run(
    root: os.PathLike | str,
    controller: Mapping[str, Any],
    start: Mapping[str, Any] | None = None,
    moment: datetime.datetime | None = None,
) -> tuple[Run, bool]:
    """The run of ``controller`` under ``root``: the existing one, or a new one whose journal starts with
    ``run_start`` (``start``: its fields). Returns (run, created). Safe when many forks call it at once."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalError(f"cannot create the report directory {root}: {exc.strerror or exc}") from None
    with _Lock(root):
        found = find_run(root, controller)
        if found is not None:
            return found, False
        moment = moment or utcnow()
        for _attempt in range(20):
            run_id = new_run_id(moment)
            path = root / run_id
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - 20 random ids taken in one second
            raise JournalError(f"cannot create a run folder under {root}")
        run = Run(run_id, path)
        data = dict(start or {}, run=run_id, controller=dict(controller), time=timestamp(moment))
        append(run.journal, [event_line("run_start", data)], fsync=True)
        point_latest(root, run)
        return run, True


def unfinished_runs(root: os.PathLike | str, keep: Run | None = None, limit: int = 20) -> list[Run]:
    """Earlier runs under ``root`` without run_end or run_interrupted whose controller is gone."""
    found = []
    for path in run_dirs(root)[-limit:]:
        if keep is not None and path == keep.dir:
            continue
        journal = read(path / JOURNAL)
        if not journal.events or journal.end is not None or journal.interrupted is not None:
            continue
        if not is_alive(journal.start.get("controller")):
            found.append(Run(path.name, path))
    return found


def mark_interrupted(run: Run, by: str, message: str | None = None) -> bool:
    """Append ``run_interrupted`` unless the journal already ends the run; returns whether it did."""
    journal = read(run.journal)
    if journal.end is not None or journal.interrupted is not None:
        return False
    pid = (journal.start.get("controller") or {}).get("pid")
    text = message or (
        f"the controller process (ansible-playbook, pid {pid}) ended before the run finished: the report "
        "lists the hosts done so far"
    )
    append(run.journal, [event_line("run_interrupted", {"by": by, "message": text})], fsync=True)
    return True


# ---------------------------------------------------------------------------------------------- watcher
def collections_root() -> Path:
    """The directory holding ``ansible_collections`` that this file was loaded from."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if parent.name == "ansible_collections":
            return parent.parent
    raise JournalError(f"{here} is not inside an ansible_collections tree")


def start_watcher(run: Run, controller: Mapping[str, Any], python: str | None = None) -> int | None:
    """Start the detached watcher of a run (``_watcher.py``): it waits for the controller process to end
    and, if the journal has no run_end by then, appends run_interrupted and renders the report. Returns its
    pid, or None when it could not be started (the next run then marks an interrupted run)."""
    script = Path(__file__).with_name("_watcher.py")
    command = [
        python or sys.executable,
        str(script),
        "--run",
        str(run.dir),
        "--pid",
        str(controller["pid"]),
    ]
    if controller.get("start") is not None:
        command += ["--start", str(controller["start"])]
    env = dict(os.environ)
    try:
        root = str(collections_root())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    except JournalError:
        pass
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            cwd="/",
            env=env,
        )
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EACCES, errno.EAGAIN, errno.ENOMEM):
            return None
        raise
    return process.pid
