"""`coffer s3 ...` end to end against a real s3rver (npm, tests/package.json) on a free port.

Objects Coffer writes are inspected with Debian's AWS CLI (/usr/bin/aws --endpoint-url) and
decrypted independently: the DEK is unwrapped by the real `age` binary and the value decrypted
with python3-cryptography's ChaCha20Poly1305. The reverse direction (an object built by that
independent code, read by Coffer) is checked too.

    COFFER_BIN=$PWD/build/bin/coffer /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_s3.py
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import os
import pty
import select
import socket
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from s3_harness import AGE, AWS, S3RVER, S3Env, s3env, s3rver  # noqa: F401 (fixtures)

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305  # python3-cryptography

from s3_harness import require_s3rver_tools

require_s3rver_tools()


def independent_decrypt(obj: dict, key_file: Path) -> bytes:
    """The DEK through the real age binary, the value through python3-cryptography."""
    dek = subprocess.run([str(AGE), "-d", "-i", str(key_file)], input=base64.b64decode(obj["encrypted_dek"]),
                         capture_output=True, check=True).stdout
    assert len(dek) == 32
    return ChaCha20Poly1305(dek).decrypt(base64.b64decode(obj["nonce"]), base64.b64decode(obj["encrypted_value"]),
                                         None)


# ---------------------------------------------------------------------------------------------


def test_init_writes_key_config_and_bucket(s3env):
    mode = stat.S_IMODE(s3env.key.stat().st_mode)
    assert mode == 0o600
    assert s3env.public_key.startswith("age1")
    assert "AGE-SECRET-KEY-1" in s3env.key.read_text()
    assert s3env.bucket in s3env.aws("s3api", "list-buckets").stdout
    cfg = (s3env.work / "coffer.yaml").read_text()
    assert f"bucket: {s3env.bucket}" in cfg and "endpoint:" in cfg
    # A second init keeps the existing key; an existing config is not overwritten.
    r = s3env.run("s3", "init", "--bucket", s3env.bucket, "--endpoint", s3env.endpoint, "--key-file", s3env.key)
    assert r.returncode == 2 and "--output" in r.stderr and "already exists" in r.stderr
    r = s3env.ok("s3", "init", "--bucket", s3env.bucket, "--endpoint", s3env.endpoint, "--key-file", s3env.key,
                 "--output", "other.yaml")
    assert s3env.public_key in r.stdout and ".gitignore" in r.stderr


def test_push_pull_list_round_trip(s3env):
    value = "p@ss w0rd 'quoted' \"double\" $HOME `tick`\nsecond line ü"
    s3env.ok("s3", "push", "DB_PASSWORD", "--stdin", input=value)
    s3env.ok("s3", "push", "API_KEY", "--value", "k-123", "--s3-path", "api/key")
    assert s3env.ok("s3", "pull", "DB_PASSWORD").raw == value.encode()
    assert s3env.ok("s3", "pull", "API_KEY", "--s3-path", "api/key", "--show").stdout == "k-123"
    listing = s3env.ok("s3", "list").stdout.split()
    assert listing == ["DB_PASSWORD", "api/key"]
    assert s3env.ok("s3", "list", "--long").stdout.startswith("DB_PASSWORD\t")
    # --export is correctly shell-quoted: the shell gets the exact value back.
    line = s3env.ok("s3", "pull", "DB_PASSWORD", "--export").stdout
    assert line.startswith("export DB_PASSWORD='")
    out = subprocess.run(["sh", "-c", line + 'printf %s "$DB_PASSWORD"'], capture_output=True, check=True).stdout
    assert out == value.encode()
    # Several names at once (one process, one connection).
    r = s3env.run("s3", "pull", "--export", "DB_PASSWORD", "API_KEY", "--s3-path", "api/key")
    assert r.returncode == 2 and "--s3-path" in r.stderr
    s3env.ok("s3", "push", "API", "--value", "k-123")
    out = s3env.ok("s3", "pull", "--export", "DB_PASSWORD", "API").stdout
    env = subprocess.run(["sh", "-c", out + 'printf %s "$DB_PASSWORD|$API"'], capture_output=True, check=True).stdout
    assert env == (value + "|k-123").encode()
    # --output writes 0600.
    s3env.ok("s3", "pull", "DB_PASSWORD", "--output", "pw.txt")
    assert (s3env.work / "pw.txt").read_bytes() == value.encode()
    assert stat.S_IMODE((s3env.work / "pw.txt").stat().st_mode) == 0o600
    # No overwrite without --force.
    r = s3env.run("s3", "push", "DB_PASSWORD", "--value", "new")
    assert r.returncode != 0 and "--force" in r.stderr and value not in r.stderr
    s3env.ok("s3", "push", "DB_PASSWORD", "--value", "new", "--force")
    assert s3env.ok("s3", "pull", "DB_PASSWORD").stdout == "new"
    head = json.loads(s3env.aws("s3api", "head-object", "--bucket", s3env.bucket, "--key",
                                "secrets/DB_PASSWORD.json").stdout)
    assert head["ContentType"] == "application/json"


def test_object_is_sindri_json_and_independently_decryptable(s3env):
    s3env.ok("s3", "push", "TOKEN", "--value", "independent-check", "--recipient",
             "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
    raw = s3env.get_object("secrets/TOKEN.json")
    obj = json.loads(raw)
    assert list(obj) == ["version", "secret_name", "created_at", "updated_at", "encryption", "encrypted_dek",
                         "encrypted_value", "nonce", "metadata"]
    assert list(obj["encryption"]) == ["algorithm", "key_derivation", "recipients"]
    assert list(obj["metadata"]) == ["rotation_count", "last_rotated_by", "description", "tags"]
    assert obj["version"] == "1.0" and obj["secret_name"] == "TOKEN"
    assert obj["encryption"] == {"algorithm": "chacha20poly1305", "key_derivation": "age-x25519",
                                 "recipients": [s3env.public_key,
                                                "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]}
    assert raw.decode().startswith('{\n  "version": "1.0",\n  "secret_name": "TOKEN",')
    assert len(base64.b64decode(obj["nonce"])) == 12
    assert independent_decrypt(obj, s3env.key) == b"independent-check"


def test_reads_object_written_independently(s3env):
    dek = os.urandom(32)
    nonce = os.urandom(12)
    wrapped = subprocess.run([str(AGE), "-r", s3env.public_key], input=dek, capture_output=True, check=True).stdout
    ct = ChaCha20Poly1305(dek).encrypt(nonce, b"written-by-sindri-style-code", None)
    obj = {"version": "1.0", "secret_name": "EXTERNAL", "created_at": "2026-01-21T10:00:00.123456789+00:00",
           "updated_at": "2026-01-21T10:00:00Z",
           "encryption": {"algorithm": "chacha20poly1305", "key_derivation": "age-x25519",
                          "recipients": [s3env.public_key]},
           "encrypted_dek": base64.b64encode(wrapped).decode(), "encrypted_value": base64.b64encode(ct).decode(),
           "nonce": base64.b64encode(nonce).decode(),
           "metadata": {"rotation_count": 0, "last_rotated_by": None, "description": None, "tags": {"team": "x"}}}
    s3env.put_object("secrets/EXTERNAL.json", json.dumps(obj, indent=2).encode())
    assert s3env.ok("s3", "pull", "EXTERNAL").stdout == "written-by-sindri-style-code"


def test_bind_aad_objects_are_opt_in_and_bound_to_their_path(s3env):
    s3env.ok("s3", "push", "BOUND", "--value", "v", "--bind-aad")
    obj = json.loads(s3env.get_object("secrets/BOUND.json"))
    assert obj["version"] == "1.1"
    assert s3env.ok("s3", "pull", "BOUND").stdout == "v"
    # Copied to another path: the AAD no longer matches.
    s3env.put_object("secrets/COPY.json", json.dumps(obj, indent=2).encode())
    r = s3env.run("s3", "pull", "BOUND", "--s3-path", "COPY")
    assert r.returncode == 1 and "does not authenticate" in r.stderr


def flip_b64(s: str) -> str:
    b = bytearray(base64.b64decode(s))
    b[len(b) // 2] ^= 0x01
    return base64.b64encode(bytes(b)).decode()


def test_tampered_objects_fail_clearly(s3env, tmp_path):
    s3env.ok("s3", "push", "ONE", "--value", "value-one")
    s3env.ok("s3", "push", "TWO", "--value", "value-two")
    one = json.loads(s3env.get_object("secrets/ONE.json"))
    two = json.loads(s3env.get_object("secrets/TWO.json"))

    def pull_after(obj):
        s3env.put_object("secrets/ONE.json", json.dumps(obj, indent=2).encode())
        r = s3env.run("s3", "pull", "ONE")
        assert r.returncode == 1, r.stderr
        assert "value-one" not in r.stderr + r.stdout and len(r.stderr.strip().splitlines()) == 1
        return r.stderr

    assert "encrypted_value does not authenticate" in pull_after({**one, "encrypted_value":
                                                                  flip_b64(one["encrypted_value"])})
    assert "does not authenticate" in pull_after({**one, "encrypted_value": two["encrypted_value"]})
    assert "does not authenticate" in pull_after({**one, "nonce": flip_b64(one["nonce"])})
    assert "encrypted_dek" in pull_after({**one, "encrypted_dek": flip_b64(one["encrypted_dek"])})
    assert '"nonce"' in pull_after({**one, "nonce": "AAAA"})
    assert '"encryption.algorithm"' in pull_after({**one, "encryption": {**one["encryption"], "algorithm": "aes"}})
    # The whole object of TWO moved to ONE's key: the name check catches it.
    assert 'holds secret "TWO"' in pull_after(two)
    # The wrong key.
    s3env.put_object("secrets/ONE.json", json.dumps(one, indent=2).encode())
    other = tmp_path / "other.key"
    subprocess.run(["age-keygen", "-o", str(other)], capture_output=True, check=True)
    r = s3env.run("s3", "pull", "ONE", "--key-file", other)
    assert r.returncode == 1 and "not encrypted to this key" in r.stderr


class FakeS3Handler(BaseHTTPRequestHandler):
    """Error paths and pagination s3rver cannot produce (its ListObjectsV2 fails whenever a page
    is truncated): behaviour scripted per bucket name."""
    protocol_version = "HTTP/1.1"
    hits: dict = {}
    headers_seen: list = []

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, extra=""):
        self.reply(status, f"<Error><Code>{code}</Code><Message>m</Message>{extra}</Error>".encode())

    requests: list = []

    def record(self, body: bytes = b""):
        FakeS3Handler.requests.append({"method": self.command, "path": self.path,
                                       "headers": [(k, v) for k, v in self.headers.items()], "body": body})

    def do_GET(self):
        self.record()
        url = urllib.parse.urlsplit(self.path)
        bucket = url.path.split("/")[1]
        q = urllib.parse.parse_qs(url.query)
        FakeS3Handler.headers_seen.append(dict(self.headers))
        n = FakeS3Handler.hits[bucket] = FakeS3Handler.hits.get(bucket, 0) + 1
        if bucket == "paged":
            page = int(q.get("continuation-token", ["0"])[0].split("-")[-1]) if "continuation-token" in q else 0
            keys = "".join(f"<Contents><Key>secrets/K{page}{i}.json</Key><Size>1</Size></Contents>" for i in range(3))
            more = page < 2
            body = (f"<?xml version='1.0'?><ListBucketResult><Name>paged</Name>{keys}"
                    f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>"
                    + (f"<NextContinuationToken>tok/+=-{page + 1}</NextContinuationToken>" if more else "")
                    + "</ListBucketResult>")
            self.reply(200, body.encode())
        elif bucket == "slowdown":
            if n < 3:
                self.error(503, "SlowDown")
            else:
                self.reply(200, b"<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>")
        elif bucket == "denied":
            self.error(403, "AccessDenied")
        elif bucket == "elsewhere":
            self.error(400, "AuthorizationHeaderMalformed", "<Region>eu-west-3</Region>")
        elif bucket == "moved":
            self.reply(301, b"<Error><Code>PermanentRedirect</Code><Endpoint>moved.s3.ap-south-1.amazonaws.com"
                            b"</Endpoint></Error>", {"x-amz-bucket-region": "ap-south-1"})
        else:
            self.error(404, "NoSuchBucket")

    def do_HEAD(self):
        self.record()
        self.reply(200 if self.path.strip("/") in ("paged", "newbucket") else 404)

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.record(body)
        FakeS3Handler.headers_seen.append({**dict(self.headers), "_body": body.decode(), "_path": self.path})
        self.reply(200)


def verify_sigv4(req: dict, secret: str) -> None:
    """Recomputes AWS Signature V4 for a received request, independently of curl."""
    headers = {}
    for k, v in req["headers"]:
        headers.setdefault(k.lower(), []).append(" ".join(v.strip().split()))
    auth = headers["authorization"][0]
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                 r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", auth)
    assert m, auth
    _, date, region, signed, signature = m.groups()
    names = signed.split(";")
    for must in ("host", "x-amz-content-sha256", "x-amz-date"):
        assert must in names
    for n in names:
        assert n in headers, f"signed header {n} was not sent"
    assert headers["x-amz-content-sha256"][0] == hashlib.sha256(req["body"]).hexdigest()
    url = urllib.parse.urlsplit(req["path"])
    q = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
    enc = lambda x: urllib.parse.quote(x, safe="-_.~")
    canon_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(q))
    canon_headers = "".join(f"{n}:{','.join(headers[n])}\n" for n in names)
    creq = "\n".join([req["method"], url.path, canon_query, canon_headers, signed,
                      headers["x-amz-content-sha256"][0]])
    scope = f"{date}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", headers["x-amz-date"][0], scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    assert hmac.new(key, sts.encode(), hashlib.sha256).hexdigest() == signature


@pytest.fixture(scope="module")
def fake_s3():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeS3Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_list_paginates_and_retries_throttling(s3env, fake_s3):
    r = s3env.ok("s3", "list", "--endpoint", fake_s3, "--bucket", "paged")
    assert r.stdout.split() == [f"K{p}{i}" for p in range(3) for i in range(3)]
    r = s3env.ok("s3", "list", "--endpoint", fake_s3, "--bucket", "slowdown", env={"COFFER_S3_MAX_RETRIES": "3"})
    assert FakeS3Handler.hits["slowdown"] == 3
    sig = FakeS3Handler.headers_seen[-1]
    assert sig["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=S3RVER/")
    assert "/us-east-1/s3/aws4_request" in sig["Authorization"]
    assert "x-amz-content-sha256" in sig["Authorization"]


def test_credentials_and_region_from_aws_files(s3env, fake_s3):
    aws_dir = s3env.home / ".aws"
    aws_dir.mkdir()
    (aws_dir / "credentials").write_text("[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = d\n"
                                         "[team]\naws_access_key_id = TEAMKEY\naws_secret_access_key = t\n")
    (aws_dir / "config").write_text("[profile team]\nregion = ca-central-1\n")
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_REGION": "", "AWS_PROFILE": "team"}
    (s3env.work / "coffer.yaml").write_text(f"secrets:\n  backend:\n    bucket: paged\n    endpoint: {fake_s3}\n"
                                           f"    encryption:\n      key_file: {s3env.key}\n")
    s3env.ok("s3", "list", env=env)
    auth = FakeS3Handler.headers_seen[-1]["Authorization"]
    assert "Credential=TEAMKEY/" in auth and "/ca-central-1/s3/aws4_request" in auth
    env["AWS_PROFILE"] = ""
    s3env.ok("s3", "list", "--endpoint", fake_s3, "--bucket", "paged", env=env)
    assert "Credential=DEFAULTKEY/" in FakeS3Handler.headers_seen[-1]["Authorization"]
    (aws_dir / "credentials").unlink()
    r = s3env.run("s3", "list", "--endpoint", fake_s3, "--bucket", "paged", env=env)
    assert r.returncode == 1 and "no AWS credentials found" in r.stderr


def test_sigv4_signatures_verify_independently(s3env, fake_s3):
    FakeS3Handler.requests.clear()
    env = {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AWS_REGION": "eu-west-1"}
    s3env.ok("s3", "list", "--endpoint", fake_s3, "--bucket", "paged", "--region", "eu-west-1", env=env)
    s3env.ok("s3", "push", "a b/ü", "--value", "v", "--endpoint", fake_s3, "--bucket", "newbucket", env=env)
    s3env.run("s3", "init", "--bucket", "brandnew", "--region", "eu-west-1", "--endpoint", fake_s3, "--key-file",
              s3env.key, "--create-bucket", "--output", s3env.root / "sig.yaml", env=env)
    methods = {r["method"] for r in FakeS3Handler.requests}
    assert {"GET", "HEAD", "PUT"} <= methods
    assert any("continuation-token=" in r["path"] for r in FakeS3Handler.requests)
    assert any("%C3%BC" in r["path"] for r in FakeS3Handler.requests)
    for r in FakeS3Handler.requests:
        verify_sigv4(r, env["AWS_SECRET_ACCESS_KEY"])


def test_clear_errors_for_denied_and_wrong_region(s3env, fake_s3):
    r = s3env.run("s3", "list", "--endpoint", fake_s3, "--bucket", "denied")
    assert r.returncode == 1 and "AccessDenied" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = s3env.run("s3", "list", "--endpoint", fake_s3, "--bucket", "elsewhere")
    assert r.returncode == 2 and 'is in region "eu-west-3"' in r.stderr and "--region eu-west-3" in r.stderr
    r = s3env.run("s3", "list", "--endpoint", fake_s3, "--bucket", "moved")
    assert r.returncode == 2 and "ap-south-1" in r.stderr


def test_create_bucket_sends_location_constraint(s3env, fake_s3, tmp_path):
    FakeS3Handler.headers_seen.clear()
    r = s3env.run("s3", "init", "--bucket", "brandnew", "--region", "eu-west-1", "--endpoint", fake_s3,
                  "--key-file", s3env.key, "--create-bucket", "--output", tmp_path / "c.yaml")
    assert r.returncode == 0, r.stderr
    put = [h for h in FakeS3Handler.headers_seen if "_body" in h][-1]
    assert "<LocationConstraint>eu-west-1</LocationConstraint>" in put["_body"]
    assert "/eu-west-1/s3/aws4_request" in put["Authorization"]
    s3env.ok("s3", "push", "X", "--value", "v", "--endpoint", fake_s3, "--bucket", "newbucket")
    put = [h for h in FakeS3Handler.headers_seen if "_body" in h][-1]
    assert put["_path"] == "/newbucket/secrets/X.json"
    assert put["x-amz-server-side-encryption"] == "AES256" and put["Content-Type"] == "application/json"
    assert "x-amz-server-side-encryption" in put["Authorization"]  # signed
    assert "v" != put["_body"] and json.loads(put["_body"])["secret_name"] == "X"


def run_on_pty(s3env, args, answer: bytes) -> tuple[int, bytes]:
    """Runs coffer with a pseudo-terminal as stdin/stdout/stderr and controlling terminal."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(s3env.work)
        os.execve(str(s3env.bin), [str(s3env.bin), *map(str, args)], s3env.env)
    out = b""
    answered = False
    while True:
        try:
            r, _, _ = select.select([fd], [], [], 10)
            if not r:
                break
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not answered and b"[y/N]" in out:
            os.write(fd, answer)
            answered = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


def test_pull_show_asks_on_a_terminal(s3env):
    s3env.ok("s3", "push", "SHOWN", "--value", "terminal-value")
    rc, out = run_on_pty(s3env, ["s3", "pull", "SHOWN", "--show"], b"n\n")
    assert rc == 1 and b"Show the value of SHOWN" in out and b"terminal-value" not in out
    rc, out = run_on_pty(s3env, ["s3", "pull", "SHOWN", "--show"], b"y\n")
    assert rc == 0 and b"terminal-value" in out
    rc, out = run_on_pty(s3env, ["s3", "pull", "SHOWN"], b"")
    assert rc == 2 and b"--show" in out and b"terminal-value" not in out
    # rotate draws a progress bar on a terminal only.
    new_key = s3env.root / "pty-new.key"
    s3env.ok("s3", "keygen", "--output", new_key)
    rc, out = run_on_pty(s3env, ["s3", "rotate", "--new-key", new_key], b"")
    assert rc == 0 and b"] 1/1" in out
    assert b"] 1/1" not in (s3env.ok("s3", "rotate", "--new-key", new_key, "--old-key", new_key).raw)


def test_push_from_env(s3env):
    (s3env.work / ".env.local").write_text("# comment\nA=1\nexport B='two words'\nC=\"x\\ny\"\n")
    r = s3env.ok("s3", "push-from-env", ".env.local")
    assert [l.split()[0] for l in r.stdout.splitlines()] == ["pushed"] * 3
    assert s3env.ok("s3", "pull", "B").stdout == "two words"
    assert s3env.ok("s3", "pull", "C").stdout == "x\ny"
    r = s3env.run("s3", "push-from-env", ".env.local")
    assert r.returncode == 0 and r.stdout.count("skipped") == 3


def test_sync_plan_dry_run_conflicts(coffer_bin, s3rver, tmp_path):
    env = S3Env(coffer_bin, s3rver, tmp_path, cache=True)
    (env.work / "local.env").write_text("NEW_LOCAL=l1\nSHARED=s1\n")
    env.ok("s3", "push", "REMOTE_ONLY", "--value", "r1", "--no-cache")
    env.ok("s3", "push", "SHARED", "--value", "different", "--no-cache")
    # Dry run: a plan, nothing changes.
    r = env.ok("s3", "sync", "--env-file", "local.env", "--dry-run")
    assert "dry run" in r.stdout and "push     NEW_LOCAL" in r.stdout and "conflict SHARED" in r.stdout
    assert env.run("s3", "pull", "NEW_LOCAL", "--no-cache").returncode == 1
    # Real run: NEW_LOCAL pushed, the conflict left alone (exit 1).
    r = env.run("s3", "sync", "--env-file", "local.env")
    assert r.returncode == 1 and "conflict" in r.stderr
    assert env.ok("s3", "pull", "NEW_LOCAL", "--no-cache").stdout == "l1"
    assert env.ok("s3", "pull", "SHARED", "--no-cache").stdout == "different"
    # --force with a direction picks a side.
    env.ok("s3", "sync", "--env-file", "local.env", "--direction", "push", "--force")
    assert env.ok("s3", "pull", "SHARED", "--no-cache").stdout == "s1"
    # Now in sync; a remote change is pulled, a local change pushed.
    r = env.ok("s3", "sync", "--env-file", "local.env")
    assert "conflict" not in r.stdout
    (env.work / "local.env").write_text("NEW_LOCAL=l2\nSHARED=s1\n")
    r = env.ok("s3", "sync", "--env-file", "local.env")
    assert "push     NEW_LOCAL" in r.stdout and "changed locally" in r.stdout
    assert env.ok("s3", "pull", "NEW_LOCAL", "--no-cache").stdout == "l2"
    r = env.run("s3", "sync", "--direction", "sideways")
    assert r.returncode == 2 and "--direction" in r.stderr


def test_rotate_interrupted_and_resumed(s3env, tmp_path):
    for i in range(5):
        s3env.ok("s3", "push", f"S{i}", "--value", f"value-{i}")
    before = json.loads(s3env.get_object("secrets/S0.json"))
    new_key = tmp_path / "new.key"
    s3env.ok("s3", "keygen", "--output", new_key)
    r = s3env.run("s3", "rotate", "--new-key", new_key, env={"COFFER_TEST_ROTATE_STOP_AFTER": "2"})
    assert r.returncode == 1 and "interrupted" in r.stderr
    r = s3env.ok("s3", "rotate", "--new-key", new_key)
    assert "Rotated 3, already done 2, failed 0" in r.stdout
    after = json.loads(s3env.get_object("secrets/S0.json"))
    assert after["encrypted_value"] == before["encrypted_value"] and after["nonce"] == before["nonce"]
    assert after["metadata"]["rotation_count"] == 1 and after["metadata"]["last_rotated_by"] == "coffer"
    assert independent_decrypt(after, new_key) == b"value-0"
    assert s3env.ok("s3", "pull", "S3", "--key-file", new_key).stdout == "value-3"
    r = s3env.run("s3", "pull", "S3")
    assert r.returncode == 1 and "not encrypted to this key" in r.stderr
    # Idempotent.
    assert "Rotated 0, already done 5" in s3env.ok("s3", "rotate", "--new-key", new_key, "--old-key",
                                                   s3env.key).stdout


def test_rotate_add_only_then_remove(s3env, tmp_path):
    s3env.ok("s3", "push", "A", "--value", "a")
    new_key = tmp_path / "new.key"
    s3env.ok("s3", "keygen", "--output", new_key)
    s3env.ok("s3", "rotate", "--new-key", new_key, "--add-only")
    obj = json.loads(s3env.get_object("secrets/A.json"))
    assert len(obj["encryption"]["recipients"]) == 2
    assert s3env.ok("s3", "pull", "A").stdout == "a"
    assert s3env.ok("s3", "pull", "A", "--key-file", new_key).stdout == "a"
    s3env.ok("s3", "rotate", "--new-key", new_key, "--add-only", "--remove-recipient", s3env.public_key)
    obj = json.loads(s3env.get_object("secrets/A.json"))
    assert len(obj["encryption"]["recipients"]) == 1
    assert s3env.run("s3", "pull", "A").returncode == 1


def test_stale_cache_used_with_warning_when_unreachable(coffer_bin, s3rver, tmp_path):
    env = S3Env(coffer_bin, s3rver, tmp_path, cache=True)
    cfg = (env.work / "coffer.yaml").read_text().replace("ttl_seconds: 3600", "ttl_seconds: 0")
    (env.work / "coffer.yaml").write_text(cfg)
    env.ok("s3", "push", "CACHED", "--value", "cached-canary")
    cache_dir = env.home / ".cache" / "coffer" / "s3"
    files = list(cache_dir.iterdir())
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert all(b"cached-canary" not in f.read_bytes() for f in files)
    r = env.ok("s3", "pull", "CACHED", "--endpoint", "http://127.0.0.1:1")
    assert r.stdout == "cached-canary" and "unreachable" in r.stderr and "cached-canary" not in r.stderr


def test_bad_input_one_clear_line(s3env, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("AGE-SECRET-KEY-1NOTAKEY\n")
    bad.chmod(0o600)
    r = s3env.run("s3", "pull", "X", "--key-file", bad)
    assert r.returncode == 2 and "key_file" in r.stderr and "NOTAKEY" not in r.stderr
    loose = tmp_path / "loose.key"
    loose.write_text(s3env.key.read_text())
    loose.chmod(0o644)
    s3env.ok("s3", "push", "L", "--value", "v", "--key-file", loose)
    r = s3env.ok("s3", "pull", "L", "--key-file", loose)
    assert "readable by group or others" in r.stderr and "chmod 600" in r.stderr
    r = s3env.run("s3", "list", "--bucket", "no-such-bucket-" + uuid.uuid4().hex[:8])
    assert r.returncode == 1 and "does not exist" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = s3env.run("s3", "list", "--endpoint", "http://127.0.0.1:1")
    assert r.returncode == 1 and "cannot reach S3 endpoint" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "S3RVER" not in r.stderr
    r = s3env.run("s3", "list", "--endpoint", "ftp://x")
    assert r.returncode == 2 and "--endpoint" in r.stderr
    r = s3env.run("s3", "push", "X")
    assert r.returncode == 2 and "--value" in r.stderr
    r = s3env.run("s3", "push", "X", "--value", "v", "--recipient", "age1bogus")
    assert r.returncode == 2 and "--recipient" in r.stderr
    r = s3env.run("s3", "pull", "not-a-shell-name", "--export")
    assert r.returncode == 2 and "--export" in r.stderr
    (s3env.work / "coffer.yaml").write_text("secrets:\n  backend:\n    bucket: b\n    cache:\n      ttl_seconds: soon\n")
    r = s3env.run("s3", "list")
    assert r.returncode == 2 and "coffer.yaml:5: secrets.backend.cache.ttl_seconds" in r.stderr
    # The nearest parent's config is found; -c overrides it.
    sub = s3env.work / "a" / "b"
    sub.mkdir(parents=True)
    r = s3env.run("s3", "list", cwd=sub)
    assert r.returncode == 2 and "ttl_seconds" in r.stderr
    good = tmp_path / "good.yaml"
    good.write_text(f"secrets:\n  backend:\n    bucket: {s3env.bucket}\n    endpoint: {s3env.endpoint}\n"
                    f"    encryption:\n      key_file: {s3env.key}\n    cache:\n      enabled: false\n")
    assert s3env.run("s3", "list", "-c", good, cwd=sub).returncode == 0
    # sindri.yaml is read when there is no coffer.yaml.
    (s3env.work / "coffer.yaml").unlink()
    (s3env.work / "sindri.yaml").write_text(good.read_text())
    assert s3env.run("s3", "list").returncode == 0
