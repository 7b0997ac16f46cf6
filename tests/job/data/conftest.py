"""Fixtures for the data tests: small generated MNIST-style files and a local HTTP server.

No test here touches the internet: the "mirrors" are URLs on a server bound to
127.0.0.1 (port 0, so the OS picks a free one), running in a thread.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from minigan.job.data.mnist import FILES


# ----------------------------------------------------------------------------- fake MNIST
@dataclass
class FakeMnist:
    """Four small IDX files in MNIST's layout: 6 training and 4 test images, 28x28."""

    arrays: dict = field(default_factory=dict)    # file name (.gz) -> array
    gz_bytes: dict = field(default_factory=dict)  # file name (.gz) -> gzip-compressed IDX bytes
    md5: dict = field(default_factory=dict)       # file name (.gz) -> MD5 of gz_bytes

    def write(self, folder, names=FILES, compressed=True):
        """Put the named files in ``folder``: as ``.gz``, or uncompressed under the name without it."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            if compressed:
                (folder / name).write_bytes(self.gz_bytes[name])
            else:
                (folder / name.removesuffix(".gz")).write_bytes(gzip.decompress(self.gz_bytes[name]))


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX bytes of a uint8 array, built here by hand (independently of write_idx)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture(scope="session")
def fake_mnist() -> FakeMnist:
    rng = np.random.default_rng(0)
    fake = FakeMnist()
    for split, n in (("train", 6), ("t10k", 4)):
        fake.arrays[f"{split}-images-idx3-ubyte.gz"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        fake.arrays[f"{split}-labels-idx1-ubyte.gz"] = rng.integers(0, 10, n, dtype=np.uint8)
    for name, array in fake.arrays.items():
        fake.gz_bytes[name] = gzip.compress(idx_bytes(array), mtime=0)
        fake.md5[name] = hashlib.md5(fake.gz_bytes[name]).hexdigest()
    return fake


# ----------------------------------------------------------------------------- local HTTP server
class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes[path] = (body, how)``; ``how`` is one of
    "ok", "drop" (announce the full length, send half, close) or "no-length"."""

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path not in self.server.routes:
            self.send_error(404)
            return
        body, how = self.server.routes[self.path]
        self.send_response(200)
        if how != "no-length":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if how == "drop" else body)
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


class LocalServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.routes, self.httpd.requests = {}, []
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def routes(self) -> dict:
        return self.httpd.routes

    @property
    def requests(self) -> list:
        return self.httpd.requests

    def url(self, path: str = "/") -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def serve(self, mirror: str, files: dict, how: str = "ok") -> str:
        """Serve ``files`` (name -> bytes) under ``/<mirror>/``; returns the mirror's base URL."""
        for name, body in files.items():
            self.routes[f"/{mirror}/{name}"] = (body, how)
        return self.url(f"/{mirror}/")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def dead_url():
    """A base URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mirror/"


@pytest.fixture
def silent_url():
    """A base URL whose server accepts the connection but never answers (for timeouts)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)  # the kernel completes the handshake; nobody ever reads or replies
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/mirror/"
    sock.close()


@pytest.fixture
def log():
    """A text stream to pass as ``progress=``/``report=``, to read what was printed."""
    return io.StringIO()
