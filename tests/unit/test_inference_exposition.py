"""The exposition reader: the Prometheus parser fed only the wanted families, each engine's text shape."""

import math
import time

import pytest

from servers.inference_servers import (
    LlamaCppEngine,
    TeiEngine,
    TritonEngine,
    VllmEngine,
    filler_families,
)
from spark_tui.core.inference.engines import LLAMACPP, TEI, TRITON, VLLM
from spark_tui.core.inference.exposition import (
    MAX_TEXT_CHARS,
    BlockCache,
    ExpositionError,
    check_exposition,
    parse_families,
    parse_page,
    prefilter,
)


def vllm_page(engines: int = 1) -> str:
    engine = VllmEngine(engines=engines)
    engine.set_load(running=3, waiting=1, kv_usage=0.25)
    engine.add_tokens(prompt=1200, generation=345)
    engine.finish_request(ttft=0.2, itls=[0.03] * 10, e2e=1.1, prompt=1200)
    return engine.render().decode()


def test_only_the_wanted_families_reach_the_result():
    families = parse_families(vllm_page(), VLLM.prefixes)
    assert "vllm:prompt_tokens" in families  # a counter's family name has no _total
    assert "process_cpu_seconds" not in families and "python_gc_objects_collected" not in families
    assert "vllm:request_prompt_tokens" not in families  # a histogram the figures do not read
    assert set(families) <= {name[:-6] if name.endswith("_total") else name for name in VLLM.prefixes} | set(
        VLLM.prefixes)


def test_counter_gauge_and_histogram_values_as_vllm_wrote_them():
    families = parse_families(vllm_page(), VLLM.prefixes)
    prompt = families["vllm:prompt_tokens"]
    assert prompt.type == "counter"
    (series,) = prompt.series
    assert dict(series.labels) == {"model_name": "meta-llama/Llama-3.1-8B-Instruct", "engine": "0"}
    assert series.value == 1200
    assert series.created is not None and series.created > 1e9  # prometheus_client's _created stamp
    assert families["vllm:kv_cache_usage_perc"].series[0].value == 0.25
    (ttft,) = families["vllm:time_to_first_token_seconds"].histograms
    bounds = [bound for bound, _ in ttft.buckets]
    assert bounds == sorted(bounds) and math.isinf(bounds[-1])
    assert dict(ttft.buckets)[0.25] == 1 and dict(ttft.buckets)[0.1] == 0
    assert ttft.count == 1 and ttft.sum == pytest.approx(0.2)
    assert ttft.created == series.created or ttft.created > 1e9
    assert "le" not in dict(ttft.labels)
    assert not any(name.endswith("_created") for name in families)  # folded into their owners


def test_prefilter_keeps_help_and_type_lines_of_kept_families_only():
    text = (
        "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
        "# HELP b Other.\n# TYPE b gauge\nb 2\n"
        "# HELP ab_x Also starts with a.\n# TYPE ab_x gauge\nab_x 3\n"
    )
    kept = prefilter(text, ("a_",))
    assert kept.splitlines() == ["# HELP a_total A.", "# TYPE a_total counter", "a_total 1"]
    assert set(parse_families(text, ("a",))) == {"a", "ab_x"}  # a prefix, not a name: harmless extras


def test_llama_cpp_text_with_cpp_number_formatting():
    engine = LlamaCppEngine()
    engine.generate(prompt=1_234_567, prompt_ms=2500.9, predicted=321, predicted_ms=6420.0)
    text = engine.render().decode()
    assert "llamacpp:prompt_tokens_total 1.23457e+06" in text  # what C++'s ostream writes
    families = parse_families(text, LLAMACPP.prefixes)
    assert families["llamacpp:prompt_tokens"].series[0].value == 1_234_570.0
    assert families["llamacpp:tokens_predicted_seconds"].series[0].value == pytest.approx(6.42)
    assert families["llamacpp:requests_processing"].type == "gauge"


def test_rust_exporter_text_counters_without_total_and_blank_lines():
    engine = TeiEngine()
    engine.embed(inputs=[7, 300], duration=0.0421)
    engine.embed(inputs=[12], duration=0.013, method="single")
    engine.gauge("te_queue_size", 4)
    text = engine.render().decode()
    assert "\n\n# TYPE te_request_success counter\n" in text
    assert 'le="0.000015000000000000002"' in text  # Rust's f64 Display, no exponent
    families = parse_families(text, TEI.prefixes)
    success = families["te_request_success"]
    assert success.type == "counter"
    assert sorted(s.value for s in success.series) == [1, 1]
    (length,) = families["te_request_input_length"].histograms
    assert length.sum == 319 and length.count == 3
    assert families["te_queue_size"].series[0].value == 4


def test_triton_text():
    engine = TritonEngine()
    engine.infer(duration_s=0.5, first_response_s=0.04)
    families = parse_families(engine.render().decode(), TRITON.prefixes)
    assert families["nv_inference_request_duration_us"].series[0].value == 500_000
    (histogram,) = families["nv_inference_first_response_histogram_ms"].histograms
    assert dict(histogram.labels) == {"model": "ensemble", "version": "1"}
    assert dict(histogram.buckets)[50.0] == 1
    kv = {dict(s.labels)["kv_cache_block_type"]: s.value for s in families["nv_trt_llm_kv_cache_block_metrics"].series}
    assert kv["max"] == 6239


def test_label_values_stay_plain_text():
    text = '# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="a \\"b\\"\\\\c\\nd ✓",engine="0"} 2\n'
    (series,) = parse_families(text, VLLM.prefixes)["vllm:num_requests_running"].series
    assert dict(series.labels)["model_name"] == 'a "b"\\c\nd ✓'


@pytest.mark.parametrize("body", [
    "vllm:num_requests_running{ 3 oops\n",
    "vllm:num_requests_running{model_name=\"x\"} three\n",
    "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 1 2 3 4 5\x00\n",
])
def test_garbage_in_a_wanted_family_is_one_line_error(body):
    with pytest.raises(ExpositionError) as caught:
        parse_families(body, VLLM.prefixes)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("not Prometheus exposition")
    assert "vllm:num_requests_running" in message


def test_a_bad_line_is_shown_escaped_and_cut():
    body = "vllm:num_requests_running{\x1b[31m" + "x" * 500 + "\n"
    with pytest.raises(ExpositionError) as caught:
        parse_families(body, VLLM.prefixes)
    message = str(caught.value)
    assert "\x1b" not in message and "\\x1b" in message
    assert len(message) < 120


@pytest.mark.parametrize(("body", "says"), [
    ("", "empty"),
    ("   \n", "empty"),
    ("<html><body>502</body></html>", "HTML"),
    ('{"detail":"Not Found"}', "JSON"),
    ('[{"iter": 1}]', "JSON"),
    ("hello world\n", "not a metrics page"),
    ("404 page not found\n", "not a metrics page"),
])
def test_check_exposition_refuses_what_is_not_a_metrics_page(body, says):
    with pytest.raises(ExpositionError, match=says):
        check_exposition(body)


def test_check_exposition_accepts_any_real_metrics_page():
    check_exposition("# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 12\n")
    check_exposition("up 1\n")


def test_a_page_without_the_wanted_families_parses_to_nothing():
    assert parse_families("# TYPE go_goroutines gauge\ngo_goroutines 12\n", VLLM.prefixes) == {}


def test_too_large_a_page_is_refused_before_parsing():
    with pytest.raises(ExpositionError, match="too large"):
        parse_families("x" * (MAX_TEXT_CHARS + 1), VLLM.prefixes)


def test_several_megabyte_page_filtered_equals_whole_and_costs_far_less():
    page = (filler_families(3.0) + VllmEngine(engines=2).render()).decode()
    assert len(page) > 3_000_000

    started = time.process_time()
    filtered = parse_families(page, VLLM.prefixes)
    filtered_cpu = time.process_time() - started
    started = time.process_time()
    whole = parse_families(page)
    whole_cpu = time.process_time() - started

    assert filtered == {name: family for name, family in whole.items() if name in filtered}
    assert "vllm:generation_tokens" in filtered and "http_request_duration_highr_seconds" in whole
    assert filtered_cpu < whole_cpu / 5, (filtered_cpu, whole_cpu)


# -- the block cache ----------------------------------------------------------------------------


def reference(text: str, prefixes) -> dict:
    """What the parser gives for the whole filtered text at once (the pre-cache way), in our records."""
    from prometheus_client.parser import text_string_to_metric_families

    from spark_tui.core.inference import exposition

    parsed = {m.name: exposition._family(m) for m in text_string_to_metric_families(prefilter(text, prefixes))}
    return exposition._attach_created(parsed)


def loaded_vllm() -> VllmEngine:
    engine = VllmEngine()
    engine.set_load(running=2, waiting=0, kv_usage=0.1)
    engine.add_tokens(prompt=900, generation=100)
    engine.finish_request(ttft=0.2, itls=[0.03] * 5, e2e=1.0, prompt=900)
    return engine


def test_an_idle_page_rendered_again_reuses_every_block():
    engine = loaded_vllm()
    cache = BlockCache()
    first = parse_page(engine.render(), VLLM.prefixes, cache)
    parsed = cache.parsed_blocks
    assert parsed > 10 and cache.reused_blocks == 0
    again = engine.render()  # process/GC figures may have moved: those lines are filtered out
    second = parse_page(again, VLLM.prefixes, cache)
    assert cache.parsed_blocks == parsed and cache.unchanged_pages == 1  # its span is the same bytes
    assert second == first == reference(again.decode(), VLLM.prefixes)
    # another family moving between ours changes the span, not our blocks: each block is reused
    page = again.decode()
    cut = page.index("# HELP vllm:num_requests_waiting")
    moved = (page[:cut] + "# TYPE other_gauge gauge\nother_gauge 1\n" + page[cut:]).encode()
    third = parse_page(moved, VLLM.prefixes, cache)
    assert cache.parsed_blocks == parsed and cache.reused_blocks == parsed and third == first


def test_a_changed_block_is_parsed_again_and_only_it():
    engine = loaded_vllm()
    cache = BlockCache()
    parse_page(engine.render(), VLLM.prefixes, cache)
    parsed_before, reused_before = cache.parsed_blocks, cache.reused_blocks
    engine.add_tokens(prompt=250)  # vllm:prompt_tokens_total moves; nothing else we read does
    page = engine.render()
    families = parse_page(page, VLLM.prefixes, cache)
    assert cache.parsed_blocks - parsed_before == 1  # the prompt_tokens block (its _created block is unchanged)
    assert cache.reused_blocks > reused_before
    assert families["vllm:prompt_tokens"].series[0].value == 1150
    assert families == reference(page.decode(), VLLM.prefixes)


def test_a_restart_is_still_seen_through_the_cache():
    from spark_tui.core.inference.window import series_increases

    engine = loaded_vllm()
    cache = BlockCache()
    before = parse_page(engine.render(), VLLM.prefixes, cache)
    engine.restart()
    engine.add_tokens(prompt=40)
    after = parse_page(engine.render(), VLLM.prefixes, cache)
    old, new = before["vllm:prompt_tokens"].series[0], after["vllm:prompt_tokens"].series[0]
    assert new.value == 40 and new.created != old.created
    assert list(series_increases([before["vllm:prompt_tokens"], after["vllm:prompt_tokens"]]).values()) == [40]


def test_garbage_is_reported_even_after_good_pages_and_never_kept():
    engine = loaded_vllm()
    cache = BlockCache()
    good = engine.render()
    parse_page(good, VLLM.prefixes, cache)
    bad = good.replace(b"vllm:num_requests_waiting{", b"vllm:num_requests_waiting{oops ", 1)
    for _ in range(2):  # the second time too: a block that failed is not remembered
        with pytest.raises(ExpositionError, match="bad line 'vllm:num_requests_waiting"):
            parse_page(bad, VLLM.prefixes, cache)
    assert parse_page(good, VLLM.prefixes, cache) == reference(good.decode(), VLLM.prefixes)


@pytest.mark.parametrize("text", [
    # samples before any comment, a family repeated under one name, comments that are not HELP/TYPE
    ("a_x 1\n# HELP a_y y\n# TYPE a_y counter\na_y_total 2\n# a remark\na_y_total{k=\"v\"} 3\n"
     "# HELP a_y again\na_y_total{k=\"w\"} 4\n# TYPE a_z gauge\na_z 5\na_stray 6\n# TYPE a_y gauge\na_y 7\n"),
    # TYPE before HELP, a histogram split by an unrelated comment, CRLF line ends
    ("# TYPE a_h histogram\r\n# HELP a_h h\r\na_h_bucket{le=\"1\"} 1\r\n# other\r\na_h_bucket{le=\"+Inf\"} 2\r\n"
     "a_h_count 2\r\na_h_sum 1.5\r\n"),
])
def test_blocks_parse_as_the_whole_text_does(text):
    cache = BlockCache()
    assert parse_page(text.encode(), ("a_",), cache) == reference(text, ("a_",))
    assert parse_page(text.encode(), ("a_",), cache) == reference(text, ("a_",))  # and from the cache


def test_an_idle_page_is_known_unchanged_by_its_span_and_a_moved_one_is_not():
    engine = loaded_vllm()
    cache = BlockCache()
    assert cache.unchanged(engine.render(), VLLM.prefixes) is None  # nothing parsed yet
    first = parse_page(engine.render(), VLLM.prefixes, cache)
    again = engine.render()  # process/GC figures may move: they lie outside the wanted span
    assert cache.unchanged(again, VLLM.prefixes) == first == reference(again.decode(), VLLM.prefixes)
    assert cache.unchanged(again, TEI.prefixes) is None  # asked for other families: parse
    engine.add_tokens(generation=7)
    assert cache.unchanged(engine.render(), VLLM.prefixes) is None
    assert cache.unchanged_pages == 1


def test_a_page_that_failed_to_parse_is_never_answered_from_the_span_check():
    engine = loaded_vllm()
    cache = BlockCache()
    good = engine.render()
    parse_page(good, VLLM.prefixes, cache)
    bad = good.replace(b"vllm:num_requests_waiting{", b"vllm:num_requests_waiting{oops ", 1)
    for _ in range(2):
        assert cache.unchanged(bad, VLLM.prefixes) is None
        with pytest.raises(ExpositionError):
            parse_page(bad, VLLM.prefixes, cache)
    assert cache.unchanged(good, VLLM.prefixes) == reference(good.decode(), VLLM.prefixes)
