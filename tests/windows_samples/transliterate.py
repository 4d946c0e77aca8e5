"""A Python transliteration of plugins/plugin_utils/hotpatch_probe.ps1, run on the recorded samples.

It builds, for each host of hosts.yml, the JSON document the probe prints on that host, reading the recorded
registry values, CIM properties, IMDS document and Get-HotFix output exactly as the PowerShell does. The
tests check that probe_outputs/ holds these documents and that the parser accepts them.
Regenerate probe_outputs/ after changing a sample or the probe:
``python -m tests.windows_samples.transliterate``.
"""

import datetime
import json
import re
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
OUTPUTS = HERE / "probe_outputs"


def load_hosts():
    """hosts.yml as {name: definition}."""
    return yaml.safe_load((HERE / "hosts.yml").read_text(encoding="utf-8"))["hosts"]


def _json(folder, name):
    return json.loads((HERE / folder / name).read_text(encoding="utf-8"))


def _nullable_int(value):
    """ConvertTo-NullableInt."""
    if value is None or str(value) == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _field(obj, name):
    """Get-Field: a property as a string, '' when absent or null."""
    if not isinstance(obj, dict) or obj.get(name) is None:
        return ""
    return str(obj[name])


def hotfix_ids(source):
    """HotFixID values: a list as given, or the HotFixID column of a recorded Get-HotFix table."""
    if isinstance(source, list):
        return [str(item) for item in source]
    lines = (HERE / "hotfix" / source).read_text(encoding="utf-8").splitlines()
    header = lines[0]
    start = header.index("HotFixID")
    end = header.index("InstalledBy")
    return [line[start:end].strip() for line in lines[2:] if line.strip()]


def _time_field(obj, name):
    """Get-TimeField: ISO 8601 UTC when the text parses as a date and time, else the text ('' when absent)."""
    text = _field(obj, name)
    if not text:
        return ""
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _registry(name):
    """A recorded registry sample as a dict, or {} (the key does not exist) when the host names none."""
    return _json("registry", name) if name else {}


def azcmagent_document(agent):
    """What the probe makes of `azcmagent show -j` output (a JSON object)."""
    return {
        "status": _field(agent, "status"),
        "last_heartbeat": _time_field(agent, "lastHeartbeat"),
        "resource_name": _field(agent, "resourceName"),
        "resource_group": _field(agent, "resourceGroup"),
        "subscription_id": _field(agent, "subscriptionId"),
        "tenant_id": _field(agent, "tenantId"),
        "location": _field(agent, "location"),
        "agent_version": _field(agent, "agentVersion"),
    }


def probe_document(host):
    """The raw facts the probe prints for one host definition of hosts.yml."""
    registry = _json("registry", host["registry"])
    os = {
        "product_name": registry.get("ProductName"),
        "edition_id": registry.get("EditionID"),
        "installation_type": registry.get("InstallationType"),
        "build": _nullable_int(registry.get("CurrentBuild")),
        "ubr": _nullable_int(registry.get("UBR")),
        "architecture": host["architecture"].upper() if host["architecture"] else None,
    }
    vbs_status = None
    if host["deviceguard"]:
        vbs_status = _nullable_int(
            _json("deviceguard", host["deviceguard"]).get("VirtualizationBasedSecurityStatus")
        )
    azure = None
    if host["imds"]:
        compute = _json("imds", host["imds"])
        if _field(compute, "vmId") != "":
            reference = (compute.get("storageProfile") or {}).get("imageReference")
            azure = {
                "publisher": _field(reference, "publisher") or _field(compute, "publisher"),
                "offer": _field(reference, "offer") or _field(compute, "offer"),
                "sku": _field(reference, "sku") or _field(compute, "sku"),
                "image_id": _field(reference, "id"),
                "location": _field(compute, "location"),
                "vm_scale_set_name": _field(compute, "vmScaleSetName"),
            }
    ids = []
    for item in hotfix_ids(host["hotfixes"]):
        kb = item.strip().upper()
        if re.fullmatch(r"KB\d+", kb) and kb not in ids:
            ids.append(kb)
    reboot = host["reboot"]
    renames = reboot["file_rename_operations"]
    active, pending = reboot["active_name"], reboot["pending_name"]
    device_guard = _registry(host.get("deviceguard_registry"))
    memory = _registry(host.get("memory_management"))
    package = _registry(host.get("enrollment_package"))
    policy = _registry(host.get("windows_update_policy"))
    policy_wu, policy_au = policy.get("WindowsUpdate", {}), policy.get("AU", {})
    agent = host.get("azure_vm_agent")
    azcmagent = None
    if host.get("azcmagent") and host["himds"] is not None:
        azcmagent = azcmagent_document(_json("azcmagent", host["azcmagent"]))
    return {
        "os": os,
        "vbs_status": vbs_status,
        "hotpatch_restrictions": host["hotpatch_restrictions"],
        "secure_boot": host["secure_boot"],
        "azure": azure,
        "arc": {"agent_installed": host["himds"] is not None, "agent_running": host["himds"] == "Running"},
        "hotfixes": sorted(ids),
        "reboot_pending": {
            "cbs": reboot["cbs"],
            "windows_update": reboot["windows_update"],
            "file_rename": None if renames is None else any(str(entry) != "" for entry in renames),
            "computer_rename": None if active is None or pending is None else active != pending,
        },
        "last_boot": host["last_boot"],
        "now": host["now"],
        "timezone": host["timezone"],
        "vbs_config": {
            "enable_virtualization_based_security": _nullable_int(
                device_guard.get("EnableVirtualizationBasedSecurity")
            ),
            "require_platform_security_features": _nullable_int(
                device_guard.get("RequirePlatformSecurityFeatures")
            ),
        },
        "enrolment": {
            "hotpatch_table_size": _nullable_int(memory.get("HotPatchTableSize")),
            "package_name": package.get("Name"),
            "package_version": package.get("Version"),
        },
        "azure_vm_agent": {"installed": agent is not None, "running": agent == "Running"},
        "azcmagent": azcmagent,
        "windows_update_policy": {
            "wu_server": policy_wu.get("WUServer"),
            "use_wu_server": _nullable_int(policy_au.get("UseWUServer")),
            "no_auto_update": _nullable_int(policy_au.get("NoAutoUpdate")),
            "au_options": _nullable_int(policy_au.get("AUOptions")),
            "scheduled_install_day": _nullable_int(policy_au.get("ScheduledInstallDay")),
            "scheduled_install_time": _nullable_int(policy_au.get("ScheduledInstallTime")),
        },
        "read_errors": dict(host.get("read_errors") or {}),
    }


def compressed(document):
    """Like ConvertTo-Json -Compress plus the probe's ASCII escaping: one line, no spaces."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True)


def main():
    OUTPUTS.mkdir(exist_ok=True)
    for name, host in load_hosts().items():
        (OUTPUTS / f"{name}.json").write_text(compressed(probe_document(host)) + "\n", encoding="ascii")
        print(f"wrote probe_outputs/{name}.json")


if __name__ == "__main__":
    main()
