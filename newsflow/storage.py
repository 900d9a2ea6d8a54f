"""Where input (and later the lake) lives: a local folder, or an fsspec URL such as
`s3://bucket/raw/`.

Credentials and the endpoint come only the standard way, never from the command line
and never from here into a log: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (or
`AWS_PROFILE`), `AWS_REGION`, and `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) for an
S3-compatible server. botocore reads them itself; the endpoint and region are also
passed on explicitly, so an older botocore or another fsspec backend sees the same.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema

from newsflow.redact import redact_credentials

# `scheme://` at the start: a URL for fsspec. One letter is a Windows drive, not a scheme.
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]+)://")
# A store that does not answer gives up within seconds, not botocore's default minute
# per attempt; reads of large objects still get a generous read timeout.
S3_CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 5,
    "read_timeout": 120,
    "retries": {"max_attempts": 3, "mode": "standard"},
}


def is_url(location: object) -> bool:
    """Whether `location` names object storage (any fsspec scheme but `file://`)."""
    if not isinstance(location, str):
        return False
    match = _URL.match(location)
    return match is not None and match["scheme"].lower() != "file"


def as_location(value: object) -> object:
    """A URL stays a string (`Path` would fold `s3://b/k` into `s3:/b/k`); anything else
    becomes a `Path` (a `file://` URL its path)."""
    if isinstance(value, str) and not is_url(value):
        return Path(value.removeprefix("file://"))
    if isinstance(value, str) and shown(value) != value:
        # It would be stored in run manifests and shown in logs and the Prefect UI.
        raise ValueError(
            "credentials in a storage URL are refused: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment instead"
        )
    return value


# A setting that is a local folder or an object-store URL. Text is taken as text first
# (in JSON, a path would fold the URL), then made a Path unless it is a URL. Forms (the
# Prefect UI's) show one text box.
Location = Annotated[
    str | Path,
    Field(union_mode="left_to_right"),
    AfterValidator(as_location),
    WithJsonSchema({"type": "string"}),
]


def location_key(location: Path | str) -> str:
    """A stable text for a location: the URL without a trailing slash, or the resolved
    local path."""
    return location.rstrip("/") if isinstance(location, str) else str(Path(location).resolve())


def resolved(location: Path | str) -> Path | str:
    """A URL as it is, a local path made absolute."""
    return location if is_url(location) else Path(location).resolve()


def within(location: Path | str, root: Path | str) -> bool:
    """Whether `location` is `root` or lies below it (a URL only below a URL)."""
    if is_url(location) or is_url(root):
        key, top = location_key(location), location_key(root)
        return is_url(location) and is_url(root) and (key == top or key.startswith(top + "/"))
    return Path(location).resolve().is_relative_to(Path(root).resolve())


def shown(location: Path | str) -> str:
    """A location as it may be printed or stored: user info in a URL masked."""
    return redact_credentials(str(location))


def storage_options(url: str) -> dict[str, Any]:
    """fsspec options for `url` from the standard environment (S3: endpoint, region,
    timeouts); no credentials are read here, the client's own chain finds them."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("s3", "s3a"):
        return {}
    client: dict[str, Any] = {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        client["endpoint_url"] = endpoint
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        client["region_name"] = region
    return {"client_kwargs": client, "config_kwargs": S3_CLIENT_CONFIG}


def delta_storage_options(url: str) -> dict[str, str]:
    """Storage options for `deltalake` (delta-rs) at `url`, from the environment.

    delta-rs finds the credentials itself (the same AWS_* variables or profile); this
    adds what it does not infer: plain HTTP for an `http://` endpoint, and commits by
    conditional PUT (`If-None-Match: *` on the log entry; docs/decisions/0002), named
    explicitly so no default can turn them into unsafe overwrites.
    """
    if url.split("://", 1)[0].lower() not in ("s3", "s3a"):
        return {}
    options = {"conditional_put": "etag"}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["AWS_ENDPOINT_URL"] = endpoint
        if endpoint.lower().startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    return options


def polars_storage_options(url: str) -> dict[str, str]:
    """Storage options for polars' own object-store reader (`scan_parquet`,
    `scan_delta`) at `url`: the same as delta-rs's (it finds credentials itself)."""
    return delta_storage_options(url)


def filesystem(url: str, **options: Any) -> tuple[Any, str]:
    """The fsspec filesystem for `url` and the path within it (`bucket/prefix`, no
    trailing slash). `options` add to the environment's (a lake's store turns the
    listings cache off)."""
    import fsspec.core  # only runs that read object storage pay for the import

    fs, path = fsspec.core.url_to_fs(url, **storage_options(url), **options)
    return fs, str(path).rstrip("/")


class StorageError(RuntimeError):
    """Object storage cannot be reached or refuses us; the message is one line."""


class MissingLocation(StorageError):
    """The bucket named by a URL does not exist."""


def problem(exc: BaseException) -> str:
    """One line saying what went wrong talking to object storage, without credentials
    (botocore's messages name the operation and the server's reason, not the key)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact_credentials(f"{type(exc).__name__}: {text}")


def check_readable(url: str) -> None:
    """Raise `StorageError` (one line) unless the folder at `url` can be listed: bad
    credentials, an unreachable endpoint or a missing bucket show before any work."""
    try:
        fs, path = filesystem(url)
        fs.ls(path, detail=False)
        return
    except FileNotFoundError:
        pass  # an empty prefix lists as missing on S3: only a missing bucket is an error
    except Exception as exc:  # botocore, aiohttp and fsspec raise many kinds
        raise StorageError(f"cannot read {shown(url)}: {problem(exc)}") from None
    bucket = path.split("/", 1)[0]
    try:
        missing = bucket == path or not fs.exists(bucket)
    except Exception as exc:
        raise StorageError(f"cannot read {shown(url)}: {problem(exc)}") from None
    if missing:
        raise MissingLocation(f"{shown(url)} does not exist")
