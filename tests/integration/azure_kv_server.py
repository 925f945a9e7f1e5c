"""A local stand-in for Microsoft Entra ID's token endpoint and Azure Key Vault's secrets API.

One ThreadingHTTPServer (in a thread) serves both, speaking the documented wire protocol:

* POST /{tenant}/oauth2/v2.0/token, form-encoded client credentials (grant_type=client_credentials,
  client_id, client_secret, scope=https://vault.azure.net/.default) → {"token_type": "Bearer",
  "expires_in", "ext_expires_in", "access_token"}; failures are Entra's OAuth2 errors
  {"error", "error_description": "AADSTSnnnn: ...\\r\\nTrace ID: ...", "error_codes", "timestamp",
  "trace_id", "correlation_id", "error_uri"} (401 invalid_client, 400 for the rest).
* GET/PUT /secrets/{name}[/{version}]?api-version=7.4 with `Authorization: Bearer <token>`:
  {"value", "id": "{vault}/secrets/{name}/{32-hex version}", "attributes": {...}}; failures are
  Key Vault's {"error": {"code", "message"[, "innererror": {"code"}]}}: 401 Unauthorized with a
  WWW-Authenticate challenge, 400 BadParameter (api-version missing or unsupported, bad name or
  body), 403 Forbidden/ForbiddenByRbac (names in `deny`), 404 SecretNotFound.

Every request is recorded (method, path, query, whether it carried a bearer token, the form or
JSON body). Use as a context manager: `with AzureKeyVaultServer(...) as kv: kv.url ...`.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlsplit

API_VERSIONS = {"7.0", "7.1", "7.2", "7.3", "7.4", "7.5"}
NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
GET_ACTION = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
SET_ACTION = "Microsoft.KeyVault/vaults/secrets/setSecret/action"


class AzureKeyVaultServer:
    def __init__(self, tenant: str = "11111111-2222-3333-4444-555555555555",
                 client_id: str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                 client_secret: str = "cl1ent~Secret.value_0123",
                 scope: str = "https://vault.azure.net/.default",
                 token_lifetime: int = 3599, ssl_context=None):
        self.tenant, self.client_id, self.client_secret = tenant, client_id, client_secret
        self.scope, self.token_lifetime = scope, token_lifetime
        self.tokens: dict[str, float] = {}  # access token → expiry (epoch seconds)
        self.secrets: dict[str, list[dict]] = {}  # name → versions, oldest first
        self.deny: set[str] = set()  # names whose reads and writes answer 403 ForbiddenByRbac
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "AzureKeyVaultServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- helpers for tests -------------------------------------------------------------------
    def put(self, name: str, value: str) -> dict:
        with self.lock:
            return self._new_version(name, value)

    def latest(self, name: str) -> Optional[str]:
        with self.lock:
            versions = self.secrets.get(name)
            return versions[-1]["value"] if versions else None

    def versions(self, name: str) -> list[dict]:
        with self.lock:
            return list(self.secrets.get(name, []))

    def token_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith("/oauth2/v2.0/token")]

    def vault_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith("/secrets")]

    # ---- the service -------------------------------------------------------------------------
    def _new_version(self, name: str, value: str) -> dict:
        now = int(time.time())
        bundle = {
            "value": value,
            "id": f"{self.url}/secrets/{name}/{uuid.uuid4().hex}",
            "attributes": {"enabled": True, "created": now, "updated": now,
                           "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
            "tags": {},
        }
        self.secrets.setdefault(name, []).append(bundle)
        return bundle


def _oauth_error(status: int, error: str, code: int, text: str):
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }, {}


def _kv_error(status: int, code: str, message: str, inner: Optional[str] = None, headers=None):
    err = {"code": code, "message": message}
    if inner:
        err["innererror"] = {"code": inner}
    return status, {"error": err}, headers or {}


def _handler_for(kv: AzureKeyVaultServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PUT(self):
            self._dispatch("PUT")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def do_PATCH(self):
            self._dispatch("PATCH")

        def _dispatch(self, method: str):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            record = {"method": method, "path": parts.path, "query": parse_qs(parts.query),
                      "authorization": self.headers.get("Authorization", ""),
                      "content_type": self.headers.get("Content-Type", ""), "body": body.decode("utf-8", "replace")}
            with kv.lock:
                kv.requests.append(record)
                if parts.path.endswith("/oauth2/v2.0/token"):
                    status, doc, headers = self._token(method, parts.path, body)
                else:
                    status, doc, headers = self._vault(method, parts.path, parse_qs(parts.query), body)
            payload = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store, no-cache")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        # Entra ID: POST /{tenant}/oauth2/v2.0/token
        def _token(self, method, path, body):
            if method != "POST":
                return _oauth_error(400, "invalid_request", 900561,
                                    "The endpoint only accepts POST requests. Received a GET request.")
            tenant = path.split("/")[1]
            if tenant != kv.tenant:
                return _oauth_error(400, "invalid_request", 90002,
                                    f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                                    "and are signing into the correct cloud.")
            if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                return _oauth_error(400, "invalid_request", 900144,
                                    "The request body must contain the following parameter: 'grant_type'.")
            form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            if form.get("grant_type") != "client_credentials":
                return _oauth_error(400, "unsupported_grant_type", 70003,
                                    "The app requested an unsupported grant type.")
            if form.get("client_id") != kv.client_id:
                return _oauth_error(400, "unauthorized_client", 700016,
                                    f"Application with identifier '{form.get('client_id')}' was not found in the "
                                    f"directory '{kv.tenant}'.")
            if not secrets.compare_digest(form.get("client_secret", ""), kv.client_secret):
                return _oauth_error(401, "invalid_client", 7000215,
                                    "Invalid client secret provided. Ensure the secret being sent in the request is "
                                    f"the client secret value, not the client secret ID, for a secret added to app "
                                    f"'{kv.client_id}'.")
            if form.get("scope") != kv.scope:
                return _oauth_error(400, "invalid_scope", 1002012,
                                    f"The provided value for scope {form.get('scope')} is not valid. Client "
                                    "credential flows must have a scope value with /.default suffixed to the "
                                    "resource identifier (application ID URI).")
            token = secrets.token_urlsafe(48)
            kv.tokens[token] = time.time() + kv.token_lifetime
            return 200, {"token_type": "Bearer", "expires_in": kv.token_lifetime,
                         "ext_expires_in": kv.token_lifetime, "access_token": token}, {}

        # Key Vault: /secrets/{name}[/{version}]?api-version=
        def _vault(self, method, path, query, body):
            challenge = {"WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/{kv.tenant}", '
                                             f'resource="https://vault.azure.net"'}
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                return _kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                                 headers=challenge)
            expiry = kv.tokens.get(auth[len("Bearer "):])
            if expiry is None:
                return _kv_error(401, "Unauthorized", "AKV10032: Invalid issuer. Expected one of the trusted "
                                 "issuers for this tenant.", headers=challenge)
            if expiry < time.time():
                return _kv_error(401, "Unauthorized", "AKV10022: Token is expired.", headers=challenge)
            versions = query.get("api-version")
            if not versions:
                return _kv_error(400, "BadParameter", "The api-version query parameter is missing.")
            if versions[0] not in API_VERSIONS:
                return _kv_error(400, "BadParameter", f"The specified version ({versions[0]}) is not recognized. "
                                 "Consider using the latest supported version (7.5).")
            segs = path.strip("/").split("/")
            if segs[0] != "secrets" or len(segs) not in (2, 3):
                return _kv_error(404, "NotFound", "The requested resource was not found.")
            name = segs[1]
            if not NAME_RE.match(name):
                return _kv_error(400, "BadParameter", f"The request URI contains an invalid name: {name}")
            if method == "GET":
                if name in kv.deny:
                    return self._forbidden("get", GET_ACTION, name)
                stored = kv.secrets.get(name)
                if not stored:
                    return _kv_error(404, "SecretNotFound",
                                     f"A secret with (name/id) {name} was not found in this key vault. If you "
                                     "recently deleted this secret you may be able to recover it using the correct "
                                     "recovery command. For help resolving this issue, please see "
                                     "https://go.microsoft.com/fwlink/?linkid=2125182")
                if len(segs) == 3:
                    match = [v for v in stored if v["id"].endswith("/" + segs[2])]
                    if not match:
                        return _kv_error(404, "SecretNotFound",
                                         f"A secret with (name/id) {name}/{segs[2]} was not found in this key vault.")
                    return 200, match[0], {}
                return 200, stored[-1], {}
            if method == "PUT" and len(segs) == 2:
                if name in kv.deny:
                    return self._forbidden("set", SET_ACTION, name)
                if not self.headers.get("Content-Type", "").startswith("application/json"):
                    return _kv_error(415, "UnsupportedMediaType", "The content type must be application/json.")
                try:
                    doc = json.loads(body)
                except ValueError:
                    return _kv_error(400, "BadParameter", "The request body is not valid JSON.")
                if not isinstance(doc, dict) or not isinstance(doc.get("value"), str):
                    return _kv_error(400, "BadParameter", "Property 'value' is required.")
                return 200, kv._new_version(name, doc["value"]), {}
            return _kv_error(405, "MethodNotAllowed", f"The requested method {method} is not allowed.")

        def _forbidden(self, op, action, name):
            return _kv_error(403, "Forbidden",
                             f"Caller is not authorized to perform action on resource.\r\nIf role assignments, deny "
                             f"assignments or role definitions were changed recently, please observe propagation "
                             f"time.\r\nCaller: appid={kv.client_id};iss=https://sts.windows.net/{kv.tenant}/\r\n"
                             f"Action: '{action}'\r\nResource: '/secrets/{name}'",
                             inner="ForbiddenByRbac")

    return Handler
