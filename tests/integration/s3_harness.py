"""Shared fixtures for the tests that need a real S3: s3rver (npm, tests/package.json) on a free
port, and S3Env (one bucket, one HOME, one master key, a coffer.yaml written by `coffer s3 init`).
Used by test_s3.py and test_resolver_s3.py; import the fixtures into the test module:

    from s3_harness import S3Env, s3rver, s3env  # noqa: F401 (fixtures)
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
S3RVER = REPO / "tests" / "node_modules" / ".bin" / "s3rver"
AWS = Path("/usr/bin/aws")
AGE = Path("/usr/bin/age")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3rver:
    """One s3rver process on a free port, serving `data` (kept across stop/start)."""

    def __init__(self, data: Path):
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "S3rver":
        self.proc = subprocess.Popen([str(S3RVER), "--directory", str(self.data), "--address", "127.0.0.1",
                                      "--port", str(self.port), "--silent"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("s3rver exited: " + self.proc.stderr.read().decode(errors="replace"))
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("s3rver did not start")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory):
    """The endpoint URL of an s3rver shared by the whole session."""
    server = S3rver(tmp_path_factory.mktemp("s3rver")).start()
    yield server.url
    server.stop()


@pytest.fixture
def own_s3rver(tmp_path_factory):
    """A private s3rver (an S3rver: .url, .stop(), .start()) that a test may stop."""
    server = S3rver(tmp_path_factory.mktemp("own-s3rver")).start()
    yield server
    server.stop()


class S3Env:
    """One bucket, one HOME, one master key and a coffer.yaml in a work directory."""

    def __init__(self, coffer_bin: Path, endpoint: str, root: Path, cache: bool = False):
        self.bin = coffer_bin
        self.endpoint = endpoint
        self.root = root
        self.home = root / "home"
        self.work = root / "work"
        self.home.mkdir()
        self.work.mkdir()
        self.bucket = "b-" + uuid.uuid4().hex[:12]
        self.key = self.home / ".coffer" / "master.key"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({"HOME": str(self.home), "AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER",
                         "AWS_REGION": "us-east-1", "COFFER_S3_MAX_RETRIES": "1"})
        r = self.run("s3", "init", "--bucket", self.bucket, "--endpoint", endpoint, "--key-file", str(self.key),
                     "--create-bucket")
        assert r.returncode == 0, r.stderr
        self.public_key = r.stdout.split("Public key: ")[1].strip()
        if not cache:
            cfg = (self.work / "coffer.yaml").read_text().replace("enabled: true", "enabled: false")
            (self.work / "coffer.yaml").write_text(cfg)

    def run(self, *args, input: bytes | str | None = None, env: dict | None = None, cwd: Path | None = None):
        e = dict(self.env)
        if env:
            e.update(env)
        if isinstance(input, str):
            input = input.encode()
        return _Result(subprocess.run([str(self.bin), *map(str, args)], input=input, capture_output=True, env=e,
                                      cwd=cwd or self.work, timeout=60))

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, (args, r.returncode, r.stderr)
        return r

    def aws(self, *args, check=True) -> subprocess.CompletedProcess:
        r = subprocess.run([str(AWS), "--endpoint-url", self.endpoint, *map(str, args)], capture_output=True,
                           text=True, env=self.env, timeout=60)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    def get_object(self, key: str) -> bytes:
        out = self.root / ("obj-" + uuid.uuid4().hex)
        self.aws("s3api", "get-object", "--bucket", self.bucket, "--key", key, out)
        return out.read_bytes()

    def put_object(self, key: str, body: bytes) -> None:
        f = self.root / ("put-" + uuid.uuid4().hex)
        f.write_bytes(body)
        self.aws("s3api", "put-object", "--bucket", self.bucket, "--key", key, "--body", f,
                 "--content-type", "application/json")


class _Result:
    def __init__(self, p: subprocess.CompletedProcess):
        self.returncode = p.returncode
        self.raw = p.stdout
        self.stdout = p.stdout.decode(errors="replace")
        self.stderr = p.stderr.decode(errors="replace")


@pytest.fixture
def s3env(coffer_bin, s3rver, tmp_path) -> S3Env:
    return S3Env(coffer_bin, s3rver, tmp_path)



def require_s3rver_tools() -> None:
    """Fails (never skips) when the real tools are missing: the tests would prove nothing."""
    assert S3RVER.exists() and AWS.exists() and AGE.exists(), \
        "needs s3rver (npm install in tests/), awscli and age: run scripts/bootstrap"
