"""Users' settings (plugins/plugin_utils/_settings.py), from cases/settings.yml."""

import pytest
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._health import health_url
from ansible_collections.hotpatch.windows.plugins.plugin_utils._settings import (
    host_problems,
    mask_url,
    rollout_settings,
    shown_settings,
    unknown_variables,
)

CASES = load("settings")


@pytest.mark.parametrize("case", params(CASES["host"]))
def test_host_problems(case):
    problems = host_problems(
        "web01",
        case["settings"],
        case.get("now"),
        case.get("controller_now", case.get("now")),
        case.get("check_mode", False),
    )
    assert [problem["code"] for problem in problems] == case["problems"]
    text = " | ".join(problem["message"] for problem in problems)
    for problem in problems:
        assert problem["message"].startswith("web01: ")
    for word in case.get("words", []):
        assert word in text


@pytest.mark.parametrize("case", params(CASES["rollout"]))
def test_rollout_settings(case):
    if "error" not in case:
        assert rollout_settings(case["settings"])
        return
    with pytest.raises(HotpatchError) as info:
        rollout_settings(case["settings"])
    for fragment in case["error"]:
        assert fragment in str(info.value)
    if case.get("secret"):
        assert case["secret"] not in str(info.value)


@pytest.mark.parametrize("case", params(CASES["variables"]))
def test_unknown_variables(case):
    warnings = unknown_variables(case["names"])
    if not case["warnings"]:
        assert warnings == []
    text = " | ".join(warnings)
    for word in case["warnings"]:
        assert word in text


@pytest.mark.parametrize("case", params(CASES["masking"]))
def test_masking(case):
    assert mask_url(case["text"]) == case["expected"]


def test_health_url_takes_credentials_out():
    url = "https://svc:S3cret@app.example:8443/health?x=1"
    assert health_url(url, "url") == "https://app.example:8443/health?x=1"
    assert health_url(url, "username") == "svc"
    assert health_url(url, "password") == "S3cret"
    assert health_url(url, "password", "from-vault") == "from-vault"
    assert health_url(url, "masked") == "https://***@app.example:8443/health?x=1"
    assert health_url("https://app.example/health", "username") is None


def test_health_url_credentials_are_percent_decoded():
    """A password with reserved characters is percent-encoded in the URL; the server expects it decoded."""
    url = "http://Administrator:Kn0wn%23Secret%21@127.0.0.1:8080/health"
    assert health_url(url, "username") == "Administrator"
    assert health_url(url, "password") == "Kn0wn#Secret!"


def test_shown_settings_mask_every_health_secret():
    checked = rollout_settings(
        {
            "patch_health_urls": ["https://svc:S3cret@app/health", {"url": "https://u:Pw0rd@b/x"}],
            "patch_health_url_password": "Vault3d",
            "patch_health_url_headers": {"Authorization": "Bearer T0ken"},
        }
    )
    shown = repr(shown_settings(checked))
    for secret in ("S3cret", "Pw0rd", "Vault3d", "T0ken"):
        assert secret not in shown
    assert "https://***@app/health" in shown and "Authorization" in shown
    assert "S3cret" in repr(checked)  # the checked settings themselves are not changed
