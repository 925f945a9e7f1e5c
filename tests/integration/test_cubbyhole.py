"""cubbyhole/: a private KV space per token, gone with the token."""

from __future__ import annotations

import time

import hvac
import pytest

from coffer_harness import create_token, error_text, put_policy, unique


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


def cub(srv, method, path, token, **kw):
    return srv.http(method, f"/v1/cubbyhole/{path}", token=token, **kw)


def test_cubbyhole_is_mounted_by_default(srv):
    mounts = srv.client(srv.root_token).sys.list_mounted_secrets_engines()["data"]
    assert mounts["cubbyhole/"]["type"] == "cubbyhole"


def test_write_read_list_delete_own_cubbyhole(srv):
    token = create_token(srv, policies=["default"])["client_token"]
    assert cub(srv, "POST", "notes/a", token, json={"k": "v", "n": 1}).status_code == 204
    assert cub(srv, "PUT", "notes/b", token, json={"x": True}).status_code == 204
    assert cub(srv, "POST", "top", token, json={"t": "t"}).status_code == 204
    r = cub(srv, "GET", "notes/a", token)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"k": "v", "n": 1}
    assert r.json()["lease_duration"] == 0 and r.json()["renewable"] is False
    r = cub(srv, "LIST", "notes/", token)
    assert r.status_code == 200 and sorted(r.json()["data"]["keys"]) == ["a", "b"]
    r = cub(srv, "LIST", "", token)
    assert r.status_code == 200 and sorted(r.json()["data"]["keys"]) == ["notes/", "top"]
    r = cub(srv, "GET", "", token, params={"list": "true"})
    assert r.status_code == 200 and sorted(r.json()["data"]["keys"]) == ["notes/", "top"]
    assert cub(srv, "DELETE", "notes/a", token).status_code == 204
    r = cub(srv, "GET", "notes/a", token)
    assert r.status_code == 404 and r.json() == {"errors": []}
    assert cub(srv, "LIST", "notes/", token).json()["data"]["keys"] == ["b"]


def test_hvac_generic_read_write(srv):
    token = create_token(srv, policies=["default"])["client_token"]
    client = srv.client(token)
    client.write("cubbyhole/hvac", value="from-hvac")
    assert client.read("cubbyhole/hvac")["data"] == {"value": "from-hvac"}
    assert client.read("cubbyhole/none") is None


def test_each_token_sees_only_its_own_cubbyhole(srv):
    alice = create_token(srv, policies=["default"])["client_token"]
    bob = create_token(srv, policies=["default"])["client_token"]
    carol = create_token(srv, policies=["default"])["client_token"]
    assert cub(srv, "POST", "shared-name", alice, json={"owner": "alice"}).status_code == 204
    assert cub(srv, "POST", "shared-name", bob, json={"owner": "bob"}).status_code == 204
    assert cub(srv, "GET", "shared-name", alice).json()["data"] == {"owner": "alice"}
    assert cub(srv, "GET", "shared-name", bob).json()["data"] == {"owner": "bob"}
    for other in (srv.root_token, carol):
        assert cub(srv, "GET", "shared-name", other).status_code == 404
    assert cub(srv, "LIST", "", carol).status_code == 404  # carol's cubbyhole is empty
    # Bob deleting his copy leaves Alice's alone.
    assert cub(srv, "DELETE", "shared-name", bob).status_code == 204
    assert cub(srv, "GET", "shared-name", alice).json()["data"] == {"owner": "alice"}


def test_cubbyhole_is_gone_when_the_token_is_revoked(srv):
    token_id = unique("cubby")
    create_token(srv, id=token_id, policies=["default"])
    assert cub(srv, "POST", "secret", token_id, json={"pin": "1234"}).status_code == 204
    assert cub(srv, "GET", "secret", token_id).status_code == 200
    r = srv.http("POST", "/v1/auth/token/revoke", token=srv.root_token, json={"token": token_id})
    assert r.status_code == 204
    assert cub(srv, "GET", "secret", token_id).status_code == 403
    # A new token with the same id starts with an empty cubbyhole.
    create_token(srv, id=token_id, policies=["default"])
    assert cub(srv, "GET", "secret", token_id).status_code == 404
    assert cub(srv, "LIST", "", token_id).status_code == 404


def test_cubbyhole_is_gone_when_the_token_expires(srv):
    token_id = unique("cubby-ttl")
    create_token(srv, id=token_id, ttl="2s", policies=["default"])
    assert cub(srv, "POST", "secret", token_id, json={"pin": "42"}).status_code == 204
    time.sleep(3)
    assert cub(srv, "GET", "secret", token_id).status_code == 403
    create_token(srv, id=token_id, policies=["default"])
    assert cub(srv, "GET", "secret", token_id).status_code == 404


def test_cubbyhole_needs_the_default_policy(srv):
    name = unique("nocub")
    put_policy(srv, name, 'path "somewhere/*" { capabilities = ["read"] }')
    token = create_token(srv, policies=[name], no_default_policy=True)["client_token"]
    r = cub(srv, "POST", "x", token, json={"a": 1})
    assert r.status_code == 403, r.text
    assert "permission denied" in error_text(r)
    with pytest.raises(hvac.exceptions.Forbidden):
        srv.client(token).read("cubbyhole/x")


def test_cubbyhole_cannot_be_unmounted_moved_or_mounted_twice(srv):
    root = srv.client(srv.root_token)
    r = srv.http("DELETE", "/v1/sys/mounts/cubbyhole", token=srv.root_token)
    assert r.status_code == 400, r.text
    r = srv.http("POST", "/v1/sys/remount", token=srv.root_token,
                 json={"from": "cubbyhole", "to": unique("cub-moved")})
    assert r.status_code == 400, r.text
    second = unique("cub2")
    r = srv.http("POST", f"/v1/sys/mounts/{second}", token=srv.root_token, json={"type": "cubbyhole"})
    assert r.status_code == 400, r.text
    mounts = root.sys.list_mounted_secrets_engines()["data"]
    assert mounts["cubbyhole/"]["type"] == "cubbyhole"
    assert f"{second}/" not in mounts


def test_cubbyhole_bad_input(srv):
    token = create_token(srv, policies=["default"])["client_token"]
    assert cub(srv, "POST", "keep", token, json={"v": "kept"}).status_code == 204
    r = cub(srv, "POST", "keep", token, data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    r = cub(srv, "POST", "keep", token, data=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert cub(srv, "GET", "keep", token).json()["data"] == {"v": "kept"}
