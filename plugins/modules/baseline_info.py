# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name (plugins/action/).

DOCUMENTATION = r"""
---
module: baseline_info
short_description: Tell where a Windows host stands against the hotpatch release calendar
version_added: 1.0.0
description:
  - Runs one read-only PowerShell probe on the host (one round trip over C(winrm), C(psrp), or C(ssh) with
    the C(powershell) shell), then decides on the controller the host's hotpatch eligibility, the release
    cycle of the date, the release line the host's build is on (hotpatch or regular cumulative update), the
    baseline it sits on, whether that is the current baseline, whether it is up to date, and whether and why
    a restart is pending.
  - The cycle comes from the shipped release catalog (Windows Server 2022 Datacenter Azure Edition and
    Windows Server 2025), with user rows from O(catalog) or C(hotpatch_catalog) replacing shipped ones.
  - Changes nothing on the host and runs in check mode.
extends_documentation_fragment:
  - hotpatch.windows.host_settings
  - hotpatch.windows.host_settings.release
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
    details: The probe only reads, so the module runs in check mode as it does otherwise.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: windows
notes:
  - A cycle starts on its month's release day, the second Tuesday; months past the catalog follow the planned
    pattern (January, April, July and October baselines) and are reported with C(published=false).
seealso:
  - module: hotpatch.windows.eligibility_info
  - plugin: hotpatch.windows.release_cycle
    plugin_type: filter
  - plugin: hotpatch.windows.host_plan
    plugin_type: filter
author:
  - hotpatch.windows developers (@hotpatch-windows)
"""

EXAMPLES = r"""
- name: Where do the hosts stand this month?
  hotpatch.windows.baseline_info:
  register: hotpatch_status

- name: Hosts that must take the baseline before they can take hotpatches
  ansible.builtin.debug:
    msg: >-
      {{ inventory_hostname }} is on {{ hotpatch_status.current.build }},
      not on the baseline of {{ hotpatch_status.cycle.month }}
  when: not hotpatch_status.on_current_baseline

- name: Assess against a given date, with an unplanned baseline the collection does not ship yet
  hotpatch.windows.baseline_info:
    date: '2026-08-12'
    catalog:
      - {os: '2025', month: '2026-08', type: baseline, unplanned: true, kb: KB5099999, build: '26100.33000'}
"""

RETURN = r"""
facts:
  description: The raw facts the probe read (see M(hotpatch.windows.eligibility_info)).
  returned: success
  type: dict
eligibility:
  description:
    - The eligibility verdict C({eligible, platform, reasons, warnings})
      (see M(hotpatch.windows.eligibility_info)).
  returned: success
  type: dict
cycle:
  description: The release cycle of the date.
  returned: success
  type: dict
  contains:
    month:
      description: The cycle's month.
      type: str
      sample: '2026-02'
    type:
      description: V(baseline) (needs a restart) or V(hotpatch).
      type: str
      sample: hotpatch
    unplanned:
      description: Whether a baseline replaced a planned hotpatch month.
      type: bool
    kb:
      description: The release's KB, null while not published.
      type: str
      sample: KB5075942
    build:
      description: The release's build, null while not published.
      type: str
      sample: '26100.32313'
    published:
      description: Whether Microsoft has published the release.
      type: bool
    release_date:
      description: The release day, the month's second Tuesday.
      type: str
      sample: '2026-02-10'
release_line:
  description:
    - V(hotpatch) when the build is a hotpatch build, V(lcu) when it is a regular cumulative update,
      else V(unknown).
  returned: success
  type: str
  sample: hotpatch
current:
  description:
    - The host's build and the catalog's KB and month for it (null when the catalog does not know it).
  returned: success
  type: dict
  sample: {build: '26100.32313', kb: KB5075942, month: '2026-02'}
baseline:
  description: The baseline the host sits on.
  returned: success
  type: dict
  sample: {build: '26100.32230', kb: KB5073379, month: '2026-01'}
on_current_baseline:
  description: Whether the host sits on the baseline of the current cycle (it must, to take hotpatches).
  returned: success
  type: bool
up_to_date:
  description: Whether the host has the release of the current cycle.
  returned: success
  type: bool
reboot_pending:
  description: Whether a restart is pending and why.
  returned: success
  type: dict
  sample: {required: true, reasons: [cbs]}
probe_seconds:
  description: How long the probe's round trip took, in seconds.
  returned: success
  type: float
  sample: 2.431
ansible_facts:
  description: The whole result above (without C(probe_seconds)), as the host fact C(hotpatch).
  returned: success
  type: dict
  contains:
    hotpatch:
      description: The C(baseline_info) result.
      type: dict
"""
