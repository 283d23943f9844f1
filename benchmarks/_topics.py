"""A news ranking check built from Reuters-21578: its topics as relevance judgments.

Each topic with at least 20 articles is one query; the relevant documents are the articles
tagged with that topic. The query is the topic's description in the collection's
`raw/cat-descriptions_120396.txt` ("Money/Foreign Exchange (MONEY-FX)" gives "money foreign
exchange"), or, for the topics listed there by code only (the commodities), the code with its
hyphens as spaces ("veg-oil" gives "veg oil"). The 57 queries were made so once, by that rule,
and are fixed below: they are not recomputed from the corpus.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _corpora import Doc, read_articles

QUERIES = {
    "earn": "earnings and earnings forecasts",
    "acq": "mergers acquisitions",
    "money-fx": "money foreign exchange",
    "crude": "crude oil",
    "grain": "grain",
    "trade": "trade",
    "interest": "interest rates",
    "wheat": "wheat",
    "ship": "shipping",
    "corn": "corn",
    "dlr": "u s dollar",
    "oilseed": "oilseed",
    "money-supply": "money supply",
    "sugar": "sugar",
    "gnp": "gross national domestic product",
    "coffee": "coffee",
    "veg-oil": "veg oil",
    "gold": "gold",
    "nat-gas": "natural gas",
    "soybean": "soybean",
    "bop": "balance of payments",
    "livestock": "livestock",
    "cpi": "consumer price index",
    "reserves": "reserves",
    "copper": "copper",
    "cocoa": "cocoa",
    "jobs": "unemployment",
    "carcass": "carcass",
    "yen": "japanese yen",
    "rice": "rice",
    "iron-steel": "iron steel",
    "ipi": "industrial production index",
    "gas": "gasoline",
    "cotton": "cotton",
    "alum": "alum",
    "barley": "barley",
    "meal-feed": "meal feed",
    "rubber": "rubber",
    "zinc": "zinc",
    "palm-oil": "palm oil",
    "pet-chem": "petro chemicals",
    "silver": "silver",
    "sorghum": "sorghum",
    "rapeseed": "rapeseed",
    "lead": "lead",
    "tin": "tin",
    "strategic-metal": "strategic metal",
    "wpi": "wholesale price index",
    "orange": "orange",
    "fuel": "fuel oil",
    "soy-meal": "soy meal",
    "retail": "retail sales",
    "hog": "hog",
    "soy-oil": "soy oil",
    "heat": "heating oil gas oil",
    "housing": "housing starts",
    "stg": "sterling",
}


@dataclass(frozen=True)
class TopicCollection:
    """Reuters-21578 (`reuters21578.jsonl.gz`) as a test collection: what `Collection` offers."""

    path: Path

    @property
    def docs_path(self) -> Path:
        return self.path

    def docs(self) -> Iterator[Doc]:
        for article in read_articles(self.path):
            yield Doc(article.id, article.title, article.body)

    def queries(self) -> dict[str, str]:
        return dict(QUERIES)

    def qrels(self) -> dict[str, set[str]]:
        """Returns, for each topic of QUERIES, the ids of the articles tagged with it."""
        relevant: dict[str, set[str]] = {topic: set() for topic in QUERIES}
        with gzip.open(self.path, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                for topic in record.get("topics") or ():
                    if topic in relevant:
                        relevant[topic].add(str(record["id"]))
        return relevant

    def missing_files(self) -> list[str]:
        return [] if self.path.is_file() else [self.path.name]
