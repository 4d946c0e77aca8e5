"""Rolling back the latest hotpatch or cumulative update the way Microsoft documents it.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

A cumulative update ships combined with its servicing stack update: Microsoft documents removing the LCU with
``DISM /Online /Remove-Package /PackageName:<name>``, the name found with ``DISM /Online /Get-Packages``
(``wusa /uninstall`` does not work on the combined package, and the servicing stack update cannot be
removed). The package of the running release is the ``Package_for_RollupFix`` package whose version is the
host's build; ``rollback_target`` picks it from the host's package list (``Get-WindowsPackage -Online``), and
``ansible.windows.win_hotfix`` removes it by that name (``hotfix_identifier``), which is DISM's removal.
"""

import re

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import normalise_kb
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

ROLLUP = "package_for_rollupfix"
_VERSION = re.compile(r"~~(\d+)\.(\d+)(?:\.\d+)*$")
REMOVABLE = {"installed", "installpending", "staged"}


def _packages(listing):
    """The package list from ``Get-WindowsPackage -Online | ... | ConvertTo-Json`` (text, list or dict)."""
    import json

    if isinstance(listing, str):
        text = listing.strip()
        if not text:
            return []
        try:
            listing = json.loads(text)
        except ValueError as exc:
            raise HotpatchError(f"the package list is not JSON: {exc}") from None
    if isinstance(listing, dict):
        listing = [listing]
    if not isinstance(listing, list):
        raise HotpatchError(f"the package list must be a list of packages, got {type(listing).__name__}")
    result = []
    for item in listing:
        if not isinstance(item, dict) or not item.get("PackageName"):
            continue
        result.append(
            {
                "name": str(item["PackageName"]),
                "state": str(item.get("PackageState") or "").replace(" ", "").lower(),
                "release_type": str(item.get("ReleaseType") or ""),
                "installed": item.get("InstallTime"),
            }
        )
    return result


def _version(name):
    match = _VERSION.search(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def rollback_target(listing, status, kb=None):
    """``{package, kb, build, reason}``: the servicing package that holds the host's release (or ``kb``).

    ``status`` is the host's baseline_info result; ``listing`` its packages. Raises HotpatchError with what
    was wrong when nothing can be removed (no package for the build, only a permanent one).
    """
    status = status if isinstance(status, dict) else {}
    current = status.get("current") or {}
    build = current.get("build")
    wanted = normalise_kb(kb) if kb else None
    if kb and wanted is None:
        raise HotpatchError(f"rollback_kb must look like KB5075942, got {kb!r}")
    packages = [p for p in _packages(listing) if p["state"] in REMOVABLE]
    installed = {normalise_kb(item) for item in (status.get("facts") or {}).get("hotfixes") or []}
    if wanted:
        named = [p for p in packages if wanted.lower() in p["name"].lower()]
        if not named and wanted not in installed and wanted != current.get("kb"):
            return {"package": None, "kb": wanted, "build": build, "reason": f"{wanted} is not installed"}
        if named:
            return {
                "package": named[0]["name"],
                "kb": wanted,
                "build": build,
                "reason": f"the package of {wanted}",
            }
        if wanted != current.get("kb"):
            raise HotpatchError(
                f"no installed servicing package is named after {wanted}, and {wanted} is not the host's "
                f"current release ({current.get('kb') or 'unknown'}, build {build}): give the KB of the "
                "running release"
            )
    if not build:
        raise HotpatchError("the host's build is unknown: cannot tell which package holds its release")
    try:
        major, ubr = (int(part) for part in str(build).split("."))
    except ValueError:
        raise HotpatchError(f"the host's build {build!r} is not MAJOR.UBR") from None
    rollups = [
        p for p in packages if p["name"].lower().startswith(ROLLUP) and _version(p["name"]) == (major, ubr)
    ]
    if not rollups:
        names = ", ".join(p["name"] for p in packages if p["name"].lower().startswith(ROLLUP)) or "none"
        raise HotpatchError(
            f"no installed Package_for_RollupFix package has the host's build {build} (rollup packages: "
            f"{names}); "
            "set rollback_kb, or remove it with DISM by its name"
        )
    chosen = sorted(rollups, key=lambda p: str(p["installed"] or ""))[-1]
    return {
        "package": chosen["name"],
        "kb": wanted or current.get("kb"),
        "build": build,
        "reason": f"the combined cumulative package of build {build} (DISM /Remove-Package)",
    }
