"""The project secrets resolver end to end: coffer.yaml / sindri.yaml against a real `coffer
server -dev` and real files; `secrets validate|list|test-vault|cache clear`, `run`, `export`.

Run: COFFER_BIN=... /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_resolver.py
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from cli_harness import base_env, cli, cli_bin, vault_symlink_dir  # noqa: F401 (fixtures)

CANARY = "canary-7f3a9c1e-do-not-print"


def run(binary, args, cwd, env=None, home=None, argv0="coffer", timeout=60):
    full = base_env(home)
    if env:
        full.update(env)
    exe = str(binary) if argv0 == "coffer" else str(vault_symlink_dir(Path(binary)) / argv0)
    p = subprocess.run([exe, *args], cwd=str(cwd), env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


@pytest.fixture
def project(tmp_path, cli):
    """A project directory with certs; returns a helper bound to the dev server."""
    d = tmp_path / "proj"
    (d / "certs").mkdir(parents=True)
    (d / "certs" / "tls.crt").write_bytes(b"C" * 1229)
    (d / "certs" / "tls.key").write_bytes(b"-----KEY-----\n")
    home = tmp_path / "home"
    home.mkdir()

    class P:
        dir = d
        vault_env = {"VAULT_ADDR": cli.addr, "VAULT_TOKEN": cli.token}

        def write(self, name, text):
            (d / name).write_text(text)

        def run(self, args, env=None, vault=True, cwd=None, argv0="coffer"):
            e = dict(self.vault_env) if vault else {}
            if env:
                e.update(env)
            return run(cli.binary, args, cwd or d, env=e, home=home, argv0=argv0)

    return P()


FLAT = """version: "3"
name: my-production-app
secrets:
  - name: ANTHROPIC_API_KEY
    source: env
    required: true
  - name: GITHUB_TOKEN
    source: env
  - name: DATABASE_PASSWORD
    source: vault
    vaultPath: secret/data/sindri/prod/database
    vaultKey: password
    required: true
  - name: TLS_CERT
    source: file
    path: ./certs/tls.crt
    mountPath: /etc/ssl/certs/app.crt
  - name: TLS_KEY
    source: file
    path: ./certs/tls.key
    mountPath: /etc/ssl/private/app.key
    permissions: "0600"
  - name: OPTIONAL_KEY
    source: env
    required: false
"""

BACKEND = """version: "3"
name: my-production-app
secrets:
  backend:
    type: s3
    bucket: my-team-secrets
    region: us-east-1
    prefix: secrets/prod/
    encryption:
      algorithm: chacha20poly1305
      key_source: file
      key_file: .sindri-master.key
    cache:
      enabled: true
      ttl_seconds: 3600
  secrets:
    - name: ANTHROPIC_API_KEY
      source: s3
      s3_path: anthropic/api-key
      fallback: env
      required: true
    - name: DATABASE_PASSWORD
      source: vault
      vaultPath: secret/data/sindri/prod/database
      vaultKey: password
      required: true
    - name: TLS_CERT
      source: file
      path: ./certs/tls.crt
      mountPath: /etc/ssl/certs/app.crt
    - name: TLS_KEY
      source: file
      path: ./certs/tls.key
      mountPath: /etc/ssl/private/app.key
      permissions: "0600"
    - name: LOG_LEVEL
      source: env
      required: false
"""


@pytest.fixture(scope="module", autouse=True)
def _seed(cli):
    cli.ok(["kv", "put", "secret/sindri/prod/database", f"password={CANARY}", "user=app"])


def test_flat_example_validate_lines(project):
    project.write("sindri.yaml", FLAT)
    project.write(".env.local", "ANTHROPIC_API_KEY=sk-ant-local\n")
    rc, out, err = project.run(["secrets", "validate", "--no-cache"], env={"GITHUB_TOKEN": "ghp_x"})
    assert rc == 0, err
    assert out.splitlines() == [
        "Validating secrets from sindri.yaml...",
        "[OK] ANTHROPIC_API_KEY (env): Found in .env.local",
        "[OK] GITHUB_TOKEN (env): Found in shell environment",
        "[OK] DATABASE_PASSWORD (vault): Retrieved successfully",
        "[OK] TLS_CERT (file): Found at ./certs/tls.crt (1.2 KB)",
        "[OK] TLS_KEY (file): Found at ./certs/tls.key (14 B)",
        "[WARN] OPTIONAL_KEY (env): Not found (optional, will not be set)",
    ]
    assert CANARY not in out + err


def test_missing_required_exit_1(project):
    project.write("sindri.yaml", FLAT)
    rc, out, err = project.run(["secrets", "validate", "--no-cache"])
    assert rc == 1
    assert "[FAIL] ANTHROPIC_API_KEY (env): Not found (required)" in out
    assert "Error: Required secret ANTHROPIC_API_KEY not found\nChecked: $ANTHROPIC_API_KEY, .env.local, .env\n" in err
    rc, out, _ = project.run(["secrets", "validate", "--no-cache", "--json"])
    assert rc == 1
    report = json.loads(out)
    assert report["valid"] is False
    by_name = {s["name"]: s for s in report["secrets"]}
    assert by_name["ANTHROPIC_API_KEY"]["status"] == "missing"
    assert by_name["DATABASE_PASSWORD"]["found"] is True and "value" not in by_name["DATABASE_PASSWORD"]


def test_backend_form_example_with_fallback(project):
    project.write("coffer.yaml", BACKEND)
    project.write(".env", "ANTHROPIC_API_KEY=sk-from-dotenv\n")
    rc, out, err = project.run(["secrets", "validate", "--no-cache"])
    assert rc == 0, out + err
    assert "[OK] ANTHROPIC_API_KEY (s3): " in out and "fallback env: Found in .env" in out
    assert "[OK] DATABASE_PASSWORD (vault): Retrieved successfully" in out
    assert "[WARN] LOG_LEVEL (env): Not found (optional, will not be set)" in out
    rc, out, _ = project.run(["secrets", "list"])
    assert rc == 0
    assert "  - TLS_KEY -> /etc/ssl/private/app.key (0600)" in out
    assert "  - DATABASE_PASSWORD <- secret/data/sindri/prod/database:password (required)" in out
    assert "  - ANTHROPIC_API_KEY <- anthropic/api-key (required) [fallback: env]" in out
    rc, out, _ = project.run(["secrets", "list", "-s", "file", "--json"])
    assert [s["name"] for s in json.loads(out)] == ["TLS_CERT", "TLS_KEY"]


def test_logical_vault_path_and_templating(project, cli):
    cli.ok(["kv", "put", "secret/app/prod/web/api", "secret_key=k1", "other=k2"])
    project.write("coffer.yaml", """secrets:
  - name: API_SECRET_KEY
    source: vault
    vaultPath: secret/data/app/${ENV}/${SERVICE}/api
    vaultKey: secret_key
  - name: OTHER
    source: vault
    vaultPath: app/${ENV}/web/api
    vaultMount: secret
    vaultKey: other
""")
    rc, out, err = project.run(["run", "--no-cache", "--", "sh", "-c", 'printf "%s %s" "$API_SECRET_KEY" "$OTHER"'],
                               env={"ENV": "prod", "SERVICE": "web"})
    assert rc == 0, err
    assert out == "k1 k2"
    rc, out, err = project.run(["secrets", "validate"], env={"ENV": "prod"})
    assert rc == 2
    assert "coffer.yaml:4: secret API_SECRET_KEY: vaultPath: environment variable SERVICE is not set" in err


def test_priority_shell_then_env_local_then_env(project):
    project.write("coffer.yaml", "secrets:\n  - name: X\n    source: env\n    fromFile: ./x.txt\n")
    project.write(".env", "X=from-dotenv\n")
    project.write(".env.local", "X=from-env-local\n")
    project.write("x.txt", "from-file\n")
    show = ["run", "--", "sh", "-c", 'printf %s "$X"']
    assert project.run(show, env={"X": "from-shell"})[1] == "from-shell"
    assert project.run(show)[1] == "from-env-local"
    (project.dir / ".env.local").unlink()
    assert project.run(show)[1] == "from-dotenv"
    (project.dir / ".env").unlink()
    assert project.run(show)[1] == "from-file"
    rc, out, _ = project.run(["secrets", "validate"])
    assert "[OK] X (env): Read from ./x.txt" in out


def test_discovery_from_subdirectory_and_c_flag(project, tmp_path):
    project.write("coffer.yaml", "secrets:\n  - name: A\n    source: env\n")
    sub = project.dir / "a" / "b"
    sub.mkdir(parents=True)
    rc, out, _ = project.run(["secrets", "list"], cwd=sub)
    assert rc == 0 and "Configured secrets in coffer.yaml:" in out
    other = tmp_path / "elsewhere.yaml"
    other.write_text("secrets:\n  - name: B\n    source: env\n")
    rc, out, _ = project.run(["secrets", "list", "-c", str(other)], cwd=sub)
    assert "  - B" in out and "  - A" not in out


def test_fallback_when_server_stopped_and_stale_cache(make_server, project, cli_bin):
    srv = make_server("resolver-fallback", dev=True)
    env = {"VAULT_ADDR": srv.url, "VAULT_TOKEN": srv.root_token, "COFFER_CACHE_TTL": "0"}
    rc, _, err = run(cli_bin, ["kv", "put", "secret/app", "pw=vault-value"], project.dir, env=env)
    assert rc == 0, err
    project.write("coffer.yaml", """secrets:
  - name: PW
    source: vault
    vaultPath: secret/data/app
    vaultKey: pw
    fallback: env
    required: true
  - name: STRICT
    source: vault
    vaultPath: app
    vaultKey: pw
    required: true
""")
    project.write(".env", "PW=env-value\n")
    show = ["run", "--", "sh", "-c", 'printf "%s %s" "$PW" "$STRICT"']
    rc, out, err = project.run(show, env=env)
    assert (rc, out) == (0, "vault-value vault-value"), err  # also fills the cache (TTL 0: at once stale)
    srv.kill()
    # Without the cache: PW falls back to .env, STRICT has no fallback.
    rc, out, err = project.run(["secrets", "validate", "--no-cache"], env=env)
    assert rc == 1
    assert "[OK] PW (vault): Not available from vault (Vault unreachable" in out
    assert "fallback env: Found in .env" in out
    assert "Error: Required secret STRICT not found" in err
    # With the cache: the expired entry is used, with Sindri's warning.
    rc, out, err = project.run(show, env=env)
    assert (rc, out) == (0, "vault-value vault-value"), err
    assert "Using stale cached secret (cache expired)" in err
    rc, out, err = project.run(["secrets", "cache", "clear"], env=env)
    assert rc == 0 and "Removed 2 cached secret(s)" in out  # the secret (one entry for both forms) + the mount version
    rc, out, err = project.run(show, env=env)
    assert rc == 1 and "Error: Required secret STRICT not found" in err


def test_run_passes_env_and_files_and_removes_them(project, tmp_path):
    project.write("sindri.yaml", FLAT)
    project.write(".env.local", "ANTHROPIC_API_KEY=sk-ant-local\n")
    report = tmp_path / "report.json"
    script = ("import json, os, stat, sys\n"
              "r = {k: os.environ.get(k) for k in ['ANTHROPIC_API_KEY', 'DATABASE_PASSWORD', 'TLS_KEY', 'TLS_CERT',"
              " 'COFFER_SECRETS_DIR']}\n"
              "r['key_mode'] = oct(stat.S_IMODE(os.stat(r['TLS_KEY']).st_mode))\n"
              "r['crt_mode'] = oct(stat.S_IMODE(os.stat(r['TLS_CERT']).st_mode))\n"
              "r['dir_mode'] = oct(stat.S_IMODE(os.stat(r['COFFER_SECRETS_DIR']).st_mode))\n"
              "r['key'] = open(r['TLS_KEY']).read()\n"
              f"json.dump(r, open({str(report)!r}, 'w'))\n"
              "sys.exit(42)\n")
    rc, out, err = project.run(["run", "--no-cache", "--", "/usr/bin/python3", "-c", script])
    assert rc == 42, err
    r = json.loads(report.read_text())
    assert r["ANTHROPIC_API_KEY"] == "sk-ant-local"
    assert r["DATABASE_PASSWORD"] == CANARY
    assert r["key"] == "-----KEY-----\n"
    assert (r["key_mode"], r["crt_mode"], r["dir_mode"]) == ("0o600", "0o644", "0o700")
    assert not os.path.exists(r["TLS_KEY"]) and not os.path.exists(r["COFFER_SECRETS_DIR"])
    assert CANARY not in out + err
    # --mount-files writes to mountPath and keeps the files.
    mounted = tmp_path / "mnt" / "app.key"
    project.write("coffer.yaml", f"secrets:\n  - name: K\n    source: file\n    path: ./certs/tls.key\n"
                                 f"    mountPath: {mounted}\n    permissions: '0400'\n")
    rc, out, _ = project.run(["run", "--mount-files", "--", "sh", "-c", 'cat "$K"'])
    assert rc == 0 and out == "-----KEY-----\n"
    assert stat.S_IMODE(mounted.stat().st_mode) == 0o400
    # A missing required secret stops before running anything; an unknown command is 127.
    project.write("coffer.yaml", "secrets:\n  - name: NOPE\n    source: env\n    required: true\n")
    rc, out, err = project.run(["run", "--", "sh", "-c", "echo ran"])
    assert rc == 1 and "ran" not in out
    project.write("coffer.yaml", "secrets: []\n")
    assert project.run(["run", "--", "/nonexistent/cmd"])[0] == 127


def test_export_formats_parse_back(project, cli_bin):
    yaml = pytest.importorskip("yaml")
    project.write("sindri.yaml", FLAT)
    multi = "line one\nit's \"two\" $HOME \\n"
    project.write(".env.local", "ANTHROPIC_API_KEY=sk-ant-local\n")
    env = {"GITHUB_TOKEN": multi}

    def export(fmt):
        rc, out, err = project.run(["export", "--format", fmt, "--no-cache"], env=env)
        assert rc == 0, err
        return out

    # dotenv, read back by Coffer's dotenvx-compatible parser.
    out_dir = project.dir.parent / "out"
    out_dir.mkdir()
    (out_dir / "secrets.env").write_text(export("dotenv"))
    rc, got, err = run(cli_bin, ["dotenv", "get", "-f", str(out_dir / "secrets.env"), "--format", "json"], out_dir)
    assert rc == 0, err
    got = json.loads(got)
    assert got["GITHUB_TOKEN"] == multi and got["DATABASE_PASSWORD"] == CANARY
    assert base64.b64decode(got["TLS_KEY_BASE64"]) == b"-----KEY-----\n"

    j = json.loads(export("json"))
    assert j["GITHUB_TOKEN"] == multi and j["TLS_KEY"]["permissions"] == "0600"

    sh = export("shell")
    p = subprocess.run(["bash", "-c", sh + '\nprintf %s "$GITHUB_TOKEN"'], stdout=subprocess.PIPE)
    assert p.stdout.decode() == multi

    docs = list(yaml.safe_load_all(export("k8s")))
    assert [d["metadata"]["name"] for d in docs] == ["my-production-app-secrets", "my-production-app-files"]
    assert all(d["apiVersion"] == "v1" and d["kind"] == "Secret" and d["type"] == "Opaque" for d in docs)
    assert base64.b64decode(docs[0]["data"]["DATABASE_PASSWORD"]).decode() == CANARY
    assert base64.b64decode(docs[1]["data"]["app.key"]) == b"-----KEY-----\n"

    compose = yaml.safe_load(export("compose"))
    svc = compose["services"]["my-production-app"]
    assert svc["env_file"] == [".env.secrets"]
    assert {"source": "tls_key", "target": "/etc/ssl/private/app.key", "mode": 0o600} in svc["secrets"]
    assert compose["secrets"]["tls_key"]["file"] == str(project.dir / "certs" / "tls.key")

    fly = export("fly")
    assert f"DATABASE_PASSWORD={CANARY}\n" in fly
    assert 'GITHUB_TOKEN="""' + multi + '"""\n' in fly
    assert "TLS_KEY_BASE64=" + base64.b64encode(b"-----KEY-----\n").decode() + "\n" in fly

    dc = export("devcontainer")
    assert CANARY not in dc
    dc = json.loads(dc)
    assert dc["containerEnv"]["DATABASE_PASSWORD"] == "${localEnv:DATABASE_PASSWORD}"
    assert "target=/etc/ssl/private/app.key" in dc["mounts"][1]

    rc, _, err = project.run(["export", "--format", "xml"])
    assert rc == 2 and "Invalid -format" in err


def test_export_files_0600_and_git_guard(project, tmp_path):
    project.write("coffer.yaml", "secrets:\n  - name: A\n    source: env\n")
    (project.dir / ".git").mkdir()
    target = project.dir / "deploy" / "out.env"
    target.parent.mkdir()
    rc, _, err = project.run(["export", "--format", "dotenv", "-o", str(target)], env={"A": "x"})
    assert rc == 1 and "inside the git work tree" in err and not target.exists()
    rc, _, err = project.run(["export", "--format", "dotenv", "-o", str(target), "--force"], env={"A": "x"})
    assert rc == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text() == "A='x'\n"
    outside = tmp_path / "compose" / "docker-compose.secrets.yml"
    outside.parent.mkdir()
    rc, _, err = project.run(["export", "--format", "compose", "-o", str(outside)], env={"A": "x"})
    assert rc == 0, err
    env_file = outside.parent / ".env.secrets"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600 and env_file.read_text() == "A='x'\n"


BAD = [
    ("secrets:\n  - name: X\n    source: gcp\n", 'coffer.yaml:3: secret X: source: unknown source "gcp"'),
    ("secrets:\n  - name: F\n    source: file\n    mountPath: /x\n", "coffer.yaml:2: secret F: path: missing"),
    ("secrets:\n  - name: F\n    source: file\n    path: ./certs/tls.key\n",
     "coffer.yaml:2: secret F: mountPath: missing"),
    ("secrets:\n  - name: F\n    source: file\n    path: ./certs/tls.key\n    mountPath: /x\n    permissions: rw\n",
     'coffer.yaml:6: secret F: permissions: expected an octal string such as "0600"'),
    ("secrets:\n  - name: F\n    source: file\n    path: ../../etc/passwd\n    mountPath: /x\n",
     "coffer.yaml:4: secret F: path: must not contain '..' components"),
    ("secrets:\n  - name: A\n    source: env\n  - name: A\n    source: env\n",
     "coffer.yaml:4: secret A: name: duplicate name (first declared at line 2)"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_schema_errors_exit_2(project, text, message):
    project.write("coffer.yaml", text)
    for cmd in (["secrets", "validate"], ["secrets", "list"], ["run", "--", "true"], ["export", "--format", "json"]):
        rc, out, err = project.run(cmd)
        assert rc == 2, (cmd, out, err)
        assert f"Error: {message}" in err


def test_canary_never_printed_without_show_values(project):
    project.write("sindri.yaml", FLAT)
    project.write(".env.local", f"ANTHROPIC_API_KEY={CANARY}-env\n")
    (project.dir / "certs" / "tls.key").write_text(CANARY + "-file")
    for cmd in (["secrets", "validate"], ["secrets", "validate", "--json"], ["secrets", "list"],
                ["secrets", "list", "--json"], ["secrets", "test-vault"], ["run", "--", "true"],
                ["export", "--format", "devcontainer"], ["secrets", "validate", "-c", "missing.yaml"]):
        rc, out, err = project.run(cmd)
        assert CANARY not in out + err, cmd
    rc, out, err = project.run(["secrets", "validate", "--show-values"])
    assert CANARY in out and f"{CANARY}-env" in out


def test_secrets_list_coexists_with_vault_meaning(project):
    project.write("coffer.yaml", "secrets:\n  - name: A\n    source: env\n")
    rc, out, _ = project.run(["secrets", "list"])
    assert rc == 0 and out.startswith("Configured secrets in coffer.yaml:")
    rc, out, err = project.run(["secrets", "list"], argv0="vault")
    assert rc == 0 and "cubbyhole/" in out and "secret/" in out, err
    rc, out, _ = project.run(["secrets", "list", "-format=json"])
    assert rc == 0 and "cubbyhole/" in json.loads(out)
    rc, out, _ = project.run(["secrets", "list", "-detailed"])
    assert rc == 0 and "Plugin" in out
    rc, _, err = project.run(["secrets", "list", "-s", "env", "-detailed"])
    assert rc == 2
    # Outside a project, `coffer secrets list` is Vault's.
    rc, out, _ = project.run(["secrets", "list"], cwd="/")
    assert rc == 0 and "cubbyhole/" in out
    rc, _, err = project.run(["secrets", "validate"], argv0="vault")
    assert rc == 2


def test_test_vault(project, cli):
    rc, out, err = project.run(["secrets", "test-vault"])
    assert rc == 0, out + err
    assert out.splitlines() == ["Testing Vault connection...", f"[OK] VAULT_ADDR set: {cli.addr}",
                                "[OK] VAULT_TOKEN available", "[OK] Vault connection successful",
                                "[OK] Token valid (TTL: 0s, never expires)"]
    rc, out, _ = project.run(["secrets", "test-vault"], vault=False, env={"VAULT_ADDR": "http://127.0.0.1:1"})
    assert rc == 1
    assert "[FAIL] VAULT_TOKEN not set and no ~/.vault-token" in out
    assert "[FAIL] Vault connection failed" in out and "Fix:" in out


def _approle_with_read_access(cli, mount, policy_path):
    """Enables AppRole at `mount` with a role allowed to read `policy_path`; returns (role_id, secret_id)."""
    cli.ok(["write", f"sys/auth/{mount}", "type=approle"])
    cli.ok(["policy", "write", f"{mount}-read", "-"],
           stdin=f'path "{policy_path}" {{ capabilities = ["read"] }}\n')
    cli.ok(["write", f"auth/{mount}/role/app", f"token_policies={mount}-read", "token_ttl=10m"])
    role_id = cli.ok(["read", "-field=role_id", f"auth/{mount}/role/app/role-id"]).strip()
    secret_id = cli.ok(["write", "-f", "-field=secret_id", f"auth/{mount}/role/app/secret-id"]).strip()
    return role_id, secret_id


def test_approle_login_resolves_vault_secrets(project, cli):
    cli.ok(["kv", "put", "secret/approle-app", "k=from-approle"])
    role_id, secret_id = _approle_with_read_access(cli, "approle-res", "secret/data/approle-app")
    project.write("coffer.yaml", "secrets:\n  - name: D\n    source: vault\n    vaultPath: secret/data/approle-app\n"
                                 "    vaultKey: k\n")
    env = {"VAULT_ADDR": cli.addr, "VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id,
           "VAULT_APPROLE_MOUNT": "approle-res"}
    rc, out, err = project.run(["secrets", "validate", "-no-cache"], vault=False, env=env)
    assert rc == 0, out + err
    rc, out, err = project.run(["run", "-no-cache", "--", "printenv", "D"], vault=False, env=env)
    assert rc == 0 and out == "from-approle\n", out + err
    rc, out, _ = project.run(["secrets", "test-vault"], vault=False, env=env)
    assert "[OK] AppRole (VAULT_ROLE_ID) login succeeded" in out
    # A wrong secret ID: exit 1, the server's reason, and no credential in the output.
    bad = dict(env, VAULT_SECRET_ID="0" * 36)
    rc, out, err = project.run(["secrets", "validate", "-no-cache"], vault=False, env=bad)
    assert rc == 1
    assert "AppRole (VAULT_ROLE_ID): login at auth/approle-res/login failed: HTTP 400" in err
    assert role_id not in out + err and "0" * 36 not in out + err
    # The role's token may read only what its policy allows.
    cli.ok(["kv", "put", "secret/other-app", "k=not-for-approle"])
    project.write("coffer.yaml", "secrets:\n  - name: D\n    source: vault\n    vaultPath: secret/data/other-app\n"
                                 "    vaultKey: k\n    required: true\n")
    rc, out, err = project.run(["secrets", "validate", "-no-cache"], vault=False, env=env)
    assert rc == 1 and "[FAIL] D" in out, out + err
    assert "not-for-approle" not in out + err


def test_kubernetes_login_resolves_vault_secrets(project, cli, tmp_path):
    """VAULT_K8S_ROLE + a service-account token file signed by a test cluster key (pem_keys)."""
    import base64 as _b64
    import datetime as _dt
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sa-signer")])
    now = _dt.datetime.now(_dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - _dt.timedelta(minutes=1))
            .not_valid_after(now + _dt.timedelta(hours=1)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()

    def b64(data):
        return _b64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "apps",
              "kubernetes.io/serviceaccount/secret.name": "web-token-x",
              "kubernetes.io/serviceaccount/service-account.name": "web",
              "kubernetes.io/serviceaccount/service-account.uid": "uid-web", "sub": "system:serviceaccount:apps:web"}
    signing_input = b64(json.dumps({"alg": "RS256"}).encode()) + "." + b64(json.dumps(claims).encode())
    jwt = signing_input + "." + b64(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))
    token_file = tmp_path / "sa-token"
    token_file.write_text(jwt + "\n")

    cli.ok(["kv", "put", "secret/k8s-app", "k=from-k8s"])
    cli.ok(["write", "sys/auth/k8s-res", "type=kubernetes"])
    cli.ok(["policy", "write", "k8s-res-read", "-"], stdin='path "secret/data/k8s-app" { capabilities = ["read"] }\n')
    cli.ok(["write", "auth/k8s-res/config", "kubernetes_host=https://127.0.0.1:1", f"pem_keys={pem}"])
    cli.ok(["write", "auth/k8s-res/role/web", "bound_service_account_names=web",
            "bound_service_account_namespaces=apps", "token_policies=k8s-res-read"])
    project.write("coffer.yaml", "secrets:\n  - name: D\n    source: vault\n    vaultPath: secret/data/k8s-app\n"
                                 "    vaultKey: k\n")
    env = {"VAULT_ADDR": cli.addr, "VAULT_K8S_ROLE": "web", "VAULT_K8S_MOUNT": "k8s-res",
           "VAULT_K8S_TOKEN_PATH": str(token_file)}
    rc, out, err = project.run(["run", "-no-cache", "--", "printenv", "D"], vault=False, env=env)
    assert rc == 0 and out == "from-k8s\n", out + err
    # A role the service account is not bound to: refused, and the JWT never echoed.
    rc, out, err = project.run(["secrets", "validate", "-no-cache"], vault=False, env=dict(env, VAULT_K8S_ROLE="nope"))
    assert rc == 1 and "Kubernetes (VAULT_K8S_ROLE): login at auth/k8s-res/login failed" in err
    assert jwt not in out + err


def test_machine_login_without_the_method_fails_clearly(project, cli):
    project.write("coffer.yaml", "secrets:\n  - name: D\n    source: vault\n    vaultPath: app\n    vaultKey: k\n")
    rc, _, err = project.run(["secrets", "validate"], vault=False,
                             env={"VAULT_ADDR": cli.addr, "VAULT_ROLE_ID": "r", "VAULT_APPROLE_MOUNT": "nowhere"})
    assert rc == 1 and "login at auth/nowhere/login failed" in err
    rc, _, err = project.run(["secrets", "validate"], vault=False,
                             env={"VAULT_ADDR": cli.addr, "VAULT_K8S_ROLE": "r",
                                  "VAULT_K8S_TOKEN_PATH": str(project.dir / "missing-token")})
    assert rc == 1 and "Kubernetes (VAULT_K8S_ROLE)" in err and "cannot read the service-account token" in err


def test_token_with_under_an_hour_left_is_renewed(project, cli):
    cli.ok(["kv", "put", "secret/renew-app", "k=v"])
    token = cli.ok(["token", "create", "-ttl=30m", "-field=token"]).strip()
    before = json.loads(cli.ok(["token", "lookup", "-format=json", token]))["data"]
    assert "last_renewal_time" not in before
    project.write("coffer.yaml", "secrets:\n  - name: D\n    source: vault\n    vaultPath: secret/data/renew-app\n"
                                 "    vaultKey: k\n")
    rc, out, err = project.run(["secrets", "validate", "-no-cache"], vault=False,
                               env={"VAULT_ADDR": cli.addr, "VAULT_TOKEN": token})
    assert rc == 0, out + err
    after = json.loads(cli.ok(["token", "lookup", "-format=json", token]))["data"]
    assert after.get("last_renewal_time", 0) > 0
    # A token with more than an hour left is left alone.
    token2 = cli.ok(["token", "create", "-ttl=2h", "-field=token"]).strip()
    rc, out, err = project.run(["secrets", "validate", "-no-cache"], vault=False,
                               env={"VAULT_ADDR": cli.addr, "VAULT_TOKEN": token2})
    assert rc == 0, out + err
    assert "last_renewal_time" not in json.loads(cli.ok(["token", "lookup", "-format=json", token2]))["data"]


def test_secrets_migrate(project, cli, tmp_path):
    project.write(".env", "DATABASE_URL=postgres://db/app\nOPENAI_API_KEY=sk-openai\nCUSTOM_THING='x y'\n")
    cli.ok(["kv", "put", "secret/database/connection", "password=kept"])
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"CUSTOM_THING": "team/custom:thing"}))
    exported = tmp_path / "used.json"
    rc, out, err = project.run(["secrets", "migrate", "-env-file", ".env", "-mapping", str(mapping), "-dry-run"])
    assert rc == 0, err
    assert "[DRY-RUN] DATABASE_URL -> secret/database/connection:url" in out
    assert "[DRY-RUN] CUSTOM_THING -> secret/team/custom:thing" in out
    assert "sk-openai" not in out + err
    assert json.loads(cli.ok(["kv", "get", "-format=json", "secret/database/connection"]))["data"]["data"] == {
        "password": "kept"}
    rc, out, err = project.run(["secrets", "migrate", "-env-file", ".env", "-mapping", str(mapping),
                                "-export-mapping", str(exported)])
    assert rc == 0, err
    assert "[OK] Wrote 1 key(s) to secret/api-keys/openai" in out
    assert cli.ok(["kv", "get", "-field=key", "secret/api-keys/openai"]) == "sk-openai"
    assert json.loads(cli.ok(["kv", "get", "-format=json", "secret/database/connection"]))["data"]["data"] == {
        "password": "kept", "url": "postgres://db/app"}
    assert cli.ok(["kv", "get", "-field=thing", "secret/team/custom"]) == "x y"
    assert json.loads(exported.read_text())["OPENAI_API_KEY"] == "api-keys/openai:key"


def test_secrets_manager_example_against_real_server(cli, cli_bin, tmp_path):
    example = Path(cli_bin).parent.parent / "examples" / "secrets_manager"
    assert example.exists(), f"{example} was not built (examples/ is part of the default build)"
    cli.ok(["kv", "put", "secret/database/connection", "url=postgres://real"])
    rc, out, err = run(example, ["database/connection", "url"], tmp_path,
                       env={"VAULT_ADDR": cli.addr, "VAULT_TOKEN": cli.token})
    assert (rc, out) == (0, "postgres://real\n"), err
    rc, out, err = run(example, ["database/connection", "url"], tmp_path,
                       env={"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": "t", "DATABASE_URL": "from-env"})
    assert (rc, out) == (0, "from-env\n") and "(from $DATABASE_URL)" in err
    rc, out, err = run(example, ["nope/nothing", "x"], tmp_path, env={"VAULT_ADDR": cli.addr, "VAULT_TOKEN": cli.token})
    assert rc == 1 and "no secret at nope/nothing" in err
