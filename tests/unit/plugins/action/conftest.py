"""Drive the hotpatch.windows action plugins through ActionBase.run with a fake Windows connection.

The fake connection answers ``exec_command`` with a recorded probe output (or an rc, stderr, or a connection
error) and uses ansible-core's real ``powershell`` shell plugin, so the command the action plugin builds is
the one that would go over WinRM.
"""

import json
import types
from pathlib import Path

import pytest
from ansible.errors import AnsibleConnectionFailure
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import action_loader, init_plugin_loader, shell_loader
from ansible.template import Templar
from ansible.utils.collection_loader import AnsibleCollectionConfig

from tests.conftest import COLLECTIONS

SAMPLES = Path(__file__).resolve().parents[3] / "windows_samples"
HOST = "win01.example.test"

if not AnsibleCollectionConfig.collection_finder:
    init_plugin_loader([str(COLLECTIONS)])


def recorded_output(host):
    """The recorded probe stdout of a host of tests/windows_samples/hosts.yml."""
    return (SAMPLES / "probe_outputs" / f"{host}.json").read_text(encoding="ascii")


class FakeConnection:
    """Stands in for the winrm connection plugin: records each command, returns a canned answer."""

    transport = "ansible.builtin.winrm"
    allow_executable = False
    become = None

    def __init__(self, stdout="", stderr="", rc=0, error=None):
        self._shell = shell_loader.get("powershell")
        self.stdout = stdout
        self.stderr = stderr
        self.rc = rc
        self.error = error
        self.calls = []

    def get_option(self, name):
        raise KeyError(name)

    def exec_command(self, cmd, in_data=None, sudoable=True):
        self.calls.append({"cmd": cmd, "in_data": in_data, "sudoable": sudoable})
        if self.error is not None:
            raise self.error
        return self.rc, self.stdout.encode("utf-8"), self.stderr.encode("utf-8")


@pytest.fixture
def recorded():
    """recorded(host) -> the recorded probe stdout of a host of tests/windows_samples/hosts.yml."""
    return recorded_output


@pytest.fixture
def fake_connection():
    """fake_connection(stdout='', stderr='', rc=0, error=None) -> a FakeConnection."""
    return FakeConnection


@pytest.fixture
def connection_error():
    return AnsibleConnectionFailure(
        "winrm connection error: HTTPSConnectionPool(host='win01', port=5986): timed out"
    )


def run_plugin(name, connection, args=None, task_vars=None, check_mode=False, host=HOST, modules=None):
    """The task result of the action plugin hotpatch.windows.<name> run through ActionBase.run on
    ``connection``; ``modules`` replaces the plugin's ``_module`` (the modules it runs answer from a
    script)."""
    task = types.SimpleNamespace(
        args=dict(args or {}),
        action=f"hotpatch.windows.{name}",
        async_val=0,
        check_mode=check_mode,
        diff=False,
    )
    loader = DataLoader()
    variables = {"inventory_hostname": host}
    variables.update(task_vars or {})
    templar = Templar(loader=loader, variables=variables)
    action = action_loader.get(
        f"hotpatch.windows.{name}",
        task=task,
        connection=connection,
        play_context=PlayContext(),
        loader=loader,
        templar=templar,
        shared_loader_obj=None,
    )
    assert action is not None, f"the action plugin hotpatch.windows.{name} is not installed"
    if modules is not None:
        action._module = modules
    result = action.run(task_vars=variables)
    json.dumps(result)  # a task result must be JSON-serialisable
    return result


@pytest.fixture
def run_action():
    """run_action(name, connection, args=None, task_vars=None, check_mode=False) -> task result dict."""
    return run_plugin
