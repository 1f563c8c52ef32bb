"""Settings that do not fit stop the service at start, named and without their values; secrets stay out of repr."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from broker.settings import Settings
from entrypoints.cli import main


def test_https_needs_both_the_certificate_and_the_key(tmp_path: Path) -> None:
    """Only one of the two is refused, either way round; both or neither is fine."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    both = "SILTA_API_TLS_CERT_FILE and SILTA_API_TLS_KEY_FILE"
    with pytest.raises(pydantic.ValidationError, match=both):
        Settings(api_tls_cert_file=cert)
    with pytest.raises(pydantic.ValidationError, match=both):
        Settings(api_tls_key_file=key)
    assert Settings(api_tls_cert_file=cert, api_tls_key_file=key).api_tls_key_file == key
    assert Settings().api_tls_cert_file is None


def test_a_command_with_settings_that_do_not_fit_names_them_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silta serve` with a misfit: one line per setting, its SILTA_ name, no value, no traceback."""
    monkeypatch.setenv("SILTA_AUTH_CLIENT_ROLES", '{"kela": "kela", "cs": "organiser"}')
    monkeypatch.setenv("SILTA_AUTH_CLIENTS", '{"cs": "hva-99"}')
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("silta: SILTA_AUTH_CLIENT_ROLES: Value error, clients with the organiser role")
    assert "cs → hva-99" in error


def test_the_database_password_stays_out_of_the_settings_repr() -> None:
    """A settings dump (repr, a debugger, an error report) shows no database URL and so no password."""
    settings = Settings(database_url="postgresql+asyncpg://silta:hunter2@db:5432/silta")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)


def test_min_insync_replicas_may_not_exceed_the_replication_factor() -> None:
    """Two in-sync replicas of one would refuse every acks=all write: refused at start, named; 2 of 3 is fine."""
    with pytest.raises(pydantic.ValidationError, match="SILTA_KAFKA_MIN_INSYNC_REPLICAS"):
        Settings(kafka_replication_factor=1, kafka_min_insync_replicas=2)
    assert Settings(kafka_replication_factor=3, kafka_min_insync_replicas=2).kafka_min_insync_replicas == 2
    assert Settings().kafka_min_insync_replicas == 1
