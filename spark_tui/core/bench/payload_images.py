"""Synthetic desktop screenshots (PNG) for OmniParser: menus, windows, buttons, fields, text, a taskbar.

Drawn with the standard library only (a 5×7 bitmap font, filled rectangles, zlib for PNG), so the
benchmark needs no imaging package. Frames are deterministic per (resolution, variant) and cached.
"""

from __future__ import annotations

import logging
import os
import random
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from spark_tui.core.bench.payload_text import WORDS

log = logging.getLogger(__name__)

RESOLUTIONS: dict[str, tuple[int, int]] = {"1080p": (1920, 1080), "1440p": (2560, 1440), "4k": (3840, 2160)}

Color = tuple[int, int, int]

_FONT_ROWS = {
    "A": ".###./#...#/#...#/#####/#...#/#...#/#...#", "B": "####./#...#/#...#/####./#...#/#...#/####.",
    "C": ".###./#...#/#..../#..../#..../#...#/.###.", "D": "####./#...#/#...#/#...#/#...#/#...#/####.",
    "E": "#####/#..../#..../####./#..../#..../#####", "F": "#####/#..../#..../####./#..../#..../#....",
    "G": ".###./#...#/#..../#.###/#...#/#...#/.####", "H": "#...#/#...#/#...#/#####/#...#/#...#/#...#",
    "I": ".###./..#../..#../..#../..#../..#../.###.", "J": "..###/...#./...#./...#./#..#./#..#./.##..",
    "K": "#...#/#..#./#.#../##.../#.#../#..#./#...#", "L": "#..../#..../#..../#..../#..../#..../#####",
    "M": "#...#/##.##/#.#.#/#.#.#/#...#/#...#/#...#", "N": "#...#/#...#/##..#/#.#.#/#..##/#...#/#...#",
    "O": ".###./#...#/#...#/#...#/#...#/#...#/.###.", "P": "####./#...#/#...#/####./#..../#..../#....",
    "Q": ".###./#...#/#...#/#...#/#.#.#/#..#./.##.#", "R": "####./#...#/#...#/####./#.#../#..#./#...#",
    "S": ".####/#..../#..../.###./....#/....#/####.", "T": "#####/..#../..#../..#../..#../..#../..#..",
    "U": "#...#/#...#/#...#/#...#/#...#/#...#/.###.", "V": "#...#/#...#/#...#/#...#/#...#/.#.#./..#..",
    "W": "#...#/#...#/#...#/#.#.#/#.#.#/#.#.#/.#.#.", "X": "#...#/#...#/.#.#./..#../.#.#./#...#/#...#",
    "Y": "#...#/#...#/.#.#./..#../..#../..#../..#..", "Z": "#####/....#/...#./..#../.#.../#..../#####",
    "0": ".###./#...#/#..##/#.#.#/##..#/#...#/.###.", "1": "..#../.##../..#../..#../..#../..#../.###.",
    "2": ".###./#...#/....#/...#./..#../.#.../#####", "3": "#####/...#./..#../...#./....#/#...#/.###.",
    "4": "...#./..##./.#.#./#..#./#####/...#./...#.", "5": "#####/#..../####./....#/....#/#...#/.###.",
    "6": "..##./.#.../#..../####./#...#/#...#/.###.", "7": "#####/....#/...#./..#../.#.../.#.../.#...",
    "8": ".###./#...#/#...#/.###./#...#/#...#/.###.", "9": ".###./#...#/#...#/.####/....#/...#./.##..",
    ".": "...../...../...../...../...../.##../.##..", ",": "...../...../...../...../.##../..#../.#...",
    ":": "...../.##../.##../...../.##../.##../.....", "-": "...../...../...../#####/...../...../.....",
    "/": "....#/....#/...#./..#../.#.../#..../#....", "%": "##..#/##..#/...#./..#../.#.../#..##/#..##",
    "(": "...#./..#../.#.../.#.../.#.../..#../...#.", ")": ".#.../..#../...#./...#./...#./..#../.#...",
    "[": ".###./.#.../.#.../.#.../.#.../.#.../.###.", "]": ".###./...#./...#./...#./...#./...#./.###.",
    "?": ".###./#...#/....#/...#./..#../...../..#..", "!": "..#../..#../..#../..#../..#../...../..#..",
    "+": "...../..#../..#../#####/..#../..#../.....", "=": "...../...../#####/...../#####/...../.....",
    "_": "...../...../...../...../...../...../#####", "'": "..#../..#../.#.../...../...../...../.....",
    "@": ".###./#...#/#.###/#.#.#/#.###/#..../.####", "#": ".#.#./.#.#./#####/.#.#./#####/.#.#./.#.#.",
}
FONT: dict[str, tuple[tuple[int, int], ...]] = {
    ch: tuple((x, y) for y, row in enumerate(rows.split("/")) for x, cell in enumerate(row) if cell == "#")
    for ch, rows in _FONT_ROWS.items()
}
GLYPH_W, GLYPH_H, GLYPH_ADVANCE = 5, 7, 6


class Canvas:
    """An RGB image in a bytearray; everything is drawn as filled rectangles."""

    def __init__(self, width: int, height: int, background: Color) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: Color) -> None:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        row = bytes(color) * (x1 - x0)
        stride = self.width * 3
        for yy in range(y0, y1):
            start = yy * stride + x0 * 3
            self.pixels[start : start + len(row)] = row

    def frame(self, x: int, y: int, w: int, h: int, color: Color, thickness: int = 1) -> None:
        self.rect(x, y, w, thickness, color)
        self.rect(x, y + h - thickness, w, thickness, color)
        self.rect(x, y, thickness, h, color)
        self.rect(x + w - thickness, y, thickness, h, color)

    def text(self, x: int, y: int, text: str, color: Color, scale: int) -> int:
        """Draws upper-cased text; returns the x after it."""
        for ch in text.upper():
            for gx, gy in FONT.get(ch, ()):
                self.rect(x + gx * scale, y + gy * scale, scale, scale, color)
            x += GLYPH_ADVANCE * scale
        return x

    def png(self) -> bytes:
        stride = self.width * 3
        raw = bytearray()
        for yy in range(self.height):
            raw += b"\x00"
            raw += self.pixels[yy * stride : (yy + 1) * stride]

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + chunk(b"IEND", b"")


def text_width(text: str, scale: int) -> int:
    return len(text) * GLYPH_ADVANCE * scale


@dataclass(frozen=True)
class _Theme:
    desktop: Color
    bar: Color
    window: Color
    title: Color
    title_text: Color
    text: Color
    button: Color
    button_text: Color
    field: Color
    border: Color
    accent: Color


_THEMES = (
    _Theme((36, 59, 85), (30, 30, 34), (246, 246, 246), (52, 101, 164), (255, 255, 255), (20, 20, 20), (225, 225, 230), (20, 20, 20), (255, 255, 255), (150, 150, 160), (118, 185, 0)),
    _Theme((70, 40, 80), (240, 240, 240), (32, 33, 36), (60, 64, 67), (232, 234, 237), (232, 234, 237), (95, 99, 104), (255, 255, 255), (48, 49, 52), (120, 124, 130), (138, 180, 248)),
    _Theme((20, 90, 70), (45, 45, 45), (250, 250, 245), (118, 118, 118), (255, 255, 255), (30, 30, 30), (118, 185, 0), (0, 0, 0), (255, 255, 255), (170, 170, 170), (220, 80, 60)),
)

_MENUS = ("File", "Edit", "View", "Go", "Tools", "Window", "Help")
_APPS = ("Terminal", "Files", "Browser", "Settings", "Monitor", "Editor", "Mail", "Notes")
_BUTTONS = ("OK", "Cancel", "Apply", "Save", "Open", "Search", "Next", "Back", "Submit", "Refresh")


def screenshot(resolution: str, variant: int = 0) -> bytes:
    """A PNG desktop screenshot at "1080p", "1440p" or "4k"; each variant differs in layout and text."""
    try:
        width, height = RESOLUTIONS[resolution.lower()]
    except KeyError:
        raise ValueError(f"unknown resolution {resolution!r}: expected one of {', '.join(RESOLUTIONS)}") from None
    rng = random.Random(f"spark-tui-screen-{resolution}-{variant}")
    theme = _THEMES[variant % len(_THEMES)]
    s = max(1, height // 540)  # UI scale: 2 at 1080p/1440p, 4 at 4K
    canvas = Canvas(width, height, theme.desktop)
    line = (GLYPH_H + 5) * s

    # top bar with menus and a clock
    canvas.rect(0, 0, width, line + 4 * s, theme.bar)
    x = 8 * s
    bar_text = theme.button if theme.bar[0] < 128 else theme.text
    for menu in _MENUS:
        x = canvas.text(x, 4 * s, menu, bar_text, s) + 14 * s
    clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    canvas.text(width - text_width(clock, s) - 10 * s, 4 * s, clock, bar_text, s)

    # desktop icons with labels
    for i, app in enumerate(rng.sample(_APPS, 5)):
        top = line * 3 + i * 42 * s
        canvas.rect(14 * s, top, 24 * s, 24 * s, theme.accent)
        canvas.frame(14 * s, top, 24 * s, 24 * s, theme.border, s)
        canvas.text(8 * s, top + 27 * s, app[:8], (255, 255, 255), s)

    # windows
    for _ in range(3):
        ww = rng.randint(width // 4, width // 2)
        wh = rng.randint(height // 4, height // 2)
        wx = rng.randint(70 * s, max(70 * s, width - ww - 10 * s))
        wy = rng.randint(line * 2, max(line * 2, height - wh - 30 * s))
        _window(canvas, rng, theme, wx, wy, ww, wh, s, line)

    # taskbar with app buttons
    task_h = 22 * s
    canvas.rect(0, height - task_h, width, task_h, theme.bar)
    x = 6 * s
    for app in _APPS[: 4 + variant % 4]:
        bw = text_width(app, s) + 16 * s
        canvas.rect(x, height - task_h + 3 * s, bw, task_h - 6 * s, theme.button)
        canvas.text(x + 8 * s, height - task_h + 7 * s, app, theme.button_text, s)
        x += bw + 6 * s
    return canvas.png()


def _window(canvas: Canvas, rng: random.Random, theme: _Theme, x: int, y: int, w: int, h: int, s: int, line: int) -> None:
    canvas.rect(x + 3 * s, y + 3 * s, w, h, (0, 0, 0))  # shadow
    canvas.rect(x, y, w, h, theme.window)
    canvas.frame(x, y, w, h, theme.border, s)
    title_h = line + 4 * s
    canvas.rect(x, y, w, title_h, theme.title)
    canvas.text(x + 8 * s, y + 4 * s, f"{rng.choice(_APPS)} - {rng.choice(WORDS)} {rng.choice(WORDS)}", theme.title_text, s)
    for k, mark in enumerate("X_+"):
        bx = x + w - (k + 1) * (title_h - 2 * s) - 4 * s
        canvas.rect(bx, y + 2 * s, title_h - 4 * s, title_h - 4 * s, theme.button)
        canvas.text(bx + 3 * s, y + 4 * s, mark if mark != "_" else "-", theme.button_text, s)
    cy = y + title_h + 8 * s
    # toolbar buttons
    bx = x + 8 * s
    for label in rng.sample(_BUTTONS, 4):
        bw = text_width(label, s) + 14 * s
        if bx + bw > x + w - 8 * s:
            break
        canvas.rect(bx, cy, bw, line + 6 * s, theme.button)
        canvas.frame(bx, cy, bw, line + 6 * s, theme.border, max(1, s // 2))
        canvas.text(bx + 7 * s, cy + 5 * s, label, theme.button_text, s)
        bx += bw + 6 * s
    cy += line + 16 * s
    # a labelled text field
    label = rng.choice(("Name:", "Search:", "Path:", "Email:", "Server:"))
    lx = canvas.text(x + 8 * s, cy + 5 * s, label, theme.text, s) + 8 * s
    fw = max(20 * s, x + w - lx - 12 * s)
    canvas.rect(lx, cy, fw, line + 6 * s, theme.field)
    canvas.frame(lx, cy, fw, line + 6 * s, theme.border, max(1, s // 2))
    canvas.text(lx + 5 * s, cy + 5 * s, f"{rng.choice(WORDS)} {rng.choice(WORDS)}", theme.text, s)
    cy += line + 16 * s
    # checkboxes
    for _ in range(2):
        canvas.frame(x + 8 * s, cy, 9 * s, 9 * s, theme.border, s)
        if rng.random() < 0.5:
            canvas.rect(x + 10 * s, cy + 2 * s, 5 * s, 5 * s, theme.accent)
        canvas.text(x + 22 * s, cy + s, f"{rng.choice(('Enable', 'Show', 'Use', 'Keep'))} {rng.choice(WORDS)}", theme.text, s)
        cy += line + 4 * s
    # body text until the window ends
    chars = max(8, (w - 16 * s) // (GLYPH_ADVANCE * s))
    while cy + line < y + h - 8 * s:
        words: list[str] = []
        while len(" ".join(words)) < chars - 12:
            words.append(rng.choice(WORDS))
        canvas.text(x + 8 * s, cy, " ".join(words)[:chars], theme.text, s)
        cy += line


def cached_screenshot(resolution: str, variant: int = 0) -> bytes:
    """`screenshot()`, kept under $XDG_CACHE_HOME/spark-tui/payloads (4K frames take a moment to draw)."""
    key = (resolution.lower(), variant)
    if key in _MEMORY_CACHE:
        return _MEMORY_CACHE[key]
    path = payload_cache_dir() / f"screen-v{_VERSION}-{key[0]}-{variant}.png"
    try:
        data = path.read_bytes()
    except OSError:
        data = screenshot(resolution, variant)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            log.debug("payload cache not written (%r): made again next time", exc)
    _MEMORY_CACHE[key] = data
    return data


def payload_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "spark-tui" / "payloads"


_VERSION = 1  # bump when the drawing changes, so old cached frames are not reused
_MEMORY_CACHE: dict[tuple[str, int], bytes] = {}
