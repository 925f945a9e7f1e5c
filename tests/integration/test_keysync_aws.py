"""`coffer sync` / `sync push` / `dotenv decrypt --verify-vault` with the AWS Secrets Manager
provider, against a local server speaking Secrets Manager's JSON 1.1 protocol that verifies every
SigV4 signature with its own implementation (aws_sm_server.py).

Create, skip, --verify mismatch, --force with backup, --check-decryption with a wrong key, push
(create then update), --verify-vault exit codes and repair text, --region / [vault.aws] region /
AWS_REGION reaching the signature scope, credentials from the environment (with a session token)
and from ~/.aws/credentials with AWS_PROFILE, a wrong secret key, an unknown access key, no
credentials, access denied, a missing secret, an invalid secret name.

    COFFER_BIN=$PWD/build/bin/coffer /usr/bin/python3 -m pytest -q tests/integration/test_keysync_aws.py
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from aws_sm_server import SecretsManagerServer

KEY_A = "ec9e80073d7ace817d35acb8b7293cbf8e5981b4d2f5708ee5be405122993cd1"
AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY"
FILE_AKID = "AKIAFILEPROFILE00001"
FILE_SECRET = "fIlEsEcReT/0123456789+abcdefghijKLMNOPQR"
FILE_TOKEN = "FQoGZXIvYXdzEXAMPLE//sessiontoken+0123456789="


@pytest.fixture
def sm():
    server = SecretsManagerServer({AKID: SECRET, FILE_AKID: FILE_SECRET},
                                  session_tokens={FILE_AKID: FILE_TOKEN}).start()
    yield server
    server.stop()


def run(coffer_bin, cwd: Path, sm, *args, check=True, creds=True, extra=None, home=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOTENV_", "VAULT_", "AWS_"))}
    env.update({"HOME": str(home or cwd), "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.url})
    if creds:
        env.update({"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET})
    env.update(extra or {})
    proc = subprocess.run([str(coffer_bin), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def new_keypair(coffer_bin, cwd: Path, sm) -> str:
    d = cwd / "kp-tmp"
    d.mkdir(exist_ok=True)
    (d / ".env").write_text("X=1\n")
    run(coffer_bin, d, sm, "dotenv", "encrypt", creds=False)
    kp = json.loads(run(coffer_bin, d, sm, "dotenv", "keypair", creds=False).stdout)
    for f in d.iterdir():
        f.unlink()
    d.rmdir()
    return kp["DOTENV_PRIVATE_KEY"]


def config(root: Path, region: str | None = None, secret: str = "app-key") -> None:
    aws = f'\n[vault.aws]\nregion = "{region}"\n' if region else ""
    (root / "envdrift.toml").write_text(
        f'[vault]\nprovider = "aws"\n{aws}\n'
        f'[[vault.sync.mappings]]\nsecret_name = "{secret}"\nfolder_path = "services/app"\n'
        'environment = "production"\n')


@pytest.fixture
def project(tmp_path):
    (tmp_path / "services" / "app").mkdir(parents=True)
    config(tmp_path)
    return tmp_path


def keys_of(folder: Path) -> str:
    return (folder / ".env.keys").read_text()


def no_key_material(r: subprocess.CompletedProcess, *values: str) -> None:
    out = r.stdout + r.stderr
    for v in (SECRET, FILE_SECRET, FILE_TOKEN, "Signature=", *values):
        assert v not in out, f"{v!r} leaked into the output:\n{out}"


def test_create_skip_verify_force(coffer_bin, sm, project):
    app = project / "services" / "app"
    sm.put("app-key", f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}")
    r = run(coffer_bin, project, sm, "sync")
    assert "created" in r.stdout
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}" in keys_of(app)
    assert stat.S_IMODE((app / ".env.keys").stat().st_mode) == 0o600
    # What reached the service: a signed GetSecretValue for the default region (envdrift's us-east-1).
    req = sm.requests[-1]
    assert req["target"] == "secretsmanager.GetSecretValue" and req["body"] == {"SecretId": "app-key"}
    assert (req["region"], req["service"], req["access_key"]) == ("us-east-1", "secretsmanager", AKID)
    assert req["headers"]["content-type"] == "application/x-amz-json-1.1"
    assert {"host", "x-amz-date", "x-amz-target", "content-type"} <= set(req["signed_headers"])

    r = run(coffer_bin, project / "services", sm, "sync")  # found by walking up
    assert "skipped" in r.stdout
    assert run(coffer_bin, project, sm, "sync", "--verify").returncode == 0

    other = new_keypair(coffer_bin, project, sm)
    sm.put("app-key", other)  # the bare-hex form
    before = keys_of(app)
    r = run(coffer_bin, project, sm, "sync", "--verify", check=False)
    assert r.returncode == 1 and "MISMATCH" in r.stdout
    no_key_material(r, other)
    assert keys_of(app) == before
    r = run(coffer_bin, project, sm, "sync", "--ci", check=False)
    assert r.returncode == 1 and "--force" in r.stdout
    r = run(coffer_bin, project, sm, "sync", "--force")
    assert "updated" in r.stdout
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={other}" in keys_of(app)
    backups = list(app.glob(".env.keys.backup.*"))
    assert len(backups) == 1 and KEY_A in backups[0].read_text()
    assert not sm.rejected


def test_check_decryption_and_verify_vault(coffer_bin, sm, project):
    app = project / "services" / "app"
    (app / ".env.production").write_text("DB=secret\n")
    run(coffer_bin, app, sm, "dotenv", "encrypt", "-f", ".env.production")
    good = keys_of(app).split("DOTENV_PRIVATE_KEY_PRODUCTION=")[1].strip()
    (app / ".env.keys").unlink()
    sm.put("app-key", json.dumps({"value": good}))
    r = run(coffer_bin, project, sm, "sync", "--check-decryption")
    assert "created" in r.stdout
    r = run(coffer_bin, app, sm, "dotenv", "decrypt", "-f", ".env.production", "--verify-vault",
            "-p", "aws", "--secret", "app-key", "--ci")
    assert r.returncode == 0 and "decrypts" in r.stderr
    assert "DB=encrypted:" in (app / ".env.production").read_text()  # verify-vault writes nothing

    wrong = new_keypair(coffer_bin, project, sm)
    sm.put("app-key", wrong)
    r = run(coffer_bin, project, sm, "sync", "--check-decryption", "--force", check=False)
    assert r.returncode == 1 and "does not decrypt" in r.stdout
    no_key_material(r, wrong, good)
    assert good in keys_of(app)  # nothing replaced
    r = run(coffer_bin, app, sm, "dotenv", "decrypt", ".env.production", "--verify-vault",
            "-p", "aws", "--secret", "app-key", check=False)
    assert r.returncode == 1
    assert "git restore .env.production" in r.stderr and "sync --force" in r.stderr
    assert "dotenv encrypt -f .env.production" in r.stderr
    no_key_material(r, wrong, good)


def test_push_creates_then_updates(coffer_bin, sm, project):
    app = project / "services" / "app"
    (app / ".env.keys").write_text(f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\n")
    r = run(coffer_bin, project, sm, "sync", "push")
    assert "pushed" in r.stdout
    assert sm.targets() == ["secretsmanager.PutSecretValue", "secretsmanager.CreateSecret"]
    assert sm.requests[-1]["body"] == {"Name": "app-key", "SecretString": f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}"}
    assert sm.value("app-key") == f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}"
    no_key_material(r, KEY_A)

    other = new_keypair(coffer_bin, project, sm)
    (app / ".env.keys").write_text(f"DOTENV_PRIVATE_KEY_PRODUCTION={other}\n")
    run(coffer_bin, project, sm, "sync", "push")
    assert sm.targets()[2:] == ["secretsmanager.PutSecretValue"]
    assert sm.value("app-key") == f"DOTENV_PRIVATE_KEY_PRODUCTION={other}"
    # And it syncs back into a fresh folder.
    (app / ".env.keys").unlink()
    assert "created" in run(coffer_bin, project, sm, "sync").stdout
    assert other in keys_of(app)


def test_region_reaches_the_signature_scope(coffer_bin, sm, project):
    sm.region = "eu-west-3"
    sm.put("app-key", KEY_A)
    # Default region: the server refuses the us-east-1 scope, as AWS does for a wrong region.
    r = run(coffer_bin, project, sm, "sync", check=False)
    assert r.returncode == 1 and "ERROR" in r.stdout and "valid region" in r.stdout
    assert sm.rejected[-1]["region"] == "us-east-1"
    # AWS_REGION.
    r = run(coffer_bin, project, sm, "sync", extra={"AWS_REGION": "eu-west-3"})
    assert "created" in r.stdout and sm.requests[-1]["region"] == "eu-west-3"
    # [vault.aws] region wins over the environment.
    config(project, region="eu-west-3")
    r = run(coffer_bin, project, sm, "sync", extra={"AWS_REGION": "us-west-2"})
    assert "skipped" in r.stdout and sm.requests[-1]["region"] == "eu-west-3"
    # --region wins over the config.
    sm.region = "ap-south-1"
    r = run(coffer_bin, project, sm, "sync", "--region", "ap-south-1")
    assert "skipped" in r.stdout and sm.requests[-1]["region"] == "ap-south-1"
    r = run(coffer_bin, project, sm, "dotenv", "decrypt", "x", "--verify-vault", "-p", "aws", "--region", "sa-east-1",
            "--secret", "app-key", check=False)
    assert r.returncode == 1 and sm.rejected[-1]["region"] == "sa-east-1"
    bad = run(coffer_bin, project, sm, "sync", "--region", "EU WEST", check=False)
    assert bad.returncode == 2 and "--region" in bad.stderr


def test_shared_credentials_file_and_profile(coffer_bin, sm, project, tmp_path):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAUNKNOWN000000000\naws_secret_access_key = nope\n\n"
        f"[team]\naws_access_key_id = {FILE_AKID}\naws_secret_access_key = {FILE_SECRET}\n"
        f"aws_session_token = {FILE_TOKEN}\n")
    (home / ".aws" / "config").write_text("[profile team]\nregion = eu-central-1\n")
    sm.region = "eu-central-1"
    sm.put("app-key", KEY_A)
    r = run(coffer_bin, project, sm, "sync", creds=False, home=home, extra={"AWS_PROFILE": "team"})
    assert "created" in r.stdout
    req = sm.requests[-1]
    assert (req["access_key"], req["region"]) == (FILE_AKID, "eu-central-1")
    assert "x-amz-security-token" in req["signed_headers"]
    # The default profile's key is unknown to AWS: a clear permission error, exit 1.
    r = run(coffer_bin, project, sm, "sync", "--verify", creds=False, home=home, extra={"AWS_REGION": "eu-central-1"},
            check=False)
    assert r.returncode == 1 and "does not recognise the access key" in r.stdout
    assert sm.rejected[-1]["error"] == "UnrecognizedClientException"
    no_key_material(r)
    # A session token from the environment that AWS does not accept.
    r = run(coffer_bin, project, sm, "sync", "--verify", creds=False, check=False,
            extra={"AWS_ACCESS_KEY_ID": FILE_AKID, "AWS_SECRET_ACCESS_KEY": FILE_SECRET,
                   "AWS_SESSION_TOKEN": "stale-token", "AWS_REGION": "eu-central-1"})
    assert r.returncode == 1 and "session token" in r.stdout
    no_key_material(r, "stale-token")


def test_wrong_secret_key(coffer_bin, sm, project):
    sm.put("app-key", KEY_A)
    wrong = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzWRONGKEY0"
    r = run(coffer_bin, project, sm, "sync", creds=False, check=False,
            extra={"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": wrong})
    assert r.returncode == 1
    assert "signature" in r.stdout and "secret access key" in r.stdout and "InvalidSignatureException" in r.stdout
    assert sm.rejected[-1]["error"] == "InvalidSignatureException"
    no_key_material(r, wrong, KEY_A)
    assert not (project / "services" / "app" / ".env.keys").exists()
    r = run(coffer_bin, project / "services" / "app", sm, "dotenv", "decrypt", ".env.production", "--verify-vault",
            "-p", "aws", "--secret", "app-key", creds=False, check=False,
            extra={"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": wrong})
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "signature" in r.stderr
    no_key_material(r, wrong)


def test_no_credentials(coffer_bin, sm, project):
    r = run(coffer_bin, project, sm, "sync", creds=False, check=False)
    assert r.returncode == 2
    assert "AWS_ACCESS_KEY_ID" in r.stderr and "AWS_SECRET_ACCESS_KEY" in r.stderr and "AWS_PROFILE" in r.stderr
    r = run(coffer_bin, project, sm, "dotenv", "decrypt", "x", "--verify-vault", "-p", "aws", "--secret", "app-key",
            creds=False, check=False)
    assert r.returncode == 2 and "AWS_ACCESS_KEY_ID" in r.stderr
    assert not sm.requests and not sm.rejected


def test_missing_denied_and_invalid_names(coffer_bin, sm, project):
    r = run(coffer_bin, project, sm, "sync", check=False)
    assert r.returncode == 1 and "MISSING" in r.stdout and "not found" in r.stdout
    assert sm.requests[-1]["target"] == "secretsmanager.GetSecretValue"

    sm.put("app-key", KEY_A)
    sm.denied.add("app-key")
    r = run(coffer_bin, project, sm, "sync", check=False)
    assert r.returncode == 1 and "ERROR" in r.stdout and "access denied" in r.stdout

    n = len(sm.requests)
    config(project, secret="bad name!")
    r = run(coffer_bin, project, sm, "sync", check=False)
    assert r.returncode == 1 and "bad name!" in r.stdout and "/_+=.@-" in r.stdout
    assert len(sm.requests) == n and not sm.rejected


def test_server_rejects_unsigned_and_tampered_requests(sm):
    """The stand-in must refuse what AWS refuses, or the tests above prove nothing."""
    import urllib.request

    def post(headers, body=b'{"SecretId":"x"}'):
        req = urllib.request.Request(sm.url + "/", data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    base = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"}
    status, body = post(base)
    assert status == 400 and body["__type"] == "MissingAuthenticationTokenException"
    forged = dict(base, **{"X-Amz-Date": "20990101T000000Z", "Authorization":
                           f"AWS4-HMAC-SHA256 Credential={AKID}/20990101/us-east-1/secretsmanager/aws4_request, "
                           "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64})
    status, body = post(forged)
    assert status == 400 and body["__type"] == "InvalidSignatureException"
    assert not sm.requests
