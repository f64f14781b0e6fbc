#!/usr/bin/env python3
"""Load and abuse probes against a real `gptoss serve` on the toy model (issue 14), loopback only.

Each probe is bounded in connections and time, sized to run in well under two minutes on two cores.
Usage: http_abuse_test.py  (GPTOSS_BUILD_DIR, default build/cpu, holds tools/gptoss and fixtures/)
"""
import json
import os
import re
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import threading
import time
import unittest

BUILD = os.environ.get("GPTOSS_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build/cpu"))
GPTOSS = os.path.join(BUILD, "tools/gptoss")
MODEL = os.path.join(BUILD, "fixtures/toy-harmony")
KEY = "abuse-test-key"
MIB = 1 << 20


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Server:
    """`gptoss serve` on an ephemeral port; the port comes from its "server listening" log line."""

    def __init__(self, *args):
        argv = [GPTOSS, "serve", "--model", MODEL, "--host", "127.0.0.1", "--port", "0", "--backend", "cpu",
                "--kv-cache-memory", "128MiB", "--max-model-len", "8192", "--api-key", KEY,
                "--log-level", "info", *args]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log = []
        port = None
        deadline = time.time() + 60
        while port is None and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server exited:\n" + "".join(self.log))
            self.log.append(line)
            m = re.search(r"server listening .*port=(\d+)", line)
            if m:
                port = int(m.group(1))
        self.port = port
        threading.Thread(target=self._drain_log, daemon=True).start()
        while time.time() < deadline:
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server not ready")

    def _drain_log(self):
        for line in self.proc.stdout:
            self.log.append(line)

    def connect(self, timeout=10):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def request(self, method, path, body=None, headers=None, timeout=10):
        """One request on a fresh connection: (status, headers dict, body bytes)."""
        s = self.connect(timeout)
        try:
            s.sendall(request_bytes(method, path, body, headers, close=True))
            return read_response(s)
        finally:
            s.close()

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def metric(self, name):
        _, _, body = self.request("GET", "/metrics")
        m = re.search(rf"^gptoss:{name}{{[^}}]*}} (\S+)$", body.decode(), re.M)
        return float(m.group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request_bytes(method, path, body=None, headers=None, close=False):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {KEY}"]
    data = b""
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    if close:
        lines.append("Connection: close")
    lines += headers or []
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


_unread = {}  # socket -> bytes received past the response last read (pipelined responses)


def read_response(s, head_only=False):
    """Reads one response (Content-Length or chunked, or to EOF): (status, headers, body)."""
    buf = _unread.pop(s, b"")
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response: %r" % buf[:200])
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    if head_only:
        return status, headers, rest
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        _unread[s] = rest[n:]
        return status, headers, rest[:n]
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return status, headers, rest
        rest += chunk
        if rest.endswith(b"0\r\n\r\n"):
            return status, headers, rest


def chat(max_tokens=4, stream=False):
    return {"model": "toy-harmony", "messages": [{"role": "user", "content": "Say hello."}],
            "max_tokens": max_tokens, "stream": stream}


def send_in_background(sock, parts):
    """Sends an iterable of byte strings on a thread, stopping at the first error (the server may close)."""
    def run():
        try:
            for part in parts:
                sock.sendall(part)
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


class HttpAbuseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise_fd_limit()
        cls.server = Server("--max-request-bytes", "1MiB", "--max-num-seqs", "8", "--max-queued-requests", "64",
                            "--keep-alive-timeout", "60", "--header-timeout", "30")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_health_and_chat_answer_beside_idle_and_slowloris_connections(self):
        idle, slow = [], []
        try:
            for _ in range(1000):  # keep-alive connections that made one request and went quiet
                s = self.server.connect()
                s.sendall(request_bytes("GET", "/health"))
                idle.append(s)
            for s in idle:
                self.assertEqual(read_response(s)[0], 200)
            for _ in range(300):  # slowloris: a head that never ends
                s = self.server.connect()
                s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
                slow.append(s)
            latencies = []
            for i in range(20):
                for s in slow:
                    s.sendall(b"X-Slow-%d: 1\r\n" % i)
                start = time.monotonic()
                status, headers, _ = self.server.request("GET", "/health")
                latencies.append((time.monotonic() - start) * 1000)
                self.assertEqual(status, 200)
            status, _, body = self.server.request("POST", "/v1/chat/completions", chat())
            self.assertEqual(status, 200, body)
            print(f"/health beside 1000 idle + 300 slowloris: median {statistics.median(latencies):.1f} ms, "
                  f"max {max(latencies):.1f} ms")
            self.assertLess(statistics.median(latencies), 100)
        finally:
            for s in idle + slow:
                s.close()

    def test_excess_streams_get_503_at_once(self):
        socks = [self.server.connect(timeout=60) for _ in range(500)]
        try:
            body = chat(max_tokens=8, stream=True)
            sent = []
            for s in socks:
                s.sendall(request_bytes("POST", "/v1/chat/completions", body, close=True))
                sent.append(time.monotonic())
            # Status lines as they arrive, on whichever connection: the time to each 503.
            arrived, heads = {}, {s: b"" for s in socks}
            with selectors.DefaultSelector() as sel:
                for s in socks:
                    sel.register(s, selectors.EVENT_READ)
                deadline = time.monotonic() + 60
                while len(arrived) < len(socks) and time.monotonic() < deadline:
                    for key, _ in sel.select(1):
                        s = key.fileobj
                        heads[s] += s.recv(65536)
                        if b"\r\n\r\n" in heads[s] or not heads[s]:
                            arrived[s] = time.monotonic()
                            sel.unregister(s)
            self.assertEqual(len(arrived), len(socks), "a request got no answer: a hang")
            refused, refusal_ms, ok = 0, [], 0
            for s, t in zip(socks, sent):
                head = heads[s].split(b"\r\n\r\n")[0].decode("latin-1")
                status = int(head.split()[1])
                if status == 503:
                    refused += 1
                    refusal_ms.append((arrived[s] - t) * 1000)
                    self.assertIn("\r\nretry-after:", head.lower())
                else:
                    self.assertEqual(status, 200)
                    ok += 1
            for s in socks:  # every accepted stream ends: no hang
                while s.recv(65536):
                    pass
            print(f"500 streams, 8 running + 64 queued: {ok} served, {refused} refused, refusal median "
                  f"{statistics.median(refusal_ms):.1f} ms, max {max(refusal_ms):.1f} ms")
            self.assertGreaterEqual(refused, 500 - 8 - 64 - 64)
            self.assertLess(statistics.median(refusal_ms), 50)
        finally:
            for s in socks:
                s.close()

    def test_chunked_body_over_the_limit_is_413_without_buffering(self):
        before = self.server.rss_kib()
        s = self.server.connect(timeout=30)
        head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Type: application/json\r\n\r\n")
        chunk = b"%x\r\n" % MIB + b"a" * MIB + b"\r\n"
        sender = send_in_background(s, [head] + [chunk] * 128)
        status, headers, body = read_response(s)
        s.close()
        sender.join(10)
        grown_mib = (self.server.rss_kib() - before) / 1024
        print(f"chunked 128 MiB body: {status}, RSS growth {grown_mib:.1f} MiB")
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body)["error"]["code"], "request_too_large")
        self.assertTrue(headers.get("x-request-id"))
        self.assertLess(grown_mib, 8)

    def test_body_without_the_api_key_is_refused_before_it_is_read(self):
        s = self.server.connect(timeout=30)
        head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/json\r\n\r\n")
        sender = send_in_background(s, [head] + [b"%x\r\n" % MIB + b"a" * MIB + b"\r\n"] * 32)
        status, headers, body = read_response(s)
        s.close()
        sender.join(10)
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error"]["code"], "missing_api_key")
        self.assertTrue(headers.get("x-request-id"))

    def test_header_flood_is_431(self):
        s = self.server.connect(timeout=30)
        lines = [b"GET /health HTTP/1.1\r\n"] + [b"X-Flood-%d: %s\r\n" % (i, b"v" * 100) for i in range(300000)]
        sender = send_in_background(s, [b"".join(lines[i:i + 1000]) for i in range(0, len(lines), 1000)])
        status, _, _ = read_response(s)
        s.close()
        sender.join(10)
        self.assertEqual(status, 431)

    def test_header_count_over_the_limit_is_431(self):
        headers = [f"X-Many-{i}: 1" for i in range(200)]
        self.assertEqual(self.server.request("GET", "/health", headers=headers)[0], 431)

    def test_long_uri_is_414_with_request_id(self):
        status, headers, _ = self.server.request("GET", "/v1/models/" + "a" * 10000)
        self.assertEqual(status, 414)
        self.assertTrue(headers.get("x-request-id"))

    def test_conflicting_framing_is_400_and_closes(self):
        for extra in (b"Content-Length: 2\r\nContent-Length: 2\r\n",
                      b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
                      b"Transfer-Encoding: gzip, chunked\r\n"):
            s = self.server.connect()
            s.sendall(b"POST /tokenize HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n{}GET /health HTTP/1.1\r\n\r\n")
            status, headers, _ = read_response(s)
            self.assertEqual(status, 400, extra)
            self.assertEqual(headers.get("connection"), "close")
            s.settimeout(5)
            self.assertEqual(s.recv(65536), b"")  # one response only, then the connection is closed
            s.close()

    def test_pipelined_requests_are_answered_in_order(self):
        s = self.server.connect()
        s.sendall(request_bytes("GET", "/health") + request_bytes("GET", "/v1/models") +
                  request_bytes("POST", "/tokenize", {"prompt": "hi"}) + request_bytes("GET", "/nope", close=True))
        statuses = [read_response(s)[0] for _ in range(4)]
        s.close()
        self.assertEqual(statuses, [200, 200, 200, 404])

    def test_nul_in_path_is_reported_whole(self):
        status, _, body = self.server.request("GET", "/v1/models/a%00b")
        self.assertEqual(status, 404)
        self.assertIn("\u0000b", json.loads(body)["error"]["message"])

    def test_reset_non_streaming_request_frees_its_kv_blocks(self):
        s = self.server.connect()
        s.sendall(request_bytes("POST", "/v1/chat/completions", chat(max_tokens=4000)))
        deadline = time.monotonic() + 10
        while self.server.metric("num_requests_running") == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertGreater(self.server.metric("kv_cache_usage_perc"), 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # linger 0: a reset
        reset = time.monotonic()
        while self.server.metric("kv_cache_usage_perc") > 0 and time.monotonic() - reset < 5:
            time.sleep(0.02)
        freed_s = time.monotonic() - reset
        print(f"reset non-streaming request: KV free after {freed_s * 1000:.0f} ms")
        self.assertEqual(self.server.metric("kv_cache_usage_perc"), 0)
        self.assertLess(freed_s, 1.0)


class ConnectionLimitTest(unittest.TestCase):
    def test_a_connection_beyond_the_limit_gets_503_and_health_returns_after(self):
        server = Server("--max-connections", "50", "--keep-alive-timeout", "60")
        held = [server.connect() for _ in range(50)]
        try:
            time.sleep(0.2)  # all accepted by the front
            extra = server.connect()
            status, headers, body = read_response(extra)
            extra.close()
            self.assertEqual(status, 503)
            self.assertEqual(json.loads(body)["error"]["code"], "server_overloaded")
            self.assertEqual(headers.get("retry-after"), "1")
        finally:
            for s in held:
                s.close()
            time.sleep(0.2)
        try:
            self.assertEqual(server.request("GET", "/health")[0], 200)
        finally:
            server.stop()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_exits_within_drain_timeout_despite_a_trickling_client(self):
        server = Server("--drain-timeout", "2", "--header-timeout", "60")
        s = server.connect()
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        stop = threading.Event()

        def trickle():
            try:
                while not stop.is_set():
                    s.sendall(b"X: 1\r\n")
                    time.sleep(0.2)
            except OSError:
                pass
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        time.sleep(0.5)
        start = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(10)
        finally:
            stop.set()
            s.close()
            server.stop()
        took = time.monotonic() - start
        print(f"SIGTERM with a trickling client: exit {code} after {took:.2f} s")
        self.assertEqual(code, 0)
        self.assertLess(took, 2 + 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
