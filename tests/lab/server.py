"""The lab's server process: one asyncio loop, one HTTP(S) listener per simulated host, WinRS on each."""

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import ssl
import time
import traceback
import uuid
from pathlib import Path

import yaml

from . import commands, wsman
from .fleet import load_fleet
from .httpwire import read_request
from .ledger import COUNTERS_FILE, LedgerWriter
from .windows import LabClock, SimHost

MAX_BODY = 50 * 1024 * 1024


class Command:
    def __init__(self, command_id: str, script: str, expect_stdin: bool):
        self.id = command_id
        self.script = script
        self.expect_stdin = expect_stdin
        self.stdin = bytearray()
        self.outcome = None
        self.ready_at = 0.0
        self.started = asyncio.Event()
        self.delivered = False


class HostServer:
    """The WinRM endpoint of one simulated host."""

    def __init__(self, lab, host: SimHost, port: int, placeholder: socket.socket):
        self.lab = lab
        self.host = host
        self.port = port
        self.placeholder = placeholder  # bound, not listening: connections are refused
        self.server = None
        self.shells: dict = {}
        self.writers: set = set()
        self.down = False
        self.counters = {"requests": 0, "commands": 0, "bytes_in": 0, "bytes_out": 0}

    # ------------------------------------------------------------ listener up / down
    async def listen(self):
        sock = self.placeholder
        self.placeholder = None
        if sock is None:
            sock = bound_socket(self.port)
        self.server = await asyncio.start_server(
            self.handle, sock=sock, ssl=self.lab.ssl_context, backlog=256
        )

    def refuse(self):
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        if self.placeholder is None:
            self.placeholder = bound_socket(self.port)

    def begin_restart(self):
        if self.down:
            return
        self.down = True
        self.shells.clear()
        for task in self.host.update_tasks.values():
            task.cancelled = True
        self.host.go_down()
        self.refuse()
        if not self.host.faults.get("no_return_after_reboot"):
            asyncio.get_running_loop().call_later(self.host.spec["boot_seconds"], self._finish_restart)

    def _finish_restart(self):
        async def come_back():
            self.host.come_up()
            self.down = False
            await self.listen()

        self.lab.tasks.add(asyncio.ensure_future(come_back()))

    # ------------------------------------------------------------ hooks the simulated host calls
    def schedule(self, delay: float, callback):
        asyncio.get_running_loop().call_later(delay, self._guarded, callback)

    def _guarded(self, callback):
        try:
            callback()
        except Exception:
            self.lab.log(f"{self.host.name}: scheduled step failed: {traceback.format_exc()}")

    def outage(self, seconds: float):
        """The network adapter resets (a driver installs): connections drop, WinRM refuses, then answers."""
        if self.down or self.server is None:
            return
        self.lab.ledger.record(self.host.name, "network_down", seconds=round(seconds, 3))
        self.refuse()

        def back():
            async def relisten():
                if not self.down and self.server is None:
                    await self.listen()
                    self.lab.ledger.record(self.host.name, "network_up")

            self.lab.tasks.add(asyncio.ensure_future(relisten()))

        asyncio.get_running_loop().call_later(seconds, back)

    def restart_after(self, seconds: float):
        asyncio.get_running_loop().call_later(seconds, self.begin_restart)

    # ------------------------------------------------------------ HTTP
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.writers.add(writer)
        try:
            while True:
                request = await read_request(reader, MAX_BODY)
                if request is None:
                    break
                request_line, headers, body = request
                self.counters["requests"] += 1
                self.counters["bytes_in"] += len(request_line) + len(body)
                answer = await self.respond(request_line.decode("latin-1"), headers, body)
                if answer is None:  # drop the connection without a response
                    writer.transport.abort()
                    break
                status, payload, extra = answer
                head = [
                    f"HTTP/1.1 {status}",
                    "Server: Microsoft-HTTPAPI/2.0",
                    f"Content-Length: {len(payload)}",
                ]
                if payload:
                    head.append("Content-Type: application/soap+xml;charset=UTF-8")
                head.extend(extra)
                data = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
                self.counters["bytes_out"] += len(data)
                writer.write(data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def respond(self, request_line: str, headers: dict, body: bytes):
        faults = self.host.faults
        if faults.get("slow"):
            await asyncio.sleep(faults["slow"])
        parts = request_line.split()
        if len(parts) < 2 or parts[0] != "POST" or parts[1].split("?")[0].lower() != "/wsman":
            return "404 Not Found", b"", []
        if not self.authorised(headers.get("authorization", "")):
            return (
                "401 Unauthorized",
                b"",
                ['WWW-Authenticate: Basic realm="WSMAN"', "WWW-Authenticate: Negotiate"],
            )
        request = None
        try:
            request = wsman.Request(body)
            if faults.get("http_500"):
                return self.fault(
                    request, 2150858770, "The WS-Management service is not available (lab fault http_500)."
                )
            return await self.dispatch(request)
        except wsman.BadRequest as exc:
            return self.fault(
                request, 2150858817, f"The WS-Management service cannot process the request: {exc}"
            )
        except Exception as exc:  # never leave a client hanging: tell it what broke
            self.lab.log(f"{self.host.name}: internal error: {traceback.format_exc()}")
            return self.fault(request, 2150858770, f"lab internal error on {self.host.name}: {exc}")

    def authorised(self, header: str) -> bool:
        if self.host.faults.get("bad_credentials"):
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value).decode("utf-8").partition(":")
        except ValueError:
            return False
        creds = self.lab.credentials
        return user.split("\\")[-1].lower() == creds["user"].lower() and password == creds["password"]

    def fault(self, request, code: int, reason: str, subcode: str = "w:InternalError"):
        return "500 Internal Server Error", wsman.fault(request, code, reason, self.host.name, subcode), []

    # ------------------------------------------------------------ WinRS
    async def dispatch(self, request: wsman.Request):
        action = request.action
        if action == "Create":
            shell_id = str(uuid.uuid4()).upper()
            self.shells[shell_id] = {}
            address = f"{self.lab.scheme}://127.0.0.1:{self.port}/wsman"
            return "200 OK", wsman.create_response(request, shell_id, address), []
        if action not in ("Delete", "Command", "Send", "Receive", "Signal"):
            return self.fault(
                request,
                2150858817,
                f"The WS-Management service does not support the action {action}.",
                "w:ActionNotSupported",
            )
        shell = self.shells.get(request.shell_id or "")
        if shell is None:
            return self.fault(
                request,
                wsman.SHELL_NOT_FOUND,
                f"The request for the Windows Remote Shell with ShellId {request.shell_id} failed "
                "because the shell was not found on the server.",
                "w:InvalidSelectors",
            )
        if action == "Delete":
            self.shells.pop(request.shell_id, None)
            return "200 OK", wsman.delete_response(request), []
        if action == "Command":
            command, arguments = request.command_line()
            command_id = str(uuid.uuid4()).upper()
            expect_stdin = request.options.get("WINRS_CONSOLEMODE_STDIN", "TRUE").upper() == "FALSE"
            cmd = Command(command_id, commands.decode_command(command, arguments), expect_stdin)
            shell[command_id] = cmd
            if not expect_stdin:
                self.execute(cmd)
            return "200 OK", wsman.command_response(request, command_id), []
        if action == "Send":
            command_id, data, end = request.stdin()
            cmd = shell.get(command_id or "")
            if cmd is None:
                return self.fault(
                    request, 2150858843, f"no command {command_id} in this shell", "w:InvalidSelectors"
                )
            cmd.stdin.extend(data)
            if end and cmd.outcome is None:
                self.execute(cmd)
            return "200 OK", wsman.send_response(request), []
        if action == "Signal":
            shell.pop(request.command_id(), None)
            return "200 OK", wsman.signal_response(request), []
        return await self.receive(request, shell)

    def execute(self, cmd: Command):
        self.counters["commands"] += 1
        try:
            outcome = commands.run(self.host, cmd.script, bytes(cmd.stdin))
        except Exception as exc:
            self.lab.log(f"{self.host.name}: command failed: {traceback.format_exc()}")
            outcome = commands.Outcome(
                stderr=f"the simulated host {self.host.name} failed: {exc}\r\n", rc=1, what="lab_error"
            )
        cmd.outcome = outcome
        cmd.ready_at = time.monotonic() + outcome.delay
        cmd.started.set()
        self.lab.ledger.record(self.host.name, "command", what=outcome.what, rc=outcome.rc, **outcome.extra)
        if outcome.restart_in is not None:
            restart_in = outcome.restart_in
            timing = self.host.timing
            if timing:  # shutdown /t N counts lab seconds, then Windows takes its time to shut down
                restart_in = self.host.clock.real(restart_in + timing["shutdown"])
            asyncio.get_running_loop().call_later(outcome.delay + restart_in + 0.05, self.begin_restart)

    async def receive(self, request: wsman.Request, shell: dict):
        cmd = shell.get(request.command_id())
        if cmd is None:
            return self.fault(
                request, 2150858843, "The command was not found in the shell.", "w:InvalidSelectors"
            )
        if self.host.faults.get("drop_mid_command"):
            return None  # the connection breaks while the command runs
        limit = time.monotonic() + max(1.0, min(request.operation_timeout, 60.0))
        if cmd.outcome is None:
            try:
                await asyncio.wait_for(cmd.started.wait(), timeout=max(0.0, limit - time.monotonic()))
            except TimeoutError:
                return self.timeout_fault(request)
        wait = cmd.ready_at - time.monotonic()
        if wait > 0:
            if cmd.ready_at > limit:
                await asyncio.sleep(max(0.0, limit - time.monotonic()))
                return self.timeout_fault(request)
            await asyncio.sleep(wait)
        out = cmd.outcome
        if out.produce is not None:
            produced = out.produce()
            produced.delay = out.delay
            cmd.outcome = out = produced
        if cmd.delivered:
            return "200 OK", wsman.receive_response(request, cmd.id, b"", b"", out.rc), []
        cmd.delivered = True
        return (
            "200 OK",
            wsman.receive_response(
                request, cmd.id, out.stdout.encode("utf-8"), out.stderr.encode("utf-8"), out.rc
            ),
            [],
        )

    def timeout_fault(self, request):
        return self.fault(
            request,
            wsman.TIMEOUT_FAULT,
            "The WS-Management service cannot complete the operation within the time specified in "
            "OperationTimeout.",
            "w:TimedOut",
        )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def bound_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class LabServer:
    def __init__(self, fleet_path: Path, state_dir: Path, https: bool, password):
        self.state_dir = state_dir
        self.fleet = load_fleet(fleet_path)
        self.https = https or self.fleet["https"]
        self.scheme = "https" if self.https else "http"
        self.credentials = dict(self.fleet["credentials"])
        if password:
            self.credentials["password"] = password
        timing = self.fleet["timing"]
        self.clock = LabClock(self.fleet["date"], time.time(), timing["scale"] if timing else 1.0)
        groups = {
            name: spec["vars"].get("hotpatch_availability_group")
            for name, spec in self.fleet["hosts"].items()
        }
        self.ledger = LedgerWriter(state_dir, self.clock, groups)
        self.ssl_context = None
        self.ca_path = None
        if self.https:
            from .certs import make_certificates

            self.ca_path, cert_path, key_path = make_certificates(state_dir)
            self.ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ssl_context.load_cert_chain(cert_path, key_path)
        self.servers = {}
        self.arm = None  # the fake Azure Resource Manager (fleet key azure_resource_manager)
        self.tasks = set()  # keeps restart tasks referenced until they finish
        self.watch_pid = None  # stop when this process is gone

    def log(self, message: str):
        with (self.state_dir / "lab.log").open("a") as handle:
            handle.write(message + "\n")

    async def run(self):
        for name, spec in self.fleet["hosts"].items():
            placeholder = bound_socket(0)
            port = placeholder.getsockname()[1]
            host = SimHost(spec, self.clock, self.ledger.record)
            server = HostServer(self, host, port, placeholder)
            host.schedule = server.schedule
            host.outage = server.outage
            host.restart_hook = server.restart_after
            self.servers[name] = server
            # The host's state at the start: what a restart-safety check needs to know (a restart already
            # pending in Windows before anyone touched the host).
            self.ledger.record(
                name, "start", build=server.host.build, reboot_pending=sorted(server.host.reboot_pending)
            )
            if not spec["faults"].get("unreachable"):
                await server.listen()
        arm = self.fleet.get("azure_resource_manager")
        if arm is not None:
            from .arm import ResourceManager

            self.arm = ResourceManager(self, arm["token"], arm["enable_seconds"])
            await self.arm.start()
        self.write_inventory()
        control = await asyncio.start_server(self.control, "127.0.0.1", 0)
        self.control_port = control.sockets[0].getsockname()[1]
        (self.state_dir / "lab.json").write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "scheme": self.scheme,
                    "started_at": self.clock.started_at,
                    "date": self.fleet["date"].isoformat(),
                    "ca": str(self.ca_path) if self.ca_path else None,
                    "control_port": self.control_port,
                    "scale": self.clock.scale,
                    "hosts": {name: {"port": s.port} for name, s in self.servers.items()},
                    "arm": {"endpoint": self.arm.endpoint, "token": self.arm.token} if self.arm else None,
                },
                indent=2,
            )
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        (self.state_dir / "ready").write_text(str(os.getpid()))
        while not stop.is_set():
            self.write_counters()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            self.tasks = {task for task in self.tasks if not task.done()}
            if self.watch_pid and not pid_alive(self.watch_pid):
                self.log(f"process {self.watch_pid} is gone: stopping")
                stop.set()
        self.write_counters()
        control.close()
        if self.arm is not None:
            self.arm.close()
        for server in self.servers.values():
            server.refuse()

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        """The lab's control channel (loopback, one JSON request per line): advance the clock, read state."""
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    answer = self.control_request(json.loads(line))
                except Exception as exc:
                    answer = {"error": str(exc)}
                writer.write((json.dumps(answer, default=str) + "\n").encode())
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def control_request(self, request: dict) -> dict:
        from .fleet import parse_time
        from .windows import iso

        op = request.get("op")
        if op == "now":
            return {"now": iso(self.clock.now())}
        if op == "advance":
            before = self.clock.now()
            target = parse_time(request["to"], "advance")
            skipped = self.clock.advance_to(target)
            self.ledger.record(
                "lab", "advance", before=iso(before), to=iso(target), seconds=round(skipped, 3)
            )
            return {"now": iso(self.clock.now()), "skipped": skipped}
        names = request.get("hosts") or list(self.servers)
        unknown = [name for name in names if name not in self.servers]
        if unknown:
            return {"error": f"no such hosts: {unknown}"}
        if op == "state":
            return {"now": iso(self.clock.now()), "hosts": {n: self.servers[n].host.state() for n in names}}
        return {"error": f"unknown control request {op!r}: use now, advance or state"}

    def write_counters(self):
        data = {name: dict(s.counters) for name, s in self.servers.items()}
        path = self.state_dir / COUNTERS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    def write_inventory(self):
        hosts = {}
        for name, server in self.servers.items():
            entry = {
                "ansible_host": "127.0.0.1",
                "ansible_port": server.port,
                "ansible_user": self.credentials["user"],
                "ansible_password": self.credentials["password"],
                "ansible_connection": "winrm",
                "ansible_winrm_transport": "basic",
                "ansible_winrm_scheme": self.scheme,
                "ansible_winrm_server_cert_validation": "validate" if self.https else "ignore",
            }
            if self.https:
                entry["ansible_winrm_ca_trust_path"] = str(self.ca_path)
            entry.update(server.host.spec["vars"])
            hosts[name] = entry
        # The lab's clock is simulated (it starts at the fleet's date), so the controller's clock cannot vouch
        # for it: the inventory turns off the collection's host-clock check (hotpatch_clock_tolerance).
        shared = {"hotpatch_clock_tolerance": "off"}
        if self.arm is not None:
            # the enable role's Resource Manager endpoint and token: the lab's fake one on loopback
            shared.update(enable_arm_endpoint=self.arm.endpoint, enable_arm_token=self.arm.token)
        inventory = {"all": {"vars": shared, "children": {"windows": {"hosts": hosts}}}}
        (self.state_dir / "inventory.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))


def serve(fleet_path: Path, state_dir: Path, https: bool, password, watch_pid=None):
    lab = LabServer(fleet_path, state_dir, https, password)
    lab.watch_pid = watch_pid
    asyncio.run(lab.run())
