"""tasks.layouts: layout detection from content and one parser per layout."""

from __future__ import annotations

import json

import pytest

from newsflow.config import PipelineConfig
from tasks.decode import Unreadable
from tasks.layouts import FIELDS, LAYOUTS, SOURCE_FIELDS, Probe, detect_layout, map_record, parse
from tasks.parsed import Parsed, paragraphs

MAPPINGS = PipelineConfig().mappings()
RECORD_FIELDS = (*FIELDS, *SOURCE_FIELDS)
TEXT_LAYOUTS = ("headed", "dated", "plain")

HEADED = (
    "Orchard Road bus lane to open in June\n"
    "20230518\n"
    "https://www.valley-courier.example/transport/orchard-road-bus-lane\n"
    "A new bus lane on Orchard Road will open on the first Monday of June.\n"
    "The county said journeys into the centre should be four minutes faster.\n"
    "\n"
    "Cyclists will be allowed to use the lane outside rush hour.\n"
)

DATED = (
    " date 2022-11-03 Fire crews praised after warehouse blaze\n"
    "\n"
    "Firefighters spent six hours at the warehouse on Dock Lane\n"
    "on Wednesday night before the fire was out.\n"
    "\n"
    "\n"
    "\n"
    "No one was hurt, the fire service said.\n"
)

PLAIN = (
    "Library extends weekend opening hours\n"
    "\n"
    "The central library will open until six on Saturdays from next month.\n"
    "\n"
    "Sunday opening will start in the spring,\n"
    "  the council added.  \n"
)


def article_fields(record: dict[str, object]) -> dict[str, object]:
    """The fields every layout yields (JSON/CSV records add the source's SOURCE_FIELDS)."""
    return {name: record[name] for name in FIELDS}


def reject_rules(parsed: Parsed) -> list[tuple[int, str]]:
    return [(index, rule) for index, rule, _ in parsed.rejects]


def raises_rule(text: str) -> str:
    with pytest.raises(Unreadable) as excinfo:
        parse(text, MAPPINGS)
    return excinfo.value.rule


# --- paragraphs ------------------------------------------------------------------------------


def test_paragraphs_joins_wrapped_lines_and_splits_on_blank_lines() -> None:
    lines = ["  first line of one", "paragraph  ", "", "", "  ", "second paragraph", ""]
    assert paragraphs(lines) == "first line of one paragraph\n\nsecond paragraph"


@pytest.mark.parametrize("lines", [[], [""], ["   ", "\t", ""]])
def test_paragraphs_of_nothing_is_empty(lines: list[str]) -> None:
    assert paragraphs(lines) == ""


# --- detect_layout ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "layout"),
    [
        ('{"title": "x"}', "json"),
        ('  \n[{"title": "x"}]', "json"),
        ('{"title": "x"}\n{"title": "y"}\n', "json"),  # JSONL is told apart while parsing
        ("<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("  <html lang='en'>\n<head></head>", "html"),
        ("<?xml version='1.0'?><rss></rss>", "rss"),
        (DATED, "dated"),
        ("date 2020-01-31 Title without a leading space\nbody", "dated"),
        (HEADED, "headed"),
        (PLAIN, "plain"),
        ("title,date,url,body\nA,2020-01-01,,B\n", "csv"),
        ("Headline;Published;Content\nA;2020;B\n", "csv"),
        ("headline\tcontent\nA\tB\n", "csv"),
    ],
)
def test_detect_layout(text: str, layout: str) -> None:
    assert detect_layout(text) == layout


@pytest.mark.parametrize(
    "text",
    [
        "Just one line of text with no structure at all",
        "Two lines\nwith nothing between them\nand a third",
        "name,age\nAda,36\n",  # a CSV, but no article field in the header
        "\n\nTitle after blank lines\n\nbody",
        "title\nonly one column\n",
    ],
)
def test_detect_layout_rejects_unknown_layouts(text: str) -> None:
    with pytest.raises(Unreadable) as excinfo:
        detect_layout(text)
    assert excinfo.value.rule == "unknown_layout"


def test_unknown_layout_detail_quotes_the_first_line() -> None:
    with pytest.raises(Unreadable) as excinfo:
        parse("Only a single line here", MAPPINGS)
    assert "Only a single line here" in excinfo.value.detail


# --- text layouts ----------------------------------------------------------------------------


def test_parse_headed() -> None:
    parsed = parse(HEADED, MAPPINGS)
    assert parsed.layout == "headed"
    assert parsed.rejects == []
    assert parsed.records == [
        {
            "title": "Orchard Road bus lane to open in June",
            "date_raw": "20230518",
            "url": "https://www.valley-courier.example/transport/orchard-road-bus-lane",
            "body": (
                "A new bus lane on Orchard Road will open on the first Monday of June.\n\n"
                "The county said journeys into the centre should be four minutes faster.\n\n"
                "Cyclists will be allowed to use the lane outside rush hour."
            ),
        }
    ]


def test_parse_headed_without_url_line_starts_body_on_line_three() -> None:
    text = "Rain delays harvest\n20210902\nFarmers say the wheat is a week late.\nPrices held.\n"
    [record] = parse(text, MAPPINGS).records
    assert record == {
        "title": "Rain delays harvest",
        "date_raw": "20210902",
        "url": None,
        "body": "Farmers say the wheat is a week late.\n\nPrices held.",
    }


def test_parse_headed_keeps_a_javascript_url_raw() -> None:
    text = "Click here for the story\n20230101\njavascript:alert(1)\nThe story itself.\n"
    [record] = parse(text, MAPPINGS).records
    assert record["url"] == "javascript:alert(1)"
    assert record["body"] == "The story itself."


def test_parse_headed_keeps_a_future_date_raw() -> None:
    text = "Time capsule to be opened\n29991231\nhttps://e.example/capsule\nIn a thousand years.\n"
    parsed = parse(text, MAPPINGS)
    assert parsed.layout == "headed"
    assert parsed.records[0]["date_raw"] == "29991231"


def test_parse_headed_with_title_and_date_only_has_empty_body() -> None:
    [record] = parse("Short notice\n20200202\n\n", MAPPINGS).records
    assert record == {"title": "Short notice", "date_raw": "20200202", "url": None, "body": ""}


def test_parse_dated() -> None:
    parsed = parse(DATED, MAPPINGS)
    assert parsed.layout == "dated"
    assert parsed.records == [
        {
            "title": "Fire crews praised after warehouse blaze",
            "date_raw": "2022-11-03",
            "url": None,
            "body": (
                "Firefighters spent six hours at the warehouse on Dock Lane "
                "on Wednesday night before the fire was out.\n\n"
                "No one was hurt, the fire service said."
            ),
        }
    ]


def test_parse_plain() -> None:
    parsed = parse(PLAIN, MAPPINGS)
    assert parsed.layout == "plain"
    assert parsed.records == [
        {
            "title": "Library extends weekend opening hours",
            "date_raw": None,
            "url": None,
            "body": (
                "The central library will open until six on Saturdays from next month.\n\n"
                "Sunday opening will start in the spring, the council added."
            ),
        }
    ]


@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        ("<!doctype html>\n<html><head><title>x</title></head><body>y</body></html>", "x", "y"),
        ("<HTML><BODY>Shouting page</BODY></HTML>", None, "Shouting page"),
    ],
)
def test_html_goes_to_the_html_parser(text: str, title: str | None, body: str) -> None:
    parsed = parse(text, MAPPINGS)
    assert parsed.layout == "html"
    assert [(r["title"], r["body"]) for r in parsed.records] == [(title, body)]


# --- JSON ------------------------------------------------------------------------------------


def test_parse_news_please_object() -> None:
    obj = {
        "title": "Marina plans go on show",
        "date_publish": "2023-02-14 10:15:00",
        "url": "https://www.coast-gazette.example/marina-plans",
        "maintext": "Plans for a marina at Gull Point go on show this week.\n\n\n"
        "Residents can comment until the end of March.",
        "authors": ["R. Penhale"],
        "language": "en",
    }
    parsed = parse(json.dumps(obj, indent=2), MAPPINGS)
    assert parsed.layout == "json"
    assert parsed.rejects == []
    assert parsed.records == [
        {
            "title": "Marina plans go on show",
            "date_raw": "2023-02-14 10:15:00",
            "url": "https://www.coast-gazette.example/marina-plans",
            "body": "Plans for a marina at Gull Point go on show this week.\n\n"
            "Residents can comment until the end of March.",
            "authors": ["R. Penhale"],
            "description": None,
            "image_url": None,
            "source_language": "en",
            "tags": [],
            "site_name": None,
            "fetched_at": None,
        }
    ]


def test_parse_news_please_older_text_field() -> None:
    obj = {"title": "Old export", "date_publish": "2019-05-05", "url": "u", "text": "Body text."}
    [record] = parse(json.dumps(obj), MAPPINGS).records
    assert article_fields(record) == {
        "title": "Old export",
        "date_raw": "2019-05-05",
        "url": "u",
        "body": "Body text.",
    }


def test_parse_generic_object_with_alternative_names() -> None:
    obj = {
        "headline": "Ferry fares frozen",
        "published_at": "2024-01-09",
        "link": "https://isles.example/fares",
        "content": "Fares will not rise this year.",
    }
    [record] = parse(json.dumps(obj), MAPPINGS).records
    assert article_fields(record) == {
        "title": "Ferry fares frozen",
        "date_raw": "2024-01-09",
        "url": "https://isles.example/fares",
        "body": "Fares will not rise this year.",
    }


def test_field_names_match_case_insensitively() -> None:
    obj = {"Title": "Upper case keys", "DATE_PUBLISH": "2020-03-03", "Url": "u", "MainText": "b"}
    [record] = parse(json.dumps(obj), MAPPINGS).records
    assert article_fields(record) == {
        "title": "Upper case keys",
        "date_raw": "2020-03-03",
        "url": "u",
        "body": "b",
    }


def test_the_mapping_that_matches_most_fields_wins() -> None:
    # generic matches title/date/url/body; news-please would match only title and url.
    obj = {"title": "t", "date": "2021-01-01", "url": "u", "body": "b", "date_publish": "p"}
    assert map_record(obj, MAPPINGS)["date_raw"] == "2021-01-01"
    obj = {"title": "t", "date": "2021-01-01", "date_publish": "2022-02-02", "text": "b"}
    assert map_record(obj, MAPPINGS)["date_raw"] == "2022-02-02"  # tie: news-please first


def test_user_mapping_is_tried_before_builtin_ones() -> None:
    config = PipelineConfig(
        field_mappings={"wire": {"title": ["hed"], "date": ["dateline"], "body": ["copy"]}}
    )
    obj = {"hed": "Wire headline", "dateline": "2020-12-12", "copy": "Wire copy.", "url": "u"}
    assert article_fields(map_record(obj, config.mappings())) == {
        "title": "Wire headline",
        "date_raw": "2020-12-12",
        "url": None,  # the user mapping names no URL field and matched more fields
        "body": "Wire copy.",
    }


def test_parse_json_array_of_objects() -> None:
    data = [
        {"title": "First story", "body": "One."},
        {"title": "Second story", "body": "Two.", "date": "2020-02-02"},
    ]
    parsed = parse(json.dumps(data), MAPPINGS)
    assert parsed.layout == "json"
    assert [r["title"] for r in parsed.records] == ["First story", "Second story"]
    assert parsed.records[1]["date_raw"] == "2020-02-02"
    assert parsed.rejects == []


@pytest.mark.parametrize("text", ["[]", "title,body\n"])
def test_a_file_with_no_records_is_rejected_whole(text: str) -> None:
    with pytest.raises(Unreadable) as caught:
        parse(text, MAPPINGS)
    assert caught.value.rule == "no_records"


def test_a_plain_article_whose_title_starts_with_a_bracket_is_not_json() -> None:
    parsed = parse("[Update] Ferry returns\n\nThe ferry is back in service.\n", MAPPINGS)
    assert parsed.layout == "plain"
    assert parsed.records == [
        {
            "title": "[Update] Ferry returns",
            "date_raw": None,
            "url": None,
            "body": "The ferry is back in service.",
        }
    ]


@pytest.mark.parametrize("header", ["title,date,url,body,", ",title,body", "Unnamed: 0,title,body"])
def test_csv_headers_with_blank_or_index_columns_are_csv(header: str) -> None:
    parsed = parse(f"{header}\nA,B,C,D,\n", MAPPINGS)
    assert parsed.layout == "csv"
    assert len(parsed.records) == 1


def test_one_paragraph_per_line_in_a_json_body_is_kept() -> None:
    text = '{"title": "T", "maintext": "First paragraph.\\nSecond one.\\nThird."}'
    assert parse(text, MAPPINGS).records[0]["body"] == "First paragraph.\n\nSecond one.\n\nThird."


def test_json_array_with_non_objects_rejects_only_those_elements() -> None:
    text = '[{"title": "Kept"}, 42, "a string", null, ["a", "list"], {"body": "Also kept"}]'
    parsed = parse(text, MAPPINGS)
    assert reject_rules(parsed) == [(i, "not_an_object") for i in (1, 2, 3, 4)]
    assert len(parsed.records) == 6  # placeholders keep record_index aligned with the source
    assert parsed.records[0]["title"] == "Kept"
    assert parsed.records[5]["body"] == "Also kept"
    assert all(parsed.records[i] == {} for i in (1, 2, 3, 4))


@pytest.mark.parametrize("scalar", ["42", '"just a string"', "true", "null"])
def test_top_level_json_scalar_inside_array_is_not_an_object(scalar: str) -> None:
    assert reject_rules(parse(f"[{scalar}]", MAPPINGS)) == [(0, "not_an_object")]


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ({"text": "nested"}, "title is a dict"),
        (True, "title is a boolean"),
        ([1, 2], "title is a list"),
        (["ok", 3], "title is a list"),
    ],
)
def test_wrong_type_title_rejects_the_record(value: object, detail: str) -> None:
    parsed = parse(json.dumps({"title": value, "body": "fine"}), MAPPINGS)
    assert parsed.rejects == [(0, "wrong_type", detail)]


def test_wrong_type_in_date_or_url_rejects_the_record() -> None:
    text = json.dumps([{"title": "a", "date": {"y": 2020}}, {"title": "b", "url": ["x", 1]}])
    assert reject_rules(parse(text, MAPPINGS)) == [(0, "wrong_type"), (1, "wrong_type")]


def test_numbers_become_text() -> None:
    [record] = parse('{"title": 1984, "date": 20230412, "body": 2.5}', MAPPINGS).records
    assert article_fields(record) == {
        "title": "1984",
        "date_raw": "20230412",
        "url": None,
        "body": "2.5",
    }


def test_list_of_strings_body_becomes_paragraphs() -> None:
    obj = {"title": "Listed", "body": ["First paragraph.", "Second\nwrapped line."]}
    [record] = parse(json.dumps(obj), MAPPINGS).records
    assert record["body"] == "First paragraph.\n\nSecond wrapped line."


@pytest.mark.parametrize("missing", ["None", "none", " NULL ", "nan", "NaN", "", "   "])
def test_none_like_strings_are_missing(missing: str) -> None:
    obj = {"title": "Has a title", "date_publish": missing, "url": missing, "maintext": missing}
    [record] = parse(json.dumps(obj), MAPPINGS).records
    assert article_fields(record) == {
        "title": "Has a title",
        "date_raw": None,
        "url": None,
        "body": None,
    }


def test_bare_json_nan_is_missing_like_the_string() -> None:
    [record] = parse('{"title": "Has a title", "date": NaN, "body": "b"}', MAPPINGS).records
    assert record["date_raw"] is None


def test_json_null_fields_are_missing() -> None:
    [record] = parse('{"title": null, "date": null, "url": null, "body": "b"}', MAPPINGS).records
    assert article_fields(record) == {"title": None, "date_raw": None, "url": None, "body": "b"}


@pytest.mark.parametrize(
    "obj",
    [
        {"title": "None", "maintext": "None", "url": "null"},
        {"title": None, "body": ""},
        {"url": "", "date": "2020-01-01", "body": "null"},
    ],
)
def test_record_without_title_body_and_url_is_no_text(obj: dict[str, object]) -> None:
    assert reject_rules(parse(json.dumps(obj), MAPPINGS)) == [(0, "no_text")]


@pytest.mark.parametrize(
    "obj",
    [
        {"title": "None", "maintext": "None", "url": "https://x.example"},
        {"url": "https://x.example/only-a-url", "date": "2020-01-01"},
        {"title": "Only a title"},
    ],
)
def test_record_with_a_title_or_url_but_no_body_is_kept(obj: dict[str, object]) -> None:
    parsed = parse(json.dumps(obj), MAPPINGS)
    assert reject_rules(parsed) == []
    assert parsed.records[0]["body"] is None  # clean files it under metadata_only/


def test_object_without_known_fields_is_unmapped() -> None:
    parsed = parse('{"headline_text": "x", "story": "y", "when": "z"}', MAPPINGS)
    assert reject_rules(parsed) == [(0, "unmapped_fields")]
    assert "headline_text" in parsed.rejects[0][2]


def test_empty_object_is_unmapped() -> None:
    assert reject_rules(parse("{}", MAPPINGS)) == [(0, "unmapped_fields")]


def test_lone_surrogate_escape_rejects_the_record() -> None:
    text = '[{"title": "Broken \\ud800 text", "body": "b"}, {"title": "Fine", "body": "b"}]'
    parsed = parse(text, MAPPINGS)
    assert reject_rules(parsed) == [(0, "invalid_text")]
    assert parsed.records[1]["title"] == "Fine"


def test_surrogate_pair_escape_is_fine() -> None:
    [record] = parse('{"title": "Party \\ud83c\\udf89 time"}', MAPPINGS).records
    assert record["title"] == "Party \U0001f389 time"


@pytest.mark.parametrize(
    "text",
    [
        '{"title": "unterminated',
        '{"title": "a",, "body": "b"}',
        "[{'title': 'single quotes'}]",
        "{" * 10 + "}",
        "[" * 100_000,  # deeper than the parser's recursion limit
        "[" + "1" * 5000 + "]",  # an integer beyond Python's digit limit
    ],
    ids=["unterminated", "double-comma", "single-quotes", "braces", "deep", "huge-int"],
)
def test_malformed_json_is_invalid_json(text: str) -> None:
    assert raises_rule(text) == "invalid_json"


# --- JSON lines ------------------------------------------------------------------------------


def test_parse_jsonl() -> None:
    lines = [
        {"title": "Pier repairs start", "date": "2023-07-01", "body": "Work began today."},
        {"title": "Pier repairs finish", "date": "2023-09-30", "body": "Work is done."},
    ]
    parsed = parse("\n".join(json.dumps(x) for x in lines) + "\n", MAPPINGS)
    assert parsed.layout == "jsonl"
    assert parsed.rejects == []
    assert [(r["title"], r["date_raw"], r["body"]) for r in parsed.records] == [
        ("Pier repairs start", "2023-07-01", "Work began today."),
        ("Pier repairs finish", "2023-09-30", "Work is done."),
    ]


def test_jsonl_bad_line_is_rejected_alone_and_indices_skip_blank_lines() -> None:
    text = (
        '{"title": "Line zero", "body": "ok"}\n'
        "\n"
        '{"title": "Line one is cut off", "bo\n'
        "   \n"
        '{"title": "Line two", "body": "ok"}\n'
    )
    parsed = parse(text, MAPPINGS)
    assert parsed.layout == "jsonl"
    assert reject_rules(parsed) == [(1, "invalid_json_line")]
    assert [r.get("title") for r in parsed.records] == ["Line zero", None, "Line two"]


def test_jsonl_mixes_line_and_record_rejects_once_each() -> None:
    text = '{"title": "a"}\nnot json\n[1, 2]\n{"story": "unmapped"}\n{"title": "b"}\n'
    parsed = parse(text, MAPPINGS)
    assert sorted(reject_rules(parsed)) == [
        (1, "invalid_json_line"),
        (2, "not_an_object"),
        (3, "unmapped_fields"),
    ]
    assert [r.get("title") for r in parsed.records] == ["a", None, None, None, "b"]


def test_jsonl_where_every_line_is_bad_is_invalid_json() -> None:
    assert raises_rule('{"title": \n{"body": \n{oops}\n') == "invalid_json"


# --- CSV -------------------------------------------------------------------------------------


def test_parse_csv_with_multiline_quoted_body() -> None:
    text = (
        "title,date,url,body\n"
        'Bridge tolls scrapped,2023-03-01,https://e.example/tolls,"Tolls on the river bridge\n'
        'end next week.\n\nDrivers welcomed the news."\n'
        '"Snow closes schools, again",2023-01-20,,Schools shut for a second day.\n'
    )
    parsed = parse(text, MAPPINGS)
    assert parsed.layout == "csv"
    assert parsed.rejects == []
    assert [article_fields(r) for r in parsed.records] == [
        {
            "title": "Bridge tolls scrapped",
            "date_raw": "2023-03-01",
            "url": "https://e.example/tolls",
            "body": "Tolls on the river bridge end next week.\n\nDrivers welcomed the news.",
        },
        {
            "title": "Snow closes schools, again",
            "date_raw": "2023-01-20",
            "url": None,
            "body": "Schools shut for a second day.",
        },
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_parse_csv_other_delimiters(delimiter: str) -> None:
    text = delimiter.join(["Headline", "Published", "Link", "Content"]) + "\n"
    text += delimiter.join(["Dam inspected", "2022-08-08", "https://d.example", "All clear."])
    [record] = parse(text + "\n", MAPPINGS).records
    assert article_fields(record) == {
        "title": "Dam inspected",
        "date_raw": "2022-08-08",
        "url": "https://d.example",
        "body": "All clear.",
    }


def test_csv_extra_and_missing_cells() -> None:
    text = "title,date,body\nToo many,2020-01-01,b,spare,cells\nToo few\n"
    parsed = parse(text, MAPPINGS)
    assert [article_fields(r) for r in parsed.records] == [
        {"title": "Too many", "date_raw": "2020-01-01", "url": None, "body": "b"},
        {"title": "Too few", "date_raw": None, "url": None, "body": None},
    ]


def test_csv_row_without_text_is_rejected_at_its_index() -> None:
    text = "title,date,body\nFirst,2020-01-01,b\nNone,2020-01-02,null\nThird,2020-01-03,b\n"
    parsed = parse(text, MAPPINGS)
    assert reject_rules(parsed) == [(1, "no_text")]
    assert parsed.records[2]["title"] == "Third"


def test_every_record_has_exactly_the_output_fields() -> None:
    for text in (HEADED, DATED, PLAIN, '{"title": "x"}', "title,body\nx,y\n"):
        parsed = parse(text, MAPPINGS)
        for record in parsed.records:
            assert tuple(record) == (FIELDS if parsed.layout in TEXT_LAYOUTS else RECORD_FIELDS)


# --- the registry ----------------------------------------------------------------------------

JSON_FEED = (
    '{"version": "https://jsonfeed.org/version/1.1", "title": "Valley Courier", "items": []}'
)
JSON_ARTICLE = json.dumps(
    [
        {
            "title": "Ferry timetable changes",
            "date": "2023-04-02",
            "url": "https://courier.example/ferry",
            "body": "The ferry will leave at seven.",
        }
    ]
)
CSV_ARTICLE = (
    "title,date,url,body\nFerry timetable,2023-04-02,https://courier.example/f,It leaves.\n"
)


def test_detection_tries_the_registered_layouts_in_their_order() -> None:
    # The order decides an ambiguous file (a JSON Feed is JSON too, a dated file is
    # plain-shaped): it is part of the contract, and every detected layout is readable.
    detected = [layout for layout in LAYOUTS if layout.detect is not None]
    assert [layout.name for layout in detected] == [
        *("jsonfeed", "json", "rss", "atom", "html", "dated", "headed", "plain", "csv")
    ]
    assert all(layout.parse is not None for layout in detected)


@pytest.mark.parametrize("text", [JSON_FEED, DATED, " date 2022-11-03 Title\n\nBody.\n"])
def test_the_first_matching_entry_names_an_ambiguous_file(text: str) -> None:
    probe = Probe(text)
    matching = [layout.name for layout in LAYOUTS if layout.detect and layout.detect(probe)]
    assert len(matching) >= 2  # the sample really fits more than one layout
    assert detect_layout(text) == matching[0]


@pytest.mark.parametrize(
    "text", [HEADED, DATED, PLAIN, JSON_ARTICLE, CSV_ARTICLE, '{"title": "x"}\n{"title": "y"}\n']
)
def test_a_layout_yields_a_date_or_url_exactly_where_it_says_it_carries_one(text: str) -> None:
    parsed = parse(text, MAPPINGS)
    layout = {entry.name: entry for entry in LAYOUTS}[parsed.layout]
    for record in parsed.records:
        if not layout.carries_date:
            assert record["date_raw"] is None
        if not layout.carries_url:
            assert record["url"] is None
    # The samples that carry them do give them (JSON Lines above has neither).
    if parsed.layout != "jsonl":
        assert all((r["date_raw"] is not None) == layout.carries_date for r in parsed.records)
        assert all((r["url"] is not None) == layout.carries_url for r in parsed.records)
