"""Health checks after a restart: URL credentials kept out of sight, and the failed checks as sentences.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.
"""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._settings import mask_url, strip_credentials

PARTS = ("url", "username", "password", "masked")


def health_url(url, part, explicit=None):
    """One part of a health-check URL: the URL without credentials, the user name or password (the explicit
    variable first, else what the URL holds), or the URL with its credentials masked."""
    if part not in PARTS:
        raise HotpatchError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    if not isinstance(url, str):
        raise HotpatchError(f"a health URL must be a string, got {type(url).__name__}")
    if part == "masked":
        return mask_url(url)
    bare, username, password = strip_credentials(url)
    if part == "url":
        return bare
    if explicit not in (None, ""):
        return explicit
    return username if part == "username" else password


def _failed_items(result):
    if not isinstance(result, dict):
        return []
    return [item for item in result.get("results") or [] if isinstance(item, dict) and item.get("failed")]


def health_failures(services=None, ports=None, urls=None):
    """Sentences for the failed health checks of registered loop results (services, ports, URLs)."""
    failures = []
    for item in _failed_items(services):
        failures.append(f"service not running: {item.get('item')}")
    for item in _failed_items(ports):
        value = item.get("item")
        port = value.get("port") if isinstance(value, dict) else value
        failures.append(f"port not open: {port}")
    for item in _failed_items(urls):
        value = item.get("item")
        url = value.get("url") if isinstance(value, dict) else value
        status = item.get("status")
        failures.append(f"URL not answering: {mask_url(str(url))}" + (f" (HTTP {status})" if status else ""))
    return failures
