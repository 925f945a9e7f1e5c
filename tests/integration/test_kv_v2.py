"""KV v2 end to end: versions, CAS (including a 32-writer race), soft delete, destroy,
metadata, merge patches, subkeys, pruning, and bad input that must change nothing.

`coffer server -dev` mounts KV v2 at secret/, like Vault's dev mode; tests that change
engine-wide config get a mount of their own.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime

import hvac
import pytest

from coffer_harness import (create_token, error_text, mount_kv, new_session, put_policy,
                            unique)

MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def kv(root):
    return root.secrets.kv.v2


@pytest.fixture
def key():
    return unique("k")


def api(srv, method, path, token=None, **kw):
    return srv.http(method, "/v1/" + path, token=token or srv.root_token, **kw)


def put(srv, key, data, cas=None, mount="secret", token=None):
    body = {"data": data}
    if cas is not None:
        body["options"] = {"cas": cas}
    return api(srv, "POST", f"{mount}/data/{key}", token=token, json=body)


def rfc3339(value: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", value), value
    return datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")


def snapshot(srv, key, mount="secret"):
    """Everything a reader can see of a key, to prove a refused request changed nothing."""
    meta = api(srv, "GET", f"{mount}/metadata/{key}")
    data = api(srv, "GET", f"{mount}/data/{key}")
    return (meta.status_code, meta.json() and meta.json().get("data"),
            data.status_code, data.json() and data.json().get("data"))


# ---- basics ---------------------------------------------------------------------------

def test_dev_mounts_kv_v2_at_secret(root):
    entry = root.sys.list_mounted_secrets_engines()["data"]["secret/"]
    assert entry["type"] == "kv"
    assert entry["options"] == {"version": "2"}


def test_write_read_versions(srv, kv, key):
    first = kv.create_or_update_secret(key, {"user": "alice", "n": 1})
    meta = first["data"]
    assert meta["version"] == 1
    assert meta["deletion_time"] == "" and meta["destroyed"] is False
    assert meta["custom_metadata"] is None
    rfc3339(meta["created_time"])

    assert kv.create_or_update_secret(key, {"user": "bob"})["data"]["version"] == 2
    latest = kv.read_secret_version(key)["data"]
    assert latest["data"] == {"user": "bob"}
    assert latest["metadata"]["version"] == 2 and latest["metadata"]["deletion_time"] == ""
    assert kv.read_secret_version(key, version=1)["data"]["data"] == {"user": "alice", "n": 1}
    assert kv.read_secret_version(key, version=2)["data"]["data"] == {"user": "bob"}
    r = api(srv, "GET", f"secret/data/{key}", params={"version": 3})
    assert r.status_code == 404, r.text

    r = api(srv, "GET", f"secret/data/{key}")
    body = r.json()
    assert body["mount_type"] == "kv" and body["lease_duration"] == 0 and body["lease_id"] == ""
    assert set(body["data"]) == {"data", "metadata"}


def test_missing_key_is_404_with_empty_errors(srv, kv, key):
    for path in (f"secret/data/{key}", f"secret/metadata/{key}", f"secret/subkeys/{key}"):
        r = api(srv, "GET", path)
        assert r.status_code == 404, f"{path}: {r.status_code} {r.text}"
        assert r.json() == {"errors": []}
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version(key)


def test_metadata_shape(srv, kv, key):
    kv.create_or_update_secret(key, {"a": 1})
    kv.create_or_update_secret(key, {"a": 2})
    meta = kv.read_secret_metadata(key)["data"]
    assert meta["current_version"] == 2
    assert meta["max_versions"] == 0 and meta["cas_required"] is False
    assert meta["delete_version_after"] == "0s"
    assert meta["custom_metadata"] is None
    assert set(meta["versions"]) == {"1", "2"}
    for v in meta["versions"].values():
        assert v["deletion_time"] == "" and v["destroyed"] is False
        rfc3339(v["created_time"])
    assert rfc3339(meta["created_time"]) <= rfc3339(meta["updated_time"])
    assert meta["created_time"] == meta["versions"]["1"]["created_time"]


# ---- delete, undelete, destroy ----------------------------------------------------------

def test_version_lifecycle(srv, kv, key):
    for i in (1, 2, 3):
        kv.create_or_update_secret(key, {"v": i})

    # Soft-delete the latest: 404 with metadata, older versions still readable.
    assert kv.delete_latest_version_of_secret(key).status_code == 204
    r = api(srv, "GET", f"secret/data/{key}")
    assert r.status_code == 404, r.text
    body = r.json()
    assert body["data"]["data"] is None
    assert body["data"]["metadata"]["version"] == 3
    assert body["data"]["metadata"]["deletion_time"] != ""
    assert body["data"]["metadata"]["destroyed"] is False
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version(key)
    assert kv.read_secret_version(key, version=2)["data"]["data"] == {"v": 2}

    # Undelete brings it back.
    assert kv.undelete_secret_versions(key, [3]).status_code == 204
    assert kv.read_secret_version(key)["data"]["data"] == {"v": 3}

    # Delete specific versions.
    assert kv.delete_secret_versions(key, [1, 2]).status_code == 204
    for v in (1, 2):
        assert api(srv, "GET", f"secret/data/{key}", params={"version": v}).status_code == 404
    versions = kv.read_secret_metadata(key)["data"]["versions"]
    assert versions["1"]["deletion_time"] and versions["2"]["deletion_time"]
    assert versions["3"]["deletion_time"] == ""

    # Destroy is for good: undelete cannot bring it back.
    assert kv.destroy_secret_versions(key, [1]).status_code == 204
    r = api(srv, "GET", f"secret/data/{key}", params={"version": 1})
    assert r.status_code == 404
    assert r.json()["data"]["metadata"]["destroyed"] is True
    assert kv.undelete_secret_versions(key, [1, 2]).status_code == 204
    assert api(srv, "GET", f"secret/data/{key}", params={"version": 1}).status_code == 404
    assert kv.read_secret_version(key, version=2)["data"]["data"] == {"v": 2}
    versions = kv.read_secret_metadata(key)["data"]["versions"]
    assert versions["1"]["destroyed"] is True and versions["2"]["destroyed"] is False

    # PUT destroy works too (Vault documents PUT).
    r = api(srv, "PUT", f"secret/destroy/{key}", json={"versions": [2]})
    assert r.status_code == 204, r.text
    assert kv.read_secret_metadata(key)["data"]["versions"]["2"]["destroyed"] is True

    # A new write after all this is version 4.
    assert kv.create_or_update_secret(key, {"v": 4})["data"]["version"] == 4


def test_delete_metadata_removes_everything(srv, kv, key):
    folder = unique("dm")
    kv.create_or_update_secret(f"{folder}/{key}", {"a": 1})
    kv.create_or_update_secret(f"{folder}/{key}", {"a": 2})
    kv.create_or_update_secret(f"{folder}/keep", {"b": 1})
    assert kv.delete_metadata_and_all_versions(f"{folder}/{key}").status_code == 204
    for v in (None, 1, 2):
        params = {"version": v} if v else None
        r = api(srv, "GET", f"secret/data/{folder}/{key}", params=params)
        assert r.status_code == 404 and r.json() == {"errors": []}, r.text
    assert api(srv, "GET", f"secret/metadata/{folder}/{key}").status_code == 404
    assert kv.list_secrets(folder)["data"]["keys"] == ["keep"]
    # The key starts over at version 1.
    assert kv.create_or_update_secret(f"{folder}/{key}", {"a": 3})["data"]["version"] == 1


def test_listing(srv, kv):
    folder = unique("ls")
    for p in ("a", "b/c", "b/d/e", "f"):
        kv.create_or_update_secret(f"{folder}/{p}", {"p": p})
    assert sorted(kv.list_secrets(folder)["data"]["keys"]) == ["a", "b/", "f"]
    assert sorted(kv.list_secrets(f"{folder}/b")["data"]["keys"]) == ["c", "d/"]
    r = api(srv, "GET", f"secret/metadata/{folder}/", params={"list": "true"})
    assert sorted(r.json()["data"]["keys"]) == ["a", "b/", "f"]
    assert f"{folder}/" in api(srv, "LIST", "secret/metadata/").json()["data"]["keys"]
    # Soft-deleted keys are still listed (their metadata exists).
    kv.delete_latest_version_of_secret(f"{folder}/a")
    assert "a" in kv.list_secrets(folder)["data"]["keys"]
    assert api(srv, "LIST", f"secret/metadata/{unique('none')}/").status_code == 404


# ---- check-and-set ----------------------------------------------------------------------

def test_cas(srv, key):
    r = put(srv, key, {"v": 1}, cas=0)
    assert r.status_code == 200 and r.json()["data"]["version"] == 1, r.text
    for cas, expected in ((0, 400), (2, 400), (-1, 400), (1, 200), (1, 400)):
        r = put(srv, key, {"v": f"cas={cas}"}, cas=cas)
        assert r.status_code == expected, f"cas={cas}: {r.status_code} {r.text}"
        if expected == 400:
            assert "check-and-set parameter did not match the current version" in error_text(r)
    got = api(srv, "GET", f"secret/data/{key}").json()["data"]
    assert got["metadata"]["version"] == 2 and got["data"] == {"v": "cas=1"}


def race(srv, path, bodies):
    """POSTs each body from its own thread, all released at once; returns the status codes."""
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def worker(i, body):
        session = new_session()
        try:
            barrier.wait(timeout=10)
            r = session.post(f"{srv.url}/v1/{path}", json=body, timeout=30,
                             headers={"X-Vault-Token": srv.root_token})
            results[i] = (r.status_code, r.text)
        except Exception as e:  # recorded, asserted on below
            results[i] = (None, repr(e))
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(i, b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("start_version", [0, 3])
def test_cas_race_has_exactly_one_winner(srv, kv, key, start_version):
    for i in range(start_version):
        kv.create_or_update_secret(key, {"setup": i})
    bodies = [{"options": {"cas": start_version}, "data": {"writer": i}} for i in range(32)]
    results = race(srv, f"secret/data/{key}", bodies)
    codes = [code for code, _ in results]
    winners = [i for i, (code, _) in enumerate(results) if code == 200]
    assert len(winners) == 1, f"{len(winners)} writers won: {sorted(codes, key=str)}"
    assert codes.count(400) == 31, f"status codes: {sorted(codes, key=str)} {results[:3]}"
    for code, text in results:
        if code == 400:
            assert "check-and-set parameter did not match the current version" in text
    got = kv.read_secret_version(key)["data"]
    assert got["metadata"]["version"] == start_version + 1
    assert got["data"] == {"writer": winners[0]}
    assert kv.read_secret_metadata(key)["data"]["current_version"] == start_version + 1


def test_cas_required_per_key(srv, kv, key):
    kv.create_or_update_secret(key, {"v": 1})
    assert kv.update_metadata(key, cas_required=True).status_code == 204
    r = put(srv, key, {"v": 2})
    assert r.status_code == 400, r.text
    assert "check-and-set parameter required for this call" in error_text(r)
    assert put(srv, key, {"v": 2}, cas=1).status_code == 200
    assert kv.read_secret_metadata(key)["data"]["cas_required"] is True


def test_engine_config_cas_required_and_max_versions(srv):
    mount = unique("kv2cfg")
    mount_kv(srv, mount, version="2")
    kv = srv.client(srv.root_token).secrets.kv.v2
    cfg = kv.read_configuration(mount_point=mount)["data"]
    assert cfg == {"cas_required": False, "delete_version_after": "0s", "max_versions": 0}

    assert kv.configure(max_versions=3, cas_required=True, mount_point=mount).status_code == 204
    cfg = kv.read_configuration(mount_point=mount)["data"]
    assert cfg["max_versions"] == 3 and cfg["cas_required"] is True

    r = put(srv, "k", {"v": 0}, mount=mount)
    assert r.status_code == 400 and "check-and-set parameter required" in error_text(r)
    for i in range(5):
        r = put(srv, "k", {"v": i + 1}, cas=i, mount=mount)
        assert r.status_code == 200, r.text
    meta = kv.read_secret_metadata("k", mount_point=mount)["data"]
    assert sorted(meta["versions"], key=int) == ["3", "4", "5"]
    assert meta["oldest_version"] == 3 and meta["current_version"] == 5
    assert api(srv, "GET", f"{mount}/data/k", params={"version": 2}).status_code == 404
    assert kv.read_secret_version("k", version=3, mount_point=mount)["data"]["data"] == {"v": 3}


def test_max_versions_per_key_prunes_oldest(srv, kv, key):
    kv.create_or_update_secret(key, {"v": 1})
    assert kv.update_metadata(key, max_versions=2).status_code == 204
    for i in (2, 3, 4):
        kv.create_or_update_secret(key, {"v": i})
    meta = kv.read_secret_metadata(key)["data"]
    assert meta["max_versions"] == 2
    assert sorted(meta["versions"], key=int) == ["3", "4"]
    assert meta["oldest_version"] == 3
    for gone in (1, 2):
        assert api(srv, "GET", f"secret/data/{key}", params={"version": gone}).status_code == 404
    assert kv.read_secret_version(key, version=3)["data"]["data"] == {"v": 3}


def test_delete_version_after(srv, kv, key):
    r = api(srv, "POST", f"secret/metadata/{key}", json={"delete_version_after": "2s"})
    assert r.status_code == 204, r.text
    written = kv.create_or_update_secret(key, {"short": "lived"})["data"]
    assert written["deletion_time"] != ""
    assert 1 <= (rfc3339(written["deletion_time"]) - rfc3339(written["created_time"])).total_seconds() <= 3
    assert kv.read_secret_version(key)["data"]["data"] == {"short": "lived"}
    assert kv.read_secret_metadata(key)["data"]["delete_version_after"] == "2s"
    time.sleep(3)
    r = api(srv, "GET", f"secret/data/{key}")
    assert r.status_code == 404, f"version outlived delete_version_after: {r.text}"
    assert r.json()["data"]["metadata"]["deletion_time"] == written["deletion_time"]


# ---- metadata, custom metadata ------------------------------------------------------------

def test_custom_metadata_and_metadata_patch(srv, kv, key):
    kv.create_or_update_secret(key, {"v": 1})
    r = api(srv, "POST", f"secret/metadata/{key}",
            json={"custom_metadata": {"owner": "ops", "tier": "gold"}, "max_versions": 7})
    assert r.status_code == 204, r.text
    assert kv.read_secret_version(key)["data"]["metadata"]["custom_metadata"] == {"owner": "ops", "tier": "gold"}
    r = api(srv, "PATCH", f"secret/metadata/{key}", headers=MERGE,
            json={"custom_metadata": {"tier": None, "team": "core"}})
    assert r.status_code == 204, r.text
    meta = kv.read_secret_metadata(key)["data"]
    assert meta["custom_metadata"] == {"owner": "ops", "team": "core"}
    assert meta["max_versions"] == 7  # untouched by the patch
    written = kv.create_or_update_secret(key, {"v": 2})["data"]
    assert written["custom_metadata"] == {"owner": "ops", "team": "core"}
    # Metadata may exist before any version does.
    fresh = unique("meta-first")
    assert api(srv, "POST", f"secret/metadata/{fresh}", json={"max_versions": 1}).status_code == 204
    assert kv.read_secret_metadata(fresh)["data"]["current_version"] == 0
    assert api(srv, "GET", f"secret/data/{fresh}").status_code == 404


# ---- PATCH --------------------------------------------------------------------------------

def test_merge_patch_of_data(srv, kv, key):
    kv.create_or_update_secret(key, {"a": "1", "b": {"c": 1, "d": 2}, "gone": True})
    r = api(srv, "PATCH", f"secret/data/{key}", headers=MERGE,
            json={"data": {"b": {"d": None, "e": 3}, "gone": None, "new": "x"}})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["version"] == 2
    assert kv.read_secret_version(key)["data"]["data"] == {"a": "1", "b": {"c": 1, "e": 3}, "new": "x"}
    r = api(srv, "PATCH", f"secret/data/{key}", headers=MERGE,
            json={"options": {"cas": 1}, "data": {"a": "stale"}})
    assert r.status_code == 400, r.text
    r = api(srv, "PATCH", f"secret/data/{key}", headers=MERGE,
            json={"options": {"cas": 2}, "data": {"a": "fresh"}})
    assert r.status_code == 200, r.text
    assert kv.read_secret_version(key)["data"]["data"]["a"] == "fresh"
    # hvac's own patch (read + CAS write) lands on top.
    kv.patch(key, {"hvac": True})
    assert kv.read_secret_version(key)["data"]["data"]["hvac"] is True


def test_patch_needs_merge_patch_content_type_and_an_existing_key(srv, kv, key):
    kv.create_or_update_secret(key, {"a": 1})
    r = api(srv, "PATCH", f"secret/data/{key}", json={"data": {"a": 2}})
    assert r.status_code == 415, r.text
    r = api(srv, "PATCH", f"secret/data/{unique('absent')}", headers=MERGE, json={"data": {"a": 2}})
    assert r.status_code == 404, r.text
    kv.delete_latest_version_of_secret(key)
    r = api(srv, "PATCH", f"secret/data/{key}", headers=MERGE, json={"data": {"a": 3}})
    assert r.status_code == 404, r.text
    kv.undelete_secret_versions(key, [1])
    assert kv.read_secret_version(key)["data"]["data"] == {"a": 1}


def test_patch_needs_the_patch_capability(srv, kv, key):
    kv.create_or_update_secret(key, {"a": 1})
    rw, patcher = unique("rw"), unique("patcher")
    put_policy(srv, rw, f'path "secret/data/{key}" {{ capabilities = ["create", "read", "update"] }}')
    put_policy(srv, patcher, f'path "secret/data/{key}" {{ capabilities = ["patch", "read"] }}')
    t_rw = create_token(srv, policies=[rw])["client_token"]
    t_patch = create_token(srv, policies=[patcher])["client_token"]
    r = api(srv, "PATCH", f"secret/data/{key}", token=t_rw, headers=MERGE, json={"data": {"a": 2}})
    assert r.status_code == 403, r.text
    assert put(srv, key, {"a": 2}, token=t_patch).status_code == 403
    r = api(srv, "PATCH", f"secret/data/{key}", token=t_patch, headers=MERGE, json={"data": {"b": 3}})
    assert r.status_code == 200, r.text
    assert kv.read_secret_version(key)["data"]["data"] == {"a": 1, "b": 3}


# ---- subkeys --------------------------------------------------------------------------------

def test_subkeys(srv, kv, key):
    kv.create_or_update_secret(key, {"a": 1, "b": {"c": "x", "d": {"e": True}}, "f": [1, 2]})
    kv.create_or_update_secret(key, {"only": "v2"})
    r = api(srv, "GET", f"secret/subkeys/{key}", params={"version": 1})
    assert r.status_code == 200, r.text
    body = r.json()["data"]
    assert body["subkeys"] == {"a": None, "b": {"c": None, "d": {"e": None}}, "f": None}
    assert body["metadata"]["version"] == 1
    r = api(srv, "GET", f"secret/subkeys/{key}", params={"version": 1, "depth": 1})
    assert r.json()["data"]["subkeys"] == {"a": None, "b": None, "f": None}
    r = api(srv, "GET", f"secret/subkeys/{key}")
    assert r.json()["data"]["subkeys"] == {"only": None}
    kv.delete_latest_version_of_secret(key)
    assert api(srv, "GET", f"secret/subkeys/{key}").status_code == 404


# ---- ACL on v2 paths ----------------------------------------------------------------------

def test_acl_on_data_and_metadata_paths(srv, kv):
    folder = unique("acl2")
    kv.create_or_update_secret(f"{folder}/app/db", {"pw": "x"})
    name = unique("v2-reader")
    put_policy(srv, name, f'''
path "secret/data/{folder}/app/*" {{ capabilities = ["read"] }}
path "secret/metadata/{folder}/*" {{ capabilities = ["list"] }}
''')
    token = create_token(srv, policies=[name])["client_token"]
    client = srv.client(token).secrets.kv.v2
    assert client.read_secret_version(f"{folder}/app/db")["data"]["data"] == {"pw": "x"}
    assert client.list_secrets(f"{folder}/app")["data"]["keys"] == ["db"]
    with pytest.raises(hvac.exceptions.Forbidden):
        client.create_or_update_secret(f"{folder}/app/db", {"pw": "hijacked"})
    with pytest.raises(hvac.exceptions.Forbidden):
        client.read_secret_metadata(f"{folder}/app/db")
    with pytest.raises(hvac.exceptions.Forbidden):
        client.delete_metadata_and_all_versions(f"{folder}/app/db")
    assert kv.read_secret_version(f"{folder}/app/db")["data"]["data"] == {"pw": "x"}


# ---- wrong paths and bad input ------------------------------------------------------------

def test_v1_style_paths_on_a_v2_mount_are_404_with_a_hint(srv, key):
    r = api(srv, "POST", f"secret/{key}", json={"v": 1})
    assert r.status_code == 404, r.text
    assert any("Invalid path for a versioned K/V secrets engine" in w for w in r.json()["warnings"])
    r = api(srv, "GET", f"secret/{key}")
    assert r.status_code == 404
    assert api(srv, "GET", f"secret/metadata/{key}").status_code == 404


@pytest.mark.parametrize("method, path, kw, words", [
    ("POST", "data/{k}", {"json": {"v": 1}}, ("no data provided",)),
    ("POST", "data/{k}", {"json": {"data": "text"}}, ("data",)),
    ("POST", "data/{k}", {"json": {"data": [1, 2]}}, ("data",)),
    ("POST", "data/{k}", {"json": {"data": {"v": 1}, "options": "cas=1"}}, ("options",)),
    ("POST", "data/{k}", {"json": {"data": {"v": 1}, "options": {"cas": "abc"}}},
     ("check-and-set",)),
    ("POST", "data/{k}", {"json": {"data": {"v": 1}, "options": {"cas": -3}}}, ("check-and-set",)),
    ("GET", "data/{k}", {"params": {"version": "abc"}}, ("version",)),
    ("POST", "delete/{k}", {"json": {"versions": []}}, ("version",)),
    ("POST", "delete/{k}", {"json": {"versions": "one"}}, ("versions",)),
    ("POST", "undelete/{k}", {"json": {"versions": ["x"]}}, ("versions",)),
    ("PUT", "destroy/{k}", {"json": {"versions": {"a": 1}}}, ("versions",)),
    ("PUT", "destroy/{k}", {"json": {}}, ("version",)),
    ("POST", "metadata/{k}", {"json": {"max_versions": "many"}}, ("max_versions",)),
    ("POST", "metadata/{k}", {"json": {"max_versions": 10 ** 30}}, ("max_versions",)),
    ("POST", "metadata/{k}", {"json": {"max_versions": 1.5e300}}, ("max_versions",)),
    ("POST", "metadata/{k}", {"json": {"cas_required": "perhaps"}}, ("cas_required",)),
    ("POST", "metadata/{k}", {"json": {"delete_version_after": "soon"}}, ("delete_version_after", "soon", "duration")),
    ("POST", "metadata/{k}", {"json": {"custom_metadata": {"owner": {"nested": 1}}}}, ("custom_metadata",)),
    ("POST", "config", {"json": {"max_versions": "lots"}}, ("max_versions",)),
    ("POST", "config", {"json": {"max_versions": 10 ** 30}}, ("max_versions",)),
    ("POST", "config", {"json": {"delete_version_after": []}}, ("delete_version_after",)),
])
def test_bad_input_is_400_with_a_clear_message_and_changes_nothing(srv, kv, key, method, path, kw, words):
    kv.create_or_update_secret(key, {"original": True})
    kv.create_or_update_secret(key, {"original": "v2"})
    before = snapshot(srv, key)
    config_before = kv.read_configuration()["data"]
    r = api(srv, method, "secret/" + path.format(k=key), **kw)
    assert r.status_code == 400, f"{method} {path} {kw}: {r.status_code} {r.text}"
    message = error_text(r)
    assert any(w in message.lower() for w in words), f"unclear error: {message!r}"
    assert snapshot(srv, key) == before
    assert kv.read_configuration()["data"] == config_before


@pytest.mark.parametrize("method, path, body", [
    ("POST", "delete/{k}", {"versions": [-1]}),
    ("POST", "undelete/{k}", {"versions": [-1, -7]}),
    ("PUT", "destroy/{k}", {"versions": [-2]}),
    ("POST", "delete/{k}", {"versions": [99]}),
    ("PUT", "destroy/{k}", {"versions": [2 ** 62]}),
])
def test_negative_or_unknown_versions_touch_nothing(srv, kv, key, method, path, body):
    kv.create_or_update_secret(key, {"v": 1})
    kv.create_or_update_secret(key, {"v": 2})
    before = snapshot(srv, key)
    r = api(srv, method, "secret/" + path.format(k=key), json=body)
    # Vault ignores versions that do not exist (204); a 400 naming them is fine too.
    assert r.status_code in (204, 400), f"{body}: {r.status_code} {r.text}"
    if r.status_code == 400:
        assert "version" in error_text(r).lower()
    assert snapshot(srv, key) == before
    assert kv.read_secret_version(key, version=1)["data"]["data"] == {"v": 1}


def test_negative_version_read_is_never_a_server_error(srv, kv, key):
    kv.create_or_update_secret(key, {"v": 1})
    kv.create_or_update_secret(key, {"v": 2})
    r = api(srv, "GET", f"secret/data/{key}", params={"version": -1})
    # Vault treats a version below 1 as "latest"; a 400 naming the field is acceptable too.
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json()["data"]["data"] == {"v": 2}
    else:
        assert "version" in error_text(r).lower()


def test_negative_max_versions_does_not_lose_versions(srv, kv, key):
    for i in (1, 2, 3):
        kv.create_or_update_secret(key, {"v": i})
    r = api(srv, "POST", f"secret/metadata/{key}", json={"max_versions": -1})
    assert r.status_code in (204, 400), r.text
    kv.create_or_update_secret(key, {"v": 4})
    for i in (1, 2, 3, 4):
        assert kv.read_secret_version(key, version=i)["data"]["data"] == {"v": i}
