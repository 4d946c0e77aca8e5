"""The probe command through ansible-core's real winrm, psrp and ssh connection plugins (network stubbed).

They must run the short launcher as given (no second encoding) and hand the probe to it on stdin. The
command line is the collection's own (no private ansible-core method builds it).
"""

import base64
import shlex
import warnings

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader, shell_loader

from ansible_collections.hotpatch.windows.plugins.plugin_utils._probe import (
    LAUNCHER,
    ProbeFailure,
    encoded_command,
    probe_command,
    probe_script,
)

PREFIX = [
    *("PowerShell", "-NoProfile", "-NonInteractive"),
    *("-ExecutionPolicy", "Unrestricted", "-EncodedCommand"),
]


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


def test_ssh_with_the_powershell_shell_runs_the_launcher_and_sends_the_probe_on_stdin(monkeypatch):
    connection = connection_loader.get("ssh", PlayContext(), None)
    connection._shell = shell_loader.get("powershell")
    connection.set_options(direct={"host": "win01.example.test"})
    calls = []

    def run(cmd, in_data, sudoable=True, checkrc=True):
        calls.append((cmd, in_data, sudoable))
        return 0, b"{}", b""

    monkeypatch.setattr(connection, "_run", run)
    command = probe_command(connection._shell)
    connection.exec_command(command, in_data=probe_script().encode("ascii"), sudoable=False)
    assert len(calls) == 1
    argv, stdin, _ = calls[0]
    remote = [arg.decode() if isinstance(arg, bytes) else arg for arg in argv][-1]
    assert remote == command  # the remote shell (PowerShell or cmd) starts it as it is
    assert "-tt" not in argv  # no tty: stdin is the probe
    assert stdin == probe_script().encode("ascii")


@pytest.mark.parametrize("shell", ["powershell", "cmd"])
def test_the_command_line_is_the_collections_own(shell, monkeypatch):
    plugin = shell_loader.get(shell)
    # Without the shell plugin's private encoder the command is the same: nothing of it is used.
    monkeypatch.setattr(type(plugin), "_encode_script", property(lambda self: pytest.fail("private API")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        command = probe_command(plugin)
    parts = shlex.split(command)
    assert parts[:-1] == PREFIX
    assert base64.b64decode(parts[-1]).decode("utf-16-le") == LAUNCHER
    assert len(command) < 1000  # far below the command-line limit, whatever the probe's size


def test_encoded_command_drops_blank_lines_and_indentation_as_the_shell_plugin_did():
    command = encoded_command("  $a = 1\r\n\n    Write-Output $a  \n")
    assert base64.b64decode(command.split(" ")[-1]).decode("utf-16-le") == "$a = 1\nWrite-Output $a"


@pytest.mark.parametrize("shell", ["sh", "csh"])
def test_a_posix_shell_is_refused_with_a_message_that_says_what_to_set(shell):
    with pytest.raises(ProbeFailure, match="ansible_shell_type=powershell"):
        probe_command(shell_loader.get(shell))
