"""Webhook hooks against a real loopback receiver: the JSON and headers sent, what is retried,
redirects refused, and the URL and token never shown."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from genesis.failover.domain.config import HookConfig, HooksSettings
from genesis.failover.domain.errors import ConfigError, HookError
from genesis.failover.domain.hooks import HookContext, HookRegistry, WebhookHook
from genesis.failover.domain.models import HookSpec
from tests.emulators.webhook_receiver import WebhookReceiver

CTX = HookContext(
    site="genesis",
    direction="failover",
    trigger="automatic",
    reason="primary_database failed 3 checks",
    from_ip="192.0.2.10",
    to_ip="192.0.2.20",
    failover_id="failover-genesis-switch",
)
# A token-looking path, as Slack-style webhook URLs carry them.
URL_TOKEN = "T0KEN-9f8e7d6c5b4a39281706f5e4"
BEARER = "bearer-abcdef0123456789"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(path=f"/hooks/{URL_TOKEN}") as server:
        yield server


def env_for(url: str, **extra: str) -> dict[str, str]:
    return {"ANNOUNCE_URL": url, "ANNOUNCE_TOKEN": BEARER, **extra}


def registry(
    environ: dict[str, str], *, phase: str = "post_failover", **options: Any
) -> tuple[HookRegistry, HookSpec]:
    options.setdefault("webhook_url_env", "ANNOUNCE_URL")
    reg = HookRegistry()
    reg.add_config(HooksSettings(**{phase: [HookConfig(name="announce", **options)]}), environ)
    return reg, reg.specs[phase][0]


def assert_no_secret(text: str, url: str) -> None:
    for secret in (url, URL_TOKEN, BEARER):
        assert secret not in text, f"{secret!r} shown in {text!r}"


async def test_posts_the_context_as_json_with_its_headers(receiver: WebhookReceiver) -> None:
    reg, spec = registry(env_for(receiver.url), bearer_token_env="ANNOUNCE_TOKEN")
    assert spec.kind == "webhook" and spec.on_failure == "continue"
    outcome = await reg.run(spec, CTX)
    assert outcome.ok and outcome.output == "HTTP 200: ok"
    (request,) = receiver.requests
    assert request.method == "POST" and request.path == f"/hooks/{URL_TOKEN}"
    assert request.json() == {
        "hook": "announce",
        "phase": "post_failover",
        "site": "genesis",
        "direction": "failover",
        "trigger": "automatic",
        "reason": "primary_database failed 3 checks",
        "from_ip": "192.0.2.10",
        "to_ip": "192.0.2.20",
        "failover_id": "failover-genesis-switch",
        "dry_run": False,
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "genesis-failover"
    assert request.headers["authorization"] == f"Bearer {BEARER}"
    assert request.headers["idempotency-key"] == "failover-genesis-switch/post_failover/announce"


async def test_no_authorization_header_without_a_bearer_token(receiver: WebhookReceiver) -> None:
    reg, spec = registry(env_for(receiver.url))
    await reg.run(spec, CTX)
    assert "authorization" not in receiver.requests[0].headers


async def test_a_500_is_retryable_and_the_retry_carries_the_same_idempotency_key(
    receiver: WebhookReceiver,
) -> None:
    reg, spec = registry(env_for(receiver.url))
    receiver.answer(500, b"database is busy")
    with pytest.raises(HookError) as info:
        await reg.run(spec, CTX)
    assert str(info.value) == "hook 'announce': webhook answered HTTP 500: database is busy"
    assert info.value.retryable
    assert (await reg.run(spec, CTX)).ok
    first, second = receiver.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(502, True), (503, True), (408, True), (429, True), (400, False), (401, False), (404, False)],
)
async def test_which_statuses_are_worth_a_retry(
    receiver: WebhookReceiver, status: int, retryable: bool
) -> None:
    reg, spec = registry(env_for(receiver.url))
    receiver.answer(status, b"nope")
    with pytest.raises(HookError, match=f"HTTP {status}: nope") as info:
        await reg.run(spec, CTX)
    assert info.value.retryable is retryable


async def test_a_redirect_is_a_failure_and_is_not_followed(receiver: WebhookReceiver) -> None:
    # Following it would send the bearer token to wherever the Location points.
    with WebhookReceiver() as elsewhere:
        reg, spec = registry(env_for(receiver.url), bearer_token_env="ANNOUNCE_TOKEN")
        receiver.answer(302, headers={"Location": elsewhere.url})
        with pytest.raises(HookError, match="HTTP 302, a redirect; not followed") as info:
            await reg.run(spec, CTX)
        assert not info.value.retryable
        assert len(receiver.requests) == 1 and elsewhere.requests == []
        assert elsewhere.url not in str(info.value)


async def test_a_receiver_that_hangs_is_a_retryable_timeout(receiver: WebhookReceiver) -> None:
    reg, spec = registry(env_for(receiver.url), timeout_seconds=0.3)
    receiver.hang_next(5)
    started = time.monotonic()
    with pytest.raises(HookError, match=r"webhook did not answer within 0.3s") as info:
        await reg.run(spec, CTX)
    assert info.value.retryable and time.monotonic() - started < 1.3


async def test_a_refused_connection_is_retryable_and_does_not_show_the_url() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/{URL_TOKEN}"  # nobody listens there any more
    reg, spec = registry(env_for(url))
    with pytest.raises(HookError, match="webhook request failed: ConnectError") as info:
        await reg.run(spec, CTX)
    assert info.value.retryable
    assert_no_secret(str(info.value), url)


@pytest.mark.parametrize("status", [200, 500, 403])
async def test_the_url_and_token_never_show_even_when_the_receiver_echoes_them(
    receiver: WebhookReceiver, status: int
) -> None:
    reg, spec = registry(env_for(receiver.url), bearer_token_env="ANNOUNCE_TOKEN")
    echo = f"got Bearer {BEARER} at {receiver.url} (path /hooks/{URL_TOKEN})".encode()
    receiver.answer(status, echo)
    try:
        text = (await reg.run(spec, CTX)).output or ""
    except HookError as exc:
        text = str(exc)
    assert "got Bearer *** at *** (path ***)" in text
    assert_no_secret(text, receiver.url)
    assert_no_secret(repr(reg.hooks["announce"]), receiver.url)


async def test_the_answer_kept_is_bounded(receiver: WebhookReceiver) -> None:
    reg, spec = registry(env_for(receiver.url))
    receiver.answer(200, b"x" * 200_000)
    output = (await reg.run(spec, CTX)).output or ""
    assert output == "HTTP 200: " + "x" * 500


# --- checked at worker start ---------------------------------------------------------------------


def test_an_unset_url_variable_is_a_config_error_naming_field_and_variable() -> None:
    with pytest.raises(ConfigError, match="ANNOUNCE_URL") as info:
        registry({}, phase="pre_failover")
    assert info.value.field == "hooks.pre_failover.announce.webhook_url_env"
    assert info.value.value == "ANNOUNCE_URL"


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://example.test/{URL_TOKEN}",
        f"example.test/{URL_TOKEN}",
        f"http://[::1/{URL_TOKEN}",
        f"https://example.test:99999/{URL_TOKEN}",
    ],
)
def test_a_url_that_is_not_http_is_a_config_error_that_does_not_echo_it(url: str) -> None:
    with pytest.raises(ConfigError, match="does not hold an http:// or https:// URL") as info:
        registry(env_for(url))
    assert info.value.field == "hooks.post_failover.announce.webhook_url_env"
    assert URL_TOKEN not in str(info.value) and info.value.value == "ANNOUNCE_URL"


def test_an_unset_bearer_token_variable_is_a_config_error(receiver: WebhookReceiver) -> None:
    with pytest.raises(ConfigError, match="MISSING_TOKEN") as info:
        registry(env_for(receiver.url), bearer_token_env="MISSING_TOKEN")
    assert info.value.field == "hooks.post_failover.announce.bearer_token_env"
    assert isinstance(registry(env_for(receiver.url))[0].hooks["announce"], WebhookHook)


async def test_the_url_is_not_in_httpx_request_log(
    receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    # httpx logs every request's URL at INFO; a worker run with INFO logging must not write
    # the webhook's URL (its secret) to its log.
    reg, spec = registry(env_for(receiver.url))
    with caplog.at_level(logging.INFO, logger="httpx"):
        assert (await reg.run(spec, CTX)).ok
    logged = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert logged and all(line.startswith("HTTP Request: POST *** ") for line in logged)
    for line in logged:
        assert_no_secret(line, receiver.url)
