"""The release_cycle filter: the hotpatch release cycle a date falls in."""

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    cycle_month,
    load_catalog,
    normalise_os,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: release_cycle
short_description: The Windows Server hotpatch release cycle a date falls in
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns the release cycle (baseline or hotpatch month) that a date falls in for Windows Server 2022
    Datacenter Azure Edition or Windows Server 2025.
  - A cycle opens on its month's release day, the second Tuesday; 2026-02-05 is still in the 2026-01 cycle
    and 2026-02-10 opens 2026-02.
  - Months Microsoft has published come from the release catalog shipped in the collection; later months
    follow the planned pattern (January, April, July and October baselines, hotpatch months between) with
    C(published=false) and no KB or build. The collection never invents a KB or a build.
  - For a month past the catalog's newest published month the filter also warns "planned, not yet
    published" and names the playbook C(hotpatch.windows.catalog_update) that refreshes the catalog; for a
    month after the end of the OS's hotpatch programme it warns that the programme ended.
  - C(kb) and C(build) are those of the month's hotpatch in a hotpatch month and of its baseline cumulative
    update in a baseline month. Other releases of the month (the regular cumulative update of a hotpatch
    month, out-of-band releases) are in the catalog too; see the calendar guide (docs/calendar.md).
positional: os
options:
  _input:
    description:
      - The date, as C(YYYY-MM-DD), an ISO 8601 date and time (for example the host's clock C(now) from the
        facts), or a date object.
    type: raw
    required: true
  os:
    description: The Windows Server release, C(2022) (Azure Edition) or C(2025).
    type: str
    required: true
    choices: ['2022', '2025']
  catalog:
    description:
      - Extra catalog rows (usually the C(hotpatch_catalog) variable) as a list of rows or the path of a YAML
        file holding a list of rows or a mapping with the key C(releases).
      - A cycle row is C({os, month, type, unplanned}) (replaces the shipped row of the same os and month);
        a release row is C({os, month, kb, build, line, baseline, oob, released}) (adds a KB, or replaces the
        shipped row of the same os and KB); a row C({os, month, type, unplanned, kb, build}) is both.
        Quote builds (V('20348.2655')).
    type: raw
"""

EXAMPLES = r"""
- name: Show the cycle of the unplanned August 2024 baseline
  ansible.builtin.debug:
    msg: "{{ '2024-08-14' | hotpatch.windows.release_cycle(os='2022') }}"
    # month 2024-08, type baseline, unplanned true, KB5041160, build 20348.2655

- name: The cycle of the host's own clock, with the user's catalog rows
  ansible.builtin.set_fact:
    hotpatch_cycle: >-
      {{ hotpatch_status.facts.now
      | hotpatch.windows.release_cycle('2025', catalog=hotpatch_catalog | default([])) }}

- name: Announce an unplanned baseline before the collection ships it
  ansible.builtin.debug:
    msg: >-
      {{ '2026-08-20' | hotpatch.windows.release_cycle(os='2025', catalog=[{'os': '2025', 'month': '2026-08',
      'type': 'baseline', 'unplanned': true, 'kb': none, 'build': none}]) }}
"""

RETURN = r"""
_value:
  description: The release cycle.
  type: dict
  contains:
    month:
      description: The cycle's month, C(YYYY-MM).
      type: str
      sample: '2024-08'
    type:
      description: C(baseline) (restart) or C(hotpatch) (no restart).
      type: str
      sample: baseline
    unplanned:
      description: True for a baseline that replaced a planned hotpatch month.
      type: bool
      sample: true
    kb:
      description: The month's KB for this OS; null when not published.
      type: str
      sample: KB5041160
    build:
      description: The OS build the month's release brings; null when not published.
      type: str
      sample: '20348.2655'
    published:
      description: True when the catalog holds Microsoft's published row for the month.
      type: bool
      sample: true
    release_date:
      description: The month's release day (second Tuesday), C(YYYY-MM-DD).
      type: str
      sample: '2024-08-13'
"""


def release_cycle_filter(when, os=None, catalog=None):
    """The hotpatch release cycle ``when`` falls in for ``os``; warns for unpublished and ended months."""
    if os is None:
        raise AnsibleFilterError("hotpatch.windows.release_cycle: os is required ('2022' or '2025')")
    try:
        os = normalise_os(os)
        loaded = load_catalog(catalog)
        year, month = cycle_month(when)
        cycle = loaded.entry(os, year, month)
        note = loaded.status(os, cycle["month"])["note"]
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.release_cycle: {exc}") from None
    if note:
        Display().warning(f"hotpatch.windows.release_cycle: {cycle['month']}: {note}")
    return cycle


class FilterModule:
    """hotpatch.windows.release_cycle"""

    def filters(self):
        return {"release_cycle": release_cycle_filter}
