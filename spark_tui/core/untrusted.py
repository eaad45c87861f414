"""The one boundary for text that other programs wrote: make it safe to show, where it enters.

Container logs, `docker inspect`, Compose's output, services' answers, benchmark servers' errors,
Docker event attributes and paths from compose files are written by programs we do not control.
A terminal obeys what it is sent: ESC/CSI/OSC/DCS sequences (and their 8-bit C1 forms) retitle
it, clear it, write the clipboard or answer queries into our input; BEL, backspace and CR hide or
overwrite what the operator reads; bidi overrides reorder it ("Trojan Source"). Rich and Textual
strip only BEL, BS, VT, FF and CR (rich.control.STRIP_CONTROL_CODES, textual.content
._STRIP_CONTROL_CODES): ESC, NUL, C1 and bidi characters reach the terminal as they came. So
every such string goes through here when a source reads it, and what comes out holds no control
character at all: C0 controls become their Unicode Control Pictures (ESC -> "␛", BEL -> "␇",
CR -> "␍", NUL -> "␀"), C1 controls and DEL are written out ("\\x9b"), the nine bidi
embedding/override/isolate controls and the line/paragraph separators become "<U+202E>", lone
surrogates and invalid UTF-8 become U+FFFD, tabs expand to 8-column stops, and over-long text is
cut with a mark saying how much. Nothing is deleted silently: the operator sees that a program
tried something. Text, emoji, CJK and combining marks pass unchanged (LRM/RLM/ALM too: they are
single directional marks that RTL text needs, not scoped overrides that can reverse a run).
Sanitising does not make text safe as *markup*: show it as plain text (Text/Content, never
markup strings), or escape it where it must sit inside a markup template.

Container logs keep their colour: `log_line` parses SGR sequences (ESC [ params m) into
`SgrSpan`s of a small frozen `SgrStyle`, and the UI maps those to its own styles; no escape byte
from a log is ever passed through. Every other sequence in a log is shown as stand-ins.

No Rich or Textual here: sources (the data layer) call this.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

FIELD_MAX = 1_000  # one-line fields: names, statuses, versions, error messages
LINE_MAX = 4_096  # a line of a log or of a block (compose output, error bodies, inspect)
BLOCK_MAX_LINES = 10_000
TAB_SIZE = 8
NEWLINE_STANDIN = "⏎"  # a line break inside a one-line field

# What needs the slow path: C0 (tab and newline included: they change layout), DEL and C1, the
# bidi embeddings/overrides (U+202A-U+202E) and isolates (U+2066-U+2069), the line and paragraph
# separators (str.splitlines and some renderers break lines on them) and lone surrogates (from a
# surrogateescape decode: they fail to encode when written, which would crash the output).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)


def _standins() -> dict[int, str]:
    table: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ … ␟
    table[0x09] = "\t"  # kept here, expanded afterwards: a tab's width depends on its column
    table[0x0A] = NEWLINE_STANDIN
    for code in range(0x7F, 0xA0):
        table[code] = f"\\x{code:02x}"  # ␡ exists, but C1 has no pictures: one written form for all
    for code in _BIDI:
        table[code] = f"<U+{code:04X}>"
    for code in range(0xD800, 0xE000):
        table[code] = "\ufffd"
    return table


_STANDINS = {chr(code): standin for code, standin in _standins().items()}


def _standin(match: re.Match[str]) -> str:
    return _STANDINS[match.group()]


def _replace_unsafe(text: str) -> str:
    # A regex substitution, not str.translate: translate leaves its C fast path as soon as a
    # replacement is not one ASCII character (all of ours), and then costs ~80 ns a character.
    if text.isprintable():
        return text
    return _UNSAFE.sub(_standin, text)


def _decode(text: str | bytes | bytearray) -> str:
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", errors="replace")
    return text


@lru_cache(maxsize=4096)
def _char_cells(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0  # combining marks, ZWJ and the like take no column
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _cells(text: str) -> int:
    """Terminal columns, near enough for tab stops (no rich.cells here: the data layer)."""
    if text.isascii():
        return len(text)
    return sum(map(_char_cells, text))


def _expand_tabs(text: str, spans: tuple[SgrSpan, ...] = ()) -> tuple[str, tuple[SgrSpan, ...]]:
    """Tabs to spaces up to the next 8-column stop, counted in cells; spans move with the text."""
    parts = text.split("\t")
    out: list[str] = []
    column = 0
    tab_at: list[int] = []  # offsets (in the input) of each tab …
    shift_after: list[int] = []  # … and how far everything after it moved
    offset = shift = 0
    for part in parts[:-1]:
        column += _cells(part)
        pad = TAB_SIZE - column % TAB_SIZE
        out.append(part)
        out.append(" " * pad)
        column += pad
        offset += len(part)
        shift += pad - 1
        tab_at.append(offset)
        shift_after.append(shift)
        offset += 1
    out.append(parts[-1])
    if not spans:
        return "".join(out), ()

    def moved(boundary: int) -> int:
        # Moved by every tab before the boundary: a span starting at a tab starts at its first
        # space, one ending just after a tab takes all of its spaces.
        index = bisect_right(tab_at, boundary - 1)
        return boundary + (shift_after[index - 1] if index else 0)

    return "".join(out), tuple(SgrSpan(moved(span.start), moved(span.end), span.style) for span in spans)


def _one_line(text: str) -> str:
    """Stand-ins for every unsafe character; no cut. CRLF is one line break, a lone CR is shown."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    text = _replace_unsafe(text)
    if "\t" in text:
        text = _expand_tabs(text)[0]
    return text


def _cut_mark(dropped: int) -> str:
    return f"… [cut: {dropped:,} characters]"


_SHORT_MARK_BELOW = 64  # a max_len this small gets a bare "…": the full mark would fill it


def _fit(
    raw: str, max_len: int, render: Callable[[str], tuple[str, tuple[SgrSpan, ...]]]
) -> tuple[str, tuple[SgrSpan, ...]]:
    """render(raw), cut so that the result with its mark is at most max_len characters.

    The limit is on the input as it came (escapes included) and on the result. The mark counts
    characters of the input that are not shown. Stand-ins are longer than what they stand for,
    so the cut point is a binary search on the input for the longest prefix whose rendering fits
    (rendering grows with its input, but for an SGR sequence cut in half, which is longer than
    the whole one: then the cut lands a little early, never over the limit); a cut never splits
    a stand-in. The result is short and clean, so cleaning it again returns it unchanged.
    """
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    total = len(raw)
    if total <= max_len:
        text, spans = render(raw)
        if len(text) <= max_len:
            return text, spans
    short = max_len < _SHORT_MARK_BELOW
    budget = max_len - (1 if short else len(_cut_mark(total)))  # the longest mark we could need
    low, high = 0, min(total, budget)
    best = render(raw[:high])
    if len(best[0]) <= budget:
        low = high  # the common case (a long line of ordinary text): one rendering
    else:
        best = render("")
    while low < high:  # the longest prefix whose rendering fits the budget
        middle = (low + high + 1) // 2
        attempt = render(raw[:middle])
        if len(attempt[0]) <= budget:
            low, best = middle, attempt
        else:
            high = middle - 1
    text, spans = best  # render(raw[:low])
    return text + ("…" if short else _cut_mark(total - low)), spans


def _clean_render(raw: str) -> tuple[str, tuple[SgrSpan, ...]]:
    return _one_line(raw), ()


def clean(text: str | bytes, *, max_len: int = FIELD_MAX) -> str:
    """A one-line field (name, status, reason, version, error message) safe to show.

    Bytes are decoded as UTF-8 (invalid bytes become U+FFFD). Line breaks show as "⏎", a lone CR
    as "␍". Fast path: clean, short text comes back as the same object (0.13 µs for a short
    ASCII name, 0.5 µs for 200 characters, on a shared x86 VM: bench/sanitise_bench.py).
    """
    if not isinstance(text, str):
        text = _decode(text)
    if len(text) <= max_len and (text.isprintable() or _UNSAFE.search(text) is None):
        # isprintable() is one C loop and False for every unsafe character (Cc, Cf, Zl, Zp, Cs);
        # the regex settles the rest (a space other than U+0020, ZWJ in emoji, soft hyphens).
        return text
    return _fit(text, max_len, _clean_render)[0]


def clean_lines(
    text: str | bytes, *, max_len: int = LINE_MAX, max_lines: int = BLOCK_MAX_LINES
) -> list[str]:
    """Multi-line text (compose output, error bodies, inspect output) as clean lines.

    Lines break on LF and CRLF only (not on the separators str.splitlines honours); a final line
    break ends the last line rather than starting an empty one; a lone CR (the overwrite trick)
    shows as "␍". Each line is cut at max_len; past max_lines the first max_lines - 1 are kept
    and the last says how many were left out.
    """
    text = _decode(text)
    if not text:
        return []
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    extra = 0
    if len(lines) > max_lines:
        keep = max(max_lines - 1, 0)
        extra = len(lines) - keep
        lines = lines[:keep]
    out = [clean(line, max_len=max_len) for line in lines]
    if extra:
        out.append(f"… [cut: {extra:,} lines]")
    return out


def clean_block(
    text: str | bytes, *, max_len: int = LINE_MAX, max_lines: int = BLOCK_MAX_LINES
) -> str:
    """clean_lines joined with LF: a block safe to show as plain text."""
    return "\n".join(clean_lines(text, max_len=max_len, max_lines=max_lines))


# -- logs: SGR colour kept as spans, everything else shown -------------------------------------

Colour = int | tuple[int, int, int]  # 0-255 (0-15 are the terminal's own 16), or 24-bit RGB


class SgrStyle(NamedTuple):
    """What a log's SGR sequences asked for. Blink and conceal are ignored on purpose: a log must
    not hide text from the operator nor flash at them. Immutable: a NamedTuple rather than a
    frozen dataclass because it is hashed and compared for every sequence of every coloured line
    (the parse cache, merging spans), which a tuple does in C and a dataclass in Python."""

    fg: Colour | None = None
    bg: Colour | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    reverse: bool = False
    strike: bool = False


PLAIN = SgrStyle()


class SgrSpan(NamedTuple):
    start: int  # offsets into the clean text, end exclusive
    end: int
    style: SgrStyle


# The SGR form Textual/Rich can express; params bounded so a crafted sequence stays cheap.
_SGR = re.compile(r"\x1b\[([0-9;:]{0,64})m")
_ATTRIBUTES = {1: ("bold", True), 2: ("dim", True), 3: ("italic", True), 4: ("underline", True),
               7: ("reverse", True), 9: ("strike", True), 21: ("underline", True),
               23: ("italic", False), 24: ("underline", False), 27: ("reverse", False),
               29: ("strike", False)}  # fmt: skip


def _number(text: str) -> int:
    return int(text) if text else 0  # an empty parameter means 0 (ECMA-48)


def _extended_colour(mode: int, values: list[str]) -> Colour | None:
    """38/48 arguments: 5;n (palette) or 2;r;g;b (RGB); None when malformed. The values are
    digits or empty (the _SGR pattern admits nothing else), so int() cannot fail."""
    if mode == 5 and values:
        index = _number(values[0])
        return index if index <= 255 else None
    if mode == 2 and len(values) >= 3:
        red, green, blue = (_number(value) for value in values[:3])
        if max(red, green, blue) <= 255:
            return red, green, blue
    return None


@lru_cache(maxsize=1024)  # logs repeat the same few sequences: each (style, params) once
def _apply_sgr(style: SgrStyle, params: str) -> SgrStyle:
    fields = style._asdict()
    codes = params.split(";")
    index = 0
    while index < len(codes):
        part = codes[index]
        index += 1
        if ":" in part:  # ITU sub-parameters: 38:5:n, 38:2:[space]:r:g:b, 4:3 (curly underline)
            head, *rest = part.split(":")
            head_code = _number(head)
            if head_code in (38, 48) and rest:
                mode, values = _number(rest[0]), rest[1:]
                if mode == 2 and len(values) >= 4:
                    values = values[1:]  # the colour-space id before r:g:b
                colour = _extended_colour(mode, values)
                if colour is not None:
                    fields["fg" if head_code == 38 else "bg"] = colour
            elif head_code == 4:
                fields["underline"] = bool(rest) and rest[0] not in ("", "0")
            continue
        code = _number(part)
        if code == 0:
            fields = PLAIN._asdict()
        elif code in _ATTRIBUTES:
            name, value = _ATTRIBUTES[code]
            fields[name] = value
        elif code == 22:
            fields["bold"] = fields["dim"] = False
        elif 30 <= code <= 37:
            fields["fg"] = code - 30
        elif 40 <= code <= 47:
            fields["bg"] = code - 40
        elif 90 <= code <= 97:
            fields["fg"] = code - 90 + 8
        elif 100 <= code <= 107:
            fields["bg"] = code - 100 + 8
        elif code == 39:
            fields["fg"] = None
        elif code == 49:
            fields["bg"] = None
        elif code in (38, 48, 58):  # extended colour: consume its arguments (58: underline colour)
            mode = _number(codes[index]) if index < len(codes) else -1
            count = 1 if mode == 5 else 3 if mode == 2 else 0
            values = codes[index + 1 : index + 1 + count]
            index += 1 + count
            colour = _extended_colour(mode, values) if len(values) == count else None
            if colour is not None and code != 58:
                fields["fg" if code == 38 else "bg"] = colour
        # anything else (blink, conceal, fonts, overline…) is ignored
    result = SgrStyle(**fields)
    return PLAIN if result == PLAIN else result


# The styles after each sequence of a line, keyed by the line's SGR parameters in order: a log
# repeats the same few sequences on every line, so a line's colour costs one dict lookup instead
# of a cached call (hashing an SgrStyle) per sequence. Bounded: emptied when full.
_STYLE_RUNS: dict[tuple[str, ...], tuple[SgrStyle, ...]] = {}
_STYLE_RUNS_MAX = 1024


def _style_run(params: tuple[str, ...]) -> tuple[SgrStyle, ...]:
    styles = _STYLE_RUNS.get(params)
    if styles is None:
        style, out = PLAIN, []
        for param in params:
            style = _apply_sgr(style, param)
            out.append(style)
        styles = tuple(out)
        if len(_STYLE_RUNS) >= _STYLE_RUNS_MAX:
            _STYLE_RUNS.clear()
        _STYLE_RUNS[params] = styles
    return styles


def _log_render(raw: str) -> tuple[str, tuple[SgrSpan, ...]]:
    if "\x1b[" not in raw:
        return _one_line(raw), ()
    # split() gives text, params, text, params, …, text: no match objects, no closure.
    parts = _SGR.split(raw)
    texts = parts[0::2]
    styles = _style_run(tuple(parts[1::2]))
    text = "".join(texts)
    if not text.isprintable():  # tabs stay: their width depends on the whole line's column
        texts = [
            _UNSAFE.sub(_standin, part.replace("\r\n", "\n") if "\r\n" in part else part) if not part.isprintable() else part
            for part in texts
        ]
        text = "".join(texts)
    spans: list[SgrSpan] = []
    position = len(texts[0])
    for index, style in enumerate(styles, 1):
        part = texts[index]
        if not part:
            continue
        end = position + len(part)
        if style is not PLAIN:
            last = spans[-1] if spans else None
            if last is not None and last.end == position and (last.style is style or last.style == style):
                spans[-1] = SgrSpan(last.start, end, style)  # "\x1b[31ma\x1b[31mb": one span
            else:
                spans.append(SgrSpan(position, end, style))
        position = end
    if "\t" in text:
        return _expand_tabs(text, tuple(spans))
    return text, tuple(spans)


def log_line(raw: str | bytes, *, max_len: int = LINE_MAX) -> tuple[str, tuple[SgrSpan, ...]]:
    """One line of a container's log: (clean text, colour spans over it).

    SGR colour/attribute sequences become spans (the UI maps SgrStyle to its styles); every
    other escape, control and bidi character shows as in `clean`. One trailing line terminator
    (LF, CRLF or CR) is the line's own and is dropped. Fast path: a clean, short line comes back
    unchanged with no spans (0.6 µs for a 200-character ASCII line; with 8 SGR sequences, 5 µs,
    on a shared x86 VM: bench/sanitise_bench.py).
    Mask secrets before this (spark_tui.core.masking works on the raw line): the spans index the
    text this returns.
    """
    if not isinstance(raw, str):
        raw = _decode(raw)
    if raw and raw[-1] in "\r\n":  # one test for the common case: no terminator
        if raw[-1] == "\n":
            raw = raw[:-1]
        if raw[-1:] == "\r":
            raw = raw[:-1]
    if len(raw) <= max_len and (raw.isprintable() or _UNSAFE.search(raw) is None):
        return raw, ()
    return _fit(raw, max_len, _log_render)
