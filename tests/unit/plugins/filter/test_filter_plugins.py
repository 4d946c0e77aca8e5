"""The filter plugins called as Jinja calls them (cases/filters.yml)."""

import importlib
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

HERE = Path(__file__).resolve().parent
CASES = yaml.safe_load((HERE / "cases" / "filters.yml").read_text(encoding="utf-8"))["cases"]
HOSTS = yaml.safe_load((HERE.parent / "plugin_utils" / "cases" / "hosts.yml").read_text(encoding="utf-8"))[
    "hosts"
]
FILTERS = ("release_cycle", "eligibility", "host_plan", "waves", "maintenance_window", "install_batch")


def _filter(name):
    module = importlib.import_module(f"ansible_collections.hotpatch.windows.plugins.filter.{name}")
    return module.FilterModule().filters()[name]


@pytest.mark.parametrize("name", FILTERS)
def test_each_file_holds_its_one_filter_and_documentation(name):
    module = importlib.import_module(f"ansible_collections.hotpatch.windows.plugins.filter.{name}")
    assert list(module.FilterModule().filters()) == [name]
    for attribute in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(module, attribute))
    assert yaml.safe_load(module.DOCUMENTATION)["name"] == name


@pytest.mark.parametrize("case", [pytest.param(case, id=case["id"]) for case in CASES])
def test_filter(case):
    function = _filter(case["filter"])
    value = HOSTS[case["host"]] if "host" in case else case["input"]
    call = lambda: function(value, *case.get("args", []), **case.get("kwargs", {}))  # noqa: E731
    if "error" in case:
        with pytest.raises(AnsibleFilterError) as info:
            call()
        for fragment in case["error"]:
            assert fragment in str(info.value)
        return
    result = call()
    if "result" in case:
        assert result == case["result"]
    for key, expected in case.get("expected", {}).items():
        assert result[key] == expected, key


JUNK = [None, "", "text", 0, -1, 2.5, True, [], [None], {}, {"os": []}, {"a": None}, {"reboot": "yes"}]


@pytest.mark.parametrize("name", FILTERS)
def test_junk_gives_a_filter_error_never_a_traceback(name):
    """Any input or argument value: a result or AnsibleFilterError, never another exception."""
    function = _filter(name)
    for value in [*JUNK, HOSTS["azure_2025"]]:
        for argument in JUNK:
            if name == "eligibility":
                calls = [{"hotpatch_platform": argument}, {"image": argument}, {"arc_license": argument}]
                calls += [{"vmss_orchestration": argument}]
                attempts = [((value,), kwargs) for kwargs in calls]
            elif name == "install_batch":
                attempts = [((value,), {}), ((value, argument), {}), ((value, 40), {}), ((argument, 0), {})]
            else:
                attempts = [((value,), {}), ((value, argument), {}), ((value, "2022", argument), {})]
                attempts += [((value, argument, argument), {})]
            for arguments, kwargs in attempts:
                try:
                    function(*arguments, **kwargs)
                except AnsibleFilterError as exc:
                    assert str(exc).startswith(f"hotpatch.windows.{name}: ")
