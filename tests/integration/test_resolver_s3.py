"""The resolver's `source: s3` (and `fallback: s3`) end to end: a coffer.yaml whose
`secrets.backend` block (written by `coffer s3 init`) points at a real s3rver, secrets pushed with
`coffer s3 push`, then `secrets validate|list`, `run` and `export`; fallbacks both ways when
s3rver or the Vault server is down; the wrong master key and a tampered object.

    COFFER_BIN=$PWD/build/bin/coffer /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        tests/integration/test_resolver_s3.py
"""

from __future__ import annotations

import base64
import json

import pytest

from cli_harness import cli, cli_bin  # noqa: F401 (fixtures)
from s3_harness import S3Env, own_s3rver, require_s3rver_tools, s3env, s3rver  # noqa: F401 (fixtures)

require_s3rver_tools()

CANARY = "s3-canary-4be1d07a-do-not-print"
UNREACHABLE_VAULT = {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": "root"}


def declare(env: S3Env, secrets_yaml: str) -> None:
    """Appends a `secrets:` list (indented for the backend form) to the coffer.yaml `s3 init` wrote."""
    cfg = env.work / "coffer.yaml"
    text = cfg.read_text()
    assert text.startswith("secrets:\n  backend:"), text
    lines = ["  secrets:"] + ["    " + line for line in secrets_yaml.strip("\n").splitlines()]
    cfg.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n")


def assert_no_canary(r) -> None:
    assert CANARY not in r.stdout and CANARY not in r.stderr


def test_validate_list_run_export_from_s3(s3env, cli):
    s3env.ok("s3", "push", "API_KEY", "--value", CANARY + "-api")
    s3env.ok("s3", "push", "DB_PASSWORD", "--value", CANARY + "-db", "--s3-path", "team/db")
    cli.ok(["kv", "put", "secret/resolver-s3/app", "token=vault-token-value"])
    declare(s3env, """
- name: API_KEY
  source: s3
  required: true
- name: DB_PASSWORD
  source: s3
  s3Path: team/db
  required: true
- name: VAULT_TOKEN_VALUE
  source: vault
  vaultPath: secret/data/resolver-s3/app
  vaultKey: token
  required: true
- name: OPTIONAL_S3
  source: s3
  s3_path: nowhere/optional
""")
    vault = {"VAULT_ADDR": cli.addr, "VAULT_TOKEN": cli.token}

    r = s3env.run("secrets", "validate", "--no-cache", env=vault)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[OK] API_KEY (s3): Retrieved successfully" in r.stdout
    assert "[OK] DB_PASSWORD (s3): Retrieved successfully" in r.stdout
    assert "[OK] VAULT_TOKEN_VALUE (vault): Retrieved successfully" in r.stdout
    assert "[WARN] OPTIONAL_S3 (s3): Not found (optional, will not be set)" in r.stdout
    assert "not wired" not in r.stdout + r.stderr
    assert_no_canary(r)

    r = s3env.run("secrets", "validate", "--no-cache", "--json", env=vault)
    by_name = {s["name"]: s for s in json.loads(r.stdout)["secrets"]}
    assert by_name["DB_PASSWORD"]["resolved_from"] == "s3"
    assert by_name["DB_PASSWORD"]["origin"].endswith("/secrets/team/db.json")
    assert_no_canary(r)

    r = s3env.ok("secrets", "list")
    assert "S3 (source: s3):" in r.stdout and "  - DB_PASSWORD <- team/db (required)" in r.stdout

    show = 'printf "%s|%s|%s" "$API_KEY" "$DB_PASSWORD" "$VAULT_TOKEN_VALUE"'
    r = s3env.ok("run", "--no-cache", "--", "sh", "-c", show, env=vault)
    assert r.stdout == f"{CANARY}-api|{CANARY}-db|vault-token-value"
    assert CANARY not in r.stderr

    r = s3env.ok("export", "--no-cache", "--format", "json", env=vault)
    out = json.loads(r.stdout)
    assert out["API_KEY"] == CANARY + "-api" and out["DB_PASSWORD"] == CANARY + "-db"
    assert "OPTIONAL_S3" not in out


def test_master_key_from_env_as_coffer_s3_reads_it(s3env):
    s3env.ok("s3", "push", "FROM_ENV_KEY", "--value", "v1")
    cfg = s3env.work / "coffer.yaml"
    cfg.write_text(cfg.read_text().replace("key_source: file", "key_source: env\n      key_env: TEAM_MASTER_KEY"))
    declare(s3env, "- name: FROM_ENV_KEY\n  source: s3\n  required: true\n")
    r = s3env.run("run", "--", "sh", "-c", 'printf %s "$FROM_ENV_KEY"', env={"TEAM_MASTER_KEY": s3env.key.read_text()})
    assert (r.returncode, r.stdout) == (0, "v1"), r.stderr
    # The same message `coffer s3` gives for an unset variable; the s3 source is then unavailable.
    r = s3env.run("secrets", "validate")
    assert r.returncode == 1
    assert "key_env: environment variable TEAM_MASTER_KEY is not set" in r.stdout + r.stderr
    assert "Error: Required secret FROM_ENV_KEY not found" in r.stderr


def test_fallback_s3_to_env_when_s3rver_stopped_and_vault_to_s3(coffer_bin, own_s3rver, tmp_path):
    env = S3Env(coffer_bin, own_s3rver.url, tmp_path)
    env.ok("s3", "push", "API_KEY", "--value", "api-from-s3")
    env.ok("s3", "push", "DB_PASSWORD", "--value", "db-from-s3", "--s3-path", "prod/db")
    declare(env, """
- name: API_KEY
  source: s3
  fallback: env
  required: true
- name: DB_PASSWORD
  source: vault
  vaultPath: secret/data/prod/db
  vaultKey: password
  fallback: s3
  s3_path: prod/db
  required: true
""")
    (env.work / ".env").write_text("API_KEY=api-from-dotenv\n")
    r = env.ok("secrets", "list")
    assert "  - DB_PASSWORD <- secret/data/prod/db:password (required) [fallback: s3 prod/db]" in r.stdout
    show = ["run", "--no-cache", "--", "sh", "-c", 'printf "%s %s" "$API_KEY" "$DB_PASSWORD"']

    # Vault is down: DB_PASSWORD comes from its s3 fallback; API_KEY from s3 itself.
    r = env.run("secrets", "validate", "--no-cache", env=UNREACHABLE_VAULT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[OK] API_KEY (s3): Retrieved successfully" in r.stdout
    assert "[OK] DB_PASSWORD (vault): Not available from vault (Vault unreachable" in r.stdout
    assert "fallback s3: Retrieved successfully" in r.stdout
    r = env.run(*show, env=UNREACHABLE_VAULT)
    assert (r.returncode, r.stdout) == (0, "api-from-s3 db-from-s3"), r.stderr

    # s3rver stopped: API_KEY falls back to .env and the report says so; DB_PASSWORD has nothing left.
    own_s3rver.stop()
    r = env.run("secrets", "validate", "--no-cache", env=UNREACHABLE_VAULT)
    assert r.returncode == 1
    assert "[OK] API_KEY (s3): Not available from s3 (cannot reach S3 endpoint" in r.stdout
    assert "fallback env: Found in .env" in r.stdout
    assert "[FAIL] DB_PASSWORD (vault): Not found (required)" in r.stdout
    assert "Error: Required secret DB_PASSWORD not found" in r.stderr
    r = env.run("secrets", "validate", "--no-cache", "--json", env=UNREACHABLE_VAULT)
    api = {s["name"]: s for s in json.loads(r.stdout)["secrets"]}["API_KEY"]
    assert api["resolved_from"] == "env" and api["via_fallback"] is True
    r = env.run(*show, env=UNREACHABLE_VAULT)
    assert r.returncode == 1 and "Required secret DB_PASSWORD not found" in r.stderr
    own_s3rver.start()
    r = env.run(*show, env=UNREACHABLE_VAULT)
    assert (r.returncode, r.stdout) == (0, "api-from-s3 db-from-s3"), r.stderr


def test_stale_s3_cache_used_with_warning_when_unreachable(coffer_bin, own_s3rver, tmp_path):
    env = S3Env(coffer_bin, own_s3rver.url, tmp_path, cache=True)
    cfg = env.work / "coffer.yaml"
    cfg.write_text(cfg.read_text().replace("ttl_seconds: 3600", "ttl_seconds: 0"))
    env.ok("s3", "push", "CACHED", "--value", CANARY)
    declare(env, "- name: CACHED\n  source: s3\n  required: true\n")
    own_s3rver.stop()
    r = env.run("secrets", "validate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[WARN] CACHED (s3): Retrieved from stale cache (cache expired)" in r.stdout
    assert "Using stale cached secret (cache expired)" in r.stderr
    assert_no_canary(r)
    r = env.run("secrets", "validate", "--no-cache")
    assert r.returncode == 1 and "cannot reach S3 endpoint" in r.stdout + r.stderr


def test_wrong_key_and_tampered_object_are_clear_errors(s3env, tmp_path):
    s3env.ok("s3", "push", "GOOD", "--value", CANARY + "-good")
    s3env.ok("s3", "push", "TAMPERED", "--value", CANARY + "-tampered")
    declare(s3env, """
- name: GOOD
  source: s3
  fallback: env
  required: true
- name: TAMPERED
  source: s3
  fallback: env
""")
    # A fallback value exists, but a damaged object or the wrong key must not be hidden by it.
    (s3env.work / ".env").write_text("GOOD=from-env\nTAMPERED=from-env\n")
    obj = json.loads(s3env.get_object("secrets/TAMPERED.json"))
    ct = bytearray(base64.b64decode(obj["encrypted_value"]))
    ct[0] ^= 1
    obj["encrypted_value"] = base64.b64encode(bytes(ct)).decode()
    s3env.put_object("secrets/TAMPERED.json", json.dumps(obj).encode())

    r = s3env.run("secrets", "validate")
    assert r.returncode == 0, r.stdout + r.stderr  # TAMPERED is optional: validate's rules
    assert "[OK] GOOD (s3): Retrieved successfully" in r.stdout
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("[WARN] TAMPERED (s3): ")]
    assert line and "TAMPERED" in line[0].split(": ", 1)[1] and "from-env" not in r.stdout
    assert_no_canary(r)

    other = tmp_path / "other.key"
    s3env.ok("s3", "keygen", "--output", other)
    cfg = s3env.work / "coffer.yaml"
    cfg.write_text(cfg.read_text().replace(str(s3env.key), str(other)))
    r = s3env.run("secrets", "validate")
    assert r.returncode == 1
    assert '[FAIL] GOOD (s3): secret "GOOD" is not encrypted to this key' in r.stdout
    assert "Error: Required secret GOOD could not be read" in r.stderr
    assert_no_canary(r)
    r = s3env.run("run", "--", "sh", "-c", 'printf %s "$GOOD"')
    assert r.returncode == 1 and r.stdout == "" and "GOOD" in r.stderr
    assert_no_canary(r)
    r = s3env.run("export", "--format", "json")
    assert r.returncode == 1 and r.stdout == ""
