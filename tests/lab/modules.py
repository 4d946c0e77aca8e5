"""PowerShell modules as the simulated host runs them: read the module payload that arrives on stdin
(ansible-core >= 2.19: bootstrap JSON + exec manifest; older: exec_wrapper script + JSON manifest) and
answer for the modules the lab knows."""

import datetime
import json
import math
import random
import re
import time
import uuid

from . import catalog
from .windows import iso

CURRENT_VERSION = r"hklm:\software\microsoft\windows\currentversion"
REBOOT_KEYS = {
    CURRENT_VERSION + r"\component based servicing\rebootpending": "cbs",
    CURRENT_VERSION + r"\windowsupdate\auto update\rebootrequired": "windows_update",
}
SESSION_MANAGER = r"hklm:\system\currentcontrolset\control\session manager"
OPEN_PORTS = {135, 445, 3389, 5985, 5986}


def _manifest(stdin: bytes) -> tuple:
    """(the bootstrap part, the exec manifest) of a module payload."""
    head, _, rest = stdin.partition(b"\0\0\0\0")
    rest = rest.strip()
    return head, json.loads(rest.decode("utf-8")) if rest else {}


def module_request(stdin: bytes) -> tuple:
    """(module name, module args) from a module payload; raises ValueError when it is not one."""
    head, manifest = _manifest(stdin)
    if "module_args" in manifest:  # ansible-core < 2.19
        args = manifest["module_args"]
        return str(args.get("_ansible_module_name", "unknown")), args
    for action in manifest.get("actions", []):  # ansible-core >= 2.19
        if action.get("name") == "module_wrapper.ps1":
            params = action.get("params", {})
            args = {}
            for variable in params.get("Variables", []):
                if variable.get("Name") == "complex_args":
                    args = variable.get("Value") or {}
            name = args.get("_ansible_module_name") or str(params.get("Script", "unknown")).removesuffix(
                ".ps1"
            )
            return str(name), args
    names = [a.get("name") for a in manifest.get("actions", [])]
    raise ValueError(f"a PowerShell payload without a module: {names or head[:80]!r}")


def async_request(stdin: bytes):
    """The async actions of a module payload as one dict (AsyncDir, AsyncJid, Timeout, StartupTimeout, as
    ansible-core >= 2.19's exec manifest names them: `async_wrapper.ps1` and `async_watchdog.ps1`, see
    ansible/executor/powershell/module_manifest.py), or None for a synchronous payload.

    An older payload (ansible-core < 2.19: `async_wrapper` and `async_watchdog` at the head of its action
    list) carries the same in `async_jid`, `async_timeout_sec`, `async_startup_timeout` and the task
    environment's ANSIBLE_ASYNC_DIR (ansible-core 2.16's module_manifest.py and async_wrapper.ps1); `legacy`
    says so, because its wrappers write `started` and `finished` as 1 and 0, not as booleans."""
    _head, manifest = _manifest(stdin)
    actions = manifest.get("actions", [])
    if "module_args" in manifest:
        if "async_jid" in manifest or any(a in ("async_wrapper", "async_watchdog") for a in actions):
            environment = manifest.get("environment") or {}
            return {
                "AsyncDir": environment.get("ANSIBLE_ASYNC_DIR"),
                "AsyncJid": manifest.get("async_jid"),
                "Timeout": manifest.get("async_timeout_sec"),
                "StartupTimeout": manifest.get("async_startup_timeout"),
                "legacy": True,
            }
        return None
    found = {}
    for action in actions:
        if action.get("name") in ("async_wrapper.ps1", "async_watchdog.ps1"):
            found.update(action.get("params", {}))
    return found or None


def run_payload(host, stdin: bytes):
    from .commands import Outcome

    try:
        name, args = module_request(stdin)
        asynchronous = async_request(stdin)
    except (ValueError, UnicodeDecodeError) as exc:
        return Outcome(
            stderr=f"the simulated Windows host {host.name} cannot run this payload: {exc}\r\n",
            rc=1,
            what="unknown_payload",
        )
    short = name.rsplit(".", 1)[-1]
    handler = HANDLERS.get(short)
    params = {k: v for k, v in args.items() if not k.startswith("_ansible")}
    if asynchronous is not None:
        return start_async(host, name, handler, params, args, asynchronous)
    if handler is None:
        return Outcome(
            stderr=f"the simulated Windows host {host.name} does not simulate the module {name}\r\n",
            rc=1,
            what=f"module:{name}",
        )
    result, delay = handler(host, dict(params, __check_mode=bool(args.get("_ansible_check_mode"))))
    delay += powershell_start(host)

    def finish(result):
        result.setdefault("changed", False)
        if short != "async_status":  # a legacy module (Exit-Json) adds no invocation
            result.setdefault("invocation", {"module_args": params})
        return Outcome(
            stdout=json.dumps(result) + "\r\n",
            rc=1 if result.get("failed") else 0,
            what=f"module:{short}",
        )

    if callable(result):  # produced when the answer is due (win_updates polls)
        outcome = Outcome(delay=delay, what=f"module:{short}")
        outcome.produce = lambda: finish(result())
        return outcome
    outcome = finish(result)
    outcome.delay = delay
    return outcome


def powershell_start(host) -> float:
    """Real seconds a PowerShell command takes to start on the host (the timing model), 0 without one."""
    timing = host.timing
    return host.clock.real(timing["powershell"]) if timing else 0.0


# What [Environment]::ExpandEnvironmentVariables gives the WinRM user (the lab's whoami is Administrator)
ENVIRONMENT = {
    "userprofile": r"C:\Users\Administrator",
    "systemroot": r"C:\Windows",
    "windir": r"C:\Windows",
    "temp": r"C:\Users\Administrator\AppData\Local\Temp",
    "tmp": r"C:\Users\Administrator\AppData\Local\Temp",
    "programdata": r"C:\ProgramData",
}


def expand_environment(text: str) -> str:
    """[Environment]::ExpandEnvironmentVariables: %NAME% of a known variable, others stay as written."""
    return re.sub(r"%([^%]+)%", lambda m: ENVIRONMENT.get(m.group(1).lower(), m.group(0)), str(text))


def path_combine(directory: str, name: str) -> str:
    """[System.IO.Path]::Combine for Windows paths."""
    if re.match(r"^([a-zA-Z]:)?[\\/]", name) or not directory:
        return name
    if directory.endswith(("\\", "/", ":")):
        return directory + name
    return directory + "\\" + name


WATCHDOG_TIMEOUT = "timed out waiting for module completion"


class AsyncJob:
    """A module started by ansible-core's async_wrapper.ps1: a new PowerShell process runs the module under
    async_watchdog.ps1, which writes the results file (host.async_files, keyed by the lower-case path: Windows
    paths ignore case) when the module ends or when Timeout seconds have passed. A restart kills the process:
    the file keeps the record async_wrapper.ps1 wrote."""

    def __init__(self, host, module: str, path: str, record: dict):
        self.host = host
        self.module = module
        self.path = path
        self.record = dict(record)
        self.state = "running"  # running | finished | watchdog_timeout | killed
        self.ends_at = math.inf  # time.monotonic() when the watchdog writes the file (finish or timeout)
        self.task = None  # win_updates' UpdateTask: its lifetime is tied to the module process in async

    def _end(self, state: str, record):
        """Ends the job once; `record` (None: nothing is written) goes into its results file."""
        if self.state != "running":
            return
        self.state = state
        if self.task is not None and not self.task.done:
            self.task.cancelled = True
        if record is not None:  # the watchdog's Set-Content writes the file again, also after a cleanup
            self.host.async_files[self.path.lower()] = record
        self.host.record(
            self.host.name, "async_job", jid=self.record["ansible_job_id"], module=self.module, end=state
        )

    def _finished(self):
        """What async_watchdog.ps1 sets `finished` to: `$true` (ansible-core >= 2.19), 1 before."""
        return (
            1
            if isinstance(self.record.get("finished"), int)
            and not isinstance(self.record.get("finished"), bool)
            else True
        )

    def finish(self, result: dict):
        """async_watchdog.ps1: `$result.finished = $true` then `$result = $result + $moduleResult`."""
        self._end("finished", {**self.record, "finished": self._finished(), **result})

    def time_out(self):
        """async_watchdog.ps1 when WaitOne($Timeout * 1000) ran out: it stops the module and writes its
        failure record (`exception` as its catch block formats the error record)."""
        exception = "\r\n".join(
            [
                WATCHDOG_TIMEOUT,
                "At line:104 char:9",
                f'+         throw "{WATCHDOG_TIMEOUT}"',
                "+         ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
                "+ CategoryInfo          : OperationStopped: "
                f"({WATCHDOG_TIMEOUT}:String) [], RuntimeException",
                f"+ FullyQualifiedErrorId : {WATCHDOG_TIMEOUT}",
                "",
                "ScriptStackTrace:",
                "at <ScriptBlock>, <No file>: line 104",
            ]
        )
        self._end(
            "watchdog_timeout",
            {
                **self.record,
                "finished": self._finished(),
                "exception": exception,
                "failed": True,
                "msg": f"failure during async watchdog: {WATCHDOG_TIMEOUT}",
                "stdout": None,
                "stderr": "",
            },
        )

    def kill(self):
        """The host restarts: the process is gone, nothing more is written."""
        self._end("killed", None)


def start_async(host, name: str, handler, params: dict, args: dict, options: dict):
    """async_wrapper.ps1: writes the start record to AsyncDir\\<AsyncJid>.<pid>, starts the module in a new
    process under the watchdog and answers with that record at once."""
    from .commands import Outcome

    short = name.rsplit(".", 1)[-1]
    async_dir = expand_environment(options.get("AsyncDir") or r"%USERPROFILE%\.ansible_async")
    pid = random.randint(1000, 30000)
    job_id = f"{options.get('AsyncJid', 'j0')}.{pid}"
    path = path_combine(async_dir, job_id)
    legacy = bool(options.get("legacy"))  # ansible-core < 2.19: `started = 1`, `finished = 0`
    record = {
        "started": 1 if legacy else True,
        "finished": 0 if legacy else False,
        "results_file": path,
        "ansible_job_id": job_id,
        "_ansible_suppress_tmpdir_delete": True,
        "ansible_async_watchdog_pid": pid + random.randint(4, 400),
    }
    host.async_files[path.lower()] = dict(record)
    host.async_jobs = [j for j in host.async_jobs if j.state == "running"]
    job = AsyncJob(host, short, path, record)
    host.async_jobs.append(job)

    def done(result):
        result.setdefault("changed", False)
        result.setdefault("invocation", {"module_args": params})
        return result

    if handler is None:
        result = {
            "failed": True,
            "msg": f"the simulated Windows host {host.name} does not simulate the module {name}",
        }
        delay = 0.0
    else:
        result, delay = handler(host, dict(params, __check_mode=bool(args.get("_ansible_check_mode"))))
        job.task = getattr(result, "task", None)
    due = powershell_start(host) + delay  # the async process starts PowerShell again, then runs the module
    host.schedule(due, lambda: job.finish(done(result() if callable(result) else result)))
    timeout = options.get("Timeout")
    if timeout:  # seconds, as Ansible sends them: real seconds also with a timing model
        host.schedule(float(timeout), job.time_out)
    job.ends_at = time.monotonic() + min(due, float(timeout) if timeout else math.inf)
    return Outcome(
        stdout=json.dumps(record) + "\r\n",
        delay=powershell_start(host),
        what=f"module:{short}",
        extra={"async_jid": job_id, **({"state": params["state"]} if params.get("state") else {})},
    )


def async_status(host, params):
    """ansible.windows' async_status.ps1 (the module behind ansible.builtin.async_status on Windows): the
    results file AsyncDir\\jid as it is now; `cleanup` removes it."""
    jid = str(params.get("jid", ""))
    mode = params.get("mode") or "status"
    async_dir = expand_environment(str(params.get("_async_dir") or ""))
    if not async_dir:
        return {"failed": True, "msg": "Get-AnsibleParam: Missing required argument: _async_dir"}, 0.0
    log_path = path_combine(async_dir, jid)
    key = log_path.lower()
    if key not in host.async_files:
        return {
            "ansible_job_id": jid,
            "started": 1,
            "finished": 1,
            "failed": True,
            "msg": f"could not find job at '{async_dir}'",
        }, 0.0
    if mode == "cleanup":
        del host.async_files[key]
        return {"ansible_job_id": jid, "erased": log_path}, 0.0
    data = dict(host.async_files[key])
    if "started" not in data:
        data["finished"] = 1
        data["ansible_job_id"] = jid
    elif "finished" not in data:
        data["finished"] = 0
    return data, 0.0


def win_ping(host, params):
    return {"ping": params.get("data", "pong")}, 0.0


def setup(host, params):
    now = host.clock.now()
    local = now.astimezone(datetime.UTC)
    version = f"10.0.{catalog.MAJOR[host.os]}.0"
    facts = {
        "ansible_hostname": host.name.upper()[:15],
        "ansible_fqdn": f"{host.name}.lab.invalid",
        "ansible_nodename": f"{host.name}.lab.invalid",
        "ansible_os_family": "Windows",
        "ansible_system": "Win32NT",
        "ansible_os_name": f"Microsoft {host.product_name()}",
        "ansible_os_product_type": "server",
        "ansible_os_installation_type": host.spec["installation_type"],
        "ansible_distribution": f"Microsoft {host.product_name()}",
        "ansible_distribution_version": version,
        "ansible_distribution_major_version": "10",
        "ansible_kernel": version,
        "ansible_architecture": "64-bit",
        "ansible_architecture2": "x86_64" if host.spec["architecture"] == "AMD64" else "arm64",
        "ansible_lastboot": host.last_boot.strftime("%Y-%m-%d %H:%M:%SZ"),
        "ansible_uptime_seconds": int((now - host.last_boot).total_seconds()),
        "ansible_powershell_version": 5,
        "ansible_windows_domain": "WORKGROUP",
        "ansible_windows_domain_member": False,
        "ansible_windows_domain_role": "Stand-alone server",
        "ansible_ip_addresses": ["127.0.0.1"],
        "ansible_interfaces": [],
        "ansible_env": {"COMPUTERNAME": host.name.upper()[:15], "OS": "Windows_NT"},
        "ansible_date_time": {
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M:%S"),
            "year": local.strftime("%Y"),
            "month": local.strftime("%m"),
            "day": local.strftime("%d"),
            "hour": local.strftime("%H"),
            "minute": local.strftime("%M"),
            "second": local.strftime("%S"),
            "weekday": local.strftime("%A"),
            "weekday_number": local.strftime("%w"),
            "weeknumber": local.strftime("%W"),
            "epoch": str(int(now.timestamp())),
            "iso8601": local.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "iso8601_micro": iso(now),
            "tz": host.spec["timezone"],
            "tz_offset": "+00:00",
        },
        "ansible_reboot_pending": bool(host.reboot_pending),
        "module_setup": True,
    }
    return {"ansible_facts": facts}, 0.0


def win_reg_stat(host, params):
    path = str(params.get("path", "")).rstrip("\\").lower()
    path = path.replace("hkey_local_machine", "hklm:").replace("hklm:\\\\", "hklm:\\")
    if not path.startswith("hklm:"):
        path = path.replace("hklm\\", "hklm:\\", 1)
    name = params.get("name")
    if path in REBOOT_KEYS:
        exists = REBOOT_KEYS[path] in host.reboot_pending
        if name:
            return {"exists": False}, 0.0
        return {"exists": exists, "properties": {}, "sub_keys": []}, 0.0
    if path == SESSION_MANAGER and name and name.lower() == "pendingfilerenameoperations":
        if "file_rename" in host.reboot_pending:
            target = "Security Agent\\update.dll" if host.spec.get("security_agent") else "lab-pending.tmp"
            value = [rf"\??\C:\Windows\Temp\{target}", ""]
            return {"exists": True, "type": "REG_MULTI_SZ", "value": value, "raw_value": value}, 0.0
        return {"exists": False}, 0.0
    rename = {
        r"hklm:\system\currentcontrolset\control\computername\activecomputername": host.name.upper()[:15],
        r"hklm:\system\currentcontrolset\control\computername\computername": host.pending_computer_name(),
    }
    if path in rename and (name or "").lower() == "computername":
        return {"exists": True, "type": "REG_SZ", "value": rename[path], "raw_value": rename[path]}, 0.0
    return {"exists": False}, 0.0


def _registry_path(path: str) -> str:
    """A registry path as PowerShell's HKLM: drive names it (HKEY_LOCAL_MACHINE\\, HKLM\\ accepted)."""
    text = str(path or "").strip().rstrip("\\")
    lowered = text.lower()
    for prefix in ("hkey_local_machine\\", "hklm\\", "hklm:\\"):
        if lowered.startswith(prefix):
            return "HKLM:\\" + text[len(prefix) :]
    return text


def win_regedit(host, params):
    """ansible.windows.win_regedit state=present for a value (what the enable role writes): changed when
    the data differs; in check mode nothing is written. DWORD data is an integer (digits, or 0x...)."""
    path = _registry_path(params.get("path"))
    name = params.get("name")
    state = params.get("state", "present")
    if not path.startswith("HKLM:\\") or not name or state != "present":
        return {
            "failed": True,
            "msg": f"the lab's win_regedit on {host.name} simulates state=present of HKLM values only",
        }, 0.0
    kind = str(params.get("type") or "string").lower()
    data = params.get("data")
    if kind in ("dword", "qword"):
        try:
            data = int(str(data), 0)
        except ValueError:
            return {"failed": True, "msg": f"data {data!r} is not a valid {kind} value"}, 0.0
    before = host.registry_value(path, name)
    changed = before != data
    if changed and not params.get("__check_mode"):
        host.set_registry(path, name, data)
    return {"changed": changed, "data_changed": changed, "data_type_changed": False}, 0.0


def _service(name, display, state, start_mode):
    return {
        "name": name,
        "display_name": display,
        "state": state,
        "start_mode": start_mode,
        "path": f"C:\\Windows\\system32\\{name}.exe",
        "username": "LocalSystem",
        "description": display,
        "dependencies": [],
        "dependency_of": [],
        "service_type": "win32_own_process",
        "checkpoint": 0,
        "controls_accepted": ["stop"],
        "desktop_interact": False,
        "error_control": "normal",
        "failure_actions": [],
        "failure_reboot_msg": None,
        "failure_reset_period_sec": 0,
        "failure_command": None,
        "failure_actions_on_non_crash_failure": False,
        "load_order_group": "",
        "pre_shutdown_timeout_ms": 180000,
        "preferred_node": None,
        "process_id": 1000,
        "required_privileges": [],
        "service_exit_code": 0,
        "service_flags": [],
        "sid_info": "none",
        "tag": 0,
        "triggers": [],
        "wait_hint_ms": 0,
        "win32_exit_code": 0,
    }


def services(host) -> list:
    listed = [
        _service("WinRM", "Windows Remote Management (WS-Management)", "started", "auto"),
        _service("wuauserv", "Windows Update", "started", "manual"),
        _service("TrustedInstaller", "Windows Modules Installer", "stopped", "manual"),
    ]
    vm_agent = host.spec.get("azure_vm_agent", "absent")
    if vm_agent != "absent":
        state = "started" if vm_agent == "running" else "stopped"
        listed.append(_service("WindowsAzureGuestAgent", "Windows Azure Guest Agent", state, "auto"))
    agent = host.spec["arc"]["agent"]
    if agent != "absent":
        state = "started" if agent == "running" else "stopped"
        listed.append(_service("himds", "Azure Hybrid Instance Metadata Service", state, "auto"))
    return listed


def win_service_info(host, params):
    name = params.get("name")
    found = [
        s
        for s in services(host)
        if not name
        or s["name"].lower() == str(name).lower()
        or s["display_name"].lower() == str(name).lower()
    ]
    return {"exists": bool(found), "services": found}, 0.0


def win_wait_for(host, params):
    if params.get("path") is not None:
        if params.get("port") is not None:
            return {
                "failed": True,
                "msg": "port and path parameter can not both be passed to win_wait_for",
            }, 0.0
        return _wait_for_file(host, params)
    port = params.get("port")
    state = params.get("state", "started")
    timeout = float(params.get("timeout", 300))
    target = str(params.get("host", "127.0.0.1"))
    if port is None:
        return {
            "failed": True,
            "msg": f"the lab's win_wait_for on {host.name} simulates port checks only",
        }, 0.0
    is_open = int(port) in OPEN_PORTS and target in ("127.0.0.1", "localhost", host.name)
    want_open = state in ("started", "present")
    if is_open == want_open:
        return {"elapsed": 0, "wait_attempts": 1}, 0.0
    word = "start" if want_open else "stop"
    return {
        "failed": True,
        "elapsed": int(timeout),
        "wait_attempts": int(timeout),
        "msg": f"timeout while waiting for {target}:{port} to {word} listening",
    }, timeout


def _results_text(record: dict) -> str:
    """An async results file as async_wrapper.ps1 and async_watchdog.ps1 write it: ConvertTo-Json -Compress"""
    return json.dumps(record, separators=(",", ":"))


def _wait_for_file(host, params):
    """ansible.windows' win_wait_for.ps1 with `path` (state present/started): every `sleep` seconds, is the
    file there (Test-AnsiblePath) and, with `regex`, does its text match (`Get-Content -Raw` then `-match`,
    which ignores case)? Until it does, or `timeout` seconds have passed (then Fail-Json). `path` is of type
    path (environment variables expanded). The files the lab models are the async results files; one changes
    when its job's watchdog writes it (AsyncJob.ends_at), so the answer comes at the first check after that.
    `timeout` and `sleep` are seconds as Ansible sends them: real seconds also with a timing model."""
    state = params.get("state") or "started"
    if state not in ("present", "started"):
        return {
            "failed": True,
            "msg": f"the lab's win_wait_for on {host.name} simulates state=present and started for a path",
        }, 0.0
    path = expand_environment(str(params["path"]))
    regex = params.get("regex") or params.get("search_regex") or params.get("regexp")
    timeout = int(params.get("timeout") or 300)
    sleep = max(1, int(params.get("sleep") or 1))
    key = path.lower()

    def there() -> bool:
        record = host.async_files.get(key)
        if record is None:
            return False
        return regex is None or re.search(regex, _results_text(record), re.IGNORECASE) is not None

    def timed_out(elapsed):
        what = (
            f"file {path} to be present" if regex is None else f"string regex {regex} in file {path} to match"
        )
        attempts = elapsed // sleep + 1
        return {
            "failed": True,
            "elapsed": elapsed,
            "wait_attempts": attempts,
            "msg": f"timeout while waiting for {what}",
        }

    if there():
        return {"elapsed": 0.0, "wait_attempts": 1}, 0.0
    ends = min(
        (job.ends_at for job in host.async_jobs if job.state == "running" and job.path.lower() == key),
        default=math.inf,
    )
    if ends - time.monotonic() >= timeout:  # no job writes the file in time (none at all: infinity)
        return timed_out(timeout), float(timeout)
    checks = math.ceil(max(0.0, ends - time.monotonic()) / sleep)  # the first check after the file changes
    if checks * sleep >= timeout:
        return timed_out(timeout), float(timeout)
    elapsed = float(checks * sleep)
    return (
        lambda: {"elapsed": elapsed, "wait_attempts": checks + 1} if there() else timed_out(elapsed)
    ), elapsed


def _kb_id(value) -> str:
    text = str(value).strip().upper()
    return text if text.startswith("KB") else f"KB{text}"


def win_hotfix(host, params):
    """ansible.windows.win_hotfix state=absent, as its PowerShell does it (read in the ansible package):
    by hotfix_identifier (a DISM package name), or by hotfix_kb: Get-HotFix must list the KB, then
    Get-WindowsPackage looks for a package whose name contains the KB; a combined cumulative update is named
    Package_for_RollupFix~... (no KB in the name), and the module's own fallback then fails with "failed to
    get
    DISM package from KB, to continue specify hotfix_identifier instead". The first lab version removed any KB
    (fleets without a windows_update block keep that)."""
    state = params.get("state", "present")
    kb = params.get("hotfix_kb")
    identifier = params.get("hotfix_identifier")
    if state != "absent":
        return {
            "failed": True,
            "msg": f"the lab's win_hotfix on {host.name} simulates state=absent only",
        }, 0.0
    if not kb and not identifier:
        return {
            "failed": True,
            "msg": "either hotfix_identifier or hotfix_kb needs to be set when state=absent",
        }, 0.0
    result = {"changed": False, "reboot_required": False}
    if not host.realistic:
        kb = _kb_id(kb)
        if params.get("__check_mode"):
            return {"changed": kb in host.hotfixes, "reboot_required": False, "kb": kb}, 0.0
        removed = host.uninstall(kb)
        return {
            "changed": removed,
            "reboot_required": removed,
            "kb": kb,
            "identifier": f"Package_for_RollupFix~31bf3856ad364e35~amd64~~{host.build}",
        }, 0.0
    if identifier:
        package = host.find_package(str(identifier))
    else:
        kb = _kb_id(kb)
        if kb not in host.hotfixes:
            return result, 0.0  # Get-Hotfix finds nothing: NotPresent, nothing to do
        named = [p for p in host.package_list() if kb.lower() in p["name"].lower()]
        if not named:
            result.update(
                failed=True,
                msg="failed to get DISM package from KB, to continue specify hotfix_identifier instead",
            )
            return result, 0.0
        package = named[0]
    if package is None:
        return result, 0.0  # NotPresent
    description = f"Fix for {package['kb']}" if package.get("kb") else ""
    result["identifier"] = package["name"]
    result["kb"] = package["kb"] or ("UNKNOWN" if not description else package["kb"])
    if package["state"] == "Uninstall Pending":
        result["reboot_required"] = True
        return result, 0.0
    if package["state"] != "Installed":
        return result, 0.0
    result["changed"] = True
    if params.get("__check_mode"):
        return result, 0.0
    try:
        result["reboot_required"] = host.remove_package(package)
    except PermissionError:
        result.update(
            failed=True,
            msg=f"failed to remove package {package['name']}: the package is permanent (0x800f0825).",
        )
    return result, 0.0


CATEGORY_ALIASES = {
    "CriticalUpdates": "Critical Updates",
    "DefinitionUpdates": "Definition Updates",
    "DeveloperKits": "Developer Kits",
    "FeaturePacks": "Feature Packs",
    "SecurityUpdates": "Security Updates",
    "ServicePacks": "Service Packs",
    "UpdateRollups": "Update Rollups",
}
REBOOT_BEHAVIOUR = {0: "NeverReboots", 1: "AlwaysRequiresReboot", 2: "CanRequestReboot"}
DEFAULT_DESCRIPTION = (
    "Install this update to resolve issues in Windows. For a complete listing of the issues that are "
    "included "
    "in this update, see the associated Microsoft Knowledge Base article for more information. After you "
    "install this item, you may have to restart your computer."
)


def _in_list(values, patterns) -> bool:
    return any(re.search(p, v, re.IGNORECASE) for v in values for p in patterns)


def _update_info(update):
    """One update as win_updates' Format-UpdateInfo prints it (the fields recorded from a real Windows Server
    2019 host in ansible.windows' unit test data)."""
    return {
        "id": update["id"],
        "title": update["title"],
        "description": update.get("description")
        or (update["title"] if update["kind"] == "extra" else DEFAULT_DESCRIPTION),
        "kb": [update["kb"]] if update.get("kb") else [],
        "type": update.get("type", "Software"),
        "deployment_action": "Installation",
        "auto_select_on_websites": not update.get("browse_only", False),
        "browse_only": bool(update.get("browse_only", False)),
        "revision_number": 200,
        "categories": update["categories"],
        "is_installed": False,
        "is_hidden": False,
        "is_present": False,
        "reboot_required": False,
        "impact": update.get("impact", "Normal"),
        "reboot_behaviour": REBOOT_BEHAVIOUR[update.get("reboot_behaviour", 1 if update["reboot"] else 0)],
        "is_beta": False,
        "is_downloaded": False,
        "is_mandatory": False,
        "is_uninstallable": bool(update.get("is_uninstallable", True)),
        "auto_selection": "LetWindowsUpdateDecide",
        "auto_download": "LetWindowsUpdateDecide",
    }


def timing_class(update) -> str:
    kind = update["kind"]
    if kind in ("hotpatch", "oob_hotpatch"):
        return "hotpatch"
    if kind in ("baseline", "lcu", "oob", "preview"):
        return "lcu"
    if kind == "dotnet":
        return "dotnet"
    if kind == "defender":
        return "definitions"
    return "other"


class UpdateTask:
    """The background task win_updates starts on the host (a scheduled task on Windows): it searches,
    downloads and installs, writing progress records the module's poll operation reads. With a timing model
    each step takes its lab time; the installs happen when their step is due, whether or not anyone polls."""

    def __init__(self, host):
        self.host = host
        self.output = []
        self.delivered = 0
        self.due = []  # monotonic times at which records are appended
        self.done = False
        self.cancelled = False

    def at(self, lab_offset: float, callback):
        real = self.host.clock.real(lab_offset) if self.host.timing else lab_offset
        when = time.monotonic() + real
        self.due.append(when)

        def run():
            if not self.cancelled:
                callback()

        if real <= 0:
            run()
        else:
            self.host.schedule(real, run)

    def emit(self, task, result):
        self.output.append({"task": task, "result": result})
        if task == "exit":
            self.done = True

    def next_due(self):
        now = time.monotonic()
        later = [when for when in self.due if when > now]
        return min(later) if later else None

    def take(self) -> list:
        records = self.output[self.delivered :]
        self.delivered = len(self.output)
        return records


def _select(offered, params):
    categories = [
        CATEGORY_ALIASES.get(c, c)
        for c in (params.get("category_names") or ["CriticalUpdates", "SecurityUpdates", "UpdateRollups"])
    ]
    accept = params.get("accept_list") or []
    reject = params.get("reject_list") or []
    skip_optional = bool(params.get("skip_optional", False))
    selected, filtered = [], []
    for update in offered:
        match_list = [update["title"], *([update["kb"]] if update.get("kb") else [])]
        reasons = []
        if accept and not _in_list(match_list, accept):
            reasons.append("accept_list")
        if reject and _in_list(match_list, reject):
            reasons.append("reject_list")
        if (
            categories
            and "*" not in categories
            and not any(c.lower() == cat.lower() for c in categories for cat in update["categories"])
        ):
            reasons.append("category_names")
        if skip_optional and update.get("browse_only"):
            reasons.append("skip_optional")
        if reasons:
            filtered.append({"id": update["id"], "reasons": reasons})
        else:
            selected.append(update)
    return selected, filtered


def _updates_task(host, params, check_mode) -> UpdateTask:
    """Starts the update task on `host`; returns it (its records appear as its steps come due)."""
    task = UpdateTask(host)
    timing = host.timing
    state = params.get("state") or "installed"
    exit_result = {
        "changed": False,
        "failed": False,
        "reboot_required": host.wu_reboot_required(),
        "exception": None,
    }
    task.emit("started", {})
    offered = host.offered_updates()
    selected, filtered = _select(offered, params)
    clock = timing["search"] if timing else 0.0

    def search_done():
        task.emit("search_result", {"updates": [_update_info(u) for u in offered], "filtered": filtered})
        if check_mode or state == "searched" or not selected:
            exit_result["changed"] = bool(selected) and state != "searched"
            task.emit("exit", exit_result)
        elif exit_result["reboot_required"]:
            exit_result["failed"] = True
            exit_result["exception"] = {
                "message": "A reboot is required before more updates can be installed",
                "exception": "A reboot is required before more updates can be installed",
            }
            task.emit("exit", exit_result)

    task.at(clock, search_done)
    if check_mode or state == "searched" or not selected or exit_result["reboot_required"]:
        return task
    exit_result["changed"] = True
    for update in selected:
        clock += timing["download"][timing_class(update)] if timing else 0.0
    task.at(
        clock,
        lambda: task.emit(
            "download_result", {"info": [{"id": u["id"], "result_code": 2, "hresult": 0} for u in selected]}
        ),
    )
    if state == "downloaded":
        task.at(clock, lambda: task.emit("exit", exit_result))
        return task
    info = []
    for update in selected:
        if update["kind"] == "driver":
            outage = host.spec["drivers"][update["driver"]]["outage_seconds"]
            if outage is None:
                outage = timing["driver_outage"] if timing else 2.0
            if not timing:
                clock += 1.0  # even without a timing model the adapter resets after the task has started
            task.at(
                clock, lambda outage=outage: host.outage(host.clock.real(outage) if host.timing else outage)
            )
        clock += timing["install"][timing_class(update)] if timing else 0.0

        def install(update=update):
            needs = host.install(update)
            info.append({"id": update["id"], "result_code": 2, "hresult": 0, "reboot_required": needs})

        task.at(clock, install)

    def finish():
        task.emit("install_result", {"info": list(info)})
        exit_result["reboot_required"] = host.wu_reboot_required()
        task.emit("exit", exit_result)

    task.at(clock, finish)
    return task


def win_updates(host, params):
    operation = params.get("_operation") or "start"
    options = params.get("_operation_options") or {}
    if operation == "poll":
        pipe = options.get("pipe_name")
        task = host.update_tasks.get(pipe)
        if task is None:
            return {
                "failed": True,
                "msg": f"Failed to connect to the update task pipe {pipe}: the task is not running",
            }, 0.0
        if task.output[task.delivered :]:
            return {"output": task.take()}, 0.3 if not host.timing else 0.0
        due = task.next_due()
        wait = max(0.0, due - time.monotonic()) + 0.01 if due else 0.0
        return (lambda: {"output": task.take()}), wait
    if operation == "cancel":
        pipe = str(options.get("cancel_id", "")).split("\\", 1)[-1]
        task = host.update_tasks.pop(pipe, None)
        if task is not None and not task.done:
            task.cancelled = True
        return {}, 0.0
    check_mode = bool(params.pop("__check_mode", False))
    task = _updates_task(host, params, check_mode)
    if options.get("wait"):
        due = max(task.due, default=time.monotonic())
        wait = max(0.0, due - time.monotonic()) + 0.01

        def produce():
            return _async_result(task.output)

        produce.task = task  # an async job cancels the task when its process ends
        return produce, wait + 0.5
    task_id = str(uuid.uuid4())
    pipe = f"Ansible.Windows.WinUpdates-{task_id}"
    host.update_tasks[pipe] = task
    return {
        "cancel_options": {"cancel_id": f"Global\\Ansible.Windows.WinUpdates-{task_id}", "task_pid": 4242},
        "poll_options": {"pipe_name": pipe},
    }, 0.2


def _async_result(output):
    result = {
        "reboot_required": False,
        "rebooted": False,
        "changed": False,
        "found_update_count": 0,
        "failed_update_count": 0,
        "installed_update_count": 0,
        "updates": {},
        "filtered_updates": {},
    }
    updates, filtered = {}, {}
    for record in output:
        if record["task"] == "search_result":
            filtered = {f["id"]: f["reasons"] for f in record["result"]["filtered"]}
            for info in record["result"]["updates"]:
                updates[info["id"]] = {
                    "categories": info["categories"],
                    "id": info["id"],
                    "installed": False,
                    "downloaded": False,
                    "kb": [k[2:] for k in info["kb"]],
                    "title": info["title"],
                }
        elif record["task"] in ("download_result", "install_result"):
            key = "downloaded" if record["task"] == "download_result" else "installed"
            for info in record["result"]["info"]:
                updates[info["id"]][key] = True
        elif record["task"] == "exit":
            result["changed"] = record["result"]["changed"]
            result["reboot_required"] = record["result"]["reboot_required"]
            if record["result"]["failed"]:
                result["failed"] = True
                result["msg"] = record["result"]["exception"]["message"]
    for update_id, info in updates.items():
        if update_id in filtered:
            info["filtered_reasons"] = filtered[update_id]
            result["filtered_updates"][update_id] = info
            continue
        result["found_update_count"] += 1
        result["installed_update_count"] += int(info["installed"])
        result["updates"][update_id] = info
    return result


def win_command(host, params):
    """ansible.windows.win_command / win_shell / win_powershell: the command runs through the lab's command
    interpreter (dism, wusa, Get-WindowsPackage, hostname...); anything else fails naming it."""
    from .commands import interpret

    text = params.get("cmd") or params.get("_raw_params") or params.get("script") or ""
    if not text and params.get("argv"):
        text = " ".join(str(a) for a in params["argv"])
    outcome = interpret(host, str(text))
    result = {
        "cmd": text,
        "rc": outcome.rc,
        "stdout": outcome.stdout,
        "stderr": outcome.stderr,
        "stdout_lines": outcome.stdout.splitlines(),
        "stderr_lines": outcome.stderr.splitlines(),
        "changed": outcome.what in ("dism_remove", "wusa_uninstall", "remove_windows_package"),
    }
    if outcome.rc != 0:
        result["failed"] = True
        result["msg"] = "non-zero return code"
    if outcome.restart_in is not None and host.restart_hook is not None:
        host.restart_hook(outcome.restart_in)
    return result, outcome.delay


def win_powershell(host, params):
    result, delay = win_command(host, {"cmd": params.get("script", "")})
    output = [line for line in result["stdout"].splitlines() if line.strip()]
    answer = {
        "changed": result["changed"],
        "output": output,
        "host_out": "",
        "host_err": result["stderr"],
        "error": [{"message": result["stderr"].strip()}] if result["rc"] else [],
        "result": {},
        "verbose": [],
        "debug": [],
        "warning": [],
        "information": [],
    }
    if result["rc"]:
        answer["failed"] = True
    return answer, delay


HANDLERS = {
    "win_ping": win_ping,
    "ping": win_ping,
    "setup": setup,
    "win_reg_stat": win_reg_stat,
    "win_regedit": win_regedit,
    "win_service_info": win_service_info,
    "win_wait_for": win_wait_for,
    "win_hotfix": win_hotfix,
    "win_updates": win_updates,
    "win_command": win_command,
    "win_shell": win_command,
    "win_powershell": win_powershell,
    "async_status": async_status,
}
