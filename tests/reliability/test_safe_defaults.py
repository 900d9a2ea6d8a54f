"""Safe defaults: credentials in URLs are redacted everywhere a run writes or logs.

The corpus holds a headed file, a JSON feed and an HTML page whose URLs carry
`user:TOKEN@`, and a file that fits no layout whose quarantine detail quotes such a
URL. After a real run the token is in no Parquet cell, no run manifest, no line the
run printed, and nowhere in Prefect's storage or database. (Input paths that try to
leave the input folder are tested in test_fuzz_parsers.py.)
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tasks.ingest
from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from newsflow.lake import Lake
from newsflow.redact import MASK, redact_authority, redact_credentials, redact_url
from tasks.ingest import ingest_files
from tasks.urls import canonical_url
from tests.prefect_server import PrefectServer
from tests.reliability.corpus import CREDENTIAL_FILES, TOKEN
from tests.reliability.lakes import Run


def cells_holding(path: Path, needle: str) -> list[str]:
    """Columns of a Parquet file with a value containing `needle` in any case (nested ones
    too): the HTML parser lower-cases the URL it found, token included."""
    table = pq.read_table(path)
    return [n for n in table.column_names if needle.lower() in str(table[n].to_pylist()).lower()]


@pytest.mark.flow
@pytest.mark.slow
def test_no_credential_reaches_the_lake_the_logs_or_prefect(
    prefect_server: PrefectServer, reference: tuple[Path, Run]
) -> None:
    lake, run = reference
    ingested = Lake(lake).scan("ingested").collect()
    urls = ingested.filter(ingested["source_file"].str.starts_with("creds/"))["url"].to_list()
    assert len(urls) == 3  # the headed file, the JSON feed and the page kept their URLs
    assert all(f"{MASK}@" in url for url in urls)
    quarantined = Lake(lake).scan("quarantine").collect()
    assert "creds/unknown.txt" in quarantined["source_file"].to_list()

    leaks = [f"{p}: {cells_holding(p, TOKEN)}" for p in lake.rglob("*.parquet")]
    leaks = [leak for leak in leaks if not leak.endswith(": []")]
    token = TOKEN.lower().encode()
    leaks += [str(p) for p in lake.rglob("*") if p.is_file() and token in p.read_bytes().lower()]
    assert leaks == []
    assert TOKEN.lower() not in run.output.lower()
    stored = [p for home in prefect_server.homes for p in home.rglob("*") if p.is_file()]
    assert stored, "Prefect stored nothing: the search below would prove nothing"
    assert [p for p in stored if token in p.read_bytes().lower()] == []
    assert TOKEN.lower() not in prefect_server.log.read_text().lower()


def credential_rows(root: Path) -> tuple[list[str], list[str], list[str]]:
    """The URLs of the ingested credential files, the details of their quarantine rows,
    and every ingested cell as text, as the shipped ingest (`ingest_files`) writes them."""
    for name, text in CREDENTIAL_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    files, rejected = list_inputs(root)
    assert rejected == []
    [batch] = plan_batches(files, batch_size=100, max_bytes=1 << 30)
    result = ingest_files(batch, root, PipelineConfig(), "run-creds")
    cells = [str(value) for row in result.ingested.iter_rows() for value in row]
    return result.ingested["url"].to_list(), result.quarantined["detail"].to_list(), cells


def test_ingest_redacts_the_token_that_would_otherwise_reach_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end-to-end check above can only fail if the token reaches ingest's output:
    with redaction switched off it does, in every URL and the quarantine detail."""
    urls, details, cells = credential_rows(tmp_path / "redacted")
    assert len(urls) == 3
    assert len(details) == 1
    leaked = [text for text in cells + details if TOKEN.lower() in text.lower()]
    assert leaked == []

    monkeypatch.setattr(tasks.ingest, "redact_url", lambda url: url)
    monkeypatch.setattr(tasks.ingest, "redact_credentials", lambda text: text)
    urls, details, _ = credential_rows(tmp_path / "unredacted")
    # The HTML parser lower-cases the URL it found: the checks above ignore case.
    assert all(TOKEN.lower() in text.lower() for text in urls + details), urls + details


# User info as urllib reads it: anything up to the first "/", "?" or "#" ("[" and "]"
# would make the host an invalid IPv6 literal, which is no URL at all).
URL_USERINFO = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="/?#[]"),
    min_size=1,
    max_size=20,
)
# In running text a URL also ends at white space.
TEXT_USERINFO = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="/?#[] \t\n\r\f\v"),
    min_size=1,
    max_size=20,
)
SCHEMES = st.sampled_from(["https", "http", "ftp", "HTTPS", "git+ssh", ""])
RESTS = st.sampled_from(["example.com/a", "example.com:8080/", "h?q=1", "h#f", "example.com"])


def with_credentials(scheme: str, userinfo: str, rest: str) -> str:
    return f"{scheme}{':' if scheme else ''}//{userinfo}@{rest}"


@settings(max_examples=100, deadline=None)
@given(user=URL_USERINFO, password=URL_USERINFO, scheme=SCHEMES, rest=RESTS)
def test_a_redacted_url_keeps_no_user_or_password_and_the_same_page(
    user: str, password: str, scheme: str, rest: str
) -> None:
    url = with_credentials(scheme, f"{user}:{password}", rest)
    redacted = redact_url(url)
    assert redacted == with_credentials(scheme, MASK, rest)
    assert redact_url(redacted) == redacted  # redacting twice changes nothing
    # The host survives, and with it the canonical URL (which drops credentials anyway);
    # user info that urllib refuses (NFKC turns "℅" into "c/o") is simply gone.
    canonical, flag = canonical_url(url)
    if flag is None:
        assert canonical_url(redacted) == (canonical, None)


@settings(max_examples=100, deadline=None)
@given(
    user=TEXT_USERINFO,
    password=TEXT_USERINFO,
    scheme=SCHEMES,
    rest=RESTS,
    before=st.sampled_from(["", "see ", "links to ", "no known layout starts '"]),
)
def test_redacted_text_keeps_no_user_or_password(
    user: str, password: str, scheme: str, rest: str, before: str
) -> None:
    text = f"{before}{with_credentials(scheme, f'{user}:{password}', rest)} end"
    redacted = redact_credentials(text)
    assert redacted == f"{before}{with_credentials(scheme, MASK, rest)} end"
    assert redact_credentials(redacted) == redacted


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cms:s3cret@harbour.example.net", f"{MASK}@harbour.example.net"),
        ("token@news.example.org:8443", f"{MASK}@news.example.org:8443"),
        ("The Harbour Gazette", "The Harbour Gazette"),
        ("News@Home", "News@Home"),  # no host: a name with an at sign
        ("Follow @gazette on example.social", "Follow @gazette on example.social"),
        (None, None),
    ],
)
def test_a_site_name_that_is_an_authority_loses_its_user_info(
    name: str | None, expected: str | None
) -> None:
    """HTML extraction names a page's site by its URL's host, user info included."""
    assert redact_authority(name) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?x=1#f",
        "https://example.com/@user",  # an @ in the path is not a credential
        "mailto:desk@example.com",
        "javascript:alert(1)",
        "",
    ],
)
def test_urls_without_credentials_are_left_alone(url: str) -> None:
    assert redact_url(url) == url
