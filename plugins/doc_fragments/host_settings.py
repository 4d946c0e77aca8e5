"""Documentation of the settings the hotpatch.windows modules read from options or host variables."""


class ModuleDocFragment:
    # Facts a machine cannot see about itself. Each option overrides the host variable of the same setting.
    DOCUMENTATION = r"""
options:
  platform:
    description:
      - Where the host runs, which decides the hotpatch rules that apply to it.
      - V(auto) tells it from the host's own facts (an Azure Instance Metadata answer means Azure, a
        Connected Machine agent means Azure Arc).
      - When not set, the host variable C(hotpatch_platform) is used, and when that is not set either,
        V(auto).
    type: str
    choices: [auto, azure, azure_local, arc, on_premises]
  image:
    description:
      - The image the VM was created from, for an Azure Local (Azure Stack HCI) VM, which has no Instance
        Metadata Service to ask.
      - When not set, the host variable C(hotpatch_image) is used.
    type: dict
    suboptions:
      publisher:
        description: Image publisher, for example V(MicrosoftWindowsServer).
        type: str
        required: true
      offer:
        description: Image offer, for example V(WindowsServer).
        type: str
        required: true
      sku:
        description: Image SKU, for example V(2025-Datacenter-Azure-Edition).
        type: str
        required: true
  arc_license:
    description:
      - Whether hotpatch is enabled for this Azure Arc-connected machine (its Arc license profile), which the
        machine cannot see.
      - V(unknown) gives a warning instead of a silent yes.
      - When not set, the host variable C(hotpatch_arc_license) is used, and when that is not set either,
        V(unknown).
    type: str
    choices: [enabled, disabled, unknown]
  vmss_orchestration:
    description:
      - The orchestration mode (V(uniform) or V(flexible), any case) of the VM scale set the VM belongs to;
        Uniform scale sets cannot use hotpatch with Azure Edition images.
      - When not set, the host variable C(hotpatch_vmss_orchestration) is used.
    type: str
  vbs_status:
    description:
      - The C(VirtualizationBasedSecurityStatus) of the host (V(0) off, V(1) enabled but not running, V(2)
        running), used only where the probe could not read it (a WMI timeout); the probe's own reading wins.
      - Without it, a host whose VBS state could not be read is C(facts_incomplete) and neither patched nor
        restarted.
      - When not set, the host variable C(hotpatch_vbs_status) is used.
    type: int
    choices: [0, 1, 2]
"""

    # The release calendar settings (baseline_info only).
    RELEASE = r"""
options:
  date:
    description:
      - The date (V(YYYY-MM-DD) or an ISO 8601 date and time) whose release cycle the host is compared with.
      - When not set, the host variable C(hotpatch_date) is used, and when that is not set either, the host's
        own clock (C(facts.now)).
      - A cycle starts on its month's release day, the second Tuesday.
    type: raw
  catalog:
    description:
      - Release catalog rows that add to or replace the shipped ones (a newer month, an unplanned baseline),
        as a list of rows or the path of a YAML file on the controller holding such a list.
      - 'A cycle row C({os: "2025", month: "2026-08", type: baseline, unplanned: true}) replaces the shipped
        row of the same os and month; a release row C({os: "2025", month: "2026-06", kb: KB..., build:
        "26100.x", line: hotpatch}) adds a KB or replaces the shipped row of the same os and KB. See the
        calendar guide (docs/calendar.md) for every row kind.'
      - When not set, the host variable C(hotpatch_catalog) is used.
    type: raw
  restart_signals:
    description:
      - The pending-restart signals that count as Windows' evidence that the host needs a restart, besides
        V(cbs) (CBS C(RebootPending)) and V(windows_update) (Windows Update C(RebootRequired)), which always
        count.
      - V(file_rename) (C(PendingFileRenameOperations)) and V(computer_rename) are written by many programs
        (antivirus agents, installers) and often survive a restart, so they count only when listed here.
        Either way they are reported in C(reboot_pending.signals) and C(reboot_pending.ignored).
      - When not set, the host variable C(hotpatch_restart_signals) is used.
    type: list
    elements: str
    choices: [cbs, windows_update, file_rename, computer_rename]
  azure_patch_mode:
    description:
      - The C(patchMode) of an Azure VM (C(osProfile.windowsConfiguration.patchSettings.patchMode)), which
        the VM cannot see (the Instance Metadata Service does not expose it), any case.
      - V(AutomaticByPlatform) (which hotpatch on Azure needs) means Azure installs updates and restarts the
        VM itself; the plan then follows C(patch_azure_platform). V(AutomaticByOS) means Windows Automatic
        Updates install and restart on their own (reported).
      - When not set, the host variable C(hotpatch_azure_patch_mode) is used.
    type: str
    choices: [AutomaticByPlatform, AutomaticByOS, Manual]
"""
