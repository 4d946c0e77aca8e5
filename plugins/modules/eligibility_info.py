# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name (plugins/action/).

DOCUMENTATION = r"""
---
module: eligibility_info
short_description: Tell whether a Windows host can take hotpatches, and why not
version_added: 1.0.0
description:
  - Runs one read-only PowerShell probe on the host (one round trip over C(winrm), C(psrp), or C(ssh) with
    the C(powershell) shell) that collects the raw facts hotpatch depends on, then decides on the controller
    whether the host is eligible for Windows Server hotpatch, following Microsoft's published rules.
  - Reports every reason that applies, each with a stable code, so one run shows everything to fix.
  - Facts the machine cannot see about itself (its platform, Azure Local image, Arc license, scale set
    orchestration) come from host variables or the options below; an unknown value gives a warning, never a
    silent yes.
  - Changes nothing on the host and runs in check mode.
extends_documentation_fragment:
  - hotpatch.windows.host_settings
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
  - The probe needs no admin rights; a piece it cannot read (for example Secure Boot state or a registry key
    the user may not open) is reported as null, and the decision names what is missing.
  - The probe asks the Azure Instance Metadata Service with a two-second timeout and no proxy, so it does not
    hang off Azure.
  - Reason codes are V(os_not_supported), V(edition_not_supported), V(image_not_supported), V(custom_image),
    V(vmss_uniform), V(vbs_not_running), V(chpe_enabled), V(arc_agent_missing), V(arc_not_licensed),
    V(build_too_old) and V(facts_incomplete).
seealso:
  - module: hotpatch.windows.baseline_info
  - plugin: hotpatch.windows.eligibility
    plugin_type: filter
  - name: Hotpatch for Windows Server
    description: Microsoft's description of hotpatch, its platforms and prerequisites.
    link: https://learn.microsoft.com/windows-server/get-started/hotpatch
author:
  - hotpatch.windows developers (@hotpatch-windows)
"""

EXAMPLES = r"""
- name: Can these hosts take hotpatches?
  hotpatch.windows.eligibility_info:
  register: hotpatch_eligibility

- name: Show why a host cannot
  ansible.builtin.debug:
    msg: "{{ hotpatch_eligibility.eligibility.reasons | map(attribute='message') }}"
  when: not hotpatch_eligibility.eligibility.eligible

- name: An Azure Arc-connected Windows Server 2025 machine with hotpatch enabled in Azure Arc
  hotpatch.windows.eligibility_info:
    platform: arc
    arc_license: enabled

- name: An Azure Local VM, which cannot see the image it was created from
  hotpatch.windows.eligibility_info:
    platform: azure_local
    image:
      publisher: MicrosoftWindowsServer
      offer: WindowsServer
      sku: 2025-Datacenter-Azure-Edition
"""

RETURN = r"""
facts:
  description:
    - The raw facts the probe read from the host, checked and normalised. A piece it could not read is null.
  returned: success
  type: dict
  contains:
    os:
      description: C(product_name), C(edition_id), C(installation_type), C(build), C(ubr), C(architecture).
      type: dict
      sample:
        product_name: Windows Server 2025 Datacenter Azure Edition
        edition_id: ServerTurbine
        installation_type: Server
        build: 26100
        ubr: 32230
        architecture: AMD64
    vbs_status:
      description:
        - Win32_DeviceGuard VirtualizationBasedSecurityStatus (0 off, 1 enabled but not running, 2 running).
      type: int
      sample: 2
    hotpatch_restrictions:
      description: The HotPatchRestrictions registry value (Arm64; 1 turns CHPE off).
      type: int
      sample: 1
    secure_boot:
      description: Whether UEFI Secure Boot is on.
      type: bool
    azure:
      description:
        - The Azure Instance Metadata image and placement (C(publisher), C(offer), C(sku), C(image_id),
          C(location), C(vm_scale_set_name)), or null off Azure.
      type: dict
    arc:
      description: Whether the Azure Connected Machine agent (service himds) is installed and running.
      type: dict
      sample: {agent_installed: false, agent_running: false}
    hotfixes:
      description: Installed update KB ids.
      type: list
      elements: str
      sample: [KB5073379]
    reboot_pending:
      description: The four places that say a restart is pending.
      type: dict
      sample: {cbs: false, windows_update: false, file_rename: false, computer_rename: false}
    last_boot:
      description: Last boot time, ISO 8601 UTC.
      type: str
      sample: '2026-01-14T03:12:40Z'
    now:
      description: The host's clock, ISO 8601 UTC.
      type: str
      sample: '2026-02-03T10:00:00Z'
    timezone:
      description: The host's time zone id.
      type: str
      sample: W. Europe Standard Time
eligibility:
  description: The verdict.
  returned: success
  type: dict
  contains:
    eligible:
      description: Whether the host can take hotpatches.
      type: bool
      sample: false
    platform:
      description: The platform the rules were applied for.
      type: str
      sample: azure
    reasons:
      description: Every reason the host is not eligible, each with a stable C(code) and a C(message).
      type: list
      elements: dict
      sample:
        - code: vbs_not_running
          message: virtualization-based security is enabled but not running
    warnings:
      description: What could not be known and was not counted against the host.
      type: list
      elements: str
probe_seconds:
  description: How long the probe's round trip took, in seconds.
  returned: success
  type: float
  sample: 2.431
ansible_facts:
  description: The same C(facts) and C(eligibility), as the host fact C(hotpatch).
  returned: success
  type: dict
  contains:
    hotpatch:
      description: C({facts, eligibility}).
      type: dict
"""
