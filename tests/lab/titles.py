"""Update titles and categories in the forms Windows Update uses
(tests/windows_samples/windows_update/README.md
lists the public source of every form, and what could not be confirmed).

Two styles:
- `catalog` (fleets without a `windows_update` block): the titles of the first lab version, kept so that
  today's fleets and tests see what they always saw.
- `realistic`: the forms recorded on real hosts or reported publicly. No public source shows the title of a
  Windows Server hotpatch, so the lab uses several plausible forms (chosen per host, or pinned by the host key
  `hotpatch_title`): a collection that recognises a hotpatch by its title instead of its KB can then fail.
"""

import hashlib

from .catalog import VERSION_NAME

PRODUCT = {
    "2016": "Windows Server 2016",
    "2019": "Windows Server 2019",
    "2022": "Microsoft Server operating system-21H2",
    "2025": "Microsoft Server operating system-24H2",
}
DRIVER_PRODUCT = {
    "2016": "Windows Server 2016 and Later Servicing Drivers",
    "2019": "Windows Server 2019 and later, Servicing Drivers",
    "2022": "Windows - Server, version 21H2 and later, Servicing Drivers",
    "2025": "Windows - Server, version 24H2 and later, Upgrade & Servicing Drivers",
}
# Windows Server 2022 hotpatches have a WSUS product category of their own
HOTPATCH_PRODUCT = {"2022": "Server 2022 Hotpatch Category"}
HOTPATCH_FORMS = ("msrc", "simplified", "hotpatch")
SIMULATED_NOTE = " [simulated by the lab: not a published release]"
# the month from which Windows Update shows Windows Server 2025 cumulative updates in the short form
SIMPLIFIED_FROM = "2026-01"


def _arch(arch: str, capital: bool = False) -> str:
    if arch == "ARM64":
        return "ARM64" if capital else "arm64"
    return "x64"


def os_phrase(os_name: str) -> str:
    """How a catalog title names the release."""
    if os_name == "2016":
        return "Windows Server 2016"
    if os_name == "2019":
        return "Windows Server 2019 (1809)"
    return f"Microsoft server operating system version {VERSION_NAME[os_name]}"


def legacy_monthly(os_name: str, month: str, kind: str, kb: str, simulated: bool, arch: str) -> str:
    """The first lab version's titles (catalog style)."""
    name = "Security Hotpatch Update" if kind in ("hotpatch", "oob_hotpatch") else "Cumulative Update"
    product = f"Windows Server {os_name} {VERSION_NAME[os_name]}"
    title = f"{month} {name} for {product} for {_arch(arch)}-based Systems ({kb})"
    return title + (SIMULATED_NOTE if simulated else "")


def hotpatch_form(host_name: str, pinned=None) -> str:
    if pinned:
        return pinned
    digest = hashlib.sha256(host_name.encode()).digest()[0]
    return HOTPATCH_FORMS[digest % len(HOTPATCH_FORMS)]


def monthly(os_name: str, row: dict, arch: str, style: str, form: str = "msrc") -> str:
    """Title of a release row (baseline, hotpatch, lcu, oob, oob_hotpatch)."""
    month = row["month"]
    kind = row["kind"]
    if style == "catalog":
        return legacy_monthly(os_name, month, kind, row["kb"], row["simulated"], arch)
    build = f"{_major(os_name)}.{row['build']}"
    systems = f"for {_arch(arch)}-based Systems"
    if kind in ("hotpatch", "oob_hotpatch") and not (kind == "oob_hotpatch" and row.get("restart")):
        if form == "simplified":
            return f"{month} Security Update ({row['kb']}) ({build})"
        if form == "hotpatch":
            return f"{month} Hotpatch for {os_phrase(os_name)} {systems} ({row['kb']})"
        return f"{month} Security Hotpatch Update for {os_phrase(os_name)} {systems} ({row['kb']})"
    if os_name == "2025" and month >= SIMPLIFIED_FROM:
        return f"{month} Security Update ({row['kb']}) ({build})"
    return f"{month} Cumulative Update for {os_phrase(os_name)} {systems} ({row['kb']})"


def preview(os_name: str, month: str, kb: str, arch: str) -> str:
    return (
        f"{month} Cumulative Update Preview for {os_phrase(os_name)} for {_arch(arch)}-based Systems ({kb})"
    )


def dotnet(os_name: str, month: str, kb: str, arch: str) -> str:
    if os_name == "2025" and month >= SIMPLIFIED_FROM:
        return f"{month} .NET Framework Security Update ({kb})"
    frameworks = {
        "2016": "4.8",
        "2019": "3.5, 4.7.2 and 4.8",
        "2022": "3.5, 4.8 and 4.8.1",
        "2025": "3.5 and 4.8.1",
    }[os_name]
    target = {
        "2016": "Windows Server 2016",
        "2019": "Windows Server 2019",
        "2022": "Microsoft server operating system version 21H2",
        "2025": "Microsoft server operating system version 24H2",
    }[os_name]
    arch_name = _arch(arch, True)
    return f"{month} Cumulative Update for .NET Framework {frameworks} for {target} for {arch_name} ({kb})"


def defender(version: str, month: str) -> str:
    title = f"Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version {version})"
    # the channel suffix appears on titles reported since 2025
    return title + (" - Current Channel (Broad)" if month >= "2025-01" else "")


def msrt(month: str, arch: str) -> str:
    from .catalog import months_between

    # v5.144 was offered in August 2026 (a recorded Windows Update list); one version a month around it
    version = 144 + months_between("2026-08", month)
    return f"Windows Malicious Software Removal Tool {_arch(arch)} - v5.{version} (KB890830)"


def _major(os_name: str) -> int:
    from .catalog import MAJOR

    return MAJOR[os_name]


def categories(os_name: str, kind: str, classification: str, style: str) -> list:
    """The `categories` win_updates reports (classification first, then products)."""
    if style == "catalog":
        return [classification]
    if kind in ("baseline", "lcu", "oob"):
        return [classification]  # a recorded cumulative update lists its classification only
    if kind in ("hotpatch", "oob_hotpatch"):
        return [classification] + ([HOTPATCH_PRODUCT[os_name]] if os_name in HOTPATCH_PRODUCT else [])
    if kind == "defender":
        return ["Definition Updates", "Microsoft Defender Antivirus"]
    if kind == "msrt":
        return ["Update Rollups", PRODUCT[os_name]]
    if kind == "driver":
        return ["Drivers", DRIVER_PRODUCT[os_name]]
    return [classification, PRODUCT[os_name]]
