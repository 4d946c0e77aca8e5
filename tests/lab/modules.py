"""PowerShell modules as the simulated host runs them: read the module payload that arrives on stdin
(ansible-core >= 2.19: bootstrap JSON + exec manifest; older: exec_wrapper script + JSON manifest) and
answer for the modules the lab knows."""

import datetime
import json
import re
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


def module_request(stdin: bytes) -> tuple:
    """(module name, module args) from a module payload; raises ValueError when it is not one."""
    head, _, rest = stdin.partition(b"\0\0\0\0")
    rest = rest.strip()
    manifest = json.loads(rest.decode("utf-8")) if rest else {}
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


def run_payload(host, stdin: bytes):
    from .commands import Outcome

    try:
        name, args = module_request(stdin)
    except (ValueError, UnicodeDecodeError) as exc:
        return Outcome(
            stderr=f"the simulated Windows host {host.name} cannot run this payload: {exc}\r\n",
            rc=1,
            what="unknown_payload",
        )
    short = name.rsplit(".", 1)[-1]
    handler = HANDLERS.get(short)
    params = {k: v for k, v in args.items() if not k.startswith("_ansible")}
    if handler is None:
        return Outcome(
            stderr=f"the simulated Windows host {host.name} does not simulate the module {name}\r\n",
            rc=1,
            what=f"module:{name}",
        )
    result, delay = handler(host, dict(params, __check_mode=bool(args.get("_ansible_check_mode"))))
    result.setdefault("changed", False)
    result.setdefault("invocation", {"module_args": params})
    return Outcome(
        stdout=json.dumps(result) + "\r\n",
        rc=1 if result.get("failed") else 0,
        delay=delay,
        what=f"module:{short}",
    )


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
            value = [r"\??\C:\Windows\Temp\lab-pending.tmp", ""]
            return {"exists": True, "type": "REG_MULTI_SZ", "value": value, "raw_value": value}, 0.0
        return {"exists": False}, 0.0
    rename = {
        r"hklm:\system\currentcontrolset\control\computername\activecomputername": host.name.upper()[:15],
        r"hklm:\system\currentcontrolset\control\computername\computername": (
            (host.name.upper()[:14] + "2")
            if "computer_rename" in host.reboot_pending
            else host.name.upper()[:15]
        ),
    }
    if path in rename and (name or "").lower() == "computername":
        return {"exists": True, "type": "REG_SZ", "value": rename[path], "raw_value": rename[path]}, 0.0
    return {"exists": False}, 0.0


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


def win_hotfix(host, params):
    state = params.get("state", "present")
    kb = params.get("hotfix_kb")
    if state != "absent":
        return {
            "failed": True,
            "msg": f"the lab's win_hotfix on {host.name} simulates state=absent only",
        }, 0.0
    if not kb:
        return {"failed": True, "msg": "the lab's win_hotfix needs hotfix_kb to uninstall"}, 0.0
    kb = str(kb) if str(kb).upper().startswith("KB") else f"KB{kb}"
    if params.get("__check_mode"):
        return {"changed": kb.upper() in host.hotfixes, "reboot_required": False, "kb": kb.upper()}, 0.0
    removed = host.uninstall(kb.upper())
    return {
        "changed": removed,
        "reboot_required": removed,
        "kb": kb.upper(),
        "identifier": f"Package_for_RollupFix~31bf3856ad364e35~amd64~~{host.build}",
    }, 0.0


CATEGORY_ALIASES = {
    "CriticalUpdates": "Critical Updates",
    "DefinitionUpdates": "Definition Updates",
    "DeveloperKits": "Developer Kits",
    "FeaturePacks": "Feature Packs",
    "SecurityUpdates": "Security Updates",
    "ServicePacks": "Service Packs",
    "UpdateRollups": "Update Rollups",
}


def _in_list(values, patterns) -> bool:
    return any(re.search(p, v, re.IGNORECASE) for v in values for p in patterns)


def _update_info(update):
    return {
        "id": update["id"],
        "title": update["title"],
        "description": update["title"],
        "kb": [update["kb"]],
        "type": "Software",
        "deployment_action": "Installation",
        "auto_select_on_websites": True,
        "browse_only": False,
        "revision_number": 1,
        "categories": update["categories"],
        "is_installed": False,
        "is_hidden": False,
        "is_present": False,
        "reboot_required": False,
        "impact": "Normal",
        "reboot_behaviour": "AlwaysRequiresReboot" if update["reboot"] else "NeverReboots",
        "is_beta": False,
        "is_downloaded": False,
        "is_mandatory": False,
        "is_uninstallable": True,
        "auto_selection": "LetWindowsUpdateDecide",
        "auto_download": "LetWindowsUpdateDecide",
    }


def _updates_task(host, params, check_mode) -> list:
    """The progress records the real module's background task would write."""
    categories = [
        CATEGORY_ALIASES.get(c, c)
        for c in (params.get("category_names") or ["CriticalUpdates", "SecurityUpdates", "UpdateRollups"])
    ]
    accept = params.get("accept_list") or []
    reject = params.get("reject_list") or []
    state = params.get("state") or "installed"
    output = [{"task": "started", "result": {}}]
    exit_result = {
        "changed": False,
        "failed": False,
        "reboot_required": host.wu_reboot_required(),
        "exception": None,
    }
    offered = host.offered_updates()
    selected, filtered = [], []
    for update in offered:
        match_list = [update["title"], update["kb"]]
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
        if reasons:
            filtered.append({"id": update["id"], "reasons": reasons})
        else:
            selected.append(update)
    output.append(
        {
            "task": "search_result",
            "result": {"updates": [_update_info(u) for u in offered], "filtered": filtered},
        }
    )
    if check_mode or state == "searched" or not selected:
        exit_result["changed"] = bool(selected) and state != "searched"
        output.append({"task": "exit", "result": exit_result})
        return output
    if host.wu_reboot_required():
        exit_result["failed"] = True
        exit_result["exception"] = {
            "message": "A reboot is required before more updates can be installed",
            "exception": "A reboot is required before more updates can be installed",
        }
        output.append({"task": "exit", "result": exit_result})
        return output
    exit_result["changed"] = True
    output.append(
        {
            "task": "download_result",
            "result": {"info": [{"id": u["id"], "result_code": 2, "hresult": 0} for u in selected]},
        }
    )
    if state == "downloaded":
        output.append({"task": "exit", "result": exit_result})
        return output
    info = []
    for update in selected:
        needs = host.install(update)
        info.append({"id": update["id"], "result_code": 2, "hresult": 0, "reboot_required": needs})
    output.append({"task": "install_result", "result": {"info": info}})
    exit_result["reboot_required"] = host.wu_reboot_required()
    output.append({"task": "exit", "result": exit_result})
    return output


def win_updates(host, params):
    operation = params.get("_operation") or "start"
    options = params.get("_operation_options") or {}
    if operation == "poll":
        pipe = options.get("pipe_name")
        output = host.update_tasks.get(pipe)
        if output is None:
            return {
                "failed": True,
                "msg": f"Failed to connect to the update task pipe {pipe}: the task is not running",
            }, 0.0
        host.update_tasks[pipe] = []
        return {"output": output}, 0.3
    if operation == "cancel":
        pipe = str(options.get("cancel_id", "")).split("\\", 1)[-1]
        host.update_tasks.pop(pipe, None)
        return {}, 0.0
    check_mode = bool(params.pop("__check_mode", False))
    output = _updates_task(host, params, check_mode)
    if options.get("wait"):
        return _async_result(output), 0.5
    task_id = str(uuid.uuid4())
    pipe = f"Ansible.Windows.WinUpdates-{task_id}"
    host.update_tasks[pipe] = output
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


HANDLERS = {
    "win_ping": win_ping,
    "ping": win_ping,
    "setup": setup,
    "win_reg_stat": win_reg_stat,
    "win_service_info": win_service_info,
    "win_wait_for": win_wait_for,
    "win_hotfix": win_hotfix,
    "win_updates": win_updates,
}
