"""Initialization, Shamir unseal, seal, health, leader and key rotation, through hvac."""

from __future__ import annotations

import base64
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import hvac
import pytest
import requests

from coffer_harness import error_list, error_text, initialize, new_session, unseal

HEX = re.compile(r"^[0-9a-f]+$")


def seal_status(server) -> dict:
    r = server.http("GET", "/v1/sys/seal-status")
    assert r.status_code == 200, r.text
    return r.json()


# ---- init -------------------------------------------------------------------

def test_fresh_server_is_uninitialized_and_sealed(sqlite_server):
    client = sqlite_server.client()
    assert client.sys.is_initialized() is False
    status = client.sys.read_seal_status()
    assert status["initialized"] is False
    assert status["sealed"] is True
    assert status["type"] == "shamir"
    assert isinstance(status["version"], str) and status["version"]
    assert "==> Coffer server started!" in sqlite_server.stdout_text()


def test_init_five_shares_returns_five_distinct_hex_keys(sqlite_server):
    result = initialize(sqlite_server, 5, 3)
    keys, keys_b64 = result["keys"], result["keys_base64"]
    assert len(keys) == 5 and len(set(keys)) == 5
    for k in keys:
        # 32-byte key plus the one-byte x coordinate of the share.
        assert len(k) == 66 and HEX.match(k), k
    assert len(keys_b64) == 5
    assert [base64.b64decode(k).hex() for k in keys_b64] == keys
    assert isinstance(result["root_token"], str) and len(result["root_token"]) >= 16

    client = sqlite_server.client()
    assert client.sys.is_initialized() is True
    status = client.sys.read_seal_status()
    assert (status["initialized"], status["sealed"]) == (True, True)
    assert (status["t"], status["n"], status["progress"]) == (3, 5, 0)


def test_init_single_share_key_is_the_bare_32_bytes(sqlite_server):
    result = initialize(sqlite_server, 1, 1)
    assert len(result["keys"]) == 1
    assert len(result["keys"][0]) == 64 and HEX.match(result["keys"][0])
    status = sqlite_server.client().sys.submit_unseal_key(result["keys"][0])
    assert status["sealed"] is False
    assert (status["t"], status["n"]) == (1, 1)


def test_init_twice_is_rejected(sqlite_server):
    first = initialize(sqlite_server, 3, 2)
    r = sqlite_server.http("PUT", "/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1})
    assert r.status_code == 400, r.text
    assert "initialized" in error_text(r).lower()
    # The original keys still unseal; nothing was re-keyed.
    assert unseal(sqlite_server, first["keys"], 2)["sealed"] is False


@pytest.mark.parametrize("body, field", [
    ({"secret_shares": "abc", "secret_threshold": 1}, "secret_shares"),
    ({"secret_shares": 3, "secret_threshold": "two"}, "secret_threshold"),
    ({"secret_shares": 3, "secret_threshold": 5}, "threshold"),
    ({"secret_shares": 0, "secret_threshold": 0}, "shares"),
    ({"secret_shares": 256, "secret_threshold": 3}, "shares"),
    ({"secret_shares": 3, "secret_threshold": 0}, "threshold"),
    ({"secret_shares": 3, "secret_threshold": 1}, "threshold"),
    ({"secret_shares": -5, "secret_threshold": 1}, "shares"),
    ({"secret_shares": 2.5, "secret_threshold": 1}, "shares"),
    ({"secret_shares": [3], "secret_threshold": 2}, "secret_shares"),
])
def test_bad_init_bodies_are_400_naming_the_field(sqlite_server, body, field):
    r = sqlite_server.http("PUT", "/v1/sys/init", json=body)
    assert r.status_code == 400, f"{body} -> {r.status_code} {r.text}"
    assert field in error_text(r).lower(), f"{body} -> error does not name {field!r}: {r.text}"
    assert sqlite_server.client().sys.is_initialized() is False


def test_malformed_init_json_is_400_and_server_still_initializable(sqlite_server):
    for raw in (b'{"secret_shares": 3,', b"[1, 2]", b"not json"):
        r = sqlite_server.http("PUT", "/v1/sys/init", data=raw,
                               headers={"Content-Type": "application/json"})
        assert r.status_code == 400, f"{raw!r} -> {r.status_code} {r.text}"
        assert error_list(r) and all(isinstance(e, str) and e for e in error_list(r))
    result = initialize(sqlite_server, 1, 1)
    assert len(result["keys"]) == 1


# ---- unseal -----------------------------------------------------------------

def test_unseal_progress_counts_until_threshold(sqlite_server):
    keys = initialize(sqlite_server, 5, 3)["keys"]
    client = sqlite_server.client()

    s1 = client.sys.submit_unseal_key(keys[0])
    assert (s1["sealed"], s1["progress"], s1["t"], s1["n"]) == (True, 1, 3, 5)
    assert isinstance(s1["nonce"], str) and s1["nonce"]
    s2 = client.sys.submit_unseal_key(keys[1])
    assert (s2["sealed"], s2["progress"]) == (True, 2)
    assert s2["nonce"] == s1["nonce"]
    assert seal_status(sqlite_server)["progress"] == 2
    # Still sealed: KV and health say so.
    assert sqlite_server.http("GET", "/v1/sys/health").status_code == 503

    s3 = client.sys.submit_unseal_key(keys[2])
    assert s3["sealed"] is False
    assert s3["progress"] == 0
    assert client.sys.is_sealed() is False
    assert sqlite_server.http("GET", "/v1/sys/health").status_code == 200


def test_any_threshold_subset_unseals_including_base64_keys(sqlite_server):
    result = initialize(sqlite_server, 5, 3)
    client = sqlite_server.client()
    status = client.sys.submit_unseal_keys([result["keys_base64"][4], result["keys"][2],
                                            result["keys_base64"][0]])
    assert status["sealed"] is False


def test_unseal_reset_discards_progress(sqlite_server):
    keys = initialize(sqlite_server, 5, 3)["keys"]
    client = sqlite_server.client()
    first = client.sys.submit_unseal_key(keys[0])
    client.sys.submit_unseal_key(keys[1])
    reset = client.sys.submit_unseal_key(reset=True)
    assert (reset["sealed"], reset["progress"]) == (True, 0)
    assert seal_status(sqlite_server)["progress"] == 0
    # One more key after the reset is progress 1 of a new attempt, not an unseal.
    again = client.sys.submit_unseal_key(keys[2])
    assert (again["sealed"], again["progress"]) == (True, 1)
    assert again["nonce"] and again["nonce"] != first["nonce"]
    client.sys.submit_unseal_key(keys[3])
    assert client.sys.submit_unseal_key(keys[4])["sealed"] is False


def test_duplicate_share_does_not_advance(sqlite_server):
    keys = initialize(sqlite_server, 5, 3)["keys"]
    client = sqlite_server.client()
    assert client.sys.submit_unseal_key(keys[0])["progress"] == 1
    r = sqlite_server.http("PUT", "/v1/sys/unseal", json={"key": keys[0]})
    assert r.status_code == 200, r.text
    assert (r.json()["progress"], r.json()["sealed"]) == (1, True)
    r = sqlite_server.http("PUT", "/v1/sys/unseal", json={"key": keys[0]})
    assert (r.json()["progress"], r.json()["sealed"]) == (1, True)
    assert client.sys.submit_unseal_key(keys[1])["progress"] == 2
    assert client.sys.submit_unseal_key(keys[2])["sealed"] is False


def test_wrong_share_at_threshold_fails_and_stays_sealed(sqlite_server):
    keys = initialize(sqlite_server, 5, 3)["keys"]
    client = sqlite_server.client()
    client.sys.submit_unseal_key(keys[0])
    client.sys.submit_unseal_key(keys[1])
    used_x = {bytes.fromhex(k)[-1] for k in keys}
    x = next(i for i in range(1, 256) if i not in used_x)
    bogus = (os.urandom(32) + bytes([x])).hex()
    r = sqlite_server.http("PUT", "/v1/sys/unseal", json={"key": bogus})
    assert r.status_code == 400, r.text
    assert error_list(r)
    status = seal_status(sqlite_server)
    assert status["sealed"] is True
    assert status["progress"] == 0
    assert sqlite_server.http("GET", "/v1/sys/health").status_code == 503
    # The genuine shares still work afterwards.
    assert client.sys.submit_unseal_keys(keys[2:5])["sealed"] is False


# ---- seal -------------------------------------------------------------------

def test_seal_blocks_everything_but_unauthenticated_sys(unsealed):
    client, server, token = unsealed.client, unsealed.server, unsealed.root_token
    client.secrets.kv.v1.create_or_update_secret("app/db", {"password": "s3cr3t"}, mount_point="secret")

    resp = client.sys.seal()
    assert resp.status_code == 204
    assert client.sys.is_sealed() is True

    for tok in (token, None, "not-a-token"):
        r = server.http("GET", "/v1/secret/app/db", token=tok)
        assert r.status_code == 503, f"token={tok!r}: {r.status_code} {r.text}"
        assert r.json() == {"errors": ["Vault is sealed"]}
    r = server.http("GET", "/v1/sys/mounts", token=token)
    assert r.status_code == 503 and r.json() == {"errors": ["Vault is sealed"]}
    r = server.http("POST", "/v1/secret/app/other", token=token, json={"a": 1})
    assert r.status_code == 503
    with pytest.raises(hvac.exceptions.VaultDown):
        client.secrets.kv.v1.read_secret("app/db", mount_point="secret")

    # The unauthenticated endpoints still answer.
    assert seal_status(server)["sealed"] is True
    assert server.http("GET", "/v1/sys/health").status_code == 503
    assert server.http("GET", "/v1/sys/init").json()["initialized"] is True

    unsealed.unseal()
    assert client.secrets.kv.v1.read_secret("app/db", mount_point="secret")["data"] == {"password": "s3cr3t"}
    r = server.http("GET", "/v1/secret/app/other", token=token)
    assert r.status_code == 404, "a write made while sealed must not have happened"


def test_seal_requires_a_valid_token(unsealed):
    server = unsealed.server
    for headers in ({}, {"X-Vault-Token": "bogus-token"}):
        r = server.http("PUT", "/v1/sys/seal", headers=headers)
        assert r.status_code == 403, f"{headers}: {r.status_code} {r.text}"
        assert "permission denied" in error_list(r)
    assert seal_status(server)["sealed"] is False


def test_sealing_twice_and_unsealing_an_unsealed_server(unsealed):
    client = unsealed.client
    client.sys.seal()
    r = unsealed.server.http("PUT", "/v1/sys/seal", token=unsealed.root_token)
    assert r.status_code in (204, 503), r.text
    unsealed.unseal()
    # Extra share on an unsealed server: reports unsealed, does not reseal.
    r = unsealed.server.http("PUT", "/v1/sys/unseal", json={"key": unsealed.keys[3]})
    assert r.status_code == 200, r.text
    assert r.json()["sealed"] is False
    assert client.sys.is_sealed() is False


# ---- health / leader ----------------------------------------------------------

def _health(server, query=""):
    return server.http("GET", "/v1/sys/health" + query)


def test_health_codes_and_overrides(sqlite_server):
    server = sqlite_server
    r = _health(server)
    assert r.status_code == 501
    body = r.json()
    assert (body["initialized"], body["sealed"], body["standby"]) == (False, True, False)
    assert _health(server, "?uninitcode=200").status_code == 200
    assert _health(server, "?uninitcode=299").status_code == 299
    assert server.http("HEAD", "/v1/sys/health").status_code == 501

    result = initialize(server, 3, 2)
    r = _health(server)
    assert r.status_code == 503
    assert (r.json()["initialized"], r.json()["sealed"]) == (True, True)
    assert _health(server, "?sealedcode=200").status_code == 200
    assert _health(server, "?sealedcode=299").status_code == 299
    hv = server.client().sys.read_health_status(method="GET")
    assert getattr(hv, "status_code", None) == 503

    unseal(server, result["keys"], 2)
    hv = server.client().sys.read_health_status(method="GET")
    assert isinstance(hv, dict), hv
    assert (hv["initialized"], hv["sealed"], hv["standby"]) == (True, False, False)
    assert isinstance(hv["server_time_utc"], int) and hv["server_time_utc"] > 1_600_000_000
    assert isinstance(hv["version"], str) and hv["version"]
    assert _health(server, "?activecode=299").status_code == 299
    assert _health(server, "?standbyok=true").status_code == 200
    assert server.http("HEAD", "/v1/sys/health").status_code == 200


def test_leader_reports_no_ha(unsealed):
    leader = unsealed.client.sys.read_leader_status()
    assert leader["ha_enabled"] is False
    assert leader.get("leader_address", "") == ""


def test_leader_answers_while_sealed(sqlite_server):
    """Vault reports ha_enabled=false on a sealed non-HA server (its CLI `status` shows it)."""
    server = sqlite_server
    initialize(server, 1, 1)
    r = server.http("GET", "/v1/sys/leader")
    assert r.status_code == 200, r.text
    assert r.json()["ha_enabled"] is False


# ---- rotation -----------------------------------------------------------------

def test_rotate_increments_term_and_old_data_stays_readable(unsealed):
    client = unsealed.client
    kv = client.secrets.kv.v1
    kv.create_or_update_secret("before", {"v": "old"}, mount_point="secret")

    status0 = client.sys.get_encryption_key_status()
    term0 = status0["term"]
    assert isinstance(term0, int) and term0 >= 1
    assert status0["data"]["term"] == term0
    assert isinstance(status0["install_time"], str) and status0["install_time"]
    assert isinstance(status0["encryptions"], int)

    assert client.sys.rotate_encryption_key().status_code == 204
    status1 = client.sys.get_encryption_key_status()
    assert status1["term"] == term0 + 1
    assert status1["data"]["term"] == term0 + 1

    kv.create_or_update_secret("after", {"v": "new"}, mount_point="secret")
    assert client.sys.rotate_encryption_key().status_code == 204
    assert client.sys.get_encryption_key_status()["term"] == term0 + 2

    assert kv.read_secret("before", mount_point="secret")["data"] == {"v": "old"}
    assert kv.read_secret("after", mount_point="secret")["data"] == {"v": "new"}
    # The mount table (written before the rotations) is still readable.
    assert "secret/" in client.sys.list_mounted_secrets_engines()["data"]

    # Survives a seal/unseal cycle too.
    client.sys.seal()
    unsealed.unseal()
    assert client.sys.get_encryption_key_status()["term"] == term0 + 2
    assert kv.read_secret("before", mount_point="secret")["data"] == {"v": "old"}


def test_rotate_and_key_status_need_a_token(unsealed):
    server = unsealed.server
    term = unsealed.client.sys.get_encryption_key_status()["term"]
    assert server.http("PUT", "/v1/sys/rotate").status_code == 403
    assert server.http("GET", "/v1/sys/key-status").status_code == 403
    assert unsealed.client.sys.get_encryption_key_status()["term"] == term


# ---- concurrency ----------------------------------------------------------------

def test_concurrent_init_only_one_wins(sqlite_server):
    n = 8
    start = threading.Barrier(n)

    def attempt(_):
        session = new_session()
        start.wait()
        r = session.put(sqlite_server.url + "/v1/sys/init",
                        json={"secret_shares": 1, "secret_threshold": 1}, timeout=30)
        return r.status_code, (r.json() if r.status_code == 200 else r.text)

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(attempt, range(n)))
    winners = [body for status, body in results if status == 200]
    assert len(winners) == 1, f"{len(winners)} concurrent inits succeeded: {results}"
    assert all(status == 400 for status, _ in results if status != 200), results
    unseal(sqlite_server, winners[0]["keys"], 1)
    client = sqlite_server.client(winners[0]["root_token"])
    assert client.sys.enable_secrets_engine("kv", path="kv", options={"version": "1"}).status_code == 204


def test_concurrent_unseal_submissions(sqlite_server):
    keys = initialize(sqlite_server, 5, 3)["keys"]
    start = threading.Barrier(len(keys))

    def submit(key):
        session = new_session()
        start.wait()
        r = session.put(sqlite_server.url + "/v1/sys/unseal", json={"key": key}, timeout=30)
        return r.status_code, r.text

    with ThreadPoolExecutor(len(keys)) as pool:
        results = list(pool.map(submit, keys))
    assert all(status == 200 for status, _ in results), results
    status = seal_status(sqlite_server)
    assert (status["sealed"], status["progress"]) == (False, 0)


def _writers(server, token, n_threads, stop, acked, statuses, errors):
    def run(t):
        session = new_session()
        i = 0
        while not stop.is_set():
            path = f"conc/t{t}/k{i}"
            value = f"{t}-{i}-{os.urandom(4).hex()}"
            try:
                r = session.post(f"{server.url}/v1/secret/{path}", json={"v": value},
                                 headers={"X-Vault-Token": token}, timeout=30)
            except requests.RequestException as e:
                errors.append(f"{path}: {e}")
                return
            statuses.append(r.status_code)
            if r.status_code == 204:
                acked[path] = value
            elif r.status_code == 503 and r.text.strip() != '{"errors":["Vault is sealed"]}' \
                    and r.json() != {"errors": ["Vault is sealed"]}:
                errors.append(f"{path}: sealed answer with an unexpected body {r.text[:200]}")
            i += 1
    threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in range(n_threads)]
    for t in threads:
        t.start()
    return threads


def _check_acked(client, acked):
    for path, value in acked.items():
        assert client.secrets.kv.v1.read_secret(path, mount_point="secret")["data"] == {"v": value}, path


def test_seal_and_unseal_while_writes_are_in_flight(unsealed):
    stop = threading.Event()
    acked, statuses, errors = {}, [], []
    threads = _writers(unsealed.server, unsealed.root_token, 4, stop, acked, statuses, errors)
    try:
        for _ in range(3):
            time.sleep(0.2)
            assert unsealed.client.sys.seal().status_code == 204
            time.sleep(0.1)
            unsealed.unseal()
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    assert set(statuses) <= {204, 503}, sorted(set(statuses))
    assert statuses.count(204) > 0 and statuses.count(503) > 0
    assert unsealed.server.alive()
    _check_acked(unsealed.client, acked)


def test_rotate_while_writes_are_in_flight(unsealed):
    client = unsealed.client
    term0 = client.sys.get_encryption_key_status()["term"]
    stop = threading.Event()
    acked, statuses, errors = {}, [], []
    threads = _writers(unsealed.server, unsealed.root_token, 4, stop, acked, statuses, errors)
    try:
        for _ in range(5):
            time.sleep(0.1)
            assert client.sys.rotate_encryption_key().status_code == 204
        time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    assert set(statuses) == {204}, sorted(set(statuses))
    assert client.sys.get_encryption_key_status()["term"] == term0 + 5
    _check_acked(client, acked)
    client.sys.seal()
    unsealed.unseal()
    _check_acked(client, acked)


# ---- methods ----------------------------------------------------------------------

def test_sys_endpoints_reject_wrong_methods(unsealed):
    server, token = unsealed.server, unsealed.root_token
    for method, path in [("POST", "/v1/sys/health"), ("DELETE", "/v1/sys/init"),
                         ("POST", "/v1/sys/seal-status"), ("GET", "/v1/sys/unseal"),
                         ("GET", "/v1/sys/seal"), ("DELETE", "/v1/sys/unseal")]:
        r = server.http(method, path, token=token)
        assert r.status_code == 405, f"{method} {path}: {r.status_code} {r.text[:200]}"
    assert unsealed.client.sys.is_sealed() is False


def test_seal_status_reports_the_build_date(sqlite_server):
    from datetime import datetime, timezone
    status = sqlite_server.http("GET", "/v1/sys/seal-status").json()
    built = datetime.strptime(status["build_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    # the binary under test was configured before this test started, and not in another era
    assert built <= datetime.now(timezone.utc)
    assert (datetime.now(timezone.utc) - built).days < 366
