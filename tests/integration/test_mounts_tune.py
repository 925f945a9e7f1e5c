"""sys/mounts/:path/tune, sys/remount, sys/internal/ui/mounts and the KV v1 -> v2 upgrade."""

from __future__ import annotations

import time

import hvac
import pytest

from coffer_harness import create_token, error_text, mount_kv, put_policy, unique

SYSTEM_TTL = 2764800  # 768h, Vault's default and max lease TTL


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


def tune(srv, path, body, token=None):
    return srv.http("POST", f"/v1/sys/mounts/{path}/tune", token=token or srv.root_token, json=body)


def tune_read(srv, path):
    r = srv.http("GET", f"/v1/sys/mounts/{path}/tune", token=srv.root_token)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()


def mounts(root):
    return root.sys.list_mounted_secrets_engines()["data"]


def poll(fn, timeout=10.0):
    """Calls fn until it returns something truthy (upgrades and remounts may finish later)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


# ---- tune ---------------------------------------------------------------------------

def test_read_tune_of_the_dev_kv_mount(srv, root):
    body = root.sys.read_mount_configuration("secret")
    assert body["data"]["default_lease_ttl"] == SYSTEM_TTL
    assert body["data"]["max_lease_ttl"] == SYSTEM_TTL
    assert body["data"]["force_no_cache"] is False
    assert body["data"]["options"] == {"version": "2"}
    assert body["default_lease_ttl"] == SYSTEM_TTL  # sys data is copied to the top level


def test_tune_ttls_and_description(srv, root):
    m = unique("tune")
    mount_kv(srv, m)
    srv.http("POST", f"/v1/{m}/k", token=srv.root_token, json={"v": 1})
    assert srv.http("GET", f"/v1/{m}/k", token=srv.root_token).json()["lease_duration"] == SYSTEM_TTL

    r = root.sys.tune_mount_configuration(m, default_lease_ttl="1h", max_lease_ttl="2h",
                                          description="tuned by test")
    assert r.status_code == 204, r.text
    data = tune_read(srv, m)["data"]
    assert data["default_lease_ttl"] == 3600 and data["max_lease_ttl"] == 7200
    assert data["description"] == "tuned by test"
    entry = mounts(root)[f"{m}/"]
    assert entry["config"]["default_lease_ttl"] == 3600
    assert entry["config"]["max_lease_ttl"] == 7200
    assert entry["description"] == "tuned by test"
    # What a client notices: KV v1 reads now advertise the mount's default TTL.
    assert srv.http("GET", f"/v1/{m}/k", token=srv.root_token).json()["lease_duration"] == 3600

    assert tune(srv, m, {"default_lease_ttl": 1800}).status_code == 204  # plain seconds work too
    assert tune_read(srv, m)["data"]["default_lease_ttl"] == 1800
    assert tune(srv, m, {"default_lease_ttl": "system", "max_lease_ttl": "system"}).status_code == 204
    data = tune_read(srv, m)["data"]
    assert data["default_lease_ttl"] == SYSTEM_TTL and data["max_lease_ttl"] == SYSTEM_TTL
    assert data["description"] == "tuned by test"  # untouched fields stay


@pytest.mark.parametrize("body, words", [
    ({"default_lease_ttl": "2h", "max_lease_ttl": "1h"}, ("ttl",)),
    ({"default_lease_ttl": "soon"}, ("soon", "duration", "ttl")),
    ({"max_lease_ttl": "-1h"}, ("ttl", "negative", "duration")),
    ({"default_lease_ttl": {"h": 1}}, ("default_lease_ttl",)),
    ({"options": {"version": {"n": 1}}}, ("options", "version")),
    ({"options": {"version": "3"}}, ("version",)),
    ({"options": {"version": "two"}}, ("version", "parse", "options")),
])
def test_bad_tune_is_400_and_changes_nothing(srv, root, body, words):
    m = unique("badtune")
    mount_kv(srv, m)
    assert tune(srv, m, {"default_lease_ttl": "1h", "max_lease_ttl": "3h"}).status_code == 204
    before = tune_read(srv, m)["data"]
    r = tune(srv, m, body)
    assert r.status_code == 400, f"{body}: {r.status_code} {r.text}"
    message = error_text(r).lower()
    assert any(w in message for w in words), f"{body}: unclear error {message!r}"
    assert tune_read(srv, m)["data"] == before
    assert mounts(root)[f"{m}/"]["options"] == {"version": "1"}


def test_tune_of_a_missing_or_protected_mount_is_400(srv):
    r = tune(srv, unique("never-mounted"), {"default_lease_ttl": "1h"})
    assert r.status_code == 400, r.text
    for protected in ("sys", "cubbyhole"):
        r = tune(srv, protected, {"default_lease_ttl": "1h"})
        assert r.status_code == 400, f"{protected}: {r.status_code} {r.text}"
        assert "cannot tune" in error_text(r)


def test_tune_needs_permission(srv):
    m = unique("tperm")
    mount_kv(srv, m)
    token = create_token(srv, policies=["default"])["client_token"]
    assert tune(srv, m, {"description": "sneaky"}, token=token).status_code == 403
    assert srv.http("GET", f"/v1/sys/mounts/{m}/tune", token=token).status_code == 403
    assert tune_read(srv, m)["data"]["description"] != "sneaky"


def test_kv_v2_cannot_be_downgraded(srv, root):
    m = unique("nodown")
    mount_kv(srv, m, version="2")
    r = tune(srv, m, {"options": {"version": "1"}})
    assert r.status_code == 400, r.text
    assert "cannot downgrade" in error_text(r)
    assert mounts(root)[f"{m}/"]["options"]["version"] == "2"


# ---- KV v1 -> v2 ----------------------------------------------------------------------

def test_kv_v1_to_v2_upgrade_keeps_data_readable_under_data(srv, root):
    m = unique("upg")
    mount_kv(srv, m, version="1")
    secrets = {"app/db": {"user": "u", "password": "p"}, "app/api/key": {"k": 1},
               "top": {"nested": {"a": [1, 2]}, "flag": True}}
    for path, value in secrets.items():
        assert srv.http("POST", f"/v1/{m}/{path}", token=srv.root_token, json=value).status_code == 204

    r = tune(srv, m, {"options": {"version": "2"}})
    assert r.status_code in (200, 204), r.text
    if r.status_code == 200:
        assert any("Upgrading mount from version 1 to version 2" in w for w in r.json()["warnings"])

    kv2 = root.secrets.kv.v2

    def upgraded():
        r = srv.http("GET", f"/v1/{m}/data/top", token=srv.root_token)
        return r.status_code == 200

    assert poll(upgraded), "KV v1 data not readable under data/ 10 s after the upgrade"
    for path, value in secrets.items():
        got = kv2.read_secret_version(path, mount_point=m)["data"]
        assert got["data"] == value, path
        assert got["metadata"]["version"] == 1
    assert sorted(kv2.list_secrets("", mount_point=m)["data"]["keys"]) == ["app/", "top"]
    assert sorted(kv2.list_secrets("app", mount_point=m)["data"]["keys"]) == ["api/", "db"]
    assert mounts(root)[f"{m}/"]["options"]["version"] == "2"
    r = srv.http("GET", f"/v1/sys/internal/ui/mounts/{m}", token=srv.root_token)
    assert r.json()["data"]["options"]["version"] == "2"
    # The old v1 paths are no longer data paths.
    r = srv.http("GET", f"/v1/{m}/top", token=srv.root_token)
    assert r.status_code == 404
    # New writes version on top of the upgraded data.
    assert kv2.create_or_update_secret("top", {"new": 1}, mount_point=m)["data"]["version"] == 2
    assert kv2.read_secret_version("top", version=1, mount_point=m)["data"]["data"] == secrets["top"]


# ---- remount --------------------------------------------------------------------------

def test_remount_moves_the_data(srv, root):
    src, dst = unique("from"), unique("to")
    mount_kv(srv, src)
    srv.http("POST", f"/v1/{src}/moved", token=srv.root_token, json={"v": "along"})
    resp = root.sys.move_backend(src, dst)
    if isinstance(resp, dict):  # Vault >= 1.10 answers 200 with a migration id
        migration = resp["data"]["migration_id"]

        def done():
            r = srv.http("GET", f"/v1/sys/remount/status/{migration}", token=srv.root_token)
            assert r.status_code == 200, r.text
            return r.json()["data"]["migration_info"]["status"] == "success"

        assert poll(done), "remount never reported success"
    else:
        assert resp.status_code == 204, resp.text
    table = mounts(root)
    assert f"{dst}/" in table and f"{src}/" not in table
    r = srv.http("GET", f"/v1/{dst}/moved", token=srv.root_token)
    assert r.status_code == 200 and r.json()["data"] == {"v": "along"}
    assert srv.http("GET", f"/v1/{src}/moved", token=srv.root_token).status_code == 404


def test_bad_remounts_are_400_and_change_nothing(srv, root):
    a, b = unique("ra"), unique("rb")
    mount_kv(srv, a)
    mount_kv(srv, b)
    before = sorted(mounts(root))
    for body in ({"from": a, "to": b},                 # onto an existing mount
                 {"from": unique("ghost"), "to": unique("x")},
                 {"from": "sys", "to": unique("sys2")},
                 {"from": a, "to": "sys/inner"},
                 {"from": a},
                 {"from": a, "to": ""}):
        r = srv.http("POST", "/v1/sys/remount", token=srv.root_token, json=body)
        assert 400 <= r.status_code < 500, f"{body}: {r.status_code} {r.text}"
        assert error_text(r)
    assert sorted(mounts(root)) == before


# ---- unknown engines --------------------------------------------------------------------

@pytest.mark.parametrize("body", [{"type": "no-such-engine"}, {"type": ""}, {},
                                  {"type": "kv", "options": {"version": "7"}}])
def test_unknown_mount_types_are_400_and_mount_nothing(srv, root, body):
    path = unique("unk")
    r = srv.http("POST", f"/v1/sys/mounts/{path}", token=srv.root_token, json=body)
    assert r.status_code == 400, f"{body}: {r.status_code} {r.text}"
    assert error_text(r)
    assert f"{path}/" not in mounts(root)


def test_kv_v2_type_alias_mounts_kv_version_2(srv, root):
    """Terraform's vault_mount and older scripts use type "kv-v2"; Vault mounts kv, version 2."""
    path = unique("alias")
    r = srv.http("POST", f"/v1/sys/mounts/{path}", token=srv.root_token, json={"type": "kv-v2"})
    assert r.status_code == 204, r.text
    entry = mounts(root)[f"{path}/"]
    assert entry["type"] == "kv"
    assert entry["options"]["version"] == "2"
    w = srv.http("POST", f"/v1/{path}/data/app", token=srv.root_token, json={"data": {"a": "1"}})
    assert w.status_code == 200, w.text
    assert w.json()["data"]["version"] == 1


# ---- vault kv discovery ----------------------------------------------------------------

def test_ui_mounts_discovery_on_the_dev_server(srv):
    for asked in ("secret/foo", "secret", "secret/a/b/c"):
        r = srv.http("GET", f"/v1/sys/internal/ui/mounts/{asked}", token=srv.root_token)
        assert r.status_code == 200, f"{asked}: {r.status_code} {r.text}"
        data = r.json()["data"]
        assert data["path"] == "secret/"
        assert data["type"] == "kv"
        assert data["options"]["version"] == "2"


def test_ui_mounts_discovery_for_v1_and_without_access(srv):
    m = unique("disc")
    mount_kv(srv, m, version="1")
    r = srv.http("GET", f"/v1/sys/internal/ui/mounts/{m}/some/key", token=srv.root_token)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["path"] == f"{m}/"
    assert r.json()["data"]["options"]["version"] == "1"

    nobody = create_token(srv, policies=["default"])["client_token"]
    for asked in (f"{m}/some/key", "secret/foo", f"{unique('nomount')}/x"):
        r = srv.http("GET", f"/v1/sys/internal/ui/mounts/{asked}", token=nobody)
        assert r.status_code == 403, f"{asked}: {r.status_code} {r.text}"
        assert "preflight capability check returned 403" in error_text(r)
    # A mount that does not exist looks the same to root, so mounts cannot be probed.
    r = srv.http("GET", f"/v1/sys/internal/ui/mounts/{unique('nomount')}/x", token=srv.root_token)
    assert r.status_code == 403, r.text

    name = unique("app-reader")
    put_policy(srv, name, 'path "secret/data/app/*" { capabilities = ["read"] }')
    reader = create_token(srv, policies=[name])["client_token"]
    r = srv.http("GET", "/v1/sys/internal/ui/mounts/secret/app/config", token=reader)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["path"] == "secret/" and r.json()["data"]["options"]["version"] == "2"


def test_hvac_reads_through_discovered_v2_mount(srv, root):
    path = unique("disc-v2")
    root.secrets.kv.v2.create_or_update_secret(path, {"found": "yes"}, mount_point="secret")
    r = srv.http("GET", f"/v1/sys/internal/ui/mounts/secret/{path}", token=srv.root_token)
    mount = r.json()["data"]["path"].rstrip("/")
    assert r.json()["data"]["options"]["version"] == "2"
    got = root.secrets.kv.v2.read_secret_version(path, mount_point=mount)
    assert got["data"]["data"] == {"found": "yes"}
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v1.read_secret(path, mount_point=mount)
