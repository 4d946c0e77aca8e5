"""Action plugin of hotpatch.windows.baseline_info: probe the host, then place it on the release calendar."""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._baseline import evaluate_baseline
from ansible_collections.hotpatch.windows.plugins.plugin_utils._probe import ProbeAction


class ActionModule(ProbeAction):
    SETTINGS = (
        "platform",
        "image",
        "arc_license",
        "vmss_orchestration",
        "date",
        "catalog",
        "restart_signals",
        "vbs_status",
        "azure_patch_mode",
    )

    def evaluate(self, facts, settings):
        eligibility = self.eligibility(facts, settings)
        # The cycle is picked by hotpatch_date when set, else by the host's own clock (facts.now).
        status = evaluate_baseline(
            facts,
            eligibility,
            when=settings["date"],
            catalog=settings["catalog"],
            signals=settings["restart_signals"],
            azure_patch_mode=settings["azure_patch_mode"],
        )
        result = dict(status, ansible_facts={"hotpatch": status})
        warnings = list(eligibility["warnings"])
        warnings += [warning for warning in status.get("warnings") or [] if warning not in warnings]
        if warnings:
            result["warnings"] = warnings
        return result
