"""`[temporal.tls]` and `api_key_env`: what is checked before any connection, and how.

The failure each test prevents: a worker that starts, connects, and only then (or never) says
its certificate was the wrong file, its key belonged to another certificate, or the variable
with the API key was empty, in the words of a TLS library about neither file. Here every such
mistake is a ConfigError (exit 2 from `validate` and `worker`) naming the field and the path or
variable, and never the key or certificate material itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import trustme

from genesis.failover.domain.config import TemporalSettings, parse_config
from genesis.failover.domain.errors import ConfigError
from genesis.failover.temporal.connection import connection_options
from tests.unit.test_config import MINIMAL, with_

TLS_ENV = (
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_NAME",
)


@pytest.fixture(autouse=True)
def _no_tls_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*TLS_ENV, "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _pem_files(tmp_path: Path, ca: trustme.CA, **issue: Any) -> dict[str, str]:
    client = ca.issue_cert("genesis-worker@example.test", **issue)
    files = {
        "server_ca_cert_path": tmp_path / "ca.pem",
        "client_cert_path": tmp_path / "client.pem",
        "client_key_path": tmp_path / "client.key",
    }
    files["server_ca_cert_path"].write_bytes(ca.cert_pem.bytes())
    files["client_cert_path"].write_bytes(b"".join(p.bytes() for p in client.cert_chain_pems))
    files["client_key_path"].write_bytes(client.private_key_pem.bytes())
    return {k: str(v) for k, v in files.items()}


def _error(temporal: dict[str, Any], environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        connection_options(TemporalSettings.model_validate(temporal), environ or {})
    return caught.value


def test_plaintext_without_tls_or_api_key() -> None:
    options = connection_options(TemporalSettings(), {})
    assert options.tls is False and options.api_key is None


def test_mutual_tls_files_are_read_into_the_sdks_tls_config(tmp_path: Path, ca: trustme.CA) -> None:
    files = _pem_files(tmp_path, ca)
    options = connection_options(
        TemporalSettings.model_validate({"tls": {**files, "server_name": "temporal.internal"}}),
        {},
    )
    tls = options.tls
    assert not isinstance(tls, bool)
    assert tls.server_root_ca_cert == ca.cert_pem.bytes()
    assert tls.client_cert == Path(files["client_cert_path"]).read_bytes()
    assert tls.client_private_key == Path(files["client_key_path"]).read_bytes()
    assert tls.domain == "temporal.internal"


def test_an_empty_tls_table_means_tls_with_the_system_roots() -> None:
    tls = connection_options(TemporalSettings.model_validate({"tls": {}}), {}).tls
    assert not isinstance(tls, bool) and tls.server_root_ca_cert is None and not tls.client_cert


def test_a_missing_file_names_the_field_and_path(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope" / "ca.pem")
    err = _error({"tls": {"server_ca_cert_path": missing}})
    assert err.field == "temporal.tls.server_ca_cert_path" and err.value == missing
    assert missing in str(err) and "No such file" in str(err)


def test_a_directory_instead_of_a_file_is_refused(tmp_path: Path) -> None:
    err = _error({"tls": {"server_ca_cert_path": str(tmp_path)}})
    assert err.field == "temporal.tls.server_ca_cert_path" and str(tmp_path) in str(err)


def test_a_file_that_is_not_pem_is_refused_without_echoing_it(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("s3cr3t-not-a-certificate\n")
    err = _error({"tls": {"server_ca_cert_path": str(garbage)}})
    assert "holds no PEM certificate" in str(err) and "s3cr3t" not in str(err)


def test_a_key_file_given_as_the_certificate_is_refused(tmp_path: Path, ca: trustme.CA) -> None:
    files = _pem_files(tmp_path, ca)
    err = _error({"tls": {**files, "client_cert_path": files["client_key_path"]}})
    assert err.field == "temporal.tls.client_cert_path" and "holds no PEM certificate" in str(err)


def test_a_certificate_given_as_the_key_is_refused(tmp_path: Path, ca: trustme.CA) -> None:
    files = _pem_files(tmp_path, ca)
    err = _error({"tls": {**files, "client_key_path": files["client_cert_path"]}})
    assert err.field == "temporal.tls.client_key_path" and "holds no PEM private key" in str(err)


def test_a_key_of_another_certificate_is_refused_naming_both_files(
    tmp_path: Path, ca: trustme.CA
) -> None:
    files = _pem_files(tmp_path, ca)
    other = tmp_path / "other.key"
    other.write_bytes(ca.issue_cert("someone-else@example.test").private_key_pem.bytes())
    err = _error({"tls": {**files, "client_key_path": str(other)}})
    assert err.field == "temporal.tls.client_key_path"
    assert "does not belong to the certificate" in str(err)
    assert str(other) in str(err) and files["client_cert_path"] in str(err)


def test_an_expired_client_certificate_says_when_it_expired(tmp_path: Path, ca: trustme.CA) -> None:
    files = _pem_files(
        tmp_path,
        ca,
        not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2021, 6, 30, 12, 0, tzinfo=dt.UTC),
    )
    err = _error({"tls": files})
    assert err.field == "temporal.tls.client_cert_path"
    assert "expired on 2021-06-30 12:00 UTC" in str(err)


def test_a_client_certificate_from_the_future_suggests_the_clock(
    tmp_path: Path, ca: trustme.CA
) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    files = _pem_files(tmp_path, ca, not_before=soon, not_after=soon + dt.timedelta(days=30))
    err = _error({"tls": files})
    assert "is not valid before" in str(err) and "clock" in str(err)


def test_an_encrypted_key_is_refused_with_the_reason(tmp_path: Path, ca: trustme.CA) -> None:
    from cryptography.hazmat.primitives import serialization

    files = _pem_files(tmp_path, ca)
    key = serialization.load_pem_private_key(
        Path(files["client_key_path"]).read_bytes(), password=None
    )
    Path(files["client_key_path"]).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    err = _error({"tls": files})
    assert err.field == "temporal.tls.client_key_path" and "encrypted" in str(err)


def test_cert_without_key_is_a_config_error_naming_both() -> None:
    data = with_("temporal.tls", {"client_cert_path": "/etc/genesis/client.pem"})
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert "client_cert_path is set but client_key_path is not" in str(caught.value)


def test_the_api_key_comes_from_its_variable_and_turns_tls_on() -> None:
    temporal = TemporalSettings(api_key_env="GENESIS_TEMPORAL_API_KEY")
    options = connection_options(temporal, {"GENESIS_TEMPORAL_API_KEY": " key-123 \n"})
    assert options.api_key == "key-123" and options.tls is True
    assert "key-123" not in repr(options)


def test_an_unset_api_key_variable_names_it_and_the_field() -> None:
    err = _error({"api_key_env": "GENESIS_TEMPORAL_API_KEY"}, {"GENESIS_TEMPORAL_API_KEY": " "})
    assert err.field == "temporal.api_key_env" and "GENESIS_TEMPORAL_API_KEY" in str(err)


def test_an_api_key_written_in_the_file_is_refused_without_echoing_it() -> None:
    data = with_("temporal.api_key_env", "eyJhbGciOiJFUzI1NiJ9.secret-part")
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert "secret-part" not in str(caught.value)


# --- the Temporal CLI's environment variables -----------------------------------------------------


def test_the_clis_tls_variables_override_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "/run/secrets/ca.pem")
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", "/run/secrets/client.pem")
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", "/run/secrets/client.key")
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.internal")
    data = with_("temporal.tls", {"server_ca_cert_path": "/etc/ca.pem", "server_name": "x"})
    tls = parse_config(data).temporal.tls
    assert tls is not None
    assert (tls.server_ca_cert_path, tls.client_cert_path, tls.client_key_path) == (
        "/run/secrets/ca.pem",
        "/run/secrets/client.pem",
        "/run/secrets/client.key",
    )
    assert tls.server_name == "temporal.internal"


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_temporal_tls_true_turns_tls_on(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TEMPORAL_TLS", value)
    assert parse_config(MINIMAL).temporal.tls is not None


def test_temporal_tls_false_leaves_the_files_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_TLS", "false")
    assert parse_config(MINIMAL).temporal.tls is None
    assert parse_config(with_("temporal.tls", {})).temporal.tls is not None


def test_a_bad_temporal_tls_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_TLS", "yes please")
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL)
    assert caught.value.field == "TEMPORAL_TLS" and "'yes please'" in str(caught.value)


def test_negative_waits_are_refused() -> None:
    for key in ("connect_wait_seconds", "shutdown_grace_seconds"):
        with pytest.raises(ConfigError) as caught:
            parse_config(with_(f"temporal.{key}", -1))
        assert f"temporal.{key}" in str(caught.value)


def test_a_client_certificate_near_its_end_is_announced_at_start(
    tmp_path: Path, ca: trustme.CA, caplog: pytest.LogCaptureFixture
) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=5, hours=1)
    files = _pem_files(tmp_path, ca, not_after=soon)
    with caplog.at_level("WARNING", logger="genesis.failover.temporal.connection"):
        connection_options(TemporalSettings.model_validate({"tls": files}), {})
    assert "expires in 5 days" in caplog.text and files["client_cert_path"] in caplog.text

    caplog.clear()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
    fresh = _pem_files(tmp_path, ca, not_after=later)
    with caplog.at_level("WARNING", logger="genesis.failover.temporal.connection"):
        connection_options(TemporalSettings.model_validate({"tls": fresh}), {})
    assert "expires" not in caplog.text
