"""The adapters by name: which API shape a benchmark speaks.

Generation adapters have their own table: `ollama` names the embedding adapter for `bench embed`
and the /api/chat adapter for `bench generate`, so a name is looked up with its kind."""

from __future__ import annotations

from spark_tui.core.bench.adapters_base import Adapter, AdapterOptions, PayloadSettings
from spark_tui.core.bench.adapters_embed import (
    NvEmbed,
    OllamaEmbed,
    OpenAIEmbeddings,
    TeiEmbed,
)
from spark_tui.core.bench.adapters_gen import GENERATION_ADAPTERS
from spark_tui.core.bench.adapters_parse import DoclingServe, OmniParser
from spark_tui.core.bench.http import Endpoint
from spark_tui.models.bench import BenchKind

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls for cls in (OpenAIEmbeddings, TeiEmbed, OllamaEmbed, NvEmbed, OmniParser, DoclingServe)
}
GEN_ADAPTERS: dict[str, type[Adapter]] = {cls.name: cls for cls in GENERATION_ADAPTERS}


def adapter_names(kind: BenchKind | None = None) -> list[str]:
    if kind == "generate":
        return list(GEN_ADAPTERS)
    names = [name for name, cls in ADAPTERS.items() if kind is None or cls.kind == kind]
    return names + ([n for n in GEN_ADAPTERS if n not in names] if kind is None else [])


def adapter_class(name: str, kind: BenchKind | None = None) -> type[Adapter]:
    """The adapter called `name` (of `kind`; without a kind an embed/parse one comes first);
    ValueError naming the choices when there is none."""
    key = name.lower()
    cls = GEN_ADAPTERS.get(key) if kind == "generate" else ADAPTERS.get(key) or (GEN_ADAPTERS.get(key) if kind is None else None)
    if cls is None or (kind is not None and cls.kind != kind):
        raise ValueError(f"unknown {kind + ' ' if kind else ''}adapter {name!r}: expected one of {', '.join(adapter_names(kind))}")
    return cls


def make_adapter(name: str, url: str, options: AdapterOptions, payload: PayloadSettings, kind: BenchKind | None = None) -> Adapter:
    return adapter_class(name, kind)(Endpoint.parse(url), options, payload)
