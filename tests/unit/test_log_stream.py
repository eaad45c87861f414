"""The log stream cut our way (core.docker.logs): HTTP chunks, Docker's frames and lines, across
reads of any size, and the masking and sanitiser fast paths agreeing with their full paths."""

from __future__ import annotations

import random
import struct
from datetime import UTC, datetime

import pytest

from spark_tui.core import untrusted
from spark_tui.core.docker.logs import (
    MAX_LINE_BYTES,
    LogStreamError,
    _Dechunker,
    _Demuxer,
    _LineCutter,
    split_log_line,
)
from spark_tui.core.masking import MASK, _mask_rules, _may_hold_secret, mask_text


def chunked(*pieces: bytes) -> bytes:
    """An HTTP/1.1 chunked body as dockerd writes it (size in hex, CRLF, data, CRLF; 0 ends)."""
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def frame(payload: bytes, stream: int = 1) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def cut(data: bytes, sizes: list[int]) -> list[bytes]:
    out, pos = [], 0
    for size in sizes:
        out.append(data[pos : pos + size])
        pos += size
    out.append(data[pos:])
    return [piece for piece in out if piece]


def through_all(reads: list[bytes]) -> tuple[list[bytes], bool]:
    dechunker, demuxer, cutter = _Dechunker(), _Demuxer(), _LineCutter()
    lines: list[bytes] = []
    for data in reads:
        lines += cutter.feed(demuxer.feed(dechunker.feed(data)))
    return lines + cutter.finish(), dechunker.done


LINES = [b"2026-11-23T09:02:05.787390123Z line %d \x1b[32mok\x1b[0m" % n for n in range(300)]
# dockerd: one frame per line, one chunk per frame; a long line comes as partial frames.
BODY = chunked(*(frame(line + b"\n", 1 + n % 2) for n, line in enumerate(LINES)), frame(b"x" * 40_000), frame(b"y" * 100 + b"\n"))
EXPECTED = [*LINES, b"x" * 40_000 + b"y" * 100]


@pytest.mark.parametrize("split", ["whole", "bytes", "random"])
def test_chunks_frames_and_lines_survive_any_read_boundaries(split: str) -> None:
    if split == "whole":
        reads = [BODY]
    elif split == "bytes":
        reads = [BODY[i : i + 1] for i in range(len(BODY))]
    else:
        rng = random.Random(7)
        reads = cut(BODY, [rng.randint(1, 5000) for _ in range(400)])
    lines, done = through_all(reads)
    assert lines == EXPECTED
    assert done, "the last chunk ends the body"


def test_a_body_that_is_not_chunked_as_announced_is_an_error() -> None:
    with pytest.raises(LogStreamError):
        _Dechunker().feed(b"zz\r\nhello\r\n")
    with pytest.raises(LogStreamError):
        _Dechunker().feed(b"5\r\nhelloXX")  # no CRLF after the data
    with pytest.raises(LogStreamError):
        _Dechunker().feed(b"1" * 5000)  # no chunk-size line ends


def test_a_huge_frame_is_passed_on_in_parts_and_a_line_without_end_is_let_out() -> None:
    demuxer = _Demuxer()
    header = struct.pack(">BxxxL", 1, 10_000_000)
    assert demuxer.feed(header + b"a" * 1000) == b"a" * 1000
    assert demuxer.feed(b"b" * 1000) == b"b" * 1000
    cutter = _LineCutter()
    assert cutter.feed(b"c" * (MAX_LINE_BYTES - 1)) == []
    assert cutter.feed(b"cc") == [b"c" * (MAX_LINE_BYTES + 1)]
    assert cutter.feed(b"d\n") == [b"d"]


def test_stamps_parsed_once_a_second_match_the_full_parse() -> None:
    for stamp, expected in [
        (b"2026-11-23T09:02:05.787390123Z", datetime(2026, 11, 23, 9, 2, 5, 787390, tzinfo=UTC)),
        (b"2026-11-23T09:02:05.5Z", datetime(2026, 11, 23, 9, 2, 5, 500000, tzinfo=UTC)),
        (b"2026-11-23T09:02:05Z", datetime(2026, 11, 23, 9, 2, 5, tzinfo=UTC)),
        (b"2026-11-23T09:02:06.000001Z", datetime(2026, 11, 23, 9, 2, 6, 1, tzinfo=UTC)),
        (b"2026-11-23T11:02:05.25+02:00", datetime(2026, 11, 23, 9, 2, 5, 250000, tzinfo=UTC)),
        (b"2026-13-23T09:02:05.1Z", None),  # no 13th month: no time, the stamp still taken off
    ]:
        line = split_log_line("c", stamp + b" hello")
        assert (line.text, line.timestamp) == ("hello", expected), stamp


ORDINARY = [
    "INFO request 123 served in 12ms by worker-3",
    "2026-12-05 19:33:13,021 INFO uvicorn.access: 127.0.0.1:5000 - \"GET /health HTTP/1.1\" 200 OK",
    "\x1b[32mINFO\x1b[0m loaded model meta-llama/Llama-3.1-8B in 4.2 s",
]
TRICKY = [
    "TO_KEN=abc123", "pass-word: hunter2", "x.api.key=zzz", "apiKey=abc", "--hf-token abc",
    "Authorization: Basic dXNlcjpwYXNz", "url postgres://u:pw@db/x", "ghp_" + "a" * 36, "GHP_" + "a" * 36,
    "AKIA" + "A" * 16, "eyJ" + "a" * 12 + "." + "b" * 12 + "." + "c" * 12, "paſſword=hunter2", "ſecret=x",
    "TOKEN=x", "my-cookie: abc", "DSN=postgres://x", "salt=abc", "the key is here", "xoxb-1234567890",
]


def test_the_masking_fast_path_changes_nothing() -> None:
    rng = random.Random(11)
    words = [w for line in ORDINARY + TRICKY for w in line.split()] + ["=", ":", "-", "_", ".", " ", "é", "K"]
    samples = ORDINARY + TRICKY + ["".join(rng.choice(words) + rng.choice(["", " ", "=", "_"]) for _ in range(rng.randint(1, 8))) for _ in range(3000)]
    for text in samples:
        assert mask_text(text) == _mask_rules(text), text
    assert mask_text("TO_KEN=abc123") == f"TO_KEN={MASK}"
    assert not any(_may_hold_secret(text) for text in ORDINARY), "ordinary lines take the fast path"


def test_the_colour_cache_gives_the_same_spans_and_stays_bounded() -> None:
    line = "\x1b[1;31mERR\x1b[0m a \x1b[32mb\x1b[32mc\x1b[0m"
    first = untrusted.log_line(line)
    assert untrusted.log_line(line) == first == ("ERR a bc", ((0, 3, untrusted.SgrStyle(fg=1, bold=True)), (6, 8, untrusted.SgrStyle(fg=2))))
    for n in range(untrusted._STYLE_RUNS_MAX * 2):
        untrusted.log_line(f"\x1b[38;5;{n % 256}m\x1b[{n % 7 + 1}mx\x1b[0m")
    assert len(untrusted._STYLE_RUNS) <= untrusted._STYLE_RUNS_MAX
