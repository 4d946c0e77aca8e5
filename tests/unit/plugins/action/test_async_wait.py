"""hotpatch.windows.async_wait through ActionBase.run: what it runs on the host, and the result it returns.

The modules it runs (win_wait_for, async_status, baseline_info) answer from a script of registered results,
as in test_rollout_step.py; tests/labtests/test_async.py and the assessment's lab tests run it against the
simulated Windows hosts.
"""

import pytest

from tests.unit.plugins.action.conftest import FakeConnection, run_plugin
from tests.unit.plugins.action.test_rollout_step import BOOT, HOST, Script, probe

RESULTS_FILE = "C:\\Users\\ansible\\.ansible_async\\j77.4242"
STARTED = {"started": 1, "finished": 0, "ansible_job_id": "j77.4242", "results_file": RESULTS_FILE}
SEARCH = {"changed": False, "found_update_count": 1, "updates": {"u1": {"kb": ["5055527"], "title": "t"}}}
TIMED_OUT = {"failed": True, "elapsed": 300, "msg": "timeout while waiting for string regex"}


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr("time.sleep", slept.append)
    return slept


def run_wait(script, args, check_mode=False):
    return run_plugin("async_wait", FakeConnection(), args, check_mode=check_mode, modules=script)


def args(**more):
    return dict({"job": STARTED, "timeout": 3600, "boot": BOOT, "name": "Windows Update search"}, **more)


def finished(result):
    return dict(result, started=1, finished=1, ansible_job_id="j77.4242", results_file=RESULTS_FILE)


def test_waits_on_the_host_then_returns_the_jobs_own_result(sleeps):
    script = Script(
        async_status=[STARTED, finished(SEARCH), {"erased": RESULTS_FILE}], win_wait_for=[{"elapsed": 40}]
    )
    result = run_wait(script, args())
    assert script.names == ["async_status", "win_wait_for", "async_status", "async_status"]
    assert script.calls[1][1]["path"] == RESULTS_FILE and script.calls[1][1]["timeout"] == 300
    assert script.calls[3][1] == {"jid": "j77.4242", "mode": "cleanup"}
    assert sleeps == []
    assert result["updates"] == SEARCH["updates"] and result["found_update_count"] == 1
    for key in ("ansible_job_id", "started", "finished", "results_file"):
        assert key not in result
    assert not result.get("failed")


def test_a_job_that_failed_fails_the_task_with_its_own_message(sleeps):
    failure = finished({"failed": True, "msg": "Failed to search for updates: 0x8024401C"})
    script = Script(async_status=[failure, {"erased": RESULTS_FILE}])
    result = run_wait(script, args())
    assert result["failed"] is True and result["msg"] == "Failed to search for updates: 0x8024401C"


@pytest.mark.parametrize(
    "start",
    [
        {"failed": True, "msg": "win_updates could not start"},
        {"unreachable": True, "msg": "connection refused", "changed": False},
        {"skipped": True, "changed": False, "skip_reason": "Conditional result was False"},
    ],
)
def test_a_start_that_did_not_start_is_the_result_and_nothing_is_contacted(start):
    script = Script()
    result = run_wait(script, args(job=start))
    assert script.calls == []
    for key, value in start.items():
        assert result[key] == value


def test_a_start_without_a_job_id_fails_naming_the_host_and_the_job():
    script = Script()
    result = run_wait(script, args(job={"changed": False}))
    assert script.calls == [] and result["failed"] is True
    assert (
        HOST in result["msg"] and "the Windows Update search did not start as an async job" in result["msg"]
    )


def test_a_host_that_restarted_during_the_job_fails_at_once_naming_the_job(sleeps):
    gone = {"unreachable": True, "msg": "connection refused"}
    script = Script(
        async_status=[STARTED, STARTED],
        win_wait_for=[gone],
        baseline_info=[probe(last_boot="2026-04-16T02:30:00Z")],
    )
    result = run_wait(script, args())
    assert result["failed"] is True
    assert result["msg"] == "the host restarted (at 2026-04-16T02:30:00Z) while its Windows Update search ran"


def test_a_job_past_its_timeout_fails_without_naming_a_patch_setting(sleeps, monkeypatch):
    clock = iter([1000.0] + [1000.0 + 10 + 120 + 1] * 10)
    monkeypatch.setattr("time.time", lambda: next(clock))
    script = Script(async_status=[STARTED])
    result = run_wait(script, args(timeout=10))
    assert result["failed"] is True
    assert result["msg"] == "the Windows Update search did not finish within 10 s"


def test_bad_timeout_is_refused_before_the_host_is_contacted():
    script = Script()
    result = run_wait(script, args(timeout=0))
    assert script.calls == [] and result["failed"] is True and HOST in result["msg"]
