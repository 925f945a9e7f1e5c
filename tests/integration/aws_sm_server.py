"""A local stand-in for AWS Secrets Manager for the key-sync tests.

It speaks the service's JSON 1.1 protocol as documented: `POST /` with
`Content-Type: application/x-amz-json-1.1` and `X-Amz-Target: secretsmanager.<Operation>`,
for GetSecretValue, PutSecretValue and CreateSecret, with the real response members (ARN, Name,
VersionId, SecretString/SecretBinary, VersionStages, CreatedDate) and the real error shape
(`{"__type": ..., "Message"|"message": ...}` with HTTP 400).

Every request must carry a valid AWS Signature Version 4 (Authorization header form), checked with
the independent implementation below (hashlib/hmac): known access key, credential scope
`<date>/<region>/secretsmanager/aws4_request` for the server's region, X-Amz-Date within five
minutes of now and equal to the scope date, host/x-amz-date (and x-amz-security-token when the key
has a session token) among the signed headers, and the signature itself. Failures answer as AWS
does: UnrecognizedClientException for an unknown key or a bad session token,
InvalidSignatureException for a wrong signature, scope or date,
MissingAuthenticationTokenException without an Authorization header.

Every request that reaches the service is recorded (`server.requests`) with its target, the
scope's region and service, the access key, the signed headers and the JSON body.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import json
import secrets as _secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

ACCOUNT = "123456789012"
SERVICE = "secretsmanager"
JSON_11 = "application/x-amz-json-1.1"
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service "
                      "documentation for details.")
BAD_TOKEN = "The security token included in the request is invalid."
NOT_FOUND = "Secrets Manager can't find the specified secret."


# ---- SigV4, written from the published algorithm (not shared with the C++ signer) ----

def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _aws_quote(s: str, safe: str = "") -> str:
    return quote(s, safe=safe + "-_.~")


def _trim(value: str) -> str:
    return " ".join(value.split())


def canonical_request(method: str, path: str, query: str, headers: list[tuple[str, str]],
                      signed: list[str], payload_hash: str) -> str:
    uri = _aws_quote(unquote(path or "/"), safe="/")
    params = []
    for part in query.split("&") if query else []:
        if not part:
            continue
        name, _, value = part.partition("=")
        params.append((_aws_quote(unquote(name)), _aws_quote(unquote(value))))
    params.sort()
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.strip().lower(), []).append(_trim(value))
    lines = "".join(f"{n}:{','.join(merged.get(n, []))}\n" for n in signed)
    return "\n".join([method, uri, "&".join(f"{k}={v}" for k, v in params), lines, ";".join(signed),
                      payload_hash])


def string_to_sign(amz_date: str, scope: str, creq: str) -> str:
    return "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256_hex(creq.encode("utf-8"))])


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def signature(secret: str, amz_date: str, region: str, service: str, creq: str) -> str:
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    key = signing_key(secret, amz_date[:8], region, service)
    return hmac.new(key, string_to_sign(amz_date, scope, creq).encode("utf-8"), hashlib.sha256).hexdigest()


class AwsError(Exception):
    def __init__(self, type_: str, message: str, status: int = 400, lower: bool = False):
        super().__init__(message)
        self.type, self.message, self.status, self.lower = type_, message, status, lower

    def body(self) -> bytes:
        return json.dumps({"__type": self.type, ("message" if self.lower else "Message"): self.message}).encode()


class _Secret:
    def __init__(self, name: str, region: str):
        suffix = "".join(_secrets.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(6))
        self.name = name
        self.arn = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{suffix}"
        self.created = time.time()
        self.version_id = ""
        self.string: str | None = None
        self.binary: bytes | None = None

    def set(self, string: str | None, binary: bytes | None) -> str:
        self.string, self.binary = string, binary
        self.version_id = str(uuid.uuid4())
        return self.version_id


class SecretsManagerServer:
    """server = SecretsManagerServer(keys={"AKID": "secret"}, region="us-east-1").start()."""

    def __init__(self, keys: dict[str, str], region: str = "us-east-1",
                 session_tokens: dict[str, str] | None = None):
        self.keys = dict(keys)
        self.session_tokens = dict(session_tokens or {})
        self.region = region
        self.secrets: dict[str, _Secret] = {}
        self.denied: set[str] = set()  # secret names whose access answers AccessDeniedException
        self.requests: list[dict] = []
        self.rejected: list[dict] = []  # requests refused before the operation ran
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # ---- test helpers ----
    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def put(self, name: str, value: str | bytes) -> None:
        with self._lock:
            s = self.secrets.get(name) or _Secret(name, self.region)
            self.secrets[name] = s
            if isinstance(value, bytes):
                s.set(None, value)
            else:
                s.set(value, None)

    def value(self, name: str) -> str | None:
        with self._lock:
            s = self.secrets.get(name)
            return None if s is None else s.string

    def targets(self) -> list[str]:
        return [r["target"] for r in self.requests]

    def start(self) -> "SecretsManagerServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                server._handle(self)

            def do_GET(self):
                server._handle(self)

            def do_PUT(self):
                server._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # ---- request handling ----
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = list(h.headers.items())
        try:
            record = self._authenticate(h.command, h.path, headers, body)
            status, reply = self._dispatch(h.command, h.path, h.headers, body, record)
            data = json.dumps(reply).encode()
        except AwsError as e:
            status, data = e.status, e.body()
        h.send_response(status)
        h.send_header("Content-Type", JSON_11)
        h.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _reject(self, record: dict, error: AwsError) -> AwsError:
        record["error"] = error.type
        with self._lock:
            self.rejected.append(record)
        return error

    def _authenticate(self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes) -> dict:
        get = {k.lower(): v for k, v in headers}
        record = {"target": get.get("x-amz-target", ""), "headers": dict(get)}
        record["headers"].pop("authorization", None)
        record["headers"].pop("x-amz-security-token", None)
        auth = get.get("authorization")
        if not auth:
            raise self._reject(record, AwsError("MissingAuthenticationTokenException", "Missing Authentication Token",
                                                lower=True))
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            raise self._reject(record, AwsError("IncompleteSignatureException",
                                                "Authorization header requires 'Credential' parameter.", lower=True))
        fields = {}
        for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = v
        if not all(k in fields for k in ("Credential", "SignedHeaders", "Signature")):
            raise self._reject(record, AwsError("IncompleteSignatureException",
                                                "Authorization header requires 'Credential', 'Signature' and "
                                                "'SignedHeaders' parameters.", lower=True))
        cred = fields["Credential"].split("/")
        if len(cred) != 5 or cred[4] != "aws4_request":
            raise self._reject(record, AwsError("IncompleteSignatureException", "Credential is malformed.",
                                                lower=True))
        access_key, date, region, service, _ = cred
        record.update(access_key=access_key, region=region, service=service)
        secret = self.keys.get(access_key)
        if secret is None:
            raise self._reject(record, AwsError("UnrecognizedClientException", BAD_TOKEN))
        expected_token = self.session_tokens.get(access_key)
        token = get.get("x-amz-security-token")
        if (expected_token or token) and not (token and expected_token and hmac.compare_digest(token, expected_token)):
            raise self._reject(record, AwsError("UnrecognizedClientException", BAD_TOKEN))
        if service != SERVICE:
            raise self._reject(record, AwsError("InvalidSignatureException",
                                                f"Credential should be scoped to correct service: '{SERVICE}'. ",
                                                lower=True))
        if region != self.region:
            raise self._reject(record, AwsError("InvalidSignatureException",
                                                "Credential should be scoped to a valid region. ", lower=True))
        amz_date = get.get("x-amz-date", "")
        try:
            when = _dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.timezone.utc)
        except ValueError:
            raise self._reject(record, AwsError("IncompleteSignatureException",
                                                "Authorization header requires existence of either a 'X-Amz-Date' "
                                                "or a 'Date' header.", lower=True))
        if abs((_dt.datetime.now(_dt.timezone.utc) - when).total_seconds()) > 300:
            raise self._reject(record, AwsError("InvalidSignatureException",
                                                f"Signature expired: {amz_date} is now earlier or later than the "
                                                "allowed window (5 minutes).", lower=True))
        if date != amz_date[:8]:
            raise self._reject(record, AwsError("InvalidSignatureException",
                                                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                                f"version of date from HTTP: '{date}' != '{amz_date[:8]}'", lower=True))
        signed = fields["SignedHeaders"].split(";")
        record["signed_headers"] = signed
        needed = ["host", "x-amz-date"] + (["x-amz-security-token"] if token else [])
        if signed != sorted(signed) or any(n not in signed for n in needed) or any(n not in get for n in signed):
            raise self._reject(record, AwsError("InvalidSignatureException", SIGNATURE_MISMATCH, lower=True))
        path, _, query = raw_path.partition("?")
        creq = canonical_request(method, path, query, headers, signed, _sha256_hex(body))
        want = signature(secret, amz_date, region, service, creq)
        if not hmac.compare_digest(want, fields["Signature"]):
            raise self._reject(record, AwsError("InvalidSignatureException", SIGNATURE_MISMATCH, lower=True))
        return record

    def _dispatch(self, method: str, raw_path: str, headers, body: bytes, record: dict):
        target = headers.get("X-Amz-Target", "")
        if method != "POST" or raw_path != "/" or not target.startswith("secretsmanager."):
            raise AwsError("com.amazon.coral.service#UnknownOperationException", "", lower=True)
        if (headers.get("Content-Type") or "").split(";")[0].strip() != JSON_11:
            raise AwsError("com.amazon.coral.service#SerializationException", "", lower=True)
        try:
            params = json.loads(body or b"{}")
            if not isinstance(params, dict):
                raise ValueError
        except ValueError:
            raise AwsError("com.amazon.coral.service#SerializationException", "", lower=True)
        record["body"] = params
        with self._lock:
            self.requests.append(record)
        op = target.split(".", 1)[1]
        handler = {"GetSecretValue": self._get, "PutSecretValue": self._put,
                   "CreateSecret": self._create}.get(op)
        if handler is None:
            raise AwsError("com.amazon.coral.service#UnknownOperationException", "", lower=True)
        with self._lock:
            return 200, handler(params)

    def _find(self, params: dict, op: str) -> _Secret:
        sid = params.get("SecretId")
        if not isinstance(sid, str) or not sid:
            raise AwsError("ValidationException",
                           "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: "
                           "Member must not be null")
        if sid in self.denied:
            raise AwsError("AccessDeniedException",
                           f"User: arn:aws:iam::{ACCOUNT}:user/coffer-test is not authorized to perform: "
                           f"secretsmanager:{op} on resource: {sid} because no identity-based policy allows the "
                           f"secretsmanager:{op} action")
        for s in self.secrets.values():
            if sid in (s.name, s.arn):
                return s
        raise AwsError("ResourceNotFoundException", NOT_FOUND)

    @staticmethod
    def _value_of(params: dict) -> tuple[str | None, bytes | None]:
        string, binary = params.get("SecretString"), params.get("SecretBinary")
        if (string is None) == (binary is None):
            raise AwsError("InvalidParameterException",
                           "You must provide either SecretString or SecretBinary, but not both.")
        return string, None if binary is None else base64.b64decode(binary)

    def _get(self, params: dict) -> dict:
        s = self._find(params, "GetSecretValue")
        out = {"ARN": s.arn, "Name": s.name, "VersionId": s.version_id, "VersionStages": ["AWSCURRENT"],
               "CreatedDate": round(s.created, 3)}
        if s.binary is not None:
            out["SecretBinary"] = base64.b64encode(s.binary).decode()
        else:
            out["SecretString"] = s.string
        return out

    def _put(self, params: dict) -> dict:
        s = self._find(params, "PutSecretValue")
        string, binary = self._value_of(params)
        version = s.set(string, binary)
        return {"ARN": s.arn, "Name": s.name, "VersionId": version, "VersionStages": ["AWSCURRENT"]}

    def _create(self, params: dict) -> dict:
        name = params.get("Name")
        if not isinstance(name, str) or not name:
            raise AwsError("ValidationException",
                           "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
                           "Member must not be null")
        if name in self.secrets:
            raise AwsError("ResourceExistsException", f"The operation failed because the secret {name} already exists.")
        string, binary = self._value_of(params)
        s = _Secret(name, self.region)
        version = s.set(string, binary)
        self.secrets[name] = s
        return {"ARN": s.arn, "Name": s.name, "VersionId": version}
