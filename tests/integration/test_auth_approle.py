"""The AppRole auth method (auth/<path>/...) through hvac's client.auth.approle and raw HTTP.

One `coffer server -dev` for the module with AppRole enabled at a unique path; every test names
its own roles, so tests never depend on each other.
"""

from __future__ import annotations

import json
import re
import time

import hvac
import pytest

from coffer_harness import error_text, mount_kv, put_policy, unique

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
INVALID = {"errors": ["invalid role or secret ID"]}


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def mount(srv, root):
    path = unique("approle")
    root.sys.enable_auth_method("approle", path=path)
    return path


@pytest.fixture(scope="module")
def kv(srv):
    """A KV v1 mount with one secret, and a policy that may read it."""
    path = unique("ar-kv")
    mount_kv(srv, path)
    r = srv.http("POST", f"/v1/{path}/app", token=srv.root_token, json={"v": "s3cret"})
    assert r.status_code == 204, r.text
    reader = unique("ar-reader")
    put_policy(srv, reader, f'path "{path}/*" {{ capabilities = ["read"] }}')
    return {"mount": path, "reader": reader}


def api(srv, method, mount, path, token=None, **kw):
    return srv.http(method, f"/v1/auth/{mount}/{path}", token=token, **kw)


def make_role(root, mount, **kw):
    name = unique("role")
    root.auth.approle.create_or_update_approle(name, mount_point=mount, **kw)
    role_id = root.auth.approle.read_role_id(name, mount_point=mount)["data"]["role_id"]
    return name, role_id


def login(srv, mount, role_id, secret_id=None):
    body = {"role_id": role_id}
    if secret_id is not None:
        body["secret_id"] = secret_id
    return api(srv, "POST", mount, "login", json=body)


# ---- mounting ---------------------------------------------------------------------------------

def test_enabled_through_sys_auth(root, mount):
    methods = root.sys.list_auth_methods()["data"]
    assert methods[mount + "/"]["type"] == "approle"


# ---- roles --------------------------------------------------------------------------------------

def test_role_create_read_list_delete(srv, root, mount):
    name = unique("Crud")  # names are case-insensitive: stored lower-case
    root.auth.approle.create_or_update_approle(
        name, token_policies=["dev", "ops"], token_ttl="1h", token_max_ttl=7200,
        secret_id_num_uses=5, secret_id_ttl="10m", secret_id_bound_cidrs=["127.0.0.0/8"],
        mount_point=mount)
    data = root.auth.approle.read_role(name.lower(), mount_point=mount)["data"]
    assert data == {
        "bind_secret_id": True,
        "local_secret_ids": False,
        "secret_id_bound_cidrs": ["127.0.0.0/8"],
        "secret_id_num_uses": 5,
        "secret_id_ttl": 600,
        "token_bound_cidrs": [],
        "token_explicit_max_ttl": 0,
        "token_max_ttl": 7200,
        "token_no_default_policy": False,
        "token_num_uses": 0,
        "token_period": 0,
        "token_policies": ["dev", "ops"],
        "token_ttl": 3600,
        "token_type": "default",
    }
    assert name.lower() in root.auth.approle.list_roles(mount_point=mount)["data"]["keys"]

    # The deprecated names map as in Vault: `policies` sets both and shows on reads.
    root.auth.approle.create_or_update_approle(name, mount_point=mount)  # no-op update
    r = api(srv, "POST", mount, f"role/{name}", srv.root_token, json={"policies": "legacy"})
    assert r.status_code == 204, r.text
    data = root.auth.approle.read_role(name, mount_point=mount)["data"]
    assert data["policies"] == ["legacy"] and data["token_policies"] == ["legacy"]
    assert data["token_ttl"] == 3600  # untouched fields are kept

    root.auth.approle.delete_role(name, mount_point=mount)
    r = api(srv, "GET", mount, f"role/{name}", srv.root_token)
    assert r.status_code == 404 and r.json() == {"errors": []}
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.auth.approle.read_role(name, mount_point=mount)


def test_role_bad_input_is_400(srv, mount):
    cases = [
        ({"token_ttl": "30x"}, "token_ttl"),
        ({"secret_id_num_uses": -1}, "secret_id_num_uses cannot be negative"),
        ({"secret_id_bound_cidrs": "10.0.0.0/33"}, 'field "secret_id_bound_cidrs"'),
        ({"bind_secret_id": False}, "at least one constraint should be enabled on the role"),
        ({"token_ttl": 100, "token_max_ttl": 10}, "'token_ttl' cannot be greater than 'token_max_ttl'"),
    ]
    name = unique("bad")
    for body, text in cases:
        r = api(srv, "POST", mount, f"role/{name}", srv.root_token, json=body)
        assert r.status_code == 400, (body, r.text)
        assert text in error_text(r), (body, r.text)
    assert api(srv, "GET", mount, f"role/{name}", srv.root_token).status_code == 404


def test_role_id_is_a_uuid_and_unique(srv, root, mount):
    a, a_id = make_role(root, mount)
    b, _ = make_role(root, mount)
    assert UUID.match(a_id)
    custom = unique("rid")
    root.auth.approle.update_role_id(a, custom, mount_point=mount)
    assert root.auth.approle.read_role_id(a, mount_point=mount)["data"]["role_id"] == custom
    r = api(srv, "POST", mount, f"role/{b}/role-id", srv.root_token, json={"role_id": custom})
    assert r.status_code == 400 and error_text(r) == "role_id already in use", r.text
    assert login(srv, mount, a_id, "anything").json() == INVALID  # the old role_id is gone


def test_per_field_role_endpoints(srv, root, mount):
    name, _ = make_role(root, mount, token_ttl=60, token_max_ttl=120)
    for suffix, body, key, value in [
            ("policies", {"token_policies": "a,b"}, "token_policies", ["a", "b"]),
            ("secret-id-num-uses", {"secret_id_num_uses": 3}, "secret_id_num_uses", 3),
            ("secret-id-ttl", {"secret_id_ttl": "5m"}, "secret_id_ttl", 300),
            ("token-ttl", {"token_ttl": 90}, "token_ttl", 90),
            ("token-bound-cidrs", {"token_bound_cidrs": "10.0.0.0/8"}, "token_bound_cidrs", ["10.0.0.0/8"]),
            ("period", {"token_period": "1h"}, "token_period", 3600)]:
        r = api(srv, "POST", mount, f"role/{name}/{suffix}", srv.root_token, json=body)
        assert r.status_code == 204, (suffix, r.text)
        r = api(srv, "GET", mount, f"role/{name}/{suffix}", srv.root_token)
        assert r.status_code == 200 and r.json()["data"][key] == value, (suffix, r.text)
    assert api(srv, "DELETE", mount, f"role/{name}/token-bound-cidrs", srv.root_token).status_code == 204
    data = root.auth.approle.read_role(name, mount_point=mount)["data"]
    assert data["token_bound_cidrs"] == [] and data["token_ttl"] == 90 and data["secret_id_num_uses"] == 3
    r = api(srv, "POST", mount, f"role/{name}/token-ttl", srv.root_token, json={"token_ttl": 500})
    assert r.status_code == 400 and error_text(r) == "token_ttl should not be greater than token_max_ttl"


# ---- secret IDs -------------------------------------------------------------------------------

def test_secret_id_generate_list_lookup_destroy(srv, root, mount):
    name, role_id = make_role(root, mount, secret_id_ttl="1h", secret_id_num_uses=10)
    gen = root.auth.approle.generate_secret_id(name, metadata={"team": "blue"},
                                               cidr_list=["127.0.0.0/8"], mount_point=mount)["data"]
    assert set(gen) == {"secret_id", "secret_id_accessor", "secret_id_ttl", "secret_id_num_uses"}
    assert UUID.match(gen["secret_id"]) and UUID.match(gen["secret_id_accessor"])
    assert gen["secret_id_ttl"] == 3600 and gen["secret_id_num_uses"] == 10
    other = root.auth.approle.generate_secret_id(name, mount_point=mount)["data"]

    keys = root.auth.approle.list_secret_id_accessors(name, mount_point=mount)["data"]["keys"]
    assert sorted(keys) == sorted([gen["secret_id_accessor"], other["secret_id_accessor"]])

    info = root.auth.approle.read_secret_id(name, gen["secret_id"], mount_point=mount)["data"]
    assert info["secret_id_accessor"] == gen["secret_id_accessor"]
    assert info["metadata"] == {"team": "blue"}
    assert info["cidr_list"] == ["127.0.0.0/8"] and info["token_bound_cidrs"] == []
    assert info["secret_id_num_uses"] == 10 and info["secret_id_ttl"] == 3600
    assert info["creation_time"].endswith("Z") and info["expiration_time"] > info["creation_time"]
    by_acc = root.auth.approle.read_secret_id_accessor(name, gen["secret_id_accessor"], mount_point=mount)
    assert by_acc["data"] == info

    root.auth.approle.destroy_secret_id(name, gen["secret_id"], mount_point=mount)
    r = api(srv, "POST", mount, f"role/{name}/secret-id/lookup", srv.root_token,
            json={"secret_id": gen["secret_id"]})
    assert r.status_code == 204, r.text
    root.auth.approle.destroy_secret_id_accessor(name, other["secret_id_accessor"], mount_point=mount)
    r = api(srv, "POST", mount, f"role/{name}/secret-id-accessor/lookup", srv.root_token,
            json={"secret_id_accessor": other["secret_id_accessor"]})
    assert r.status_code == 404
    assert error_text(r) == ('failed to find accessor entry for secret_id_accessor: "'
                             + other["secret_id_accessor"] + '"')
    r = api(srv, "LIST", mount, f"role/{name}/secret-id", srv.root_token)
    assert r.status_code == 404
    assert login(srv, mount, role_id, other["secret_id"]).json() == INVALID


def test_custom_secret_id_and_limits(srv, root, mount):
    name, role_id = make_role(root, mount, secret_id_num_uses=2, secret_id_ttl=600)
    r = api(srv, "POST", mount, f"role/{name}/custom-secret-id", srv.root_token,
            json={"secret_id": "chosen-" + unique(), "metadata": '{"env": "ci"}'})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["secret_id_num_uses"] == 2
    for body, text in [({"num_uses": 3}, "num_uses cannot be higher than the role's secret_id_num_uses"),
                       ({"ttl": 601}, "ttl cannot be longer than the role's secret_id_ttl"),
                       ({"cidr_list": "bogus"}, 'field "cidr_list"'),
                       ({"metadata": "no pairs here"}, "failed to parse metadata")]:
        r = api(srv, "POST", mount, f"role/{name}/secret-id", srv.root_token, json=body)
        assert r.status_code == 400 and text in error_text(r), (body, r.text)
    r = api(srv, "POST", mount, "role/no-such-role/secret-id", srv.root_token, json={})
    assert r.status_code == 400 and error_text(r) == 'role "no-such-role" does not exist'


def test_tidy(srv, root, mount):
    r = api(srv, "POST", mount, "tidy/secret-id", srv.root_token)
    assert r.status_code == 202, r.text
    assert "Tidy operation completed" in r.json()["warnings"][0]


# ---- login --------------------------------------------------------------------------------------

def test_login_token_carries_role_policies_and_ttl(srv, root, mount, kv):
    name, role_id = make_role(root, mount, token_policies=[kv["reader"]], token_ttl="20m",
                              token_max_ttl="1h")
    secret = root.auth.approle.generate_secret_id(name, metadata={"team": "blue"},
                                                  mount_point=mount)["data"]["secret_id"]
    client = srv.client()
    resp = client.auth.approle.login(role_id, secret, mount_point=mount)
    auth = resp["auth"]
    assert auth["client_token"] and client.token == auth["client_token"]
    assert sorted(auth["policies"]) == sorted(["default", kv["reader"]])
    assert sorted(auth["token_policies"]) == sorted(["default", kv["reader"]])
    assert auth["lease_duration"] == 1200 and auth["renewable"] is True
    assert auth["metadata"] == {"role_name": name, "team": "blue"}
    assert auth["token_type"] == "service" and auth["orphan"] is True

    # The token works for what its policy grants, and only that.
    r = srv.http("GET", f"/v1/{kv['mount']}/app", token=auth["client_token"])
    assert r.status_code == 200 and r.json()["data"] == {"v": "s3cret"}, r.text
    r = srv.http("GET", f"/v1/auth/{mount}/role/{name}", token=auth["client_token"])
    assert r.status_code == 403
    me = client.auth.token.lookup_self()["data"]
    assert me["path"] == f"auth/{mount}/login"
    assert me["display_name"] == mount  # Vault names AppRole tokens after the mount path
    assert me["meta"] == {"role_name": name, "team": "blue"}
    assert 1100 < me["ttl"] <= 1200


def test_token_bound_cidrs_come_from_the_secret_id_or_the_role(srv, root, mount):
    name, role_id = make_role(root, mount, token_bound_cidrs=["127.0.0.0/8", "10.0.0.0/8"])
    plain = root.auth.approle.generate_secret_id(name, mount_point=mount)["data"]["secret_id"]
    narrow = root.auth.approle.generate_secret_id(name, token_bound_cidrs=["10.0.0.0/8"],
                                                  mount_point=mount)["data"]["secret_id"]
    r = login(srv, mount, role_id, plain)
    assert r.status_code == 200, r.text
    assert srv.http("GET", "/v1/auth/token/lookup-self",
                    token=r.json()["auth"]["client_token"]).status_code == 200
    r = login(srv, mount, role_id, narrow)
    assert r.status_code == 200, r.text
    # That token only works from 10.0.0.0/8; the test talks from 127.0.0.1.
    assert srv.http("GET", "/v1/auth/token/lookup-self",
                    token=r.json()["auth"]["client_token"]).status_code == 403


def test_bind_secret_id_false_logs_in_with_role_id_alone(srv, root, mount):
    name, role_id = make_role(root, mount, bind_secret_id=False, secret_id_bound_cidrs=["127.0.0.1/32"])
    r = login(srv, mount, role_id)
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["metadata"] == {"role_name": name}


def test_negative_logins_all_look_the_same(srv, root, mount):
    name, role_id = make_role(root, mount, secret_id_num_uses=1)
    secret = root.auth.approle.generate_secret_id(name, mount_point=mount)["data"]["secret_id"]
    bad = [login(srv, mount, "no-such-role-id", secret),
           login(srv, mount, role_id, "no-such-secret"),
           login(srv, mount, "no-such-role-id", "no-such-secret")]
    for r in bad:
        assert r.status_code == 400 and r.json() == INVALID, r.text
    assert login(srv, mount, role_id, secret).status_code == 200  # the single use
    r = login(srv, mount, role_id, secret)
    assert r.status_code == 400 and r.json() == INVALID, r.text
    r = login(srv, mount, "", "x")
    assert r.status_code == 400 and error_text(r) == "missing role_id"
    r = login(srv, mount, role_id)
    assert r.status_code == 400 and error_text(r) == "missing secret_id"
    with pytest.raises(hvac.exceptions.InvalidRequest):
        srv.client().auth.approle.login(role_id, "wrong", mount_point=mount)


def test_a_thousand_wrong_logins_leave_the_server_responsive(srv, root, mount, kv):
    name, role_id = make_role(root, mount)
    bodies = set()
    statuses = set()
    start = time.monotonic()
    for i in range(1000):
        r = login(srv, mount, role_id if i % 2 else unique("rid"), f"wrong-{i}")
        statuses.add(r.status_code)
        bodies.add(r.content)
    assert statuses == {400}
    assert len(bodies) == 1, bodies  # byte for byte the same answer every time
    assert json.loads(bodies.pop()) == INVALID
    assert time.monotonic() - start < 60
    r = srv.http("GET", f"/v1/{kv['mount']}/app", token=srv.root_token, timeout=5)
    assert r.status_code == 200 and r.json()["data"] == {"v": "s3cret"}
