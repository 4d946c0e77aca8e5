"""Reading HTTP/1.1 requests off an asyncio stream, for the lab's servers (WinRM and the fake Azure Resource
Manager): enough HTTP for the clients the lab serves (pywinrm, requests), nothing more."""


async def read_request(reader, max_body=None):
    """``(request_line, headers, body)`` of the next request on ``reader``: headers by lower-case name, the
    body as bytes (``Content-Length``). None when the client closed the connection, or when the body is
    longer than ``max_body``."""
    request_line = await reader.readline()
    if not request_line:
        return None
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        key, _, value = line.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if max_body is not None and length > max_body:
        return None
    body = await reader.readexactly(length) if length else b""
    return request_line, headers, body
