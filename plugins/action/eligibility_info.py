"""Action plugin of hotpatch.windows.eligibility_info: probe the host, then decide its eligibility."""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._probe import ProbeAction


class ActionModule(ProbeAction):
    SETTINGS = ("platform", "image", "arc_license", "vmss_orchestration", "vbs_status")

    def evaluate(self, facts, settings):
        eligibility = self.eligibility(facts, settings)
        status = {"facts": facts, "eligibility": eligibility}
        result = dict(status, ansible_facts={"hotpatch": status})
        if eligibility["warnings"]:
            result["warnings"] = list(eligibility["warnings"])
        return result
