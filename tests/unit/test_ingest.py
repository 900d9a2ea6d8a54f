"""tasks.ingest: files of a batch -> ingested rows, quarantine rows and one manifest row each."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import zstandard

from newsflow.config import PipelineConfig
from newsflow.inputs import Batch, InputFile, content_hash, list_inputs, plan_batches
from newsflow.schema import FILE_MANIFEST, INGESTED, QUARANTINE
from tasks.decode import Unreadable
from tasks.ingest import IngestResult, doc_id, ingest_files, read_file

CONFIG = PipelineConfig()
MAPPINGS = CONFIG.mappings()
RUN = "run-0001"

HEADED = (
    "Ferry pier plan approved\n"
    "20230314\n"
    "https://news.example.org/harbour/ferry-pier\n"
    "The harbour board voted on Tuesday to build a second ferry pier.\n"
    "Work is due to start in the autumn.\n"
)
HEADED_RECORD = {
    "title": "Ferry pier plan approved",
    "date_raw": "20230314",
    "url": "https://news.example.org/harbour/ferry-pier",
    "body": "The harbour board voted on Tuesday to build a second ferry pier.\n\n"
    "Work is due to start in the autumn.",
}


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def write(root: Path, name: str, data: bytes | str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def one_batch(root: Path) -> Batch:
    files, rejected = list_inputs(root)
    assert rejected == []
    [batch] = plan_batches(files, batch_size=10_000, max_bytes=1 << 40)
    return batch


def run(
    root: Path, config: PipelineConfig = CONFIG, run_id: str = RUN
) -> tuple[IngestResult, Batch]:
    batch = one_batch(root)
    return ingest_files(batch, root, config, run_id), batch


def ingest_one(
    tmp_path: Path, name: str, data: bytes | str, config: PipelineConfig = CONFIG
) -> IngestResult:
    root = tmp_path / "raw"
    write(root, name, data)
    return run(root, config)[0]


def records(result: IngestResult) -> list[dict[str, object]]:
    return result.ingested.select("title", "date_raw", "url", "body").to_dicts()


def quarantined_rule(tmp_path: Path, name: str, data: bytes | str, **config: int) -> str:
    """Ingest one file that must be quarantined whole; return its rule."""
    result = ingest_one(tmp_path, name, data, PipelineConfig(**config))
    assert result.ingested.height == 0
    assert result.manifest.select("source_file", "status", "records").to_dicts() == [
        {"source_file": name, "status": "quarantined", "records": 0}
    ]
    [row] = result.quarantined.to_dicts()
    assert row["source_file"] == name
    assert row["record_index"] is None
    assert row["doc_id"] is None
    assert row["stage"] == "ingest"
    assert row["run_id"] == RUN
    assert row["detail"]
    return str(row["rule"])


# --- read_file -------------------------------------------------------------------------------


def test_read_file_returns_parsed_and_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", HEADED)
    parsed, encoding = read_file(path, 10_000, MAPPINGS)
    assert (parsed.layout, encoding, parsed.records) == ("headed", "utf-8", [HEADED_RECORD])


def test_read_file_rejects_a_file_larger_than_the_limit_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", HEADED)
    with pytest.raises(Unreadable) as excinfo:
        read_file(path, len(HEADED) - 1, MAPPINGS)
    assert excinfo.value.rule == "too_large"
    assert read_file(path, len(HEADED), MAPPINGS)[0].records == [HEADED_RECORD]


# --- every layout ----------------------------------------------------------------------------

NEWS_PLEASE = {
    "title": "Kiln Street mural unveiled",
    "date_publish": "2023-06-01 08:00:00",
    "url": "https://arts.example/kiln-street-mural",
    "maintext": "A mural covering the old tannery wall was unveiled on Thursday.\n\n"
    "It took four artists ten weeks to paint.",
    "authors": [],
}

LAYOUT_CASES = [
    ("headed.txt", HEADED, "headed", [HEADED_RECORD]),
    (
        "dated.txt",
        " date 2021-10-05 Bakery wins regional award\n\nThe bakery on Quay Row\n"
        "won best loaf.\n\n\nIts owner thanked the staff.\n",
        "dated",
        [
            {
                "title": "Bakery wins regional award",
                "date_raw": "2021-10-05",
                "url": None,
                "body": "The bakery on Quay Row won best loaf.\n\nIts owner thanked the staff.",
            }
        ],
    ),
    (
        "plain.txt",
        "Allotment waiting list falls\n\nThe waiting list is now under a year.\n\n"
        "New plots opened at Fen End.\n",
        "plain",
        [
            {
                "title": "Allotment waiting list falls",
                "date_raw": None,
                "url": None,
                "body": "The waiting list is now under a year.\n\nNew plots opened at Fen End.",
            }
        ],
    ),
    (
        "newsplease.json",
        json.dumps(NEWS_PLEASE, indent=2),
        "json",
        [
            {
                "title": "Kiln Street mural unveiled",
                "date_raw": "2023-06-01 08:00:00",
                "url": "https://arts.example/kiln-street-mural",
                "body": "A mural covering the old tannery wall was unveiled on Thursday.\n\n"
                "It took four artists ten weeks to paint.",
            }
        ],
    ),
    (
        "array.json",
        json.dumps(
            [
                {"headline": "Tide gauge fixed", "date": "2022-01-02", "body": "It works."},
                {"title": "Beach cleared", "link": "https://b.example", "text": "Done."},
            ]
        ),
        "json",
        [
            {
                "title": "Tide gauge fixed",
                "date_raw": "2022-01-02",
                "url": None,
                "body": "It works.",
            },
            {
                "title": "Beach cleared",
                "date_raw": None,
                "url": "https://b.example",
                "body": "Done.",
            },
        ],
    ),
    (
        "feed.jsonl",
        '{"title": "Morning edition", "body": "Fog on the coast."}\n'
        '{"title": "Evening edition", "body": "Fog lifted."}\n',
        "jsonl",
        [
            {
                "title": "Morning edition",
                "date_raw": None,
                "url": None,
                "body": "Fog on the coast.",
            },
            {"title": "Evening edition", "date_raw": None, "url": None, "body": "Fog lifted."},
        ],
    ),
    (
        "desk.csv",
        'title,date,url,body\nMill sold,2020-04-04,,"Sold to a trust.\n\nIt will reopen."\n',
        "csv",
        [
            {
                "title": "Mill sold",
                "date_raw": "2020-04-04",
                "url": None,
                "body": "Sold to a trust.\n\nIt will reopen.",
            }
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "layout", "expected"), LAYOUT_CASES, ids=[c[0] for c in LAYOUT_CASES]
)
def test_each_layout_is_ingested(
    tmp_path: Path, name: str, content: str, layout: str, expected: list[dict[str, object]]
) -> None:
    result = ingest_one(tmp_path, name, content)
    assert records(result) == expected
    assert result.ingested["layout"].to_list() == [layout] * len(expected)
    assert result.ingested["encoding"].to_list() == ["utf-8"] * len(expected)
    assert result.ingested["record_index"].to_list() == list(range(len(expected)))
    assert result.ingested["source_file"].to_list() == [name] * len(expected)
    assert result.quarantined.height == 0
    assert result.manifest.select("status", "records").to_dicts() == [
        {"status": "ingested", "records": len(expected)}
    ]


def test_html_file_is_ingested_as_html(tmp_path: Path) -> None:
    page = "<!DOCTYPE html>\n<html><head><title>Page</title></head><body>Hi</body></html>\n"
    result = ingest_one(tmp_path, "page.html", page)
    assert records(result) == [{"title": "Page", "date_raw": None, "url": None, "body": "Hi"}]
    assert result.ingested["layout"].to_list() == ["html"]
    assert result.quarantined.height == 0


# --- compression and encodings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "compress"),
    [("a.txt.gz", gz), ("a.txt.bz2", bz2.compress), ("a.txt.zst", zst)],
    ids=["gzip", "bz2", "zstd"],
)
def test_compressed_file_is_ingested_like_the_plain_one(
    tmp_path: Path, name: str, compress: Callable[[bytes], bytes]
) -> None:
    result = ingest_one(tmp_path, name, compress(HEADED.encode()))
    assert records(result) == [HEADED_RECORD]
    assert result.ingested.select("layout", "encoding", "source_file").row(0) == (
        "headed",
        "utf-8",
        name,
    )
    # the manifest counts the file as stored, not as decompressed
    [size] = result.manifest["size_bytes"].to_list()
    assert size == (tmp_path / "raw" / name).stat().st_size != len(HEADED.encode())


def test_compressed_jsonl_is_ingested(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"title": f"Item {i}", "body": "b"}) + "\n" for i in range(5))
    result = ingest_one(tmp_path, "wire.jsonl.gz", gz(lines.encode()))
    assert result.ingested["title"].to_list() == [f"Item {i}" for i in range(5)]
    assert set(result.ingested["layout"]) == {"jsonl"}


def test_cp1252_file_decodes_pound_sign(tmp_path: Path) -> None:
    data = (
        b"Stall fees cut to \xa3100 a month\n"
        b"20230607\n"
        b"https://market.example/fees\n"
        b"Traders at the covered market will pay \xa3100 a month from July.\n"
    )
    result = ingest_one(tmp_path, "fees.txt", data)
    [row] = result.ingested.to_dicts()
    assert row["encoding"] == "cp1252"
    assert row["title"] == "Stall fees cut to £100 a month"
    assert row["body"] == "Traders at the covered market will pay £100 a month from July."


def test_utf8_bom_json_is_ingested(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + json.dumps({"title": "Bom story", "body": "Caf\u00e9 opens."}).encode()
    result = ingest_one(tmp_path, "bom.json", data)
    assert result.ingested.select("layout", "encoding", "title", "body").row(0) == (
        "json",
        "utf-8-sig",
        "Bom story",
        "Café opens.",
    )


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_file_with_bom_is_ingested(tmp_path: Path, codec: str) -> None:
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    result = ingest_one(tmp_path, "wide.txt", bom + HEADED.encode(codec))
    assert records(result) == [HEADED_RECORD]
    assert result.ingested["encoding"].to_list() == ["utf-16"]


def test_crlf_file_is_ingested_like_lf(tmp_path: Path) -> None:
    result = ingest_one(tmp_path, "windows.txt", HEADED.replace("\n", "\r\n"))
    assert records(result) == [HEADED_RECORD]


# --- whole files quarantined -----------------------------------------------------------------


HOSTILE = [
    ("empty.txt", b"", "empty_file"),
    ("blank.txt", b"  \n\t\n\r\n   ", "empty_file"),
    ("bom-only.txt", b"\xef\xbb\xbf\n", "empty_file"),
    ("empty.txt.gz", gz(b""), "empty_file"),
    ("noise.bin", random.Random(11).randbytes(2048), "binary_content"),
    ("nul.txt", b"Title\n\n" + b"\x00" * 64 + b"\xff body", "binary_content"),
    ("ctrl.txt", b"Title\n\nBody \x01\x02\x03\x04 text\n", "binary_content"),
    ("cut.txt.gz", gz(HEADED.encode() * 20)[:60], "corrupt_compression"),
    ("cut.txt.bz2", bz2.compress(HEADED.encode() * 20)[:60], "corrupt_compression"),
    ("cut.txt.zst", zst(HEADED.encode() * 20)[:-6], "corrupt_compression"),
    ("fake.gz", b"\x1f\x8b not really gzip", "corrupt_compression"),
    ("broken.json", '{"title": "Unfinished", "body": "no closing', "invalid_json"),
    ("broken.jsonl", '{"title": \n{"body": \n', "invalid_json"),
    ("mystery.txt", "One single line that fits no layout", "unknown_layout"),
    ("people.csv", "name,age\nAda,36\n", "unknown_layout"),
]


@pytest.mark.parametrize(("name", "data", "rule"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_file_is_quarantined_whole(
    tmp_path: Path, name: str, data: bytes | str, rule: str
) -> None:
    assert quarantined_rule(tmp_path, name, data) == rule


def test_decompression_bomb_is_too_large(tmp_path: Path) -> None:
    bomb = gz(("Headline\n\n" + "word " * 400_000).encode())  # 2 MB of text, ~6 KB on disk
    assert len(bomb) < 20_000
    assert quarantined_rule(tmp_path, "bomb.txt.gz", bomb, max_file_bytes=100_000) == "too_large"


@pytest.mark.parametrize("compress", [bz2.compress, zst], ids=["bz2", "zstd"])
def test_other_compression_bombs_are_too_large(
    tmp_path: Path, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(("Headline\n\n" + "word " * 400_000).encode())
    assert quarantined_rule(tmp_path, "bomb.bin", bomb, max_file_bytes=100_000) == "too_large"


def test_raw_file_over_the_limit_is_too_large(tmp_path: Path) -> None:
    text = "Headline\n\n" + "A sentence of body text. " * 100
    assert quarantined_rule(tmp_path, "long.txt", text, max_file_bytes=1000) == "too_large"


def test_file_just_under_the_limit_is_ingested(tmp_path: Path) -> None:
    config = PipelineConfig(max_file_bytes=len(HEADED.encode()))
    result = ingest_one(tmp_path, "fits.txt.gz", gz(HEADED.encode()), config)
    assert records(result) == [HEADED_RECORD]


# --- records quarantined, the rest of the file kept ------------------------------------------


def test_jsonl_with_one_bad_line(tmp_path: Path) -> None:
    text = (
        '{"title": "Quay wall repaired", "body": "Masons finished on Friday."}\n'
        '{"title": "Broken line", "body": "never closed\n'
        '{"title": "Lifeboat launched", "body": "A yacht was towed in."}\n'
    )
    root = tmp_path / "raw"
    path = write(root, "wire/feed.jsonl", text)
    result, batch = run(root)
    h = content_hash(path)
    assert result.ingested.select("record_index", "title").rows() == [
        (0, "Quay wall repaired"),
        (2, "Lifeboat launched"),
    ]
    assert result.ingested["doc_id"].to_list() == [
        doc_id("wire/feed.jsonl", h, 0),
        doc_id("wire/feed.jsonl", h, 2),
    ]
    [bad] = result.quarantined.to_dicts()
    assert bad["rule"] == "invalid_json_line"
    assert bad["record_index"] == 1
    assert bad["doc_id"] == doc_id("wire/feed.jsonl", h, 1)
    assert (bad["source_file"], bad["stage"], bad["batch_id"]) == (
        "wire/feed.jsonl",
        "ingest",
        batch.batch_id,
    )
    assert result.manifest.select("status", "records").row(0) == ("ingested", 2)


def test_json_array_with_bad_records_keeps_the_good_ones(tmp_path: Path) -> None:
    data = [
        {"title": "Good first", "body": "Kept."},  # 0
        {"title": {"text": "a dict"}, "body": "x"},  # 1 wrong_type
        "not an object",  # 2
        {"title": "None", "maintext": "None", "url": "None"},  # 3 no_text
        {"slug": "x", "story": "y"},  # 4 unmapped_fields
        {"title": "Good last", "date_publish": "None", "url": "null", "maintext": "Kept too."},
        [1, 2, 3],  # 6
    ]
    result = ingest_one(tmp_path, "mixed.json", json.dumps(data))
    assert result.ingested.select("record_index", "title", "date_raw", "url", "body").rows() == [
        (0, "Good first", None, None, "Kept."),
        (5, "Good last", None, None, "Kept too."),
    ]
    assert result.quarantined.select("record_index", "rule").rows() == [
        (1, "wrong_type"),
        (2, "not_an_object"),
        (3, "no_text"),
        (4, "unmapped_fields"),
        (6, "not_an_object"),
    ]
    assert result.quarantined["doc_id"].null_count() == 0
    assert result.manifest.select("status", "records").row(0) == ("ingested", 2)


def test_file_whose_every_record_is_rejected_is_accounted_for(tmp_path: Path) -> None:
    result = ingest_one(tmp_path, "nothing.json", '[{"story": "x"}, 7]')
    assert result.ingested.height == 0
    assert result.quarantined.select("record_index", "rule").rows() == [
        (0, "unmapped_fields"),
        (1, "not_an_object"),
    ]
    assert result.manifest.select("status", "records").row(0) == ("ingested", 0)


# --- values kept raw for the clean stage -----------------------------------------------------


def test_javascript_url_is_ingested_raw(tmp_path: Path) -> None:
    text = "Win a prize today\n20230901\njavascript:alert(1)\nEnter the draw at the fete.\n"
    [row] = ingest_one(tmp_path, "js.txt", text).ingested.to_dicts()
    assert (row["layout"], row["url"], row["body"]) == (
        "headed",
        "javascript:alert(1)",
        "Enter the draw at the fete.",
    )


def test_future_date_is_ingested_raw(tmp_path: Path) -> None:
    text = "Time capsule sealed\n29991231\nhttps://e.example/capsule\nOpen it in 2999.\n"
    [row] = ingest_one(tmp_path, "future.txt", text).ingested.to_dicts()
    assert (row["layout"], row["date_raw"]) == ("headed", "29991231")


# --- listing the input folder ----------------------------------------------------------------


def test_symlink_outside_the_input_root_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "inside.txt", HEADED)
    secret = write(tmp_path / "elsewhere", "secret.txt", "Private notes\n\nNot for ingest.\n")
    os.symlink(secret, root / "leak.txt")
    files, rejected = list_inputs(root)
    assert [f.path for f in files] == ["inside.txt"]
    [rej] = rejected
    assert (rej.path, rej.rule) == ("leak.txt", "outside_input_root")
    assert str(secret.resolve()) in rej.detail


def test_relative_symlink_climbing_out_of_the_root_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(tmp_path, "outside.txt", HEADED)
    (root / "sub").mkdir(parents=True)
    os.symlink("../../outside.txt", root / "sub" / "up.txt")
    files, rejected = list_inputs(root)
    assert files == []
    assert [(r.path, r.rule) for r in rejected] == [("sub/up.txt", "outside_input_root")]


def test_symlink_inside_the_root_is_listed_under_its_own_name(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    target = write(root, "a.txt", HEADED)
    os.symlink(target, root / "b.txt")
    files, rejected = list_inputs(root)
    assert rejected == []
    assert [f.path for f in files] == ["a.txt", "b.txt"]
    assert files[0].content_hash == files[1].content_hash


def test_symlink_loop_and_broken_link_are_rejected_not_crashing(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "ok.txt", HEADED)
    os.symlink(root / "loop_b", root / "loop_a")
    os.symlink(root / "loop_a", root / "loop_b")
    os.symlink(root / "gone.txt", root / "dangling.txt")
    files, rejected = list_inputs(root)
    assert [f.path for f in files] == ["ok.txt"]
    assert sorted((r.path, r.rule) for r in rejected) == [
        ("dangling.txt", "unreadable_file"),
        ("loop_a", "unreadable_file"),
        ("loop_b", "unreadable_file"),
    ]


def test_directory_named_like_a_file_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    (root / "x.json").mkdir(parents=True)
    (root / "y.txt.gz").mkdir()
    write(root, "x.json/inner.json", '{"title": "Nested", "body": "Found."}')
    write(root, "real.txt", HEADED)
    result, batch = run(root)
    assert [f.path for f in batch.files] == ["real.txt", "x.json/inner.json"]
    assert result.manifest["status"].to_list() == ["ingested", "ingested"]
    assert result.ingested["source_file"].to_list() == ["real.txt", "x.json/inner.json"]


def test_hidden_files_and_folders_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, ".DS_Store", b"\x00\x01binary")
    write(root, ".cache/old.txt", HEADED)
    write(root, "sub/.partial.json", "{")
    write(root, "sub/story.txt", HEADED)
    files, rejected = list_inputs(root)
    assert ([f.path for f in files], rejected) == (["sub/story.txt"], [])


def test_listing_hashes_and_sizes_each_file(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    path = write(root, "a.txt", HEADED)
    [f] = list_inputs(root)[0]
    assert f == InputFile("a.txt", content_hash(path), len(HEADED.encode()))


def test_file_gone_or_replaced_by_a_folder_after_listing_is_unreadable(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "keep.txt", HEADED)
    write(root, "gone.txt", HEADED)
    write(root, "swapped.txt", HEADED)
    batch = one_batch(root)
    (root / "gone.txt").unlink()
    (root / "swapped.txt").unlink()
    (root / "swapped.txt").mkdir()
    result = ingest_files(batch, root, CONFIG, RUN)
    assert result.manifest.select("source_file", "status").rows() == [
        ("gone.txt", "quarantined"),
        ("keep.txt", "ingested"),
        ("swapped.txt", "quarantined"),
    ]
    assert result.quarantined.select("source_file", "rule").rows() == [
        ("gone.txt", "unreadable_file"),
        ("swapped.txt", "unreadable_file"),
    ]


# --- ids, lineage, batches, schema -----------------------------------------------------------


def test_doc_ids_are_stable_across_runs(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "feed.jsonl", "".join(f'{{"title": "Story {i}"}}\n' for i in range(4)))
    write(root, "one.txt", HEADED)
    first, batch1 = run(root, run_id="run-a")
    second, batch2 = run(root, run_id="run-b")
    assert batch1.batch_id == batch2.batch_id
    assert first.ingested["doc_id"].to_list() == second.ingested["doc_id"].to_list()
    assert set(first.ingested["run_id"]) == {"run-a"}
    assert set(second.ingested["run_id"]) == {"run-b"}
    ids = first.ingested["doc_id"].to_list()
    assert len(ids) == 5
    assert len(set(ids)) == 5  # a different record_index gives a different id


def test_doc_id_depends_on_path_content_and_index() -> None:
    base = doc_id("a.json", "hash1", 0)
    assert base == doc_id("a.json", "hash1", 0)
    assert len({base, doc_id("b.json", "hash1", 0), doc_id("a.json", "hash2", 0)}) == 3
    assert doc_id("a.json", "hash1", 1) != base
    assert doc_id("a.json", "hash1", 1) != doc_id("a.json", "hash11", 0)


def test_same_content_under_another_name_or_edited_gets_new_ids(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "a.txt", HEADED)
    write(root, "copy.txt", HEADED)
    [id_a, id_copy] = run(root)[0].ingested["doc_id"].to_list()
    assert id_a != id_copy
    write(root, "a.txt", HEADED + "One more line.\n")
    assert run(root)[0].ingested["doc_id"][0] != id_a


def test_lineage_columns_on_every_row(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "good.txt", HEADED)
    write(root, "bad.txt", b"")
    result, batch = run(root, run_id="run-lineage")
    assert (result.ingested.height, result.quarantined.height, result.manifest.height) == (1, 1, 2)
    for frame in (result.ingested, result.quarantined, result.manifest):
        assert frame.select("run_id", "batch_id").unique().rows() == [
            ("run-lineage", batch.batch_id)
        ]


def test_manifest_row_per_file_with_hash_and_size(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "a.txt", HEADED)
    write(root, "b.json", '[{"title": "x"}, {"title": "y"}, 3]')
    write(root, "c.bin", random.Random(5).randbytes(300))
    result, batch = run(root)
    assert result.manifest.select("source_file", "content_hash", "size_bytes").rows() == [
        (f.path, f.content_hash, f.size) for f in batch.files
    ]
    assert result.manifest.select("status", "records").rows() == [
        ("ingested", 1),
        ("ingested", 2),
        ("quarantined", 0),
    ]


def test_batches_are_ingested_independently(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    for i in range(5):
        write(root, f"story_{i}.txt", HEADED.replace("Ferry", f"Ferry {i}"))
    files, _ = list_inputs(root)
    batches = plan_batches(files, batch_size=2, max_bytes=1 << 30)
    assert [len(b.files) for b in batches] == [2, 2, 1]
    assert len({b.batch_id for b in batches}) == 3
    results = [ingest_files(b, root, CONFIG, RUN) for b in batches]
    for batch, result in zip(batches, results, strict=True):
        assert result.ingested["source_file"].to_list() == [f.path for f in batch.files]
        assert set(result.ingested["batch_id"]) == {batch.batch_id}
    titles = pl.concat([r.ingested for r in results])["title"].to_list()
    assert titles == [f"Ferry {i} pier plan approved" for i in range(5)]


def test_result_frames_follow_the_schema_contract(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "good.jsonl", '{"title": "a"}\nbroken\n')
    write(root, "bad.txt", b"")
    result, _ = run(root)
    assert result.ingested.schema == INGESTED
    assert result.quarantined.schema == QUARANTINE
    assert result.manifest.schema == FILE_MANIFEST
    assert (result.ingested.height, result.quarantined.height, result.manifest.height) == (1, 2, 2)


def test_empty_batch_gives_empty_frames_with_the_schema(tmp_path: Path) -> None:
    result = ingest_files(Batch("empty", ()), tmp_path, CONFIG, RUN)
    assert (result.ingested.height, result.quarantined.height, result.manifest.height) == (0, 0, 0)
    assert result.ingested.schema == INGESTED
    assert result.quarantined.schema == QUARANTINE
    assert result.manifest.schema == FILE_MANIFEST
