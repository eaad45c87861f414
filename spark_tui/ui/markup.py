"""The one escape function: text from outside (Docker, compose, services) put inside Textual markup.

`rich.markup.escape` only escapes what looks like a tag, which Textual's parser reads
differently: Docker's "capabilities: [[gpu]]" came out as "[\\[gpu]]". Escaping every opening
bracket reads back exactly in Textual.

Textual has no escape for a backslash itself: any "[" right after one is text. So a value that
ends in a backslash would swallow the tag that follows it in the template ("[b]C:\\[/b]" shows
"C:[/b]" and the bold never ends). A zero-width space after such a backslash keeps the tag a tag.

Escaping is about markup only: sanitise the text first where it enters (core.untrusted.clean).
Better still, build Text/Content from plain strings and never go through markup at all.
"""

from __future__ import annotations

_GUARD = "\u200b"  # zero-width space: invisible, and not a backslash


def escape(text: str) -> str:
    escaped = text.replace("[", "\\[")
    if escaped.endswith("\\"):
        escaped += _GUARD
    return escaped
