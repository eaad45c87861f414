"""The theme's colours as Rich markup colours, for DataTable cells (which take Rich markup, not
Textual's $variables). "ansi-*" themes give ANSI colours, so the terminal's palette still rules."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.color import Color, ColorParseError

FALLBACK = {"success": "green", "error": "red", "warning": "yellow", "accent": "cyan"}


@dataclass(frozen=True)
class ThemeColors:
    success: str
    error: str
    warning: str
    accent: str

    def paint(self, text: str, role: str | None, bold: bool = False) -> str:
        """Markup for `text` (already escaped) in a role's colour; role "dim" dims it."""
        style = "dim" if role == "dim" else (getattr(self, role) if role else "")
        if bold:
            style = f"bold {style}".strip()
        return f"[{style}]{text}[/]" if style else text


_cache: dict[str, ThemeColors] = {}


def theme_colors(app: App) -> ThemeColors:
    name = app.theme
    if name not in _cache:
        variables = app.theme_variables or app.get_css_variables()
        values = {}
        for role, fallback in FALLBACK.items():
            try:
                values[role] = Color.parse(variables[role]).rich_color.name
            except (KeyError, ColorParseError):
                values[role] = fallback
        _cache[name] = ThemeColors(**values)
    return _cache[name]
