"""Hostile text for every path that shows what other programs wrote (issue #13).

HOSTILE: (name, text) pairs a container, a service or a compose file could hand us. Every entry
carries the marker PWNED next to its trick, so a test can check that the trick was neutralised
(the marker is still shown, as text) and, in a terminal's output stream, that the raw sequence
never arrived (FORBIDDEN_OUTPUT). HOSTILE_BYTES: undecodable input. BENIGN: text that must come
through unchanged (Unicode, emoji, CJK, combining marks, RTL with its marks).

FORBIDDEN_OUTPUT holds only byte patterns that neither Textual 8.2.8 nor Rich ever writes on
their own, so a pty test can search a whole session's output for them. Checked in their source:
Textual itself writes BEL (OSC 22 pointer shapes, OSC 52 copy_to_clipboard, both BEL-ended),
OSC 8 (hyperlinks: "\\x1b]8;id=…", closed by "\\x1b]8;;\\x1b\\\\"), OSC 52 (copy), CSI 2J (the
inline driver on resize), CSI 6n (the inline compositor) and CR (inline mode; `spark-tui bench`
writes "\\r\\x1b[K" progress). Those are therefore forbidden only with our marker right after
them (or, for OSC 8/52, with our URL/payload), which only a pass-through of this corpus writes.
A bare 0x9b byte is not forbidden either: it is a UTF-8 continuation byte (our own "␛" is
E2 90 9B); the 8-bit C1 controls are searched for as their UTF-8 encodings (C2 80 … C2 9F).
"""

from __future__ import annotations

import base64

MARKER = "PWNED"
CLIPBOARD_PAYLOAD = base64.b64encode(b"PWNED-clipboard").decode()  # "UFdORUQt…": starts with "PWNED"

ESC = "\x1b"
ST = "\x1b\\"  # string terminator (7-bit)

HOSTILE: list[tuple[str, str]] = [
    # OSC: window title, hyperlink, clipboard; BEL- and ST-terminated
    ("osc0_title_bel", f"before{ESC}]0;PWNED-title\x07after"),
    ("osc0_title_st", f"before{ESC}]0;PWNED-title{ST}after"),
    ("osc2_title_bel", f"{ESC}]2;PWNED-title\x07"),
    ("osc2_title_st", f"{ESC}]2;PWNED-title{ST}"),
    ("osc8_link_st", f"{ESC}]8;;https://pwned.invalid/PWNED{ST}click me{ESC}]8;;{ST}"),
    ("osc8_link_bel", f"{ESC}]8;;file:///etc/passwd#PWNED\x07open{ESC}]8;;\x07"),
    ("osc52_clipboard_bel", f"{ESC}]52;c;{CLIPBOARD_PAYLOAD}\x07PWNED"),
    ("osc52_clipboard_st", f"{ESC}]52;c;{CLIPBOARD_PAYLOAD}{ST}PWNED"),
    # CSI: clear, home, queries whose answers land in our input, modes
    ("csi_clear_screen", f"{ESC}[2JPWNED-cleared"),
    ("csi_home", f"{ESC}[HPWNED-home"),
    ("csi_clear_and_home", f"{ESC}[2J{ESC}[HPWNED-fake-screen"),
    ("csi_dsr_cursor_query", f"{ESC}[6nPWNED-dsr"),
    ("csi_device_attributes", f"{ESC}[cPWNED-da"),
    ("csi_title_report", f"{ESC}[21tPWNED-report"),
    ("csi_alt_screen_off", f"{ESC}[?1049lPWNED-altscreen"),
    ("csi_mouse_off", f"{ESC}[?1000lPWNED-mouse"),
    ("esc_full_reset", f"{ESC}cPWNED-ris"),
    # DCS, APC, PM, SOS strings
    ("dcs", f"{ESC}P1$rPWNED-dcs{ST}"),
    ("apc", f"{ESC}_PWNED-apc{ST}"),
    ("pm", f"{ESC}^PWNED-pm{ST}"),
    ("sos", f"{ESC}XPWNED-sos{ST}"),
    # 8-bit C1 controls (as characters: what a latin-1 decode or a hostile UTF-8 encoding gives)
    ("c1_csi_clear", "\x9b2J\x9bHPWNED-c1-csi"),
    ("c1_osc_title", "\x9d0;PWNED-c1-osc\x9c"),
    ("c1_dcs", "\x90PWNED-c1-dcs\x9c"),
    ("c1_next_line", "PWNED\x85next-line"),
    # C0 tricks that hide or overwrite text
    ("bel", "ding\x07PWNED-bel"),
    ("backspace_run", "PWNED-shown" + "\x08" * 11 + "hidden-text"),
    ("cr_overwrite", "safe\rPWNED-overwrites"),
    ("nul", "PWNED\x00nul"),
    ("vt_ff", "PWNED\x0bvertical\x0cformfeed"),
    ("del", "PWNED\x7fdel"),
    ("lone_esc", f"PWNED{ESC}"),  # swallows whatever the app writes next
    ("double_esc", f"PWNED{ESC}{ESC}x"),
    ("tab_and_newline", "PWNED\tcol\nnext line\r\nthird"),
    # bidi: Trojan Source overrides, embeddings, isolates; line/paragraph separators
    ("bidi_rlo", "PWNED-\u202etxt.exe"),
    ("bidi_embeddings", "PWNED \u202aa\u202c \u202bb\u202c \u202dc\u202c"),
    ("bidi_isolates", "\u2066PWNED\u2069 \u2067x\u2069 \u2068y\u2069"),
    ("line_separators", "PWNED\u2028line\u2029paragraph"),
    ("lone_surrogate", "PWNED\udcff\ud800"),  # what a surrogateescape decode leaves
    # markup: must show as typed, never be parsed (Rich, Textual)
    ("markup_style", "[bold red]PWNED[/]"),
    ("markup_click_action", "[@click=app.quit]PWNED[/]"),
    ("markup_link", "[link=file:///etc/passwd]PWNED[/link]"),
    ("markup_close_only", "[/]PWNED"),  # Rich's markup parser raises on this
    ("markup_variable", "[$accent]PWNED $secondary[/]"),
    # colour: kept as colour by log_line, shown as stand-ins elsewhere
    ("sgr_colour", f"{ESC}[1;31mERROR{ESC}[0m PWNED {ESC}[38;5;208mpalette{ESC}[39m {ESC}[38;2;1;2;3mrgb{ESC}[m"),
    # absurd lengths
    ("one_megabyte_line", "PWNED-long " + "A" * (1 << 20)),
    ("one_megabyte_of_titles", f"{ESC}]0;PWNED\x07" * ((1 << 20) // 10)),
    ("one_megabyte_of_colour", f"{ESC}[31mPWNED{ESC}[0m " * ((1 << 20) // 15)),
]
HOSTILE_NAMES = [name for name, _ in HOSTILE]
HOSTILE_TEXT = dict(HOSTILE)
MARKUP_NAMES = [name for name in HOSTILE_NAMES if name.startswith("markup_")]
LONG_NAMES = [name for name in HOSTILE_NAMES if name.startswith("one_megabyte")]

# Entries no byte pattern can catch in a stream: a trailing lone ESC is followed by whatever the
# app writes next (often its own ESC [0m), and a lone surrogate cannot be encoded at all (a strict
# writer raises). Unit tests check them on the text instead.
NOT_IN_STREAM = {"lone_esc", "lone_surrogate"}

HOSTILE_BYTES: list[tuple[str, bytes]] = [
    ("invalid_start_bytes", b"PWNED-\xff\xfe"),
    ("overlong_slash", b"PWNED-\xc0\xaf"),
    ("truncated_sequence", b"PWNED-\xe2\x82"),
    ("encoded_surrogate", b"PWNED-\xed\xa0\x80"),
    ("raw_8bit_csi", b"\x9b2JPWNED-raw-c1"),  # a lone 0x9b byte is invalid UTF-8, not CSI
    ("utf8_encoded_c1_csi", b"\xc2\x9b2JPWNED-utf8-c1"),  # valid UTF-8 for U+009B: a C1 control
    ("escape_in_bytes", b"\x1b]0;PWNED-bytes\x07"),
]

BENIGN: list[tuple[str, str]] = [
    ("ascii", "vllm/vllm-openai:v0.6.3 Up 3 hours (healthy) 0.0.0.0:8000->8000/tcp"),
    ("latin", "naïve café — déjà vu, Straße, ½ µs, 25 °C"),
    ("cjk", "模型已加载 モデルを読み込みました 모델 로드됨"),
    ("emoji", "🚀 ready ✅ 👩‍👩‍👧 👍🏽 🇫🇷"),
    ("combining", "e\u0301 a\u0308 n\u0303 Z\u0336\u0337"),
    ("rtl_with_marks", "עברית \u200fمرحبا\u200e done \u061c"),  # RLM, LRM, ALM: kept
    ("brackets_plain", "a [b] c {d} <e> $f \\g"),
    ("nbsp_and_zero_width", "10\u00a0GB\u200bx\ufeff"),
    ("empty", ""),
]

_C1_UTF8 = tuple(bytes((0xC2, code)) for code in range(0x80, 0xA0))
_BIDI_UTF8 = tuple(chr(code).encode() for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029))

FORBIDDEN_OUTPUT: tuple[bytes, ...] = (
    # Never written by Textual or Rich at all
    b"\x00", b"\x08", b"\x0b", b"\x0c", b"\x7f",
    b"\x1bP", b"\x1b_", b"\x1b^", b"\x1bX",  # DCS, APC, PM, SOS
    b"\x1bc",  # RIS: full terminal reset
    b"\x1b\x1b",  # no sequence ends in ESC, so two in a row are never Textual's
    *_C1_UTF8,
    *_BIDI_UTF8,
    # Written by Textual in some form: forbidden only as this corpus writes them
    b"\x1b]0;PWNED", b"\x1b]2;PWNED",
    b"\x1b]8;;https://pwned.invalid", b"\x1b]8;;file:///etc/passwd",
    b"\x1b]52;c;" + CLIPBOARD_PAYLOAD[:8].encode(),
    b"\x1b[2JPWNED", b"\x1b[HPWNED", b"\x1b[6nPWNED", b"\x1b[cPWNED", b"\x1b[21tPWNED",
    b"\x1b[?1049lPWNED", b"\x1b[?1000lPWNED",
    b"\x07PWNED", b"\rPWNED",
)
# Colour is not in the list: a log's parsed colour is written by Textual/Rich as their own SGR,
# byte for byte what a pass-through would write ("\x1b[31mPWNED"), so the stream cannot tell
# them apart. Unit tests check instead that clean() shows colour sequences as stand-ins.


def find_forbidden(output: bytes | str, patterns: tuple[bytes, ...] = FORBIDDEN_OUTPUT) -> list[bytes]:
    """The forbidden patterns present in a terminal's output stream."""
    if isinstance(output, str):
        output = output.encode("utf-8", errors="surrogatepass")
    return [pattern for pattern in patterns if pattern in output]
