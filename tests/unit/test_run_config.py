"""A run's PipelineConfig from flags, a TOML/YAML file, NEWSFLOW_* variables and the
defaults, in that order of precedence; bad values are one line naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cli import _config, _parser
from newsflow.config import PipelineConfig
from newsflow.run_config import ParameterError, environment_values, load_config, merged


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("run.toml", 'batch_size = 7\nenrichers = ["counts_v2"]\n[dedupe]\nshingle_size = 4\n'),
        ("run.yaml", "batch_size: 7\nenrichers: [counts_v2]\ndedupe:\n  shingle_size: 4\n"),
    ],
)
def test_a_file_in_either_format_sets_fields_and_keeps_the_others(
    tmp_path: Path, name: str, text: str
) -> None:
    config = load_config({}, write(tmp_path / name, text), environ={})
    assert (config.batch_size, config.enrichers) == (7, ["counts_v2"])
    assert config.dedupe.shingle_size == 4
    assert config.dedupe.num_perm == PipelineConfig().dedupe.num_perm  # nested: key by key
    assert config.stop_after == PipelineConfig().stop_after


def test_flags_beat_the_file_which_beats_the_environment_which_beats_the_defaults(
    tmp_path: Path,
) -> None:
    environ = {
        "NEWSFLOW_BATCH_SIZE": "11",
        "NEWSFLOW_STOP_AFTER": "dedupe",
        "NEWSFLOW_ENRICHERS": "counts_v2,source_v2",
        "NEWSFLOW_LAKE_NAME": "from-env",
    }
    file = write(tmp_path / "run.toml", 'batch_size = 22\nlake_name = "from-file"\n')
    config = load_config({"lake_name": "from-flag"}, file, environ)
    assert config.lake_name == "from-flag"  # flag > file
    assert config.batch_size == 22  # file > environment
    assert config.stop_after == "dedupe"  # environment > default
    assert config.enrichers == ["counts_v2", "source_v2"]
    assert config.full_refresh is PipelineConfig().full_refresh  # default


def test_the_command_line_reads_its_file_and_flags_in_that_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "33")
    monkeypatch.setenv("NEWSFLOW_STOP_AFTER", "clean")
    file = write(tmp_path / "run.yaml", f"input_dir: {tmp_path}\nstop_after: dedupe\n")
    args = _parser().parse_args(["run", "--config", str(file), "--batch-size", "4"])
    config = _config(args)
    assert (config.batch_size, config.stop_after, config.input_dir) == (4, "dedupe", tmp_path)
    # Unset flags (no --full-refresh) leave the value below them.
    assert config.full_refresh is False
    assert config.lake_dir == Path("data/lake").resolve()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("batch_size = 0\n", "batch_size: Input should be greater than or equal to 1 (got 0)"),
        ("batchsize = 3\n", "unknown fields batchsize"),
        ("batch_size = \n", "does not parse"),
        ('stop_after = "later"\n', "stop_after: Input should be 'clean', 'dedupe' or 'enrich'"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_field(tmp_path: Path, text: str, line: str) -> None:
    with pytest.raises(ParameterError) as raised:
        load_config({}, write(tmp_path / "run.toml", text), environ={})
    assert line in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_or_unknown_kind_of_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        load_config({}, tmp_path / "none.toml", environ={})
    with pytest.raises(ParameterError, match="neither .toml nor .yaml"):
        load_config({}, write(tmp_path / "run.ini", "x=1"), environ={})


def test_environment_values_take_json_for_nested_settings() -> None:
    values = environment_values({"NEWSFLOW_DEDUPE": '{"seed": 3}', "OTHER": "x"})
    assert values == {"dedupe": {"seed": 3}}
    with pytest.raises(ParameterError, match="NEWSFLOW_DEDUPE: not valid JSON"):
        environment_values({"NEWSFLOW_DEDUPE": "{seed"})


nested = st.recursive(
    st.integers(), lambda inner: st.dictionaries(st.sampled_from("abc"), inner), max_leaves=6
)


@given(
    st.dictionaries(st.sampled_from("abc"), nested), st.dictionaries(st.sampled_from("abc"), nested)
)
def test_the_later_layer_wins_every_leaf(low: dict[str, Any], high: dict[str, Any]) -> None:
    out = merged(low, high)
    for key, value in high.items():
        if not isinstance(value, dict):
            assert out[key] == value
    for key, value in low.items():
        if key not in high:
            assert out[key] == value
