"""Presets and probe config, without a network: parsers, JSON paths, value matching, validation."""

from __future__ import annotations

import pytest

from spark_tui.models.settings import ConfigError

from spark_tui.config import parse_config
from spark_tui.models.probes import ProbeState, ServedModel
from spark_tui.core.services import checks, presets
from spark_tui.core.services.checks import Answer, Outcome, ProbeFailure, judge_health_json, lookup, openai_models, parse_json_path, parse_ollama_models, parse_tei_info, values_match
from spark_tui.core.services.presets import KINDS, PRESETS, configured_probes


def answer(body: bytes, status: int = 200) -> Answer:
    return Answer("http://127.0.0.1:1/x", status, {}, body, 1.5)


def probes(toml: str):
    return parse_config(toml, source="config.toml").probes


def test_every_service_in_the_facts_has_a_preset() -> None:
    for name in ("ollama", "vllm", "tei", "nim", "infinity", "omniparser", "docling", "nv-embed", "litellm", "open-webui", "postgres"):
        assert name in PRESETS
        assert PRESETS[name].checks  # says what it does, for help and docs
    assert {"http", "http-json", "http-any", "tcp"} <= set(KINDS)


@pytest.mark.parametrize(
    ("text", "path"),
    [("status", ("status",)), ("data.0.id", ("data", 0, "id")), ("data[0].id", ("data", 0, "id")), ("a[1][2]", ("a", 1, 2))],
)
def test_json_paths(text: str, path: tuple) -> None:
    assert parse_json_path(text) == path


@pytest.mark.parametrize("text", ["", " status", "a..b", "a.", "a[x]", "a[1"])
def test_bad_json_paths(text: str) -> None:
    with pytest.raises(ValueError):
        parse_json_path(text)


def test_lookup() -> None:
    doc = {"data": [{"id": "m"}], "nested": {"0": "zero"}, "flag": None}
    assert lookup(doc, ("data", 0, "id")) == "m"
    assert lookup(doc, ("nested", 0)) == "zero"
    assert lookup(doc, ("flag",)) is None
    assert lookup(doc, ("data", 3, "id")) is checks._MISSING
    assert lookup(doc, ("flag", "x")) is checks._MISSING


@pytest.mark.parametrize(
    ("actual", "expected", "match"),
    [
        ("ok", "ok", True),
        ("OK", "ok", False),
        (True, True, True),
        (1, True, False),  # a bool only matches a bool
        (True, "true", True),  # TOML string against a JSON bool
        (4.0, 4, True),
        (4, "4", True),
        (None, "null", False),
        ([1], "x", False),
    ],
)
def test_values_match(actual: object, expected: object, match: bool) -> None:
    assert values_match(actual, expected) is match  # type: ignore[arg-type]


def test_not_json_says_what_came_instead() -> None:
    with pytest.raises(ProbeFailure, match=r"^not JSON: 'Ollama is running'$"):
        answer(b"Ollama is running").json()
    with pytest.raises(ProbeFailure, match=r"^not JSON: empty body$"):
        answer(b"").json()
    with pytest.raises(ProbeFailure, match="expected an object"):
        answer(b"[1, 2]").json_object()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"error":"batch size 33 > maximum allowed batch size 32","error_type":"validation"}', "HTTP 413: batch size 33 > maximum allowed batch size 32"),
        (b'{"detail":"Not Found"}', "HTTP 413: Not Found"),
        (b'{"error":{"message":"rate limited","type":"x"}}', "HTTP 413: rate limited"),
        (b"<html><body>Request Entity Too Large</body></html>", "HTTP 413"),
        (b"", "HTTP 413"),
    ],
)
def test_error_status_words(body: bytes, words: str) -> None:
    failure = answer(body, 413).failure()
    assert failure.words == words
    assert (failure.status_code, failure.latency_ms, failure.state) == (413, 1.5, ProbeState.DOWN)


def test_ollama_models_marks_loaded_ones_with_their_memory() -> None:
    tags = {"models": [{"name": "a:1", "size": 10, "details": {"parameter_size": "8B", "quantization_level": "Q8_0"}}, {"name": "b:2", "size": 20}]}
    ps = {"models": [{"name": "b:2", "size": 30, "size_vram": 25, "context_length": 8192, "expires_at": "2025-01-01T00:00:00Z"}]}
    models = parse_ollama_models(tags, ps)
    assert models == (
        ServedModel("b:2", loaded=True, size_bytes=30, gpu_bytes=25, context_length=8192, expires_at="2025-01-01T00:00:00Z"),
        ServedModel("a:1", loaded=False, size_bytes=10, parameter_size="8B", quantization="Q8_0"),
    )


def test_ollama_models_without_ps_do_not_claim_anything_is_unloaded() -> None:
    models = parse_ollama_models({"models": [{"name": "a:1"}]}, None)
    assert models == (ServedModel("a:1", loaded=None),)
    assert parse_ollama_models(None, None) is None


def test_ollama_models_ignore_malformed_entries() -> None:
    assert parse_ollama_models({"models": [None, {"size": 3}, {"name": "ok", "size": "big"}]}, {"models": "x"}) == (
        ServedModel("ok", loaded=None, size_bytes=None),
    )


def test_tei_info_keeps_reported_limits_only() -> None:
    extras = parse_tei_info({"model_id": "m", "version": "1.8.2", "max_client_batch_size": 32, "max_batch_requests": None, "model_type": {"reranker": {}}})
    assert (extras.model, extras.version) == ("m", "1.8.2")
    assert extras.details == {"max_client_batch_size": 32, "model_type": "reranker"}
    assert parse_tei_info("nonsense").details == {}


def test_openai_models() -> None:
    assert openai_models({"data": [{"id": "a", "max_model_len": 4096}, {"nope": 1}]}) == (ServedModel("a", context_length=4096),)
    assert openai_models({"object": "list"}) is None


@pytest.mark.parametrize(
    ("doc", "state", "error"),
    [
        ({"status": "ok"}, ProbeState.UP, None),
        ({"status": "healthy", "model": "m"}, ProbeState.UP, None),
        ({"status": "loading"}, ProbeState.DEGRADED, 'status="loading"'),
        ({"status": "error"}, ProbeState.DOWN, 'status="error"'),
        ({"status": "warming_up"}, ProbeState.DEGRADED, 'status="warming_up"'),
        ({"status": False}, ProbeState.DEGRADED, "status=false"),
        ({"ready": False}, ProbeState.DEGRADED, "ready=false"),
        ({"model_loaded": False, "status": "ok"}, ProbeState.DEGRADED, "model_loaded=false"),
        (["ok"], ProbeState.UP, None),
    ],
)
def test_free_form_health_bodies(doc: object, state: ProbeState, error: str | None) -> None:
    outcome = Outcome()
    judge_health_json(doc, outcome)
    assert (outcome.state, outcome.error) == (state, error)


# -- config -------------------------------------------------------------------------------------


def test_probe_config_defaults_per_preset() -> None:
    configured = configured_probes(
        probes(
            """
            [[probes]]
            name = "ollama"
            kind = "ollama"

            [[probes]]
            name = "parser"
            kind = "omniparser"
            url = "http://127.0.0.1:9989"

            [[probes]]
            name = "db"
            kind = "postgres"
            url = "postgresql://app:s3cret@127.0.0.1"

            [[probes]]
            name = "status"
            kind = "http-json"
            url = "https://gpu-box.lan/status"
            expect_status = 200
            json_field = "state"
            expect_value = "serving"
            verify_tls = false
            interval = 10
            timeout = 3.5
            slow_ms = 250
            """
        )
    )
    ollama, parser, db, status = configured.enabled
    assert (ollama.url, ollama.interval, ollama.timeout, ollama.slow_ms) == ("http://127.0.0.1:11434", 2.0, 2.0, 1000.0)
    assert (parser.slow_ms, parser.timeout) == (3000.0, 6.0)  # OmniParser parses one image at a time: busy is not down
    assert db.url == "postgresql://app:s3cret@127.0.0.1:5432"
    assert db.display_url == "postgresql://app:***@127.0.0.1:5432"
    assert "s3cret" not in repr(db)
    assert (status.expect_status, status.json_field, status.expect_value, status.verify_tls) == ((200,), "state", "serving", False)
    assert (status.interval, status.timeout, status.slow_ms) == (10.0, 3.5, 250.0)
    assert all(spec.origin == "config" for spec in configured.enabled)


def test_busy_services_time_out_after_their_slow_threshold() -> None:
    for name, preset in PRESETS.items():
        slow_ms = preset.slow_ms or presets.DEFAULT_SLOW_MS
        assert slow_ms < (preset.timeout_s or presets.DEFAULT_TIMEOUT_S) * 1000, name
    configured = configured_probes(probes('[[probes]]\nname = "d"\nkind = "docling"\n[[probes]]\nname = "o"\nkind = "omniparser"\ntimeout = 4\n'))
    docling, omniparser = configured.enabled
    assert (docling.slow_ms, docling.timeout) == (3000.0, 6.0)
    assert (omniparser.slow_ms, omniparser.timeout) == (3000.0, 4.0)  # the user's timeout, still above the threshold


def test_disabled_probe_needs_no_url() -> None:
    configured = configured_probes(probes('[[probes]]\nname = "ollama"\nenabled = false\n'))
    assert configured.enabled == ()
    assert [d.name for d in configured.disabled] == ["ollama"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('name = "a"\nkind = "olama"', "config.toml: probes[0]: kind: unknown probe kind 'olama' (expected one of: http, http-json"),
        ('name = "a"', 'config.toml: probes[0]: url: required for kind "http"'),
        ('name = "a"\nkind = "ollama"\nurl = "localhost:11434"', "must start with http:// or https:// (e.g. http://127.0.0.1:11434)"),
        ('name = "a"\nkind = "tcp"\nurl = "tcp://db"', "url: 'tcp://db' needs a port (tcp://host:port)"),
        ('name = "a"\nkind = "tcp"\nurl = "http://db:5432"', "must start with tcp://"),
        ('name = "a"\nurl = "http://"', "url: 'http://' names no host"),
        ('name = "a"\nurl = "http://x:99999/"', "url: 'http://x:99999/' is not a valid URL"),
        ('name = "a"\nurl = "http://x/"\njson_field = "a"', 'probes[0]: json_field: only used with kind = "http-json"'),
        ('name = "a"\nkind = "ollama"\nexpect_status = 200', 'expect_status: only used with kind = "http" or "http-json"'),
        ('name = "a"\nkind = "http-json"\nurl = "http://x/"\nexpect_value = 1', "expect_value: needs json_field"),
        ('name = "a"\nkind = "http-json"\nurl = "http://x/"\njson_field = "a..b"', "json_field: empty step in 'a..b'"),
        ('name = "a"\nurl = "http://x/"\ninterval = 0.1', "probes[0].interval: expected float >= 0.5"),
        ('name = "a"\nurl = "http://x/"\ntimeout = 0', "probes[0].timeout: expected float > 0"),
        ('name = "a"\nurl = "http://x/"\nexpect_status = [200, 700]', "probes[0].expect_status[1]: expected int <= 599"),
        ('name = "a"\nurl = "http://x/"\nexpected_status = 200', "probes[0].expected_status: unknown key (expected one of: name, kind, url"),
        ('name = " a"\nurl = "http://x/"', "probes[0]: name: ' a' must not be blank"),
        ('url = "http://x/"', "probes[0].name: required key is missing"),
        ('name = "a"\nurl = "http://x/"\nslow_ms = 2000', "probes[0]: slow_ms: 2000 ms is not below the timeout (2 s): lower slow_ms or raise timeout"),
        ('name = "a"\nkind = "vllm"\ntimeout = 1\nslow_ms = 1500', "probes[0]: slow_ms: 1500 ms is not below the timeout (1 s)"),
        ('name = "a"\nkind = "omniparser"\nslow_ms = 6000', "probes[0]: slow_ms: 6000 ms is not below the timeout (6 s)"),
    ],
)
def test_probe_config_errors_are_one_precise_line(toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        probes("[[probes]]\n" + toml)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text


def test_duplicate_probe_names() -> None:
    with pytest.raises(ConfigError, match=r"^probes\[2\]\.name: 'a' is already the name of probes\[0\]$"):
        configured_probes(probes('[[probes]]\nname="a"\nkind="ollama"\n[[probes]]\nname="b"\nkind="vllm"\n[[probes]]\nname="a"\nkind="tei"\n'))
