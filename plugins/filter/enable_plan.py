"""The enable_plan filter (plugins/plugin_utils/_enable.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._enable import enable_plan
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: enable_plan
short_description: What to change on a host to make it hotpatch-eligible, and what is refused
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Takes a host's M(hotpatch.windows.baseline_info) result and returns the plan of
    P(hotpatch.windows.enable#role) C({action, reboot, reasons, changes, registry, licence, refused, cause,
    failed, group}).
  - Virtualization-based security not running - C(EnableVirtualizationBasedSecurity=1) (and
    C(RequirePlatformSecurityFeatures) when it is not set) under
    C(HKLM:\SYSTEM\CurrentControlSet\Control\DeviceGuard), applied by a restart; refused (C(vbs_hardware))
    where the host does not show UEFI with Secure Boot, and reported (C(vbs_configured_not_running)) where the
    value is already 1 but VBS does not run.
  - Arm64 with CHPE on - C(HotPatchRestrictions=1) under C(Session Manager\Memory Management), applied by a
    restart.
  - Azure Arc - the Hotpatch feature of the machine's license profile (C(licenseProfiles/default),
    C(productFeatures) C(Hotpatch) C(Enable)), from the license profile read before (O(licence)) - C(PATCH) an
    existing profile, C(PUT) a new one, nothing when the feature is C(Enabled) or C(Enabling).
  - A host whose facts could not be read (C(facts_incomplete)) or that other reasons keep ineligible
    (C(not_applicable)) gets no change.
  - See the enable guide (docs/roles.md) for the whole role.
positional: settings, licence
options:
  _input:
    description: The host's C(hotpatch_status) (a M(hotpatch.windows.baseline_info) result).
    type: dict
    required: true
  settings:
    description:
      - C({vbs, chpe, arc_license, platform_security_features, arc_resource, endpoint, api_version, group})
        from the role's variables (C(enable_vbs), C(enable_chpe), C(enable_arc_license),
        C(enable_vbs_platform_security_features), C(hotpatch_arc_resource), C(enable_arm_endpoint),
        C(enable_arm_api_version), C(hotpatch_availability_group)).
    type: dict
  licence:
    description: The registered C(ansible.builtin.uri) GET of the Arc machine's license profile.
    type: dict
"""

EXAMPLES = r"""
- name: Plan what to enable
  ansible.builtin.set_fact:
    hotpatch_plan: "{{ hotpatch_status | hotpatch.windows.enable_plan({'vbs': true, 'chpe': true}) }}"
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def enable_plan_filter(status, settings=None, licence=None):
    """hotpatch.windows.enable_plan"""
    try:
        return enable_plan(status, settings, licence)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.enable_plan: {exc}") from None


class FilterModule:
    """hotpatch.windows.enable_plan"""

    def filters(self):
        return {"enable_plan": enable_plan_filter}
