"""A run's PipelineConfig from its sources, and the two kinds of error a run is refused with.

Precedence, highest first: command-line flags, then `--config FILE` (TOML or YAML holding
PipelineConfig fields), then `NEWSFLOW_<FIELD>` environment variables, then the model's
defaults. Nested settings (`dedupe`, `quality`, ...) merge key by key, so a file setting
one threshold keeps the others.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from newsflow.config import PipelineConfig

ENV_PREFIX = "NEWSFLOW_"


class ParameterError(ValueError):
    """A run parameter that cannot work, in one line naming it: the CLI exits 2, a
    deployment run fails before reading anything."""


class EnvironmentProblem(RuntimeError):
    """The parameters are fine but the world is not ready (a lake that cannot be written,
    a server or scheduler that does not answer): one line, the CLI exits 1."""


def read_config_file(path: Path) -> dict[str, Any]:
    """PipelineConfig fields from a TOML or YAML file (told by its suffix)."""
    if not path.is_file():
        problem = "is a folder" if path.is_dir() else "does not exist"
        raise ParameterError(f"config: {path} {problem}")
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise ParameterError(f"config: {path} is neither .toml nor .yaml/.yml")
    text = path.read_text(encoding="utf-8")
    try:
        if suffix == ".toml":
            values: Any = tomllib.loads(text)
        else:
            import yaml

            values = yaml.safe_load(text) or {}
    except Exception as exc:  # TOMLDecodeError or yaml.YAMLError (yaml is imported lazily)
        raise ParameterError(f"config: {path} does not parse: {_first_line(exc)}") from None
    if not isinstance(values, dict):
        raise ParameterError(f"config: {path} must hold a table of PipelineConfig fields")
    _known_fields(values, f"config: {path}")
    return values


def environment_values(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`NEWSFLOW_<FIELD>` variables as PipelineConfig fields: JSON for a nested setting or
    a list (`[...]`, `{...}`), a comma-separated list for `enrichers`, else the text
    (pydantic converts numbers and booleans)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, field in PipelineConfig.model_fields.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        if raw.lstrip().startswith(("[", "{")):
            try:
                values[name] = json.loads(raw)
            except ValueError:
                raise ParameterError(
                    f"{ENV_PREFIX}{name.upper()}: not valid JSON: {raw[:60]!r}"
                ) from None
        elif "list" in str(field.annotation):
            values[name] = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            values[name] = raw
    return values


def merged(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Later layers win; nested tables merge key by key."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merged(out[key], value)
            else:
                out[key] = value
    return out


def config_from(values: Mapping[str, Any]) -> PipelineConfig:
    """The PipelineConfig of `values`; an invalid value is one ParameterError line
    naming the field (not pydantic's multi-line report)."""
    try:
        return PipelineConfig(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "config"
        got = error.get("input")
        shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
        raise ParameterError(f"{field}: {error['msg']}{shown}") from None


def load_config(
    flags: Mapping[str, Any],
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> PipelineConfig:
    """The run's PipelineConfig: `flags` (the fields set on the command line) over the
    file over the environment over the defaults."""
    from_file = read_config_file(config_file) if config_file else {}
    return config_from(merged(environment_values(environ), from_file, flags))


def _known_fields(values: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(values) - set(PipelineConfig.model_fields))
    if unknown:  # a typo would otherwise be ignored, silently
        raise ParameterError(f"{where}: unknown fields {', '.join(unknown)}")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
