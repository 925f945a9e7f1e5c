"""The userpass auth method through hvac and raw HTTP, as Vault behaves.

One `coffer server -dev` for the module with userpass enabled at a unique path; every test names
its own users and policies, so tests never depend on each other. Passwords used here are unique
strings, so the last test can check none of them ever reached the server's output.

Run time is dominated by the brute-force test: 1,000 scrypt hashes of ~35 ms CPU each on the
server, about 18 s on an idle 2-core machine, much longer when other work shares the cores.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import hvac
import pytest

from coffer_harness import error_list, mount_kv, new_session, put_policy, unique

PASSWORDS: list[str] = []  # every password sent to the server, checked against its logs at the end


def pw(label: str = "pw") -> str:
    p = unique(f"Pass-{label}")
    PASSWORDS.append(p)
    return p


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def mount(srv, root):
    path = unique("up")
    root.sys.enable_auth_method("userpass", path=path)
    return path


@pytest.fixture(scope="module")
def kv(srv):
    """A KV v1 mount with one secret, and a policy that may read it."""
    mount = unique("up-kv")
    mount_kv(srv, mount)
    r = srv.http("POST", f"/v1/{mount}/app", token=srv.root_token, json={"v": "secret-value"})
    assert r.status_code == 204, r.text
    reader = unique("up-reader")
    put_policy(srv, reader, f'path "{mount}/*" {{ capabilities = ["read"] }}')
    return {"mount": mount, "reader": reader}


def login(srv, mount, name, password, **kwargs):
    return srv.http("POST", f"/v1/auth/{mount}/login/{name}", json={"password": password}, **kwargs)


def create_user(srv, mount, name, password, **fields):
    r = srv.http("POST", f"/v1/auth/{mount}/users/{name}", token=srv.root_token,
                 json={"password": password, **fields})
    assert r.status_code == 204, f"{r.status_code} {r.text}"


DEFAULT_READ = {
    "token_bound_cidrs": [], "token_explicit_max_ttl": 0, "token_max_ttl": 0,
    "token_no_default_policy": False, "token_num_uses": 0, "token_period": 0,
    "token_policies": [], "token_ttl": 0, "token_type": "default",
}


# ---- mount ----------------------------------------------------------------------------

def test_enabled_method_is_listed(root, mount):
    methods = root.sys.list_auth_methods()["data"]
    assert methods[f"{mount}/"]["type"] == "userpass"
    assert methods[f"{mount}/"]["accessor"].startswith("auth_userpass_")


# ---- users/ ---------------------------------------------------------------------------

def test_user_crud_through_hvac(srv, root, mount):
    name = unique("crud")
    r = root.auth.userpass.create_or_update_user(name, password=pw(), policies=["Dev", "ops"],
                                                 mount_point=mount)
    assert r.status_code == 204
    data = root.auth.userpass.read_user(name, mount_point=mount)["data"]
    # hvac sends the deprecated "policies": it sets token_policies and shows on read.
    assert data == {**DEFAULT_READ, "token_policies": ["dev", "ops"], "policies": ["dev", "ops"]}
    assert name in root.auth.userpass.list_user(mount_point=mount)["data"]["keys"]

    root.auth.userpass.create_or_update_user(name, mount_point=mount, token_ttl="1h",
                                             token_policies=["dev"])
    data = root.auth.userpass.read_user(name, mount_point=mount)["data"]
    assert data["token_ttl"] == 3600 and data["token_policies"] == ["dev"]
    assert "policies" not in data and "password" not in data

    assert root.auth.userpass.delete_user(name, mount_point=mount).status_code == 204
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.auth.userpass.read_user(name, mount_point=mount)
    assert name not in srv.http("LIST", f"/v1/auth/{mount}/users", token=srv.root_token).text


def test_every_token_field_reads_back(srv, mount):
    name = unique("fields")
    create_user(srv, mount, name, pw(), token_policies="b,a", token_ttl="30m", token_max_ttl=7200,
                token_explicit_max_ttl="3h", token_period="1h", token_num_uses=4,
                token_bound_cidrs=["10.0.0.0/8", "127.0.0.1"], token_no_default_policy=True,
                token_type="service")
    r = srv.http("GET", f"/v1/auth/{mount}/users/{name}", token=srv.root_token)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {
        "token_bound_cidrs": ["10.0.0.0/8", "127.0.0.1/32"], "token_explicit_max_ttl": 10800,
        "token_max_ttl": 7200, "token_no_default_policy": True, "token_num_uses": 4,
        "token_period": 3600, "token_policies": ["a", "b"], "token_ttl": 1800, "token_type": "service",
    }


def test_deprecated_aliases(srv, mount):
    name = unique("old")
    create_user(srv, mount, name, pw(), policies="x", ttl=60, max_ttl="2m", bound_cidrs="127.0.0.1/32")
    data = srv.http("GET", f"/v1/auth/{mount}/users/{name}", token=srv.root_token).json()["data"]
    assert data["token_policies"] == data["policies"] == ["x"]
    assert data["token_ttl"] == data["ttl"] == 60
    assert data["token_max_ttl"] == data["max_ttl"] == 120
    assert data["token_bound_cidrs"] == data["bound_cidrs"] == ["127.0.0.1/32"]


def test_names_are_lower_cased(srv, root, mount):
    name = "MiXeD-" + unique("case")
    password = pw()
    root.auth.userpass.create_or_update_user(name, password=password, mount_point=mount)
    assert name.lower() in root.auth.userpass.list_user(mount_point=mount)["data"]["keys"]
    assert name not in root.auth.userpass.list_user(mount_point=mount)["data"]["keys"]
    r = login(srv, mount, name.upper(), password)
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["metadata"] == {"username": name.lower()}


def test_list_without_users_is_404(srv, root):
    path = unique("up-empty")
    root.sys.enable_auth_method("userpass", path=path)
    r = srv.http("LIST", f"/v1/auth/{path}/users", token=srv.root_token)
    assert r.status_code == 404 and error_list(r) == []


def test_user_endpoints_need_a_token(srv, mount):
    name = unique("noauth")
    for method, path, body in [("POST", f"users/{name}", {"password": "x"}), ("GET", f"users/{name}", None),
                               ("LIST", "users", None), ("DELETE", f"users/{name}", None),
                               ("POST", f"users/{name}/password", {"password": "x"}),
                               ("POST", f"users/{name}/policies", {"token_policies": "root"})]:
        r = srv.http(method, f"/v1/auth/{mount}/{path}", json=body)
        assert r.status_code == 403, f"{method} {path}: {r.status_code} {r.text}"


def test_bad_input_is_400_naming_the_field(srv, mount):
    name = unique("bad")
    create_user(srv, mount, name, pw())
    for path, body, needle in [
        (f"users/{unique('nopw')}", {}, "missing password"),
        (f"users/{unique('nopw')}", {"password": ""}, "missing password"),
        (f"users/{name}", {"token_ttl": "soon"}, '"token_ttl"'),
        (f"users/{name}", {"ttl": "soon"}, '"ttl"'),
        (f"users/{name}", {"token_bound_cidrs": "nope"}, '"token_bound_cidrs"'),
        (f"users/{name}", {"token_type": "batch"}, '"token_type"'),
        (f"users/{name}", {"token_ttl": 100, "token_max_ttl": 10}, "'token_ttl'"),
        ("users/-dash", {"password": "x"}, '"username"'),
        (f"users/{name}/password", {"password": ""}, "missing password"),
        (f"users/{unique('ghost')}/password", {"password": "x"}, "username does not exist"),
        (f"users/{unique('ghost')}/policies", {"token_policies": "a"}, "username does not exist"),
    ]:
        r = srv.http("POST", f"/v1/auth/{mount}/{path}", token=srv.root_token, json=body)
        assert r.status_code == 400, f"{path} {body}: {r.status_code} {r.text}"
        assert needle in " ".join(error_list(r)), f"{path} {body}: {r.text}"


# ---- users/:name/password and users/:name/policies -----------------------------------

def test_password_change(srv, root, mount):
    name, old, new = unique("chg"), pw("old"), pw("new")
    root.auth.userpass.create_or_update_user(name, password=old, mount_point=mount)
    r = root.auth.userpass.update_password_on_user(name, new, mount_point=mount)
    assert r.status_code == 204
    assert login(srv, mount, name, old).status_code == 400
    assert login(srv, mount, name, new).status_code == 200


def test_policies_endpoint(srv, mount):
    name, password = unique("pol"), pw()
    create_user(srv, mount, name, password, token_policies="a")
    r = srv.http("POST", f"/v1/auth/{mount}/users/{name}/policies", token=srv.root_token,
                 json={"token_policies": "p2,p1"})
    assert r.status_code == 204, r.text
    data = srv.http("GET", f"/v1/auth/{mount}/users/{name}", token=srv.root_token).json()["data"]
    assert data["token_policies"] == ["p1", "p2"] and "policies" not in data
    r = srv.http("POST", f"/v1/auth/{mount}/users/{name}/policies", token=srv.root_token,
                 json={"policies": ["legacy"]})
    assert r.status_code == 204, r.text
    data = srv.http("GET", f"/v1/auth/{mount}/users/{name}", token=srv.root_token).json()["data"]
    assert data["token_policies"] == data["policies"] == ["legacy"]
    auth = login(srv, mount, name, password).json()["auth"]
    assert auth["policies"] == ["default", "legacy"]


# ---- login ----------------------------------------------------------------------------

def test_login_token_works_and_carries_the_policies(srv, mount, kv):
    name, password = unique("alice"), pw()
    create_user(srv, mount, name, password, token_policies=[kv["reader"]], token_ttl="1h")
    client = srv.client()
    resp = client.auth.userpass.login(name, password, mount_point=mount)
    auth = resp["auth"]
    assert auth["client_token"] and client.token == auth["client_token"]
    assert auth["policies"] == sorted(["default", kv["reader"]])
    assert auth["token_policies"] == sorted(["default", kv["reader"]])
    assert auth["metadata"] == {"username": name}
    assert auth["lease_duration"] == 3600
    assert auth["renewable"] is True
    assert auth["orphan"] is True
    assert auth["token_type"] == "service"

    # The token reads what its policy allows, and nothing else.
    assert client.read(f"{kv['mount']}/app")["data"] == {"v": "secret-value"}
    r = srv.http("POST", f"/v1/{kv['mount']}/app", token=auth["client_token"], json={"v": "x"})
    assert r.status_code == 403
    r = srv.http("GET", f"/v1/auth/{mount}/users/{name}", token=auth["client_token"])
    assert r.status_code == 403

    me = client.auth.token.lookup_self()["data"]
    assert me["display_name"] == f"{mount}-{name}"
    assert me["path"] == f"auth/{mount}/login/{name}"
    assert me["meta"] == {"username": name}
    assert me["orphan"] is True


def test_no_default_policy(srv, mount):
    name, password = unique("nodef"), pw()
    create_user(srv, mount, name, password, token_policies="only", token_no_default_policy=True)
    auth = login(srv, mount, name, password).json()["auth"]
    assert auth["policies"] == ["only"]


def test_negative_logins(srv, mount):
    name, password = unique("neg"), pw()
    create_user(srv, mount, name, password)
    wrong = login(srv, mount, name, pw("wrong"))
    unknown = login(srv, mount, unique("nobody"), pw("wrong"))
    bad_name = login(srv, mount, "-bad-", pw("wrong"))
    for r in (wrong, unknown, bad_name):
        assert r.status_code == 400, r.text
        assert error_list(r) == ["invalid username or password"]
    assert wrong.content == unknown.content == bad_name.content

    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid username or password"):
        srv.client().auth.userpass.login(name, pw("wrong"), mount_point=mount)

    r = srv.http("POST", f"/v1/auth/{mount}/login/{name}", json={})
    assert r.status_code == 400 and error_list(r) == ["missing password"]
    r = srv.http("GET", f"/v1/auth/{mount}/login/{name}")
    assert r.status_code == 405, r.text
    # A failed login leaves the user able to log in.
    assert login(srv, mount, name, password).status_code == 200


def test_bound_cidrs(srv, mount):
    away, here, password = unique("away"), unique("here"), pw()
    create_user(srv, mount, away, password, token_bound_cidrs="10.0.0.0/8")
    create_user(srv, mount, here, password, token_bound_cidrs="127.0.0.0/8")
    r = login(srv, mount, away, password)
    assert r.status_code == 403, r.text
    assert login(srv, mount, away, pw("wrong")).status_code == 400
    r = login(srv, mount, here, password)
    assert r.status_code == 200, r.text
    token = r.json()["auth"]["client_token"]
    r = srv.http("GET", "/v1/auth/token/lookup-self", token=token)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["bound_cidrs"] == ["127.0.0.0/8"]


def http_from(srv, source_ip, method, path, body=None, token=None):
    """A request from another loopback address (Linux routes all of 127.0.0.0/8 locally)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30, source_address=(source_ip, 0))
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Vault-Token"] = token
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_bound_cidrs_from_two_addresses(srv, mount):
    """Bound to 127.0.0.2: login and token use work from there, not from 127.0.0.1."""
    name, password = unique("bound"), pw()
    create_user(srv, mount, name, password, token_bound_cidrs="127.0.0.2/32")
    status, _ = http_from(srv, "127.0.0.1", "POST", f"/v1/auth/{mount}/login/{name}", {"password": password})
    assert status == 403
    status, body = http_from(srv, "127.0.0.2", "POST", f"/v1/auth/{mount}/login/{name}", {"password": password})
    assert status == 200, body
    token = json.loads(body)["auth"]["client_token"]
    status, _ = http_from(srv, "127.0.0.2", "GET", "/v1/auth/token/lookup-self", token=token)
    assert status == 200
    status, _ = http_from(srv, "127.0.0.1", "GET", "/v1/auth/token/lookup-self", token=token)
    assert status == 403


def test_failure_timing_does_not_reveal_users(srv, mount):
    """Unknown user and wrong password cost the same (both hash); medians within 3x."""
    name = unique("timing")
    create_user(srv, mount, name, pw())
    session = new_session()
    url = f"{srv.url}/v1/auth/{mount}/login/"

    def one(user):
        start = time.perf_counter()
        r = session.post(url + user, json={"password": "wrong-timing-pw"}, timeout=30)
        elapsed = time.perf_counter() - start
        assert r.status_code == 400
        return elapsed

    one(name)  # warm the connection
    known, unknown = [], []
    for i in range(30):  # interleaved, so load changes hit both series alike
        known.append(one(name))
        unknown.append(one(f"ghost-{i}"))
    mk, mu = statistics.median(known), statistics.median(unknown)
    print(f"\nlogin failure medians: wrong password {mk * 1000:.1f} ms, unknown user {mu * 1000:.1f} ms")
    assert max(mk, mu) < 3 * min(mk, mu), (mk, mu)


def test_brute_force_leaves_server_responsive(srv, mount, kv):
    name, password = unique("target"), pw()
    create_user(srv, mount, name, password)
    local = threading.local()

    def attempt(i):
        s = getattr(local, "session", None)
        if s is None:
            s = local.session = new_session()
        r = s.post(f"{srv.url}/v1/auth/{mount}/login/{name}", json={"password": f"guess-{i}"}, timeout=60)
        return r.status_code, r.content

    def kv_read_seconds():
        t = time.monotonic()
        r = srv.http("GET", f"/v1/{kv['mount']}/app", token=srv.root_token, timeout=10)
        assert r.status_code == 200, r.text
        return time.monotonic() - t

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(attempt, i) for i in range(1000)]
        # Reads keep being served while the guesses queue for scrypt.
        during = []
        for _ in range(5):
            time.sleep(0.3)
            during.append(kv_read_seconds())
        results = [f.result() for f in futures]
    elapsed = time.monotonic() - start
    print(f"\n1000 wrong logins with 4 threads: {elapsed:.1f} s; "
          f"KV reads meanwhile: max {max(during) * 1000:.0f} ms")
    assert max(during) < 5, during
    assert {status for status, _ in results} == {400}
    bodies = {body for _, body in results}
    assert len(bodies) == 1, bodies
    assert bodies.pop() == login(srv, mount, unique("ghost"), "guess").content

    assert kv_read_seconds() < 2
    assert login(srv, mount, name, password).status_code == 200


def test_passwords_never_reach_the_output(srv, mount):
    name, password = unique("logs"), pw()
    create_user(srv, mount, name, password)
    assert login(srv, mount, name, password).status_code == 200
    assert login(srv, mount, name, pw("wrong")).status_code == 400
    assert login(srv, mount, unique("ghost"), pw("wrong")).status_code == 400
    out = srv.output_bytes()
    for p in PASSWORDS:
        assert p.encode() not in out
