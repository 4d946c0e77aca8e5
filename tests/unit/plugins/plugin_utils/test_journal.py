"""The run journal (plugins/plugin_utils/_journal.py) and its watcher (_watcher.py); cases/journal.yml."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _journal
from ansible_collections.hotpatch.windows.plugins.plugin_utils._journal import (
    JOURNAL,
    LATEST,
    Run,
    append,
    event_line,
    open_run,
    read,
)

CASES = load("journal")


@pytest.mark.parametrize("case", params(CASES["mask_url"]))
def test_mask_url(case):
    assert _journal.mask_url(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", params(CASES["mask_settings"]))
def test_mask_settings(case):
    assert _journal.mask_settings(case["settings"]) == case["expected"]


def test_every_string_of_a_line_is_masked():
    line = event_line(
        "host",
        {
            "host": "web01",
            "stage": "final",
            "record": {"message": "https://u:p@h/x", "list": ["ftp://a:b@c/"]},
        },
    )
    text = json.dumps(line)
    assert "u:p@" not in text and "a:b@" not in text
    assert line["record"]["message"] == "https://***@h/x"


def test_event_line_has_version_event_time_and_known_fields_only():
    line = event_line(
        "restart_end", {"host": "web01", "wave": 2, "elapsed": 3.5, "ok": True, "extra": "dropped"}
    )
    assert line["v"] == _journal.VERSION
    assert (line["event"], line["host"], line["wave"], line["elapsed"], line["ok"]) == (
        "restart_end",
        "web01",
        2,
        3.5,
        True,
    )
    assert "extra" not in line
    assert _journal.parse_time(line["time"]) is not None and line["time"].endswith("Z")
    assert set(_journal.FIELDS) == set(_journal.EVENTS)


def test_unknown_event_is_refused():
    with pytest.raises(_journal.JournalError, match="unknown journal event 'reboot'"):
        event_line("reboot", {})


def test_append_and_read_back(tmp_path):
    path = tmp_path / JOURNAL
    append(path, [event_line("wave_start", {"wave": 1, "hosts": ["a"], "held": []})])
    append(path, [event_line("wave_end", {"wave": 1, "failed": [], "stopped": False, "message": "done"})])
    journal = read(path)
    assert [e["event"] for e in journal.events] == ["wave_start", "wave_end"]
    assert journal.skipped == 0
    assert path.read_bytes().endswith(b"\n")


def test_a_partial_last_line_is_skipped_and_the_next_append_starts_a_new_line(tmp_path):
    path = tmp_path / JOURNAL
    append(path, [event_line("wave_start", {"wave": 1})])
    with path.open("ab") as handle:  # a writer killed in the middle of its line
        handle.write(b'{"v":1,"event":"host","host":"web0')
    assert [e["event"] for e in read(path).events] == ["wave_start"]
    assert read(path).skipped == 1
    append(path, [event_line("wave_end", {"wave": 1})])
    journal = read(path)
    assert [e["event"] for e in journal.events] == ["wave_start", "wave_end"]
    assert journal.skipped == 1


def _append_many(path, worker, count):
    for index in range(count):
        append(path, [event_line("restart_begin", {"host": f"w{worker}-{index:04d}", "wave": worker})])


def test_concurrent_appends_from_many_processes_lose_nothing(tmp_path):
    path = tmp_path / JOURNAL
    workers, count = 8, 250
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_append_many, args=(path, w, count)) for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    journal = read(path)
    assert journal.skipped == 0
    hosts = [e["host"] for e in journal.events]
    assert len(hosts) == workers * count == len(set(hosts))
    for worker in range(workers):  # each process's lines stay in its own order
        mine = [h for h in hosts if h.startswith(f"w{worker}-")]
        assert mine == sorted(mine)


def test_open_run_makes_a_folder_a_latest_link_and_a_run_start(tmp_path):
    controller = {"pid": os.getpid(), "start": _journal.process_start(os.getpid())}
    run, created = open_run(tmp_path, controller, {"playbook": "patch", "settings": {"a_password": "x"}})
    assert created and _journal.RUN_ID_RE.match(run.id) and run.dir == tmp_path / run.id
    assert os.readlink(tmp_path / LATEST) == run.id  # relative: the report directory can move
    first = read(run.journal).events[0]
    assert first["event"] == "run_start" and first["run"] == run.id
    assert first["controller"] == controller and first["settings"] == {"a_password": "***"}
    # the same controller finds its run; another controller gets a new one and `latest` moves to it
    again, created_again = open_run(tmp_path, controller)
    assert (again, created_again) == (run, False)
    other, made = open_run(tmp_path, {"pid": 1, "start": 12345})
    assert made and other != run and os.readlink(tmp_path / LATEST) == other.id
    assert _journal.latest_run(tmp_path) == other
    assert [p.name for p in _journal.run_dirs(tmp_path)] == sorted([run.id, other.id])


def _open_in_child(root, queue):
    run, created = open_run(root, {"pid": 4242, "start": 7})
    queue.put((str(run.dir), created))


def test_many_forks_opening_the_run_at_once_get_one_run(tmp_path):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_open_in_child, args=(tmp_path, queue)) for _ in range(12)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(30)
    assert len({folder for folder, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(_journal.run_dirs(tmp_path)) == 1


def test_run_state(tmp_path):
    alive = {"pid": os.getpid(), "start": _journal.process_start(os.getpid())}
    run, _ = open_run(tmp_path, alive)
    assert read(run.journal).state() == "running"
    assert read(run.journal).state(alive=False) == "interrupted"
    append(run.journal, [event_line("run_end", {"state": "finished"})])
    assert read(run.journal).state() == "finished"
    dead, _ = open_run(tmp_path, {"pid": 999999999, "start": None})
    assert read(dead.journal).state() == "interrupted"


def test_a_reused_pid_is_not_the_controller():
    me = {"pid": os.getpid(), "start": _journal.process_start(os.getpid())}
    assert _journal.is_alive(me)
    if me["start"] is not None:
        assert not _journal.is_alive(dict(me, start=me["start"] + 1))
    assert not _journal.is_alive({"pid": 999999999, "start": None})
    assert not _journal.is_alive(None)


def test_a_later_run_finds_unfinished_runs_of_dead_controllers(tmp_path):
    dead, _ = open_run(tmp_path, {"pid": 999999999, "start": None})
    finished, _ = open_run(tmp_path, {"pid": 999999998, "start": None})
    append(finished.journal, [event_line("run_end", {"state": "finished"})])
    me = {"pid": os.getpid(), "start": _journal.process_start(os.getpid())}
    mine, _ = open_run(tmp_path, me)
    assert _journal.unfinished_runs(tmp_path, keep=mine) == [dead]
    assert _journal.mark_interrupted(dead, "next run")
    assert not _journal.mark_interrupted(dead, "next run")  # once
    assert read(dead.journal).interrupted["by"] == "next run"
    assert _journal.unfinished_runs(tmp_path, keep=mine) == []


def test_fact_of_another_controller_is_ignored(tmp_path):
    me = {"pid": os.getpid(), "start": _journal.process_start(os.getpid())}
    run, _ = open_run(tmp_path, me)
    fact = run.fact()
    assert fact["id"] == run.id and fact["controller"] == me
    assert _journal.run_of_fact(fact, me) == run
    assert _journal.run_of_fact(fact, {"pid": 1, "start": 1}) is None  # a cached fact of an earlier run
    assert _journal.run_of_fact({"dir": str(tmp_path / "nope"), "controller": me}, me) is None


# ---------------------------------------------------------------------------------------------- watcher
# A stand-in for ansible-playbook. Ctrl+C stops it as it stops Ansible, also when the test itself was started
# in the background (a shell's background job inherits SIGINT ignored, and Python then keeps it ignored).
DUMMY = (
    "import signal, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "print('ready', flush=True)\nwhile True:\n    time.sleep(0.2)\n"
)


def _dummy_controller():
    """The stand-in, started and ready for signals."""
    parent = subprocess.Popen([sys.executable, "-c", DUMMY], stdout=subprocess.PIPE, text=True)
    assert parent.stdout.readline().strip() == "ready"
    return parent


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _journal_hosts(run, names):
    from ansible_collections.hotpatch.windows.plugins.plugin_utils import _report

    lines = []
    for name in names:
        record = _report.host_record(name, {"failed": True, "message": f"{name}: gone"}, None, None)
        lines.append(event_line("host", {"host": name, "stage": "assess", "record": record}))
    append(run.journal, lines)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT], ids=lambda s: s.name)
def test_watcher_marks_a_killed_run_interrupted_and_renders_its_report(tmp_path, sig):
    parent = _dummy_controller()
    try:
        controller = _journal.controller_of(parent.pid)
        run, _ = open_run(tmp_path, controller, {"playbook": "patch", "hosts": ["web01", "web02", "web03"]})
        watcher = _journal.start_watcher(run, controller)
        assert watcher is not None
        _journal_hosts(run, ["web01", "web02"])
        assert read(run.journal).state() == "running"
        parent.send_signal(sig)
        parent.wait(10)
        assert _wait_for(lambda: (run.dir / "fleet.json").is_file()), "the watcher wrote no report"
    finally:
        if parent.poll() is None:
            parent.kill()
    journal = read(run.journal)
    assert journal.interrupted is not None and journal.interrupted["by"] == "watcher"
    assert journal.state() == "interrupted"
    fleet = json.loads((run.dir / "fleet.json").read_text())
    assert fleet["run"]["state"] == "interrupted"
    assert [r["host"] for r in fleet["hosts"]] == ["web01", "web02"]
    assert "Interrupted: hosts done so far" in (run.dir / "fleet.html").read_text()
    assert (tmp_path / "fleet.json").is_file()  # the top-level copy of the latest run
    assert _wait_for(lambda: not _journal.is_alive({"pid": watcher, "start": None}), 10), (
        "the watcher lingers"
    )


def test_watcher_leaves_a_finished_run_alone(tmp_path):
    parent = _dummy_controller()
    try:
        controller = _journal.controller_of(parent.pid)
        run, _ = open_run(tmp_path, controller)
        watcher = _journal.start_watcher(run, controller)
        append(run.journal, [event_line("run_end", {"state": "finished", "summary": {}})])
        parent.terminate()
        parent.wait(10)
    finally:
        if parent.poll() is None:
            parent.kill()
    assert _wait_for(lambda: not _journal.is_alive({"pid": watcher, "start": None}), 15)
    journal = read(run.journal)
    assert journal.interrupted is None and journal.state() == "finished"
    assert not (run.dir / "fleet.json").exists()


def test_watcher_is_detached(tmp_path):
    """Its own session (a Ctrl-C to the playbook's process group does not reach it), no terminal."""
    parent = _dummy_controller()
    try:
        controller = _journal.controller_of(parent.pid)
        run, _ = open_run(tmp_path, controller)
        watcher = _journal.start_watcher(run, controller)
        assert os.getsid(watcher) == watcher != os.getsid(0)
        assert os.readlink(f"/proc/{watcher}/fd/0") == os.devnull
        assert os.readlink(f"/proc/{watcher}/fd/1") == os.devnull
    finally:
        parent.kill()
        parent.wait(10)
    assert _wait_for(lambda: not _journal.is_alive({"pid": watcher, "start": None}), 15)
    assert read(run.journal).interrupted is not None


def test_run_folder_path_layout(tmp_path):
    run = Run("20261125T231500Z-3f2a", tmp_path / "20261125T231500Z-3f2a")
    assert run.journal == tmp_path / "20261125T231500Z-3f2a" / "journal.jsonl"
    assert run.report_dir == tmp_path
    assert _journal.report_root(str(tmp_path / "x" / ".." / "y")) == Path(os.path.realpath(tmp_path / "y"))


def test_a_controller_of_another_machine_or_boot_is_not_alive():
    me = _journal.controller_of(os.getpid())
    assert _journal.is_alive(me)
    if me.get("boot"):
        assert not _journal.is_alive(dict(me, boot="another-machine"))
        assert not _journal.same_controller(me, dict(me, boot="another-machine"))
    assert _journal.same_controller(me, {"pid": me["pid"], "start": me["start"]})  # a journal without boot
