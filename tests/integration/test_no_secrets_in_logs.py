"""Nothing secret reaches the server's output or the data directory in the clear.

A non-dev server goes through init, unseal, writes, bad requests carrying a
canary, seal, unseal, restart and SIGTERM; then everything it printed and every
file in its data directory is searched for the canary, every unseal key (hex,
base64 and raw bytes) and the root token.
"""

from __future__ import annotations

import base64
import uuid

from coffer_harness import init_and_unseal


def test_no_secret_in_output_or_data_files(make_server):
    # The most verbose level, where careless debug logging would show up.
    server = make_server("nolog", extra_args=("-log-level=trace",))
    u = init_and_unseal(server, 3, 3)
    token = u.root_token
    canary = "canary-" + uuid.uuid4().hex
    bad_token = "canary-token-" + uuid.uuid4().hex
    kv = u.client.secrets.kv.v1

    kv.create_or_update_secret("app/cfg", {"password": canary, "nested": {"deep": canary}},
                               mount_point="secret")
    assert kv.read_secret("app/cfg", mount_point="secret")["data"]["password"] == canary

    # The canary inside requests the server must reject.
    h = {"X-Vault-Token": token, "Content-Type": "application/json"}
    bad_bodies = [
        f'{{"password": "{canary}"'.encode(),              # truncated JSON
        f'["{canary}"]'.encode(),                          # not an object
        f'{{"password": "{canary}", }}'.encode(),          # trailing comma
    ]
    for body in bad_bodies:
        r = server.http("POST", "/v1/secret/app/bad", data=body, headers=h)
        assert r.status_code == 400, r.text
        assert canary not in r.text, "an error response echoed the secret"
    r = server.http("POST", "/v1/sys/tools/hash", token=token, json={"input": canary})
    assert r.status_code == 400 and canary not in r.text
    r = server.http("PUT", "/v1/sys/init", json={"secret_shares": canary, "secret_threshold": 1})
    assert r.status_code == 400 and canary not in r.text
    for header in ({"X-Vault-Token": bad_token}, {"Authorization": f"Bearer {bad_token}"}):
        r = server.http("GET", "/v1/secret/app/cfg", headers=header)
        assert r.status_code == 403
        assert bad_token not in r.text and canary not in r.text

    # A bad unseal key that carries the canary, then a seal/unseal cycle.
    u.client.sys.seal()
    r = server.http("PUT", "/v1/sys/unseal", json={"key": canary})
    assert r.status_code == 400 and canary not in r.text
    u.unseal()
    assert kv.read_secret("app/cfg", mount_point="secret")["data"]["password"] == canary

    assert server.stop() == 0
    server.start()
    u.unseal()
    assert kv.read_secret("app/cfg", mount_point="secret")["data"]["nested"]["deep"] == canary
    u.client.sys.rotate_encryption_key()
    kv.create_or_update_secret("app/after-rotate", {"password": canary}, mount_point="secret")
    assert server.stop() == 0

    needles: dict[str, bytes] = {
        "canary": canary.encode(),
        "canary-token": bad_token.encode(),
        "root token": token.encode(),
    }
    for i, key in enumerate(u.keys):
        raw = bytes.fromhex(key)
        needles[f"unseal key {i} (hex)"] = key.encode()
        needles[f"unseal key {i} (HEX)"] = key.upper().encode()
        needles[f"unseal key {i} (base64)"] = base64.b64encode(raw)
        needles[f"unseal key {i} (raw)"] = raw
    for i, key in enumerate(u.keys_base64):
        needles[f"unseal key {i} (keys_base64)"] = key.encode()

    output = server.output_bytes()
    assert b"==> Coffer server started!" in output  # we really are looking at its output
    haystacks = {"server stdout+stderr": output}
    data_files = [p for p in server.data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("coffer.db") for p in data_files), \
        f"no SQLite file in the data directory: {data_files}"
    for p in data_files:
        haystacks[f"data file {p.name}"] = p.read_bytes()

    leaks = [f"{what} found in {where}"
             for where, hay in haystacks.items()
             for what, needle in needles.items() if needle in hay]
    assert not leaks, "\n".join(leaks)
