"""A small in-memory stand-in of the AWX / Automation Controller REST API (/api/v2/), enough for the awx.awx
modules that extensions/awx/configure_controller.yml uses: list with filters, get, create, update,
associate, survey specs, project updates and workflow nodes. It checks what the real API checks for these
objects: that referenced objects exist, that a job template's playbook is in the project, and survey specs
(with the rules of tests/awx/survey.py); it answers 400 otherwise.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

from tests.awx.survey import SurveyError, validate_survey

API = "/api/v2/"
SUBLISTS = ("credentials", "labels", "instance_groups", "success_nodes", "failure_nodes", "always_nodes")
SUBLISTS += (
    "notification_templates_started",
    "notification_templates_success",
    "notification_templates_error",
)
SUBLISTS += ("notification_templates_approvals",)
REFERENCES = {
    "organization": "organizations",
    "credential_type": "credential_types",
    "inventory": "inventories",
    "project": "projects",
    "execution_environment": "execution_environments",
    "default_environment": "execution_environments",
    "workflow_job_template": "workflow_job_templates",
    "credential": "credentials",
}


class FakeController:
    """`with FakeController(project_dir) as api:` serves on api.url; api.objects holds what was created."""

    def __init__(self, project_dir: Path):
        self.project_dir = Path(project_dir)
        self.objects: dict = {}
        self.lock = threading.Lock()
        self.next_id = 1
        self.requests: list = []
        self._add("organizations", {"name": "Default"})
        self._add("credential_types", {"name": "Machine", "kind": "ssh", "managed": True})

    # --- store -------------------------------------------------------------------------------------------
    def _add(self, endpoint: str, fields: dict) -> dict:
        item = dict(fields, id=self.next_id)
        self.next_id += 1
        item["url"] = f"{API}{endpoint}/{item['id']}/"
        item["type"] = {
            "job_templates": "job_template",
            "workflow_job_templates": "workflow_job_template",
            "workflow_job_template_nodes": "workflow_job_template_node",
        }.get(endpoint, endpoint.rstrip("s"))
        item["related"] = {name: f"{item['url']}{name}/" for name in (*SUBLISTS, "survey_spec", "update")}
        item.setdefault("summary_fields", {})
        item.setdefault("survey_spec", {})
        for name in SUBLISTS:
            item.setdefault(name, [])
        if endpoint == "job_templates" and not item.get("organization") and item.get("project"):
            item["organization"] = self.objects["projects"][int(item["project"])].get("organization")
        if endpoint == "projects":
            update = self._add(
                "project_updates", {"status": "successful", "failed": False, "finished": "now"}
            )
            item["summary_fields"]["current_update"] = {"id": update["id"]}
            item["scm_revision"] = "0" * 40
        if endpoint == "workflow_job_template_nodes" and item.get("unified_job_template"):
            item["related"]["unified_job_template"] = f"{API}job_templates/{item['unified_job_template']}/"
        self.objects.setdefault(endpoint, {})[item["id"]] = item
        return item

    def add(self, endpoint: str, **fields) -> dict:
        with self.lock:
            return self._add(endpoint, fields)

    def find(self, endpoint: str, **fields) -> list:
        return [
            i
            for i in self.objects.get(endpoint, {}).values()
            if all(i.get(k) == v for k, v in fields.items())
        ]

    def _check(self, endpoint: str, fields: dict):
        for field, target in REFERENCES.items():
            value = fields.get(field)
            if value not in (None, "") and int(value) not in self.objects.get(target, {}):
                raise ValueError(f"{field}: no {target} with id {value}")
        playbook = fields.get("playbook") if endpoint == "job_templates" else None
        if playbook and not (self.project_dir / playbook).is_file():
            raise ValueError(f"playbook: {fields['playbook']} is not in the project")

    def _listing(self, endpoint: str, query: dict) -> list:
        if endpoint == "unified_job_templates":
            items = [
                i
                for name in ("job_templates", "workflow_job_templates")
                for i in self.objects.get(name, {}).values()
            ]
        else:
            items = list(self.objects.get(endpoint, {}).values())
        for key, value in query.items():
            if key in ("page_size", "page", "order_by"):
                continue
            if key.endswith("__name"):
                field = key[: -len("__name")]
                target = REFERENCES[field]
                items = [i for i in items if self.objects[target].get(i.get(field), {}).get("name") == value]
            else:
                items = [i for i in items if str(i.get(key)) == value]
        return items

    # --- HTTP --------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, body):
        self.requests.append((method, path))
        parts = [p for p in path[len(API) :].split("/") if p]
        if not path.startswith(API) or not parts:
            return 404, {"detail": "not found"}
        endpoint = parts[0]
        with self.lock:
            if len(parts) == 1:
                if method == "GET":
                    items = self._listing(endpoint, query)
                    return 200, {"count": len(items), "next": None, "previous": None, "results": items}
                if method == "POST":
                    try:
                        self._check(endpoint, body)
                    except ValueError as error:
                        return 400, {"error": str(error)}
                    return 201, self._add(endpoint, body)
            item = self.objects.get(endpoint, {}).get(int(parts[1]))
            if item is None:
                return 404, {"detail": "not found"}
            if len(parts) == 2:
                if method == "GET":
                    return 200, item
                if method in ("PATCH", "PUT"):
                    try:
                        self._check(endpoint, body)
                    except ValueError as error:
                        return 400, {"error": str(error)}
                    item.update(body)
                    return 200, item
                if method == "DELETE":
                    del self.objects[endpoint][item["id"]]
                    return 204, None
            sub = parts[2]
            if sub == "survey_spec":
                if method == "GET":
                    return 200, item["survey_spec"]
                if method == "POST":
                    try:
                        validate_survey(body)
                    except SurveyError as error:
                        return 400, {"error": str(error)}
                    item["survey_spec"] = body
                    return 200, None
                if method == "DELETE":
                    item["survey_spec"] = {}
                    return 200, None
            if sub in SUBLISTS:
                target = "workflow_job_template_nodes" if sub.endswith("_nodes") else sub
                if method == "GET":
                    items = [self.objects[target][i] for i in item[sub] if i in self.objects.get(target, {})]
                    return 200, {"count": len(items), "next": None, "previous": None, "results": items}
                if method == "POST":
                    if body.get("disassociate"):
                        item[sub] = [i for i in item[sub] if i != body["id"]]
                    elif int(body["id"]) not in self.objects.get(target, {}):
                        return 400, {"error": f"no {target} with id {body['id']}"}
                    elif body["id"] not in item[sub]:
                        item[sub].append(int(body["id"]))
                    return 204, None
        return 405, {"detail": f"{method} not allowed on {path}"}

    def __enter__(self):
        controller = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                status, payload = controller.handle(self.command, url.path, dict(parse_qsl(url.query)), body)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-API-Product-Name", "AWX")
                self.send_header("X-API-Product-Version", "24.6.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False
