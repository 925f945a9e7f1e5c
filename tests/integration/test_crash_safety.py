"""kill -9 under concurrent write load never loses an acknowledged write.

16 writer threads (one keep-alive session each) hammer a SQLite-backed server;
at a random moment the server is SIGKILLed. After a restart and unseal, every
write that got a 2xx must be there with exactly its value; writes that got no
answer may be missing but, if present, must hold the value that was sent; and
nothing stored may fail to decrypt. Twenty rounds on the same data directory, so
any damage would accumulate.
"""

from __future__ import annotations

import concurrent.futures
import random
import threading
import time
import uuid

import requests

from coffer_harness import init_and_unseal, initialize, new_session, unseal

ROUNDS = 20
WRITERS = 16
READERS = 8


class Round:
    def __init__(self, number: int):
        self.number = number
        self.attempted: dict[str, str] = {}   # path -> value sent
        self.acked: dict[str, str] = {}       # path -> value, answered 2xx
        self.bad_statuses: list[str] = []     # non-2xx answers while the server was up
        self.lock = threading.Lock()


def writer(server, token, rnd: Round, thread_no: int, stop: threading.Event):
    session = new_session()
    headers = {"X-Vault-Token": token}
    i = 0
    try:
        while not stop.is_set():
            path = f"crash/r{rnd.number:02d}/t{thread_no:02d}/k{i:05d}"
            value = f"{rnd.number}:{thread_no}:{i}:{uuid.uuid4().hex}"
            with rnd.lock:
                rnd.attempted[path] = value
            try:
                r = session.post(f"{server.url}/v1/secret/{path}", json={"v": value},
                                 headers=headers, timeout=10)
            except requests.RequestException:
                return  # the server died under us: this write is unacknowledged
            with rnd.lock:
                if 200 <= r.status_code < 300:
                    rnd.acked[path] = value
                else:
                    rnd.bad_statuses.append(f"POST {path} -> {r.status_code} {r.text[:200]}")
            i += 1
    finally:
        session.close()


def read_all(server, token, paths):
    """Reads every path with a few parallel sessions; returns {path: (status, value or text)}."""
    local = threading.local()

    def read(path):
        if not hasattr(local, "s"):
            local.s = new_session()
        r = local.s.get(f"{server.url}/v1/secret/{path}", headers={"X-Vault-Token": token}, timeout=30)
        if r.status_code == 200:
            return path, (200, r.json()["data"].get("v"))
        return path, (r.status_code, r.text[:200])

    with concurrent.futures.ThreadPoolExecutor(READERS) as pool:
        return dict(pool.map(read, paths))


def list_keys(server, token, folder):
    r = server.http("LIST", f"/v1/secret/{folder}", token=token)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, f"LIST {folder}: {r.status_code} {r.text[:200]}"
    return r.json()["data"]["keys"]


def stored_paths(server, token, round_no):
    """Every key the server lists under crash/rNN/ (two levels: thread, key)."""
    out = []
    base = f"crash/r{round_no:02d}/"
    for thread_dir in list_keys(server, token, base):
        assert thread_dir.endswith("/"), thread_dir
        out.extend(base + thread_dir + k for k in list_keys(server, token, base + thread_dir))
    return out


def verify_round(server, token, rnd: Round, problems: list[str]):
    listed = set(stored_paths(server, token, rnd.number))
    unknown = listed - set(rnd.attempted)
    if unknown:
        problems.append(f"round {rnd.number}: keys listed that were never written: {sorted(unknown)[:5]}")
    missing_from_list = set(rnd.acked) - listed
    if missing_from_list:
        problems.append(f"round {rnd.number}: {len(missing_from_list)} acknowledged keys not listed, "
                        f"e.g. {sorted(missing_from_list)[:3]}")
    results = read_all(server, token, sorted(listed | set(rnd.acked)))
    for path, (status, got) in results.items():
        if status >= 500:
            problems.append(f"round {rnd.number}: GET {path} -> {status} {got}")
        elif path in rnd.acked and (status != 200 or got != rnd.acked[path]):
            problems.append(f"round {rnd.number}: acknowledged {path}: expected {rnd.acked[path]!r}, "
                            f"got {status} {got!r}")
        elif status == 200 and got != rnd.attempted.get(path):
            problems.append(f"round {rnd.number}: {path} holds {got!r}, sent {rnd.attempted.get(path)!r}")
        elif status not in (200, 404):
            problems.append(f"round {rnd.number}: GET {path} -> {status} {got}")


def test_kill_9_never_loses_acknowledged_writes(make_server):
    started = time.monotonic()
    server = make_server("crash")
    u = init_and_unseal(server, 1, 1)
    token = u.root_token
    rng = random.Random()
    rounds: list[Round] = []
    problems: list[str] = []
    total_acked = 0

    for n in range(ROUNDS):
        rnd = Round(n)
        rounds.append(rnd)
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(server, token, rnd, t, stop), daemon=True)
                   for t in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 1.0))
        server.kill()
        stop.set()
        for t in threads:
            t.join(15)
        assert not any(t.is_alive() for t in threads), "a writer hung after the server was killed"
        assert not rnd.bad_statuses, f"round {n}: errors while the server was up: {rnd.bad_statuses[:5]}"
        assert rnd.acked, f"round {n}: no write was acknowledged at all"
        total_acked += len(rnd.acked)

        server.start()
        status = server.http("GET", "/v1/sys/seal-status").json()
        assert status["initialized"] is True and status["sealed"] is True, status
        u.unseal()

        verify_round(server, token, rnd, problems)
        # Earlier rounds must not be damaged by later crashes: re-check a sample each round.
        for old in rounds[:-1]:
            sample = rng.sample(sorted(old.acked), min(20, len(old.acked)))
            for path, (st, got) in read_all(server, token, sample).items():
                if st != 200 or got != old.acked[path]:
                    problems.append(f"after round {n}: earlier {path} -> {st} {got!r}")
        assert not problems, "\n".join(problems[:20])

    # Finally every round in full, from the same data directory after 20 crashes.
    for rnd in rounds:
        verify_round(server, token, rnd, problems)
    assert not problems, "\n".join(problems[:20])
    print(f"crash safety: {ROUNDS} rounds, {total_acked} acknowledged writes, "
          f"{time.monotonic() - started:.1f}s")


def test_kill_9_right_after_acknowledged_sys_operations(make_server):
    """init, mount, write, rotate and unmount are durable once answered."""
    server = make_server("crash-sys")
    init = initialize(server, 3, 2)
    keys, token = init["keys"], init["root_token"]

    def crash_and_restart():
        server.kill()
        server.start()
        status = server.http("GET", "/v1/sys/seal-status").json()
        assert (status["initialized"], status["sealed"]) == (True, True), status
        unseal(server, keys, 2)
        return server.client(token)

    client = crash_and_restart()
    assert client.sys.enable_secrets_engine("kv", path="durable", options={"version": "1"}).status_code == 204
    client = crash_and_restart()
    assert client.sys.list_mounted_secrets_engines()["data"]["durable/"]["type"] == "kv"

    client.secrets.kv.v1.create_or_update_secret("x", {"v": "before-rotate"}, mount_point="durable")
    term = client.sys.get_encryption_key_status()["term"]
    assert client.sys.rotate_encryption_key().status_code == 204
    client = crash_and_restart()
    assert client.sys.get_encryption_key_status()["term"] == term + 1
    assert client.secrets.kv.v1.read_secret("x", mount_point="durable")["data"] == {"v": "before-rotate"}

    client.secrets.kv.v1.create_or_update_secret("y", {"v": "after-rotate"}, mount_point="durable")
    client = crash_and_restart()
    assert client.secrets.kv.v1.read_secret("y", mount_point="durable")["data"] == {"v": "after-rotate"}

    assert client.sys.disable_secrets_engine("durable").status_code == 204
    client = crash_and_restart()
    assert "durable/" not in client.sys.list_mounted_secrets_engines()["data"]
    assert server.http("GET", "/v1/durable/x", token=token).status_code == 404
    client.sys.enable_secrets_engine("kv", path="durable", options={"version": "1"})
    assert server.http("GET", "/v1/durable/x", token=token).status_code == 404
