"""The token store (auth/token/...) through hvac and raw HTTP, as Vault behaves.

One `coffer server -dev` for the module; every test names its own policies,
mounts and tokens, so tests never depend on each other.
"""

from __future__ import annotations

import re
import time

import hvac
import pytest

from coffer_harness import (create_token, error_text, mount_kv, put_policy, token_alive,
                            unique)

CREATE_POLICY = '''
path "auth/token/create" { capabilities = ["create", "update"] }
path "auth/token/create-orphan" { capabilities = ["create", "update"] }
'''


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def kv(srv):
    """A KV v1 mount with one secret, and a policy that may read it."""
    mount = unique("tok-kv")
    mount_kv(srv, mount)
    r = srv.http("POST", f"/v1/{mount}/app", token=srv.root_token, json={"v": "secret"})
    assert r.status_code == 204, r.text
    reader = unique("reader")
    put_policy(srv, reader, f'path "{mount}/*" {{ capabilities = ["read"] }}')
    return {"mount": mount, "reader": reader}


@pytest.fixture(scope="module")
def creator(srv):
    """A policy that lets a token create child and orphan tokens."""
    name = unique("creator")
    put_policy(srv, name, CREATE_POLICY)
    return name


def lookup(srv, token, as_token=None):
    return srv.http("POST", "/v1/auth/token/lookup", token=as_token or srv.root_token,
                    json={"token": token})


def accessor_keys(srv) -> list:
    r = srv.http("LIST", "/v1/auth/token/accessors", token=srv.root_token)
    assert r.status_code == 200, r.text
    return r.json()["data"]["keys"]


# ---- lookups ------------------------------------------------------------------------

def test_root_token_lookup_self(srv, root):
    data = root.auth.token.lookup_self()["data"]
    assert data["id"] == srv.root_token
    assert data["policies"] == ["root"]
    assert data["path"] == "auth/token/root"
    assert data["display_name"] == "root"
    assert data["ttl"] == 0 and data["creation_ttl"] == 0
    assert data["expire_time"] is None
    assert data["orphan"] is True
    assert data["num_uses"] == 0
    assert data["type"] == "service"
    assert isinstance(data["accessor"], str) and data["accessor"]


def test_create_returns_a_vault_auth_block_and_lookup_agrees(srv, root, kv):
    resp = root.auth.token.create(policies=[kv["reader"]], ttl="1h", meta={"user": "alice"},
                                  display_name="ci")
    assert resp["data"] is None
    auth = resp["auth"]
    token = auth["client_token"]
    assert token and auth["accessor"] and auth["accessor"] != token
    assert auth["policies"] == sorted(["default", kv["reader"]])
    assert auth["token_policies"] == auth["policies"]
    assert auth["metadata"] == {"user": "alice"}
    assert auth["lease_duration"] == 3600
    assert auth["renewable"] is True
    assert auth["orphan"] is False
    assert auth["token_type"] == "service"
    assert auth["num_uses"] == 0
    assert auth["entity_id"] == ""

    data = root.auth.token.lookup(token)["data"]
    assert data["id"] == token
    assert data["accessor"] == auth["accessor"]
    assert data["policies"] == auth["policies"]
    assert data["meta"] == {"user": "alice"}
    assert data["display_name"] == "token-ci"
    assert data["path"] == "auth/token/create"
    assert data["orphan"] is False
    assert data["renewable"] is True
    assert data["creation_ttl"] == 3600
    assert 3590 <= data["ttl"] <= 3600
    assert data["explicit_max_ttl"] == 0
    assert isinstance(data["expire_time"], str) and isinstance(data["issue_time"], str)
    assert data["type"] == "service"

    mine = srv.client(token).auth.token.lookup_self()["data"]
    assert mine["id"] == token and mine["policies"] == auth["policies"]
    # The new token can do what its policy allows, and nothing else.
    assert srv.client(token).secrets.kv.v1.read_secret("app", mount_point=kv["mount"])["data"] == {"v": "secret"}
    with pytest.raises(hvac.exceptions.Forbidden):
        srv.client(token).sys.list_mounted_secrets_engines()


def test_root_children_without_policies_inherit_root(srv):
    auth = create_token(srv)
    assert auth["policies"] == ["root"]
    assert auth["lease_duration"] == 0  # a root-policy token without a ttl never expires
    assert auth["renewable"] is False


def test_a_policy_that_does_not_exist_yields_a_warning(srv):
    missing = unique("nope")
    r = srv.http("POST", "/v1/auth/token/create", token=srv.root_token, json={"policies": [missing]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["auth"]["policies"] == sorted(["default", missing])
    assert any(missing in w and "does not exist" in w for w in (body["warnings"] or [])), body["warnings"]


def test_lookup_accessor_hides_the_token_id(srv, root, kv):
    auth = create_token(srv, policies=[kv["reader"]])
    data = root.auth.token.lookup_accessor(auth["accessor"])["data"]
    assert data["id"] == ""
    assert data["accessor"] == auth["accessor"]
    assert data["policies"] == auth["policies"]
    r = srv.http("POST", "/v1/auth/token/lookup-accessor", token=srv.root_token,
                 json={"accessor": "no-such-accessor"})
    assert r.status_code == 400, r.text
    assert "invalid accessor" in error_text(r)


def test_lookup_of_an_unknown_token_is_403_bad_token(srv):
    r = lookup(srv, "s.no-such-token")
    assert r.status_code == 403, r.text
    assert "bad token" in error_text(r)
    assert r.json().get("data") is None


def test_no_default_policy_means_no_self_lookup(srv, kv):
    auth = create_token(srv, policies=[kv["reader"]], no_default_policy=True)
    assert auth["policies"] == [kv["reader"]]
    assert not token_alive(srv, auth["client_token"])  # default grants lookup-self; 403 without it
    r = srv.http("GET", f"/v1/{kv['mount']}/app", token=auth["client_token"])
    assert r.status_code == 200, r.text  # yet the token itself is valid


def test_custom_id_is_root_only_and_unique(srv, creator):
    wanted = unique("custom")
    auth = create_token(srv, id=wanted, policies=["default"])
    assert auth["client_token"] == wanted
    assert token_alive(srv, wanted)
    before = sorted(accessor_keys(srv))
    r = srv.http("POST", "/v1/auth/token/create", token=srv.root_token, json={"id": wanted})
    assert r.status_code == 400, f"duplicate id: {r.status_code} {r.text}"
    assert sorted(accessor_keys(srv)) == before
    assert token_alive(srv, wanted)
    parent = create_token(srv, policies=[creator])["client_token"]
    r = srv.http("POST", "/v1/auth/token/create", token=parent, json={"id": unique("mine")})
    assert r.status_code == 400, r.text
    assert "root or sudo privileges required to specify token id" in error_text(r)


# ---- parents and children -------------------------------------------------------------

def test_child_cannot_get_a_policy_its_parent_lacks(srv, kv, creator):
    other = unique("other")
    put_policy(srv, other, 'path "sys/mounts" { capabilities = ["read"] }')
    parent = create_token(srv, policies=[creator, kv["reader"]])["client_token"]
    before = sorted(accessor_keys(srv))

    for body, expected in [
        ({"policies": [other]}, "child policies must be subset of parent"),
        ({"policies": [kv["reader"], other]}, "child policies must be subset of parent"),
        ({"policies": ["root"]}, "child policies must be subset of parent"),
        ({"no_parent": True}, "root or sudo privileges required to create orphan token"),
    ]:
        r = srv.http("POST", "/v1/auth/token/create", token=parent, json=body)
        assert r.status_code == 400, f"{body}: {r.status_code} {r.text}"
        assert expected in error_text(r), f"{body}: {r.text}"
    assert sorted(accessor_keys(srv)) == before, "a refused create still stored a token"

    child = create_token(srv, token=parent, policies=[kv["reader"]])
    assert child["policies"] == sorted(["default", kv["reader"]])
    inherited = create_token(srv, token=parent)
    assert inherited["policies"] == sorted(["default", creator, kv["reader"]])
    assert inherited["orphan"] is False


def test_update_capability_alone_allows_token_create(srv):
    name = unique("upd")
    put_policy(srv, name, 'path "auth/token/create" { capabilities = ["update"] }')
    parent = create_token(srv, policies=[name])["client_token"]
    create_token(srv, token=parent)
    plain = create_token(srv, policies=["default"])["client_token"]
    r = srv.http("POST", "/v1/auth/token/create", token=plain, json={})
    assert r.status_code == 403, r.text


def test_revoking_a_parent_revokes_the_tree_and_orphans_survive(srv, root, creator):
    a = create_token(srv, policies=[creator])
    b = create_token(srv, token=a["client_token"])
    c = create_token(srv, token=b["client_token"])
    orphan = create_token(srv, token=a["client_token"], path="auth/token/create-orphan")
    sibling = create_token(srv, token=a["client_token"])
    grandchild_of_orphan = create_token(srv, token=orphan["client_token"])
    assert b["orphan"] is False and orphan["orphan"] is True
    assert lookup(srv, orphan["client_token"]).json()["data"]["orphan"] is True

    assert root.auth.token.revoke(a["client_token"]).status_code == 204
    for dead in (a, b, c, sibling):
        assert not token_alive(srv, dead["client_token"])
        r = lookup(srv, dead["client_token"])
        assert r.status_code == 403 and "bad token" in error_text(r)
    for live in (orphan, grandchild_of_orphan):
        assert token_alive(srv, live["client_token"])
    accessors = accessor_keys(srv)
    assert a["accessor"] not in accessors and c["accessor"] not in accessors
    assert orphan["accessor"] in accessors


def test_revoke_self_and_revoke_accessor(srv, root, creator):
    t1 = create_token(srv, policies=[creator])
    child = create_token(srv, token=t1["client_token"])
    assert srv.client(t1["client_token"]).auth.token.revoke_self().status_code == 204
    assert not token_alive(srv, t1["client_token"])
    assert not token_alive(srv, child["client_token"])

    t2 = create_token(srv, policies=["default"])
    assert root.auth.token.revoke_accessor(t2["accessor"]).status_code == 204
    assert not token_alive(srv, t2["client_token"])
    # Since Vault 1.10 (hashicorp/vault#13661) revoking by accessor is idempotent: a second
    # revoke succeeds, with a warning instead of the old 400 "invalid accessor".
    r = srv.http("POST", "/v1/auth/token/revoke-accessor", token=srv.root_token,
                 json={"accessor": t2["accessor"]})
    assert r.status_code in (200, 204), r.text
    if r.status_code == 200:
        assert r.json()["warnings"], r.text
    # Revoking a token that does not exist is not an error in Vault.
    r = srv.http("POST", "/v1/auth/token/revoke", token=srv.root_token, json={"token": "s.never-existed"})
    assert r.status_code == 204, r.text


def test_revoke_orphan_keeps_children_and_needs_sudo(srv, root, creator):
    parent = create_token(srv, policies=[creator])
    kids = [create_token(srv, token=parent["client_token"]) for _ in range(2)]
    assert root.auth.token.revoke_and_orphan_children(parent["client_token"]).status_code == 204
    assert not token_alive(srv, parent["client_token"])
    for kid in kids:
        assert token_alive(srv, kid["client_token"])
        assert lookup(srv, kid["client_token"]).json()["data"]["orphan"] is True

    no_sudo, with_sudo = unique("ro"), unique("ros")
    put_policy(srv, no_sudo, 'path "auth/token/revoke-orphan" { capabilities = ["update"] }')
    put_policy(srv, with_sudo, 'path "auth/token/revoke-orphan" { capabilities = ["update", "sudo"] }')
    victim = create_token(srv, policies=["default"])["client_token"]
    caller = create_token(srv, policies=[no_sudo])["client_token"]
    r = srv.http("POST", "/v1/auth/token/revoke-orphan", token=caller, json={"token": victim})
    assert r.status_code == 400, r.text
    assert "root or sudo privileges required to revoke and orphan" in error_text(r)
    assert token_alive(srv, victim)
    caller = create_token(srv, policies=[with_sudo])["client_token"]
    r = srv.http("POST", "/v1/auth/token/revoke-orphan", token=caller, json={"token": victim})
    assert r.status_code == 204, r.text
    assert not token_alive(srv, victim)


def test_revoked_token_is_denied_everywhere(srv, kv):
    auth = create_token(srv, policies=[kv["reader"]])
    token = auth["client_token"]
    assert srv.http("GET", f"/v1/{kv['mount']}/app", token=token).status_code == 200
    srv.http("POST", "/v1/auth/token/revoke", token=srv.root_token, json={"token": token})
    r = srv.http("GET", f"/v1/{kv['mount']}/app", token=token)
    assert r.status_code == 403
    assert "permission denied" in error_text(r)
    assert r.json().get("data") is None


# ---- TTLs, renewal, use counts ------------------------------------------------------

def test_ttl_expiry_revokes_the_token_and_its_children(srv, kv, creator):
    short = create_token(srv, policies=[kv["reader"]], ttl="2s")
    assert short["lease_duration"] == 2
    parent = create_token(srv, policies=[creator, kv["reader"]], ttl="2s")
    child = create_token(srv, token=parent["client_token"], ttl="1h")
    renewed = create_token(srv, policies=[kv["reader"]], ttl="2s")
    data = lookup(srv, short["client_token"]).json()["data"]
    assert data["creation_ttl"] == 2 and 0 < data["ttl"] <= 2
    assert srv.http("GET", f"/v1/{kv['mount']}/app", token=short["client_token"]).status_code == 200
    r = srv.http("POST", "/v1/auth/token/renew-self", token=renewed["client_token"],
                 json={"increment": "30s"})
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["lease_duration"] == 30

    time.sleep(3)
    for dead in (short, parent, child):
        r = srv.http("GET", f"/v1/{kv['mount']}/app", token=dead["client_token"])
        assert r.status_code == 403, f"expired token still works: {r.status_code} {r.text}"
        assert not token_alive(srv, dead["client_token"])
        assert lookup(srv, dead["client_token"]).status_code == 403
    assert token_alive(srv, renewed["client_token"])
    assert srv.http("GET", f"/v1/{kv['mount']}/app", token=renewed["client_token"]).status_code == 200


def test_renew_by_token_and_accessor(srv, root):
    auth = create_token(srv, policies=["default"], ttl="10m")
    resp = root.auth.token.renew(auth["client_token"], increment="1h")
    assert resp["auth"]["lease_duration"] == 3600
    assert resp["auth"]["client_token"] == auth["client_token"]
    assert 3590 <= lookup(srv, auth["client_token"]).json()["data"]["ttl"] <= 3600
    resp = root.auth.token.renew_accessor(auth["accessor"], increment="20m")
    assert resp["auth"]["lease_duration"] == 1200
    assert resp["auth"]["client_token"] == ""  # renew-accessor never reveals the token


def test_non_renewable_token_and_explicit_max_ttl(srv):
    fixed = create_token(srv, policies=["default"], ttl="1h", renewable=False)
    assert fixed["renewable"] is False
    r = srv.http("POST", "/v1/auth/token/renew-self", token=fixed["client_token"], json={})
    assert r.status_code == 400, r.text
    assert "not renewable" in error_text(r)

    capped = create_token(srv, policies=["default"], ttl="1h", explicit_max_ttl="5s")
    assert capped["lease_duration"] == 5
    r = srv.http("POST", "/v1/auth/token/renew-self", token=capped["client_token"],
                 json={"increment": "1h"})
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["lease_duration"] <= 5


def test_num_uses_counts_down_then_403(srv, kv):
    auth = create_token(srv, policies=[kv["reader"]], num_uses=2)
    assert auth["num_uses"] == 2
    token, path = auth["client_token"], f"/v1/{kv['mount']}/app"
    assert srv.http("GET", path, token=token).status_code == 200
    assert lookup(srv, token).json()["data"]["num_uses"] == 1
    assert srv.http("GET", path, token=token).status_code == 200
    r = srv.http("GET", path, token=token)
    assert r.status_code == 403, f"third use of a 2-use token: {r.status_code} {r.text}"
    assert lookup(srv, token).status_code == 403  # used up means revoked


def test_limited_use_token_cannot_create_children(srv, creator):
    token = create_token(srv, policies=[creator], num_uses=5)["client_token"]
    r = srv.http("POST", "/v1/auth/token/create", token=token, json={})
    assert r.status_code == 400, r.text
    assert "restricted use token cannot generate child tokens" in error_text(r)


@pytest.mark.parametrize("body, field", [
    ({"ttl": "soon"}, "ttl"),
    ({"ttl": "-5s"}, "ttl"),
    ({"explicit_max_ttl": "forever"}, "max_ttl"),
    ({"num_uses": -1}, "uses"),
    ({"num_uses": "many"}, "num_uses"),
    ({"renewable": "maybe"}, "renewable"),
    ({"meta": "not-a-map"}, "meta"),
    ({"type": "golden"}, "type"),
])
def test_bad_create_input_is_400_and_creates_nothing(srv, body, field):
    before = sorted(accessor_keys(srv))
    r = srv.http("POST", "/v1/auth/token/create", token=srv.root_token, json=body)
    assert r.status_code == 400, f"{body}: {r.status_code} {r.text}"
    message = error_text(r).lower()
    assert field in message or re.search(r"pars|invalid|negative|positive|decod", message), \
        f"{body}: unclear error {message!r}"
    assert sorted(accessor_keys(srv)) == before


# ---- roles and tidy -----------------------------------------------------------------

def test_token_roles(srv, root, kv):
    pa, pb, pc = unique("pa"), unique("pb"), unique("pc")
    for p in (pa, pb, pc):
        put_policy(srv, p, f'path "{kv["mount"]}/{p}" {{ capabilities = ["read"] }}')
    role = unique("role")
    r = root.auth.token.create_or_update_role(role, allowed_policies=[pb, pa], orphan=True,
                                              path_suffix="rev-1")
    assert r.status_code == 204, r.text
    data = root.auth.token.read_role(role)["data"]
    assert data["name"] == role
    assert sorted(data["allowed_policies"]) == sorted([pa, pb])
    assert data["orphan"] is True and data["renewable"] is True
    assert data["path_suffix"] == "rev-1"
    assert role in root.auth.token.list_roles()["data"]["keys"]

    # A token created through the role: orphan, its policies bounded by the role, not the parent.
    may_use_role = unique("use-role")
    put_policy(srv, may_use_role, f'path "auth/token/create/{role}" {{ capabilities = ["update"] }}')
    parent = create_token(srv, policies=[may_use_role])["client_token"]
    tok = create_token(srv, token=parent, path=f"auth/token/create/{role}", policies=[pa])
    assert tok["policies"] == sorted(["default", pa])
    assert tok["orphan"] is True
    looked = lookup(srv, tok["client_token"]).json()["data"]
    assert looked["path"] == f"auth/token/create/{role}/rev-1"
    everything = create_token(srv, path=f"auth/token/create/{role}")
    assert everything["policies"] == sorted(["default", pa, pb])

    for token in (srv.root_token, parent):  # not even root may step outside the role
        r = srv.http("POST", f"/v1/auth/token/create/{role}", token=token, json={"policies": [pc]})
        assert r.status_code == 400, r.text
        assert "must be subset of the role's allowed policies" in error_text(r)

    r = srv.http("POST", f"/v1/auth/token/create/{unique('ghost')}", token=srv.root_token, json={})
    assert r.status_code == 400, r.text
    assert "unknown role" in error_text(r)

    assert root.auth.token.delete_role(role).status_code == 204
    assert srv.http("GET", f"/v1/auth/token/roles/{role}", token=srv.root_token).status_code == 404
    r = srv.http("POST", f"/v1/auth/token/create/{role}", token=srv.root_token, json={})
    assert r.status_code == 400, r.text


def test_tidy_is_accepted_and_keeps_live_tokens(srv):
    live = create_token(srv, policies=["default"], ttl="1h")["client_token"]
    r = srv.http("POST", "/v1/auth/token/tidy", token=srv.root_token)
    assert r.status_code == 202, f"{r.status_code} {r.text}"
    assert any("Tidy operation successfully started" in w for w in r.json()["warnings"])
    plain = create_token(srv, policies=["default"])["client_token"]
    assert srv.http("POST", "/v1/auth/token/tidy", token=plain).status_code == 403
    time.sleep(0.3)
    assert token_alive(srv, live)


# ---- sys/leases/revoke-prefix ------------------------------------------------------------

def test_revoke_prefix_revokes_tokens_created_under_the_path(srv):
    role = unique("rp")
    r = srv.http("POST", f"/v1/auth/token/roles/{role}", token=srv.root_token,
                 json={"allowed_policies": ["default"]})
    assert r.status_code in (200, 204), r.text
    by_role = create_token(srv, path=f"auth/token/create/{role}")
    plain = create_token(srv, policies=["default"])
    orphan = create_token(srv, path="auth/token/create-orphan", policies=["default"])

    # only the role's tokens: the prefix is auth/token/create/<role>/
    r = srv.http("PUT", f"/v1/sys/leases/revoke-prefix/auth/token/create/{role}", token=srv.root_token)
    assert r.status_code == 204, r.text
    assert not token_alive(srv, by_role["client_token"])
    assert token_alive(srv, plain["client_token"])
    assert token_alive(srv, orphan["client_token"])

    # sync=false answers 202 Accepted, as Vault does
    r = srv.http("PUT", "/v1/sys/leases/revoke-prefix/auth/token/create-orphan", token=srv.root_token,
                 json={"sync": False})
    assert r.status_code == 202, r.text
    assert not token_alive(srv, orphan["client_token"])
    assert token_alive(srv, plain["client_token"])
    assert token_alive(srv, srv.root_token)


def test_revoke_prefix_needs_sudo(srv):
    put_policy(srv, "rp-nosudo", 'path "sys/leases/*" { capabilities = ["update", "create"] }')
    weak = create_token(srv, policies=["rp-nosudo"])
    victim = create_token(srv, policies=["default"])
    r = srv.http("PUT", "/v1/sys/leases/revoke-prefix/auth/token/create", token=weak["client_token"])
    assert r.status_code == 403, r.text
    assert token_alive(srv, victim["client_token"])
