"""The arc_license_request filter (plugins/plugin_utils/_enable.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._enable import arc_license_request
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: arc_license_request
short_description: The Azure Resource Manager URL of an Arc machine's license profile
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns C({url, location, missing, subscription_id, resource_group, name}) of the resource
    C(/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.HybridCompute/machines/{name}/licenseProfiles/default)
    (REST API Microsoft.HybridCompute License Profiles), on the endpoint and API version of the settings.
  - Subscription, resource group, machine name and location come from C(hotpatch_arc_resource) (the
    C(arc_resource) setting), else from what C(azcmagent show -j) reported on the host (the probe's
    C(azcmagent)); C(missing) names what neither gave, and C(url) is null then.
positional: settings
options:
  _input:
    description: The host's C(hotpatch_status).
    type: dict
    required: true
  settings:
    description:
      - The settings of P(hotpatch.windows.enable_plan#filter) (C(arc_resource), C(endpoint), C(api_version)).
    type: dict
"""

EXAMPLES = r"""
- name: Where the license profile lives
  ansible.builtin.debug:
    msg: "{{ (hotpatch_status | hotpatch.windows.arc_license_request(enable_settings)).url }}"
  vars:
    enable_settings: {endpoint: https://management.azure.com}
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def arc_license_request_filter(status, settings=None):
    """hotpatch.windows.arc_license_request"""
    try:
        return arc_license_request(status, settings)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.arc_license_request: {exc}") from None


class FilterModule:
    """hotpatch.windows.arc_license_request"""

    def filters(self):
        return {"arc_license_request": arc_license_request_filter}
