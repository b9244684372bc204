"""Server keys: generated in demo mode only, required in production, pinned to the database."""

from __future__ import annotations

import base64
import json
import re
import stat
from pathlib import Path

import pytest

from fuzzydice.clock import FixedClock
from fuzzydice.keys import (
    KEY_NAMES,
    KeyMismatchError,
    MissingSecretsError,
    ServerKey,
    ServerKeyError,
    generate_key_text,
    load_keys,
)
from fuzzydice.services import build_services
from tests.conftest import make_settings


def secrets_of(path: Path) -> dict[str, str]:
    return json.loads(path.read_text())


def test_production_without_secrets_refuses_to_start(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, db_url, mode="production")
    with pytest.raises(MissingSecretsError) as raised:
        build_services(settings, FixedClock())
    for name in ("FUZZYDICE_PEPPER", "FUZZYDICE_AES_KEY", "FUZZYDICE_SIGNING_KEY"):
        assert name in str(raised.value)
    assert not settings.secrets_file.exists()  # production never generates secrets


def test_production_names_only_the_missing_secret(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, "sqlite://", mode="production", pepper=generate_key_text(), aes_key=generate_key_text()
    )
    with pytest.raises(MissingSecretsError, match="FUZZYDICE_SIGNING_KEY") as raised:
        load_keys(settings)
    assert "FUZZYDICE_PEPPER" not in str(raised.value)


def test_production_with_its_secrets_starts(tmp_path: Path, db_url: str) -> None:
    texts = {name: generate_key_text() for name in KEY_NAMES}
    settings = make_settings(tmp_path, db_url, mode="production", **texts)
    services = build_services(settings, FixedClock())
    assert services.keys.pepper.material == base64.urlsafe_b64decode(texts["pepper"] + "=")
    assert not settings.secrets_file.exists()
    services.engine.dispose()


@pytest.mark.parametrize("bad", ["c2hvcnQ", "A" * 60, "%%%not base64%%%"])
def test_a_malformed_key_is_refused(tmp_path: Path, bad: str) -> None:
    texts = {name: generate_key_text() for name in KEY_NAMES} | {"aes_key": bad}
    with pytest.raises(ServerKeyError, match="FUZZYDICE_AES_KEY"):
        load_keys(make_settings(tmp_path, "sqlite://", mode="production", **texts))


def test_demo_generates_a_private_secrets_file_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite://")
    assert not settings.secrets_file.exists()
    first = load_keys(settings)
    assert stat.S_IMODE(settings.secrets_file.stat().st_mode) == 0o600
    stored = secrets_of(settings.secrets_file)
    assert set(stored) == set(KEY_NAMES)
    assert len({first.pepper.material, first.aes_key.material, first.signing_key.material}) == 3
    second = load_keys(settings)
    assert second == first
    assert secrets_of(settings.secrets_file) == stored


def test_demo_prefers_secrets_given_in_the_environment(tmp_path: Path) -> None:
    pepper = generate_key_text()
    keys = load_keys(make_settings(tmp_path, "sqlite://", pepper=pepper))
    assert keys.pepper.material == base64.urlsafe_b64decode(pepper + "=")
    assert keys.aes_key.material == base64.urlsafe_b64decode(secrets_of(tmp_path / "secrets.json")["aes_key"] + "=")


def test_a_different_key_for_an_existing_database_is_refused(tmp_path: Path, db_url: str) -> None:
    clock = FixedClock()
    first = build_services(make_settings(tmp_path / "a", db_url), clock)
    first.engine.dispose()
    again = build_services(make_settings(tmp_path / "a", db_url), clock)  # same secrets: fine
    again.engine.dispose()
    with pytest.raises(KeyMismatchError) as raised:
        build_services(make_settings(tmp_path / "b", db_url), clock)
    assert first.keys.pepper.key_id in str(raised.value)  # names the recorded key by its id only


def test_key_id_is_8_hex_and_reveals_nothing(tmp_path: Path) -> None:
    keys = load_keys(make_settings(tmp_path, "sqlite://"))
    for key in keys.all():
        assert re.fullmatch(r"[0-9a-f]{8}", key.key_id)
        assert key.key_id not in key.material.hex()
        assert key.key_id not in base64.urlsafe_b64encode(key.material).decode()
        assert key.key_id not in key.fingerprint
    assert len({key.key_id for key in keys.all()}) == 3
    assert ServerKey("pepper", b"\x01" * 32).key_id != ServerKey("pepper", b"\x02" * 32).key_id


def test_repr_never_shows_the_material(tmp_path: Path) -> None:
    keys = load_keys(make_settings(tmp_path, "sqlite://"))
    text = repr(keys) + str(keys) + repr(keys.pepper) + str(keys.pepper)
    for key in keys.all():
        assert key.material.hex() not in text
        assert base64.urlsafe_b64encode(key.material).decode().rstrip("=") not in text
        assert repr(key.material) not in text
        assert key.key_id in repr(key)


def test_demo_secrets_file_missing_a_key_keeps_the_others(tmp_path):
    import json

    from fuzzydice.keys import load_keys
    from fuzzydice.settings import Settings

    path = tmp_path / "secrets.json"
    settings = Settings(mode="demo", secrets_file=path)
    first = load_keys(settings)
    data = json.loads(path.read_text())
    del data["signing_key"]
    path.write_text(json.dumps(data))
    path.chmod(0o644)
    second = load_keys(settings)
    assert second.pepper.material == first.pepper.material
    assert second.aes_key.material == first.aes_key.material
    assert second.signing_key.material != first.signing_key.material
    assert path.stat().st_mode & 0o777 == 0o600


def test_corrupt_demo_secrets_file_gives_a_clear_error(tmp_path):
    import pytest

    from fuzzydice.keys import ServerKeyError, load_keys
    from fuzzydice.settings import Settings

    path = tmp_path / "secrets.json"
    path.write_text("{not json")
    with pytest.raises(ServerKeyError, match="not valid JSON"):
        load_keys(Settings(mode="demo", secrets_file=path))
