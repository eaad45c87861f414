"""Settings: TOML file (XDG path, --config, SPARK_TUI_CONFIG) validated into frozen structs.

Every error is one line naming the file, the key and what was expected; nothing here raises
anything but ConfigError to its callers.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Struct

from spark_tui.models.settings import Config, ConfigError, InferenceConfig, ProbeConfig

CONFIG_ENV = "SPARK_TUI_CONFIG"
# Textual 8.2.8's builtin themes (textual.theme.BUILTIN_THEMES): every command checks the name
# when the file is read, and the config layer must not import Textual to learn them. A unit test
# compares this with Textual's own list, so an upgrade that adds or drops one shows.
BUILTIN_THEMES = (
    "textual-dark", "textual-light", "nord", "gruvbox", "catppuccin-mocha", "dracula", "tokyo-night",
    "monokai", "flexoki", "catppuccin-latte", "catppuccin-frappe", "catppuccin-macchiato",
    "solarized-light", "solarized-dark", "rose-pine", "rose-pine-moon", "rose-pine-dawn",
    "atom-one-dark", "atom-one-light", "ansi-dark", "ansi-light",
)


def default_config_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "spark-tui" / "config.toml"


def resolve_config_path(flag: str | None, env: dict[str, str] | None = None) -> tuple[Path, bool]:
    """The file to read and whether the user named it (a named file must exist)."""
    env = os.environ if env is None else env
    if flag:
        return Path(flag).expanduser(), True
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser(), True
    return default_config_path(env), False


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read and validate the file at `path`; a missing optional file gives the defaults."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: config file not found") from None
        return Config()
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    return parse_config(raw, source=str(path))


def parse_config(raw: bytes | str, *, source: str = "config") -> Config:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    try:
        config = msgspec.convert(data, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {describe_validation_error(str(exc))}") from None
    _check_theme(config.dashboard.theme, source)
    for index, probe in enumerate(config.probes):
        _check_probe(probe, f"{source}: probes[{index}]")
    names: set[str] = set()
    for index, server in enumerate(config.inference):
        where = f"{source}: inference[{index}]"
        _check_inference(server, where)
        from spark_tui.core.inference.targets import config_name

        name = config_name(server)
        if name in names:
            raise ConfigError(f"{where}: name: {name!r} is used by another [[inference]] entry")
        names.add(name)
    return config


def _check_theme(name: str, source: str) -> None:
    if name not in BUILTIN_THEMES:
        choices = ", ".join(sorted(BUILTIN_THEMES))
        raise ConfigError(f"{source}: dashboard.theme: unknown theme {name!r} (choose one of: {choices})")


def _check_probe(probe: ProbeConfig, where: str) -> None:
    """What the schema cannot say: a kind the preset table knows, a URL that fits it, slow_ms
    below the timeout (the network-free preset table judges)."""
    from spark_tui.core.services.presets import validate_probe_config

    try:
        validate_probe_config(probe)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check_inference(server: InferenceConfig, where: str) -> None:
    """What the schema cannot say: an http(s) URL with a host, a known engine, a path that starts with '/'."""
    from urllib.parse import urlsplit

    from spark_tui.core.inference.engines import ENGINE_KEYS

    try:
        parts = urlsplit(server.url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"{where}: url: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: url: expected http://host:port, got {server.url!r}")
    if server.name is not None and (not server.name.strip() or server.name != server.name.strip()):
        raise ConfigError(f"{where}: name: {server.name!r} must not be blank or start or end with spaces")
    if server.engine is not None and server.engine not in ENGINE_KEYS:
        raise ConfigError(f"{where}: engine: unknown engine {server.engine!r} (expected one of: {', '.join(ENGINE_KEYS)})")
    if server.metrics_path is not None and not server.metrics_path.startswith("/"):
        raise ConfigError(f"{where}: metrics_path: must start with '/', got {server.metrics_path!r}")


_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<key>[^`]+)`$")


def describe_validation_error(message: str) -> str:
    """Turn msgspec's 'Expected `int`, got `str` - at `$.a.b`' into 'a.b: expected int, got str'."""
    match = _AT.match(message)
    assert match is not None  # the pattern matches any string
    what, path = match["what"], (match["path"] or "").lstrip(".")
    unknown = _UNKNOWN.match(what)
    if unknown:
        key = f"{path}.{unknown['key']}" if path else unknown["key"]
        allowed = _fields_at(path)
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return f"{key}: unknown key{hint}"
    missing = _MISSING.match(what)
    if missing:
        key = f"{path}.{missing['key']}" if path else missing["key"]
        return f"{key}: required key is missing"
    what = what.replace("`", "")
    what = what[:1].lower() + what[1:]
    what = what.replace("expected object", "expected a table").replace("expected array", "expected a list")
    return f"{path}: {what}" if path else what


def _fields_at(path: str) -> list[str]:
    """Field names of the config table at a dotted path such as 'probes[2]'."""
    kind: Any = Config
    for part in filter(None, re.split(r"\.|\[\d+\]", path)):
        kind = _struct_of(kind)
        if kind is None:
            return []
        field = next((f for f in msgspec.structs.fields(kind) if f.encode_name == part), None)
        if field is None:
            return []
        kind = field.type
    kind = _struct_of(kind)
    return [f.encode_name for f in msgspec.structs.fields(kind)] if kind else []


def _struct_of(kind: Any) -> type[Struct] | None:
    """The Struct type inside a hint like `ProbeConfig`, `list[ProbeConfig]` or `X | None`."""
    if isinstance(kind, type) and issubclass(kind, Struct):
        return kind
    for arg in getattr(kind, "__args__", ()) or ():
        found = _struct_of(arg)
        if found is not None:
            return found
    origin = getattr(kind, "__origin__", None)
    if origin is Annotated or getattr(kind, "__metadata__", None) is not None:
        return _struct_of(kind.__origin__)
    return None
