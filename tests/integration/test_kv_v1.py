"""KV v1 through hvac and raw HTTP, against `coffer server -dev` with secret/ remounted as KV v1
(dev mode itself mounts KV v2 there, as Vault's does)."""

from __future__ import annotations

import uuid

import hvac
import pytest

from coffer_harness import Server, error_list

ENVELOPE_KEYS = {"request_id", "lease_id", "renewable", "lease_duration", "data",
                 "wrap_info", "warnings", "auth", "mount_type"}


@pytest.fixture(scope="module")
def dev_server(coffer_bin, tmp_path_factory):
    """A dev server whose secret/ mount is replaced by a KV v1 mount."""
    server = Server(coffer_bin, tmp_path_factory.mktemp("dev-kv1"), dev=True)
    try:
        server.start()
        for method, body in (("DELETE", None), ("POST", {"type": "kv", "options": {"version": "1"}})):
            r = server.http(method, "/v1/sys/mounts/secret", token=server.root_token, json=body)
            assert r.status_code == 204, f"{method} sys/mounts/secret: {r.status_code} {r.text}"
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def root(dev_server):
    return dev_server.client(dev_server.root_token)


@pytest.fixture(scope="module")
def kv(root):
    return root.secrets.kv.v1


@pytest.fixture
def prefix():
    """A unique folder per test so tests on the shared dev server never collide."""
    return "t-" + uuid.uuid4().hex[:12]


def get(server, path, **kw):
    kw.setdefault("token", server.root_token)
    return server.http("GET", "/v1/" + path, **kw)


def listing(server, path, verb="LIST", **kw):
    kw.setdefault("token", server.root_token)
    if verb == "LIST":
        return server.http("LIST", "/v1/" + path, **kw)
    return server.http("GET", "/v1/" + path, params={"list": "true"}, **kw)


def keys_of(resp) -> list:
    assert resp.status_code == 200, f"{resp.status_code} {resp.text}"
    return sorted(resp.json()["data"]["keys"])


def test_dev_server_is_unsealed_with_kv_v1_at_secret(dev_server, root):
    assert root.sys.is_initialized() is True
    assert root.sys.is_sealed() is False
    mounts = root.sys.list_mounted_secrets_engines()
    assert mounts["data"]["secret/"]["type"] == "kv"
    assert mounts["data"]["secret/"]["options"]["version"] == "1"
    assert mounts["secret/"]["type"] == "kv"  # sys data is copied to the top level
    assert mounts["data"]["sys/"]["type"] == "system"


def test_create_read_update_delete(dev_server, kv, prefix):
    path = f"{prefix}/app"
    resp = kv.create_or_update_secret(path, {"user": "alice", "password": "pw1"}, mount_point="secret")
    assert resp.status_code == 204
    assert kv.read_secret(path, mount_point="secret")["data"] == {"user": "alice", "password": "pw1"}

    kv.create_or_update_secret(path, {"user": "alice", "password": "pw2"}, method="PUT", mount_point="secret")
    assert kv.read_secret(path, mount_point="secret")["data"]["password"] == "pw2"

    assert kv.delete_secret(path, mount_point="secret").status_code == 204
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret(path, mount_point="secret")
    r = get(dev_server, f"secret/{path}")
    assert r.status_code == 404 and r.json() == {"errors": []}


def test_read_envelope_shape(dev_server, kv, prefix):
    kv.create_or_update_secret(f"{prefix}/env", {"k": "v"}, mount_point="secret")
    r = get(dev_server, f"secret/{prefix}/env")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert ENVELOPE_KEYS <= set(body), f"missing {ENVELOPE_KEYS - set(body)}"
    assert body["data"] == {"k": "v"}
    assert body["lease_duration"] == 2764800
    assert body["renewable"] is False
    assert body["lease_id"] == ""
    assert body["mount_type"] == "kv"
    assert body["auth"] is None and body["wrap_info"] is None
    assert isinstance(body["request_id"], str) and len(body["request_id"]) == 36
    other = get(dev_server, f"secret/{prefix}/env").json()["request_id"]
    assert other != body["request_id"]


def test_write_returns_204_with_empty_body(dev_server, prefix):
    for verb in ("POST", "PUT"):
        r = dev_server.http(verb, f"/v1/secret/{prefix}/{verb}", token=dev_server.root_token,
                            json={"a": verb})
        assert r.status_code == 204, r.text
        assert r.content == b""
        assert get(dev_server, f"secret/{prefix}/{verb}").json()["data"] == {"a": verb}


def test_overwrite_replaces_the_whole_object(kv, prefix):
    kv.create_or_update_secret(f"{prefix}/o", {"a": 1, "b": 2}, mount_point="secret")
    kv.create_or_update_secret(f"{prefix}/o", {"c": 3}, mount_point="secret")
    assert kv.read_secret(f"{prefix}/o", mount_point="secret")["data"] == {"c": 3}


def test_json_types_and_unicode_round_trip(kv, prefix):
    value = {
        "text": "héllo ☃ 日本語 🎉 \"quoted\" \\ back\nslash\ttab",
        "int": 42, "negative": -7, "float": 3.25, "big": 9007199254740991, "zero": 0,
        "true": True, "false": False, "null": None, "empty": "", "empty_obj": {}, "empty_list": [],
        "list": [1, "two", {"three": 3}, [4.5, None]],
        "nested": {"a": {"b": {"c": ["deep", {"d": True}]}}},
        "ключ": "значение",
    }
    kv.create_or_update_secret(f"{prefix}/types", value, mount_point="secret")
    got = kv.read_secret(f"{prefix}/types", mount_point="secret")["data"]
    assert got == value
    assert isinstance(got["int"], int) and isinstance(got["float"], float)


def test_large_value_round_trips(kv, prefix):
    blob = "x" * (1024 * 1024) + "end"
    kv.create_or_update_secret(f"{prefix}/big", {"blob": blob}, mount_point="secret")
    assert kv.read_secret(f"{prefix}/big", mount_point="secret")["data"]["blob"] == blob


def test_unicode_and_odd_key_names(dev_server, kv, prefix):
    names = ["ключ", "with space", "dots.in.name", "under_score-dash", "a@b+c=d"]
    for i, name in enumerate(names):
        kv.create_or_update_secret(f"{prefix}/{name}", {"i": i}, mount_point="secret")
    for i, name in enumerate(names):
        assert kv.read_secret(f"{prefix}/{name}", mount_point="secret")["data"] == {"i": i}
    assert sorted(kv.list_secrets(prefix, mount_point="secret")["data"]["keys"]) == sorted(names)


def test_missing_key_is_404_with_empty_errors(dev_server, prefix):
    r = get(dev_server, f"secret/{prefix}/nope")
    assert r.status_code == 404
    assert r.json() == {"errors": []}
    r = listing(dev_server, f"secret/{prefix}/")
    assert r.status_code == 404
    assert r.json() == {"errors": []}


def test_nested_listing_with_both_verbs(dev_server, kv, prefix):
    for p in ("a", "a/b", "a/b/c", "a/d", "x/y/z", "m"):
        kv.create_or_update_secret(f"{prefix}/{p}", {"p": p}, mount_point="secret")
    for verb in ("LIST", "GET"):
        assert keys_of(listing(dev_server, f"secret/{prefix}/", verb)) == ["a", "a/", "m", "x/"]
        assert keys_of(listing(dev_server, f"secret/{prefix}", verb)) == ["a", "a/", "m", "x/"]
        assert keys_of(listing(dev_server, f"secret/{prefix}/a/", verb)) == ["b", "b/", "d"]
        assert keys_of(listing(dev_server, f"secret/{prefix}/a/b", verb)) == ["c"]
        assert keys_of(listing(dev_server, f"secret/{prefix}/x/", verb)) == ["y/"]
        assert listing(dev_server, f"secret/{prefix}/m/", verb).status_code == 404
    assert sorted(kv.list_secrets(prefix, mount_point="secret")["data"]["keys"]) == ["a", "a/", "m", "x/"]
    r = listing(dev_server, f"secret/{prefix}/")
    assert r.json()["mount_type"] == "kv"
    # A plain GET (no list) on a folder name is a read of that key.
    assert get(dev_server, f"secret/{prefix}/x").status_code == 404


def test_mount_root_listing_with_and_without_slash(dev_server, kv, prefix):
    kv.create_or_update_secret(f"{prefix}/root-visible", {"v": 1}, mount_point="secret")
    with_slash = keys_of(listing(dev_server, "secret/"))
    without = keys_of(listing(dev_server, "secret"))
    assert with_slash == without
    assert f"{prefix}/" in with_slash
    assert keys_of(listing(dev_server, "secret/", "GET")) == with_slash


def test_delete_removes_only_that_key_and_empty_folders_vanish(dev_server, kv, prefix):
    kv.create_or_update_secret(f"{prefix}/f/one", {"v": 1}, mount_point="secret")
    kv.create_or_update_secret(f"{prefix}/f/two", {"v": 2}, mount_point="secret")
    kv.create_or_update_secret(f"{prefix}/keep", {"v": 3}, mount_point="secret")
    assert kv.delete_secret(f"{prefix}/f/one", mount_point="secret").status_code == 204
    assert keys_of(listing(dev_server, f"secret/{prefix}/f/")) == ["two"]
    assert kv.read_secret(f"{prefix}/f/two", mount_point="secret")["data"] == {"v": 2}
    kv.delete_secret(f"{prefix}/f/two", mount_point="secret")
    assert listing(dev_server, f"secret/{prefix}/f/").status_code == 404
    assert keys_of(listing(dev_server, f"secret/{prefix}/")) == ["keep"]
    # Deleting something that does not exist is not an error.
    r = dev_server.http("DELETE", f"/v1/secret/{prefix}/never", token=dev_server.root_token)
    assert r.status_code == 204


def test_mount_enable_disable_and_data_is_gone(dev_server, root):
    mount = "kv-" + uuid.uuid4().hex[:8]
    assert root.sys.enable_secrets_engine("kv", path=mount, options={"version": "1"}).status_code == 204
    mounts = root.sys.list_mounted_secrets_engines()["data"]
    assert mounts[f"{mount}/"]["type"] == "kv"
    assert mounts[f"{mount}/"]["options"]["version"] == "1"

    # The same path cannot be mounted twice.
    r = dev_server.http("POST", f"/v1/sys/mounts/{mount}", token=dev_server.root_token,
                        json={"type": "kv", "options": {"version": "1"}})
    assert r.status_code in (400, 409), r.text  # Vault answers 400 or, since 1.x, 409

    kv = root.secrets.kv.v1
    kv.create_or_update_secret("gone/soon", {"v": "1"}, mount_point=mount)
    assert kv.read_secret("gone/soon", mount_point=mount)["data"] == {"v": "1"}
    # Mounts are isolated from each other.
    assert get(dev_server, "secret/gone/soon").status_code == 404

    assert root.sys.disable_secrets_engine(mount).status_code == 204
    assert f"{mount}/" not in root.sys.list_mounted_secrets_engines()["data"]
    r = get(dev_server, f"{mount}/gone/soon")
    assert r.status_code == 404, r.text

    root.sys.enable_secrets_engine("kv", path=mount, options={"version": "1"})
    r = get(dev_server, f"{mount}/gone/soon")
    assert r.status_code == 404 and r.json() == {"errors": []}
    assert listing(dev_server, f"{mount}/").status_code == 404
    root.sys.disable_secrets_engine(mount)


def test_missing_or_bad_token_is_403(dev_server, kv, prefix):
    kv.create_or_update_secret(f"{prefix}/guarded", {"v": "x"}, mount_point="secret")
    r = get(dev_server, f"secret/{prefix}/guarded", token=None)
    assert r.status_code == 403
    assert r.json() == {"errors": ["permission denied"]}
    r = get(dev_server, f"secret/{prefix}/guarded", token="s.not-a-real-token")
    assert r.status_code == 403
    assert "permission denied" in error_list(r)
    assert r.json().get("data") is None  # no data leaks with the error
    r = dev_server.http("POST", f"/v1/secret/{prefix}/sneaky", json={"v": 1})
    assert r.status_code == 403
    r = listing(dev_server, f"secret/{prefix}/", token=None)
    assert r.status_code == 403
    with pytest.raises(hvac.exceptions.Forbidden):
        dev_server.client("wrong-token").secrets.kv.v1.read_secret(f"{prefix}/guarded", mount_point="secret")
    assert get(dev_server, f"secret/{prefix}/sneaky").status_code == 404


def test_bearer_authorization_header(dev_server, kv, prefix):
    kv.create_or_update_secret(f"{prefix}/bearer", {"v": "b"}, mount_point="secret")
    r = dev_server.http("GET", f"/v1/secret/{prefix}/bearer",
                        headers={"Authorization": f"Bearer {dev_server.root_token}"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"v": "b"}
    r = dev_server.http("GET", f"/v1/secret/{prefix}/bearer",
                        headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403


@pytest.mark.parametrize("ttl, seconds", [("1h", 3600), ("90s", 90), ("1h30m", 5400), ("45", 45)])
def test_ttl_key_sets_lease_duration(dev_server, kv, prefix, ttl, seconds):
    kv.create_or_update_secret(f"{prefix}/ttl", {"ttl": ttl, "v": 1}, mount_point="secret")
    body = get(dev_server, f"secret/{prefix}/ttl").json()
    assert body["lease_duration"] == seconds
    assert body["data"] == {"ttl": ttl, "v": 1}


def test_sys_mounts_via_raw_http(dev_server):
    r = dev_server.http("GET", "/v1/sys/mounts", token=dev_server.root_token)
    assert r.status_code == 200
    body = r.json()
    assert body["data"]["secret/"]["type"] == "kv"
    assert body["secret/"] == body["data"]["secret/"]
    assert dev_server.http("GET", "/v1/sys/mounts").status_code == 403


def test_mount_path_conflicts_and_protected_mounts(dev_server, root):
    token = dev_server.root_token
    base = "m-" + uuid.uuid4().hex[:8]

    def enable(path):
        return dev_server.http("POST", f"/v1/sys/mounts/{path}", token=token,
                               json={"type": "kv", "options": {"version": "1"}})

    def mounts():
        return root.sys.list_mounted_secrets_engines()["data"]

    assert enable(f"{base}/deep/path").status_code == 204
    assert f"{base}/deep/path/" in mounts()
    root.secrets.kv.v1.create_or_update_secret("k", {"v": "deep"}, mount_point=f"{base}/deep/path")
    assert get(dev_server, f"{base}/deep/path/k").json()["data"] == {"v": "deep"}
    # Neither a parent nor a child of an existing mount can be mounted.
    for conflicting in (base, f"{base}/deep", f"{base}/deep/path/more", "secret/inner"):
        r = enable(conflicting)
        assert r.status_code in (400, 409), f"{conflicting}: {r.status_code} {r.text}"
        assert f"{conflicting}/" not in mounts()
    # sys/ can be neither mounted over nor removed.
    for protected in ("sys", "sys/extra"):
        r = enable(protected)
        assert 400 <= r.status_code < 500, f"{protected}: {r.status_code} {r.text}"
    r = dev_server.http("DELETE", "/v1/sys/mounts/sys", token=token)
    assert 400 <= r.status_code < 500, f"{r.status_code} {r.text}"
    assert mounts()["sys/"]["type"] == "system"
    # Disabling something never mounted is a no-op success, as in Vault.
    r = dev_server.http("DELETE", f"/v1/sys/mounts/never-{base}", token=token)
    assert r.status_code == 204, r.text
    # Disabling a path inside a mount is not disabling the mount.
    r = dev_server.http("DELETE", f"/v1/sys/mounts/{base}/deep", token=token)
    assert r.status_code == 204, r.text
    assert f"{base}/deep/path/" in mounts()
    assert get(dev_server, f"{base}/deep/path/k").json()["data"] == {"v": "deep"}
    assert root.sys.disable_secrets_engine(f"{base}/deep/path").status_code == 204
    assert f"{base}/deep/path/" not in mounts()
