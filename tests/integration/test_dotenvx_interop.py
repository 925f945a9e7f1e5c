"""`coffer dotenv ...` against the real dotenvx (npm @dotenvx/dotenvx in tests/node_modules).

Files encrypted by dotenvx are decrypted by Coffer and the reverse, for every quoting form and
multi-line values; key names for .env, .env.production and .env.production.local; `set`/`get`
agree between the tools; corrupt values, wrong-length and wrong keys give clear errors; a
world-readable keys file gives a warning; rotate and run work.

    scripts/bootstrap   # installs dotenvx into tests/node_modules
    COFFER_BIN=$PWD/build/bin/coffer /usr/bin/python3 -m pytest -q tests/integration/test_dotenvx_interop.py
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOTENVX = REPO / "tests" / "node_modules" / ".bin" / "dotenvx"

# Not a skip: without the real dotenvx these tests would prove nothing, so they fail loudly.
assert os.access(DOTENVX, os.X_OK), "dotenvx is not installed in tests/node_modules (run scripts/bootstrap)"

# Every quoting form dotenvx reads, multi-line values, comments, export, blank lines.
SAMPLE = """# a comment at the top
export EXPORTED=exported value
UNQUOTED=plain value # trailing comment
SINGLE='single $NOT #expanded'
DOUBLE="double with \\t tab and # hash"
BACKTICK=`back 'tick' "quote"`
MULTI="line one
line two
  line three"
MULTI_SINGLE='first
second'
EMPTY=
  INDENTED=  spaced out

EXPANDED=${UNQUOTED:-x}/more
UNICODE="héllo wörld ✓"
KEEP_PLAIN=visible
"""


def clean_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOTENV_")}
    env.update(extra or {})
    return env


def run(args, cwd: Path, *, env: dict | None = None, check: bool = True, input: str | None = None,
        preexec_fn=None):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=clean_env(env), input=input, timeout=120, preexec_fn=preexec_fn)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def dotenvx(cwd: Path, *args, **kw):
    return run([DOTENVX, *args], cwd, **kw)


def coffer(bin_: Path, cwd: Path, *args, **kw):
    return run([bin_, "dotenv", *args], cwd, **kw)


def get_json(tool, cwd: Path, file: str, **kw) -> dict:
    out = tool(cwd, "get", "-f", file, "--format", "json", **kw).stdout
    return json.loads(out)


@pytest.fixture
def c(coffer_bin):
    return lambda cwd, *args, **kw: coffer(coffer_bin, cwd, *args, **kw)


def plain_values(tmp_path: Path) -> dict:
    d = tmp_path / "plain"
    d.mkdir(exist_ok=True)
    (d / ".env").write_text(SAMPLE)
    values = get_json(dotenvx, d, ".env")
    assert values["MULTI"] == "line one\nline two\n  line three"
    return values


def test_parser_agrees_with_dotenvx(c, tmp_path):
    expected = plain_values(tmp_path)
    d = tmp_path / "p"
    d.mkdir()
    (d / ".env").write_text(SAMPLE)
    assert get_json(c, d, ".env") == expected


@pytest.mark.parametrize("name", [".env", ".env.production", ".env.production.local"])
def test_dotenvx_encrypts_coffer_decrypts(c, tmp_path, name):
    expected = plain_values(tmp_path)
    d = tmp_path / "x"
    d.mkdir()
    (d / name).write_text(SAMPLE)
    dotenvx(d, "encrypt", "-f", name)
    text = (d / name).read_text()
    assert "UNQUOTED=encrypted:" in text and "plain value" not in text
    got = get_json(c, d, name)
    public_name = next(k for k in got if k.startswith("DOTENV_PUBLIC_KEY"))
    suffix = {".env": "", ".env.production": "_PRODUCTION", ".env.production.local": "_PRODUCTION_LOCAL"}[name]
    assert public_name == "DOTENV_PUBLIC_KEY" + suffix
    got.pop(public_name)
    assert got == expected
    # Coffer's decrypt gives back a file dotenvx reads identically.
    coffer_dec = c(d, "decrypt", "-f", name, "--stdout").stdout
    (d / "roundtrip.env").write_text(coffer_dec)
    after = get_json(dotenvx, d, "roundtrip.env")
    after.pop(public_name)
    assert after == expected


@pytest.mark.parametrize("name", [".env", ".env.production", ".env.production.local"])
def test_coffer_encrypts_dotenvx_decrypts(c, tmp_path, name):
    expected = plain_values(tmp_path)
    d = tmp_path / "y"
    d.mkdir()
    (d / name).write_text(SAMPLE)
    c(d, "encrypt", "-f", name)
    text = (d / name).read_text()
    assert "plain value" not in text and "KEEP_PLAIN=visible" in text
    suffix = {".env": "", ".env.production": "_PRODUCTION", ".env.production.local": "_PRODUCTION_LOCAL"}[name]
    assert f'DOTENV_PUBLIC_KEY{suffix}="0' in text
    keys = (d / ".env.keys").read_text()
    assert f"\n# {name}\nDOTENV_PRIVATE_KEY{suffix}=" in keys
    assert stat.S_IMODE((d / ".env.keys").stat().st_mode) == 0o600
    got = get_json(dotenvx, d, name)
    got.pop("DOTENV_PUBLIC_KEY" + suffix)
    assert got == expected
    # dotenvx decrypts the file in place; the result parses like the original.
    dotenvx(d, "decrypt", "-f", name)
    back = get_json(c, d, name)
    back.pop("DOTENV_PUBLIC_KEY" + suffix)
    assert back == expected


def test_layout_matches_dotenvx_byte_for_byte(c, tmp_path):
    """Same input, same key: the files differ only in the random ciphertexts."""
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / ".env.staging").write_text("# first\nA=1\nB='two'\n")
    dotenvx(a, "encrypt", "-f", ".env.staging")
    key = (a / ".env.keys").read_text().split("DOTENV_PRIVATE_KEY_STAGING=")[1].strip()
    # A fresh file in b: coffer makes its own keypair; compare the structure line by line.
    c(b, "encrypt", "-f", ".env.staging")
    la, lb = (a / ".env.staging").read_text().splitlines(), (b / ".env.staging").read_text().splitlines()
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        if "encrypted:" in x or "DOTENV_PUBLIC_KEY" in x:
            assert x.split("=")[0] == y.split("=")[0]
        else:
            assert x == y
    ka, kb = (a / ".env.keys").read_text().splitlines(), (b / ".env.keys").read_text().splitlines()
    assert [l.split("=")[0] for l in ka] == [l.split("=")[0] for l in kb]
    assert key


def test_keys_file_appends_for_second_env(c, tmp_path):
    d = tmp_path / "k"
    d.mkdir()
    (d / ".env").write_text("A=1\n")
    (d / ".env.production").write_text("B=2\n")
    c(d, "encrypt", "-f", ".env.production")
    dotenvx(d, "encrypt", "-f", ".env")
    c(d, "encrypt", "-f", ".env")  # nothing new
    keys = (d / ".env.keys").read_text()
    assert keys.count("DOTENV_PRIVATE_KEY_PRODUCTION=") == 1 and keys.count("DOTENV_PRIVATE_KEY=") == 1
    assert get_json(c, d, ".env")["A"] == "1"
    assert get_json(dotenvx, d, ".env.production")["B"] == "2"


def test_set_and_get_agree(c, tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    (d / ".env").write_text("# keep me\nFIRST=1\n")
    c(d, "set", "HELLO", "from coffer")
    dotenvx(d, "set", "WORLD", "from dotenvx")
    c(d, "set", "MULTI", "a\nb")
    c(d, "set", "PLAIN", "shown", "--plain")
    text = (d / ".env").read_text()
    assert text.startswith("#/---") and "# keep me\nFIRST=1\n" in text
    assert 'PLAIN="shown"' in text and "from coffer" not in text
    for tool in (dotenvx, c):
        assert tool(d, "get", "HELLO").stdout == "from coffer\n"
        assert tool(d, "get", "WORLD").stdout == "from dotenvx\n"
        assert tool(d, "get", "MULTI").stdout == "a\nb\n"
    # Overwrite in place keeps the line's position.
    dotenvx(d, "set", "HELLO", "again")
    assert c(d, "get", "HELLO").stdout == "again\n"
    assert get_json(c, d, ".env") == get_json(dotenvx, d, ".env")


def test_get_formats(c, tmp_path):
    d = tmp_path / "g"
    d.mkdir()
    (d / ".env").write_text("A=1\nB='x y'\n")
    assert c(d, "get", "--format", "shell").stdout == "A=1 B=x y\n"
    assert c(d, "get", "--format=eval").stdout == "A='1'\nB='x y'\n"
    assert json.loads(c(d, "get", "-format", "json").stdout) == {"A": "1", "B": "x y"}
    all_ = json.loads(c(d, "get", "--all", env={"ZZ_FROM_ENV": "1"}).stdout)
    assert all_["ZZ_FROM_ENV"] == "1" and all_["A"] == "1"
    missing = c(d, "get", "NOPE", check=False)
    assert missing.returncode == 1 and "NOPE" in missing.stderr
    bad = c(d, "get", "--format", "xml", check=False)
    assert bad.returncode == 2 and "--format" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_keypair(c, tmp_path):
    d = tmp_path / "kp"
    d.mkdir()
    (d / ".env").write_text("A=1\n")
    dotenvx(d, "encrypt")
    mine = json.loads(c(d, "keypair").stdout)
    theirs = json.loads(dotenvx(d, "keypair").stdout)
    assert mine["DOTENV_PUBLIC_KEY"] == theirs["DOTENV_PUBLIC_KEY"]
    assert mine["DOTENV_PRIVATE_KEY"] == theirs["DOTENV_PRIVATE_KEY"]
    assert c(d, "keypair", "DOTENV_PUBLIC_KEY").stdout.strip() == theirs["DOTENV_PUBLIC_KEY"]
    shell = c(d, "keypair", "--format", "shell").stdout
    assert shell.startswith("DOTENV_PUBLIC_KEY=0")


def test_private_key_from_environment_list(c, tmp_path):
    d = tmp_path / "e"
    d.mkdir()
    (d / ".env.production").write_text("SECRET=s3cret\n")
    dotenvx(d, "encrypt", "-f", ".env.production")
    key = (d / ".env.keys").read_text().split("DOTENV_PRIVATE_KEY_PRODUCTION=")[1].strip()
    (d / ".env.keys").unlink()
    other = json.loads(c(d, "keypair", "-f", "nothing.env").stdout)  # no keys: nulls
    assert list(other.values()) == [None, None]
    wrong = "1" * 64
    # Coffer tries every key of the list in turn, as FORMATS.md says.
    env = {"DOTENV_PRIVATE_KEY_PRODUCTION": f"{wrong},{key}"}
    assert c(d, "get", "SECRET", "-f", ".env.production", env=env).stdout == "s3cret\n"
    # dotenvx 2.38 only succeeds here when the right key comes first (measured); both agree then.
    env = {"DOTENV_PRIVATE_KEY_PRODUCTION": f"{key},{wrong}"}
    assert c(d, "get", "SECRET", "-f", ".env.production", env=env).stdout == "s3cret\n"
    assert dotenvx(d, "get", "SECRET", "-f", ".env.production", env=env).stdout == "s3cret\n"


def test_errors_are_clear_and_never_show_keys(c, tmp_path):
    d = tmp_path / "err"
    d.mkdir()
    (d / ".env").write_text("SECRET=s3cret\n")
    dotenvx(d, "encrypt")
    key = (d / ".env.keys").read_text().split("DOTENV_PRIVATE_KEY=")[1].strip()
    (d / ".env.keys").rename(d / "saved.keys")

    missing = c(d, "decrypt", check=False)
    assert missing.returncode == 1 and "[MISSING_PRIVATE_KEY]" in missing.stderr

    short = c(d, "decrypt", env={"DOTENV_PRIVATE_KEY": key[:-2]}, check=False)
    assert short.returncode == 2 and "[INVALID_PRIVATE_KEY]" in short.stderr
    assert key[:-2] not in short.stderr + short.stdout

    wrong = c(d, "decrypt", env={"DOTENV_PRIVATE_KEY": "2" * 64}, check=False)
    assert wrong.returncode == 1 and "[WRONG_PRIVATE_KEY]" in wrong.stderr and "SECRET" in wrong.stderr

    (d / "saved.keys").rename(d / ".env.keys")
    original = (d / ".env").read_text()
    for corrupt in ["encrypted:!!!notbase64", "encrypted:BBBB", "encrypted:" + "A" * 200]:
        (d / ".env").write_text(original + f"BROKEN={corrupt}\n")
        r = c(d, "decrypt", check=False)
        assert r.returncode == 2, r.stderr
        assert "[MALFORMED_ENCRYPTED_DATA]" in r.stderr and "BROKEN" in r.stderr
        assert (d / ".env").read_text() == original + f"BROKEN={corrupt}\n"  # nothing written
    # A tampered ciphertext (valid shape) cannot be told from a wrong key: it fails authentication.
    enc = original.split("SECRET=")[1].strip()
    flipped = enc[:-6] + ("A" if enc[-6] != "A" else "B") + enc[-5:]
    (d / ".env").write_text(original.replace(enc, flipped))
    r = c(d, "get", "SECRET", check=False)
    assert r.returncode == 1 and "SECRET" in r.stderr and key not in r.stderr

    bad_flag = c(d, "encrypt", "--nope", check=False)
    assert bad_flag.returncode == 2 and "-nope" in bad_flag.stderr
    no_file = c(d, "encrypt", "-f", "missing.env", check=False)
    assert no_file.returncode == 2 and "missing.env" in no_file.stderr


def test_world_readable_keys_file_warns(c, tmp_path):
    d = tmp_path / "w"
    d.mkdir()
    (d / ".env").write_text("A=1\n")
    c(d, "encrypt")
    os.chmod(d / ".env.keys", 0o644)
    r = c(d, "get", "A")
    assert r.stdout == "1\n"
    assert "warning" in r.stderr and ".env.keys" in r.stderr and "chmod 600" in r.stderr


def test_encrypt_filters_and_stdout(c, tmp_path):
    d = tmp_path / "f"
    d.mkdir()
    (d / ".env").write_text("API_KEY=1\nAPI_URL=2\nOTHER=3\n")
    out = c(d, "encrypt", "-k", "API_*", "-ek", "API_URL", "--stdout").stdout
    assert "API_KEY=encrypted:" in out and "API_URL=2" in out and "OTHER=3" in out
    assert (d / ".env").read_text() == "API_KEY=1\nAPI_URL=2\nOTHER=3\n"
    c(d, "encrypt", "-f", ".env", "-k", "OTHER")
    assert "OTHER=encrypted:" in (d / ".env").read_text()
    assert get_json(dotenvx, d, ".env")["OTHER"] == "3"


def test_rotate(c, tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / ".env.production").write_text(SAMPLE)
    dotenvx(d, "encrypt", "-f", ".env.production")
    before = get_json(dotenvx, d, ".env.production")
    old_key = (d / ".env.keys").read_text().split("DOTENV_PRIVATE_KEY_PRODUCTION=")[1].strip()
    c(d, "rotate", "-f", ".env.production")
    new_keys = (d / ".env.keys").read_text()
    new_key = new_keys.split("DOTENV_PRIVATE_KEY_PRODUCTION=")[1].strip()
    assert new_key != old_key and "," not in new_key
    after = get_json(dotenvx, d, ".env.production")
    assert after.pop("DOTENV_PUBLIC_KEY_PRODUCTION") != before.pop("DOTENV_PUBLIC_KEY_PRODUCTION")
    assert after == before
    # A rotation that cannot decrypt (only a wrong key) changes nothing and creates no keys file.
    (d / ".env.keys").rename(d / "saved.keys")
    snapshot = (d / ".env.production").read_text()
    r = c(d, "rotate", "-f", ".env.production", env={"DOTENV_PRIVATE_KEY_PRODUCTION": "3" * 64}, check=False)
    assert r.returncode == 1 and "[WRONG_PRIVATE_KEY]" in r.stderr
    assert (d / ".env.production").read_text() == snapshot and not (d / ".env.keys").exists()
    # A failing env-file write (a file-size limit the keys file fits under but the env file does
    # not; works as root too) leaves the env file as it was and restores the keys file.
    (d / "saved.keys").rename(d / ".env.keys")
    limit = len(new_keys) + 256
    assert len(snapshot) > limit, "the sample must be larger than the write limit"

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = c(d, "rotate", "-f", ".env.production", check=False, preexec_fn=small_files)
    assert r.returncode != 0, r.stdout + r.stderr
    assert (d / ".env.production").read_text() == snapshot
    assert (d / ".env.keys").read_text() == new_keys
    now = get_json(dotenvx, d, ".env.production")  # still decrypts with the restored keys
    now.pop("DOTENV_PUBLIC_KEY_PRODUCTION")
    assert now == after


def test_run_injects_into_child_only(c, tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / ".env").write_text("SECRET=from file\nPRESET=file\n")
    c(d, "encrypt")
    r = c(d, "run", "--", "sh", "-c", 'printf "%s|%s" "$SECRET" "$PRESET"; exit 7',
          env={"PRESET": "process"}, check=False)
    assert r.returncode == 7
    assert r.stdout == "from file|process"
    r = c(d, "run", "-f", ".env", "--overload", "--", "sh", "-c", 'printf %s "$PRESET"', env={"PRESET": "process"})
    assert r.stdout == "file"
    assert "SECRET=encrypted:" in (d / ".env").read_text()
    missing = c(d, "run", "--", "no-such-command-xyz", check=False)
    assert missing.returncode == 127
