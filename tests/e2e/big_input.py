"""A folder of invented news articles of a given size (JSON Lines), for runs big enough
to start the enrichers' worker processes: sentences of random common words, places and
numbers, so no two articles share enough text to be duplicates."""

from __future__ import annotations

import json
import random
from pathlib import Path

PLACES = [
    "Ashford",
    "Brambleton",
    "Carrow",
    "Dunmere",
    "Elmstead",
    "Fallowby",
    "Greywick",
    "Holloway",
    "Ivybridge",
    "Kestrel Bay",
    "Longmoor",
    "Millhaven",
    "Northcote",
    "Oakhurst",
]
# Common English words: sentences drawn from them read as English to the language
# detector, and two articles share no run of five words but by chance.
_WORD_TEXT = """
council school bridge river market harbour station library hospital village town road
people residents traders farmers teachers drivers workers officers families children
said warned agreed announced expected reported decided planned opened closed approved
new old local public small large early late next last first second final annual
week month year morning evening night summer winter spring autumn day hour
money budget cost price plan report survey meeting vote decision project scheme service
water power housing transport traffic weather flood storm rain wind snow fire
will would could should may might must can
more less most many few several some every each other another
after before during since until while when where because although
with without about around across along among between through toward under over
build repair replace extend reduce increase support oppose review publish confirm
police court judge lawyer minister mayor officer spokesperson chairman director
company business shop factory office bank firm group union club team
health care safety education training research science history culture sport music
street park field garden square centre coast island valley hill lake forest
"""
WORDS = _WORD_TEXT.split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 16))]
    words.insert(rng.randrange(len(words)), rng.choice(PLACES))
    words.insert(rng.randrange(len(words)), str(rng.randint(2, 9999)))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def write_articles(folder: Path, megabytes: float, files: int = 10, seed: int = 7) -> int:
    """Fill `folder` with `files` JSON Lines files of ~`megabytes` in all; articles written."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_file = int(megabytes * 1024 * 1024 / files)
    written = 0
    for n in range(files):
        size = 0
        with (folder / f"articles_{n:02d}.jsonl").open("w", encoding="utf-8") as out:
            while size < per_file:
                sentences = [_sentence(rng) for _ in range(rng.randint(12, 20))]
                place = rng.choice(PLACES)
                record = {
                    "title": f"{place}: {sentences[0][:60]}",
                    "date": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
                    "url": f"https://news.example.org/{place.lower().replace(' ', '-')}/{written}",
                    "body": "\n\n".join(
                        " ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)
                    ),
                }
                line = json.dumps(record) + "\n"
                out.write(line)
                size += len(line)
                written += 1
    return written
