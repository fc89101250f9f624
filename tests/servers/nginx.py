"""nginx in the foreground with its own config, logs and pid in a work directory, on a free
loopback port: the machinery the lab's nginx-based proxies share (TlsProxy, GrpcAuthProxy).

A subclass says what differs: the config text (``_render_config``, which may first check that
this nginx can serve it), the files that must exist before nginx starts (``_required_files``),
the mode nginx.conf is created with (``_config_mode``: 0600 when it holds a secret) and the
error class it raises (``error_class``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Self

from genesis.lab._proc import die_with_parent, stop_process_group
from genesis.lab.ports import free_port

__all__ = ["NginxLab", "find_nginx"]

_STOP_GRACE_SECONDS = 5.0


def find_nginx() -> str | None:
    """Path of the ``nginx`` binary, or None when it is not installed."""
    found = shutil.which("nginx")
    if found:
        return found
    candidate = "/usr/sbin/nginx"
    return candidate if os.access(candidate, os.X_OK) else None


class NginxLab(ABC):
    """One ``nginx`` master (foreground, one worker) with its own config and logs in ``workdir``,
    listening on ``ip:port`` (a free port unless given). ``nginx``: the binary (default: found
    on PATH). ``start_timeout``: how long ``start`` waits for the listener."""

    error_class: ClassVar[type[RuntimeError]] = RuntimeError
    # As open() creates a file (the umask applies); 0o600 for a config holding a secret.
    _config_mode: ClassVar[int] = 0o666

    def __init__(
        self,
        workdir: str | Path,
        *,
        ip: str = "127.0.0.1",
        port: int | None = None,
        nginx: str | None = None,
        start_timeout: float = 5.0,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.ip = ip
        self.port = port or free_port(ip)
        self.start_timeout = start_timeout
        self._nginx = nginx
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def error_log(self) -> Path:
        return self.workdir / "error.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _nginx_conf(
        self, block: str, body: Iterable[str], *, error_level: str, modules: Iterable[str] = ()
    ) -> str:
        """The top of every lab's nginx.conf: in the foreground (``daemon off``, so the process
        ``start`` runs is the master ``stop`` signals), one worker, pid and error log in the work
        directory, the dynamic ``modules`` loaded, and one ``block`` (stream or http) holding
        ``body``."""
        lines = [
            "daemon off;",
            "worker_processes 1;",
            f"pid {self.workdir / 'nginx.pid'};",
            f"error_log {self.error_log} {error_level};",
            *(f"load_module {module};" for module in modules),
            "events { worker_connections 256; }",
            f"{block} {{",
            *(f"    {line}" for line in body),
            "}",
            "",
        ]
        return "\n".join(lines)

    @abstractmethod
    def _render_config(self, nginx: str) -> str:
        """nginx.conf for this lab; raises ``self.error_class`` if ``nginx`` cannot serve it."""

    def _required_files(self) -> Iterable[Path]:
        """Files the config names that must exist before nginx starts."""
        return ()

    def start(self) -> Self:
        if self.proc is not None:
            raise self.error_class("proxy already started")
        nginx = self._nginx or find_nginx()
        if not nginx:
            raise self.error_class("nginx not installed: install Debian/Ubuntu package 'nginx'")
        text = self._render_config(nginx)
        for path in self._required_files():
            if not path.is_file():
                raise self.error_class(f"TLS proxy file {path} does not exist")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        # Created with its mode before the text is written into it, not chmod-ed after.
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self._config_mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        log = open(self.workdir / "nginx.out", "ab")  # noqa: SIM115 - handed to the child
        try:
            # -p: relative paths and temp dirs under workdir; -e: the log nginx writes before it
            # has read the config (its compiled-in /var/log/nginx may not be ours to write).
            self.proc = subprocess.Popen(
                [nginx, "-p", str(self.workdir), "-c", str(conf), "-e", str(self.error_log)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        finally:
            log.close()
        try:
            self._wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise self.error_class(
                    f"nginx for {self.address} exited with {self.proc.returncode}; "
                    f"log tail:\n{self.log_tail()}"
                )
            try:
                with socket.create_connection((self.ip, self.port), timeout=0.2):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise self.error_class(
                    f"nginx did not listen on {self.address} within {self.start_timeout} s; "
                    f"log tail:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM the master's process group (nginx's fast shutdown: open connections are cut,
        as when a server dies), SIGKILL after 5 s. Safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_process_group(proc, _STOP_GRACE_SECONDS)

    def log_tail(self, lines: int = 15) -> str:
        texts: list[str] = []
        for name in ("nginx.out", "error.log"):
            path = self.workdir / name
            if path.exists():
                texts += path.read_text(errors="replace").splitlines()
        return "\n".join(texts[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
