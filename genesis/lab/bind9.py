"""A real BIND9 on loopback: one primary that accepts TSIG-signed RFC 2136 updates, N secondaries.

Used by the integration tests and by the ``dev --lab`` demo, so the failover path runs against a
real authoritative server speaking the real wire format instead of a mock that agrees with us.

Tuned so that a change reaches the secondaries in milliseconds, not the 3-4 s of BIND's defaults:
``notify-delay 0``, ``also-notify`` naming every secondary, ``serial-query-rate 1000``,
``max-ixfr-ratio unlimited`` (always IXFR), and ``notify-rate``/``startup-notify-rate 1000``
(at the default 20/s the second secondary's NOTIFY waited ~0.5 s here). ``notify explicit``
keeps the primary from notifying the zone's NS host on port 53, which could be somebody else's
server on this machine.

Usage::

    with Bind9Lab(tmp_path, "example.test.", {"www": "10.0.0.1"},
                  primary_port=free_port(), secondary_ports=[free_port(), free_port()]) as lab:
        lab.servers      # ["127.0.0.1:P", "127.0.0.1:S1", "127.0.0.1:S2"]
"""

from __future__ import annotations

import base64
import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import dns.update

from genesis.failover.domain.config import Rfc2136Settings
from genesis.lab._proc import die_with_parent
from genesis.lab.ports import free_port

__all__ = ["Bind9Lab", "Bind9LabError", "find_named"]

_STOP_GRACE_SECONDS = 5.0
_INITIAL_SERIAL = 1


class Bind9LabError(RuntimeError):
    """The lab could not start (named missing, bad config, a server that never answered)."""


def find_named() -> str | None:
    """Path of the ``named`` binary, or None when BIND9 is not installed."""
    found = shutil.which("named")
    if found:
        return found
    for candidate in ("/usr/sbin/named", "/usr/local/sbin/named"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


class Bind9Lab:
    """A primary plus secondaries, each a ``named -g`` child process with its own directory."""

    def __init__(
        self,
        workdir: str | Path,
        zone: str = "example.test.",
        records: Mapping[str, str | Sequence[str]] | None = None,
        *,
        ttl: int = 60,
        primary_port: int | None = None,
        secondary_ports: Sequence[int] = (),
        tsig_key_name: str = "ddns-key",
        tsig_secret: str | None = None,
        tsig_algorithm: str = "hmac-sha256",
        named: str | None = None,
        fresh: bool = True,
        start_timeout: float = 5.0,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.zone = dns.name.from_text(zone)
        self.records = dict(records or {})
        self.ttl = ttl
        self.primary_port = primary_port if primary_port is not None else free_port()
        self.secondary_ports = list(secondary_ports)
        self.tsig_key_name = tsig_key_name
        self.tsig_secret = tsig_secret or base64.b64encode(secrets.token_bytes(32)).decode()
        self.tsig_algorithm = tsig_algorithm
        self.fresh = fresh
        self.start_timeout = start_timeout
        self._named = named
        self._procs: list[subprocess.Popen[bytes]] = []
        #: Seconds the last start() took until every server answered the zone's SOA.
        self.startup_seconds: float | None = None

    # -- addresses ---------------------------------------------------------------------------

    @property
    def ports(self) -> list[int]:
        return [self.primary_port, *self.secondary_ports]

    @property
    def servers(self) -> list[str]:
        """``["127.0.0.1:P", "127.0.0.1:S1", ...]``: the primary first."""
        return [f"127.0.0.1:{p}" for p in self.ports]

    @property
    def primary(self) -> str:
        return self.servers[0]

    @property
    def zone_text(self) -> str:
        return self.zone.to_text()

    def server_dir(self, index: int) -> Path:
        return self.workdir / ("primary" if index == 0 else f"secondary-{index}")

    def rfc2136_settings(self, secret_env: str = "GENESIS_TSIG_SECRET") -> Rfc2136Settings:
        """Settings for ``RFC2136Provider`` at this lab; put ``tsig_secret`` in ``secret_env``."""
        return Rfc2136Settings(
            server=self.primary,
            zone=self.zone.to_text(omit_final_dot=True),
            tsig_key_name=self.tsig_key_name,
            tsig_algorithm=self.tsig_algorithm,
            tsig_secret_env=secret_env,
            timeout_seconds=5.0,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Bind9Lab:
        """Write configs, start the primary, then the secondaries; wait until all serve the zone."""
        if self._procs:
            raise Bind9LabError("lab already started")
        named = self._named or find_named()
        if not named:
            raise Bind9LabError(
                "BIND9 (named) not installed: install Debian/Ubuntu package 'bind9' "
                "(named not on PATH nor in /usr/sbin)"
            )
        began = time.monotonic()
        deadline = began + self.start_timeout
        try:
            for index in range(len(self.ports)):
                conf = self._write_server(index)
                log = open(self.server_dir(index) / "named.log", "ab")  # noqa: SIM115
                try:
                    # -g: foreground, all logging to stderr (captured per server). No -u: we stay
                    # the invoking user (root drops to nobody only with -u); the files are ours.
                    proc = subprocess.Popen(
                        [named, "-g", "-4", "-c", str(conf)],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=self.server_dir(index),
                        start_new_session=True,
                        preexec_fn=die_with_parent,
                    )
                finally:
                    log.close()
                self._procs.append(proc)
            # Secondaries transfer the zone at startup: once every server answers the SOA with
            # authority, the lab is consistent.
            for index in range(len(self.ports)):
                self._wait_for_soa(index, deadline)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """SIGTERM each server by PID, SIGKILL after 5 s, and reap it. Safe to call twice."""
        procs, self._procs = self._procs, []
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @property
    def running(self) -> bool:
        return bool(self._procs) and all(p.poll() is None for p in self._procs)

    def __enter__(self) -> Bind9Lab:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inspection and mutation (tests, the demo) -------------------------------------------

    def log_text(self, index: int = 0) -> str:
        """A server's log (default: the primary's, where BIND logs every update it applies)."""
        path = self.server_dir(index) / "named.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def serial(self, index: int = 0) -> int:
        """The zone's SOA serial on one server (BIND adds one per applied update)."""
        q = dns.message.make_query(self.zone, dns.rdatatype.SOA)
        r = dns.query.tcp(q, "127.0.0.1", port=self.ports[index], timeout=1.0)
        rrset = r.get_rrset(r.answer, self.zone, dns.rdataclass.IN, dns.rdatatype.SOA)
        if rrset is None:
            raise Bind9LabError(f"{self.servers[index]} has no SOA for {self.zone}")
        return int(rrset[0].serial)  # type: ignore[attr-defined]

    def updates_applied(self) -> int:
        """How many dynamic updates the primary has applied since start (refused ones excluded)."""
        return self.serial(0) - _INITIAL_SERIAL

    def update_log_lines(self) -> list[str]:
        """The primary's log lines for changes it applied ("deleting rrset", "adding an RR")."""
        return [
            line
            for line in self.log_text(0).splitlines()
            if ": updating zone '" in line and ("adding an RR" in line or "deleting" in line)
        ]

    def query(
        self, name: str, record_type: str = "A", index: int = 0, timeout: float = 1.0
    ) -> list[str]:
        """The sorted values one server answers for name/type ([] for NXDOMAIN/NODATA)."""
        q = dns.message.make_query(self._absolute(name), record_type)
        r = dns.query.tcp(q, "127.0.0.1", port=self.ports[index], timeout=timeout)
        rrset = r.get_rrset(
            r.answer, self._absolute(name), dns.rdataclass.IN, dns.rdatatype.from_text(record_type)
        )
        return sorted(rd.to_text() for rd in rrset) if rrset else []

    def set_record(self, name: str, *values: str, ttl: int | None = None) -> None:
        """Unconditionally replace name's A/AAAA rrset: "somebody else changed the record"."""
        rdtype = _rdtype_for(values[0])
        keyring = dns.tsigkeyring.from_text({self.tsig_key_name: self.tsig_secret})
        upd = dns.update.UpdateMessage(
            self.zone,
            keyring=keyring,
            keyname=dns.name.from_text(self.tsig_key_name),
            keyalgorithm=self.tsig_algorithm,
        )
        upd.delete(self._absolute(name), rdtype)
        for value in values:
            upd.add(self._absolute(name), ttl or self.ttl, rdtype, value)
        r = dns.query.tcp(upd, "127.0.0.1", port=self.primary_port, timeout=2.0)
        if r.rcode() != dns.rcode.NOERROR:
            raise Bind9LabError(f"lab update of {name} failed: {dns.rcode.to_text(r.rcode())}")

    # -- internals ---------------------------------------------------------------------------

    def _absolute(self, name: str) -> dns.name.Name:
        if name in ("@", ""):
            return self.zone
        if name.endswith("."):
            return dns.name.from_text(name)
        return dns.name.from_text(name, origin=self.zone)

    def _zone_file(self) -> str:
        z = self.zone.to_text()
        lines = [
            f"$ORIGIN {z}",
            f"$TTL {self.ttl}",
            # refresh/retry are long on purpose: secondaries learn of changes by NOTIFY.
            f"@ IN SOA ns1.{z} hostmaster.{z} ( {_INITIAL_SERIAL} 3600 600 86400 {self.ttl} )",
            f"@ IN NS ns1.{z}",
            "ns1 IN A 127.0.0.1",
        ]
        for name, value in self.records.items():
            values = [value] if isinstance(value, str) else list(value)
            for v in values:
                owner = self._absolute(name).to_text()
                lines.append(f"{owner} {self.ttl} IN {_rdtype_for(v)} {v}")
        return "\n".join(lines) + "\n"

    def _write_server(self, index: int) -> Path:
        d = self.server_dir(index)
        if self.fresh and d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True, exist_ok=True)
        # Even when reusing a directory: stale journals or secondary copies from an earlier run
        # would resurrect old records.
        for stale in [*d.glob("*.jnl"), *d.glob("secondary.db*")]:
            stale.unlink()
        port = self.ports[index]
        options = [
            f'directory "{d}";',
            f'pid-file "{d / "named.pid"}";',
            f'session-keyfile "{d / "session.key"}";',
            f'managed-keys-directory "{d}";',
            f"listen-on port {port} {{ 127.0.0.1; }};",
            "listen-on-v6 { none; };",
            "recursion no;",
            "dnssec-validation no;",
            "allow-transfer { 127.0.0.1; };",
            "transfer-source 127.0.0.1;",
            "notify-source 127.0.0.1;",
            "serial-query-rate 1000;",
            "notify-rate 1000;",
            "startup-notify-rate 1000;",
            "max-ixfr-ratio unlimited;",
        ]
        zone_name = self.zone.to_text(omit_final_dot=True) or "."
        if index == 0:
            zone_path = d / "zone.db"
            zone_path.write_text(self._zone_file())
            notify = (
                "notify explicit; notify-delay 0; also-notify { "
                + " ".join(f"127.0.0.1 port {p};" for p in self.secondary_ports)
                + " };"
                if self.secondary_ports
                else "notify no;"
            )
            zone = (
                f'zone "{zone_name}" {{ type primary; file "{zone_path}"; '
                f"allow-update {{ key {self.tsig_key_name}; }}; {notify} }};"
            )
        else:
            zone = (
                f'zone "{zone_name}" {{ type secondary; file "{d / "secondary.db"}"; '
                f"masterfile-format text; notify no; "
                f"primaries {{ 127.0.0.1 port {self.primary_port}; }}; }};"
            )
        conf = "\n".join(
            [
                "options {",
                *(f"    {o}" for o in options),
                "};",
                "controls { };",
                f'key "{self.tsig_key_name}" {{ algorithm {self.tsig_algorithm}; '
                f'secret "{self.tsig_secret}"; }};',
                zone,
                "",
            ]
        )
        conf_path = d / "named.conf"
        conf_path.write_text(conf)
        # The config holds the TSIG secret: readable by us (named runs as us), nobody else.
        conf_path.chmod(0o600)
        return conf_path

    def _wait_for_soa(self, index: int, deadline: float) -> None:
        proc = self._procs[index]
        q = dns.message.make_query(self.zone, dns.rdatatype.SOA)
        last_error = "no answer"
        while True:
            if proc.poll() is not None:
                raise Bind9LabError(
                    f"named for {self.servers[index]} exited with {proc.returncode}; "
                    f"log tail:\n{self._log_tail(index)}"
                )
            try:
                r = dns.query.udp(q, "127.0.0.1", port=self.ports[index], timeout=0.05)
                if r.rcode() == dns.rcode.NOERROR and r.answer:
                    return
                last_error = dns.rcode.to_text(r.rcode())
            except (dns.exception.Timeout, OSError) as exc:
                last_error = type(exc).__name__
            if time.monotonic() > deadline:
                raise Bind9LabError(
                    f"{self.servers[index]} did not serve zone {self.zone} within "
                    f"{self.start_timeout} s (last: {last_error}); log tail:\n"
                    f"{self._log_tail(index)}"
                )
            time.sleep(0.01)

    def _log_tail(self, index: int, lines: int = 15) -> str:
        return "\n".join(self.log_text(index).splitlines()[-lines:])


def _rdtype_for(value: str) -> str:
    return "AAAA" if ipaddress.ip_address(value).version == 6 else "A"
