"""A small, dependency-free client for gocache (and any Redis-compatible server), Python 3.10+.

It speaks RESP2 over one TCP socket, or TLS with ``ssl_context``. Values are bytes in and out (str arguments are sent as
UTF-8, int and float in decimal); error replies raise ReplyError with the Redis error code,
network failures raise ConnectionError, and a reply that does not come within the socket
timeout raises TimeoutError. All three derive from GoCacheError, and ConnectionError and
TimeoutError also from the built-in exceptions of the same names.

    from gocache_client import GoCacheClient

    with GoCacheClient("127.0.0.1", 7000) as client:
        client.set("greeting", "hello", ex=60)
        assert client.get("greeting") == b"hello"
        with client.pipeline() as pipe:
            pipe.incr("hits").get("greeting")
            hits, greeting = pipe.execute()

A leader/follower group's leader is found through Sentinel's client API, which a gocache
group's members answer (real redis-sentinel processes work too); after a failover, connect again:

    from gocache_client import connect_to_leader

    client = connect_to_leader([("10.0.0.1", 7000), ("10.0.0.2", 7000)], "mymaster")

TLS: pass an ``ssl.SSLContext`` that trusts the server's CA (and holds a client certificate when
the server asks for one, as with Redis's default ``tls-auth-clients yes``):

    import ssl

    context = ssl.create_default_context(cafile="ca.crt")
    context.load_cert_chain("client.crt", "client.key")
    client = GoCacheClient("cache.internal", 6380, ssl_context=context)

Not supported: RESP3, pub/sub subscriptions (PUBLISH works), cluster redirections (MOVED/ASK
surface as ReplyError), reconnecting by itself.
"""

from __future__ import annotations

import builtins
import socket
import ssl
from typing import Iterable, Mapping, Union

__all__ = [
    "GoCacheClient",
    "Pipeline",
    "GoCacheError",
    "ReplyError",
    "ConnectionError",
    "TimeoutError",
    "ProtocolError",
    "discover_leader",
    "connect_to_leader",
]

Arg = Union[bytes, bytearray, memoryview, str, int, float]


class GoCacheError(Exception):
    """Base class of every error this client raises."""


class ReplyError(GoCacheError):
    """The server answered with an error; ``code`` is its first word (ERR, WRONGTYPE, ...)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.code = message.split(" ", 1)[0]


class ConnectionError(GoCacheError, builtins.ConnectionError):  # noqa: A001 - by design
    """Connecting failed, or the connection broke or was closed with replies outstanding."""


class TimeoutError(GoCacheError, builtins.TimeoutError):  # noqa: A001 - by design
    """Connecting or waiting for a reply took longer than the socket timeout."""


class ProtocolError(ConnectionError):
    """The server sent bytes that are not valid RESP; the connection is closed."""


def _encode_arg(arg: Arg) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, (bytearray, memoryview)):
        return bytes(arg)
    if isinstance(arg, str):
        return arg.encode("utf-8")
    if isinstance(arg, bool):
        raise TypeError("bool is not a valid command argument; send 0/1 or a string")
    if isinstance(arg, (int, float)):
        return repr(arg).encode("ascii")
    raise TypeError(f"unsupported argument type {type(arg).__name__}")


def encode_command(args: Iterable[Arg]) -> bytes:
    """Encodes one command as a RESP multibulk request."""
    parts = [_encode_arg(a) for a in args]
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n" % len(part))
        out.append(part)
        out.append(b"\r\n")
    return b"".join(out)


class _Connection:
    """A socket with a growable read buffer and a RESP2 reply parser."""

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float | None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.address = f"{host}:{port}"
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except builtins.TimeoutError as e:
            raise TimeoutError(f"connecting to {self.address} timed out") from e
        except OSError as e:
            raise ConnectionError(f"cannot connect to {self.address}: {e}") from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is not None:
            try:
                sock = ssl_context.wrap_socket(sock, server_hostname=host)
            except builtins.TimeoutError as e:
                sock.close()
                raise TimeoutError(f"the TLS handshake with {self.address} timed out") from e
            except OSError as e:
                sock.close()
                raise ConnectionError(f"TLS with {self.address} failed: {e}") from e
        self._sock = sock
        self._buf = bytearray()
        self._pos = 0
        self.closed = False

    def send(self, data: bytes) -> None:
        self._check_open()
        try:
            self._sock.sendall(data)
        except builtins.TimeoutError as e:
            self.close()
            raise TimeoutError(f"sending to {self.address} timed out") from e
        except OSError as e:
            self.close()
            raise ConnectionError(f"sending to {self.address} failed: {e}") from e

    def _check_open(self) -> None:
        if self.closed:
            raise ConnectionError(f"the connection to {self.address} is closed")

    def _fill(self) -> None:
        """Reads more bytes; a timeout or a broken connection closes it (replies would mismatch)."""
        if self._pos > 0 and self._pos * 2 >= len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        try:
            chunk = self._sock.recv(65536)
        except builtins.TimeoutError as e:
            self.close()
            raise TimeoutError(f"no reply from {self.address} within the timeout") from e
        except OSError as e:
            self.close()
            raise ConnectionError(f"reading from {self.address} failed: {e}") from e
        if not chunk:
            self.close()
            raise ConnectionError(f"{self.address} closed the connection")
        self._buf += chunk

    def _line(self) -> bytes:
        while True:
            end = self._buf.find(b"\r\n", self._pos)
            if end >= 0:
                line = bytes(self._buf[self._pos : end])
                self._pos = end + 2
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n + 2:
            self._fill()
        data = bytes(self._buf[self._pos : self._pos + n])
        if self._buf[self._pos + n : self._pos + n + 2] != b"\r\n":
            self.close()
            raise ProtocolError("bulk string is not followed by CRLF")
        self._pos += n + 2
        return data

    def read_reply(self) -> object:
        """The next reply; error replies are returned (not raised) as ReplyError values."""
        self._check_open()
        line = self._line()
        if not line:
            self.close()
            raise ProtocolError("empty reply line")
        kind, rest = line[:1], line[1:]
        try:
            if kind == b"+":
                return rest.decode("utf-8", "replace")
            if kind == b"-":
                return ReplyError(rest.decode("utf-8", "replace"))
            if kind == b":":
                return int(rest)
            if kind == b"$":
                n = int(rest)
                return None if n < 0 else self._exact(n)
            if kind == b"*":
                n = int(rest)
                return None if n < 0 else [self.read_reply() for _ in range(n)]
        except ValueError as e:
            self.close()
            raise ProtocolError(f"malformed reply line {line!r}") from e
        self.close()
        raise ProtocolError(f"unknown reply type {kind!r}")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._sock.close()
            except OSError:
                pass


def _raise_if_error(reply: object) -> object:
    if isinstance(reply, ReplyError):
        raise reply
    return reply


def _set_args(key: Arg, value: Arg, ex, px, nx, xx) -> list:
    args: list = ["SET", key, value]
    if ex is not None:
        args += ["EX", int(ex)]
    if px is not None:
        args += ["PX", int(px)]
    if nx:
        args.append("NX")
    if xx:
        args.append("XX")
    return args


def _mset_args(mapping: Mapping[Arg, Arg]) -> list:
    args: list = ["MSET"]
    for key, value in mapping.items():
        args += [key, value]
    return args


class GoCacheClient:
    """One connection to a server. ``timeout`` (seconds) bounds connecting and each reply;
    ``ssl_context`` makes it a TLS connection (see the module's docstring)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        *,
        password: str | None = None,
        db: int = 0,
        timeout: float | None = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self._conn = _Connection(host, port, timeout, ssl_context)
        try:
            if password is not None:
                self.execute_command("AUTH", password)
            if db:
                self.execute_command("SELECT", db)
        except GoCacheError:
            self.close()
            raise

    def execute_command(self, *args: Arg) -> object:
        """Sends any command and returns its reply; an error reply raises ReplyError."""
        self._conn.send(encode_command(args))
        return _raise_if_error(self._conn.read_reply())

    def ping(self) -> bool:
        """PING: True when the server answers PONG."""
        return self.execute_command("PING") == "PONG"

    def get(self, key: Arg) -> bytes | None:
        """GET: the value as bytes, or None."""
        return self.execute_command("GET", key)  # type: ignore[return-value]

    def set(self, key: Arg, value: Arg, *, ex=None, px=None, nx=False, xx=False) -> bool:
        """SET with optional expiry (seconds/ms) and NX/XX; False when NX/XX prevented it."""
        return self.execute_command(*_set_args(key, value, ex, px, nx, xx)) == "OK"

    def delete(self, *keys: Arg) -> int:
        """DEL: how many keys were removed."""
        return self.execute_command("DEL", *keys)  # type: ignore[return-value]

    def mget(self, *keys: Arg) -> list:
        """MGET: bytes or None per key."""
        return self.execute_command("MGET", *keys)  # type: ignore[return-value]

    def mset(self, mapping: Mapping[Arg, Arg]) -> bool:
        """MSET from a mapping."""
        return self.execute_command(*_mset_args(mapping)) == "OK"

    def incr(self, key: Arg) -> int:
        """INCR: the new value."""
        return self.execute_command("INCR", key)  # type: ignore[return-value]

    def expire(self, key: Arg, seconds: int) -> bool:
        """EXPIRE: True when the timeout was set."""
        return self.execute_command("EXPIRE", key, int(seconds)) == 1

    def ttl(self, key: Arg) -> int:
        """TTL in seconds (-1 no TTL, -2 no key)."""
        return self.execute_command("TTL", key)  # type: ignore[return-value]

    def publish(self, channel: Arg, message: Arg) -> int:
        """PUBLISH: how many subscribers received it."""
        return self.execute_command("PUBLISH", channel, message)  # type: ignore[return-value]

    def pipeline(self) -> "Pipeline":
        """A pipeline: queue commands, then ``execute()`` sends them in one write."""
        return Pipeline(self._conn)

    def close(self) -> None:
        """Closes the socket (idempotent)."""
        self._conn.close()

    def __enter__(self) -> "GoCacheClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Pipeline:
    """Commands sent together; ``execute()`` returns the replies in order, errors in place."""

    def __init__(self, conn: _Connection):
        self._conn = conn
        self._commands: list[list] = []

    def execute_command(self, *args: Arg) -> "Pipeline":
        """Queues any command."""
        self._commands.append(list(args))
        return self

    def ping(self) -> "Pipeline":
        return self.execute_command("PING")

    def get(self, key: Arg) -> "Pipeline":
        return self.execute_command("GET", key)

    def set(self, key: Arg, value: Arg, *, ex=None, px=None, nx=False, xx=False) -> "Pipeline":
        return self.execute_command(*_set_args(key, value, ex, px, nx, xx))

    def delete(self, *keys: Arg) -> "Pipeline":
        return self.execute_command("DEL", *keys)

    def mget(self, *keys: Arg) -> "Pipeline":
        return self.execute_command("MGET", *keys)

    def mset(self, mapping: Mapping[Arg, Arg]) -> "Pipeline":
        return self.execute_command(*_mset_args(mapping))

    def incr(self, key: Arg) -> "Pipeline":
        return self.execute_command("INCR", key)

    def expire(self, key: Arg, seconds: int) -> "Pipeline":
        return self.execute_command("EXPIRE", key, int(seconds))

    def ttl(self, key: Arg) -> "Pipeline":
        return self.execute_command("TTL", key)

    def publish(self, channel: Arg, message: Arg) -> "Pipeline":
        return self.execute_command("PUBLISH", channel, message)

    def __len__(self) -> int:
        return len(self._commands)

    def execute(self) -> list:
        """Sends every queued command in one write and reads all replies (ReplyError in place)."""
        commands, self._commands = self._commands, []
        if not commands:
            return []
        self._conn.send(b"".join(encode_command(c) for c in commands))
        return [self._conn.read_reply() for _ in commands]

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc) -> None:
        self._commands = []


def discover_leader(
    sentinels: Iterable[tuple[str, int]], name: str, *, timeout: float | None = 2.0
) -> tuple[str, int]:
    """The leader's (host, port) as the first sentinel that knows group ``name`` names it.

    Raises ConnectionError when no sentinel answers with an address.
    """
    problems = []
    for host, port in sentinels:
        try:
            with GoCacheClient(host, port, timeout=timeout) as sentinel:
                reply = sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
        except GoCacheError as e:
            problems.append(f"{host}:{port}: {e}")
            continue
        if isinstance(reply, list) and len(reply) == 2:
            return reply[0].decode(), int(reply[1])
        problems.append(f"{host}:{port}: no leader known")
    raise ConnectionError(f"No sentinel named a leader for {name}: {'; '.join(problems)}")


def connect_to_leader(
    sentinels: Iterable[tuple[str, int]], name: str, **options
) -> GoCacheClient:
    """Connects to group ``name``'s current leader, checked with ROLE (see discover_leader)."""
    host, port = discover_leader(sentinels, name, timeout=options.get("timeout", 2.0))
    client = GoCacheClient(host, port, **options)
    try:
        role = client.execute_command("ROLE")
        if not (isinstance(role, list) and role and role[0] == b"master"):
            raise ConnectionError(f"{host}:{port} is not the leader")
    except GoCacheError:
        client.close()
        raise
    return client
