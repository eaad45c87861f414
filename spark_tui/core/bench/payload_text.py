"""Deterministic English-like text for embedding requests and generated documents.

Texts vary (a seeded generator) so servers with prefix or result caches cannot shortcut them.
"""

from __future__ import annotations

import math
import random

WORDS = (
    "the of and to in is for that with on as by this are from at be it an or which was can data "
    "model memory system service request batch token vector search index query document page table "
    "image frame server client network storage cache latency throughput power thermal cluster node "
    "container profile network kernel driver compute unified bandwidth throughput embedding retrieval "
    "answer question context window report invoice contract policy meeting schedule project budget "
    "quarter revenue customer product release version update security access account password reset "
    "deploy build test pipeline stage review merge branch commit feature issue bug fix performance "
    "measure sample result figure chart summary section chapter paragraph sentence word language "
    "translate classify detect extract parse convert render display screen button window dialog menu "
    "field value option setting enable disable start stop restart monitor alert threshold limit quota "
    "north south east west morning evening monday friday january october river mountain city garden "
    "library museum station airport hospital school office factory market harbor bridge tower street "
    "quickly slowly carefully roughly nearly always often rarely never usually again already still "
    "large small new old high low fast slow early late simple complex public private local remote "
    "first second third final main other every each many most some several important available"
).split()


def sentence(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(WORDS) for _ in range(max(1, words))]
    chosen[0] = chosen[0].capitalize()
    return " ".join(chosen) + "."


def paragraph(rng: random.Random, words: int) -> str:
    """About `words` words in sentences of 6 to 18 words."""
    parts: list[str] = []
    left = max(1, words)
    while left > 0:
        size = min(left, rng.randint(6, 18))
        parts.append(sentence(rng, size))
        left -= size
    return " ".join(parts)


def make_texts(count: int, words: int, seed: int = 0) -> list[str]:
    """`count` distinct texts of `words` words each; the same arguments give the same texts."""
    rng = random.Random(f"spark-tui-texts-{seed}-{words}")
    return [f"[{seed}:{i}] " + paragraph(rng, words) for i in range(count)]


def estimate_tokens(text: str) -> int:
    """Rough tokens for a BPE/WordPiece model (about 4 characters per token in English)."""
    return max(1, math.ceil(len(text) / 4))
