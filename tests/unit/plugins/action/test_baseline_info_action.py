"""hotpatch.windows.baseline_info through ActionBase.run, against recorded probe outputs."""

import json

import pytest

from tests.windows_samples.transliterate import load_hosts

HOST = "win01.example.test"
RESULT_KEYS = {
    "facts",
    "eligibility",
    "cycle",
    "release_line",
    "current",
    "baseline",
    "on_current_baseline",
    "up_to_date",
    "reboot_pending",
}


@pytest.mark.parametrize("sample", sorted(load_hosts()))
def test_recorded_host_gives_the_design_fields(run_action, fake_connection, recorded, sample):
    result = run_action("baseline_info", fake_connection(stdout=recorded(sample)))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert set(result) >= RESULT_KEYS
    assert result["release_line"] in ("hotpatch", "lcu", "unknown")
    assert set(result["reboot_pending"]) == {"required", "reasons", "signals", "ignored"}
    hotpatch = result["ansible_facts"]["hotpatch"]
    assert set(hotpatch) >= RESULT_KEYS
    assert {key: hotpatch[key] for key in RESULT_KEYS} == {key: result[key] for key in RESULT_KEYS}
    assert result["facts"]["now"] == json.loads(recorded(sample))["now"]


def test_cycle_follows_the_host_clock(run_action, fake_connection, recorded):
    # azure-2025-ae's clock says 2026-02-03: before the second Tuesday, still the January 2026 baseline cycle.
    result = run_action("baseline_info", fake_connection(stdout=recorded("azure-2025-ae")))
    assert result["cycle"]["month"] == "2026-01"
    assert result["cycle"]["kb"] == "KB5073379"
    assert result["on_current_baseline"] is True


def test_date_option_overrides_hotpatch_date(run_action, fake_connection, recorded):
    stdout = recorded("azure-2022-ae-core")
    from_var = run_action(
        "baseline_info", fake_connection(stdout=stdout), task_vars={"hotpatch_date": "2024-08-14"}
    )
    assert from_var["cycle"]["month"] == "2024-08"
    assert from_var["cycle"]["unplanned"] is True
    assert from_var["cycle"]["kb"] == "KB5041160"
    from_option = run_action(
        "baseline_info",
        fake_connection(stdout=stdout),
        args={"date": "2025-05-20"},
        task_vars={"hotpatch_date": "2024-08-14"},
    )
    assert from_option["cycle"]["month"] == "2025-05"


def test_catalog_rows_replace_shipped_ones(run_action, fake_connection, recorded):
    row = {
        "os": "2025",
        "month": "2026-02",
        "type": "baseline",
        "unplanned": True,
        "kb": "KB5999999",
        "build": "26100.39999",
    }
    stdout = recorded("azure-2025-ae")
    for args, task_vars in (({"catalog": [row]}, {}), ({}, {"hotpatch_catalog": [row]})):
        result = run_action(
            "baseline_info",
            fake_connection(stdout=stdout),
            args={"date": "2026-02-20", **args},
            task_vars=task_vars,
        )
        assert not result.get("failed"), result.get("msg")
        assert result["cycle"]["kb"] == "KB5999999"
        assert result["cycle"]["type"] == "baseline"


def test_pending_restart_and_its_reasons(run_action, fake_connection, recorded):
    result = run_action("baseline_info", fake_connection(stdout=recorded("azure-2022-ae-core")))
    # The CBS key is Windows' evidence; the pending file renames are reported but are no restart reason.
    assert result["reboot_pending"]["required"] is True
    assert result["reboot_pending"]["reasons"] == ["cbs"]
    assert result["reboot_pending"]["signals"] == ["cbs", "file_rename"]
    assert [item["signal"] for item in result["reboot_pending"]["ignored"]] == ["file_rename"]
    opted_in = run_action(
        "baseline_info",
        fake_connection(stdout=recorded("azure-2022-ae-core")),
        task_vars={"hotpatch_restart_signals": ["file_rename"]},
    )
    assert opted_in["reboot_pending"]["reasons"] == ["cbs", "file_rename"]
    quiet = run_action("baseline_info", fake_connection(stdout=recorded("azure-2025-ae")))
    assert quiet["reboot_pending"] == {"required": False, "reasons": [], "signals": [], "ignored": []}


def test_check_mode_runs_the_read_only_probe(run_action, fake_connection, recorded):
    result = run_action("baseline_info", fake_connection(stdout=recorded("azure-2025-ae")), check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False


def _assert_failed(result, *words):
    assert result.get("failed") is True, result
    assert result["msg"].startswith(f"{HOST}: "), result["msg"]
    for word in words:
        assert word in result["msg"], result["msg"]
    assert "exception" not in result


def test_bad_date_fails_naming_host(run_action, fake_connection, recorded):
    result = run_action(
        "baseline_info", fake_connection(stdout=recorded("azure-2025-ae")), args={"date": "notadate"}
    )
    _assert_failed(result, "notadate")


def test_bad_catalog_fails_naming_host(run_action, fake_connection, recorded):
    result = run_action(
        "baseline_info",
        fake_connection(stdout=recorded("azure-2025-ae")),
        task_vars={"hotpatch_catalog": [{"os": "2025"}]},
    )
    _assert_failed(result)


@pytest.mark.parametrize(
    ("connection_args", "words"),
    [
        ({"stdout": ""}, ["empty"]),
        ({"stdout": '{"os":{"product_name":"Win'}, ["truncated"]),
        ({"stdout": "<html>proxy error</html>"}, ["not JSON"]),
        ({"stdout": "", "stderr": "Access is denied.", "rc": 5}, ["rc 5", "Access is denied."]),
    ],
)
def test_probe_failures_fail_naming_host(run_action, fake_connection, connection_args, words):
    _assert_failed(run_action("baseline_info", fake_connection(**connection_args)), *words)


def test_connection_error_fails_naming_host(run_action, fake_connection, connection_error):
    _assert_failed(
        run_action("baseline_info", fake_connection(error=connection_error)), "cannot reach the host"
    )
