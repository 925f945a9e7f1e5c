"""The jwt auth method through hvac and raw HTTP, as Vault behaves.

One `coffer server -dev` for the module. Tokens are signed here with the `cryptography`
module (RSA 2048 and P-256 keys made per run); the jwks_url case is served by a local
`http.server` on a free port, whose key set the test rotates. Every JWT sent is remembered,
so the last test can check none ever reached the server's output.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from coffer_harness import error_text, make_self_signed_cert, mount_kv, put_policy, unique

ISSUER = "https://issuer.coffer.test"
SENT_JWTS: list[str] = []


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pub_pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def jwk(key, kid: str) -> dict:
    nums = key.public_key().public_numbers()
    if isinstance(key, rsa.RSAPrivateKey):
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": b64(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
                "e": b64(nums.e.to_bytes(3, "big"))}
    return {"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": b64(nums.x.to_bytes(32, "big")), "y": b64(nums.y.to_bytes(32, "big"))}


def sign(key, claims: dict, alg: str | None = None, kid: str | None = None) -> str:
    if alg is None:
        alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
    header = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    token = signing_input + "." + b64(sig)
    SENT_JWTS.append(token)
    return token


def claims(**overrides) -> dict:
    now = int(time.time())
    c = {"iss": ISSUER, "sub": "alice", "aud": "coffer", "iat": now - 5, "exp": now + 300,
         "email": "alice@example.com", "groups": ["dev", "ops"], "org": {"team": "blue"}}
    for k, v in overrides.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


@pytest.fixture(scope="module")
def keys():
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1()),
            "other": rsa.generate_private_key(public_exponent=65537, key_size=2048)}


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def mount(srv, root, keys):
    """A jwt mount verifying with static PEM keys, and a role `dev` with claim mappings."""
    path = unique("jwt")
    root.sys.enable_auth_method("jwt", path=path)
    root.auth.jwt.configure(jwt_validation_pubkeys=[pub_pem(keys["rsa"]), pub_pem(keys["ec"])],
                            bound_issuer=ISSUER, jwt_supported_algs=["RS256", "ES256"], path=path)
    kv = unique("jwt-kv")
    mount_kv(srv, kv)
    r = srv.http("POST", f"/v1/{kv}/app", token=srv.root_token, json={"v": "jwt-secret"})
    assert r.status_code == 204, r.text
    put_policy(srv, "jwt-dev", f'path "{kv}/*" {{ capabilities = ["read"] }}')
    root.auth.jwt.create_role(name="dev", role_type="jwt", user_claim="sub", allowed_redirect_uris=[],
                              bound_audiences=["coffer"], groups_claim="groups",
                              claim_mappings={"email": "email", "/org/team": "team"},
                              token_policies=["jwt-dev"], token_ttl="10m", path=path)
    return {"path": path, "kv": kv}


def login(srv, path, role, token):
    return srv.http("POST", f"/v1/auth/{path}/login", json={"role": role, "jwt": token})


def test_config_reads_back_and_rejects_bad_input(srv, root, mount, keys):
    cfg = root.auth.jwt.read_config(path=mount["path"])["data"]
    assert cfg["bound_issuer"] == ISSUER
    assert cfg["jwt_supported_algs"] == ["RS256", "ES256"]
    assert len(cfg["jwt_validation_pubkeys"]) == 2 and cfg["jwks_url"] == ""
    bad = [({"bound_issuer": "x"}, "exactly one of"),
           ({"jwt_validation_pubkeys": ["not a key"]}, "error parsing public key"),
           ({"jwt_validation_pubkeys": [pub_pem(keys["rsa"])], "jwt_supported_algs": ["HS256"]},
            "invalid jwt_supported_algs"),
           ({"oidc_discovery_url": "https://accounts.example"}, "not supported")]
    scratch = unique("jwt-bad")
    root.sys.enable_auth_method("jwt", path=scratch)
    for body, message in bad:
        r = srv.http("POST", f"/v1/auth/{scratch}/config", token=srv.root_token, json=body)
        assert r.status_code == 400, (body, r.text)
        assert message in error_text(r), r.text


def test_role_crud_and_validation(srv, root, mount):
    role = root.auth.jwt.read_role("dev", path=mount["path"])["data"]
    assert role["role_type"] == "jwt"
    assert role["bound_audiences"] == ["coffer"]
    assert role["claim_mappings"] == {"email": "email", "/org/team": "team"}
    assert role["token_policies"] == ["jwt-dev"] and role["token_ttl"] == 600
    assert role["clock_skew_leeway"] == 0 and role["expiration_leeway"] == 0
    assert "dev" in root.auth.jwt.list_roles(path=mount["path"])["data"]["keys"]
    base = f"/v1/auth/{mount['path']}/role/"
    r = srv.http("POST", base + "oidc", token=srv.root_token,
                 json={"role_type": "oidc", "user_claim": "sub", "allowed_redirect_uris": ["http://x"]})
    assert r.status_code == 400 and '"oidc"' in error_text(r), r.text
    r = srv.http("POST", base + "nobind", token=srv.root_token, json={"user_claim": "sub"})
    assert r.status_code == 400 and "at least one bound constraint" in error_text(r)
    r = srv.http("POST", base + "nouser", token=srv.root_token, json={"bound_subject": "x"})
    assert r.status_code == 400 and "user claim" in error_text(r)
    r = srv.http("POST", base + "tmp", token=srv.root_token, json={"user_claim": "sub", "bound_subject": "x"})
    assert r.status_code == 204, r.text
    assert srv.http("DELETE", base + "tmp", token=srv.root_token).status_code == 204
    assert srv.http("GET", base + "tmp", token=srv.root_token).status_code == 404


def test_login_gives_a_token_with_role_policies_and_metadata(srv, root, mount, keys):
    resp = root.auth.jwt.jwt_login(role="dev", jwt=sign(keys["rsa"], claims()), use_token=False,
                                   path=mount["path"])
    auth = resp["auth"]
    assert auth["client_token"]
    assert "jwt-dev" in auth["policies"] and "default" in auth["policies"]
    assert auth["metadata"] == {"role": "dev", "email": "alice@example.com", "team": "blue"}
    assert 0 < auth["lease_duration"] <= 600
    # The token works: it reads what the role's policy allows, nothing more.
    client = srv.client(auth["client_token"])
    assert client.read(f"{mount['kv']}/app")["data"]["v"] == "jwt-secret"
    me = client.auth.token.lookup_self()["data"]
    assert "alice" in me["display_name"]
    assert me["meta"]["role"] == "dev"
    # ES256 with the second configured key works too.
    r = login(srv, mount["path"], "dev", sign(keys["ec"], claims(sub="bob")))
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["metadata"]["role"] == "dev"


@pytest.mark.parametrize("case", [
    "expired", "wrong-audience", "missing-audience", "wrong-issuer", "bad-signature",
    "alg-none", "hs256-confusion", "unknown-role", "garbage", "future-nbf",
])
def test_login_refusals_name_the_problem_and_never_echo_the_jwt(srv, mount, keys, case):
    now = int(time.time())
    good = sign(keys["rsa"], claims())
    body_b64 = good.split(".")[1]
    tokens = {
        "expired": (sign(keys["rsa"], claims(exp=now - 3600, iat=now - 7200)), "token is expired"),
        "wrong-audience": (sign(keys["rsa"], claims(aud="someone-else")), "aud claim does not match"),
        "missing-audience": (sign(keys["rsa"], claims(aud=None)), "aud claim does not match"),
        "wrong-issuer": (sign(keys["rsa"], claims(iss="https://evil.test")), "invalid issuer"),
        "bad-signature": (sign(keys["other"], claims()), "no known key successfully validated"),
        "alg-none": (b64(b'{"alg":"none"}') + "." + body_b64 + ".", 'unsupported signing algorithm "none"'),
        "hs256-confusion": (b64(b'{"alg":"HS256"}') + "." + body_b64 + "." + b64(b"x" * 32),
                            'unsupported signing algorithm "HS256"'),
        "unknown-role": (good, "could not be found"),
        "garbage": ("not-a-jwt", "error parsing token"),
        "future-nbf": (sign(keys["rsa"], claims(nbf=now + 3600, exp=now + 7200)), "not valid yet"),
    }
    token, message = tokens[case]
    SENT_JWTS.append(token)
    role = "no-such-role" if case == "unknown-role" else "dev"
    r = login(srv, mount["path"], role, token)
    assert r.status_code == 400, r.text
    assert message in error_text(r), r.text
    assert token not in r.text and body_b64 not in r.text


def test_bound_claims_glob_and_groups(srv, root, mount, keys):
    path = mount["path"]
    r = srv.http("POST", f"/v1/auth/{path}/role/ci", token=srv.root_token, json={
        "role_type": "jwt", "user_claim": "/ctx/actor", "user_claim_json_pointer": True,
        "bound_audiences": "coffer", "bound_claims_type": "glob",
        "bound_claims": {"repository": "acme/*", "/ctx/ref": ["refs/heads/main", "refs/tags/v*"]},
        "groups_claim": "groups", "token_policies": "jwt-dev"})
    assert r.status_code == 204, r.text
    ok = sign(keys["rsa"], claims(repository="acme/api", ctx={"ref": "refs/tags/v1.2", "actor": "ci-bot"}))
    r = login(srv, path, "ci", ok)
    assert r.status_code == 200, r.text
    assert "jwt-dev" in r.json()["auth"]["policies"]
    lookup = srv.http("POST", "/v1/auth/token/lookup", token=srv.root_token,
                      json={"token": r.json()["auth"]["client_token"]}).json()["data"]
    assert "ci-bot" in lookup["display_name"]
    bad = sign(keys["rsa"], claims(repository="evil/api", ctx={"ref": "refs/heads/main", "actor": "x"}))
    r = login(srv, path, "ci", bad)
    assert r.status_code == 400 and 'claim "repository" does not match' in error_text(r), r.text
    bad = sign(keys["rsa"], claims(repository="acme/api", ctx={"ref": "refs/heads/dev", "actor": "x"}))
    r = login(srv, path, "ci", bad)
    assert r.status_code == 400 and 'claim "/ctx/ref"' in error_text(r), r.text


class JwksServer:
    """A local JWKS endpoint whose key set the test can replace; counts fetches."""

    def __init__(self, document: dict, tls_cert=None):
        self.document = document
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.fetches += 1
                body = json.dumps(outer.document).encode()
                self.send_response(200 if self.path == "/jwks" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls_cert[0]), str(tls_cert[1]))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_jwks_url_is_fetched_cached_and_refetched_for_a_new_kid(srv, root, keys):
    jwks = JwksServer({"keys": [jwk(keys["rsa"], "k1")]})
    try:
        path = unique("jwks")
        root.sys.enable_auth_method("jwt", path=path)
        root.auth.jwt.configure(jwks_url=jwks.url, bound_issuer=ISSUER, jwt_supported_algs=["RS256", "ES256"],
                                path=path)
        assert root.auth.jwt.read_config(path=path)["data"]["jwks_url"] == jwks.url
        root.auth.jwt.create_role(name="svc", role_type="jwt", user_claim="sub", allowed_redirect_uris=[],
                                  bound_audiences=["coffer"], path=path)
        before = jwks.fetches
        for _ in range(2):
            r = login(srv, path, "svc", sign(keys["rsa"], claims(), kid="k1"))
            assert r.status_code == 200, r.text
        assert jwks.fetches == before + 1  # cached after the first login
        # The issuer rotates: a new EC key under a new kid is picked up at once.
        jwks.document = {"keys": [jwk(keys["rsa"], "k1"), jwk(keys["ec"], "k2")]}
        r = login(srv, path, "svc", sign(keys["ec"], claims(), kid="k2"))
        assert r.status_code == 200, r.text
        assert jwks.fetches == before + 2
        # A kid nobody publishes is refused.
        r = login(srv, path, "svc", sign(keys["other"], claims(), kid="k3"))
        assert r.status_code == 400 and "no key with the token's kid" in error_text(r), r.text
        # An unreachable JWKS URL is refused at configuration time.
        r = srv.http("POST", f"/v1/auth/{path}/config", token=srv.root_token,
                     json={"jwks_url": jwks.url.replace("/jwks", "/missing")})
        assert r.status_code == 400 and "error checking jwks URL" in error_text(r), r.text
    finally:
        jwks.close()


def test_https_jwks_url_trusts_jwks_ca_pem(srv, root, keys, tmp_path):
    cert = make_self_signed_cert(tmp_path / "tls")
    jwks = JwksServer({"keys": [jwk(keys["rsa"], "k1")]}, tls_cert=cert)
    try:
        path = unique("jwks-tls")
        root.sys.enable_auth_method("jwt", path=path)
        # The self-signed certificate is not in the system store: refused without jwks_ca_pem.
        r = srv.http("POST", f"/v1/auth/{path}/config", token=srv.root_token, json={"jwks_url": jwks.url})
        assert r.status_code == 400 and "error checking jwks URL" in error_text(r), r.text
        r = srv.http("POST", f"/v1/auth/{path}/config", token=srv.root_token,
                     json={"jwks_url": jwks.url, "jwks_ca_pem": cert[0].read_text()})
        assert r.status_code == 204, r.text
        root.auth.jwt.create_role(name="svc", role_type="jwt", user_claim="email", allowed_redirect_uris=[],
                                  bound_audiences=["coffer"], path=path)
        r = login(srv, path, "svc", sign(keys["rsa"], claims(), kid="k1"))
        assert r.status_code == 200, r.text
        assert "alice@example.com" in srv.http("POST", "/v1/auth/token/lookup", token=srv.root_token, json={
            "token": r.json()["auth"]["client_token"]}).json()["data"]["display_name"]
    finally:
        jwks.close()


def test_local_jwks_document_and_default_role(srv, root, keys):
    path = unique("jwks-local")
    root.sys.enable_auth_method("jwt", path=path)
    r = srv.http("POST", f"/v1/auth/{path}/config", token=srv.root_token,
                 json={"jwks_json": {"keys": [jwk(keys["ec"], "local")]}, "jwt_supported_algs": ["ES256"],
                       "default_role": "app"})
    assert r.status_code == 204, r.text
    r = srv.http("POST", f"/v1/auth/{path}/role/app", token=srv.root_token,
                 json={"role_type": "jwt", "user_claim": "email", "bound_subject": "alice"})
    assert r.status_code == 204, r.text
    # No role in the request: the default role; "aud" present but none bound is refused (Vault's rule).
    r = srv.http("POST", f"/v1/auth/{path}/login", json={"jwt": sign(keys["ec"], claims(), kid="local")})
    assert r.status_code == 400 and "no audiences bound" in error_text(r), r.text
    r = srv.http("POST", f"/v1/auth/{path}/login", json={"jwt": sign(keys["ec"], claims(aud=None), kid="local")})
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["metadata"] == {"role": "app"}
    # RS256 is not in this mount's jwt_supported_algs.
    r = srv.http("POST", f"/v1/auth/{path}/login", json={"jwt": sign(keys["rsa"], claims(aud=None))})
    assert r.status_code == 400 and "jwt_supported_algs" in error_text(r), r.text


def test_no_jwt_reached_the_server_output(srv):
    out = srv.stdout_text() + srv.stderr_text()
    assert SENT_JWTS
    for token in SENT_JWTS:
        assert token not in out
        assert token.split(".")[-1] not in out or len(token.split(".")[-1]) < 8
