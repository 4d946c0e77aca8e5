"""The eligibility filter: can a host take Windows Server hotpatches?"""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._eligibility import evaluate_eligibility
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: eligibility
short_description: Whether a Windows host can take hotpatches, and every reason why not
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Evaluates a host's raw facts (the probe output of M(hotpatch.windows.eligibility_info)) against
    Microsoft's hotpatch requirements and returns the verdict, the platform and every reason that applies.
  - Facts a machine cannot see about itself come from host variables, passed as keyword arguments with
    their variable names (C(hotpatch_platform=...)) or their short names (C(platform=...)).
  - A value that is unknown gives a warning, never a silent yes. See docs/decisions.md for every rule.
options:
  _input:
    description:
      - The raw facts of one host (keys C(os), C(vbs_status), C(hotpatch_restrictions), C(azure), C(arc)...).
    type: dict
    required: true
  hotpatch_platform:
    description:
      - Where the host runs. C(auto) detects C(azure) (Instance Metadata answered), then C(arc) (Arc agent
        installed), else C(on_premises). C(azure_local) can only be set, never detected.
      - Also accepted as C(platform).
    type: str
    choices: [auto, azure, azure_local, arc, on_premises]
    default: auto
  hotpatch_image:
    description:
      - The C({publisher, offer, sku}) an Azure Local VM was created from (it cannot see it itself).
      - Also accepted as C(image).
    type: dict
  hotpatch_arc_license:
    description:
      - Whether the Hotpatch licence feature is enabled on the Arc machine; C(unknown) gives a warning.
      - Also accepted as C(arc_license).
    type: str
    choices: [enabled, disabled, unknown]
    default: unknown
  hotpatch_vmss_orchestration:
    description:
      - The orchestration mode of the VM's scale set; C(uniform) cannot use hotpatch.
      - Also accepted as C(vmss_orchestration).
    type: str
    choices: [uniform, flexible]
"""

EXAMPLES = r"""
- name: Evaluate a host from its raw facts and host variables
  ansible.builtin.debug:
    msg: >-
      {{ hotpatch_facts | hotpatch.windows.eligibility(hotpatch_platform=hotpatch_platform | default('auto'),
      hotpatch_arc_license=hotpatch_arc_license | default('unknown')) }}

- name: An Azure Local VM tells its image
  ansible.builtin.set_fact:
    verdict: >-
      {{ hotpatch_facts | hotpatch.windows.eligibility(platform='azure_local', image={'publisher':
      'MicrosoftWindowsServer', 'offer': 'WindowsServer', 'sku': '2025-Datacenter-Azure-Edition'}) }}
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    eligible:
      description: True when no reason applies.
      type: bool
    platform:
      description: C(azure), C(azure_local), C(arc), C(on_premises) or C(unknown).
      type: str
    reasons:
      description:
        - Every reason the host cannot take hotpatches, each C({code, message}).
        - Codes include C(os_not_supported), C(edition_not_supported), C(image_not_supported),
          C(custom_image), C(vmss_uniform), C(vbs_not_running), C(chpe_enabled), C(arc_agent_missing),
          C(arc_not_licensed), C(build_too_old) and C(facts_incomplete).
      type: list
      elements: dict
    warnings:
      description: Sentences about values that are unknown or doubtful.
      type: list
      elements: str
"""

ARGUMENTS = {
    "hotpatch_platform": "platform",
    "hotpatch_image": "image",
    "hotpatch_arc_license": "arc_license",
    "hotpatch_vmss_orchestration": "vmss_orchestration",
}


def eligibility_filter(facts, **kwargs):
    """The eligibility verdict of one host's raw facts."""
    arguments = {}
    for name, value in kwargs.items():
        short = ARGUMENTS.get(name, name)
        if short not in ARGUMENTS.values():
            raise AnsibleFilterError(
                f"hotpatch.windows.eligibility: unknown argument {name!r}; use {', '.join(ARGUMENTS)} "
                "(or their short names)"
            )
        if short in arguments:
            raise AnsibleFilterError(f"hotpatch.windows.eligibility: {short!r} is given twice")
        arguments[short] = value
    try:
        return evaluate_eligibility(facts, **arguments)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.eligibility: {exc}") from None


class FilterModule:
    """hotpatch.windows.eligibility"""

    def filters(self):
        return {"eligibility": eligibility_filter}
