"""hotpatch.windows.rollout_step through ActionBase.run: which modules each step runs, in which order, and
what it decides from their results.

The modules the step runs (win_updates, baseline_info, win_reboot, journal) are replaced by a script of
registered results, so each case says what Windows answered and asserts what the step did next. The lab
tests (tests/integration/) run the same steps against the simulated Windows hosts.
"""

import re

import pytest

from tests.unit.plugins.action.conftest import FakeConnection, run_plugin

HOST = "win01.example.test"
BOOT = "2026-04-15T01:00:00Z"
INSTALLED = "2026-04-16T02:10:00Z"


def probe(reasons=(), build="26100.4061", now="2026-04-16T02:20:00Z", last_boot=BOOT, failed=False):
    """A baseline_info result: Windows' pending-restart reasons, the build, the host's clock."""
    if failed:
        return {"failed": True, "msg": f"{HOST}: cannot reach the host to run the probe: timed out"}
    return {
        "changed": False,
        "facts": {"now": now, "timezone": "UTC", "last_boot": last_boot},
        "current": {"build": build},
        "reboot_pending": {"required": bool(reasons), "reasons": list(reasons), "signals": {}, "ignored": []},
    }


def installed(*kbs, reboot_required=False):
    updates = {kb: {"kb": [kb.removeprefix("KB")], "title": kb, "installed": True} for kb in kbs}
    return {"changed": bool(kbs), "reboot_required": reboot_required, "updates": updates}


REBOOTED = {"changed": True, "rebooted": True, "elapsed": 42}
PLAN_HOTPATCH = {
    "action": "hotpatch",
    "reboot": False,
    "install": {"category_names": ["SecurityUpdates"], "accept_list": [], "reject_list": []},
}
PLAN_LCU = dict(PLAN_HOTPATCH, action="lcu", reboot=True)
PLAN_PENDING = dict(PLAN_HOTPATCH, action="reboot", reboot=True)
STATUS = {"current": {"build": "26100.4061"}, "facts": {"now": "2026-04-16T02:00:00Z", "timezone": "UTC"}}
WAVE_OUTCOME = {
    "action": "lcu",
    "route": "wave",
    "status": "planned",
    "restart": {"needed": True, "evidence": ["win_updates reported reboot_required"], "ignored": []},
    "installed": ["KB5055523"],
    "failed_updates": [],
    "restarts": 0,
    "restarted": False,
    "build_before": "26100.4061",
    "build_after": "26100.4061",
    "message": "installed KB5055523; Windows needs a restart: restart wave",
}
ADMITTED = {"admitted": [HOST], "held": {}}


class Script:
    """What each module answers, in order; records every call (module name and args)."""

    def __init__(self, **answers):
        self.answers = {name: list(values) for name, values in answers.items()}
        self.calls = []
        self.async_vals = []

    def __call__(self, name, args, task_vars, async_val=0):
        short = name.split(".")[-1]
        self.calls.append((short, dict(args)))
        self.async_vals.append(async_val)
        if short == "journal":
            return {"changed": False}
        queue = self.answers.get(short)
        assert queue, f"the step ran {short} once more than the case expects"
        return dict(queue.pop(0))

    @property
    def names(self):
        return [name for name, _args in self.calls]


def run_step(script, args, check_mode=False):
    return run_plugin("rollout_step", FakeConnection(), args, check_mode=check_mode, modules=script)


def test_install_of_a_hotpatch_reads_the_host_again_and_needs_no_restart():
    script = Script(win_updates=[installed("KB5055527")], baseline_info=[probe()])
    result = run_step(script, {"step": "install", "status": STATUS, "plan": PLAN_HOTPATCH})
    assert script.names == ["win_updates", "baseline_info"]
    assert script.calls[0][1] == {
        "state": "installed",
        "category_names": ["SecurityUpdates"],
        "reboot": False,
    }
    assert result["outcome"]["route"] == "done"
    assert result["outcome"]["status"] == "patched"
    assert result["outcome"]["reboot_avoided"] is True
    assert result["installed_at"]
    assert result["changed"] is True


def test_install_that_says_reboot_required_for_a_planned_restart_is_not_read_again():
    script = Script(win_updates=[installed("KB5055523", reboot_required=True)])
    result = run_step(script, {"step": "install", "status": STATUS, "plan": PLAN_LCU})
    assert script.names == ["win_updates"]
    assert result["outcome"]["route"] == "wave"
    assert result["steps"]["after"] is None


def test_install_with_an_unexpected_restart_is_read_again_and_follows_the_policy():
    script = Script(win_updates=[installed("KB5055527")], baseline_info=[probe(["cbs"])])
    args = {"step": "install", "status": STATUS, "plan": PLAN_HOTPATCH, "unexpected_reboot": "defer"}
    result = run_step(script, args)
    assert script.names == ["win_updates", "baseline_info"]
    assert result["outcome"]["route"] == "deferred"


def test_failed_install_fails_the_host_not_the_task():
    script = Script(win_updates=[{"failed": True, "msg": "0x80240022"}], baseline_info=[probe()])
    result = run_step(script, {"step": "install", "status": STATUS, "plan": PLAN_HOTPATCH})
    assert not result.get("failed")
    assert result["outcome"]["status"] == "failed"
    assert "the install failed: 0x80240022" in result["outcome"]["message"]


def test_install_in_check_mode_contacts_nothing():
    script = Script()
    result = run_step(script, {"step": "install", "status": STATUS, "plan": PLAN_LCU}, check_mode=True)
    assert script.calls == []
    assert result["outcome"]["status"] == "check_mode"
    assert result["changed"] is False


STARTED = {"started": True, "finished": False, "ansible_job_id": "j123.4242", "results_file": "C:\\j123.4242"}
RUNNING = dict(STARTED)
GONE = {"unreachable": True, "msg": "connection refused"}


def finished(result):
    return dict(result, started=True, finished=True, ansible_job_id="j123.4242")


def job(**more):
    import time

    return dict({"jid": "j123.4242", "started": time.time() - 30, "timeout": 14400, "boot": BOOT}, **more)


@pytest.fixture
def sleeps(monkeypatch):
    """The seconds the staged step slept between polls (it does not really sleep)."""
    slept = []
    monkeypatch.setattr("time.sleep", slept.append)
    return slept


def test_start_starts_the_install_as_an_async_job_and_reads_nothing_else():
    script = Script(win_updates=[STARTED])
    status = dict(STATUS, facts=dict(STATUS["facts"], last_boot=BOOT))
    args = {"step": "start", "status": status, "plan": PLAN_HOTPATCH, "install_timeout": 7200}
    result = run_step(script, args)
    assert script.names == ["win_updates"]
    assert script.async_vals == [7200]
    assert result["job"]["jid"] == "j123.4242"
    assert result["job"]["boot"] == BOOT and result["job"]["timeout"] == 7200
    assert result["outcome"]["route"] == "install"


def test_start_contacts_nothing_for_a_host_that_only_restarts_or_in_check_mode():
    script = Script()
    result = run_step(script, {"step": "start", "status": STATUS, "plan": PLAN_PENDING})
    assert script.calls == [] and result["job"] is None
    assert result["outcome"]["route"] == "wave"
    result = run_step(script, {"step": "start", "status": STATUS, "plan": PLAN_LCU}, check_mode=True)
    assert script.calls == [] and result["job"] is None
    assert result["outcome"]["status"] == "check_mode"


def test_a_start_that_fails_fails_the_host_and_leaves_nothing_to_wait_for():
    script = Script(win_updates=[GONE])
    result = run_step(script, {"step": "start", "status": STATUS, "plan": PLAN_HOTPATCH})
    assert not result.get("failed") and result["job"] is None
    assert result["outcome"]["status"] == "failed" and result["outcome"]["down"] is True
    script = Script(win_updates=[{"changed": False}])  # an answer without a job id
    result = run_step(script, {"step": "start", "status": STATUS, "plan": PLAN_HOTPATCH})
    assert "did not start an async job" in result["outcome"]["message"]


def staged_args(**more):
    outcome = {"action": "hotpatch", "route": "install", "status": "planned", "message": "planned"}
    return dict({"step": "staged", "outcome": outcome, "job": job(), "plan": PLAN_HOTPATCH}, **more)


def test_staged_polls_until_the_job_finishes_then_reads_the_host_and_decides(sleeps):
    done = finished(installed("KB5055527"))
    cleaned = {"erased": "C:\\j123.4242"}
    script = Script(async_status=[RUNNING, RUNNING, done, cleaned], baseline_info=[probe()])
    result = run_step(script, staged_args())
    assert script.names == ["async_status"] * 4 + ["baseline_info"]
    assert script.calls[3][1] == {"jid": "j123.4242", "mode": "cleanup"}
    assert len(sleeps) == 2 and all(1.0 <= s <= 15.0 for s in sleeps)
    assert sleeps[0] >= 9.0  # a third of the 30 s the job has run: fewer polls for a long install
    assert result["outcome"]["status"] == "patched" and result["outcome"]["route"] == "done"
    assert result["steps"]["install"]["reboot_required"] is False
    for key in ("ansible_job_id", "started", "finished", "results_file"):  # Ansible's async bookkeeping
        assert key not in result["steps"]["install"]
    assert result["installed_at"]


def test_staged_sends_a_planned_restart_to_its_wave_on_the_jobs_own_evidence(sleeps):
    done = finished(installed("KB5055523", reboot_required=True))
    script = Script(async_status=[done, {}])
    outcome = {"action": "lcu", "route": "install", "status": "planned", "message": "planned"}
    result = run_step(script, staged_args(outcome=outcome, plan=PLAN_LCU))
    assert script.names == ["async_status", "async_status"]
    assert result["outcome"]["route"] == "wave"
    assert sleeps == []


def test_staged_fails_a_host_that_restarted_while_its_install_ran(sleeps):
    later = probe(last_boot="2026-04-16T02:30:00Z")
    script = Script(async_status=[GONE, RUNNING], baseline_info=[later, later])
    result = run_step(script, staged_args())
    # read once to see the restart, once after the install as every install is
    assert script.names == ["async_status", "async_status", "baseline_info", "baseline_info"]
    assert result["outcome"]["status"] == "failed"
    assert "restarted (at 2026-04-16T02:30:00Z) while its install ran" in result["outcome"]["message"]


def test_staged_reads_the_boot_time_again_until_it_can_after_a_connection_error(sleeps):
    refused = {"failed": True, "msg": "ConnectionError: refused", "connection_error": True}
    later = probe(last_boot="2026-04-16T02:30:00Z")
    script = Script(
        async_status=[refused, RUNNING, RUNNING], baseline_info=[probe(failed=True), later, later]
    )
    result = run_step(script, staged_args())
    polls = ["async_status", "async_status", "baseline_info", "async_status", "baseline_info"]
    assert script.names == [*polls, "baseline_info"]
    assert "restarted (at 2026-04-16T02:30:00Z) while its install ran" in result["outcome"]["message"]


def test_staged_fails_on_an_error_of_async_status_itself(sleeps):
    missing = {"failed": True, "msg": "could not find job", "ansible_job_id": "j123.4242", "finished": False}
    script = Script(async_status=[missing], baseline_info=[probe()])
    result = run_step(script, staged_args())
    assert script.names == ["async_status", "baseline_info"]
    assert "could not find job" in result["outcome"]["message"]


def test_staged_waits_on_after_an_outage_without_a_restart(sleeps):
    done = finished(installed("KB5055527"))
    script = Script(async_status=[GONE, RUNNING, done, {}], baseline_info=[probe(), probe()])
    result = run_step(script, staged_args())
    polls = ["async_status", "async_status", "baseline_info", "async_status", "async_status"]
    assert script.names == [*polls, "baseline_info"]
    assert result["outcome"]["status"] == "patched"


def test_staged_gives_up_on_a_job_past_its_timeout(sleeps):
    import time

    script = Script(async_status=[RUNNING], baseline_info=[probe()])
    result = run_step(script, staged_args(job=job(started=time.time() - 14400 - 200)))
    assert script.names == ["async_status", "baseline_info"]
    assert result["outcome"]["status"] == "failed"
    assert "did not finish within 14400 s (patch_install_timeout)" in result["outcome"]["message"]


RESULTS_FILE = "C:\\Users\\Administrator\\.ansible_async\\j123.4242"
WAITED = {"elapsed": 11.2, "wait_attempts": 12}


def ran_out(seconds):
    return {"failed": True, "elapsed": float(seconds), "msg": "timeout while waiting for string regex"}


def watched_args(**more):
    return staged_args(job=job(results_file=RESULTS_FILE), **more)


def test_staged_waits_on_the_host_for_the_results_file_then_reads_the_job(sleeps):
    done = finished(installed("KB5055527"))
    script = Script(async_status=[RUNNING, done, {}], win_wait_for=[WAITED], baseline_info=[probe()])
    result = run_step(script, watched_args())
    assert script.names == ["async_status", "win_wait_for", "async_status", "async_status", "baseline_info"]
    wait = script.calls[1][1]
    assert wait["path"] == RESULTS_FILE and wait["sleep"] == 1 and wait["timeout"] == 300
    assert re.search(wait["regex"], '{"started":true,"finished":true,"changed":true}')
    assert re.search(wait["regex"], '{"finished":  1}')  # ansible-core before 2.19
    assert not re.search(wait["regex"], '{"started":true,"finished":false,"results_file":"C:\\\\j1"}')
    assert sleeps == []  # the host waited, not the controller
    assert result["outcome"]["status"] == "patched"


def test_staged_waits_again_when_the_wait_runs_out_and_never_past_the_jobs_timeout(sleeps):
    import time

    done = finished(installed("KB5055527"))
    script = Script(
        async_status=[RUNNING, RUNNING, done, {}], win_wait_for=[ran_out(60), WAITED], baseline_info=[probe()]
    )
    started = time.time() - 14400 - 120 + 60  # 60 s left before the step gives up
    result = run_step(script, staged_args(job=job(results_file=RESULTS_FILE, started=started)))
    assert script.names[:5] == [
        "async_status",
        "win_wait_for",
        "async_status",
        "win_wait_for",
        "async_status",
    ]
    timeouts = [args["timeout"] for name, args in script.calls if name == "win_wait_for"]
    assert len(timeouts) == 2 and all(50 <= seconds <= 60 for seconds in timeouts), timeouts
    assert sleeps == [] and result["outcome"]["status"] == "patched"


def test_staged_polls_where_the_host_cannot_wait(sleeps):
    done = finished(installed("KB5055527"))
    error = {"failed": True, "elapsed": 0, "msg": "Access to the path is denied"}
    script = Script(async_status=[RUNNING, RUNNING, done, {}], win_wait_for=[error], baseline_info=[probe()])
    result = run_step(script, watched_args())
    polls = ["async_status", "win_wait_for", "async_status", "async_status", "async_status"]
    assert script.names == [*polls, "baseline_info"]
    assert len(sleeps) == 2 and result["outcome"]["status"] == "patched"


def test_staged_polls_when_the_file_says_finished_but_the_job_does_not(sleeps):
    """No busy loop: a second 'finished' from the file while async_status says running turns to polling."""
    done = finished(installed("KB5055527"))
    script = Script(
        async_status=[RUNNING, RUNNING, RUNNING, done, {}],
        win_wait_for=[WAITED, WAITED],
        baseline_info=[probe()],
    )
    result = run_step(script, watched_args())
    names = ["async_status", "win_wait_for", "async_status", "win_wait_for", "async_status", "async_status"]
    assert script.names == [*names, "async_status", "baseline_info"]
    assert len(sleeps) == 2 and result["outcome"]["status"] == "patched"


def test_staged_fails_a_host_that_restarted_during_the_wait(sleeps):
    later = probe(last_boot="2026-04-16T02:30:00Z")
    script = Script(async_status=[RUNNING, RUNNING], win_wait_for=[GONE], baseline_info=[later, later])
    result = run_step(script, watched_args())
    names = ["async_status", "win_wait_for", "async_status", "baseline_info", "baseline_info"]
    assert script.names == names and len(sleeps) == 1
    assert "restarted (at 2026-04-16T02:30:00Z) while its install ran" in result["outcome"]["message"]


def test_start_keeps_the_jobs_results_file_for_the_wait():
    script = Script(win_updates=[STARTED])
    status = dict(STATUS, facts=dict(STATUS["facts"], last_boot=BOOT))
    result = run_step(script, {"step": "start", "status": status, "plan": PLAN_HOTPATCH})
    assert result["job"]["results_file"] == "C:\\j123.4242"


def test_staged_without_a_job_passes_the_outcome_on_and_contacts_nothing():
    script = Script()
    outcome = {"action": "none", "route": "done", "status": "unchanged", "message": "nothing to do"}
    result = run_step(script, staged_args(job=None, outcome=outcome))
    assert script.calls == []
    assert result["outcome"] == outcome


def wave_args(**more):
    args = {
        "step": "wave",
        "wave": 2,
        "outcome": WAVE_OUTCOME,
        "plan": PLAN_LCU,
        "installed_at": INSTALLED,
        "admission": ADMITTED,
    }
    return dict(args, **more)


def test_wave_restarts_on_windows_evidence_and_reads_the_host_again():
    script = Script(
        baseline_info=[probe(["cbs"]), probe(build="26100.4202", last_boot="2026-04-16T02:30:00Z")],
        win_reboot=[REBOOTED],
    )
    result = run_step(script, wave_args())
    assert script.names == ["baseline_info", "journal", "win_reboot", "baseline_info", "journal"]
    assert [args["event"] for name, args in script.calls if name == "journal"] == [
        "restart_begin",
        "restart_end",
    ]
    assert script.calls[-1][1]["data"] == {"wave": 2, "elapsed": 42, "ok": True}
    assert result["decision"]["restart"] is True
    assert result["outcome"]["status"] == "restarted"
    assert result["outcome"]["restarts"] == 1
    assert result["outcome"]["build_after"] == "26100.4202"
    assert result["changed"] is True


def test_wave_does_not_restart_a_host_whose_pending_restart_cleared():
    # it booted after the install (on its own): no evidence is left, no restart
    script = Script(baseline_info=[probe(last_boot="2026-04-16T02:15:00Z")])
    result = run_step(script, wave_args())
    assert script.names == ["baseline_info"]
    assert result["decision"]["restart"] is False
    assert result["outcome"]["restarted"] is False
    assert result["outcome"]["route"] == "done"


def test_wave_keeps_the_install_evidence_while_the_host_has_not_booted():
    script = Script(baseline_info=[probe(), probe()], win_reboot=[REBOOTED])
    result = run_step(script, wave_args())
    assert "win_reboot" in script.names
    assert result["decision"]["evidence"] == [
        "win_updates reported reboot_required after the install and the host has not booted since"
    ]


def test_wave_defers_a_host_whose_window_closed():
    window = {"start": "22:00", "end": "23:00"}
    script = Script(baseline_info=[probe(["cbs"])])
    result = run_step(script, wave_args(window=window))
    assert script.names == ["baseline_info"]
    assert result["decision"]["deferred"] is True
    assert result["outcome"]["route"] == "deferred"


def test_a_host_held_back_by_the_caps_is_not_contacted():
    script = Script()
    admission = {"admitted": [], "held": {HOST: "group g1 already has 1 host down (cap 1)"}}
    result = run_step(script, wave_args(admission=admission))
    assert script.calls == []
    assert result["decision"] is None
    assert result["outcome"]["status"] == "not_reached"


def test_wave_in_check_mode_contacts_nothing():
    script = Script()
    result = run_step(script, wave_args(), check_mode=True)
    assert script.calls == []
    assert "wave 2" in result["outcome"]["message"]


def test_pending_restart_plan_installs_after_the_restart_and_restarts_again_when_told():
    script = Script(
        baseline_info=[probe(["cbs"]), probe(build="26100.4202", last_boot="2026-04-16T02:40:00Z")],
        win_reboot=[REBOOTED, REBOOTED],
        win_updates=[installed("KB5055523", reboot_required=True)],
    )
    outcome = dict(WAVE_OUTCOME, action="reboot", installed=[])
    result = run_step(script, wave_args(plan=PLAN_PENDING, outcome=outcome))
    assert script.names == [
        "baseline_info",
        "journal",
        "win_reboot",
        "win_updates",
        "win_reboot",
        "baseline_info",
        "journal",
    ]
    assert "finish its updates" in script.calls[4][1]["msg"]
    assert result["outcome"]["restarts"] == 2
    assert result["outcome"]["installed"] == ["KB5055523"]


def test_a_host_that_does_not_come_back_is_failed_and_down_and_not_read_again():
    script = Script(
        baseline_info=[probe(["cbs"])],
        win_reboot=[{"failed": True, "rebooted": True, "msg": "Timed out waiting for the host to come back"}],
    )
    result = run_step(script, wave_args())
    assert script.names == ["baseline_info", "journal", "win_reboot", "journal"]
    assert script.calls[-1][1]["data"]["ok"] is False
    assert not result.get("failed")
    assert result["outcome"]["status"] == "failed"
    assert result["outcome"]["down"] is True
    assert "the restart failed" in result["outcome"]["message"]


def test_a_host_unreachable_right_before_its_restart_is_not_restarted():
    script = Script(baseline_info=[{"unreachable": True, "msg": "timed out"}])
    result = run_step(script, wave_args())
    assert script.names == ["baseline_info"]
    assert result["decision"]["restart"] is False
    assert result["outcome"]["status"] == "failed"
    assert result["outcome"]["down"] is True


def test_a_host_that_cannot_be_read_right_before_its_restart_is_not_restarted():
    script = Script(baseline_info=[probe(failed=True)])
    result = run_step(script, wave_args())
    assert script.names == ["baseline_info"]
    assert result["decision"]["restart"] is False
    assert "could not read the host right before its restart" in result["outcome"]["message"]


def test_restart_step_needs_the_wave_and_names_the_host():
    result = run_step(Script(), {"step": "restart", "decision": {"restart": True, "evidence": ["x"]}})
    assert result["failed"] is True
    assert result["msg"].startswith(f"{HOST}: ")


@pytest.mark.parametrize("step", ["check", "wave"])
def test_check_reads_the_host_once(step):
    script = Script(baseline_info=[probe(), probe()], win_reboot=[REBOOTED])
    args = wave_args(step=step)  # not booted since the install: its reboot_required still counts
    result = run_step(script, args)
    assert script.names.count("baseline_info") == (1 if step == "check" else 2)
    assert result["decision"]["restart"] is True


def test_only_errors_of_an_unanswered_connection_count_as_the_host_being_down():
    import requests

    from ansible_collections.hotpatch.windows.plugins.plugin_utils._host_step import _transport_error

    assert _transport_error(requests.exceptions.ConnectionError("refused"))
    assert _transport_error(ConnectionResetError("reset"))
    assert _transport_error(TimeoutError("timed out"))
    from winrm.exceptions import WSManFaultError

    assert _transport_error(WSManFaultError(500, "the shell is gone", "", "InvalidSelectors"))
    assert not _transport_error(FileNotFoundError("release_catalog.yml"))
    assert not _transport_error(ValueError("bad JSON"))
