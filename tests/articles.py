"""Invented articles for the dedupe tests: long enough to be fingerprinted, and ways to
copy them as sources do (shuffled, flattened, edited, embedded in a longer page)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import polars as pl

from newsflow.schema import CLEANED, INGESTED

# Lineage and layout of a one-record plain file: tests override what they exercise.
INGESTED_ROW: dict[str, object] = {
    "doc_id": "d1",
    "run_id": "r",
    "batch_id": "b",
    "source_file": "f.txt",
    "record_index": 0,
    "layout": "plain",
    "encoding": "utf-8",
    "title": "A title",
    "date_raw": None,
    "url": None,
    "body": "A body.",
    "site_name": None,
}


def ingested_rows(*rows: Mapping[str, object]) -> pl.DataFrame:
    """An INGESTED frame, one row per override dict on top of INGESTED_ROW."""
    return pl.DataFrame([{**INGESTED_ROW, **row} for row in rows], schema=INGESTED)


# One story, one sentence each, all of similar length (so shingle counts track sentences).
FERRY = [
    "The ferry between Gullhaven and Marrow Point will stop running at the end of March.",
    "The operator said falling passenger numbers had left the route losing money every winter.",
    "About four hundred people used the crossing each day last summer, half as many as in 2015.",
    "Island traders warned that the closure would cut them off from their mainland suppliers.",
    "A petition asking the county to save the service has gathered nine thousand signatures.",
    "County officers are studying whether a smaller boat could run the route at lower cost.",
    "The last sailing from Marrow Point is due to leave at six in the evening on 31 March.",
    "Fishermen in the harbour said the slipway would fall into disrepair without regular use.",
    "The operator has offered its two vessels for sale to any group willing to keep them running.",
    "A public meeting about the future of the crossing will be held in the village hall on Friday.",
    "Island pupils will be taken to the mainland school by minibus over the bridge instead.",
    "Local councillors said they were disappointed that the operator had given so little notice.",
    "The harbour master said the pier would stay open for private boats and visiting yachts.",
]
# A third story, for chains of partial copies.
LIBRARY = [
    "The Northgate library will open its new reading room to the public on Saturday morning.",
    "Builders finished the extension two weeks early after a dry spell in the autumn months.",
    "The room has forty study desks, a children's corner and shelves for eight thousand books.",
    "Staff said the old reading room had been too small for exam season for many years.",
    "A local trust paid for most of the work, with the rest coming from the county budget.",
    "Opening hours will be extended to nine in the evening on weekdays during the exam period.",
    "Volunteers have spent the past month moving the local history collection into the room.",
    "The library will also lend laptops to members who do not have a computer at home.",
    "A mural painted by pupils from the primary school next door covers the entrance wall.",
    "The head librarian said visitor numbers had risen every year since the library reopened.",
    "Parking outside the building will be limited while the pavement is resurfaced in June.",
    "The mayor is expected to cut a ribbon at ten o'clock before a short reading for children.",
    "A cafe run by a local charity will open inside the library later in the spring.",
]
# Another article about the same closure, written independently: same event, other words.
FERRY_OTHER_WRITER = [
    "Islanders on Gullhaven are facing the loss of their only direct boat link to the mainland.",
    "Services to Marrow Point end in March after the company running them said they made losses.",
    "Shopkeepers fear deliveries will take hours longer once vans must use the northern bridge.",
    "More than nine thousand residents have signed a petition calling on the county to step in.",
    "Officials are expected to report next month on the cost of running a replacement launch.",
    "Children who attend secondary school on the mainland will travel by road from April.",
    "A meeting at which residents can put questions to the operator takes place on Friday.",
    "Councillors criticised the company for announcing the decision with only weeks to spare.",
]
# Sentences of a different story, used to pad a page around an embedded one.
MARKET = [
    "Traders at the covered market in Ashby Vale have voted to open on Sunday mornings.",
    "The change follows a survey in which shoppers asked for longer weekend opening hours.",
    "Stallholders selling fresh fish said they would need extra ice deliveries on Sundays.",
    "The council will review the trial after six months and publish the footfall figures.",
    "Parking at the market car park will be free before ten in the morning during the trial.",
]


def body(sentences: list[str], per_paragraph: int = 2) -> str:
    """Sentences grouped into paragraphs one blank line apart, as clean leaves them."""
    paragraphs = [
        " ".join(sentences[i : i + per_paragraph]) for i in range(0, len(sentences), per_paragraph)
    ]
    return "\n\n".join(paragraphs)


def flattened(title: str, text: str) -> str:
    """The Kaggle CSV layout: lower case, punctuation turned into spaces, title run in."""
    return re.sub(r"[^\w\s]", " ", f"{title}  {text}".lower()).replace("\n", " ")


def cleaned(*rows: Mapping[str, object]) -> pl.DataFrame:
    """Cleaned rows with sensible defaults; each row needs doc_id and body."""
    base: dict[str, object] = {
        "run_id": "r",
        "batch_id": "b",
        "record_index": 0,
        "layout": "dated",
        "encoding": "utf-8",
        "title": "Ferry to stop running",
        "date_raw": None,
        "url": None,
        "published_date": None,
        "date_flag": None,
        "url_raw": None,
        "url_flag": None,
        "removed_lines": [],
    }
    filled = [{**base, "source_file": f"{row['doc_id']}.txt", **row} for row in rows]
    return pl.DataFrame(filled, schema=CLEANED)


DAY = dt.date(2024, 3, 1)
# A body of site furniture only, too short to name an article (CNN-like video pages).
FURNITURE_BODY = "Talk to us on Chatbox Messenger. See what is happening around the world."


# Copies spread over three batches: an edited chain (a, b, c), a shouted copy (d), an
# exact pair (x, y). Dedupe must give the same rows however it cuts its work.
SCATTERED_COPIES: list[dict[str, object]] = [
    {"doc_id": "a", "body": body(FERRY[0:10]), "batch_id": "b2"},
    {"doc_id": "b", "body": body(FERRY[1:12]), "published_date": DAY, "batch_id": "b1"},
    {"doc_id": "c", "body": body(FERRY[3:13]), "batch_id": "b0"},
    {"doc_id": "d", "body": body(FERRY).upper(), "batch_id": "b1"},
    {"doc_id": "x", "body": body(MARKET), "batch_id": "b0"},
    {"doc_id": "y", "body": body(MARKET[:6]), "batch_id": "b2"},
]
