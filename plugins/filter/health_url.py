"""The health_url filter (plugins/plugin_utils/_health.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._health import health_url

DOCUMENTATION = r"""
name: health_url
short_description: A health-check URL without its credentials, its user name or password, or masked
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Credentials written inside a health-check URL (C(https://user:pass@host/health)) never reach output or
    reports - O(part=url) gives the URL without them, O(part=username) and O(part=password) the explicit
    variable when set (C(patch_health_url_username), C(patch_health_url_password)) or else what the URL held,
    O(part=masked) the URL with C(***) in their place.
positional: part, explicit
options:
  _input:
    description: The URL.
    type: str
    required: true
  part:
    description: What to return.
    type: str
    choices: [url, username, password, masked]
    required: true
  explicit:
    description: The explicit user name or password variable, which wins over the URL's.
    type: str
"""

EXAMPLES = r"""
- name: Show a health URL without its password
  ansible.builtin.debug:
    msg: "{{ 'https://svc:s3cret@app.example/health' | hotpatch.windows.health_url('masked') }}"
"""

RETURN = r"""
_value:
  description: See the description.
  type: raw
"""


def health_url_filter(url, part, explicit=None):
    """hotpatch.windows.health_url"""
    try:
        return health_url(url, part, explicit)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.health_url: {exc}") from None


class FilterModule:
    """hotpatch.windows.health_url"""

    def filters(self):
        return {"health_url": health_url_filter}
