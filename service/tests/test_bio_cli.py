"""The operator command line, in-process, against a SQLite store."""

import json

import pytest
from tlsward_biometric.cli import main


@pytest.fixture
def env_file(tmp_path, key_dir):
    path = tmp_path / "service.env"
    path.write_text(
        f"TLSWARD_BIO_KEY_DIR={key_dir}\n"
        f"TLSWARD_BIO_DATABASE_PATH={tmp_path / 'cli.db'}\n"
        f"TLSWARD_BIO_AUDIT_LOG_PATH={tmp_path / 'audit.jsonl'}\n"
        "TLSWARD_BIO_ACTIVE_KEY_ID=k1\n"
        "TLSWARD_BIO_OPERATOR_OUS='[\"tlsward-operators\"]'\n"
    )
    return path


def run(capsys, *argv):
    main([*argv])
    return json.loads(capsys.readouterr().out)


def test_check_keys_rotate_retire(capsys, env_file):
    env = ("--env-file", str(env_file))
    assert run(capsys, *env, "check", "--config-only") == {"ok": True, "active_key_id": "k1"}
    assert run(capsys, *env, "check")["store"] == "sqlite"
    status = run(capsys, *env, "keys")
    assert (status["active_key_id"], status["loaded"], status["usage"]) == ("k1", ["k1", "k2"], {})
    assert run(capsys, *env, "rotate")["reencrypted"] == 0
    assert run(capsys, *env, "retire", "k2")["changed"] is True
    assert run(capsys, *env, "retire", "k2")["changed"] is False
    assert run(capsys, *env, "keys")["retired"] == ["k2"]
    with pytest.raises(SystemExit, match="key_in_use"):
        main([*env, "retire", "k1"])
    with pytest.raises(SystemExit, match="subject_not_found"):
        main([*env, "unlock", "nobody"])


def test_bad_settings_are_named(tmp_path, env_file):
    env_file.write_text(env_file.read_text() + "TLSWARD_BIO_LOCKOUT_BASE_DELAY_SECONDS=5\n")
    with pytest.raises(SystemExit, match="lockout_base_delay_seconds"):
        main(["--env-file", str(env_file), "check", "--config-only"])
    env_file.write_text(env_file.read_text() + "TLSWARD_BIO_TYPO=1\n")
    with pytest.raises(SystemExit, match="tlsward_bio_typo"):
        main(["--env-file", str(env_file), "check", "--config-only"])
    bad_keys = tmp_path / "bad-keys"
    bad_keys.mkdir()
    (bad_keys / "k1.key").write_text("ab" * 32)
    (bad_keys / "k1.key").chmod(0o644)
    env_file.write_text(f"TLSWARD_BIO_KEY_DIR={bad_keys}\n")
    with pytest.raises(SystemExit, match="lets group/others read it"):
        main(["--env-file", str(env_file), "check", "--config-only"])
