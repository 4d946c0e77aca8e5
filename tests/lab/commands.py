"""What a simulated host does with a WinRS command: decode the PowerShell command line (nested
-EncodedCommand on older ansible-core), recognise the script and answer as that Windows would."""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

from . import modules, packages
from .windows import filetime

ENCODED = re.compile(
    r"^\s*(?:&\s*)?\S*powershell(?:\.exe)?\"?\s.*?-(?:EncodedCommand|enc|ec|e)\s+([A-Za-z0-9+/=]+)",
    re.IGNORECASE | re.DOTALL,
)
SHUTDOWN_RESTART = re.compile(r"shutdown(?:\.exe)?\s+/r(?:\s+/t\s+(\d+))?", re.IGNORECASE)


@dataclass
class Outcome:
    stdout: str = ""
    stderr: str = ""
    rc: int = 0
    delay: float = 0.0  # seconds the command runs before it is Done
    what: str = "command"  # for the ledger
    restart_in: float | None = None  # a restart begins this many seconds after the command ends
    extra: dict = field(default_factory=dict)
    produce: object = None  # called when the answer is due: returns the Outcome to deliver


def decode_command(command: str, arguments: list) -> str:
    """The script a command line runs, after unwrapping every PowerShell -EncodedCommand layer."""
    text = " ".join([command, *arguments]).strip()
    for _ in range(5):
        match = ENCODED.match(text)
        if not match:
            break
        try:
            text = base64.b64decode(match.group(1)).decode("utf-16-le").strip()
        except (binascii.Error, UnicodeDecodeError):
            break
    return text


def is_probe(text: str) -> bool:
    return "Win32_DeviceGuard" in text and "HotPatchRestrictions" in text


def run(host, script: str, stdin: bytes) -> Outcome:
    """Answer one command on `host` (a windows.SimHost)."""
    if b"\0\0\0\0" in stdin:
        return modules.run_payload(host, stdin)
    stdin_text = stdin.decode("utf-8", errors="replace")
    if is_probe(script) or is_probe(stdin_text):
        return probe(host)
    outcome = _run_script(host, script)
    outcome.delay += modules.powershell_start(host)
    return outcome


def _run_script(host, script: str) -> Outcome:
    if "LastBootUpTime" in script:
        return Outcome(stdout=f"{filetime(host.last_boot)}\r\n", what="boot_time")
    restart = SHUTDOWN_RESTART.search(script)
    if restart:
        return shutdown(host, script, int(restart.group(1) or 30))
    if re.search(r"shutdown(?:\.exe)?\s+/a", script, re.IGNORECASE):
        return Outcome(
            stderr="Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n",
            rc=1116,
            what="shutdown_abort",
        )
    if "AutoLogonChecked" in script:
        return logon_test(host, script)
    return interpret(host, script)


# Seconds the probe itself waits: each Instance Metadata request times out after 2 s, a CIM query after 15 s
# (plugins/plugin_utils/hotpatch_probe.ps1). Without a timing model a timeout costs a tenth of that.
IMDS_TIMEOUT, WMI_TIMEOUT, PROBE_WORK = 2.0, 15.0, 2.0
# The probe's Instance Metadata retries (docs/probe.md): at most 3 requests within 7 s, pausing 0.3 s times
# the attempt; retried on HTTP 429/410/5xx, and on a timeout where the host looks like an Azure VM.
IMDS_ATTEMPTS, IMDS_BUDGET, IMDS_PAUSE = 3, 7.0, 0.3
IMDS_ERRORS = {"timeout": "timeout", "throttled": "http 429", "absent": "unreachable (ConnectFailure)"}


def imds_exchange(host) -> tuple:
    """(answers of each request, lab seconds spent, the probe's read error or None), as the probe asks."""
    looks_azure = host.spec.get("azure_vm_agent", "absent") != "absent" or str(
        host.spec["edition_id"]
    ).startswith("ServerTurbine")
    answers, seconds = [], 0.0
    for attempt in range(1, IMDS_ATTEMPTS + 1):
        answer = host.imds_answer()
        answers.append(answer)
        if answer == "timeout":
            seconds += IMDS_TIMEOUT
        if answer == "ok":
            return answers, seconds, None
        retry = answer == "throttled" or (answer == "timeout" and looks_azure)
        pause = IMDS_PAUSE * attempt
        if not retry or attempt == IMDS_ATTEMPTS or seconds + pause + IMDS_TIMEOUT > IMDS_BUDGET:
            break
        seconds += pause
    error = IMDS_ERRORS[answers[-1]]
    if len(answers) > 1:
        error = f"{error} after {len(answers)} attempts"
    return answers, seconds, error


def probe(host) -> Outcome:
    answers, imds_seconds, imds_error = imds_exchange(host)
    wmi = host.wmi_answer()
    lab_seconds = (PROBE_WORK if host.timing else 0.0) + (imds_seconds if host.timing else imds_seconds / 10)
    if wmi == "timeout":
        lab_seconds += WMI_TIMEOUT if host.timing else WMI_TIMEOUT / 10
    delay = host.clock.real(lab_seconds) if host.timing else lab_seconds
    delay += modules.powershell_start(host)
    extra = {}
    if answers != ["ok"] and answers != ["absent"]:
        extra["imds"] = ",".join(answers)
    if imds_error and answers[-1] != "absent":
        extra["imds_error"] = imds_error
    if wmi != "ok":
        extra["wmi"] = wmi
    if host.faults.get("probe_garbage"):
        return Outcome(
            stdout="Get-CimInstance : Access denied \r\n\x00\x1b[31m{{{ not json\r\n",
            delay=delay,
            what="probe",
        )
    facts = host.probe_facts(imds=answers[-1], wmi=wmi, imds_error=imds_error)
    return Outcome(stdout=json.dumps(facts) + "\r\n", delay=delay, what="probe", extra=extra)


def shutdown(host, script: str, seconds: int) -> Outcome:
    if "Remove-Item" in script and "AutoLogonChecked" in script:
        host.logon_ready = False
    body = json.dumps({"stdout": "", "stderr": "", "rc": 0})
    if "ConvertTo-Json" not in script:
        body = ""
    return Outcome(stdout=body + "\r\n", what="shutdown", restart_in=float(seconds))


def logon_test(host, script: str) -> Outcome:
    if not host.logon_ready:
        return Outcome(
            stderr="Get-Item : Cannot find path 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
            "\\Winlogon"
            "\\AutoLogonChecked' because it does not exist.\r\n",
            rc=1,
            what="logon_test",
        )
    literals = re.findall(r"'([^']*)'", script)
    out = (
        "\r\n    Hive: HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\r\n\r\n"
    )
    if literals:
        out += literals[-1] + "\r\n"
    return Outcome(stdout=out, what="logon_test")


def azcmagent(host, command: str) -> Outcome:
    """`azcmagent show -j`: the agent's state as JSON, as the Azure Connected Machine agent prints it; without
    -j only the two properties Microsoft's page names ("Agent Status", "Agent Last Heartbeat"); without the
    agent, cmd's "not recognized" error."""
    show = host.azcmagent_show()
    if show is None:
        return Outcome(
            stderr="'azcmagent' is not recognized as an internal or external command,\r\n"
            "operable program or batch file.\r\n",
            rc=1,
            what="azcmagent_missing",
        )
    if re.search(r"\s(?:-j|--json)\b", command):
        return Outcome(stdout=json.dumps(show, indent=2) + "\r\n", what="azcmagent_show")
    lines = [f"Agent Status : {show['status']}", f"Agent Last Heartbeat : {show['lastHeartbeat']}"]
    return Outcome(stdout="\r\n".join(lines) + "\r\n", what="azcmagent_show")


def interpret(host, script: str) -> Outcome:
    """A command line as cmd.exe or PowerShell would run it: servicing commands (dism, wusa,
    Get-WindowsPackage, Remove-WindowsPackage, Get-HotFix) and a few harmless ones; anything else fails
    naming the command."""
    body = re.sub(r"(?is)If \(-not \$\?\).*$", "", script).strip().rstrip(";").strip()
    body = re.sub(r"(?i)^Set-StrictMode -Version Latest\s*", "", body).strip()
    body = re.sub(r"^&\s*", "", body)
    servicing = packages.answer(host, body)
    if servicing is not None:
        return servicing
    lowered = body.lower()
    if re.search(r"azcmagent(?:\.exe)?\"?\s+show\b", lowered):
        return azcmagent(host, lowered)
    if lowered in ("hostname", "hostname.exe", "$env:computername", "[environment]::machinename"):
        return Outcome(stdout=host.name.upper()[:15] + "\r\n", what="hostname")
    if lowered in ("whoami", "whoami.exe"):
        return Outcome(stdout=f"{host.name.lower()[:15]}\\administrator\r\n", what="whoami")
    match = re.fullmatch(r"(?is)(?:echo|write-output|write-host)\s+(.*)", body)
    if match:
        return Outcome(stdout=match.group(1).strip().strip("'\"") + "\r\n", what="echo")
    match = re.fullmatch(r"'([^']*)'|\"([^\"]*)\"", body)
    if match:
        return Outcome(stdout=(match.group(1) or match.group(2) or "") + "\r\n", what="echo")
    match = re.fullmatch(r"(?i)exit\s+(-?\d+)", body)
    if match:
        return Outcome(rc=int(match.group(1)), what="exit")
    first = body.splitlines()[0][:200] if body else "(empty command)"
    word = first.split()[0] if first.split() else first
    return Outcome(
        stderr=f"{word} : The term '{word}' is not recognized by the simulated Windows host {host.name} "
        f"(the lab does not simulate the command: {first})\r\n",
        rc=1,
        what="unknown_command",
        extra={"command": first},
    )
