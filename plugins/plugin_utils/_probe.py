"""The probe: sending ``hotpatch_probe.ps1`` to a Windows host and reading its answer.

PowerShell gathers, Python decides. The probe script is read-only and prints one JSON document, the raw
facts of the design; ``parse_probe_output`` turns what came back into checked raw facts (or a
``HotpatchError`` that says what was wrong), and ``run_probe`` does the one round trip over whatever
connection the task uses (``winrm``, ``psrp``, or ``ssh`` with the ``powershell`` shell).

The script travels on stdin, not on the command line: as ``-EncodedCommand`` it would hit the command-line
length limit. The command is a short launcher that reads stdin into a script block and runs it.

The command line is built here, not by ansible-core's PowerShell shell plugin (its ``_encode_script`` is
private and deprecated): ``PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted
-EncodedCommand <launcher>``, the form the ``winrm`` connection runs without wrapping it again (2.19 and
later; earlier releases wrap every command once more, which still reads the same stdin) and the ``psrp``
connection decodes and runs in its runspace. Over ``ssh`` the host's default shell (PowerShell or cmd)
starts it as it is.
"""

import base64
import json
import time
from functools import lru_cache
from pathlib import Path

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.hotpatch.windows.plugins.plugin_utils._eligibility import evaluate_eligibility
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import FACT_KEYS, validate_facts

PROBE_PATH = Path(__file__).with_name("hotpatch_probe.ps1")

# Reads the probe from stdin ($input enumerates its lines) and runs it as one script block.
LAUNCHER = "\n".join(
    (
        "$ErrorActionPreference = 'Stop'",
        '$hotpatchProbe = [ScriptBlock]::Create((@($input) -join "`n"))',
        "& $hotpatchProbe",
    )
)

# The arguments ansible-core's PowerShell shell plugin puts before -EncodedCommand: the psrp connection
# plugin of ansible-core 2.16 to 2.18 recognises an encoded script by exactly this prefix.
POWERSHELL_ARGS = ("PowerShell", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Unrestricted")

# Shell plugins of a Windows host; both run a PowerShell command line as it is.
WINDOWS_SHELLS = ("powershell", "cmd")

EXCERPT_CHARS = 200


class ProbeFailure(HotpatchError):
    """The probe did not give usable facts; ``details`` holds rc/stdout/stderr excerpts for the result."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.details = details


def excerpt(text, limit=EXCERPT_CHARS):
    """A short, one-line view of ``text`` for an error message: its start and, if long, its end."""
    text = to_text(text if text is not None else "", errors="surrogate_or_replace").strip()
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    half = limit // 2
    return f"{flat[:half]} ... {flat[-half:]}"


@lru_cache(maxsize=1)
def probe_script():
    """The probe's text, as sent on stdin (ends with a newline so PowerShell reads its last line)."""
    text = PROBE_PATH.read_text(encoding="ascii")
    return text if text.endswith("\n") else text + "\n"


def encoded_command(script):
    """``PowerShell ... -EncodedCommand <script as base64 of UTF-16-LE>``: one command line, no quoting."""
    lines = [line.strip() for line in to_text(script).splitlines() if line.strip()]
    encoded = base64.b64encode("\n".join(lines).encode("utf-16-le")).decode("ascii")
    return " ".join((*POWERSHELL_ARGS, "-EncodedCommand", encoded))


def probe_command(shell):
    """The command line that runs the probe from stdin; ``shell`` is the connection's shell plugin."""
    family = getattr(shell, "SHELL_FAMILY", None)
    if family not in WINDOWS_SHELLS:
        name = getattr(shell, "_load_name", None) or family or type(shell).__name__
        raise ProbeFailure(
            f"the connection uses the '{name}' shell, not 'powershell': the probe needs a Windows host "
            "(set ansible_shell_type=powershell, or use the winrm or psrp connection)"
        )
    return encoded_command(LAUNCHER)


def _json_document(text):
    """The JSON value in ``text``; tolerates lines printed before the document (banners, warnings)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    if text.lstrip().startswith("{") or (lines and lines[-1].startswith("{")):
        raise HotpatchError(f"the probe output is truncated or malformed JSON: {excerpt(text)!r}")
    raise HotpatchError(f"the probe output is not JSON: {excerpt(text)!r}")


def parse_probe_output(stdout):
    """Raw facts from the probe's stdout.

    ``HotpatchError`` (with an excerpt of what came back) for empty, truncated, non-JSON or incomplete output.
    """
    if isinstance(stdout, bytes):
        stdout = to_text(stdout, errors="surrogate_or_replace")
    if stdout is None or not str(stdout).strip():
        raise HotpatchError("the probe printed nothing (empty output)")
    text = str(stdout).strip()
    document = _json_document(text)
    if not isinstance(document, dict):
        kind = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
            type(document), "null"
        )
        raise HotpatchError(f"the probe output is {kind}, not a JSON object of raw facts: {excerpt(text)!r}")
    missing = [key for key in FACT_KEYS if key not in document]
    if missing:
        raise HotpatchError(
            f"the probe output lacks {', '.join(missing)} (is the host running an older or foreign probe?): "
            f"{excerpt(text)!r}"
        )
    return validate_facts(document)


def run_probe(execute, shell):
    """Run the probe once and return ``(raw facts, seconds)``.

    ``execute`` is the action plugin's ``_low_level_execute_command``; ``shell`` the connection's shell
    plugin. Raises ``ProbeFailure`` (a ``HotpatchError``) for a connection error, a non-zero rc or output
    that is not the raw facts, with rc/stdout/stderr excerpts in ``details``.
    """
    command = probe_command(shell)
    started = time.monotonic()
    try:
        result = execute(command, sudoable=False, in_data=probe_script().encode("ascii"))
    except AnsibleConnectionFailure as error:
        raise ProbeFailure(f"cannot reach the host to run the probe: {error}") from None
    except AnsibleError as error:
        raise ProbeFailure(f"running the probe failed: {error}") from None
    except Exception as error:  # a connection plugin's own exception (psrp, requests): no traceback
        raise ProbeFailure(f"running the probe failed: {type(error).__name__}: {error}") from None
    seconds = round(time.monotonic() - started, 3)
    rc = result.get("rc") or 0
    stdout = result.get("stdout") or ""
    stderr = result.get("stderr") or ""
    details = {"rc": rc, "stdout": excerpt(stdout), "stderr": excerpt(stderr), "probe_seconds": seconds}
    if rc != 0:
        raise ProbeFailure(f"the probe exited with rc {rc}: {excerpt(stderr) or excerpt(stdout)}", **details)
    try:
        facts = parse_probe_output(stdout)
    except HotpatchError as error:
        message = str(error)
        if stderr.strip():
            message = f"{message} (stderr: {excerpt(stderr)})"
        raise ProbeFailure(message, **details) from None
    return facts, seconds


# The shared action plugin: settings from options and host variables, one probe, a failed result that names
# the host instead of a traceback. eligibility_info and baseline_info only add their evaluation.

# option name -> argument spec; the host variable of the same setting is ``hotpatch_<option>``.
SETTING_SPECS = {
    "platform": {"type": "str", "choices": ["auto", "azure", "azure_local", "arc", "on_premises"]},
    "image": {
        "type": "dict",
        "options": {
            "publisher": {"type": "str", "required": True},
            "offer": {"type": "str", "required": True},
            "sku": {"type": "str", "required": True},
        },
    },
    "arc_license": {"type": "str", "choices": ["enabled", "disabled", "unknown"]},
    "vmss_orchestration": {"type": "str"},
    "date": {"type": "raw"},
    "catalog": {"type": "raw"},
    "restart_signals": {
        "type": "list",
        "elements": "str",
        "choices": ["cbs", "windows_update", "file_rename", "computer_rename"],
    },
    "vbs_status": {"type": "int", "choices": [0, 1, 2]},
    "azure_patch_mode": {"type": "str"},
}


class ProbeAction(ActionBase):
    """Base of the hotpatch.windows action plugins: probe the host once, then ``evaluate`` the facts."""

    TRANSFERS_FILES = False
    SETTINGS = ()  # the option names (keys of SETTING_SPECS) this module accepts

    def evaluate(self, facts, settings):
        """The module's result keys for checked raw facts; raises ``HotpatchError`` on bad settings."""
        raise NotImplementedError

    @staticmethod
    def eligibility(facts, settings):
        """The eligibility verdict of the facts with the host settings both modules accept."""
        return evaluate_eligibility(
            facts,
            platform=settings["platform"],
            image=settings["image"],
            arc_license=settings["arc_license"],
            vmss_orchestration=settings["vmss_orchestration"],
            vbs_status=settings.get("vbs_status"),
        )

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True  # the probe only reads
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result["changed"] = False
        host = task_vars.get("inventory_hostname") or self._play_context.remote_addr or "the host"
        try:
            settings = self._settings(task_vars)
            facts, seconds = run_probe(self._low_level_execute_command, self._connection._shell)
            result.update(self.evaluate(facts, settings))
            result["probe_seconds"] = seconds
        except ProbeFailure as error:
            result.update(error.details)
            result.update(failed=True, msg=f"{host}: {error}")
        except (HotpatchError, AnsibleActionFail) as error:
            result.update(failed=True, msg=f"{host}: {error}")
        return result

    def _settings(self, task_vars):
        """Each setting from its module option, else its ``hotpatch_*`` host variable, else None."""
        spec = {name: SETTING_SPECS[name] for name in self.SETTINGS}
        try:
            options = self.validate_argument_spec(argument_spec=spec)[1]
        except AnsibleActionFail as error:
            raise HotpatchError(f"invalid module options: {error}") from None
        settings = {}
        for name in self.SETTINGS:
            value = options.get(name)
            if value is None:
                value = task_vars.get(f"hotpatch_{name}")
                if value is not None:
                    value = self._templar.template(value)
            settings[name] = value
        return settings
