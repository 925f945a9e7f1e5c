"""The kubernetes auth method through hvac and raw HTTP, as Vault behaves.

One `coffer server -dev` for the module. Service-account JWTs are signed here with the
`cryptography` module, shaped like the tokens a cluster issues (legacy secret tokens and
projected tokens). A Kubernetes API server cannot run on this machine, so the TokenReview path
talks to a small local HTTPS test double that speaks the real wire format: POST
/apis/authentication.k8s.io/v1/tokenreviews with the reviewer's bearer token, a TokenReview
object in, a TokenReview with `status` (or a 401 Status) out.
"""

from __future__ import annotations

import base64
import datetime
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from coffer_harness import error_text, make_self_signed_cert, unique

SENT_JWTS: list[str] = []
REVIEWER_JWT = "reviewer-" + unique("jwt")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(key, claims: dict) -> str:
    header = {"alg": "RS256", "kid": "sa-key"}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    token = signing_input + "." + b64(sig)
    SENT_JWTS.append(token)
    return token


def legacy_claims(ns="apps", name="web", uid="uid-web-1") -> dict:
    return {"iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": ns,
            "kubernetes.io/serviceaccount/secret.name": f"{name}-token-abcde",
            "kubernetes.io/serviceaccount/service-account.name": name,
            "kubernetes.io/serviceaccount/service-account.uid": uid,
            "sub": f"system:serviceaccount:{ns}:{name}"}


def projected_claims(ns="apps", name="web", uid="uid-web-1", aud="coffer") -> dict:
    now = int(time.time())
    return {"aud": [aud], "exp": now + 600, "iat": now - 5, "nbf": now - 5,
            "iss": "https://kubernetes.default.svc.cluster.local",
            "kubernetes.io": {"namespace": ns, "pod": {"name": f"{name}-0", "uid": "pod-uid"},
                              "serviceaccount": {"name": name, "uid": uid}},
            "sub": f"system:serviceaccount:{ns}:{name}"}


def cert_for(key) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "service-account-signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class TokenReviewApi:
    """HTTPS test double of the TokenReview API. `accounts` maps a JWT to (namespace, name, uid)."""

    def __init__(self, tls_cert):
        self.accounts: dict[str, tuple[str, str, str]] = {}
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                review = json.loads(body)
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                       "content_type": self.headers.get("Content-Type"), "body": review})
                if self.path != "/apis/authentication.k8s.io/v1/tokenreviews":
                    return self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                            "message": "the server could not find the requested resource",
                                            "reason": "NotFound", "code": 404})
                if self.headers.get("Authorization") != f"Bearer {REVIEWER_JWT}" and \
                        self.headers.get("Authorization", "").removeprefix("Bearer ") not in outer.accounts:
                    return self.reply(401, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                            "status": "Failure", "message": "Unauthorized",
                                            "reason": "Unauthorized", "code": 401})
                token = review["spec"]["token"]
                status = {"user": {}}
                if token in outer.accounts:
                    ns, name, uid = outer.accounts[token]
                    status = {"authenticated": True,
                              "user": {"username": f"system:serviceaccount:{ns}:{name}", "uid": uid,
                                       "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}",
                                                  "system:authenticated"]},
                              "audiences": review["spec"].get("audiences") or ["https://kubernetes.default.svc"]}
                else:
                    status = {"user": {}, "error": "[invalid bearer token, token has been invalidated]"}
                self.reply(201, {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                                 "metadata": {"creationTimestamp": None}, "spec": review["spec"],
                                 "status": status})

            def reply(self, code, doc):
                data = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(tls_cert[0]), str(tls_cert[1]))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.host = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.ca_pem = tls_cert[0].read_text()
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def sa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = TokenReviewApi(make_self_signed_cert(tmp_path_factory.mktemp("k8s-tls")))
    yield server
    server.close()


def login(srv, path, role, token):
    return srv.http("POST", f"/v1/auth/{path}/login", json={"role": role, "jwt": token})


@pytest.fixture(scope="module")
def local_mount(root, sa_key):
    """Verification with pem_keys only: no TokenReview."""
    path = unique("k8s")
    root.sys.enable_auth_method("kubernetes", path=path)
    root.auth.kubernetes.configure("https://127.0.0.1:1", pem_keys=[cert_for(sa_key)], mount_point=path)
    root.auth.kubernetes.create_role("web", bound_service_account_names=["web", "batch-*"],
                                     bound_service_account_namespaces=["apps", "*-prod"],
                                     policies=["k8s-web"], ttl="15m", mount_point=path)
    return path


def test_config_and_role_read_back(root, local_mount, api, sa_key):
    cfg = root.auth.kubernetes.read_config(mount_point=local_mount)
    assert cfg["kubernetes_host"] == "https://127.0.0.1:1"
    assert cfg["token_reviewer_jwt_set"] is False
    assert cfg["disable_iss_validation"] is True and len(cfg["pem_keys"]) == 1
    role = root.auth.kubernetes.read_role("web", mount_point=local_mount)
    assert role["bound_service_account_names"] == ["web", "batch-*"]
    assert role["bound_service_account_namespaces"] == ["apps", "*-prod"]
    assert role["token_policies"] == ["k8s-web"] and role["token_ttl"] == 900
    assert role["alias_name_source"] == "serviceaccount_uid"
    assert "web" in root.auth.kubernetes.list_roles(mount_point=local_mount)["keys"]


def test_config_and_role_refusals(srv, root):
    path = unique("k8s-bad")
    root.sys.enable_auth_method("kubernetes", path=path)
    base = f"/v1/auth/{path}/"
    cases = [("config", {"kubernetes_ca_cert": "x"}, "no host provided"),
             ("config", {"kubernetes_host": "https://k", "kubernetes_ca_cert": "junk"}, "no valid certificates"),
             ("config", {"kubernetes_host": "https://k", "pem_keys": ["junk"]}, "pem_keys"),
             ("role/r", {"bound_service_account_namespaces": ["a"]}, '"bound_service_account_names" can not be empty'),
             ("role/r", {"bound_service_account_names": ["a"]}, '"bound_service_account_namespaces" can not be empty'),
             ("role/r", {"bound_service_account_names": ["*", "a"], "bound_service_account_namespaces": ["a"]},
              'can not mix "*" with values'),
             ("role/r", {"bound_service_account_names": ["a"], "bound_service_account_namespaces": ["a"],
                         "alias_name_source": "pod"}, "invalid alias_name_source")]
    for sub, body, message in cases:
        r = srv.http("POST", base + sub, token=srv.root_token, json=body)
        assert r.status_code == 400, (sub, body, r.text)
        assert message in error_text(r), r.text


def test_login_with_pem_keys(srv, root, local_mount, sa_key):
    resp = root.auth.kubernetes.login("web", sign(sa_key, legacy_claims()), use_token=False,
                                      mount_point=local_mount)
    auth = resp["auth"]
    assert auth["client_token"] and "k8s-web" in auth["policies"]
    assert auth["metadata"] == {"role": "web", "service_account_name": "web",
                                "service_account_namespace": "apps", "service_account_uid": "uid-web-1",
                                "service_account_secret_name": "web-token-abcde"}
    assert 0 < auth["lease_duration"] <= 900
    me = srv.client(auth["client_token"]).auth.token.lookup_self()["data"]
    assert "apps-web" in me["display_name"]
    # A projected token in a glob-matched namespace, with a glob-matched name.
    r = login(srv, local_mount, "web", sign(sa_key, projected_claims("team-prod", "batch-7", "uid-b7")))
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["metadata"]["service_account_uid"] == "uid-b7"
    assert r.json()["auth"]["metadata"]["service_account_secret_name"] == ""


@pytest.mark.parametrize("case", ["namespace", "name", "signer", "expired", "garbage"])
def test_login_refusals(srv, local_mount, sa_key, case):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048) if case == "signer" else None
    now = int(time.time())
    expired = projected_claims()
    expired.update(exp=now - 3600, iat=now - 7200, nbf=now - 7200)
    token, message = {
        "namespace": (sign(sa_key, legacy_claims(ns="kube-system")), "namespace not authorized"),
        "name": (sign(sa_key, legacy_claims(name="db")), "service account name not authorized"),
        "signer": (sign(other, legacy_claims()) if other else "", "permission denied"),
        "expired": (sign(sa_key, expired), "token is expired"),
        "garbage": ("x.y", "malformed JWT"),
    }[case]
    r = login(srv, local_mount, "web", token)
    assert r.status_code == 403, r.text
    assert message in error_text(r), r.text
    assert token not in r.text


def test_token_review_with_reviewer_jwt(srv, root, api, sa_key):
    path = unique("k8s-tr")
    root.sys.enable_auth_method("kubernetes", path=path)
    root.auth.kubernetes.configure(api.host, kubernetes_ca_cert=api.ca_pem, token_reviewer_jwt=REVIEWER_JWT,
                                   mount_point=path)
    assert root.auth.kubernetes.read_config(mount_point=path)["token_reviewer_jwt_set"] is True
    r = srv.http("POST", f"/v1/auth/{path}/role/web", token=srv.root_token,
                 json={"bound_service_account_names": "web", "bound_service_account_namespaces": "apps",
                       "audience": "coffer", "alias_name_source": "serviceaccount_name",
                       "token_policies": "k8s-web"})
    assert r.status_code == 204, r.text
    token = sign(sa_key, projected_claims())  # no pem_keys: the cluster vouches for the token
    api.accounts[token] = ("apps", "web", "uid-web-1")
    before = len(api.requests)
    r = login(srv, path, "web", token)
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["metadata"]["service_account_name"] == "web"
    assert len(api.requests) == before + 1
    seen = api.requests[-1]
    assert seen["auth"] == f"Bearer {REVIEWER_JWT}"
    assert seen["content_type"] == "application/json"
    assert seen["body"]["apiVersion"] == "authentication.k8s.io/v1" and seen["body"]["kind"] == "TokenReview"
    assert seen["body"]["spec"] == {"token": token, "audiences": ["coffer"]}

    # The cluster no longer knows the token (deleted service account): refused.
    revoked = sign(sa_key, projected_claims(uid="uid-gone"))
    r = login(srv, path, "web", revoked)
    assert r.status_code == 403 and "lookup failed" in error_text(r), r.text
    # The cluster names a different account than the JWT claims.
    liar = sign(sa_key, projected_claims(uid="uid-claimed"))
    api.accounts[liar] = ("apps", "web", "uid-actual")
    r = login(srv, path, "web", liar)
    assert r.status_code == 403 and "UIDs did not match" in error_text(r), r.text
    # The role's audience binding applies before any review.
    r = login(srv, path, "web", sign(sa_key, projected_claims(aud="someone-else")))
    assert r.status_code == 403 and "audience" in error_text(r), r.text
    # A reviewer token the cluster rejects.
    root.auth.kubernetes.configure(api.host, kubernetes_ca_cert=api.ca_pem, token_reviewer_jwt="stale-reviewer",
                                   mount_point=path)
    r = login(srv, path, "web", token)
    assert r.status_code == 403 and "service account unauthorized" in error_text(r), r.text
    assert "stale-reviewer" not in r.text and REVIEWER_JWT not in r.text


def test_token_review_without_reviewer_uses_the_login_jwt(srv, root, api, sa_key):
    path = unique("k8s-self")
    root.sys.enable_auth_method("kubernetes", path=path)
    r = srv.http("POST", f"/v1/auth/{path}/config", token=srv.root_token,
                 json={"kubernetes_host": api.host, "kubernetes_ca_cert": api.ca_pem, "disable_local_ca_jwt": True})
    assert r.status_code == 204, r.text
    r = srv.http("POST", f"/v1/auth/{path}/role/any", token=srv.root_token,
                 json={"bound_service_account_names": "*", "bound_service_account_namespaces": "*"})
    assert r.status_code == 204, r.text
    token = sign(sa_key, legacy_claims(ns="ops", name="agent", uid="uid-agent"))
    api.accounts[token] = ("ops", "agent", "uid-agent")
    r = login(srv, path, "any", token)
    assert r.status_code == 200, r.text
    assert api.requests[-1]["auth"] == f"Bearer {token}"
    # Without a CA, the double's self-signed certificate is not trusted: refused, not a crash.
    r = srv.http("POST", f"/v1/auth/{path}/config", token=srv.root_token,
                 json={"kubernetes_host": api.host, "disable_local_ca_jwt": True})
    assert r.status_code == 204, r.text
    r = login(srv, path, "any", token)
    assert r.status_code == 403 and "lookup failed" in error_text(r), r.text


def test_no_jwt_reached_the_server_output(srv):
    out = srv.stdout_text() + srv.stderr_text()
    assert SENT_JWTS
    for token in SENT_JWTS + [REVIEWER_JWT]:
        assert token not in out
