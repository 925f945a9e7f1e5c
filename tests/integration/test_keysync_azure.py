"""`coffer sync` / `sync push` / `dotenv decrypt --verify-vault` with the azure provider, against a
local Entra ID + Key Vault stand-in (azure_kv_server.py) that speaks the real wire protocol.

    COFFER_BIN=$PWD/build/bin/coffer /usr/bin/python3 -m pytest -q tests/integration/test_keysync_azure.py
"""

from __future__ import annotations

import json
import os
import ssl
import stat
import subprocess
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from azure_kv_server import AzureKeyVaultServer
from coffer_harness import make_self_signed_cert

KEY_A = "ec9e80073d7ace817d35acb8b7293cbf8e5981b4d2f5708ee5be405122993cd1"


@pytest.fixture
def kv():
    with AzureKeyVaultServer() as server:
        yield server


def azure_env(kv: AzureKeyVaultServer, home: Path, **overrides) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOTENV_", "VAULT_", "AZURE_")) and k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
    env.update({"HOME": str(home), "AZURE_TENANT_ID": kv.tenant, "AZURE_CLIENT_ID": kv.client_id,
                "AZURE_CLIENT_SECRET": kv.client_secret, "AZURE_AUTHORITY_HOST": kv.url})
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run(coffer_bin, cwd: Path, env: dict, *args, check=True):
    proc = subprocess.run([str(coffer_bin), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def new_keypair(coffer_bin, cwd: Path) -> str:
    d = cwd / "kp-tmp"
    d.mkdir(exist_ok=True)
    (d / ".env").write_text("X=1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOTENV_")}
    run(coffer_bin, d, env, "dotenv", "encrypt")
    kp = json.loads(run(coffer_bin, d, env, "dotenv", "keypair").stdout)
    for f in d.iterdir():
        f.unlink()
    d.rmdir()
    return kp["DOTENV_PRIVATE_KEY"]


def write_config(root: Path, vault_url: str, mappings: list[tuple[str, str]]) -> None:
    text = f'[vault]\nprovider = "azure"\n\n[vault.azure]\nvault_url = "{vault_url}"\n'
    for secret, folder in mappings:
        (root / folder).mkdir(parents=True, exist_ok=True)
        text += f'\n[[vault.sync.mappings]]\nsecret_name = "{secret}"\nfolder_path = "{folder}"\n'
    (root / "envdrift.toml").write_text(text)


def keys_of(folder: Path) -> str:
    return (folder / ".env.keys").read_text()


def test_create_skip_verify_force(coffer_bin, kv, tmp_path):
    write_config(tmp_path, kv.url, [("app-key", "services/app")])
    app = tmp_path / "services" / "app"
    env = azure_env(kv, tmp_path)
    kv.put("app-key", f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}")

    r = run(coffer_bin, tmp_path, env, "sync")
    assert "created" in r.stdout
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}" in keys_of(app)
    assert stat.S_IMODE((app / ".env.keys").stat().st_mode) == 0o600
    reads = kv.vault_requests()
    assert [(q["method"], q["path"], q["query"]) for q in reads] == [("GET", "/secrets/app-key", {"api-version": ["7.4"]})]
    assert reads[0]["authorization"].startswith("Bearer ")
    assert "skipped" in run(coffer_bin, tmp_path / "services", env, "sync").stdout
    assert run(coffer_bin, tmp_path, env, "sync", "--verify").returncode == 0

    other = new_keypair(coffer_bin, tmp_path)
    kv.put("app-key", other)  # a new version; the latest is what counts
    before = keys_of(app)
    r = run(coffer_bin, tmp_path, env, "sync", "--verify", check=False)
    assert r.returncode == 1 and "MISMATCH" in r.stdout and other not in r.stdout + r.stderr
    assert keys_of(app) == before
    r = run(coffer_bin, tmp_path, env, "sync", check=False)
    assert r.returncode == 1 and "--force" in r.stdout
    r = run(coffer_bin, tmp_path, env, "sync", "--force")
    assert "updated" in r.stdout
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={other}" in keys_of(app)
    backups = list(app.glob(".env.keys.backup.*"))
    assert len(backups) == 1 and KEY_A in backups[0].read_text()


def test_check_decryption_and_verify_vault(coffer_bin, kv, tmp_path):
    write_config(tmp_path, kv.url, [("app-key", "app")])
    app = tmp_path / "app"
    env = azure_env(kv, tmp_path)
    (app / ".env.production").write_text("DB=secret\n")
    run(coffer_bin, app, env, "dotenv", "encrypt", "-f", ".env.production")
    good = keys_of(app).split("DOTENV_PRIVATE_KEY_PRODUCTION=")[1].strip()
    (app / ".env.keys").unlink()
    kv.put("app-key", good)
    assert "created" in run(coffer_bin, tmp_path, env, "sync", "--check-decryption").stdout

    verify = ["dotenv", "decrypt", "-f", ".env.production", "--verify-vault", "-p", "azure",
              "--vault-url", kv.url, "--secret", "app-key"]
    r = run(coffer_bin, app, env, *verify)
    assert r.returncode == 0 and "decrypts .env.production" in r.stderr
    assert "DB=encrypted:" in (app / ".env.production").read_text()

    wrong = new_keypair(coffer_bin, tmp_path)
    kv.put("app-key", wrong)
    r = run(coffer_bin, tmp_path, env, "sync", "--check-decryption", "--force", check=False)
    assert r.returncode == 1 and "does not decrypt" in r.stdout and wrong not in r.stdout + r.stderr
    assert good in keys_of(app)  # nothing replaced
    r = run(coffer_bin, app, env, *verify, check=False)
    assert r.returncode == 1
    assert "git restore .env.production" in r.stderr and "sync --force" in r.stderr
    assert "dotenv encrypt -f .env.production" in r.stderr
    assert wrong not in r.stdout + r.stderr


def test_push_creates_then_adds_a_version(coffer_bin, kv, tmp_path):
    write_config(tmp_path, kv.url, [("pushed-key", "svc")])
    env = azure_env(kv, tmp_path)
    svc = tmp_path / "svc"
    (svc / ".env.keys").write_text(f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\n")
    r = run(coffer_bin, tmp_path, env, "sync", "push")
    assert "pushed" in r.stdout and KEY_A not in r.stdout + r.stderr
    assert kv.latest("pushed-key") == f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}"
    put = [q for q in kv.vault_requests() if q["method"] == "PUT"]
    assert len(put) == 1 and put[0]["content_type"].startswith("application/json")
    assert json.loads(put[0]["body"]) == {"value": f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}"}

    other = new_keypair(coffer_bin, tmp_path)
    (svc / ".env.keys").write_text(f"DOTENV_PRIVATE_KEY_PRODUCTION={other}\n")
    run(coffer_bin, tmp_path, env, "sync", "push")
    versions = kv.versions("pushed-key")
    assert [v["value"] for v in versions] == [f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}",
                                              f"DOTENV_PRIVATE_KEY_PRODUCTION={other}"]
    assert versions[0]["id"] != versions[1]["id"]
    # And it syncs back into another folder.
    write_config(tmp_path, kv.url, [("pushed-key", "elsewhere")])
    assert "created" in run(coffer_bin, tmp_path, env, "sync").stdout
    assert other in keys_of(tmp_path / "elsewhere")


def test_wrong_client_secret(coffer_bin, kv, tmp_path):
    write_config(tmp_path, kv.url, [("a-key", "a"), ("b-key", "b")])
    kv.put("a-key", KEY_A)
    wrong = "Wr0ng~secret.ZZZ_987"
    r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path, AZURE_CLIENT_SECRET=wrong), "sync", check=False)
    assert r.returncode == 1
    assert "invalid_client: AADSTS7000215: Invalid client secret provided" in r.stdout
    assert "Trace ID" not in r.stdout + r.stderr
    assert wrong not in r.stdout + r.stderr and kv.client_secret not in r.stdout + r.stderr
    assert len(kv.token_requests()) == 1  # the failure is not retried per mapping
    assert kv.vault_requests() == []
    assert not (tmp_path / "a" / ".env.keys").exists()
    # --verify-vault: one clear line, exit 1.
    (tmp_path / "a" / ".env.production").write_text("X=1\n")
    r = run(coffer_bin, tmp_path / "a", azure_env(kv, tmp_path, AZURE_CLIENT_SECRET=wrong), "dotenv", "decrypt",
            ".env.production", "--verify-vault", "-p", "azure", "--vault-url", kv.url, "--secret", "a-key",
            check=False)
    assert r.returncode == 1 and "invalid_client" in r.stderr and wrong not in r.stdout + r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_environment_and_settings(coffer_bin, kv, tmp_path):
    write_config(tmp_path, kv.url, [("a-key", "a")])
    r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path, AZURE_CLIENT_ID=None, AZURE_CLIENT_SECRET=None), "sync",
            check=False)
    assert r.returncode == 2
    assert "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET are not set" in r.stderr
    r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path, AZURE_TENANT_ID=None), "sync", check=False)
    assert r.returncode == 2 and "AZURE_TENANT_ID is not set" in r.stderr
    assert kv.requests == []

    (tmp_path / "envdrift.toml").write_text('[vault]\nprovider = "azure"\n\n[[vault.sync.mappings]]\n'
                                            'secret_name = "a-key"\nfolder_path = "a"\n')
    r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path), "sync", check=False)
    assert r.returncode == 2
    assert "--vault-url (or [vault.azure] vault_url) is required for the azure provider" in r.stderr

    # Plain http is for loopback only: the bearer token must not travel in clear.
    r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path), "sync", "--vault-url", "http://myvault.vault.azure.net",
            check=False)
    assert r.returncode == 2 and "use https" in r.stderr
    r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path, AZURE_AUTHORITY_HOST="http://login.example.com"), "sync",
            "--vault-url", kv.url, check=False)
    assert r.returncode == 2 and "AZURE_AUTHORITY_HOST" in r.stderr
    assert kv.requests == []


def test_missing_secret_forbidden_and_bad_name(coffer_bin, kv, tmp_path):
    write_config(tmp_path, kv.url, [("absent-key", "a"), ("denied-key", "b"), ("bad_name", "c"), ("ok-key", "d")])
    kv.put("denied-key", KEY_A)
    kv.put("ok-key", KEY_A)
    kv.deny.add("denied-key")
    r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path), "sync", check=False)
    assert r.returncode == 1
    rows = {line.split("\t")[0]: line for line in r.stdout.splitlines()[1:]}
    assert "MISSING" in rows["absent-key"] and "not found" in rows["absent-key"]
    assert "ERROR" in rows["denied-key"] and "403 Forbidden/ForbiddenByRbac" in rows["denied-key"]
    assert "ERROR" in rows["bad_name"] and "underscores are not allowed" in rows["bad_name"]
    assert "created" in rows["ok-key"]
    assert sorted(q["path"] for q in kv.vault_requests()) == ["/secrets/absent-key", "/secrets/denied-key",
                                                              "/secrets/ok-key"]
    # --verify-vault of an absent secret: reported as missing, exit 1.
    (tmp_path / "a" / ".env.production").write_text("X=1\n")
    r = run(coffer_bin, tmp_path / "a", azure_env(kv, tmp_path), "dotenv", "decrypt", ".env.production",
            "--verify-vault", "-p", "azure", "--vault-url", kv.url, "--secret", "absent-key", check=False)
    assert r.returncode == 1 and "absent-key not found" in r.stderr


def test_one_token_for_several_mappings(coffer_bin, kv, tmp_path):
    names = [f"svc{i}-key" for i in range(4)]
    write_config(tmp_path, kv.url, [(n, n) for n in names])
    for n in names:
        kv.put(n, KEY_A)
    r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path), "sync")
    assert r.stdout.count("created") == 4
    tokens = kv.token_requests()
    assert len(tokens) == 1
    form = {k: v[0] for k, v in parse_qs(tokens[0]["body"]).items()}
    assert tokens[0]["path"] == f"/{kv.tenant}/oauth2/v2.0/token"
    assert form == {"grant_type": "client_credentials", "client_id": kv.client_id,
                    "client_secret": kv.client_secret, "scope": "https://vault.azure.net/.default"}
    auths = {q["authorization"] for q in kv.vault_requests()}
    assert len(kv.vault_requests()) == 4 and len(auths) == 1


def test_https_with_requests_ca_bundle(coffer_bin, tmp_path):
    cert, key = make_self_signed_cert(tmp_path / "tls")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with AzureKeyVaultServer(ssl_context=ctx) as kv:
        assert kv.url.startswith("https://")
        write_config(tmp_path, kv.url, [("tls-key", "app")])
        kv.put("tls-key", KEY_A)
        r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path), "sync", check=False)
        assert r.returncode == 1 and "certificate" in r.stdout.lower()  # not trusted by the system store
        r = run(coffer_bin, tmp_path, azure_env(kv, tmp_path, REQUESTS_CA_BUNDLE=str(cert)), "sync")
        assert "created" in r.stdout and KEY_A in keys_of(tmp_path / "app")


def test_stand_in_rejects_like_key_vault(kv):
    """The stand-in must refuse what the real services refuse, or the tests above prove little."""
    import urllib.error
    import urllib.request

    def call(method, path, body=None, headers=None):
        req = urllib.request.Request(kv.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, json.loads(resp.read()), resp.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read()), e.headers

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    token_path = f"/{kv.tenant}/oauth2/v2.0/token"
    good = (f"grant_type=client_credentials&client_id={kv.client_id}&client_secret={kv.client_secret}"
            "&scope=https%3A%2F%2Fvault.azure.net%2F.default")
    status, doc, _ = call("POST", token_path, good.encode(), form)
    assert status == 200 and doc["token_type"] == "Bearer" and doc["expires_in"] > 0
    bearer = {"Authorization": "Bearer " + doc["access_token"]}
    status, doc, _ = call("POST", token_path, good.replace("vault.azure.net", "management.azure.com").encode(), form)
    assert status == 400 and doc["error"] == "invalid_scope"
    status, doc, _ = call("POST", "/other-tenant/oauth2/v2.0/token", good.encode(), form)
    assert status == 400 and doc["error_codes"] == [90002]

    kv.put("k", "v")
    status, doc, headers = call("GET", "/secrets/k?api-version=7.4")
    assert status == 401 and doc["error"]["code"] == "Unauthorized" and "resource=" in headers["WWW-Authenticate"]
    status, doc, _ = call("GET", "/secrets/k?api-version=7.4", headers={"Authorization": "Bearer forged"})
    assert status == 401
    status, doc, _ = call("GET", "/secrets/k", headers=bearer)
    assert status == 400 and doc["error"]["code"] == "BadParameter"
    status, doc, _ = call("GET", "/secrets/k?api-version=1.0", headers=bearer)
    assert status == 400 and doc["error"]["code"] == "BadParameter" and "(1.0) is not recognized" in doc["error"]["message"]
    status, doc, _ = call("GET", "/secrets/k?api-version=7.4", headers=bearer)
    assert status == 200 and doc["value"] == "v" and doc["id"].startswith(kv.url + "/secrets/k/")
    status, doc, _ = call("GET", f"/secrets/k/{doc['id'].rsplit('/', 1)[1]}?api-version=7.4", headers=bearer)
    assert status == 200 and doc["value"] == "v"
    status, doc, _ = call("GET", "/secrets/nope?api-version=7.4", headers=bearer)
    assert status == 404 and doc["error"]["code"] == "SecretNotFound"
    status, doc, _ = call("PUT", "/secrets/k?api-version=7.4", b'{"novalue": 1}',
                          dict(bearer, **{"Content-Type": "application/json"}))
    assert status == 400 and doc["error"]["code"] == "BadParameter"
