"""A fake Azure Resource Manager on loopback: the license profiles of the lab's Arc machines.

It answers what the REST API "Microsoft.HybridCompute machines/licenseProfiles" (2024-07-10) answers for the
resource `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.HybridCompute/machines/{m}/
licenseProfiles/default` (tests/windows_samples/README.md and docs/lab.md name the sources):

- GET: 200 with the profile (`properties.productProfile.productFeatures[]`: `name`, `subscriptionStatus`), or
  404 `ResourceNotFound` when the machine has none;
- PUT (create or update, `location` required): 201 when created, else 200;
- PATCH (update): 200, or 404 without a profile;
- a feature asked to `Enable` is `Enabling` in the answer, and `Enabled` once the fleet's
  `azure_resource_manager.enable_seconds` of lab time passed (Microsoft: about 10 minutes); where the
  machine's virtualization-based security is not running it is `Failed` (Microsoft: "If VSM isn't running,
  enabling hotpatch fails"; the lab's answer for it is an assumption);
- no or another bearer token: 401 (`AuthenticationFailed`, `InvalidAuthenticationToken`); no `api-version`:
  400 `MissingApiVersionParameter`.

Every request is a ledger event `arm_request` of the machine's lab host (or `lab` when no machine matched).
"""

import asyncio
import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

from .httpwire import read_request
from .windows import iso

PROFILE_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.HybridCompute/"
    r"machines/(?P<machine>[^/]+)/licenseProfiles/default$",
    re.IGNORECASE,
)
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
REASONS.update({405: "Method Not Allowed"})
VSM_FAILURE = (
    "Hotpatch cannot be enabled: Virtual Secure Mode (virtualization-based security) is not running on the "
    "machine"
)


def _error(status: int, code: str, message: str) -> tuple:
    return status, {"error": {"code": code, "message": message}}


class ResourceManager:
    """The fake Resource Manager of one lab: `token` and `enable_seconds` from the fleet."""

    def __init__(self, lab, token: str, enable_seconds: float):
        self.lab = lab
        self.token = token
        self.enable_seconds = enable_seconds
        self.server = None
        self.port = None

    async def start(self):
        for server in self.lab.servers.values():
            server.host.licence_enable_seconds = self.enable_seconds
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        if self.server is not None:
            self.server.close()

    # ------------------------------------------------------------ HTTP
    async def handle(self, reader, writer):
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                request_line, headers, body = request
                parts = request_line.decode("latin-1").split()
                method, target = (parts[0], parts[1]) if len(parts) >= 2 else ("GET", "/")
                status, payload = self.respond(method.upper(), target, headers, body)
                data = json.dumps(payload).encode()
                head = [
                    f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
                    "Content-Type: application/json; charset=utf-8",
                    f"Content-Length: {len(data)}",
                    "x-ms-request-id: lab",
                ]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.close()

    def _host(self, sub: str, rg: str, machine: str):
        for server in self.lab.servers.values():
            host = server.host
            arc = host.spec["arc"]
            resource = arc.get("resource") or {}
            if arc["agent"] == "absent":
                continue
            if (
                resource.get("subscription_id", "").lower() == sub.lower()
                and resource.get("resource_group", "").lower() == rg.lower()
                and resource.get("name", "").lower() == machine.lower()
            ):
                return host
        return None

    def respond(self, method: str, target: str, headers: dict, body: bytes) -> tuple:
        parts = urlsplit(target)
        match = PROFILE_PATH.match(unquote(parts.path))
        host = self._host(*match.group("sub", "rg", "machine")) if match else None
        status, payload = self._answer(method, parts, match, host, headers, body)
        feature = None
        properties = payload.get("properties") if isinstance(payload, dict) else None
        if isinstance(properties, dict):
            for item in (properties.get("productProfile") or {}).get("productFeatures") or []:
                if item.get("name") == "Hotpatch":
                    feature = item.get("subscriptionStatus")
        self.lab.ledger.record(
            host.name if host else "lab",
            "arm_request",
            method=method,
            status=status,
            path=unquote(parts.path),
            feature=feature,
            error=(payload.get("error") or {}).get("code") if isinstance(payload, dict) else None,
        )
        return status, payload

    def _answer(self, method, parts, match, host, headers, body) -> tuple:
        authorization = headers.get("authorization", "")
        if not authorization:
            return _error(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            return _error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if not parse_qs(parts.query).get("api-version"):
            return _error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if match is None or host is None:
            what = unquote(parts.path)
            return _error(404, "ResourceNotFound", f"The Resource '{what}' was not found.")
        if method not in ("GET", "PUT", "PATCH"):
            return _error(405, "MethodNotAllowed", f"The method {method} is not allowed for this resource.")
        host.refresh_licence()
        missing = _error(
            404,
            "ResourceNotFound",
            "The Resource 'Microsoft.HybridCompute/machines/"
            f"{match.group('machine')}/licenseProfiles/default' under resource group '{match.group('rg')}' "
            "was not found.",
        )
        if method == "GET":
            return (200, self.profile(host, match)) if host.licence_profile is not None else missing
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "InvalidRequestContent", "The request content could not be parsed.")
        if not isinstance(request, dict):
            return _error(400, "InvalidRequestContent", "The request content must be a JSON object.")
        created = host.licence_profile is None
        if method == "PATCH" and created:
            return missing
        if method == "PUT" and not request.get("location"):
            return _error(400, "LocationRequired", "The location property is required for this definition.")
        properties = request.get("properties") or {}
        product = properties.get("productProfile") or {} if isinstance(properties, dict) else None
        if not isinstance(product, dict):
            return _error(400, "InvalidRequestContent", "properties.productProfile must be an object.")
        features = product.get("productFeatures") or []
        if not isinstance(features, list):
            return _error(400, "InvalidRequestContent", "productFeatures must be an array.")
        if created:
            host.licence_profile = {}
        now = host.clock.now()
        for item in features:
            if not isinstance(item, dict) or not item.get("name"):
                return _error(400, "InvalidRequestContent", "Each product feature needs a name.")
            wanted = str(item.get("subscriptionStatus", "")).lower()
            current = host.licence_profile.get(item["name"], {}).get("status")
            if wanted == "enable" and current not in ("Enabled", "Enabling"):
                if host.spec["vbs"] == "running":
                    state = {"status": "Enabling", "since": now}
                else:
                    state = {"status": "Failed", "since": now, "error": VSM_FAILURE}
                host.licence_profile[item["name"]] = state
            elif wanted == "disable":
                host.licence_profile[item["name"]] = {"status": "Disabled", "since": now}
        answer = self.profile(host, match, location=request.get("location"))
        return (201 if created else 200), answer

    def profile(self, host, match, location=None) -> dict:
        resource = host.spec["arc"]["resource"]
        features = []
        for name, state in sorted((host.licence_profile or {}).items()):
            feature = {
                "name": name,
                "subscriptionStatus": state["status"],
                "enrollmentDate": iso(state["since"]),
            }
            if state.get("error"):
                feature["error"] = {"code": "HotpatchEnablementFailed", "message": state["error"]}
            features.append(feature)
        return {
            "id": f"/subscriptions/{resource['subscription_id']}/resourceGroups/{resource['resource_group']}"
            f"/providers/Microsoft.HybridCompute/Machines/{resource['name']}/licenseProfiles/default",
            "name": "default",
            "type": "Microsoft.HybridCompute/machines/licenseProfiles",
            "location": location or resource["location"],
            "properties": {
                "provisioningState": "Succeeded",
                "productProfile": {"productFeatures": features},
            },
        }
