"""Tests of gocache_client against a running server whose port is in GOCACHE_PORT.

The Deno suite (tests/integration/python_client_test.ts) starts gocache and runs these with
``python3 -m unittest -v test_gocache_client``. CommandsTest sends FLUSHALL before each test, which
deletes every key of the server: run by hand, point GOCACHE_PORT only at a server whose data you
can lose (a scratch node with its own --dir), never at one holding data you want to keep.
"""

import os
import socket
import ssl
import threading
import time
import unittest

from gocache_client import (
    ConnectionError,
    GoCacheClient,
    GoCacheError,
    ReplyError,
    TimeoutError,
)

PORT = os.environ.get("GOCACHE_PORT")
if PORT is None:
    raise unittest.SkipTest("GOCACHE_PORT is not set (the Deno test suite sets it)")


def client(**kwargs) -> GoCacheClient:
    return GoCacheClient("127.0.0.1", int(PORT), **kwargs)


class CommandsTest(unittest.TestCase):
    def setUp(self):
        self.client = client()
        self.client.execute_command("FLUSHALL")

    def tearDown(self):
        self.client.close()

    def test_ping(self):
        self.assertTrue(self.client.ping())

    def test_get_and_set_with_bytes_and_text(self):
        self.assertIsNone(self.client.get("missing"))
        self.assertTrue(self.client.set("k", "héllo"))
        self.assertEqual(self.client.get("k"), "héllo".encode())
        self.assertTrue(self.client.set(b"\x00\xff", b"\r\n\x00"))
        self.assertEqual(self.client.get(b"\x00\xff"), b"\r\n\x00")

    def test_all_256_byte_values_round_trip(self):
        every = bytes(range(256))
        self.assertTrue(self.client.set(every, every))
        self.assertEqual(self.client.get(every), every)

    def test_set_nx_xx_and_expiry(self):
        self.assertTrue(self.client.set("k", "v"))
        self.assertFalse(self.client.set("k", "w", nx=True))
        self.assertFalse(self.client.set("absent", "w", xx=True))
        self.assertTrue(self.client.set("k", "w", xx=True, ex=100))
        self.assertTrue(95 <= self.client.ttl("k") <= 100)
        self.assertTrue(self.client.set("p", "v", px=20))
        deadline = time.monotonic() + 5
        while self.client.get("p") is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertIsNone(self.client.get("p"))

    def test_delete_mget_mset(self):
        self.assertTrue(self.client.mset({"a": "1", b"b": 2}))
        self.assertEqual(self.client.mget("a", "b", "c"), [b"1", b"2", None])
        self.assertEqual(self.client.delete("a", "b", "c"), 2)
        self.assertEqual(self.client.mget("a"), [None])

    def test_incr_expire_ttl(self):
        self.assertEqual(self.client.incr("n"), 1)
        self.assertEqual(self.client.incr("n"), 2)
        self.assertEqual(self.client.ttl("n"), -1)
        self.assertTrue(self.client.expire("n", 50))
        self.assertFalse(self.client.expire("nope", 50))
        self.assertEqual(self.client.ttl("nope"), -2)
        self.assertTrue(45 <= self.client.ttl("n") <= 50)

    def test_publish_reaches_a_subscriber(self):
        self.assertEqual(self.client.publish("nobody", "x"), 0)
        sub = socket.create_connection(("127.0.0.1", int(PORT)), timeout=5)
        try:
            sub.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n")
            confirmation = b""
            while confirmation.count(b"\r\n") < 6:
                confirmation += sub.recv(1024)
            self.assertEqual(self.client.publish("ch", b"\x01payload"), 1)
            message = b""
            while b"payload" not in message:
                message += sub.recv(1024)
            self.assertIn(b"$7\r\nmessage\r\n$2\r\nch\r\n$8\r\n\x01payload\r\n", message)
        finally:
            sub.close()

    def test_pipeline_sends_many_commands_and_keeps_errors_in_place(self):
        with self.client.pipeline() as pipe:
            for _ in range(1000):
                pipe.incr("counter")
            results = pipe.execute()
        self.assertEqual(results, list(range(1, 1001)))
        pipe = self.client.pipeline()
        pipe.set("s", "text").incr("s").get("s").execute_command("NOSUCHCOMMAND")
        self.assertEqual(len(pipe), 4)
        ok, bad, value, unknown = pipe.execute()
        self.assertEqual(ok, "OK")
        self.assertIsInstance(bad, ReplyError)
        self.assertEqual(bad.code, "ERR")
        self.assertEqual(value, b"text")
        self.assertIsInstance(unknown, ReplyError)
        self.assertEqual(pipe.execute(), [])


class ErrorsTest(unittest.TestCase):
    def test_error_reply_raises_reply_error_with_code(self):
        with client() as c:
            c.set("s", "text")
            with self.assertRaises(ReplyError) as caught:
                c.incr("s")
            self.assertEqual(caught.exception.code, "ERR")
            self.assertIsInstance(caught.exception, GoCacheError)
            with self.assertRaises(ReplyError) as caught:
                c.execute_command("SELECT", 999)
            self.assertEqual(caught.exception.message, "ERR DB index is out of range")
            self.assertTrue(c.ping(), "the connection is still usable")

    def test_refused_port_raises_connection_error(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        with self.assertRaises(ConnectionError):
            GoCacheClient("127.0.0.1", port, timeout=2)
        with self.assertRaises(OSError):
            GoCacheClient("127.0.0.1", port, timeout=2)

    def test_silent_server_raises_timeout_error(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        accepted = []
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]))
        thread.start()
        try:
            c = GoCacheClient("127.0.0.1", listener.getsockname()[1], timeout=0.2)
            started = time.monotonic()
            with self.assertRaises(TimeoutError):
                c.ping()
            self.assertGreaterEqual(time.monotonic() - started, 0.15)
            with self.assertRaises(ConnectionError):
                c.ping()
            c.close()
        finally:
            thread.join(5)
            for conn in accepted:
                conn.close()
            listener.close()

    def test_context_manager_closes_the_connection(self):
        def count() -> int:
            with client() as observer:
                listing = observer.execute_command("CLIENT", "LIST")
                return len(listing.strip().split(b"\n")) - 1

        before = count()
        with client() as c:
            self.assertTrue(c.ping())
            self.assertEqual(count(), before + 1)
        deadline = time.monotonic() + 5
        while count() != before and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(count(), before)
        with self.assertRaises(ConnectionError):
            c.ping()

    def test_password_and_db_options(self):
        with client(db=2) as c:
            c.set("where", "two")
        with client() as c:
            self.assertIsNone(c.get("where"))
            c.execute_command("SELECT", 2)
            self.assertEqual(c.get("where"), b"two")
        with self.assertRaises(ReplyError):
            client(password="nope")


TLS_PORT = os.environ.get("GOCACHE_TLS_PORT")
TLS_DIR = os.environ.get("GOCACHE_TLS_DIR")


def tls_context(prefix: str, with_cert: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=f"{TLS_DIR}/{prefix}-ca.crt")
    if with_cert:
        context.load_cert_chain(f"{TLS_DIR}/{prefix}-server.crt", f"{TLS_DIR}/{prefix}-server.key")
    return context


@unittest.skipIf(TLS_PORT is None, "GOCACHE_TLS_PORT is not set (the Deno test suite sets it)")
class TlsTest(unittest.TestCase):
    """The server's TLS port asks for client certificates (tls-auth-clients yes); the files are
    named as bench/_tls.ts makes them: <prefix>-ca.crt, <prefix>-server.crt/.key."""

    def test_commands_over_tls_with_a_client_certificate(self):
        with GoCacheClient("127.0.0.1", int(TLS_PORT), ssl_context=tls_context("py")) as c:
            self.assertTrue(c.ping())
            c.set("over-tls", b"\x00secret")
            self.assertEqual(c.get("over-tls"), b"\x00secret")
        with client() as plain:
            self.assertEqual(plain.get("over-tls"), b"\x00secret")

    def test_tls_failures_raise_connection_error(self):
        # The server refuses a client without a certificate...
        with self.assertRaises(ConnectionError):
            with GoCacheClient(
                "127.0.0.1", int(TLS_PORT), ssl_context=tls_context("py", with_cert=False)
            ) as c:
                c.ping()
        # ...and the client refuses a server its CA did not sign.
        with self.assertRaises(ConnectionError):
            GoCacheClient("127.0.0.1", int(TLS_PORT), ssl_context=tls_context("stranger"))


if __name__ == "__main__":
    unittest.main()
