"""Servicing commands a simulated host answers: DISM, wusa, the DISM PowerShell cmdlets and Get-HotFix.

Microsoft documents removing a cumulative update that ships combined with its servicing stack update with
`DISM /online /Remove-Package /PackageName:<name>`, the name found with `DISM /online /get-packages`;
`wusa.exe /uninstall /kb:` does not work on the combined package and the servicing stack cannot be removed
(tests/windows_samples/dism/README.md gives the sources and the recorded output forms).
"""

import re

from . import catalog

DISM_OK = "The operation completed successfully."
ERROR_SUCCESS_REBOOT_REQUIRED = 3010
# DISM exits with the HRESULT of its error; PowerShell shows it signed
CBS_E_CANNOT_UNINSTALL = -2146498523  # 0x800F0825: the package is permanent (the servicing stack)
CBS_E_NOT_INSTALLED = -2146498548  # 0x800F080C: no installed package of that name
WU_S_ALREADY_UNINSTALLED = 2359303  # 0x00240007: "the update is not installed" (wusa, assumption)


def _outcome(**kwargs):
    from .commands import Outcome

    return Outcome(**kwargs)


def _header(host) -> str:
    major = catalog.MAJOR[host.os]
    return (
        "\r\nDeployment Image Servicing and Management tool\r\n"
        f"Version: 10.0.{major}.1\r\n\r\nImage Version: 10.0.{major}.{host.ubr}\r\n\r\n"
    )


def _time(moment) -> str:
    return f"{moment.month}/{moment.day}/{moment.year} {moment.strftime('%I:%M %p').lstrip('0')}"


def answer(host, command: str):
    """An Outcome for a servicing command line, or None when `command` is not one."""
    text = command.strip()
    lowered = text.lower()
    if not host.realistic:
        return None
    if re.match(r"^(?:[a-z]:\\windows\\system32\\)?dism(?:\.exe)?\b", lowered):
        return dism(host, text)
    if re.match(r"^(?:[a-z]:\\windows\\system32\\)?wusa(?:\.exe)?\b", lowered):
        return wusa(host, text)
    if lowered.startswith("get-windowspackage"):
        return get_windows_package(host, text)
    if lowered.startswith("remove-windowspackage"):
        return remove_windows_package(host, text)
    if lowered.startswith("get-hotfix"):
        return get_hotfix(host, text)
    return None


def _switches(text: str) -> dict:
    found = {}
    for match in re.finditer(r"/([A-Za-z-]+)(?::(\"[^\"]*\"|\S+))?", text):
        found[match.group(1).lower()] = (match.group(2) or "").strip('"')
    return found


def dism(host, text: str):
    switches = _switches(text)
    if "online" not in switches:
        return _outcome(
            stdout=_header(host)
            + "Error: 87\r\n\r\nThe lab simulates DISM on the running system (/Online) only.\r\n",
            rc=87,
            what="dism",
        )
    if "get-packages" in switches:
        lines = [_header(host), "Packages listing:\r\n\r\n"]
        for package in host.package_list():
            lines.append(
                f"Package Identity : {package['name']}\r\nState : {package['state']}\r\n"
                f"Release Type : {package['release_type']}\r\n"
                f"Install Time : {_time(package['installed'])}\r\n\r\n"
            )
        lines.append(DISM_OK + "\r\n")
        return _outcome(stdout="".join(lines), what="dism_get_packages")
    if "get-packageinfo" in switches:
        package = host.find_package(switches.get("packagename", ""))
        if package is None:
            return _not_installed(host, switches.get("packagename", ""))
        body = (
            f"Package identity : {package['name']}\r\nApplicable : Yes\r\n"
            "Copyright : Microsoft Corporation\r\n"
            f"Description : Fix for {package['kb']}\r\nState : {package['state']}\r\n"
            f"Release Type : {package['release_type']}\r\nRestart Required : Possible\r\n"
        )
        return _outcome(stdout=_header(host) + body + "\r\n" + DISM_OK + "\r\n", what="dism_get_packageinfo")
    if "remove-package" in switches:
        name = switches.get("packagename", "")
        package = host.find_package(name)
        if package is None:
            return _not_installed(host, name)
        try:
            restart = host.remove_package(package)
        except PermissionError:
            return _outcome(
                stdout=_header(host)
                + f"Processing 1 of 1 - Removing package {package['name']}\r\n"
                + "Error: 0x800f0825\r\n\r\nPackage "
                + f"{package['name']} is a permanent package and cannot be uninstalled.\r\n",
                rc=CBS_E_CANNOT_UNINSTALL,
                what="dism_remove",
            )
        body = (
            f"Processing 1 of 1 - Removing package {package['name']}\r\n"
            "[==========================100.0%==========================]\r\n" + DISM_OK + "\r\n"
        )
        if not restart:
            return _outcome(stdout=_header(host) + body, what="dism_remove")
        body += "Restart Windows to complete this operation.\r\n"
        if "norestart" in switches:
            return _outcome(stdout=_header(host) + body, rc=ERROR_SUCCESS_REBOOT_REQUIRED, what="dism_remove")
        if "quiet" in switches:  # /Quiet without /NoRestart restarts the computer by itself
            return _outcome(stdout="", rc=ERROR_SUCCESS_REBOOT_REQUIRED, what="dism_remove", restart_in=10.0)
        body += "Do you want to restart the computer now? (Y/N) \r\n"
        return _outcome(stdout=_header(host) + body, rc=ERROR_SUCCESS_REBOOT_REQUIRED, what="dism_remove")
    return _outcome(
        stdout=_header(host) + "Error: 87\r\n\r\nThe lab simulates /Get-Packages, /Get-PackageInfo and "
        "/Remove-Package.\r\n",
        rc=87,
        what="dism",
    )


def _not_installed(host, name):
    return _outcome(
        stdout=_header(host) + f"Error: 0x800f080c\r\n\r\nThe package {name} is not installed.\r\n",
        rc=CBS_E_NOT_INSTALLED,
        what="dism",
    )


def wusa(host, text: str):
    match = re.search(r"/kb:(?:kb)?(\d+)", text, re.IGNORECASE)
    if "/uninstall" not in text.lower() or not match:
        return _outcome(
            stderr="the lab simulates wusa.exe /uninstall /kb:NNNNNNN only\r\n", rc=87, what="wusa"
        )
    kb = f"KB{match.group(1)}"
    named = [
        p
        for p in host.package_list()
        if kb.lower() in p["name"].lower() or (p["family"] == "dotnet" and p["kb"] == kb)
    ]
    if not named:
        # the combined cumulative update (Package_for_RollupFix) is not found by its KB: nothing is removed
        return _outcome(rc=WU_S_ALREADY_UNINSTALLED, what="wusa_uninstall_failed", extra={"kb": kb})
    host.remove_package(named[0])
    return _outcome(rc=ERROR_SUCCESS_REBOOT_REQUIRED, what="wusa_uninstall")


def _as_json(text: str) -> bool:
    return "convertto-json" in text.lower()


def get_windows_package(host, text: str):
    import json

    match = re.search(r"-PackageName\s+(?:'([^']+)'|\"([^\"]+)\"|(\S+))", text, re.IGNORECASE)
    packages = host.package_list()
    if match:
        name = next(g for g in match.groups() if g)
        package = host.find_package(name)
        if package is None:
            return _outcome(
                stderr="Get-WindowsPackage : The specified package is not valid Windows package.\r\n",
                rc=1,
                what="get_windows_package",
            )
        packages = [package]
    records = [
        {
            "PackageName": p["name"],
            "PackageState": p["state"].replace(" ", ""),
            "ReleaseType": p["release_type"].replace(" ", ""),
            "InstallTime": _time(p["installed"]),
            **({"Description": f"Fix for {p['kb']}"} if match and p["kb"] else {}),
        }
        for p in packages
    ]
    if _as_json(text):
        body = json.dumps(records[0] if match and len(records) == 1 else records, indent=2)
        return _outcome(stdout=body + "\r\n", what="get_windows_package")
    lines = []
    for record in records:
        width = max(len(k) for k in record)
        lines.append("\r\n".join(f"{k.ljust(width)} : {v}" for k, v in record.items()) + "\r\n")
    return _outcome(stdout="\r\n" + "\r\n".join(lines) + "\r\n", what="get_windows_package")


def remove_windows_package(host, text: str):
    import json

    match = re.search(r"-PackageName\s+(?:'([^']+)'|\"([^\"]+)\"|(\S+))", text, re.IGNORECASE)
    if not match:
        return _outcome(
            stderr="Remove-WindowsPackage : -PackageName is required by the lab\r\n",
            rc=1,
            what="remove_windows_package",
        )
    name = next(g for g in match.groups() if g)
    package = host.find_package(name)
    if package is None:
        return _outcome(
            stderr="Remove-WindowsPackage : The specified package is not valid Windows package.\r\n",
            rc=1,
            what="remove_windows_package",
        )
    try:
        restart = host.remove_package(package)
    except PermissionError:
        return _outcome(
            stderr="Remove-WindowsPackage : Package cannot be uninstalled. (0x800f0825)\r\n",
            rc=1,
            what="remove_windows_package",
        )
    record = {"Path": None, "Online": True, "RestartNeeded": restart}
    if _as_json(text):
        return _outcome(stdout=json.dumps(record) + "\r\n", what="remove_windows_package")
    return _outcome(
        stdout=f"\r\nPath          :\r\nOnline        : True\r\nRestartNeeded : {restart}\r\n\r\n",
        what="remove_windows_package",
    )


def get_hotfix(host, text: str):
    import json

    match = re.search(r"-Id\s+(\S+)", text, re.IGNORECASE)
    kbs = sorted(host.hotfixes)
    if match:
        wanted = match.group(1).strip("'\"").upper()
        kbs = [kb for kb in kbs if kb == wanted]
        if not kbs:
            return _outcome(
                stderr=f"Get-HotFix : Cannot find the requested hotfix on the '{host.name}' computer.\r\n",
                rc=1,
                what="get_hotfix",
            )
    if _as_json(text):
        return _outcome(
            stdout=json.dumps([{"HotFixID": kb, "Description": "Security Update"} for kb in kbs]) + "\r\n",
            what="get_hotfix",
        )
    lines = [
        "",
        "Source        Description      HotFixID      InstalledBy          InstalledOn",
        "------        -----------      --------      -----------          -----------",
    ]
    for kb in kbs:
        lines.append(f"{host.name.upper()[:13]:<13} Security Update  {kb:<13} NT AUTHORITY\\SYSTEM")
    return _outcome(stdout="\r\n".join(lines) + "\r\n", what="get_hotfix")
