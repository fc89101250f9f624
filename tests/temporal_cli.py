"""The real `temporal` CLI in tests, and histories as it prints them, payloads decoded."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess

from genesis.lab.temporal_dev import TemporalDevServer, find_temporal_cli


def history_text(history_json: str) -> str:
    """A history as `temporal workflow show -o json` prints it, payloads decoded to text."""
    parts = [history_json]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "data" and isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        parts.append(base64.b64decode(value).decode("utf-8", "replace"))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(history_json))
    return "\n".join(parts)


async def run(
    cmd: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command in a thread: the worker under test shares this event loop."""
    return await asyncio.to_thread(
        subprocess.run, cmd, capture_output=True, text=True, timeout=60, env=env, check=False
    )


async def temporal(server: TemporalDevServer, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `temporal` CLI, pointed at the test's dev server."""
    return await run([find_temporal_cli(), *args, "--address", server.address])


async def history_of(server: TemporalDevServer, workflow_id: str) -> str:
    """Every event of ``workflow_id`` (latest run) as text, payloads decoded: what to scan for
    secrets that must never reach Temporal."""
    shown = await temporal(server, "workflow", "show", "--workflow-id", workflow_id, "-o", "json")
    assert shown.returncode == 0, shown.stderr
    return history_text(shown.stdout)
