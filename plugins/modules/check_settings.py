# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name (plugins/action/).

DOCUMENTATION = r"""
---
module: check_settings
short_description: Check the hotpatch.windows settings of a run or of one host, before anything changes
version_added: 1.0.0
description:
  - Runs on the controller and opens no connection to the host.
  - With O(scope=rollout), checks the rollout settings (C(patch_batch_size), C(patch_max_per_group),
    C(patch_max_fail_percentage), C(patch_reboot_timeout), C(patch_install_timeout),
    C(patch_install_batch_size), C(patch_unexpected_reboot), the health checks) and fails with the setting
    and the value named when one is wrong. The roles run it once, before any host changes.
  - With O(scope=host), checks the host's settings (C(hotpatch_platform), C(hotpatch_arc_license),
    C(hotpatch_vmss_orchestration), C(hotpatch_image), C(hotpatch_availability_group),
    C(hotpatch_restart_signals), C(hotpatch_catalog), C(hotpatch_date)) and, given the host's clock O(now),
    that C(hotpatch_date) lies inside the hotpatch programme and in the cycle of the host's clock, and that
    the host's clock agrees with the controller's within C(hotpatch_clock_tolerance). It never fails - it
    returns the problems, so that one bad host is reported and the others go on.
  - Either way it warns about variables that look like this collection's but are not (C(batch_size)), with
    the closest known name.
options:
  scope:
    description: What to check.
    type: str
    choices: [rollout, host]
    default: host
  now:
    description: The host's clock (C(facts.now) of M(hotpatch.windows.baseline_info)), ISO 8601 UTC.
    type: str
  names:
    description: The variable names to look through for misspellings; default every variable of the host.
    type: list
    elements: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: It only reads variables.
  diff_mode:
    support: none
  platform:
    platforms: all
author:
  - hotpatch.windows developers (@hotpatch-windows)
"""

EXAMPLES = r"""
- name: Refuse bad rollout settings before any host changes
  hotpatch.windows.check_settings:
    scope: rollout
  run_once: true

- name: Check this host's settings against its clock
  hotpatch.windows.check_settings:
    now: "{{ hotpatch_status.facts.now }}"
  register: settings_check
"""

RETURN = r"""
settings:
  description:
    - The checked rollout settings (O(scope=rollout)).
    - Secrets are masked - credentials inside health URLs, the health URL password and the values of the
      health URL headers.
  returned: scope is rollout and the settings are good
  type: dict
problems:
  description: The host's problems, each C({code, message}); codes C(bad_setting), C(bad_catalog),
    C(bad_date),
    C(date_other_cycle), C(clock_skew).
  returned: scope is host
  type: list
  elements: dict
ok:
  description: True when the host's settings are good.
  returned: scope is host
  type: bool
"""
