"""`coffer sync` (envdrift-style key sync) against a real `coffer server -dev` (hashicorp provider).

Create, skip, mismatch under --verify, --force with a backup, --check-decryption with a wrong key,
`dotenv decrypt --verify-vault` exit codes and repair text, pair.txt and pyproject.toml forms,
`sync push`, and a mapping folder that does not exist.

    COFFER_BIN=$PWD/build/bin/coffer /usr/bin/python3 -m pytest -q tests/integration/test_keysync.py
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

KEY_A = "ec9e80073d7ace817d35acb8b7293cbf8e5981b4d2f5708ee5be405122993cd1"


def run(coffer_bin, cwd: Path, server, *args, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOTENV_", "VAULT_"))}
    env.update({"VAULT_ADDR": server.url, "VAULT_TOKEN": server.root_token, "HOME": str(cwd)})
    proc = subprocess.run([str(coffer_bin), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def put_secret(coffer_bin, cwd, server, name, value):
    run(coffer_bin, cwd, server, "kv", "put", f"secret/{name}", f"value={value}")


def new_keypair(coffer_bin, cwd: Path, server) -> tuple[str, str]:
    d = cwd / "kp-tmp"
    d.mkdir(exist_ok=True)
    (d / ".env").write_text("X=1\n")
    run(coffer_bin, d, server, "dotenv", "encrypt")
    kp = json.loads(run(coffer_bin, d, server, "dotenv", "keypair").stdout)
    for f in d.iterdir():
        f.unlink()
    d.rmdir()
    return kp["DOTENV_PUBLIC_KEY"], kp["DOTENV_PRIVATE_KEY"]


@pytest.fixture
def project(tmp_path):
    (tmp_path / "services" / "app").mkdir(parents=True)
    (tmp_path / "envdrift.toml").write_text(
        '[vault]\nprovider = "hashicorp"\n\n[vault.sync]\nenv_keys_filename = ".env.keys"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "app-key"\nfolder_path = "services/app"\n'
        'environment = "production"\n')
    return tmp_path


def keys_of(folder: Path) -> str:
    return (folder / ".env.keys").read_text()


def test_create_skip_verify_force(coffer_bin, dev_server, project):
    app = project / "services" / "app"
    put_secret(coffer_bin, project, dev_server, "app-key", f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}")
    r = run(coffer_bin, project, dev_server, "sync")
    assert "created" in r.stdout
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}" in keys_of(app)
    assert stat.S_IMODE((app / ".env.keys").stat().st_mode) == 0o600
    r = run(coffer_bin, project / "services", dev_server, "sync")  # found by walking up
    assert "skipped" in r.stdout
    assert run(coffer_bin, project, dev_server, "sync", "--verify").returncode == 0

    _, other = new_keypair(coffer_bin, project, dev_server)
    put_secret(coffer_bin, project, dev_server, "app-key", other)
    before = keys_of(app)
    r = run(coffer_bin, project, dev_server, "sync", "--verify", check=False)
    assert r.returncode == 1 and "MISMATCH" in r.stdout and other not in r.stdout + r.stderr
    assert keys_of(app) == before
    r = run(coffer_bin, project, dev_server, "sync", "--ci", check=False)
    assert r.returncode == 1 and "--force" in r.stdout
    r = run(coffer_bin, project, dev_server, "sync", "--force")
    assert "updated" in r.stdout
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={other}" in keys_of(app)
    backups = list(app.glob(".env.keys.backup.*"))
    assert len(backups) == 1 and KEY_A in backups[0].read_text()


def test_check_decryption_and_verify_vault(coffer_bin, dev_server, project):
    app = project / "services" / "app"
    (app / ".env.production").write_text("DB=secret\n")
    run(coffer_bin, app, dev_server, "dotenv", "encrypt", "-f", ".env.production")
    good = keys_of(app).split("DOTENV_PRIVATE_KEY_PRODUCTION=")[1].strip()
    (app / ".env.keys").unlink()
    # The JSON {"value": ...} form envdrift also accepts.
    put_secret(coffer_bin, project, dev_server, "app-key", json.dumps({"value": good}))
    r = run(coffer_bin, project, dev_server, "sync", "--check-decryption")
    assert "created" in r.stdout
    r = run(coffer_bin, app, dev_server, "dotenv", "decrypt", "-f", ".env.production", "--verify-vault",
            "-p", "hashicorp", "--secret", "app-key", "--ci")
    assert r.returncode == 0 and "DB=encrypted:" in (app / ".env.production").read_text()

    _, wrong = new_keypair(coffer_bin, project, dev_server)
    put_secret(coffer_bin, project, dev_server, "app-key", wrong)
    r = run(coffer_bin, project, dev_server, "sync", "--check-decryption", "--force", check=False)
    assert r.returncode == 1 and "does not decrypt" in r.stdout and wrong not in r.stdout + r.stderr
    assert good in keys_of(app)  # nothing replaced
    r = run(coffer_bin, app, dev_server, "dotenv", "decrypt", ".env.production", "--verify-vault",
            "--secret", "app-key", check=False)
    assert r.returncode == 1
    assert "git restore .env.production" in r.stderr and "sync --force" in r.stderr
    assert "dotenv encrypt -f .env.production" in r.stderr


def test_labelled_for_other_environment(coffer_bin, dev_server, project):
    put_secret(coffer_bin, project, dev_server, "app-key", f"DOTENV_PRIVATE_KEY_STAGING={KEY_A}")
    r = run(coffer_bin, project, dev_server, "sync", check=False)
    assert r.returncode == 1 and "STAGING" in r.stdout
    assert not (project / "services" / "app" / ".env.keys").exists()


def test_pair_txt_pyproject_missing_folder_and_push(coffer_bin, dev_server, tmp_path):
    (tmp_path / "svc").mkdir()
    (tmp_path / "pair.txt").write_text("# legacy\npair-key=svc\n")
    put_secret(coffer_bin, tmp_path, dev_server, "pair-key", KEY_A)
    assert "created" in run(coffer_bin, tmp_path, dev_server, "sync").stdout

    py = tmp_path / "py"
    (py / "api").mkdir(parents=True)
    (py / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.envdrift.vault]\nprovider = "hashicorp"\n\n'
        '[[tool.envdrift.vault.sync.mappings]]\nsecret_name = "pair-key"\nfolder_path = "api"\n'
        '\n[[tool.envdrift.vault.sync.mappings]]\nsecret_name = "pair-key"\nfolder_path = "gone"\n')
    r = run(coffer_bin, py, dev_server, "sync", check=False)
    assert r.returncode == 1
    assert "created" in r.stdout and "gone does not exist" in r.stdout

    # sync push: the local key goes to the vault under a new name, then syncs back elsewhere.
    (tmp_path / "push").mkdir()
    (tmp_path / "push" / "pair.txt").write_text("pushed-key=../svc\n")
    run(coffer_bin, tmp_path / "push", dev_server, "sync", "push")
    got = run(coffer_bin, tmp_path, dev_server, "kv", "get", "-field=value", "secret/pushed-key").stdout
    assert got.strip() == f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}"

    bad = run(coffer_bin, tmp_path, dev_server, "sync", "-p", "gcp", check=False)
    assert bad.returncode == 2 and "expected hashicorp, aws or azure" in bad.stderr
    bad = run(coffer_bin, tmp_path, dev_server, "sync", "--region", "eu-west-1", check=False)
    assert bad.returncode == 2 and "only the aws provider uses a region" in bad.stderr


def test_profiles_select_mappings(coffer_bin, dev_server, tmp_path):
    """envdrift's profiles: untagged mappings always, tagged ones only with --profile <tag>; the
    environment defaults to the profile; env_file names the file --check-decryption reads."""
    for d in ("shared", "svc"):
        (tmp_path / d).mkdir()
    (tmp_path / "envdrift.toml").write_text(
        '[vault]\nprovider = "hashicorp"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "shared-key"\nfolder_path = "shared"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "local-key"\nfolder_path = "svc"\nprofile = "local"\n'
        'env_file = "app.env"\nactivate_to = ".env"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "soak-key"\nfolder_path = "svc"\nprofile = "soak"\n')
    # A real key for the local profile, and an env file encrypted with it under a custom name.
    (tmp_path / "svc" / ".env.local").write_text("TOKEN=abc\n")
    run(coffer_bin, tmp_path / "svc", dev_server, "dotenv", "encrypt", "-f", ".env.local")
    local_key = (tmp_path / "svc" / ".env.keys").read_text().split("DOTENV_PRIVATE_KEY_LOCAL=")[1].split()[0]
    (tmp_path / "svc" / ".env.local").rename(tmp_path / "svc" / "app.env")
    (tmp_path / "svc" / ".env.keys").unlink()
    put_secret(coffer_bin, tmp_path, dev_server, "shared-key", KEY_A)
    put_secret(coffer_bin, tmp_path, dev_server, "local-key", f"DOTENV_PRIVATE_KEY_LOCAL={local_key}")

    r = run(coffer_bin, tmp_path, dev_server, "sync")
    assert "shared-key" in r.stdout and "local-key" not in r.stdout and "soak-key" not in r.stdout
    assert not (tmp_path / "svc" / ".env.keys").exists()

    r = run(coffer_bin, tmp_path, dev_server, "sync", "--profile", "local")
    assert "local-key" in r.stdout and "soak-key" not in r.stdout
    assert f"DOTENV_PRIVATE_KEY_LOCAL={local_key}" in keys_of(tmp_path / "svc")
    # soak's secret does not exist: selecting that profile reports it missing and fails.
    r = run(coffer_bin, tmp_path, dev_server, "sync", "--profile", "soak", check=False)
    assert r.returncode == 1 and "soak-key" in r.stdout and "local-key" not in r.stdout

    (tmp_path / "envdrift.toml").write_text(
        '[vault]\nprovider = "hashicorp"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "local-key"\nfolder_path = "svc"\nprofile = "local"\n'
        'env_file = "app.env"\n')
    r = run(coffer_bin, tmp_path, dev_server, "sync", check=False)
    assert r.returncode == 1 and "no mappings selected" in r.stderr and "--profile" in r.stderr
    # --check-decryption reads the mapping's env_file (svc/app.env), not svc/.env.local.
    r = run(coffer_bin, tmp_path, dev_server, "sync", "--profile", "local", "--check-decryption")
    assert "skipped" in r.stdout
    (tmp_path / "svc" / "app.env").rename(tmp_path / "svc" / "moved.env")
    r = run(coffer_bin, tmp_path, dev_server, "sync", "--profile", "local", "--check-decryption", check=False)
    assert r.returncode == 1 and "app.env does not exist" in r.stdout
