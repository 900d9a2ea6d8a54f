"""tasks.decode: decompression by magic number, bounded output, encoding detection."""

from __future__ import annotations

import bz2
import gzip
import random

import pytest
import zstandard

from tasks.decode import Unreadable, compression_of, decode_text, decompress

ARTICLE = (
    b"Harbour board approves new ferry pier\n"
    b"20230314\n"
    b"https://news.example.org/harbour/ferry-pier\n"
    b"The harbour board voted on Tuesday to build a second ferry pier.\n"
    b"Work is due to start in the autumn and take eighteen months.\n"
)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


COMPRESSORS = {"gzip": gz, "bz2": bz2.compress, "zstd": zst}


def rule_of(excinfo: pytest.ExceptionInfo[Unreadable]) -> str:
    return excinfo.value.rule


# --- compression_of -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_compression_of_names_each_format_by_magic(kind: str) -> None:
    assert compression_of(COMPRESSORS[kind](ARTICLE)) == kind


@pytest.mark.parametrize("data", [ARTICLE, b"", b"\x1f", b"BZ", b"(\xb5/", b"{}"])
def test_compression_of_raw_or_short_data_is_none(data: bytes) -> None:
    assert compression_of(data) is None


# --- decompress ------------------------------------------------------------------------------


def test_decompress_passes_raw_data_through() -> None:
    assert decompress(ARTICLE, 10_000) == (ARTICLE, None)


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_decompress_round_trips_each_format(kind: str) -> None:
    assert decompress(COMPRESSORS[kind](ARTICLE), 10_000) == (ARTICLE, kind)


def test_decompress_reads_every_gzip_member() -> None:
    data = gz(b"first half, ") + gz(b"second half")
    assert decompress(data, 1_000) == (b"first half, second half", "gzip")


def test_decompress_reads_every_zstd_frame() -> None:
    data = zst(b"first frame, ") + zst(b"second frame")
    assert decompress(data, 1_000) == (b"first frame, second frame", "zstd")


def test_decompress_reads_streamed_zstd_without_content_size() -> None:
    cobj = zstandard.ZstdCompressor().compressobj()
    data = cobj.compress(ARTICLE * 50) + cobj.flush()
    assert decompress(data, 100_000) == (ARTICLE * 50, "zstd")


def test_decompress_raw_at_limit_passes_and_one_byte_over_fails() -> None:
    assert decompress(b"x" * 64, 64)[0] == b"x" * 64
    with pytest.raises(Unreadable) as excinfo:
        decompress(b"x" * 65, 64)
    assert rule_of(excinfo) == "too_large"


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_decompress_output_at_limit_passes_and_one_byte_over_fails(kind: str) -> None:
    compress = COMPRESSORS[kind]
    assert decompress(compress(b"y" * 1000), 1000) == (b"y" * 1000, kind)
    with pytest.raises(Unreadable) as excinfo:
        decompress(compress(b"y" * 1001), 1000)
    assert rule_of(excinfo) == "too_large"


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_decompression_bomb_is_too_large_not_read_whole(kind: str) -> None:
    bomb = COMPRESSORS[kind](b"\0" * (8 << 20))  # 8 MiB of zeros, a few KiB compressed
    assert len(bomb) < 64 << 10
    with pytest.raises(Unreadable) as excinfo:
        decompress(bomb, 1 << 20)
    assert rule_of(excinfo) == "too_large"
    assert "1048576" in excinfo.value.detail


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
@pytest.mark.parametrize("keep", [0.25, 0.5, 0.9])
def test_truncated_compressed_data_is_corrupt(kind: str, keep: float) -> None:
    payload = random.Random(3).randbytes(20_000).hex().encode()  # incompressible-ish text
    data = COMPRESSORS[kind](payload)
    with pytest.raises(Unreadable) as excinfo:
        decompress(data[: int(len(data) * keep)], 1 << 20)
    assert rule_of(excinfo) == "corrupt_compression"
    assert excinfo.value.detail.startswith(kind)


def test_zstd_cut_inside_the_second_frame_is_corrupt() -> None:
    data = zst(ARTICLE) + zst(ARTICLE)
    with pytest.raises(Unreadable) as excinfo:
        decompress(data[:-4], 10_000)
    assert rule_of(excinfo) == "corrupt_compression"


@pytest.mark.parametrize(
    "data",
    [
        b"\x1f\x8b" + b"this is not a gzip header at all",
        b"BZh9" + b"garbage after a bzip2 magic number",
        b"\x28\xb5\x2f\xfd" + b"garbage after a zstd magic number",
    ],
    ids=["gzip", "bz2", "zstd"],
)
def test_garbage_after_magic_is_corrupt(data: bytes) -> None:
    with pytest.raises(Unreadable) as excinfo:
        decompress(data, 10_000)
    assert rule_of(excinfo) == "corrupt_compression"


def test_gzip_with_bad_crc_is_corrupt() -> None:
    data = bytearray(gz(ARTICLE))
    data[-8] ^= 0xFF  # the CRC32 in the trailer
    with pytest.raises(Unreadable) as excinfo:
        decompress(bytes(data), 10_000)
    assert rule_of(excinfo) == "corrupt_compression"


def test_gzip_with_trailing_garbage_is_corrupt() -> None:
    with pytest.raises(Unreadable) as excinfo:
        decompress(gz(ARTICLE) + b"trailing junk", 10_000)
    assert rule_of(excinfo) == "corrupt_compression"


def test_unreadable_carries_rule_and_detail() -> None:
    exc = Unreadable("some_rule", "what happened")
    assert (exc.rule, exc.detail, str(exc)) == (
        "some_rule",
        "what happened",
        "some_rule: what happened",
    )


# --- decode_text -----------------------------------------------------------------------------


def test_utf8_text_decodes_as_utf8() -> None:
    text = "Café owners in Zürich welcome the “new” rules — at last.\n"
    assert decode_text(text.encode()) == (text, "utf-8")


def test_stray_cp1252_pound_sign_decodes_as_cp1252() -> None:
    data = b"Council sets aside \xa3100 for each stall holder\n\nThe fund opens in May.\n"
    text, encoding = decode_text(data)
    assert encoding == "cp1252"
    assert "\xa3100" in text
    assert "£100" in text
    assert text == "Council sets aside £100 for each stall holder\n\nThe fund opens in May.\n"


def test_cp1252_smart_quotes_and_dashes_in_english_text() -> None:
    data = (
        b"The mayor said \x93we will listen to every trader\x94 \x96 and then left the hall. "
        b"Stall holders had asked the council for a meeting about the new fees since March, "
        b"and about forty of them came to the town hall on Thursday evening to hear the plan.\n"
    )
    text, encoding = decode_text(data)
    assert encoding == "cp1252"
    assert "said \u201cwe will listen to every trader\u201d \u2013 and then" in text


def test_latin1_accents_in_mostly_english_text_decode_as_cp1252() -> None:
    original = (
        "The caf\xe9 on Mill Street reopened on Monday after a fire in the kitchen. "
        "Its owner, Ren\xe9e Marsh, said the repairs cost about \xa34,000 and took "
        "most of the winter. Regulars queued outside before the doors opened at eight.\n"
    )
    assert decode_text(original.encode("latin-1")) == (original, "cp1252")


def test_german_cp1252_text_with_many_umlauts_round_trips() -> None:
    original = (
        "Die B\xfcrger der Stadt m\xfcssen k\xfcnftig mehr f\xfcr Wasser zahlen, sagte "
        "der B\xfcrgermeister am Dienstag. Die Geb\xfchren steigen um f\xfcnf Prozent.\n"
    )
    text, _ = decode_text(original.encode("cp1252"))
    assert text == original


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Rząd przyjął w czwartek projekt ustawy o podatkach.", "cp1250"),
        ("Правительство одобрило в четверг новый закон о налогах.", "cp1251"),
        ("Η κυβέρνηση ενέκρινε την Πέμπτη το νέο νομοσχέδιο.", "cp1253"),
        ("Les élèves ont reçu leur diplôme à Noël, déjà prêts.", "cp1252"),
    ],
)
def test_legacy_code_pages_are_not_read_as_western_unless_they_are(text: str, codec: str) -> None:
    assert decode_text(text.encode(codec))[0] == text


def test_utf8_bom_is_stripped() -> None:
    text = '{"title": "Bridge reopens"}'
    assert decode_text(b"\xef\xbb\xbf" + text.encode()) == (text, "utf-8-sig")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_decodes(codec: str) -> None:
    text = "Kestrel Lane school wins award\n\nPupils built a weather station — for £40.\n"
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    assert decode_text(bom + text.encode(codec)) == (text, "utf-16")


def test_utf16_without_bom_is_binary_content() -> None:
    with pytest.raises(Unreadable) as excinfo:
        decode_text("A plain headline\n\nA body.\n".encode("utf-16-le"))
    assert rule_of(excinfo) == "binary_content"


def test_line_endings_are_normalised() -> None:
    text, _ = decode_text(b"Title\r\n\r\nFirst line\rSecond line\r\n")
    assert text == "Title\n\nFirst line\nSecond line\n"


@pytest.mark.parametrize("data", [b"", b" ", b"\n\n\t  \r\n", b"\x0b\x0c"])
def test_empty_or_whitespace_only_is_empty_file(data: bytes) -> None:
    with pytest.raises(Unreadable) as excinfo:
        decode_text(data)
    assert rule_of(excinfo) == "empty_file"


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbf", b"\xef\xbb\xbf \n\n", b"\xff\xfe", "\n  \n".encode("utf-16")],
    ids=["utf8-bom", "utf8-bom-spaces", "utf16-bom", "utf16-spaces"],
)
def test_bom_with_nothing_after_it_is_empty_file(data: bytes) -> None:
    with pytest.raises(Unreadable) as excinfo:
        decode_text(data)
    assert rule_of(excinfo) == "empty_file"


def test_nul_bytes_are_binary_content() -> None:
    with pytest.raises(Unreadable) as excinfo:
        decode_text(b"Title\x00\x00\x00\xff\xfe\x00body")
    assert rule_of(excinfo) == "binary_content"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_binary_is_binary_content(seed: int) -> None:
    with pytest.raises(Unreadable) as excinfo:
        decode_text(random.Random(seed).randbytes(4096))
    assert rule_of(excinfo) == "binary_content"


def test_valid_utf8_full_of_control_characters_is_binary_content() -> None:
    data = ("Title\n" + "\x01\x02\x03\x1b" * 20 + " text").encode()
    with pytest.raises(Unreadable) as excinfo:
        decode_text(data)
    assert rule_of(excinfo) == "binary_content"


def test_utf8_with_nul_share_above_threshold_is_binary_content() -> None:
    data = ("A headline\n\n" + "word " * 100 + "\x00").encode()  # 1 NUL in ~512 chars
    with pytest.raises(Unreadable) as excinfo:
        decode_text(data)
    assert rule_of(excinfo) == "binary_content"


def test_tabs_and_form_feeds_are_not_control_noise() -> None:
    text = "Title\n\n" + "col\tcol\tcol\f\n" * 50
    assert decode_text(text.encode()) == (text, "utf-8")


def test_a_single_control_character_in_long_text_is_tolerated() -> None:
    text = "A headline\n\n" + "word " * 400 + "\x07end\n"  # 1 in ~2000 chars < 0.1%
    assert decode_text(text.encode()) == (text, "utf-8")
