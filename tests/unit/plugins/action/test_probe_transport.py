"""The probe command through ansible-core's real winrm and psrp connection plugins (network calls stubbed).

They must run the short launcher as given (no second encoding) and hand the probe to it on stdin.
"""

import base64

from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader

from ansible_collections.hotpatch.windows.plugins.plugin_utils._probe import (
    LAUNCHER,
    probe_command,
    probe_script,
)


def _connection(name, monkeypatch):
    connection = connection_loader.get(name, PlayContext(), None)
    monkeypatch.setattr(connection, "_connect", lambda: connection, raising=False)
    connection._connected = True
    return connection


def test_winrm_runs_the_launcher_once_and_streams_the_probe_on_stdin(monkeypatch):
    connection = _connection("winrm", monkeypatch)
    calls = []

    def winrm_exec(command, args=(), from_exec=False, stdin_iterator=None):
        stdin = b"".join(chunk for chunk, _ in stdin_iterator) if stdin_iterator else None
        calls.append((command, list(args), stdin))
        return 0, b"{}", b""

    monkeypatch.setattr(connection, "_winrm_exec", winrm_exec)
    command = probe_command(connection._shell)
    connection.exec_command(command, in_data=probe_script().encode("ascii"), sudoable=False)
    assert len(calls) == 1
    program, args, stdin = calls[0]
    assert program == "PowerShell"
    assert args[-2] == "-EncodedCommand"
    assert base64.b64decode(args[-1]).decode("utf-16-le") == LAUNCHER  # not encoded a second time
    assert stdin == probe_script().encode("ascii")


def test_psrp_runs_the_launcher_in_its_runspace_with_the_probe_as_input(monkeypatch):
    connection = _connection("psrp", monkeypatch)
    calls = []

    def exec_psrp_script(script, input_data=None, arguments=None, **kwargs):
        calls.append((script, input_data))
        return 0, b"{}", b""

    monkeypatch.setattr(connection, "_exec_psrp_script", exec_psrp_script)
    monkeypatch.setattr(connection, "runspace", object(), raising=False)
    monkeypatch.setattr(connection, "_psrp_host", "win01.example.test", raising=False)
    command = probe_command(connection._shell)
    connection.exec_command(command, in_data=probe_script().encode("ascii"), sudoable=False)
    assert len(calls) == 1
    script, input_data = calls[0]
    assert script == LAUNCHER
    assert input_data == probe_script().splitlines()
