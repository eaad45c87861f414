"""Config errors are one line naming the file, the key and what was expected."""

from pathlib import Path

import pytest

from spark_tui.models.settings import Config, ConfigError

from spark_tui.config import default_config_path, load_config, parse_config, resolve_config_path


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[dashboard]\ninterval = "fast"', "c.toml: dashboard.interval: expected float, got str"),
        ("[dashboard]\nintervl = 1", "c.toml: dashboard.intervl: unknown key (expected one of: interval, history_seconds, theme)"),
        ("[dashboard]\ninterval = 0", "c.toml: dashboard.interval: expected float >= 0.1"),
        ("dashboard = 3", "c.toml: dashboard: expected a table, got int"),
        ("[dashboard\n", "c.toml: invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 11)"),
    ],
)
def test_errors_are_precise(toml, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(toml, source="c.toml")
    assert str(caught.value) == message


def test_unknown_top_level_table_lists_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        parse_config("[dashbord]\n", source="c.toml")
    assert str(caught.value).startswith("c.toml: dashbord: unknown key (expected one of: dashboard")


def test_valid_config_and_defaults():
    config = parse_config("[dashboard]\ninterval = 2\ntheme = 'ansi-dark'\n")
    assert config.dashboard.interval == 2.0 and config.dashboard.theme == "ansi-dark"
    assert config.dashboard.history_seconds == 300
    assert Config().dashboard.interval == 1.0


def test_missing_default_file_gives_defaults_but_named_file_is_an_error(tmp_path: Path):
    assert load_config(tmp_path / "nope.toml") == Config()
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", required=True)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, required=True)


def test_unreadable_file(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError) as caught:
        load_config(blocker / "config.toml", required=True)
    assert str(caught.value) == f"{blocker / 'config.toml'}: cannot read config file: Not a directory"


def test_path_precedence_flag_then_env_then_xdg():
    env = {"SPARK_TUI_CONFIG": "/e.toml", "XDG_CONFIG_HOME": "/x"}
    assert resolve_config_path("/f.toml", env) == (Path("/f.toml"), True)
    assert resolve_config_path(None, env) == (Path("/e.toml"), True)
    assert resolve_config_path(None, {"XDG_CONFIG_HOME": "/x"}) == (Path("/x/spark-tui/config.toml"), False)
    assert default_config_path({}).parts[-2:] == ("spark-tui", "config.toml")


def test_bench_warmup_timeout_reaches_the_plan():
    from spark_tui.core.bench.plan import plan_from_settings

    config = parse_config("[bench]\nwarmup_timeout = 30\n")
    plan = plan_from_settings(config.bench, "embed", "tei", "http://127.0.0.1:8080")
    assert plan.warmup_timeout_s == 30.0
    assert plan_from_settings(Config().bench, "embed", "tei", "http://127.0.0.1:8080").warmup_timeout_s == 120.0
    with pytest.raises(ConfigError, match="bench.warmup_timeout"):
        parse_config("[bench]\nwarmup_timeout = 0\n")


def test_the_theme_list_is_textuals_own():
    from textual.theme import BUILTIN_THEMES as TEXTUAL_THEMES

    from spark_tui.config import BUILTIN_THEMES

    assert sorted(BUILTIN_THEMES) == sorted(TEXTUAL_THEMES)  # an upgrade that adds or drops one shows here


def test_an_unknown_theme_is_refused_when_the_file_is_read():
    with pytest.raises(ConfigError) as caught:
        parse_config('[dashboard]\ntheme = "neon"', source="c.toml")
    assert str(caught.value).startswith("c.toml: dashboard.theme: unknown theme 'neon' (choose one of: ansi-dark, ansi-light, ")
    assert parse_config('[dashboard]\ntheme = "nord"').dashboard.theme == "nord"
