"""Clean shutdown on SIGTERM and a restart from the same SQLite file."""

from __future__ import annotations

import sqlite3
import uuid

from coffer_harness import init_and_unseal


def _seal_status(server):
    r = server.http("GET", "/v1/sys/seal-status")
    assert r.status_code == 200, r.text
    return r.json()


def _write_many(kv, mount, prefix, n):
    written = {}
    for i in range(n):
        path = f"{prefix}/{i % 5}/item-{i}"
        value = {"i": i, "value": uuid.uuid4().hex, "nested": {"list": [i, str(i)]}}
        kv.create_or_update_secret(path, value, mount_point=mount)
        written[path] = value
    return written


def _check_all(kv, mount, written):
    for path, value in written.items():
        assert kv.read_secret(path, mount_point=mount)["data"] == value, path


def test_sigterm_then_restart_keeps_everything(make_server):
    server = make_server("restart")
    u = init_and_unseal(server)
    kv = u.client.secrets.kv.v1
    written = _write_many(kv, "secret", "apps", 40)
    u.client.sys.enable_secrets_engine("kv", path="second", options={"version": "1"})
    kv.create_or_update_secret("only/here", {"x": "y"}, mount_point="second")
    u.client.sys.enable_secrets_engine("kv", path="doomed", options={"version": "1"})
    kv.create_or_update_secret("will/vanish", {"x": "z"}, mount_point="doomed")
    u.client.sys.disable_secrets_engine("doomed")
    kv.create_or_update_secret("apps/0/item-0", {"overwritten": True}, mount_point="secret")
    written["apps/0/item-0"] = {"overwritten": True}
    kv.delete_secret("apps/1/item-1", mount_point="secret")
    del written["apps/1/item-1"]

    assert server.stop() == 0, "SIGTERM must be a clean exit (status 0)"
    server.start()
    assert server.stdout_text().count("==> Coffer server started!") == 2

    status = _seal_status(server)
    assert (status["initialized"], status["sealed"], status["progress"]) == (True, True, 0)
    assert (status["t"], status["n"]) == (3, 5)
    r = server.http("GET", "/v1/secret/apps/0/item-0", token=u.root_token)
    assert r.status_code == 503

    # A different subset of the shares than the one used at init.
    status = u.client.sys.submit_unseal_keys([u.keys[4], u.keys[3], u.keys[1]])
    assert status["sealed"] is False

    _check_all(kv, "secret", written)
    r = server.http("GET", "/v1/secret/apps/1/item-1", token=u.root_token)
    assert r.status_code == 404
    listed = sorted(kv.list_secrets("apps", mount_point="secret")["data"]["keys"])
    assert listed == ["0/", "1/", "2/", "3/", "4/"]
    assert kv.read_secret("only/here", mount_point="second")["data"] == {"x": "y"}
    mounts = u.client.sys.list_mounted_secrets_engines()["data"]
    assert mounts["second/"]["type"] == "kv" and mounts["secret/"]["type"] == "kv"
    assert "doomed/" not in mounts
    r = server.http("GET", "/v1/doomed/will/vanish", token=u.root_token)
    assert r.status_code == 404

    # The root token survived the restart and writes keep working.
    kv.create_or_update_secret("after/restart", {"ok": 1}, mount_point="secret")
    assert server.stop() == 0
    server.start()
    u.unseal()
    assert kv.read_secret("after/restart", mount_point="secret")["data"] == {"ok": 1}
    _check_all(kv, "secret", written)


def test_restart_after_rotate(make_server):
    server = make_server("rotate-restart")
    u = init_and_unseal(server, 3, 2)
    kv = u.client.secrets.kv.v1
    term0 = u.client.sys.get_encryption_key_status()["term"]
    written = _write_many(kv, "secret", "r0", 10)
    u.client.sys.rotate_encryption_key()
    written.update(_write_many(kv, "secret", "r1", 10))
    u.client.sys.rotate_encryption_key()
    written.update(_write_many(kv, "secret", "r2", 10))
    # Rewrite an old key under the newest term.
    kv.create_or_update_secret("r0/0/item-0", {"rewritten": "yes"}, mount_point="secret")
    written["r0/0/item-0"] = {"rewritten": "yes"}

    assert server.stop() == 0
    server.start()
    assert _seal_status(server)["sealed"] is True
    u.unseal()
    assert u.client.sys.get_encryption_key_status()["term"] == term0 + 2
    _check_all(kv, "secret", written)

    u.client.sys.rotate_encryption_key()
    kv.create_or_update_secret("r3/new", {"v": 3}, mount_point="secret")
    assert server.stop() == 0
    server.start()
    u.unseal()
    assert u.client.sys.get_encryption_key_status()["term"] == term0 + 3
    written["r3/new"] = {"v": 3}
    _check_all(kv, "secret", written)


def test_uninitialized_restart_stays_uninitialized(make_server):
    server = make_server("uninit-restart")
    assert server.stop() == 0
    server.start()
    assert _seal_status(server)["initialized"] is False
    u = init_and_unseal(server, 1, 1)
    assert u.client.sys.is_sealed() is False


def test_dev_storage_persists_ciphertext_only(make_server, tmp_path):
    db = tmp_path / "dev.db"
    server = make_server("dev-storage", dev=True, dev_storage=db)
    canary = "dev-canary-" + uuid.uuid4().hex
    client = server.client(server.root_token)
    client.secrets.kv.v2.create_or_update_secret("c", {"v": canary}, mount_point="secret")  # dev: KV v2
    assert client.secrets.kv.v2.read_secret_version("c", mount_point="secret")["data"]["data"] == {"v": canary}
    assert server.stop() == 0
    files = [p for p in tmp_path.iterdir() if p.name.startswith("dev.db")]
    assert db.exists() and db.stat().st_size > 0, "-dev-storage did not create the SQLite file"
    for p in files:
        assert canary.encode() not in p.read_bytes(), f"plaintext secret in {p.name}"


def _find_storage_row(db_path, logical_suffix):
    """(table, key column, value column, key) of the stored entry whose key ends with the path."""
    con = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            for row in con.execute(f'SELECT * FROM "{table}"'):
                keys = [(c, v) for c, v in zip(cols, row) if isinstance(v, str) and v.endswith(logical_suffix)]
                blobs = [c for c, v in zip(cols, row) if isinstance(v, bytes)]
                if keys and blobs:
                    return table, keys[0][0], blobs[0], keys[0][1]
    finally:
        con.close()
    raise AssertionError(f"no storage row for {logical_suffix!r} in {db_path}")


def test_tampered_storage_is_an_error_never_garbage(make_server):
    server = make_server("tamper")
    u = init_and_unseal(server, 1, 1)
    kv = u.client.secrets.kv.v1
    values = {name: {"v": f"value-of-{name}-{uuid.uuid4().hex}"} for name in "abcde"}
    for name, value in values.items():
        kv.create_or_update_secret(f"tamper/{name}", value, mount_point="secret")
    assert server.stop() == 0

    rows = {name: _find_storage_row(server.db_path, f"tamper/{name}") for name in "abcd"}
    con = sqlite3.connect(server.db_path)
    try:
        def get_blob(name):
            t, kc, vc, k = rows[name]
            return con.execute(f'SELECT "{vc}" FROM "{t}" WHERE "{kc}" = ?', (k,)).fetchone()[0]

        def put_blob(name, blob):
            t, kc, vc, k = rows[name]
            con.execute(f'UPDATE "{t}" SET "{vc}" = ? WHERE "{kc}" = ?', (blob, k))

        a, b, c, d = (get_blob(n) for n in "abcd")
        put_blob("a", b)                                   # moved: b's ciphertext under a's path
        flipped = bytearray(c)
        flipped[len(flipped) // 2] ^= 0x01
        put_blob("c", bytes(flipped))                      # one bit flipped
        put_blob("d", d[: len(d) // 2])                    # truncated
        con.commit()
    finally:
        con.close()

    server.start()
    u.unseal()
    for name in "acd":
        r = server.http("GET", f"/v1/secret/tamper/{name}", token=u.root_token)
        assert r.status_code >= 400, f"tampered tamper/{name} was served: {r.status_code} {r.text[:200]}"
        assert "value-of-" not in r.text, f"tampered tamper/{name} leaked a value: {r.text[:200]}"
    assert server.alive()
    # Untouched entries are unaffected, including the one whose ciphertext was copied.
    assert kv.read_secret("tamper/b", mount_point="secret")["data"] == values["b"]
    assert kv.read_secret("tamper/e", mount_point="secret")["data"] == values["e"]
