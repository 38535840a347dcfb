"""The operator command line, in-process, against a SQLite store."""

import json

import pytest
from bio_helpers import unit_vector
from tlsward_biometric.cli import main
from tlsward_biometric.crypto import KeyRing
from tlsward_biometric.lockout import Counters
from tlsward_biometric.modalities import ModalityRegistry
from tlsward_biometric.store import SqliteStore, SubjectRecord
from tlsward_biometric.templates import embedding_from_values

VALUES = unit_vector(128, 1)


@pytest.fixture
def env_file(tmp_path, key_dir):
    path = tmp_path / "service.env"
    path.write_text(
        f"TLSWARD_BIO_KEY_DIR={key_dir}\n"
        f"TLSWARD_BIO_DATABASE_PATH={tmp_path / 'cli.db'}\n"
        f"TLSWARD_BIO_AUDIT_LOG_PATH={tmp_path / 'audit.jsonl'}\n"
        "TLSWARD_BIO_ACTIVE_KEY_ID=k1\n"
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
        main([*env, "unlock", "--group", "site-a", "nobody"])
    with pytest.raises(SystemExit):  # the group is required
        main([*env, "unlock", "nobody"])


def test_unlock_and_adopt_legacy_subjects(capsys, env_file, tmp_path, key_dir):
    env = ("--env-file", str(env_file))
    store = SqliteStore(tmp_path / "cli.db")
    ring = KeyRing.load(key_dir, "k1")
    template = embedding_from_values(ModalityRegistry(target_fmr=1e-4).get("face-128").spec, VALUES)
    with store.transaction() as tx:  # as a schema-1 database is migrated: group ""
        for name in ("alice", "bob"):
            sealed = ring.seal(name, "face-128", template.to_plaintext(), group="")
            tx.insert_subject(SubjectRecord("", name, "face-128", sealed, "f00d", 1.0))
        tx.set_counters("", "bob", Counters(10, 0.0, True))
    assert run(capsys, *env, "adopt-group", "site-a", "--max-records", "1") == {
        "group": "site-a",
        "adopted": 1,
    }
    assert run(capsys, *env, "adopt-group", "site-a")["adopted"] == 1
    assert run(capsys, *env, "adopt-group", "site-a")["adopted"] == 0
    with store.transaction() as tx:
        assert tx.get_subject("", "alice") is None
        bob = tx.get_subject("site-a", "bob")
        assert ring.open("bob", "face-128", bob.sealed, group="site-a") == template.to_plaintext()
        assert tx.get_counters("site-a", "bob").hard_locked  # the counters moved with it
        assert [e.event for e in tx.audit_events()] == ["adopt_group", "adopt_group"]
    assert run(capsys, *env, "unlock", "--group", "site-a", "bob")["unlocked"] is True
    with store.transaction() as tx:
        assert tx.get_counters("site-a", "bob") == Counters()
        assert tx.audit_events()[-1].device_id.startswith("cli:")
    store.close()


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("TLSWARD_BIO_OPERATOR_OUS='[\"tlsward-operators\"]'", "operator_ous"),
        ("TLSWARD_BIO_OPERATOR_FINGERPRINTS=[]", "operator_fingerprints"),
    ],
)
def test_removed_operator_settings_are_named(capsys, env_file, line, name):
    main(["--env-file", str(env_file), "check", "--config-only"])  # fine without them
    capsys.readouterr()
    env_file.write_text(env_file.read_text() + line + "\n")
    with pytest.raises(SystemExit, match=f"{name} is no longer read: an operator is a device whose"):
        main(["--env-file", str(env_file), "check", "--config-only"])


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
