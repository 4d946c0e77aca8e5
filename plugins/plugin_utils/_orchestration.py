"""Who else installs updates on a host and restarts it: Azure's own patching, WSUS, Automatic Updates.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

``orchestration(facts, platform, azure_patch_mode)`` reads the probe's ``windows_update_policy`` (the
Windows Update policy registry values) and the host variable ``hotpatch_azure_patch_mode`` and returns
``{update_source, wsus_server, automatic_updates, scheduled_install, azure_patch_mode,
azure_platform_patching, findings: [{code, message, setting}]}``. docs/decisions.md explains each finding.

Sources: Microsoft Learn, "Manage additional Windows Update settings" (configuring Automatic Updates by
editing the registry: ``WUServer``, ``UseWUServer``, ``NoAutoUpdate``, ``AUOptions``, ``ScheduledInstallDay``,
``ScheduledInstallTime``); the Azure compute API's ``WindowsVMGuestPatchMode`` (``Manual``, ``AutomaticByOS``,
``AutomaticByPlatform``) and ``PatchSettings.enableHotpatching`` ("patchMode must be set to
AutomaticByPlatform"). An Azure VM cannot see its patch mode: the Instance Metadata Service's compute
document has no patch settings (its ``osProfile`` holds ``adminUsername``, ``computerName`` and
``disablePasswordAuthentication`` only).
"""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import read_error

PATCH_MODES = {
    "manual": "Manual",
    "automaticbyos": "AutomaticByOS",
    "automaticbyplatform": "AutomaticByPlatform",
}
# AUOptions (HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU), as Microsoft documents them.
AU_OPTIONS = {
    2: "notify",  # notify before download
    3: "download_notify",  # download automatically and notify of installation
    4: "scheduled_install",  # download automatically and schedule the installation
    5: "local_admin",  # Automatic Updates required, users (local administrators) configure it
}
DAYS = {0: "every day", 1: "Sunday", 2: "Monday", 3: "Tuesday", 4: "Wednesday", 5: "Thursday", 6: "Friday"}
DAYS[7] = "Saturday"
POLICY_PATH = "Computer Configuration > Administrative Templates > Windows Components > Windows Update"
# Findings that are worth a warning (the others only describe the host).
WARNING_CODES = (
    "azure_platform_patching",
    "automatic_updates_install",
    "automatic_updates_local_admin",
    "automatic_updates_default",
    "windows_update_policy_unread",
)


def patch_mode(value):
    """hotpatch_azure_patch_mode in Azure's spelling (AutomaticByPlatform...), or None when not set."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lower() not in PATCH_MODES:
        raise HotpatchError(
            f"hotpatch_azure_patch_mode must be one of {', '.join(PATCH_MODES.values())}, got {value!r}"
        )
    return PATCH_MODES[value.strip().lower()]


def _finding(code, message, setting=None):
    return {"code": code, "message": message, "setting": setting}


def _schedule(policy):
    day, time = policy.get("scheduled_install_day"), policy.get("scheduled_install_time")
    if day is None and time is None:
        return None
    when = DAYS.get(day, f"day {day}") if day is not None else "on its scheduled day"
    at = f" at {time:02d}:00" if isinstance(time, int) else ""
    return {"day": day, "time": time, "text": f"{when}{at}"}


AZURE_FINDINGS = {
    "AutomaticByPlatform": (
        "azure_platform_patching",
        "hotpatch_azure_patch_mode is AutomaticByPlatform: Azure installs updates and restarts this VM on "
        "its own schedule (automatic VM guest patching, off-peak in the VM's time zone, availability-first); "
        "patch_azure_platform decides whether this rollout also installs",
    ),
    "AutomaticByOS": (
        "automatic_updates_install",
        "hotpatch_azure_patch_mode is AutomaticByOS: Windows Automatic Updates install updates and restart "
        "this VM on their own; set the VM's patchMode to Manual (or AutomaticByPlatform and let Azure patch "
        "it)",
    ),
    None: (
        "azure_patch_mode_unknown",
        "on Azure, hotpatch needs patchMode AutomaticByPlatform, and then Azure installs updates and "
        "restarts the VM itself; the VM cannot see its patch mode (Instance Metadata does not expose "
        "it): set hotpatch_azure_patch_mode",
    ),
}


def _azure_findings(mode):
    """What an Azure VM's patch mode says about who else patches it (Manual: nobody)."""
    if mode not in AZURE_FINDINGS:
        return []
    code, message = AZURE_FINDINGS[mode]
    return [_finding(code, message, "hotpatch_azure_patch_mode")]


def orchestration(facts, platform=None, azure_patch_mode=None):
    """Who else installs updates on the host (see the module's documentation)."""
    facts = facts if isinstance(facts, dict) else {}
    mode = patch_mode(azure_patch_mode)
    policy = facts.get("windows_update_policy")
    findings = []
    result = {
        "update_source": "unknown",
        "wsus_server": None,
        "automatic_updates": "unknown",
        "scheduled_install": None,
        "azure_patch_mode": mode,
        "azure_platform_patching": None,
        "findings": findings,
    }
    unread = read_error(facts, "windows_update_policy")
    if isinstance(policy, dict):
        server = policy.get("wu_server") or None
        use_server = policy.get("use_wu_server")
        if use_server == 1 and server:
            result["update_source"] = "wsus"
            result["wsus_server"] = server
            findings.append(
                _finding(
                    "wsus_managed",
                    f"the host gets its updates from WSUS ({server}, UseWUServer=1): what Windows Update "
                    "offers it is what is approved there",
                    "WUServer, UseWUServer",
                )
            )
        else:
            result["update_source"] = "windows_update"
        no_auto, option = policy.get("no_auto_update"), policy.get("au_options")
        schedule = _schedule(policy)
        if no_auto == 1:
            result["automatic_updates"] = "disabled"
        elif option in AU_OPTIONS:
            result["automatic_updates"] = AU_OPTIONS[option]
        elif no_auto == 0:
            result["automatic_updates"] = "enabled_default"
        elif option is None and no_auto is None:
            result["automatic_updates"] = "not_configured"
        if result["automatic_updates"] == "scheduled_install":
            result["scheduled_install"] = schedule
            when = f" ({schedule['text']})" if schedule else ""
            findings.append(
                _finding(
                    "automatic_updates_install",
                    f"Automatic Updates install updates on a schedule{when} and restart the host behind the "
                    "rollout's back (AUOptions=4): set AUOptions to 2 or 3 (notify), or NoAutoUpdate=1, with "
                    f"the policy 'Configure Automatic Updates' ({POLICY_PATH})",
                    "AUOptions",
                )
            )
        elif result["automatic_updates"] == "local_admin":
            findings.append(
                _finding(
                    "automatic_updates_local_admin",
                    "Automatic Updates are required and a local administrator chooses how they install "
                    "(AUOptions=5): they may install and restart the host behind the rollout's back; set "
                    f"AUOptions to 2 or 3 with the policy 'Configure Automatic Updates' ({POLICY_PATH})",
                    "AUOptions",
                )
            )
        elif result["automatic_updates"] == "enabled_default":
            findings.append(
                _finding(
                    "automatic_updates_default",
                    "Automatic Updates are enabled by policy (NoAutoUpdate=0) without an AUOptions value: "
                    "Windows' own default decides whether they install and restart; set AUOptions to 2 or 3 "
                    f"with the policy 'Configure Automatic Updates' ({POLICY_PATH})",
                    "NoAutoUpdate, AUOptions",
                )
            )
    if unread:
        findings.append(
            _finding(
                "windows_update_policy_unread",
                f"the Windows Update policy could not be read ({unread}): whether WSUS or Automatic Updates "
                "also install updates on this host is unknown",
                None,
            )
        )
    if platform == "azure":
        result["azure_platform_patching"] = {"AutomaticByPlatform": True, None: None}.get(mode, False)
        findings.extend(_azure_findings(mode))
    return result


def warnings_of(result):
    """The findings worth a warning, as sentences."""
    return [f["message"] for f in (result or {}).get("findings") or [] if f.get("code") in WARNING_CODES]
