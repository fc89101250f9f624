"""Read a Prometheus text exposition (what the worker's /metrics serves) into samples.

A small reader for the text format's sample lines (``name{label="value",...} number``), enough
to assert on; comments (# HELP, # TYPE) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


class Samples:
    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: list[Sample] = []
        for line in text.splitlines():
            m = _SAMPLE.match(line)
            if m is None or line.startswith("#"):
                continue
            labels = {lm["key"]: lm["value"] for lm in _LABEL.finditer(m["labels"] or "")}
            self.samples.append(Sample(m["name"], labels, float(m["value"])))

    def names(self) -> set[str]:
        return {s.name for s in self.samples}

    def matching(self, name: str, **labels: str) -> list[Sample]:
        """Samples of ``name`` whose labels include ``labels``."""
        return [
            s
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float | None:
        """The sum over the matching series (None when there is none)."""
        found = self.matching(name, **labels)
        return sum(s.value for s in found) if found else None


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(url)
    response.raise_for_status()
    return Samples(response.text)
