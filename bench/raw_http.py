"""The sign-in flood's attacker, as cheap in CPU as a client can be (bench/signin_flood.py).

The attacker runs on the board's own cores only for want of another host; a remote attacker's
requests cost this machine nothing to make. httpx spent about 10 ms of CPU a request here (10
CPU-seconds a flood of 1,000 on 2 cores, more than the board itself), so the calls' turns were
measured against the attacker as much as against the board. Here each connection is a kept-alive
HTTP/1.1 stream written by hand: the request bytes, the status line, the headers, the body by
Content-Length (or chunks). Enough for the board's sign-in form; not a general client.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Jar:
    """One client address's cookies, shared by its connections."""

    cookies: dict[str, str] = field(default_factory=dict)

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def take(self, set_cookie: str) -> None:
        pair, _, attributes = set_cookie.partition(";")
        name, _, value = pair.strip().partition("=")
        gone = 'max-age=0' in attributes.lower().replace(" ", "") or not value.strip('"')
        if gone:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value


class Connection:
    def __init__(self, url: str, address: str, jar: Jar) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.address, self.jar = address, jar
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None
                      ) -> Answer:
        if self._stream is None:
            self._stream = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.address, 0))
        reader, writer = self._stream
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if cookie := self.jar.header():
            lines.append(f"Cookie: {cookie}")
        if form is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded",
                      f"Content-Length: {len(body)}"]
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            answer = await self._read(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            await self.close()
            raise ConnectionError("the board dropped the connection") from None
        if answer.headers.get("connection", "").lower() == "close":
            await self.close()
        return answer

    async def _read(self, reader: asyncio.StreamReader) -> Answer:
        status = int((await reader.readline()).split()[1])
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "set-cookie":
                self.jar.take(value.strip())
            else:
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readline()).strip() or b"0", 16):
                chunks.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            return Answer(status, headers, b"".join(chunks))
        length = int(headers.get("content-length", "0"))
        return Answer(status, headers, await reader.readexactly(length) if length else b"")

    async def close(self) -> None:
        if self._stream is not None:
            self._stream[1].close()
            self._stream = None
