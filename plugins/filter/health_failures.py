"""The health_failures filter (plugins/plugin_utils/_health.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._health import health_failures

DOCUMENTATION = r"""
name: health_failures
short_description: The failed health checks of a host's restart, as sentences
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Takes the registered loop results of the service, port and URL checks and returns one sentence per
    failed check (URLs masked).
positional: ports, urls
options:
  _input:
    description: The registered M(ansible.windows.win_service_info) loop result.
    type: dict
  ports:
    description: The registered M(ansible.windows.win_wait_for) loop result.
    type: dict
  urls:
    description: The registered M(ansible.builtin.uri) loop result.
    type: dict
"""

EXAMPLES = r"""
- name: Collect what is unhealthy
  ansible.builtin.set_fact:
    patch_unhealthy: "{{ patch_services | hotpatch.windows.health_failures(patch_ports, patch_urls) }}"
"""

RETURN = r"""
_value:
  description: See the description.
  type: raw
"""


def health_failures_filter(services=None, ports=None, urls=None):
    """hotpatch.windows.health_failures"""
    try:
        return health_failures(services, ports, urls)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.health_failures: {exc}") from None


class FilterModule:
    """hotpatch.windows.health_failures"""

    def filters(self):
        return {"health_failures": health_failures_filter}
