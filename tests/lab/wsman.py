"""WS-Management / WinRS SOAP messages: read a request, write the answers Windows gives."""

import base64
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    f"{SHELL_URI}/Command": "Command",
    f"{SHELL_URI}/Send": "Send",
    f"{SHELL_URI}/Receive": "Receive",
    f"{SHELL_URI}/Signal": "Signal",
}
TIMEOUT_FAULT = 2150858793
SHELL_NOT_FOUND = 2150858843


class BadRequest(Exception):
    pass


class Request:
    """The parts of a WS-Man request the lab needs."""

    def __init__(self, body: bytes):
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise BadRequest(f"malformed XML: {exc}") from None
        header = root.find("s:Header", NS)
        self.body = root.find("s:Body", NS)
        if header is None or self.body is None:
            raise BadRequest("not a SOAP 1.2 envelope")
        action = header.findtext("a:Action", default="", namespaces=NS).strip()
        self.action_uri = action
        self.action = ACTIONS.get(action, action)
        self.message_id = header.findtext("a:MessageID", default="", namespaces=NS).strip()
        self.shell_id = None
        for selector in header.iter(f"{{{NS['w']}}}Selector"):
            if selector.get("Name") == "ShellId":
                self.shell_id = (selector.text or "").strip()
        self.options = {}
        for option in header.iter(f"{{{NS['w']}}}Option"):
            self.options[option.get("Name")] = (option.text or "").strip()
        timeout = header.findtext("w:OperationTimeout", default="PT20S", namespaces=NS).strip()
        try:
            self.operation_timeout = float(timeout.removeprefix("PT").removesuffix("S"))
        except ValueError:
            self.operation_timeout = 20.0

    def command_line(self) -> tuple:
        node = self.body.find("rsp:CommandLine", NS)
        if node is None:
            raise BadRequest("Command without rsp:CommandLine")
        command = node.findtext("rsp:Command", default="", namespaces=NS).strip()
        arguments = [a.text or "" for a in node.findall("rsp:Arguments", NS)]
        return command, arguments

    def stdin(self) -> tuple:
        """(command id, bytes, end) of a Send."""
        stream = self.body.find("rsp:Send/rsp:Stream", NS)
        if stream is None:
            raise BadRequest("Send without rsp:Stream")
        data = base64.b64decode((stream.text or "").encode("ascii"))
        return stream.get("CommandId"), data, stream.get("End", "false").lower() == "true"

    def command_id(self) -> str:
        for node in self.body.iter():
            if node.get("CommandId"):
                return node.get("CommandId")
        return ""


def _envelope(request: Request, action: str, body: str) -> bytes:
    return (
        f'<s:Envelope xml:lang="en-US" xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:x="{NS["x"]}" '
        f'xmlns:w="{NS["w"]}" xmlns:rsp="{NS["rsp"]}" xmlns:p="{NS["p"]}">'
        f"<s:Header><a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(request.message_id)}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def create_response(request: Request, shell_id: str, address: str) -> bytes:
    body = (
        f"<x:ResourceCreated><a:Address>{escape(address)}</a:Address><a:ReferenceParameters>"
        "<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>"
        f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
        "</a:ReferenceParameters></x:ResourceCreated>"
        f'<rsp:Shell xmlns:rsp="{NS["rsp"]}"><rsp:ShellId>{shell_id}</rsp:ShellId>'
        "<rsp:ResourceUri>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</rsp:ResourceUri>"
        "<rsp:Owner>Administrator</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>"
        "<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
        "</rsp:Shell>"
    )
    return _envelope(request, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", body)


def command_response(request: Request, command_id: str) -> bytes:
    body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
    return _envelope(request, f"{SHELL_URI}/CommandResponse", body)


def send_response(request: Request) -> bytes:
    return _envelope(request, f"{SHELL_URI}/SendResponse", "<rsp:SendResponse/>")


def signal_response(request: Request) -> bytes:
    return _envelope(request, f"{SHELL_URI}/SignalResponse", "<rsp:SignalResponse/>")


def delete_response(request: Request) -> bytes:
    return _envelope(request, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", "")


def receive_response(
    request: Request, command_id: str, stdout: bytes, stderr: bytes, exit_code: int
) -> bytes:
    parts = ["<rsp:ReceiveResponse>"]
    for name, data in (("stdout", stdout), ("stderr", stderr)):
        if data:
            encoded = base64.b64encode(data).decode()
            parts.append(f'<rsp:Stream Name="{name}" CommandId="{command_id}">{encoded}</rsp:Stream>')
        parts.append(f'<rsp:Stream Name="{name}" CommandId="{command_id}" End="true"></rsp:Stream>')
    parts.append(
        f'<rsp:CommandState CommandId="{command_id}" State="{SHELL_URI}/CommandState/Done">'
        f"<rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>"
    )
    return _envelope(request, f"{SHELL_URI}/ReceiveResponse", "".join(parts))


def fault(request, code: int, reason: str, machine: str, subcode: str = "w:InternalError") -> bytes:
    relates = escape(request.message_id) if request is not None else ""
    return (
        f'<s:Envelope xml:lang="en-US" xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}">'
        "<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID><a:RelatesTo>{relates}</a:RelatesTo>"
        "</s:Header><s:Body><s:Fault>"
        f"<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(reason)}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f'Code="{code}" Machine="{escape(machine)}"><f:Message>{escape(reason)}</f:Message></f:WSManFault>'
        "</s:Detail></s:Fault></s:Body></s:Envelope>"
    ).encode()
