"""Setup for policy_scale.sh: writes N ACL policies of M decoy rules each (the last policy also holds
the read rule for secret/data/bench), over a few keep-alive connections in parallel; then creates one
token holding all N policies and one holding only the last. Standard library only.

Usage: policy_scale.py ADDR ROOT_TOKEN N M
Prints one line: "<token with N policies> <token with 1 policy> <seconds spent writing policies>".
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

addr, root, n, m = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlsplit(addr)
CONNECTIONS = 8

# Rules a team's policy could hold: exact paths, trailing globs and + segments, on several engines.
# None of them matches secret/data/bench, so only the read rule decides the benchmarked request.
DECOYS = [
    ('secret/data/team-{i}/*', '"create", "read", "update", "delete"'),
    ('secret/metadata/team-{i}/*', '"read", "list"'),
    ('secret/data/team-{i}/+/config', '"read"'),
    ('secret/data/shared/team-{i}/+', '"read"'),
    ('secret/data/team-{i}/admin/*', '"deny"'),
    ('secret/data/bench-{i}/*', '"read"'),
    ('secret/data/+/team-{i}/bench', '"read"'),
    ('database/creds/team-{i}-readonly', '"read"'),
    ('database/creds/team-{i}-readwrite', '"read"'),
    ('pki/issue/team-{i}-internal', '"create", "update"'),
    ('pki/sign/team-{i}-*', '"update"'),
    ('transit/encrypt/team-{i}-key', '"update"'),
    ('transit/decrypt/team-{i}-key', '"update"'),
    ('aws/creds/team-{i}-deploy', '"read"'),
    ('auth/approle/role/team-{i}/role-id', '"read"'),
    ('auth/approle/role/team-{i}/secret-id', '"create", "update"'),
    ('sys/leases/lookup/database/creds/team-{i}-*', '"update"'),
    ('kv/team-{i}/+/db', '"read", "list"'),
    ('ssh/sign/team-{i}', '"update"'),
    ('identity/group/name/team-{i}', '"read"'),
]


def name(i):
    return "scale-%04d" % i


def policy(i):
    rules = [(p.format(i=i), c) for p, c in (DECOYS * (m // len(DECOYS) + 1))[:m]]
    if i == n - 1:
        rules.append(("secret/data/bench", '"read"'))
    return "\n".join('path "%s" {\n  capabilities = [%s]\n}' % r for r in rules) + "\n"


def request(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"X-Vault-Token": root, "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status not in (200, 204):
        sys.exit("policy_scale: %s %s answered %d: %s" % (method, path, r.status, data.decode(errors="replace")))
    return json.loads(data) if data else None


errors = []


def writer(first):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        for i in range(first, n, CONNECTIONS):
            request(conn, "POST", "/v1/sys/policy/" + name(i), {"policy": policy(i)})
    except BaseException as e:  # SystemExit too: report it from the main thread
        errors.append(str(e))
    finally:
        conn.close()


start = time.monotonic()
threads = [threading.Thread(target=writer, args=(k,)) for k in range(CONNECTIONS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
spent = time.monotonic() - start
if errors:
    sys.exit(errors[0])

conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
many = request(conn, "POST", "/v1/auth/token/create", {"policies": [name(i) for i in range(n)]})["auth"]
one = request(conn, "POST", "/v1/auth/token/create", {"policies": [name(n - 1)]})["auth"]
got = len([p for p in many["policies"] if p.startswith("scale-")])
if got != n:
    sys.exit("policy_scale: the token holds %d of the %d policies: %s" % (got, n, many["policies"][:5]))
print(many["client_token"], one["client_token"], "%.2f" % spent)
