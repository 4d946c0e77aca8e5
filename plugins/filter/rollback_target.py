"""The rollback_target filter (plugins/plugin_utils/_rollback.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._rollback import rollback_target

DOCUMENTATION = r"""
name: rollback_target
short_description: The servicing package to remove to roll back a host's latest hotpatch or cumulative update
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Microsoft documents removing a cumulative update, which ships combined with its servicing stack update,
    with C(DISM /Online /Remove-Package /PackageName:<name>) and the name from C(DISM /Online /Get-Packages);
    C(wusa /uninstall) does not work on the combined package and the servicing stack cannot be removed.
  - From the host's package list (C(Get-WindowsPackage -Online) as JSON) and its
    M(hotpatch.windows.baseline_info) result, returns the C(Package_for_RollupFix) package whose version is
    the host's build (or the package named after O(kb)), for M(ansible.windows.win_hotfix)
    C(hotfix_identifier).
  - Fails with what was wrong when no installed package holds the release.
positional: status, kb
options:
  _input:
    description: The package list, C(Get-WindowsPackage -Online | Select-Object PackageName, PackageState,
      ReleaseType, InstallTime | ConvertTo-Json) (text, or the parsed list).
    type: raw
    required: true
  status:
    description: The host's M(hotpatch.windows.baseline_info) result.
    type: dict
    required: true
  kb:
    description: A KB to remove instead of the host's current release (C(rollback_kb)).
    type: str
"""

EXAMPLES = r"""
- name: Choose the package that holds the host's release
  ansible.builtin.set_fact:
    rollback_target: "{{ packages.output | join('') | hotpatch.windows.rollback_target(before) }}"
"""

RETURN = r"""
_value:
  description: C({package, kb, build, reason}).
  type: dict
"""


def rollback_target_filter(listing, status, kb=None):
    """hotpatch.windows.rollback_target"""
    try:
        return rollback_target(listing, status, kb)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.rollback_target: {exc}") from None


class FilterModule:
    """hotpatch.windows.rollback_target"""

    def filters(self):
        return {"rollback_target": rollback_target_filter}
