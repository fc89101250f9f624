"""`genesis-failover dev`: the embedded default, in one process tree.

Starts a Temporal dev server (SQLite file under `.genesis/`, Web UI) unless an address is given,
optionally a local lab shaped by the config (BIND9 primary + secondaries, a demo HTTP primary),
then the worker and the monitor. Ctrl-C stops all of them.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
from pathlib import Path
from urllib.parse import urlsplit

from genesis.failover.domain.addresses import split_host_port
from genesis.failover.domain.config import FailoverConfig
from genesis.failover.temporal.codec_server import CodecServer, codec_server_for
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.ports import free_port, port_is_free
from genesis.lab.temporal_dev import TemporalDevServer
from worker.attributes import register_on_server
from worker.main import run_worker_in_background


def preferred_port(host: str, port: int) -> int:
    """The usual port when it is free (stable URLs for people), a free one otherwise (or if 0)."""
    return port if port and port_is_free(port, host) else free_port(host)


class Lab:
    """The local stand-ins a newcomer needs to see a real failover with no cloud account."""

    def __init__(self, config: FailoverConfig, workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.bind9: Bind9Lab | None = None
        self.services: list[DemoService] = []

    def start(self) -> None:
        c = self.config
        rfc = c.dns.rfc2136
        if rfc is not None:
            _, port = split_host_port(rfc.server)
            secondaries = [
                p for _, p in map(split_host_port, c.propagation.nameservers) if p != port
            ]
            secret = None
            if rfc.tsig_secret_env:
                secret = os.environ.get(rfc.tsig_secret_env)
                if not secret:
                    # The lab makes its own key and hands it to this process's worker.
                    secret = base64.b64encode(secrets.token_bytes(32)).decode()
                    os.environ[rfc.tsig_secret_env] = secret
            self.bind9 = Bind9Lab(
                self.workdir / "bind9",
                zone=rfc.zone,
                records={r.domain.rstrip(".") + ".": c.site.primary_ip for r in c.dns.records},
                ttl=c.dns.ttl,
                primary_port=port,
                secondary_ports=secondaries,
                tsig_key_name=rfc.tsig_key_name or "ddns-key",
                tsig_secret=secret,
                tsig_algorithm=rfc.tsig_algorithm,
            ).start()
        for check in c.checks:
            if check.check_type != "http":
                continue
            url = urlsplit(check.target)
            if url.hostname in ("127.0.0.1", "localhost") and url.port:
                self.services.append(DemoService(url.hostname, url.port).start())

    def stop(self) -> None:
        for svc in self.services:
            svc.stop()
        if self.bind9 is not None:
            self.bind9.stop()

    def describe(self) -> list[str]:
        lines = []
        if self.bind9:
            lines.append(
                f"lab BIND9: primary {self.bind9.primary}, all {', '.join(self.bind9.servers)}"
            )
        for svc in self.services:
            lines.append(
                f"lab primary service: {svc.url}  (make it die: curl -X POST "
                f"http://{svc.host}:{svc.port}/down)"
            )
        return lines


async def register_search_attributes_on(address: str, namespace: str) -> None:
    """A server `dev` did not start gets the Failover* attributes too (the dev server it starts
    has them from its command line); dev says what it did."""
    said = await register_on_server(address, namespace)
    if said:
        print(said)


def _codec_server(config: FailoverConfig, *, ui_origin: str) -> CodecServer | None:
    """A started codec server on a free loopback port when the site encrypts, else None.
    (With ``codec_auth_env`` set the UI cannot authenticate to it: docs/security.md.)"""
    encryption = config.temporal.encryption
    if encryption is None:
        return None
    origins = [*encryption.codec_cors_origins, ui_origin]
    return codec_server_for(config, "127.0.0.1", 0, origins=origins).start()


async def run_dev(
    config: FailoverConfig,
    *,
    config_path: str,
    temporal_address: str | None,
    data_dir: Path,
    lab: bool,
    ui_port: int = 8233,
    port: int = 7233,
) -> int:
    server = None
    the_lab = None
    codec = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        configured = config.temporal.address
        if temporal_address is None:
            ui_port = preferred_port("127.0.0.1", ui_port)
            # With encryption on, the dev Web UI decodes through a codec server of its own:
            # otherwise every input, result and summary it shows would be ciphertext.
            codec = _codec_server(config, ui_origin=f"http://127.0.0.1:{ui_port}")
            server = TemporalDevServer(
                data_dir / "temporal.db",
                port=preferred_port("127.0.0.1", port),
                ui_port=ui_port,
                ui_codec_endpoint=codec.url if codec else None,
            ).start()
            temporal_address = server.address
            # The embedded server speaks plaintext and takes no API key: a production file's
            # [temporal.tls] and api_key_env are for the cluster it names, not for this one.
            own: dict[str, object] = {"tls": None, "api_key_env": None}
        else:
            await register_search_attributes_on(temporal_address, config.temporal.namespace)
            own = {}
        config = config.model_copy(
            update={
                "temporal": config.temporal.model_copy(update={"address": temporal_address, **own})
            }
        )
        if lab:
            the_lab = Lab(config, data_dir / "lab")
            the_lab.start()
        worker = await run_worker_in_background(config, stop=stop)
        site = config.site.name
        print(f"Temporal {temporal_address}" + (f"  Web UI {server.ui_url}" if server else ""))
        if server:
            print(
                f"  monitor: {server.ui_url}/namespaces/{config.temporal.namespace}"
                f"/workflows/failover-monitor-{site}"
            )
        if codec:
            print(f"  codec server: {codec.url} (the Web UI decodes through it)")
        if config.metrics.url:
            print(f"  metrics: {config.metrics.url}")
        for line in the_lab.describe() if the_lab else []:
            print(line)
        # If the configured address was busy, the other commands need to be told where we are.
        env = "" if temporal_address == configured else f"TEMPORAL_ADDRESS={temporal_address} "
        print(f"status:   {env}genesis-failover -c {config_path} status")
        print(f"failover: {env}genesis-failover -c {config_path} failover --reason test --dry-run")
        print("Ctrl-C stops everything.", flush=True)
        await worker
        return 0
    finally:
        stop.set()
        if the_lab:
            the_lab.stop()
        if server:
            server.stop()
        if codec:
            codec.stop()
