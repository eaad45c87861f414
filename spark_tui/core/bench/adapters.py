"""The adapters by name: which API shape a benchmark speaks."""

from __future__ import annotations

from spark_tui.core.bench.adapters_base import Adapter, AdapterOptions, PayloadSettings
from spark_tui.core.bench.adapters_embed import NvEmbed, OllamaEmbed, OpenAIEmbeddings, TeiEmbed
from spark_tui.core.bench.adapters_parse import DoclingServe, OmniParser
from spark_tui.core.bench.http import Endpoint
from spark_tui.models.bench import BenchKind

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls for cls in (OpenAIEmbeddings, TeiEmbed, OllamaEmbed, NvEmbed, OmniParser, DoclingServe)
}


def adapter_names(kind: BenchKind | None = None) -> list[str]:
    return [name for name, cls in ADAPTERS.items() if kind is None or cls.kind == kind]


def adapter_class(name: str, kind: BenchKind | None = None) -> type[Adapter]:
    """The adapter called `name`; ValueError naming the choices when there is none."""
    cls = ADAPTERS.get(name.lower())
    if cls is None or (kind is not None and cls.kind != kind):
        raise ValueError(f"unknown {kind + ' ' if kind else ''}adapter {name!r}: expected one of {', '.join(adapter_names(kind))}")
    return cls


def make_adapter(name: str, url: str, options: AdapterOptions, payload: PayloadSettings) -> Adapter:
    return adapter_class(name)(Endpoint.parse(url), options, payload)
