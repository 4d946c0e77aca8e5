"""The probe and its output: parse_probe_output, the recorded samples, and what the script reads."""

import json
import re

import pytest

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import FACT_KEYS, validate_facts
from ansible_collections.hotpatch.windows.plugins.plugin_utils._probe import LAUNCHER, parse_probe_output
from tests.windows_samples.transliterate import HERE as SAMPLES
from tests.windows_samples.transliterate import compressed, load_hosts, probe_document

HOSTS = load_hosts()


@pytest.fixture(scope="module")
def probe_text(installed_collection):
    return (installed_collection / "plugins" / "plugin_utils" / "hotpatch_probe.ps1").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_recorded_output_is_the_transliterated_probe(name):
    """probe_outputs/ holds what the probe prints for the recorded samples (see transliterate.py)."""
    recorded = (SAMPLES / "probe_outputs" / f"{name}.json").read_text(encoding="ascii").strip()
    assert json.loads(recorded) == probe_document(HOSTS[name])
    assert recorded == compressed(probe_document(HOSTS[name]))


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_recorded_output_parses(name):
    recorded = (SAMPLES / "probe_outputs" / f"{name}.json").read_text(encoding="ascii")
    facts = parse_probe_output(recorded)
    assert facts == validate_facts(json.loads(recorded))
    assert parse_probe_output(recorded.encode("ascii")) == facts
    assert parse_probe_output(f"\r\n{recorded}\r\n") == facts


def test_microsoft_imds_sample_reads_the_image_reference():
    """Microsoft's sample has a test publisher at the top and the marketplace one in imageReference."""
    azure = probe_document(HOSTS["azure-2019-ms-learn"])["azure"]
    assert azure == {
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
        "sku": "2019-Datacenter",
        "image_id": "",
        "location": "westus",
        "vm_scale_set_name": "crpteste9vflji9",
    }


def test_get_hotfix_sample_gives_kb_ids():
    assert probe_document(HOSTS["azure-2019-ms-learn"])["hotfixes"] == ["KB4470788", "KB4480056", "KB4495590"]


def test_missing_pieces_are_null_not_errors():
    facts = parse_probe_output(
        (SAMPLES / "probe_outputs" / "onprem-2022-datacenter.json").read_text(encoding="ascii")
    )
    assert facts["vbs_status"] is None
    assert facts["azure"] is None
    assert facts["secure_boot"] is None
    assert facts["reboot_pending"]["cbs"] is None
    assert facts["arc"] == {"agent_installed": False, "agent_running": False}


def test_text_before_the_document_is_tolerated():
    recorded = (SAMPLES / "probe_outputs" / "azure-2025-ae.json").read_text(encoding="ascii")
    assert parse_probe_output("WARNING: something noisy\r\n" + recorded)["os"]["build"] == 26100


@pytest.mark.parametrize(
    ("stdout", "pattern"),
    [
        (None, "empty"),
        ("", "empty"),
        (b"   \r\n", "empty"),
        ('{"os": {"build": 26', r"truncated.*'\{\"os\": \{\"build\": 26'"),
        ("The term 'ConvertTo-Json' is not recognized", "not JSON.*ConvertTo-Json"),
        ("[]", "a list"),
        ('"facts"', "a string"),
        ("42", "a number"),
        ("null", "null"),
        ('{"os": {}}', "lacks vbs_status, hotpatch_restrictions"),
    ],
)
def test_bad_output_raises_a_clear_error(stdout, pattern):
    with pytest.raises(HotpatchError, match=pattern):
        parse_probe_output(stdout)


def test_malformed_fact_is_named():
    document = json.loads((SAMPLES / "probe_outputs" / "azure-2025-ae.json").read_text(encoding="ascii"))
    document["os"]["build"] = "twenty"
    with pytest.raises(HotpatchError, match=r"os\.build"):
        parse_probe_output(json.dumps(document))


def test_long_garbage_is_excerpted():
    garbage = "x" * 5000 + " tail-marker"
    with pytest.raises(HotpatchError) as error:
        parse_probe_output(garbage)
    assert len(str(error.value)) < 400
    assert "tail-marker" in str(error.value)


def test_probe_prints_every_fact_of_the_contract(probe_text):
    for key in FACT_KEYS:
        assert re.search(rf"^\s*{key} = ", probe_text, re.MULTILINE), f"the probe does not print {key}"
    for key in ("product_name", "edition_id", "installation_type", "build", "ubr", "architecture"):
        assert re.search(rf"^\s*{key} = ", probe_text, re.MULTILINE), f"the probe does not print os.{key}"
    for key in ("publisher", "offer", "sku", "image_id", "location", "vm_scale_set_name"):
        assert re.search(rf"^\s*{key} = ", probe_text, re.MULTILINE), f"the probe does not print azure.{key}"
    for key in (
        "cbs",
        "windows_update",
        "file_rename",
        "computer_rename",
        "agent_installed",
        "agent_running",
    ):
        assert re.search(rf"\b{key} = ", probe_text), f"the probe does not print {key}"
    assert "ConvertTo-Json -InputObject $facts -Compress -Depth 5" in probe_text


def test_probe_reads_what_the_design_names(probe_text):
    for source in (
        r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion",
        "'ProductName'",
        "'EditionID'",
        "'InstallationType'",
        "'CurrentBuild'",
        "'UBR'",
        "Win32_DeviceGuard",
        "VirtualizationBasedSecurityStatus",
        "HotPatchRestrictions",
        "Confirm-SecureBootUEFI",
        "http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01",
        "'Metadata', 'true'",
        "'himds'",
        "Win32_QuickFixEngineering",
        r"Component Based Servicing\RebootPending",
        r"WindowsUpdate\Auto Update\RebootRequired",
        "PendingFileRenameOperations",
        "ActiveComputerName",
        "LastBootUpTime",
        "TimeZoneInfo",
    ):
        assert source in probe_text, f"the probe does not read {source}"


def test_probe_cannot_hang_or_leak_through_a_proxy(probe_text):
    timeouts = [int(value) for value in re.findall(r"\.(?:Timeout|ReadWriteTimeout) = (\d+)", probe_text)]
    assert timeouts, "the IMDS request has no timeout"
    assert max(timeouts) <= 3000
    assert "$request.Proxy = New-Object -TypeName System.Net.WebProxy" in probe_text
    assert "-OperationTimeoutSec" in probe_text


def test_probe_is_read_only_plain_and_windows_powershell_5_1(probe_text):
    assert probe_text.isascii()
    code = "\n".join(line for line in probe_text.splitlines() if not line.lstrip().startswith("#"))
    for writer in (
        "Set-Item",
        "New-Item",
        "Remove-Item",
        "Set-ItemProperty",
        "New-ItemProperty",
        "Restart-",
        "Stop-",
        "Start-",
        "Invoke-Expression",
        "Invoke-WebRequest",
        "Out-File",
        "Set-Content",
    ):
        assert writer not in code, f"the probe must only read, found {writer}"
    for ps7_only in ("??", "?.", "-NoProxy", "&&", "||", "ConvertFrom-Json -AsHashtable"):
        assert ps7_only not in code, f"{ps7_only} does not work on Windows PowerShell 5.1"
    assert not re.search(r"\bexit\b", code), "exit would end the psrp runspace, not just the probe"


def test_launcher_runs_stdin_as_one_script_block():
    assert "$input" in LAUNCHER
    assert "[ScriptBlock]::Create" in LAUNCHER
    assert len(LAUNCHER) < 200


def test_samples_name_their_sources():
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for folder in ("registry", "deviceguard", "imds", "hotfix", "azcmagent"):
        for sample in sorted((SAMPLES / folder).iterdir()):
            assert f"{folder}/{sample.name}" in readme, f"{folder}/{sample.name} has no source in README.md"
    assert readme.count("https://learn.microsoft.com/") >= 4


def test_probe_prints_the_optional_keys(probe_text):
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import OPTIONAL_KEYS

    for key in OPTIONAL_KEYS:
        assert re.search(rf"^\s*{key} = ", probe_text, re.MULTILINE), f"the probe does not print {key}"


def test_probe_reads_the_enrolment_and_update_policy_signals(probe_text):
    for source in (
        "'HotPatchTableSize'",
        r"Update\TargetingInfo\DynamicInstalled\Hotpatch.",
        "'EnableVirtualizationBasedSecurity'",
        "'RequirePlatformSecurityFeatures'",
        r"HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate",
        "'WUServer'",
        "'UseWUServer'",
        "'NoAutoUpdate'",
        "'AUOptions'",
        "'WindowsAzureGuestAgent'",
        r"AzureConnectedMachineAgent\azcmagent.exe",
    ):
        assert source in probe_text, f"the probe does not read {source}"


def test_the_only_child_process_is_azcmagent_show_and_it_is_bounded(probe_text):
    code = "\n".join(line for line in probe_text.splitlines() if not line.lstrip().startswith("#"))
    assert code.count("[System.Diagnostics.Process]::Start(") == 1
    assert "$startInfo.Arguments = 'show -j'" in code
    assert "WaitForExit($AzcmagentTimeoutMs)" in code and "$agentProcess.Kill()" in code
    timeout = int(re.search(r"\$AzcmagentTimeoutMs = (\d+)", code).group(1))
    assert timeout <= 15000


def test_instance_metadata_retries_are_bounded(probe_text):
    attempts = int(re.search(r"\$ImdsAttempts = (\d+)", probe_text).group(1))
    budget = int(re.search(r"\$ImdsBudgetMs = (\d+)", probe_text).group(1))
    assert 1 < attempts <= 3 and budget <= 10000
    # retried on HTTP 429, 410 and 5xx, and on a timeout only where an answer is due
    assert "$httpCode -eq 429 -or $httpCode -eq 410 -or $httpCode -ge 500" in probe_text
    assert "$retry = $looksAzure" in probe_text


def test_read_errors_are_recorded_not_swallowed(probe_text):
    for fact in ("vbs", "imds", "arc", "hotfixes", "azcmagent", "os", "windows_update_policy", "enrolment"):
        assert f"'{fact}'" in probe_text, f"the probe never records a read error of {fact}"
