"""Encryption at rest: the AES-256-GCM payload codec (genesis/failover/temporal/codec.py), its keys
from the environment, rotation, tampering, and a real failover on the dev server whose stored
history is ciphertext while the CLI, the codec server and `temporal --codec-endpoint` read it in
clear."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from genesis.failover.domain.config import failover_workflow_id, parse_config
from genesis.failover.domain.config.site import EncryptionSettings
from genesis.failover.domain.errors import ConfigError
from genesis.failover.temporal.codec import (
    ENCODING,
    KEY_ID_KEY,
    EncryptionCodec,
    TamperedPayloadError,
    UnknownKeyError,
    key_id,
    new_key,
)
from genesis.failover.temporal.codec_server import codec_server_for
from genesis.failover.temporal.converter import data_converter
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.ports import free_port
from genesis.lab.temporal_dev import TemporalDevServer
from tests.browser import chromium_page, require_browser
from tests.integration.conftest import (
    BACKUP,
    PRIMARY,
    TSIG_ENV,
    lab_config_data,
    request,
    running_worker,
    wait_status,
)
from tests.support import CLI, dev_banner, interrupt, start_dev, write_toml
from tests.temporal_cli import history_text, run, temporal

KEY_ENV, OLD_KEY_ENV, AUTH_ENV = (
    "GENESIS_TEST_PAYLOAD_KEY",
    "GENESIS_TEST_OLD_KEY",
    "GFO_CODEC_AUTH",
)
REASON = "encrypted-drill-reason-7d3f"
HOOK_ERROR = "HOOK-ERR-5c1e"


def small_site(**temporal: Any) -> dict[str, Any]:
    """The least config that loads (a check that never matters, one Route53 record), with
    ``temporal`` as its [temporal] table: for the commands that only read the config."""
    return {
        "temporal": temporal,
        "site": {"name": "s", "primary_ip": PRIMARY, "backup_ip": BACKUP},
        "checks": [{"name": "c", "type": "tcp", "target": "127.0.0.1:9"}],
        "dns": {"provider": "route53", "records": [{"domain": "a.example.test"}]},
    }


def _payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


def _raw(key: str) -> bytes:
    return base64.b64decode(key)


async def test_a_payload_round_trips_and_its_stored_form_shows_no_plaintext() -> None:
    codec = EncryptionCodec(_raw(new_key()))
    original = [_payload(f"primary {PRIMARY}"), _payload("")]
    encoded = await codec.encode(original)
    assert [p.metadata["encoding"] for p in encoded] == [ENCODING, ENCODING]
    assert {p.metadata[KEY_ID_KEY].decode() for p in encoded} == {codec.key_id}
    assert PRIMARY.encode() not in encoded[0].data and b"json/plain" not in encoded[0].data
    # A random nonce per payload: the same plaintext never encrypts the same way twice.
    assert (await codec.encode(original[:1]))[0].data != encoded[0].data
    assert await codec.decode(encoded) == original
    # Payloads written before encryption was turned on still read.
    assert await codec.decode(original) == original


async def test_a_rotated_key_decrypts_what_the_previous_key_wrote_and_encrypts_with_the_new() -> (
    None
):
    old, new = new_key(), new_key()
    written_before = await EncryptionCodec(_raw(old)).encode([_payload(REASON)])
    rotated = EncryptionCodec(_raw(new), previous=[_raw(old)])
    assert rotated.key_ids == [key_id(_raw(new)), key_id(_raw(old))]
    assert await rotated.decode(written_before) == [_payload(REASON)]
    written_after = await rotated.encode([_payload(REASON)])
    assert written_after[0].metadata[KEY_ID_KEY].decode() == key_id(_raw(new))

    # A codec that lost the old key says which key id it needs, and shows no key.
    with pytest.raises(UnknownKeyError) as lost:
        await EncryptionCodec(_raw(new)).decode(written_before)
    assert lost.value.key_id == key_id(_raw(old))
    assert key_id(_raw(old)) in str(lost.value) and "previous_key_envs" in str(lost.value)
    assert old not in str(lost.value) and new not in str(lost.value)


async def test_a_tampered_payload_or_its_metadata_is_refused_with_a_typed_error() -> None:
    k1, k2 = new_key(), new_key()
    codec = EncryptionCodec(_raw(k1), previous=[_raw(k2)])
    (sealed,) = await codec.encode([_payload(f"to {BACKUP}")])

    flipped = Payload()
    flipped.CopyFrom(sealed)
    flipped.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID_KEY] = key_id(_raw(k2)).encode()  # a key it holds, not this one's
    unlabelled = Payload()
    unlabelled.CopyFrom(sealed)
    del unlabelled.metadata[KEY_ID_KEY]
    for bad in (flipped, relabelled, unlabelled):
        with pytest.raises(TamperedPayloadError) as refused:
            await codec.decode([bad])
        message = str(refused.value)
        assert k1 not in message and k2 not in message and BACKUP not in message


def test_a_missing_or_malformed_key_is_a_config_error_naming_the_variable_never_the_value() -> None:
    settings = EncryptionSettings(key_env=KEY_ENV, previous_key_envs=[OLD_KEY_ENV])
    short = base64.b64encode(os.urandom(16)).decode()
    cases = {
        "unset": ({OLD_KEY_ENV: new_key()}, "temporal.encryption.key_env", KEY_ENV),
        "not base64": (
            {KEY_ENV: "not*base64*at*all!", OLD_KEY_ENV: new_key()},
            "temporal.encryption.key_env",
            KEY_ENV,
        ),
        "16 bytes": (
            {KEY_ENV: new_key(), OLD_KEY_ENV: short},
            "temporal.encryption.previous_key_envs[0]",
            OLD_KEY_ENV,
        ),
    }
    for case, (environ, field, var) in cases.items():
        with pytest.raises(ConfigError) as refused:
            data_converter(settings, environ)
        error = refused.value
        assert (error.field, error.value) == (field, var), case
        assert var in str(error), case
        assert not [v for v in environ.values() if v in str(error)], case
    # The config itself holds names only: a key pasted in place of a name is refused unechoed.
    pasted = new_key()
    with pytest.raises(ConfigError) as named:
        parse_config(
            {
                "temporal": {"encryption": {"key_env": pasted}},
                "site": {"name": "s", "primary_ip": PRIMARY, "backup_ip": BACKUP},
                "checks": [{"name": "c", "type": "tcp", "target": "127.0.0.1:9"}],
                "dns": {"provider": "rfc2136", "records": [{"domain": "a.example.test"}]},
            }
        )
    assert "temporal.encryption.key_env" in str(named.value) and pasted not in str(named.value)


def test_validate_refuses_a_wrong_length_key_with_exit_2_naming_the_variable(
    tmp_path: Path,
) -> None:
    config = small_site(encryption={"key_env": KEY_ENV})
    short = base64.b64encode(os.urandom(16)).decode()
    done = subprocess.run(
        [CLI, "-c", str(write_toml(config, tmp_path / "s.toml")), "validate"],
        env={**os.environ, KEY_ENV: short},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert KEY_ENV in done.stderr and "temporal.encryption.key_env" in done.stderr
    assert short not in done.stdout + done.stderr


def test_the_codec_server_command_decodes_what_the_key_wrote_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    config = small_site(encryption={"key_env": KEY_ENV})
    config_file = write_toml(config, tmp_path / "s.toml")
    key = new_key()
    port = free_port()
    env = {**os.environ, KEY_ENV: key}
    server = subprocess.Popen(
        [CLI, "-c", str(config_file), "codec-server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert f"127.0.0.1:{port}" in banner and key_id(_raw(key)) in banner, banner
        codec = EncryptionCodec(_raw(key))
        (stored,) = asyncio.run(codec.encode([_payload("genesis went to the backup")]))
        body = {"payloads": [json.loads(_payload_json(stored))]}
        answer = httpx.post(f"http://127.0.0.1:{port}/decode", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        (plain,) = answer.json()["payloads"]
        assert json.loads(base64.b64decode(plain["data"])) == "genesis went to the backup"
        server.terminate()  # SIGTERM, as systemd and docker stop send it
        assert server.wait(timeout=10) == 0, server.stderr.read() if server.stderr else ""
        # A server asked for a port another process holds exits 1, naming the address.
        with socket.socket() as taken:
            # SO_REUSEADDR, as a server binds: the decode call above may have left the port in
            # TIME_WAIT, which only a plain bind refuses.
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", port))
            taken.listen()
            busy = subprocess.run(
                [CLI, "-c", str(config_file), "codec-server", "--port", str(port)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        assert busy.returncode == 1 and f"127.0.0.1:{port}" in busy.stderr, busy.stderr
        assert key not in busy.stdout + busy.stderr
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_validate_says_payloads_are_encrypted_naming_the_variables_never_the_keys(
    tmp_path: Path,
) -> None:
    config = small_site(encryption={"key_env": KEY_ENV, "previous_key_envs": [OLD_KEY_ENV]})
    key, old = new_key(), new_key()
    done = subprocess.run(
        [CLI, "-c", str(write_toml(config, tmp_path / "s.toml")), "validate"],
        env={**os.environ, KEY_ENV: key, OLD_KEY_ENV: old},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"payloads: encrypted with the key in {KEY_ENV}, 1 previous" in done.stdout
    assert key not in done.stdout + done.stderr and old not in done.stdout + done.stderr


def test_dev_with_encryption_gives_its_web_ui_a_codec_server_and_stops_it(tmp_path: Path) -> None:
    """`genesis-failover dev` on an encrypting site: its Web UI is told (the UI server's own
    settings) to decode through a codec server that dev started, and Ctrl-C stops it too."""
    tsig_env = "GENESIS_TEST_DEV_TSIG"
    config = {
        "temporal": {"encryption": {"key_env": KEY_ENV}},
        "site": {"name": "enc-dev", "primary_ip": PRIMARY, "backup_ip": BACKUP},
        "checks": [{"name": "c", "type": "tcp", "target": "127.0.0.1:9", "interval": 3600}],
        "dns": {
            "provider": "rfc2136",
            "records": [{"domain": "a.example.test"}],
            "rfc2136": {
                "server": f"127.0.0.1:{free_port()}",
                "zone": "example.test",
                "tsig_key_name": "k",
                "tsig_secret_env": tsig_env,
            },
        },
    }
    key = new_key()
    env = {
        **os.environ,
        KEY_ENV: key,
        tsig_env: base64.b64encode(os.urandom(32)).decode(),
    }
    dev = start_dev(write_toml(config, tmp_path / "s.toml"), tmp_path / "data", env)
    lines: list[str] = []
    try:
        lines = dev_banner(dev)
        printed = "".join(lines)
        ui = next(w for line in lines if line.startswith("Temporal ") for w in line.split()[-1:])
        codec_url = next(
            line.split()[2] for line in lines if line.strip().startswith("codec server:")
        )
        settings = httpx.get(f"{ui}/api/v1/settings", timeout=10).json()
        assert settings["Codec"]["Endpoint"] == codec_url, settings
        (stored,) = asyncio.run(EncryptionCodec(_raw(key)).encode([_payload("decoded by dev")]))
        body = {"payloads": [json.loads(_payload_json(stored))]}
        answer = httpx.post(f"{codec_url}/decode", json=body, headers={"Origin": ui}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == ui
        (plain,) = answer.json()["payloads"]
        assert json.loads(base64.b64decode(plain["data"])) == "decoded by dev"
        assert key not in printed
    finally:
        code = interrupt(dev)
    assert code == 0, "".join(lines)
    with socket.socket() as probe:
        port = int(codec_url.rsplit(":", 1)[1])
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the codec server outlived dev"


def test_the_codec_server_command_without_encryption_exits_2_naming_the_table(
    tmp_path: Path,
) -> None:
    config = small_site()
    done = subprocess.run(
        [CLI, "-c", str(write_toml(config, tmp_path / "s.toml")), "codec-server", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "temporal.encryption" in done.stderr, done.stderr


def _payload_json(payload: Payload) -> str:
    from google.protobuf import json_format

    return json_format.MessageToJson(payload)


async def _cli(config_file: Path, *args: str) -> Any:
    done = await run([CLI, "-c", str(config_file), *args], env=dict(os.environ))
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


@pytest.mark.integration
async def test_a_failover_with_encryption_on_stores_ciphertext_that_the_cli_and_codec_server_read(
    dev_server: TemporalDevServer,
    dev_client: Client,
    bind9: Bind9Lab,
    primary_service: DemoService,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old_key, key, auth = new_key(), new_key(), f"codec-auth-{os.urandom(8).hex()}"
    for name, value in {
        TSIG_ENV: bind9.tsig_secret,
        KEY_ENV: key,
        OLD_KEY_ENV: old_key,
        AUTH_ENV: auth,
    }.items():
        monkeypatch.setenv(name, value)
    data = lab_config_data(
        dev_server,
        bind9,
        primary_service.url,
        task_queue,
        site_prefix="enc",
        failback_healthy_seconds=0,
    )
    data["temporal"]["encryption"] = {
        "key_env": KEY_ENV,
        "previous_key_envs": [OLD_KEY_ENV],
        "codec_auth_env": AUTH_ENV,
    }
    # A failback whose pre-hook fails: its error travels as an (encrypted) Temporal failure.
    drain = f"import sys; print('drain failed: {HOOK_ERROR}'); sys.exit(3)"
    data["hooks"] = {"pre_failback": [{"name": "drain", "command": [sys.executable, "-c", drain]}]}
    config = parse_config(data)
    site = config.site.name
    config_file = write_toml(
        config.model_dump(mode="json", exclude_defaults=True), tmp_path / "s.toml"
    )
    client = await Client.connect(
        dev_server.address, data_converter=data_converter(config.temporal.encryption)
    )
    switch = failover_workflow_id(site)

    async with running_worker(config, client) as handle:
        await wait_status(handle, lambda s: bool(s["records"]))
        result = await request(handle, "failover", reason=REASON)
        assert result.outcome == "succeeded", result

        # As stored: Temporal holds ciphertext. Workflow ids and search attributes are not
        # payloads (docs/security.md says so), so the site's name is there: the scan is real.
        stored = {}
        for wid in (handle.id, switch):
            shown = await temporal(dev_server, "workflow", "show", "-w", wid, "-o", "json")
            described = await temporal(dev_server, "workflow", "describe", "-w", wid, "-o", "json")
            assert shown.returncode == described.returncode == 0, (shown.stderr, described.stderr)
            stored[wid] = shown.stdout
            text = history_text(shown.stdout) + history_text(described.stdout)
            assert site in text and base64.b64encode(ENCODING).decode() in text, wid
            for plain in (PRIMARY, BACKUP, REASON, "primary_api", "rfc2136"):
                assert plain not in text, f"{plain!r} is readable in {wid} as stored"
        # A client without the key cannot read the monitor's answers either.
        with pytest.raises(Exception, match="binary/encrypted|encoding"):
            await dev_client.get_workflow_handle(handle.id).query("status")

        # With the key: the CLI reads status and history as usual.
        status = json.loads((await _cli(config_file, "status", "--json")).stdout)
        assert status["state"] == "failed_over", status
        history = json.loads((await _cli(config_file, "history", "--json")).stdout)
        assert history[-1]["reason"] == REASON, history
        assert PRIMARY in (await _cli(config_file, "status")).stdout

        # The codec server decodes what the worker wrote, for the CLI and the Web UI.
        port = free_port()
        with codec_server_for(config, "127.0.0.1", port) as server:
            started = json.loads(stored[switch])["events"][0]
            payloads = started["workflowExecutionStartedEventAttributes"]["input"]
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                refused = await http.post("/decode", json=payloads)
                assert refused.status_code == 401
                preflight = await http.options(
                    "/decode",
                    headers={
                        "Origin": "http://localhost:8233",
                        "Access-Control-Request-Method": "POST",
                    },
                )
                assert preflight.status_code == 204
                assert preflight.headers["access-control-allow-origin"] == "http://localhost:8233"
                decoded = await http.post(
                    "/decode", json=payloads, headers={"Authorization": f"Bearer {auth}"}
                )
                assert decoded.status_code == 200, decoded.text
                plain = history_text(decoded.text)
                assert PRIMARY in plain and REASON in plain
                assert not [
                    p
                    for p in decoded.json()["payloads"]
                    if "encryption-key-id" in p.get("metadata", {})
                ]
                # A payload that was changed is refused, saying why, with no key in the answer.
                tampered = json.loads(json.dumps(payloads))
                tampered["payloads"][0]["metadata"][KEY_ID_KEY] = base64.b64encode(
                    b"0" * 16
                ).decode()
                bad = await http.post("/decode", json=tampered, headers={"Authorization": auth})
                assert bad.status_code == 400 and "0000000000000000" in bad.text
                assert key not in bad.text and old_key not in bad.text

            # The temporal CLI reads the same history in clear through it.
            through = await temporal(
                dev_server,
                "workflow",
                "show",
                "-w",
                switch,
                "-o",
                "json",
                "--codec-endpoint",
                server.url,
                "--codec-auth",
                f"Bearer {auth}",
            )
            assert through.returncode == 0, through.stderr
            clear = history_text(through.stdout)
            assert PRIMARY in clear and BACKUP in clear and REASON in clear

        # Failure texts are encrypted too (the encoded-attributes failure converter), and the
        # workflow still reads them: the failed hook's error is in the result, not in the store.
        aborted = await request(handle, "failback")
        assert aborted.outcome == "aborted", aborted
        assert HOOK_ERROR in (aborted.hooks[0].error or ""), aborted.hooks
        shown = await temporal(dev_server, "workflow", "show", "-w", switch, "-o", "json")
        assert "Encoded failure" in shown.stdout and HOOK_ERROR not in history_text(shown.stdout)


@pytest.fixture
async def ui_dev_server(tmp_path: Path) -> AsyncIterator[tuple[TemporalDevServer, int]]:
    require_browser()
    codec_port = free_port()
    server = TemporalDevServer(
        tmp_path / "ui.db", ui_codec_endpoint=f"http://127.0.0.1:{codec_port}"
    ).start()
    try:
        yield server, codec_port
    finally:
        server.stop()


async def _connect(address: str, converter: Any) -> Client:
    """The frontend listens a moment before it answers: retry until it does."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        try:
            return await Client.connect(address, data_converter=converter)
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


@pytest.mark.integration
async def test_the_web_ui_shows_an_encrypted_failover_in_clear_through_the_codec_server(
    ui_dev_server: tuple[TemporalDevServer, int],
    bind9: Bind9Lab,
    primary_service: DemoService,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.async_api import expect

    server, codec_port = ui_dev_server
    monkeypatch.setenv(TSIG_ENV, bind9.tsig_secret)
    monkeypatch.setenv(KEY_ENV, new_key())
    data = lab_config_data(server, bind9, primary_service.url, task_queue, site_prefix="ui")
    data["temporal"]["encryption"] = {"key_env": KEY_ENV, "codec_cors_origins": [server.ui_url]}
    config = parse_config(data)
    client = await _connect(server.address, data_converter(config.temporal.encryption))
    async with running_worker(config, client) as handle:
        await wait_status(handle, lambda s: bool(s["records"]))
        result = await request(handle, "failover", reason=REASON)
        assert result.outcome == "succeeded", result
        run_id = (await client.get_workflow_handle(result.workflow_id).describe()).run_id

    with codec_server_for(config, "127.0.0.1", codec_port):
        async with chromium_page(screenshot_on_failure=tmp_path / "codec-ui.png") as page:
            url = f"{server.ui_url}/namespaces/default/workflows/{result.workflow_id}/{run_id}"
            await page.goto(f"{url}/history")
            await page.get_by_role("tab", name="User Metadata").click()
            summary = page.get_by_role("heading", name="Summary", exact=True).locator(
                "xpath=following::iframe[1]"
            )
            await expect(summary.content_frame.locator("body")).to_have_text(
                f"Failover {config.site.name}: {PRIMARY} -> {BACKUP} ({REASON})", timeout=15_000
            )
