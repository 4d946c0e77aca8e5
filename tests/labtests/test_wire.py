"""The wire: real pywinrm against the lab (HTTP and HTTPS with validation), WinRS details, the probe."""

import base64
import json
import time

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError

from tests.lab import Lab
from tests.lab.ledger import Ledger

LAUNCHER = "$script = [scriptblock]::Create(($input | Out-String)); & $script"
PROBE = """
$dg = Get-CimInstance -Namespace root/Microsoft/Windows/DeviceGuard -ClassName Win32_DeviceGuard
$mm = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management'
$hp = (Get-ItemProperty $mm).HotPatchRestrictions
"""
FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "hosts": {
        "web01": {"os": "2025", "platform": "azure", "vars": {"hotpatch_availability_group": "web"}},
        "arm01": {
            "os": "2025",
            "platform": "azure",
            "architecture": "ARM64",
            "chpe": False,
            "vbs": "enabled",
        },
        "arc01": {
            "os": "2025",
            "platform": "arc",
            "arc": {"agent": "stopped", "hotpatch_license": "enabled"},
            "reboot_pending": ["file_rename"],
            "timezone": "W. Europe Standard Time",
        },
        "imds01": {"os": "2025", "platform": "azure", "faults": ["imds_timeout"]},
        # a probe that outlives a 1 s operation timeout: Instance Metadata and the DeviceGuard query time out
        "slowprobe01": {"os": "2025", "platform": "azure", "faults": ["imds_timeout", "wmi_timeout"]},
        "garbage01": {"os": "2022", "platform": "azure", "faults": ["probe_garbage"]},
    },
}


def session(lab: Lab, host: str, https=False, password=None) -> winrm.Session:
    scheme = "https" if https else "http"
    kwargs = (
        {"server_cert_validation": "validate", "ca_trust_path": str(lab.state_dir / "ca.pem")}
        if https
        else {}
    )
    return winrm.Session(
        f"{scheme}://127.0.0.1:{lab.ports()[host]}/wsman",
        auth=("Administrator", password or "Lab-Passw0rd!"),
        transport="basic",
        **kwargs,
    )


def encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


def run_probe(sess: winrm.Session, nested=False) -> tuple:
    """Sends the probe as the collection does: a short launcher command, the script on stdin."""
    protocol = sess.protocol
    shell = protocol.open_shell(codepage=65001)
    try:
        args = [
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Unrestricted",
            "-EncodedCommand",
            encoded(LAUNCHER),
        ]
        if nested:  # ansible-core 2.17/2.18 wrap the command once more
            args = [*args[:-1], encoded("PowerShell " + " ".join(args))]
        command = protocol.run_command(shell, "PowerShell", args, console_mode_stdin=False)
        protocol.send_command_input(shell, command, PROBE.encode()[:40])
        protocol.send_command_input(shell, command, PROBE.encode()[40:], end=True)
        started = time.monotonic()
        out, err, rc = protocol.get_command_output(shell, command)
        seconds = time.monotonic() - started
        protocol.cleanup_command(shell, command)
    finally:
        protocol.close_shell(shell)
    return out.decode(), err.decode(), rc, seconds


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab(FLEET, tmp_path_factory.mktemp("wire")) as running:
        yield running


def test_run_cmd_and_run_ps(lab):
    sess = session(lab, "web01")
    result = sess.run_cmd("hostname")
    assert (result.status_code, result.std_out) == (0, b"WEB01\r\n")
    result = sess.run_ps("$env:COMPUTERNAME")
    assert (result.status_code, result.std_out.strip()) == (0, b"WEB01")


def test_unknown_command_fails_naming_it(lab):
    result = session(lab, "web01").run_ps("Restart-Computer -Force")
    assert result.status_code != 0
    assert b"Restart-Computer" in result.std_err
    time.sleep(0.1)
    unknown = [e for e in Ledger(lab.state_dir).events if e.get("what") == "unknown_command"]
    assert unknown[-1]["command"] == "Restart-Computer -Force" and unknown[-1]["rc"] == 1


def test_several_shells_at_once(lab):
    protocol = session(lab, "web01").protocol
    shells = [protocol.open_shell() for _ in range(3)]
    assert len(set(shells)) == 3
    for shell in shells:
        command = protocol.run_command(shell, "hostname")
        assert protocol.get_command_output(shell, command) == (b"WEB01\r\n", b"", 0)
        protocol.cleanup_command(shell, command)
        protocol.close_shell(shell, close_session=False)
    with pytest.raises(winrm.exceptions.WSManFaultError, match="shell was not found"):
        protocol.run_command(shells[0], "hostname")


def test_wrong_password_is_401(lab):
    with pytest.raises(InvalidCredentialsError):
        session(lab, "web01", password="wrong").run_cmd("hostname")


@pytest.mark.parametrize("nested", [False, True], ids=["single", "nested-encoding"])
def test_probe_prints_the_raw_facts(lab, nested):
    out, err, rc, _ = run_probe(session(lab, "web01"), nested=nested)
    assert rc == 0, err
    facts = json.loads(out)
    assert (
        facts["os"]["build"] == 26100 and facts["os"]["ubr"] == 32230
    )  # January 2026 baseline: Feb still to do
    assert facts["os"]["edition_id"] == "ServerTurbineCor"
    assert facts["vbs_status"] == 2 and facts["hotpatch_restrictions"] is None
    assert facts["azure"]["sku"] == "2025-Datacenter-Azure-Edition-Core"
    assert facts["arc"] == {"agent_installed": False, "agent_running": False}
    assert facts["reboot_pending"] == {
        "cbs": False,
        "windows_update": False,
        "file_rename": False,
        "computer_rename": False,
    }
    assert facts["now"].startswith("2026-02-12T02:0")
    assert set(facts) == {
        "os",
        "vbs_status",
        "hotpatch_restrictions",
        "secure_boot",
        "azure",
        "arc",
        "hotfixes",
        "reboot_pending",
        "last_boot",
        "now",
        "timezone",
        # the optional keys of the enrolment probe (docs/probe.md)
        "vbs_config",
        "enrolment",
        "azure_vm_agent",
        "azcmagent",
        "windows_update_policy",
        "read_errors",
    }
    assert facts["read_errors"] == {} and facts["azure_vm_agent"] == {"installed": True, "running": True}
    assert facts["enrolment"]["package_name"] == "Hotpatch Enrollment Package"
    assert facts["vbs_config"]["enable_virtualization_based_security"] == 1 and facts["azcmagent"] is None


def test_probe_arm_arc_and_pending(lab):
    arm = json.loads(run_probe(session(lab, "arm01"))[0])
    assert (
        arm["os"]["architecture"] == "ARM64" and arm["hotpatch_restrictions"] == 1 and arm["vbs_status"] == 1
    )
    arc = json.loads(run_probe(session(lab, "arc01"))[0])
    assert arc["azure"] is None and arc["arc"] == {"agent_installed": True, "agent_running": False}
    assert arc["reboot_pending"]["file_rename"] is True and arc["timezone"] == "W. Europe Standard Time"
    assert arc["os"]["edition_id"] == "ServerDatacenter"


def test_fault_imds_timeout(lab):
    # three requests (the probe retries a timeout on an Azure VM), 2 s each, a tenth without a timing model
    out, _, rc, seconds = run_probe(session(lab, "imds01"))
    facts = json.loads(out)
    assert rc == 0 and seconds >= 0.6
    assert facts["azure"] is None and facts["read_errors"] == {"imds": "timeout after 3 attempts"}


def test_fault_probe_garbage(lab):
    out, _, _, _ = run_probe(session(lab, "garbage01"))
    with pytest.raises(ValueError):
        json.loads(out)
    # only the probe is garbled: other commands still work
    assert session(lab, "garbage01").run_cmd("hostname").status_code == 0


def test_ledger_counts_traffic(lab):
    session(lab, "web01").run_cmd("hostname")
    time.sleep(0.7)
    counters = Ledger(lab.state_dir).counters()["web01"]
    assert counters["requests"] >= 5 and counters["commands"] >= 1
    assert counters["bytes_in"] > 1000 and counters["bytes_out"] > 1000
    assert any(e["event"] == "command" and e["host"] == "web01" for e in lab.ledger().events)


def test_https_with_validation(tmp_path):
    fleet = {"date": "2026-02-12T02:00:00Z", "hosts": {"tls01": {"os": "2025"}}}
    with Lab(fleet, tmp_path, https=True, password="S3cret-lab") as lab:
        result = session(lab, "tls01", https=True, password="S3cret-lab").run_cmd("hostname")
        assert result.std_out == b"TLS01\r\n"
        # validation is real: without the lab's CA the certificate is not trusted
        plain = winrm.Session(
            f"https://127.0.0.1:{lab.ports()['tls01']}/wsman",
            auth=("Administrator", "S3cret-lab"),
            transport="basic",
            server_cert_validation="validate",
        )
        with pytest.raises(requests.exceptions.SSLError):
            plain.run_cmd("hostname")
        inventory = lab.inventory.read_text()
        assert "ansible_winrm_scheme: https" in inventory and "ansible_winrm_ca_trust_path" in inventory


@pytest.mark.parametrize("fault", ["http_500", "unreachable", "bad_credentials"])
def test_wire_faults(tmp_path, fault):
    fleet = {"date": "2026-02-12T02:00:00Z", "hosts": {"bad01": {"os": "2025", "faults": [fault]}}}
    expected = {
        "http_500": winrm.exceptions.WSManFaultError,
        "unreachable": requests.exceptions.ConnectionError,
        "bad_credentials": InvalidCredentialsError,
    }[fault]
    with Lab(fleet, tmp_path) as lab, pytest.raises((expected, WinRMTransportError)):
        session(lab, "bad01").run_cmd("hostname")


def test_long_command_outlives_operation_timeouts(lab):
    """A command running longer than OperationTimeout: Receive answers the WS-Man timeout fault and the client
    asks again, as with Windows."""
    port = lab.ports()["slowprobe01"]
    sess = winrm.Session(
        f"http://127.0.0.1:{port}/wsman",
        auth=("Administrator", "Lab-Passw0rd!"),
        transport="basic",
        operation_timeout_sec=1,
        read_timeout_sec=3,
    )
    before = Ledger(lab.state_dir).counters().get("slowprobe01", {}).get("requests", 0)
    out, _, rc, seconds = run_probe(sess)
    assert rc == 0 and seconds >= 1.9 and json.loads(out)["azure"] is None
    time.sleep(0.7)
    # open, command, 2 sends, at least two receives (one timed out), signal, delete
    assert Ledger(lab.state_dir).counters()["slowprobe01"]["requests"] - before >= 8
