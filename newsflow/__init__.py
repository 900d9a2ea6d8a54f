"""newsflow: raw news-article files -> clean, deduplicated, enriched Parquet."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newsflow")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

from newsflow import log_filters

log_filters.install()
