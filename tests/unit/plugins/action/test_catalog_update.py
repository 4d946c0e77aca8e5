"""hotpatch.windows.catalog_update: the action plugin, its URL loader, and the playbook, with no network.

HTTP is served on loopback by a tiny local server (answers 200 with a recorded document, 404, 500); a
network failure is a loopback port nobody listens on. Every failure leaves the catalog file byte for byte.
"""

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from ansible_collections.hotpatch.windows.plugins.action import catalog_update as action
from ansible_collections.hotpatch.windows.plugins.filter.baseline_state import FilterModule as BaselineFilters
from ansible_collections.hotpatch.windows.plugins.filter.host_plan import FilterModule as PlanFilters
from ansible_collections.hotpatch.windows.plugins.plugin_utils import _cvrf
from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import release_cycle
from tests.conftest import COLLECTIONS

CVRF = Path(__file__).resolve().parents[3] / "windows_samples" / "cvrf"
EXISTING = "# the user's catalog\n- {os: '2025', month: '2027-02', type: baseline}\n"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
ANSIBLE = Path(sys.executable).with_name("ansible")


class _Handler(http.server.BaseHTTPRequestHandler):
    documents = {"/cvrf/2026-Jun": (CVRF / "2026-Jun.xml").read_bytes()}
    seen = []

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("Accept")))
        if self.path.startswith("http://"):  # asked as a proxy: the request line holds the whole URL
            self.path = "/" + self.path.split("/", 3)[3]
        if self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1].split("-")[0])
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"error page")
            return
        body = self.documents.get(self.path)
        if body is None:
            self.send_response(404, "Not Found")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    """A local HTTP server on loopback; yields its base URL."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def baseline_state_filter():
    return BaselineFilters().filters()["baseline_state"]


def host_plan_filter():
    return PlanFilters().filters()["host_plan"]


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def existing(tmp_path):
    dest = tmp_path / "catalog" / "hotpatch_catalog.yml"
    dest.parent.mkdir()
    dest.write_text(EXISTING, encoding="utf-8")
    return dest


def _untouched(dest):
    assert dest.read_text(encoding="utf-8") == EXISTING
    assert [path.name for path in dest.parent.iterdir()] == [dest.name]


# ---------------------------------------------------------------------------------------------- URL loader
def test_url_loader_fetches_with_accept_json(server):
    load = action.url_loader(f"{server}/cvrf/{{month}}", timeout=5)
    data, origin = load("2026-06")
    assert data == (CVRF / "2026-Jun.xml").read_bytes()
    assert origin == {"url": f"{server}/cvrf/2026-Jun"}
    assert _Handler.seen == [("/cvrf/2026-Jun", "application/json")]


def test_url_loader_goes_through_the_proxy_the_environment_names(server, monkeypatch):
    monkeypatch.setenv("http_proxy", server)
    monkeypatch.setenv("HTTP_PROXY", server)
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.setenv("NO_PROXY", "")
    load = action.url_loader("http://msrc.example.invalid/cvrf/{month}", timeout=5)
    data, _origin = load("2026-06")
    assert data == (CVRF / "2026-Jun.xml").read_bytes()
    assert _Handler.seen == [("http://msrc.example.invalid/cvrf/2026-Jun", "application/json")]


@pytest.mark.parametrize(
    ("path", "fragments"),
    [
        ("/cvrf/{month}", ["2026-Jul", "HTTP 404", "not published yet"]),
        ("/status/500-{month}", ["2026-Jun", "HTTP 500", "/status/500-2026-Jun"]),
        ("/status/503-{month}", ["2026-Jun", "HTTP 503"]),
    ],
)
def test_http_error_names_the_month_and_leaves_the_file(server, existing, path, fragments):
    load = action.url_loader(server + path, timeout=5)
    with pytest.raises(_cvrf.CvrfError) as info:
        _cvrf.update_catalog(["2026-06", "2026-07"], load, existing, write=True)
    for fragment in fragments:
        assert fragment in str(info.value)
    _untouched(existing)


def test_network_failure_names_the_month_and_leaves_the_file(existing, monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    url = f"http://127.0.0.1:{_closed_port()}/cvrf/{{month}}"
    load = action.url_loader(url, timeout=5)
    with pytest.raises(_cvrf.CvrfError) as info:
        _cvrf.update_catalog(["2026-06"], load, existing, write=True)
    assert "2026-Jun" in str(info.value)
    assert "cannot fetch" in str(info.value)
    assert "refused" in str(info.value).lower()
    _untouched(existing)


def test_url_without_month_is_refused():
    with pytest.raises(_cvrf.HotpatchError, match=r"no \{month\}"):
        action.url_loader("https://api.msrc.microsoft.com/cvrf/v3.0/cvrf/2026-Jun")


# ---------------------------------------------------------------------------------------------- action
def test_action_imports_from_the_local_server(run_action, fake_connection, server, tmp_path):
    dest = tmp_path / "catalog.yml"
    args = {
        "source": f"{server}/cvrf/{{month}}",
        "dest": str(dest),
        "months": {"from": "2026-06", "to": "2026-06"},
    }
    result = run_action("catalog_update", fake_connection(), args=args)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert result["months"] == ["2026-06"]
    assert [change["what"] for change in result["replaced_planned"]] == [
        "Windows Server 2022 2026-06",
        "Windows Server 2025 2026-06",
    ]
    assert result["documents"][0]["url"] == f"{server}/cvrf/2026-Jun"
    assert release_cycle("2026-06-09", "2022", str(dest))["kb"] == "KB5094128"


def test_action_check_mode_writes_nothing(run_action, fake_connection, tmp_path):
    dest = tmp_path / "catalog.yml"
    args = {"source": str(CVRF), "dest": str(dest), "months": {"from": "2026-06", "to": "2026-06"}}
    result = run_action("catalog_update", fake_connection(), args=args, check_mode=True)
    assert result["changed"] is True
    assert "would be written" in result["msg"]
    assert not dest.exists()


def test_action_failure_is_a_failed_result_and_the_file_stays(run_action, fake_connection, existing):
    args = {
        "source": str(CVRF / "early"),
        "dest": str(existing),
        "months": {"from": "2026-07", "to": "2026-07"},
    }
    result = run_action("catalog_update", fake_connection(), args=args)
    assert result["failed"] is True
    assert "2026-Jul" in result["msg"] and "lists no update for Windows Server" in result["msg"]
    assert "was not changed" in result["msg"]
    assert result["changed"] is False
    _untouched(existing)


def test_action_missing_document_for_an_explicit_month(run_action, fake_connection, existing):
    args = {"source": str(CVRF), "dest": str(existing), "months": {"from": "2026-06", "to": "2026-07"}}
    result = run_action("catalog_update", fake_connection(), args=args)
    assert result["failed"] is True
    assert "no file 2026-Jul.json or 2026-Jul.xml" in result["msg"]
    _untouched(existing)


def test_action_directory_default_range_takes_the_saved_months(run_action, fake_connection, tmp_path):
    shutil.copy(CVRF / "2026-Jun.xml", tmp_path / "2026-Jun.xml")
    dest = tmp_path / "out" / "catalog.yml"
    args = {"source": str(tmp_path), "dest": str(dest), "date": "2026-11-25"}
    result = run_action("catalog_update", fake_connection(), args=args)
    assert not result.get("failed"), result.get("msg")
    assert result["months"] == ["2026-06"]
    assert result["current_cycle"] == "2026-11"
    assert any("2026-07, 2026-08, 2026-09, 2026-10, 2026-11" in warning for warning in result["warnings"])
    again = run_action("catalog_update", fake_connection(), args=args)
    assert again["changed"] is False
    assert again["months"] == []
    assert "nothing imported" in again["msg"]


@pytest.mark.parametrize(
    ("months", "fragment"),
    [
        ({"from": "2026-6"}, "months.from must be a month"),
        ({"from": "2026-08", "to": "2026-06"}, "is after months.to"),
    ],
)
def test_action_bad_range(run_action, fake_connection, existing, months, fragment):
    args = {"source": str(CVRF), "dest": str(existing), "months": months}
    result = run_action("catalog_update", fake_connection(), args=args)
    assert result["failed"] is True
    assert fragment in result["msg"]
    _untouched(existing)


# ---------------------------------------------------------------------------------------------- playbook
def _playbook(*extra, cwd, home):
    environment = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        HOME=str(home),
        no_proxy="127.0.0.1,localhost",
        https_proxy="http://127.0.0.1:9",  # any attempt to reach the internet fails at once
        http_proxy="http://127.0.0.1:9",
    )
    command = [str(ANSIBLE_PLAYBOOK), "hotpatch.windows.catalog_update", *extra]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


def test_playbook_offline_from_saved_documents_then_filters_use_the_file(tmp_path):
    documents = tmp_path / "saved"
    documents.mkdir()
    shutil.copy(CVRF / "2026-Jun.xml", documents / "2026-Jun.xml")
    home = tmp_path / "home"
    home.mkdir()
    done = _playbook(
        "-e",
        f"catalog_update_source={documents}",
        "-e",
        "catalog_update_date=2026-11-25",
        cwd=tmp_path,
        home=home,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    dest = home / ".ansible" / "hotpatch_catalog.yml"  # the documented default
    assert dest.is_file(), done.stdout
    assert "imported 2026-06" in done.stdout
    written = yaml.safe_load(dest.read_text(encoding="utf-8"))
    assert {(row["os"], row["month"], row["type"], row["unplanned"]) for row in written["cycles"]} == {
        ("2022", "2026-06", "baseline", True),
        ("2025", "2026-06", "baseline", True),
    }
    # The written file, as hotpatch_catalog, through the installed filter and the Python API.
    expression = f"{{{{ '2026-06-15' | hotpatch.windows.release_cycle(os='2025', catalog='{dest}') }}}}"
    environment = dict(
        os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", HOME=str(home)
    )
    shown = subprocess.run(
        [str(ANSIBLE), "localhost", "-m", "ansible.builtin.debug", "-a", f"msg={expression}"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    cycle = json.loads(shown.stdout[shown.stdout.index("{") :])["msg"]
    assert (cycle["type"], cycle["unplanned"], cycle["kb"], cycle["build"], cycle["published"]) == (
        "baseline",
        True,
        "KB5094125",
        "26100.32995",
        True,
    )
    assert release_cycle("2026-06-10", "2022", str(dest))["kb"] == "KB5094128"
    assert release_cycle("2026-07-20", "2022", str(dest))["published"] is False
    # The filters that need no connection: a host on the May 2026 LCU must take the June baseline (restart);
    # a host that installed it is on the current baseline with nothing to do.
    state = baseline_state_filter()
    plan = host_plan_filter()
    facts = json.loads((CVRF.parent / "probe_outputs" / "azure-2025-ae.json").read_text(encoding="ascii"))
    facts.update(now="2026-06-15T10:00:00Z", hotfixes=["KB5087539"])
    facts["os"]["ubr"] = 32860
    behind = state(facts, catalog=str(dest))
    assert (behind["cycle"]["type"], behind["cycle"]["unplanned"]) == ("baseline", True)
    assert behind["catalog"]["newest_month"] == "2026-06"
    assert (plan(behind)["action"], plan(behind)["reboot"]) == ("baseline", True)
    assert "KB5094125" in " ".join(plan(behind)["reasons"])
    facts.update(hotfixes=["KB5094125"])
    facts["os"]["ubr"] = 32995
    current = state(facts, catalog=str(dest))
    assert (current["on_current_baseline"], current["up_to_date"]) == (True, True)
    assert plan(current)["action"] == "none"
    # Without the file the month is the calendar's planned, unpublished hotpatch month.
    assert state(facts)["catalog"]["note"].startswith("planned, not yet published")


def test_playbook_network_failure_fails_and_leaves_the_file(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    dest = tmp_path / "hotpatch_catalog.yml"
    dest.write_text(EXISTING, encoding="utf-8")
    source = f"http://127.0.0.1:{_closed_port()}/cvrf/{{month}}"
    done = _playbook(
        "-e",
        f"catalog_update_source={source}",
        "-e",
        f"catalog_update_dest={dest}",
        "-e",
        "catalog_update_from=2026-06",
        "-e",
        "catalog_update_to=2026-06",
        cwd=tmp_path,
        home=home,
    )
    assert done.returncode != 0
    assert "2026-Jun" in done.stdout and "cannot fetch" in done.stdout, done.stdout
    assert dest.read_text(encoding="utf-8") == EXISTING
