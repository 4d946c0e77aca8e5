"""hotpatch.windows.eligibility_info through ActionBase.run, against recorded probe outputs."""

import base64
import json

import pytest

try:  # ansible-core 2.19+: only trusted strings (from inventory, playbooks) are templates
    from ansible.template import trust_as_template as trusted
except ImportError:  # older ansible-core templates every string

    def trusted(text):
        return text


from tests.windows_samples.transliterate import load_hosts

HOST = "win01.example.test"
RECORDED_HOSTS = sorted(load_hosts())


@pytest.mark.parametrize("sample", RECORDED_HOSTS)
def test_recorded_host_gives_facts_and_verdict(run_action, fake_connection, recorded, sample):
    result = run_action("eligibility_info", fake_connection(stdout=recorded(sample)))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    document = json.loads(recorded(sample))
    assert result["facts"]["os"]["build"] == document["os"]["build"]
    assert result["facts"]["hotfixes"] == document["hotfixes"]
    assert set(result["eligibility"]) == {"eligible", "platform", "reasons", "warnings"}
    assert result["eligibility"]["eligible"] is (result["eligibility"]["reasons"] == [])
    assert result["ansible_facts"]["hotpatch"] == {
        "facts": result["facts"],
        "eligibility": result["eligibility"],
    }
    assert isinstance(result["probe_seconds"], float)


@pytest.mark.parametrize(
    ("sample", "eligible", "platform", "code"),
    [
        ("azure-2025-ae", True, "azure", None),
        ("azure-2022-ae-core", True, "azure", None),
        ("azure-custom-image", False, "azure", "custom_image"),
        ("azure-2019-ms-learn", False, "azure", "os_not_supported"),
        ("arc-2025-standard", False, "arc", "vbs_not_running"),
    ],
)
def test_recorded_host_verdicts(run_action, fake_connection, recorded, sample, eligible, platform, code):
    result = run_action("eligibility_info", fake_connection(stdout=recorded(sample)))
    verdict = result["eligibility"]
    assert verdict["eligible"] is eligible
    assert verdict["platform"] == platform
    if code:
        assert code in [reason["code"] for reason in verdict["reasons"]]


def test_one_round_trip_with_the_probe_on_stdin(run_action, fake_connection, recorded, installed_collection):
    connection = fake_connection(stdout=recorded("azure-2025-ae"))
    run_action("eligibility_info", connection)
    assert len(connection.calls) == 1
    call = connection.calls[0]
    probe = (installed_collection / "plugins" / "plugin_utils" / "hotpatch_probe.ps1").read_text(
        encoding="ascii"
    )
    assert call["in_data"].decode("ascii").strip() == probe.strip()
    assert call["sudoable"] is False
    # The collection's own launcher, in the form ansible-core's shell plugin uses: winrm sends it as is (no
    # double encoding) and psrp decodes it into its runspace.
    prefix = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
    assert call["cmd"].startswith(prefix)
    launcher = base64.b64decode(call["cmd"].split(" ")[-1]).decode("utf-16-le")
    assert "$input" in launcher
    assert "[ScriptBlock]::Create" in launcher
    assert len(call["cmd"]) < 1000  # far below the command-line limit whatever the probe's size


def test_check_mode_runs_the_read_only_probe(run_action, fake_connection, recorded):
    connection = fake_connection(stdout=recorded("azure-2025-ae"))
    result = run_action("eligibility_info", connection, check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["eligibility"]["eligible"] is True
    assert len(connection.calls) == 1


def test_option_overrides_host_variable(run_action, fake_connection, recorded):
    stdout = recorded("arc-2025-standard")
    from_var = run_action(
        "eligibility_info", fake_connection(stdout=stdout), task_vars={"hotpatch_platform": "on_premises"}
    )
    assert from_var["eligibility"]["platform"] == "on_premises"
    from_option = run_action(
        "eligibility_info",
        fake_connection(stdout=stdout),
        args={"platform": "arc"},
        task_vars={"hotpatch_platform": "on_premises"},
    )
    assert from_option["eligibility"]["platform"] == "arc"


def test_host_variables_reach_the_decision(run_action, fake_connection, recorded):
    stdout = recorded("arc-2025-standard")
    licensed = run_action(
        "eligibility_info", fake_connection(stdout=stdout), task_vars={"hotpatch_arc_license": "disabled"}
    )
    assert "arc_not_licensed" in [reason["code"] for reason in licensed["eligibility"]["reasons"]]
    templated = run_action(
        "eligibility_info",
        fake_connection(stdout=stdout),
        task_vars={"hotpatch_arc_license": trusted("{{ licence_state }}"), "licence_state": "disabled"},
    )
    assert "arc_not_licensed" in [reason["code"] for reason in templated["eligibility"]["reasons"]]


def _assert_failed(result, *words):
    assert result.get("failed") is True, result
    assert result["changed"] is False
    assert result["msg"].startswith(f"{HOST}: "), result["msg"]
    for word in words:
        assert word in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]
    assert "exception" not in result


@pytest.mark.parametrize(
    ("stdout", "words"),
    [
        ("", ["empty"]),
        ("  \r\n  ", ["empty"]),
        (
            '{"os":{"product_name":"Windows Server 2025 Datacenter Azure Edition","edition_id":"Serv',
            ["truncated", "Serv"],
        ),
        ("Get-CimInstance : Access denied\r\n", ["not JSON", "Access denied"]),
        ("[1, 2, 3]", ["a list"]),
        ('{"os": null}', ["lacks", "vbs_status"]),
    ],
)
def test_bad_output_fails_naming_host_and_cause(run_action, fake_connection, stdout, words):
    _assert_failed(run_action("eligibility_info", fake_connection(stdout=stdout)), *words)


def test_half_a_recorded_output_is_truncated(run_action, fake_connection, recorded):
    stdout = recorded("azure-2022-ae-core")
    result = run_action("eligibility_info", fake_connection(stdout=stdout[: len(stdout) // 2]))
    _assert_failed(result, "truncated")


def test_malformed_fact_is_named(run_action, fake_connection, recorded):
    document = json.loads(recorded("azure-2025-ae"))
    document["vbs_status"] = "running"
    result = run_action("eligibility_info", fake_connection(stdout=json.dumps(document)))
    _assert_failed(result, "vbs_status")


def test_nonzero_rc_fails_with_rc_and_stderr(run_action, fake_connection):
    stderr = "#< CLIXML\r\nThe term 'Get-CimInstance' is not recognized"
    result = run_action("eligibility_info", fake_connection(stdout="", stderr=stderr, rc=1))
    _assert_failed(result, "rc 1", "Get-CimInstance")
    assert result["rc"] == 1
    assert "Get-CimInstance" in result["stderr"]


def test_connection_error_fails_naming_host(run_action, fake_connection, connection_error):
    result = run_action("eligibility_info", fake_connection(error=connection_error))
    _assert_failed(result, "cannot reach the host", "timed out")


def test_stderr_is_shown_with_bad_output(run_action, fake_connection):
    result = run_action(
        "eligibility_info", fake_connection(stdout="nothing useful", stderr="Access is denied.")
    )
    _assert_failed(result, "not JSON", "Access is denied.")


def test_bad_option_value_fails_naming_host(run_action, fake_connection, recorded):
    connection = fake_connection(stdout=recorded("azure-2025-ae"))
    result = run_action("eligibility_info", connection, args={"platform": "mars"})
    _assert_failed(result, "platform", "mars")
    assert connection.calls == []  # options are checked before the host is asked anything


def test_unknown_option_fails_naming_host(run_action, fake_connection, recorded):
    result = run_action(
        "eligibility_info", fake_connection(stdout=recorded("azure-2025-ae")), args={"colour": "red"}
    )
    _assert_failed(result, "colour")


def test_bad_host_variable_fails_naming_host_and_variable(run_action, fake_connection, recorded):
    result = run_action(
        "eligibility_info",
        fake_connection(stdout=recorded("azure-2025-ae")),
        task_vars={"hotpatch_platform": "mars"},
    )
    _assert_failed(result, "hotpatch_platform", "mars")


def test_non_powershell_shell_fails_clearly(run_action, fake_connection, recorded):
    from ansible.plugins.loader import shell_loader

    connection = fake_connection(stdout=recorded("azure-2025-ae"))
    connection._shell = shell_loader.get("sh")
    result = run_action("eligibility_info", connection)
    _assert_failed(result, "powershell")
    assert connection.calls == []


def test_foreign_connection_exception_fails_without_traceback(run_action, fake_connection):
    # psrp can let a requests/pypsrp exception through instead of AnsibleConnectionFailure.
    result = run_action(
        "eligibility_info", fake_connection(error=ConnectionResetError("connection reset by peer"))
    )
    _assert_failed(result, "ConnectionResetError", "connection reset by peer")
