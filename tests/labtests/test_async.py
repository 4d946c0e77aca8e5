"""Ansible's asynchronous module execution on Windows (the payloads of ansible-core >= 2.19 and of older
releases) against the lab: the start record of async_wrapper.ps1, the job on the host's schedule,
async_status (status and cleanup), the watchdog's timeout and a restart killing the job."""

import datetime
import json
import re

from tests.lab import Lab, modules
from tests.labtests.helpers import run_playbook

SCALE = 0.005  # a lab second lasts 5 ms
QUIET = {"defender": False, "msrt": False, "dotnet": False, "preview": False}
# Windows Server 2022 on premises: February 2026's cumulative update KB5075906, search 60 s + download 300 s
# + install 900 s = 1260 lab s = 6.3 real seconds after the start
TIMED = {
    "date": "2026-02-12T02:00:00Z",
    "timing": {"scale": SCALE},
    "boot_seconds": 1,
    "windows_update": QUIET,
    "hosts": {"lcu01": {"os": "2022", "platform": "on_premises"}},
}
UNTIMED = dict(TIMED, timing=None)
del UNTIMED["timing"]
LCU_KB = "KB5075906"
LCU_DUE = 60 + 300 + 900  # lab seconds from the start to the install
ASYNC_DIR = "C:\\Users\\Administrator\\.ansible_async"


def start(timeout=600) -> dict:
    return {
        "name": "start",
        "ansible.windows.win_updates": {"category_names": ["SecurityUpdates"], "reboot": False},
        "async": timeout,
        "poll": 0,
        "register": "job",
    }


def status(register: str, mode="status", **extra) -> dict:
    args = {"jid": "{{ job.ansible_job_id }}", "mode": mode}
    return {"ansible.builtin.async_status": args, "register": register, **extra}


def poll(register="polled", **extra) -> dict:
    return status(register, until=f"{register}.finished", retries=60, delay=1, **extra)


def when(event) -> datetime.datetime:
    return datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))


def assert_start_record(record: dict) -> str:
    jid = record["ansible_job_id"]
    assert re.fullmatch(r"j\d+\.\d+", jid), record
    assert record["started"] in (True, 1) and record["finished"] in (False, 0), record
    assert record["results_file"] == f"{ASYNC_DIR}\\{jid}", record
    assert isinstance(record["ansible_async_watchdog_pid"], int), record
    return jid


def test_async_win_updates_installs_on_schedule(main_bin, tmp_path):
    with Lab(TIMED, tmp_path / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, [start(), status("now"), poll()], tmp_path)
        events = lab.ledger().events
        installs = lab.ledger().installs()
    assert results["_stats"]["lcu01"]["failures"] == 0, results["lcu01"]
    started, now, polled = results["lcu01"]
    jid = assert_start_record(started)
    assert now["started"] is True and now["finished"] is False and now["ansible_job_id"] == jid, now
    assert polled["finished"] is True and polled["ansible_job_id"] == jid, polled
    assert polled["changed"] is True and polled["installed_update_count"] == 1, polled
    assert polled["reboot_required"] is True and polled["rebooted"] is False
    [update] = polled["updates"].values()
    assert update["kb"] == [LCU_KB[2:]] and update["installed"] is True
    assert polled.get("attempts", 1) > 1  # it was polled while running
    assert installs == {"lcu01": [LCU_KB]}
    commands = [e for e in events if e["event"] == "command"]
    begin = next(e for e in commands if e.get("async_jid") == jid)
    assert begin["what"] == "module:win_updates"
    install = next(e for e in events if e["event"] == "install")
    statuses = [e for e in commands if e["what"] == "module:async_status"]
    assert when(statuses[0]) < when(install)  # answered while the install was not yet due
    assert (when(install) - when(begin)).total_seconds() >= LCU_DUE
    assert [e["end"] for e in events if e["event"] == "async_job"] == ["finished"]


def test_restart_kills_the_job(main_bin, tmp_path):
    tasks = [
        start(),
        {"ansible.windows.win_reboot": {"pre_reboot_delay": 0}},
        status("after"),
        {"ansible.builtin.pause": {"seconds": 7}},  # past the time the install was due
        status("later"),
    ]
    with Lab(TIMED, tmp_path / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp_path)
        ledger = lab.ledger()
    assert results["_stats"]["lcu01"]["failures"] == 0, results["lcu01"]
    started, rebooted, after, _pause, later = results["lcu01"]
    jid = assert_start_record(started)
    assert rebooted["rebooted"] is True
    for record in (after, later):
        assert record["started"] is True and record["finished"] is False, record
        assert record["ansible_job_id"] == jid and "installed_update_count" not in record, record
    assert ledger.installs() == {} and ledger.restarts() == {"lcu01": 1}
    assert [e["end"] for e in ledger.events if e["event"] == "async_job"] == ["killed"]


def test_cleanup_and_unknown_job(main_bin, tmp_path):
    tasks = [
        start(),
        poll(),
        status("erased", mode="cleanup"),
        status("gone", ignore_errors=True),
        {
            "ansible.builtin.async_status": {"jid": "j123456.789"},
            "register": "unknown",
            "ignore_errors": True,
        },
    ]
    with Lab(UNTIMED, tmp_path / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp_path)
    started, polled, erased, gone, unknown = results["lcu01"]
    jid = assert_start_record(started)
    assert polled["finished"] is True and polled["installed_update_count"] == 1, polled
    assert erased["erased"] == f"{ASYNC_DIR}\\{jid}" and not erased.get("failed"), erased
    for record, expected in ((gone, jid), (unknown, "j123456.789")):
        assert record["failed"] is True, record
        assert record["msg"] == f"could not find job at '{ASYNC_DIR}'", record
        assert record["ansible_job_id"] == expected, record
        assert record["started"] is True and record["finished"] is True, record


def test_watchdog_timeout(main_bin, tmp_path):
    tasks = [
        start(timeout=2),  # the install is due after 6.3 real seconds
        poll(ignore_errors=True),
        {"ansible.builtin.pause": {"seconds": 6}},
        status("later", ignore_errors=True),
    ]
    with Lab(TIMED, tmp_path / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp_path)
        ledger = lab.ledger()
    started, polled, _pause, later = results["lcu01"]
    jid = assert_start_record(started)
    for record in (polled, later):
        assert record["failed"] is True and record["finished"] is True, record
        assert record["msg"] == "failure during async watchdog: timed out waiting for module completion"
        assert record["ansible_job_id"] == jid and "installed_update_count" not in record, record
        assert "exception" in record and record["stderr"] == "", record  # ansible-core shows no traceback
    assert ledger.installs() == {}  # the update task ended with the module's process
    assert [e["end"] for e in ledger.events if e["event"] == "async_job"] == ["watchdog_timeout"]


FINISHED = r'"finished"\s*:\s*(true|1)\b'  # what async_watchdog.ps1 writes when the job ends


def wait_file(register: str, timeout: int, **extra) -> dict:
    """win_wait_for on the job's results file (what hotpatch.windows.rollout_step waits for)"""
    args = {"path": "{{ job.results_file }}", "regex": FINISHED, "timeout": timeout, "sleep": 1}
    return {"ansible.windows.win_wait_for": args, "register": register, **extra}


def test_win_wait_for_sees_the_results_file_say_finished(main_bin, tmp_path):
    """win_wait_for on the results file answers at the first check after the watchdog writes it, and runs
    out (Fail-Json, elapsed = timeout) while the job still runs; a path with an environment variable is
    expanded (its type is path)."""
    percent_path = {"path": "%USERPROFILE%\\.ansible_async\\{{ job.ansible_job_id }}"}
    tasks = [
        start(),
        wait_file("short", 2, ignore_errors=True),  # the install is due 6.3 s after the start
        {
            "ansible.windows.win_wait_for": dict(percent_path, regex=FINISHED, timeout=30),
            "register": "waited",
        },
        status("now"),
        {"ansible.windows.win_wait_for": dict(percent_path), "register": "present"},
    ]
    with Lab(TIMED, tmp_path / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp_path)
        events = lab.ledger().events
    started, short, waited, now, present = results["lcu01"]
    jid = assert_start_record(started)
    assert short["failed"] is True and short["elapsed"] >= 2, short
    assert short["msg"] == (
        f"timeout while waiting for string regex {FINISHED} in file {ASYNC_DIR}\\{jid} to match"
    ), short
    assert not waited.get("failed") and 2 <= waited["elapsed"] <= 6.3 + 1, waited
    assert now["finished"] is True and now["installed_update_count"] == 1, now
    assert not present.get("failed") and present["elapsed"] == 0, present
    job_end = next(e for e in events if e["event"] == "async_job")
    status_read = next(e for e in events if e["event"] == "command" and e["what"] == "module:async_status")
    assert job_end["end"] == "finished"
    assert 0 <= (when(status_read) - when(job_end)).total_seconds() <= (1 + 1) / SCALE  # a second, + start


def test_win_wait_for_on_a_job_that_never_writes_runs_out(main_bin, tmp_path):
    """A restart kills the job: its file keeps the start record, and a wait on it runs out."""
    tasks = [
        start(),
        {"ansible.windows.win_reboot": {"pre_reboot_delay": 0}},
        {"ansible.builtin.pause": {"seconds": 7}},  # past the time the install was due
        wait_file("waited", 1, ignore_errors=True),
    ]
    with Lab(TIMED, tmp_path / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp_path)
    waited = results["lcu01"][-1]
    assert waited["failed"] is True and waited.get("elapsed") == 1, waited.get("msg")
    assert waited["msg"].startswith("timeout while waiting for string regex"), waited


def test_older_async_payload_is_read_as_its_wrappers_read_it():
    """An ansible-core < 2.19 async payload (exec_wrapper layout: async_wrapper and async_watchdog at the head
    of the action list, the job id, timeout and async directory in the manifest) is an async start, never a
    synchronous run; a synchronous payload of that layout is none."""
    manifest = {
        "module_entry": "",
        "powershell_modules": {},
        "csharp_utils": {},
        "actions": ["async_wrapper", "async_watchdog", "module_powershell_wrapper"],
        "environment": {"ANSIBLE_ASYNC_DIR": "%USERPROFILE%\\.ansible_async"},
        "async_jid": "j123456",
        "async_timeout_sec": 60,
        "async_startup_timeout": 5,
        "module_args": {"_ansible_module_name": "win_ping"},
    }
    payload = b"exec wrapper script\0\0\0\0" + json.dumps(manifest).encode()
    assert modules.async_request(payload) == {
        "AsyncDir": "%USERPROFILE%\\.ansible_async",
        "AsyncJid": "j123456",
        "Timeout": 60,
        "StartupTimeout": 5,
        "legacy": True,
    }
    del manifest["async_jid"], manifest["async_timeout_sec"]
    manifest["actions"] = ["module_powershell_wrapper"]
    payload = b"exec wrapper script\0\0\0\0" + json.dumps(manifest).encode()
    assert modules.async_request(payload) is None


def test_older_core_async_writes_and_reads_as_its_wrappers_do(old_core_bin, tmp_path):
    """ansible-core 2.16: async_wrapper.ps1 writes `started = 1`, `finished = 0`; async_watchdog.ps1 sets
    `finished = 1` with the module's result; async_status and win_wait_for read that file."""
    tasks = [
        start(),
        status("now"),
        wait_file("waited", 30),
        status("done"),
    ]
    with Lab(TIMED, tmp_path / "lab") as lab:
        results = run_playbook(old_core_bin, lab.inventory, tasks, tmp_path)
        events = lab.ledger().events
        installs = lab.ledger().installs()
    assert results["_stats"]["lcu01"]["failures"] == 0, results["lcu01"]
    started, now, waited, done = results["lcu01"]
    jid = assert_start_record(started)
    assert started["started"] == 1 and started["started"] is not True, started
    assert now["finished"] == 0 and now["finished"] is not False and now["ansible_job_id"] == jid, now
    assert waited.get("failed") is not True and waited["elapsed"] >= 1, waited
    assert done["finished"] == 1 and done["installed_update_count"] == 1, done
    assert installs == {"lcu01": [LCU_KB]}
    assert [e["end"] for e in events if e["event"] == "async_job"] == ["finished"]
