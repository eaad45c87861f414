"""Hide secrets before anything is shown or logged: env lists, mappings, argv, log lines, URLs.

A value is masked when its *name* looks secret (HF_TOKEN, apiKey, --api-key, DB_PASSWORD…)
or when the value itself has the shape of a well-known credential (hf_…, sk-…, ghp_…, AKIA…,
"Bearer …", a URL's password). Masking errs on the side of hiding: a false positive costs a
glance at the compose file, a false negative leaks a token onto someone's screen share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MASK = "****"

# Name segments (split on _ - . and camelCase) that mark a secret on their own.
SECRET_SEGMENTS = frozenset(
    {
        "TOKEN", "KEY", "KEYS", "SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "PASS",
        "PASSPHRASE", "PWD", "CREDENTIAL", "CREDENTIALS", "CREDS", "AUTH", "AUTHORIZATION",
        "COOKIE", "APIKEY", "SALT", "SIGNATURE", "DSN",
    }
)
# Segments that end like this are secret too: HFTOKEN, ACCESSKEY, CLIENTSECRET, DBPASSWORD.
SECRET_SUFFIXES = ("TOKEN", "APIKEY", "ACCESSKEY", "SECRET", "PASSWORD", "PASSWD")
# Names that match the rules above but are well known and harmless.
NOT_SECRET = frozenset({"PWD", "OLDPWD", "KEYMAP", "XAUTHORITY", "SSH_AUTH_SOCK", "PASSWORD_STORE_DIR"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")

# Credentials recognisable by their shape, wherever they appear.
_TOKEN_SHAPES = re.compile(
    r"""
    \bhf_[A-Za-z0-9]{20,}                      # Hugging Face
    | \bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}  # OpenAI / Anthropic style
    | \bgh[pousr]_[A-Za-z0-9]{30,}             # GitHub
    | \bgithub_pat_[A-Za-z0-9_]{40,}
    | \bglpat-[A-Za-z0-9_\-]{20,}              # GitLab
    | \bxox[abposr]-[A-Za-z0-9\-]{10,}         # Slack
    | \bnvapi-[A-Za-z0-9_\-]{20,}              # NVIDIA NGC / build.nvidia.com
    | \bAKIA[0-9A-Z]{16}\b                     # AWS access key id
    | \beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}  # JWT
    """,
    re.VERBOSE,
)
_AUTH_SCHEMES = ("bearer", "basic", "token")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{8,}")
# scheme://user:password@host — keep the user, hide the password.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\"]*:)(?P<password>[^\s@/'\"]+)(?=@)")
# NAME=value, NAME: value, "name": "value", --name=value inside free text.
_ASSIGNMENT = re.compile(
    r"""(?P<lead>(?<![\w\-])(?P<quote>["']?)(?P<name>-{0,2}[A-Za-z_][\w.\-]*)(?P=quote)\s*[=:]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,;&}\]"']+)"""
)
# --flag value (a command line echoed into a log): the value may not start with a dash.
_FLAG_VALUE = re.compile(r"""(?P<lead>(?<![\w\-])(?P<name>--?[A-Za-z][\w\-]*)\s+)(?P<value>"[^"]*"|'[^']*'|[^\s\-"'][^\s,;&"']*)""")


def name_segments(name: str) -> list[str]:
    return [s.upper() for part in _SPLIT.split(name) for s in _CAMEL.split(part) if s]


def is_secret_name(name: str) -> bool:
    """True for names such as HF_TOKEN, OPENAI_API_KEY, db-password, clientSecret, --api-key."""
    bare = name.strip().lstrip("-")
    if not bare or bare.upper() in NOT_SECRET:
        return False
    segments = name_segments(bare)
    if any(s in SECRET_SEGMENTS for s in segments):
        return True
    joined = "".join(segments)
    return any(s.endswith(SECRET_SUFFIXES) for s in segments) or joined.endswith(SECRET_SUFFIXES)


# The fast path's evidence (lower case, ASCII text only). A token shape needs one of these
# fragments, a URL password "://", a "Bearer …" its scheme word …
_SHAPE_HINTS = ("://", "hf_", "sk-", "github_pat_", "glpat-", "xox", "nvapi-", "akia", "eyj", "bearer", "basic")
_GITHUB = re.compile(r"gh[pousr]_")
# … and a secret name (NAME=value, --flag value) a secret segment or suffix, each of which holds
# one of these. Looked for with "_", "-" and "." taken out: is_secret_name joins a name's
# segments ("TO_KEN" ends with TOKEN), and in ASCII a name's characters are letters, digits and those.
_NAME_HINTS = ("token", "key", "secret", "pass", "pwd", "cred", "auth", "cookie", "salt", "signature", "dsn")


def _may_hold_secret(text: str) -> bool:
    """False when no rule of mask_text can match (ASCII text): ~2 µs instead of its ~15 µs of
    regexes, for the ordinary log line. Non-ASCII text always takes the full path (case
    folding outside ASCII can make letters the regexes see differently)."""
    if not text.isascii():
        return True
    low = text.lower()
    for hint in _SHAPE_HINTS:
        if hint in low:
            return True
    if "gh" in low and _GITHUB.search(low):
        return True
    squeezed = low.replace("_", "").replace("-", "").replace(".", "")
    for hint in _NAME_HINTS:
        if hint in squeezed:
            return True
    return False


def mask_text(text: str) -> str:
    """Mask credentials inside free text: log lines, commands, error messages."""
    if not text or not _may_hold_secret(text):
        return text
    return _mask_rules(text)


def _mask_rules(text: str) -> str:
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    text = _TOKEN_SHAPES.sub(MASK, text)
    text = _BEARER.sub(lambda m: f"{m[1]} {MASK}", text)
    text = _ASSIGNMENT.sub(_mask_assignment, text)
    return _FLAG_VALUE.sub(_mask_assignment, text)


def _mask_assignment(match: re.Match[str]) -> str:
    value = match["value"]
    if value == MASK or value.lower() in _AUTH_SCHEMES:
        return match[0]
    if not is_secret_name(match["name"]):
        # A harmless name's value can be an assignment itself ("env: TOKEN=abc", "x=PASSWORD=y"):
        # the match swallowed it whole and re.sub does not look inside a match again.
        if "=" not in value and ":" not in value:
            return match[0]
        return match["lead"] + _ASSIGNMENT.sub(_mask_assignment, value)
    quote = value[0] if value[:1] in "\"'" else ""
    return f"{match['lead']}{quote}{MASK}{quote}"


def mask_value(name: str, value: str) -> str:
    return MASK if value and is_secret_name(name) else mask_text(value)


def mask_env(env: Iterable[str]) -> list[str]:
    """Docker's Config.Env: ["HF_TOKEN=hf_x", "PATH=/bin"] -> ["HF_TOKEN=****", "PATH=/bin"]."""
    masked = []
    for entry in env:
        name, sep, value = entry.partition("=")
        masked.append(f"{name}{sep}{mask_value(name, value)}" if sep else mask_text(entry))
    return masked


def mask_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping of settings (compose `environment:`, labels): values under secret names hidden."""
    return {key: mask_any(value, key) for key, value in values.items()}


def mask_argv(argv: Sequence[str]) -> list[str]:
    """A command line: the value after --api-key / --hf-token (or in --token=x) is hidden."""
    masked: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and not arg.startswith("-"):
            masked.append(MASK)
            hide_next = False
            continue
        hide_next = False
        if arg.startswith("-") and "=" in arg:
            flag, _, value = arg.partition("=")
            masked.append(f"{flag}={mask_value(flag, value)}")
        elif arg.startswith("-") and is_secret_name(arg):
            masked.append(arg)
            hide_next = True
        else:
            masked.append(mask_text(arg))
    return masked


def mask_any(value: Any, name: str | None = None) -> Any:
    """Walk JSON-like data (docker inspect, compose config) and mask every secret in it."""
    if isinstance(value, Mapping):
        return {key: mask_any(item, key if isinstance(key, str) else None) for key, item in value.items()}
    if isinstance(value, str):
        return mask_value(name, value) if name else mask_text(value)
    if isinstance(value, (list, tuple)):
        if name in ("Env", "env") and all(isinstance(v, str) for v in value):
            return mask_env(value)
        if all(isinstance(v, str) for v in value):
            if name and is_secret_name(name):
                return [MASK if v else v for v in value]
            return mask_argv(value)
        return [mask_any(item) for item in value]
    if name and is_secret_name(name) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return MASK
    return value
