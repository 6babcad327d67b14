"""Reading ``GET /metrics`` in the tests: every sample line as (name, labels) -> value."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

LINE = re.compile(r"^(?P<name>[^{\s]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """The sample lines of ``text`` exactly as written (after checking that
    prometheus_client's parser reads the whole text)."""
    list(text_string_to_metric_families(text))
    samples: Samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(match["labels"] or ""))
        samples[(match["name"], labels)] = float(match["value"])
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    """The values ``label`` takes in the samples named ``name``."""
    return {dict(have)[label] for (n, have), _ in samples.items() if n == name}
