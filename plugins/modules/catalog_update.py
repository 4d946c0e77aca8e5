# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the action plugin of the same name (plugins/action/) does the work, on the controller.

DOCUMENTATION = r"""
---
module: catalog_update
short_description: Update the hotpatch release catalog from Microsoft's security update documents
version_added: 1.0.0
description:
  - Reads Microsoft's monthly security update documents (the CVRF documents of the MSRC security updates API,
    v3.0) for a range of months and writes the release catalog rows they show to a file usable as
    C(hotpatch_catalog), for Windows Server 2025 and Windows Server 2022 (including the Datacenter Azure
    Edition hotpatch line, which Microsoft lists under the Windows Server 2022 products).
  - For each OS and month it takes the month's cumulative update (the C(Security Update) that the most
    vulnerabilities list) and its hotpatch (C(Security Hotpatch Update), in any spelling), out-of-band
    cumulative updates it can date, and marks a month of a hotpatch cycle that has a cumulative update and no
    hotpatch as an B(unplanned baseline). A build comes from the document's C(FixedBuild) only; none is
    ever guessed.
  - Rows are compared with the catalog (the rows shipped with the collection and the rows already in O(dest)).
    New rows are written; rows the catalog already has are not; a row that disagrees with a published row is
    reported field by field and the catalog's row is kept unless O(prefer=import). A month the catalog only
    plans (the calendar's future months, no release published) takes the documents' evidence.
  - The file is written through a temporary file in its directory and a rename, so a failure (network, HTTP
    error, a document without the products, a malformed document) leaves it exactly as it was. Rows added by
    hand to O(dest) are kept.
  - Runs on the controller only; no host is contacted.
options:
  months:
    description:
      - The range of months to import, both ends included.
      - Without it, from the month after the catalog's newest published month to the release cycle of O(date).
        With a directory O(source) and no range, every document the directory holds in that span.
    type: dict
    suboptions:
      from:
        description: The first month, C(YYYY-MM).
        type: str
      to:
        description: The last month, C(YYYY-MM).
        type: str
  source:
    description:
      - Where the documents come from. A URL template (C(http://) or C(https://)) in which C({month}) becomes
        the document id (C(2026-Jun)); fetched asking for JSON (header C(Accept) C(application/json)),
        through the proxy that the C(https_proxy) / C(http_proxy) and C(no_proxy) environment variables name.
      - Or the path of a directory of documents saved on another machine, one per month, named by the document
        id with C(.json) or C(.xml) (C(2026-Jun.json)), as the MSRC API returns them (JSON or XML).
    type: str
    default: https://api.msrc.microsoft.com/cvrf/v3.0/cvrf/{month}
  dest:
    description:
      - The catalog file to write (created with its directory if missing). Point C(hotpatch_catalog) at it.
    type: path
    required: true
  prefer:
    description:
      - Which row wins when an imported row disagrees with a published row of the catalog.
      - V(catalog) keeps the catalog's row and reports the difference; V(import) writes the document's row to
        O(dest), where it replaces the catalog's.
    type: str
    choices: [catalog, import]
    default: catalog
  date:
    description:
      - The date whose release cycle ends the default range, C(YYYY-MM-DD) (default today, UTC).
    type: str
  timeout:
    description: Seconds to wait for each document.
    type: int
    default: 60
  validate_certs:
    description: Whether to validate the TLS certificate of the source URL.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Fetches and compares, reports what would change, and writes nothing.
  diff_mode:
    support: full
    details: Shows the file before and after.
  platform:
    platforms: posix
    details: Runs on the controller.
notes:
  - Microsoft's pages remain the authority where a document is incomplete. For instance the CVRF document of
    2024-Feb lists no hotpatch for Windows Server 2022, while the hotpatch calendar publishes KB5034860; the
    import reports that month as different and keeps the catalog's row.
  - Out-of-band releases that fix no CVE are not in the documents; add them by hand (see docs/calendar.md).
  - The playbook C(hotpatch.windows.catalog_update) runs this module on localhost.
seealso:
  - plugin: hotpatch.windows.release_cycle
    plugin_type: filter
  - module: hotpatch.windows.baseline_info
  - name: MSRC security updates API
    description: The monthly CVRF documents the module reads.
    link: https://api.msrc.microsoft.com/cvrf/v3.0/swagger/v3/swagger.json
author:
  - hotpatch.windows developers (@hotpatch-windows)
"""

EXAMPLES = r"""
- name: Import every month after the shipped catalog from the MSRC API
  hotpatch.windows.catalog_update:
    dest: ~/.ansible/hotpatch_catalog.yml

- name: Import documents saved on a machine with internet access, for given months
  hotpatch.windows.catalog_update:
    source: /srv/msrc-cvrf          # 2026-Jun.json, 2026-Jul.json, ...
    dest: "{{ playbook_dir }}/group_vars/hotpatch_catalog.yml"
    months:
      from: '2026-06'
      to: '2026-11'

- name: What would change, without writing
  hotpatch.windows.catalog_update:
    dest: ~/.ansible/hotpatch_catalog.yml
  check_mode: true
  register: catalog_preview

- name: Take the documents' rows where they disagree with the catalog
  hotpatch.windows.catalog_update:
    dest: ~/.ansible/hotpatch_catalog.yml
    months: {from: '2026-06', to: '2026-06'}
    prefer: import
"""

RETURN = r"""
changed:
  description: Whether the file changed (or would, in check mode).
  returned: always
  type: bool
dest:
  description: The catalog file.
  returned: always
  type: str
  sample: /home/ops/.ansible/hotpatch_catalog.yml
msg:
  description: One line saying what was imported and whether the file changed.
  returned: always
  type: str
  sample: >-
    imported 2026-06: 0 new, 2 planned replaced, 0 different, 2 equal rows; written to
    /home/ops/.ansible/hotpatch_catalog.yml
months:
  description: The months imported.
  returned: success
  type: list
  elements: str
  sample: ['2026-06']
current_cycle:
  description: The release cycle of O(date).
  returned: success
  type: str
  sample: '2026-11'
documents:
  description: Each document read, with its id, title, release and revision dates and its URL or file name.
  returned: success
  type: list
  elements: dict
  sample:
    - {month: '2026-06', id: 2026-Jun, title: June 2026 Security Updates, released: '2026-06-09',
       revision: '2026-07-05T14:46:17', file: 2026-Jun.xml}
rows:
  description: Every row the documents gave (release rows with C(kb) and C(line), cycle rows with C(type)).
  returned: success
  type: list
  elements: dict
  sample:
    - {os: '2025', month: '2026-06', type: baseline, unplanned: true, source: msrc-cvrf-2026-Jun}
    - {os: '2025', month: '2026-06', kb: KB5094125, build: '26100.32995', line: lcu, released: '2026-06-09',
       source: msrc-cvrf-2026-Jun}
new:
  description: Rows the catalog did not have (written to O(dest)), with C(kind), C(what), C(row), C(status).
  returned: success
  type: list
  elements: dict
different:
  description:
    - Rows that disagree with a published row of the catalog; C(fields) lists each field with the catalog's
      and the imported value, C(action) says which was kept and C(reason) why.
  returned: success
  type: list
  elements: dict
  sample:
    - kind: cycle
      what: Windows Server 2022 2024-02
      status: different
      fields:
        - {field: type, catalog: hotpatch, imported: baseline}
        - {field: unplanned, catalog: false, imported: true}
      action: kept the catalog's row
      catalog_origin: shipped
      catalog_source: release-health
replaced_planned:
  description: Cycle rows that replace a month the catalog only planned (no release published for it).
  returned: success
  type: list
  elements: dict
equal:
  description: The rows the catalog already has as the documents give them.
  returned: success
  type: list
  elements: str
pruned:
  description: Rows of O(dest) dropped because the collection now ships them identically.
  returned: success
  type: list
  elements: str
not_imported:
  description:
    - KBs a document lists for the OS that the import did not take, with the reason (a release of another
      month, a SubType that is neither a cumulative update nor a hotpatch, a build that cannot be dated).
  returned: success
  type: list
  elements: dict
  sample:
    - {os: '2022', month: '2025-10', kb: KB5070892, subtype: Standalone Security Update, build: '20348.4297',
       listed_by: 1, reason: its SubType is neither a cumulative update (Security Update) nor hotpatch}
skipped:
  description: OS and months without rows (before the programme's first month, or no cycle row after its end).
  returned: success
  type: list
  elements: dict
"""
