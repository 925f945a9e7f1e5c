"""Helpers to run a real `coffer server` process for the end-to-end tests.

A `Server` owns one process at a time on one fixed port (so a restart comes back
at the same address), writes its own HCL config, and appends the process's
stdout/stderr to files in its work directory so tests can inspect everything the
server ever printed, across restarts. Every started process is tracked in
`LIVE_SERVERS` so the session teardown can kill whatever a failing test left.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import ssl
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import hvac
import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
STARTED_BANNER = "==> Coffer server started!"

LIVE_SERVERS: "set[Server]" = set()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_session() -> requests.Session:
    """A requests session that ignores proxy settings from the environment."""
    s = requests.Session()
    s.trust_env = False
    return s


class ServerError(Exception):
    pass


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """Generates a self-signed certificate for 127.0.0.1 with the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    cert = directory / "c.pem"
    key = directory / "k.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Server:
    """One `coffer server` on a fixed free port; startable, stoppable, killable."""

    def __init__(self, binary: Path, workdir: Path, *, dev: bool = False,
                 tls: Optional[tuple[Path, Path]] = None,
                 dev_storage: Optional[Path] = None,
                 root_token: Optional[str] = None,
                 extra_args: tuple[str, ...] = ()):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.dev = dev
        self.tls = tls
        self.port = free_port()
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.db_path = self.data_dir / "coffer.db"
        self.config_path = self.workdir / "coffer.hcl"
        self.stdout_path = self.workdir / "stdout.log"
        self.stderr_path = self.workdir / "stderr.log"
        self.dev_storage = dev_storage
        self.root_token = root_token
        self.extra_args = list(extra_args)
        if dev and root_token is None:
            self.root_token = "root-" + uuid.uuid4().hex
        self.proc: Optional[subprocess.Popen] = None
        self.session = new_session()
        if not dev:
            self._write_config()

    # ---- addresses -------------------------------------------------------
    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.addr}"

    @property
    def verify(self):
        return str(self.tls[0]) if self.tls else True

    # ---- lifecycle -------------------------------------------------------
    def _write_config(self) -> None:
        if self.tls:
            listener = (f'  address = "{self.addr}"\n'
                        f'  tls_disable = false\n'
                        f'  tls_cert_file = "{self.tls[0]}"\n'
                        f'  tls_key_file = "{self.tls[1]}"\n')
        else:
            listener = f'  address = "{self.addr}"\n  tls_disable = true\n'
        self.config_path.write_text(
            f'storage "sqlite" {{\n  path = "{self.db_path}"\n}}\n\n'
            f'listener "tcp" {{\n{listener}}}\n\n'
            f'disable_mlock = true\n')

    def args(self) -> list[str]:
        if self.dev:
            args = [str(self.binary), "server", "-dev",
                    f"-dev-listen-address={self.addr}",
                    f"-dev-root-token-id={self.root_token}"]
            if self.dev_storage:
                args.append(f"-dev-storage={self.dev_storage}")
            return args + self.extra_args
        return [str(self.binary), "server", f"-config={self.config_path}"] + self.extra_args

    def start(self, timeout: float = READY_TIMEOUT) -> "Server":
        assert not self.alive(), "server already running"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        self.session = new_session()
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(self.args(), stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL,
                                         cwd=self.workdir, env=env)
        LIVE_SERVERS.add(self)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerError(
                    f"coffer server exited with {rc} before listening\n"
                    f"args: {self.args()}\nstderr tail:\n{self.stderr_text()[-3000:]}")
            try:
                self.session.get(self.url + "/v1/sys/health", timeout=1,
                                 verify=self.verify)
                return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise ServerError(
                    f"coffer server not answering on {self.url} after {timeout}s\n"
                    f"stderr tail:\n{self.stderr_text()[-3000:]}")
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; returns the exit code. Kills -9 if it hangs."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerError(f"coffer server ignored SIGTERM for {timeout}s")
        self.session.close()
        LIVE_SERVERS.discard(self)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
        self.session.close()
        LIVE_SERVERS.discard(self)

    def restart(self) -> int:
        rc = self.stop()
        self.start()
        return rc

    # ---- output ----------------------------------------------------------
    def stdout_text(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def output_bytes(self) -> bytes:
        out = b""
        for p in (self.stdout_path, self.stderr_path):
            if p.exists():
                out += p.read_bytes()
        return out

    # ---- clients ---------------------------------------------------------
    def client(self, token: Optional[str] = None) -> hvac.Client:
        return hvac.Client(url=self.url, token=token, verify=self.verify,
                           session=new_session(), timeout=30)

    def http(self, method: str, path: str, token: Optional[str] = None,
             headers: Optional[dict] = None, timeout: float = 30, **kwargs) -> requests.Response:
        h = dict(headers or {})
        if token is not None:
            h["X-Vault-Token"] = token
        kwargs.setdefault("verify", self.verify)
        return self.session.request(method, self.url + path, headers=h,
                                    timeout=timeout, **kwargs)

    def raw(self, payload: bytes, timeout: float = 10, until_close: bool = False) -> bytes:
        """Sends raw bytes on a fresh connection; returns the bytes read back.

        Reading stops after the first complete response, or only at close/timeout
        with `until_close` (for pipelined requests)."""
        return raw_exchange(self.port, payload, timeout,
                            tls_ca=self.tls[0] if self.tls else None, until_close=until_close)


def raw_exchange(port: int, payload: bytes, timeout: float = 10,
                 tls_ca: Optional[Path] = None, chunk: int = 65536,
                 until_close: bool = False) -> bytes:
    """Writes `payload` on a new TCP (optionally TLS) connection, reading as it goes.

    Stops sending early if the server already answered or closed (a server may
    reject an oversize request after the headers); returns everything received.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls_ca:
        ctx = ssl.create_default_context(cafile=str(tls_ca))
        sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    received = b""
    try:
        sock.settimeout(timeout)
        view = memoryview(payload)
        sent = 0
        try:
            while sent < len(view):
                n = sock.send(view[sent:sent + chunk])
                sent += n
                r, _, _ = select.select([sock], [], [], 0)
                if r:
                    data = sock.recv(65536)
                    if not data:
                        return received
                    received += data
                    if b"\r\n\r\n" in received and not until_close:
                        break
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
                break
            if not data:
                break
            received += data
            if not until_close and _complete_response(received):
                break
    finally:
        sock.close()
    return received


def _complete_response(buf: bytes) -> bool:
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return False
    # chunked or close-delimited: a terminating chunk, or wait for close
    return body.endswith(b"0\r\n\r\n")


def raw_status(response: bytes) -> Optional[int]:
    """The status code of a raw HTTP/1.x response, or None if there was none."""
    if not response.startswith(b"HTTP/1."):
        return None
    parts = response.split(b"\r\n", 1)[0].split(b" ")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None


# ---- Vault-level helpers ---------------------------------------------------

@dataclass
class Unsealed:
    """An initialized and unsealed server with everything a test needs to drive it."""
    client: hvac.Client
    keys: list[str]
    root_token: str
    server: Server
    keys_base64: list[str] = field(default_factory=list)
    threshold: int = 3

    def unseal(self) -> dict:
        return unseal(self.server, self.keys, self.threshold)


def initialize(server: Server, shares: int = 5, threshold: int = 3) -> dict:
    client = server.client()
    result = client.sys.initialize(shares, threshold)
    assert isinstance(result, dict), f"init failed: {result!r}"
    return result


def unseal(server: Server, keys: list[str], threshold: int) -> dict:
    client = server.client()
    status = None
    for key in keys[:threshold]:
        status = client.sys.submit_unseal_key(key)
    assert status is not None and status["sealed"] is False, f"still sealed: {status!r}"
    return status


def init_and_unseal(server: Server, shares: int = 5, threshold: int = 3,
                    kv_mount: Optional[str] = "secret") -> Unsealed:
    """Initializes and unseals; optionally mounts KV v1 at `kv_mount`."""
    result = initialize(server, shares, threshold)
    unseal(server, result["keys"], threshold)
    client = server.client(result["root_token"])
    if kv_mount:
        resp = client.sys.enable_secrets_engine("kv", path=kv_mount, options={"version": "1"})
        assert resp.status_code in (200, 204), resp.text
    return Unsealed(client=client, keys=result["keys"], root_token=result["root_token"],
                    server=server, keys_base64=result.get("keys_base64", []),
                    threshold=threshold)


def error_list(resp: requests.Response) -> list:
    """The `errors` array of a Vault error response (asserting the shape)."""
    assert resp.headers.get("Content-Type", "").startswith("application/json"), \
        f"{resp.status_code} error without a JSON body: {resp.headers.get('Content-Type')!r} {resp.text[:200]!r}"
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("errors"), list), \
        f"not a Vault error body: {resp.text[:300]!r}"
    return body["errors"]


def error_text(resp: requests.Response) -> str:
    return " ".join(str(e) for e in error_list(resp))


# ---- tokens, policies and mounts (used by the token/ACL/KV v2 suites) ------

def unique(prefix: str = "t") -> str:
    """A short unique name, so tests sharing one server never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def put_policy(server: Server, name: str, rules: str, token: Optional[str] = None) -> None:
    """Writes an ACL policy through `PUT sys/policy/:name` (asserting 204)."""
    r = server.http("PUT", f"/v1/sys/policy/{name}", token=token or server.root_token,
                    json={"policy": rules})
    assert r.status_code == 204, f"policy {name}: {r.status_code} {r.text}"


def create_token(server: Server, token: Optional[str] = None,
                 path: str = "auth/token/create", **body) -> dict:
    """Creates a token (by default as root); returns the response's `auth` block."""
    r = server.http("POST", "/v1/" + path, token=token or server.root_token, json=body)
    assert r.status_code == 200, f"{path} {body} -> {r.status_code} {r.text}"
    auth = r.json()["auth"]
    assert auth and auth["client_token"], r.text
    return auth


def token_alive(server: Server, token: str) -> bool:
    """True if `auth/token/lookup-self` accepts the token, False on 403 (anything else fails)."""
    r = server.http("GET", "/v1/auth/token/lookup-self", token=token)
    assert r.status_code in (200, 403), f"lookup-self: {r.status_code} {r.text}"
    return r.status_code == 200


def mount_kv(server: Server, path: str, version: str = "1") -> None:
    r = server.http("POST", f"/v1/sys/mounts/{path}", token=server.root_token,
                    json={"type": "kv", "options": {"version": version}})
    assert r.status_code == 204, f"mount {path}: {r.status_code} {r.text}"
