"""The news source: every real file, cp1252 and undecodable bytes, time formats, non-data files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from flows.sources.base import SourceError
from flows.sources.decoding import decode
from flows.sources.news import ITEM_COLUMNS, NewsSource
from flows.sources.news_times import read_time
from quantlake.settings import NewsSettings

LONDON, NEW_YORK, UTC = ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("UTC")
TWEETS = "sentiment/stocknet_tweets_preprocessed_2014-2015.csv.gz"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def source(*paths: Path, settings: NewsSettings | None = None) -> NewsSource:
    settings = settings or NewsSettings()
    return NewsSource(paths, encoding=settings.encoding, zone_of=settings.timezone)


@pytest.fixture(scope="module")
def real(shared_data: Path) -> pl.DataFrame:
    batch = source(shared_data / "news", shared_data / TWEETS).fetch()
    assert batch.items.schema == pl.Schema(ITEM_COLUMNS)
    return batch.items


def test_every_real_headline_and_tweet_is_read(real: pl.DataFrame) -> None:
    counts = dict(real.group_by("publisher").len().iter_rows())
    assert counts == {"cnbc": 453, "guardian": 499, "reuters": 499, "stocknet": 106_338}
    assert real.get_column("published_at").null_count() == 0
    assert real.filter(pl.col("headline") == "").is_empty()
    ranges = real.group_by("publisher").agg(
        first=pl.col("published_at").min(), last=pl.col("published_at").max()
    )
    got = {p: (a, b) for p, a, b in ranges.iter_rows()}
    # SOURCES.md: CNBC 2020-02-05..07-17 (US Eastern), Guardian 06-25..07-18 (London days),
    # Reuters 07-09..07-18 (New York days), StockNet 2013-12-31T23:10Z..2015-12-31T21:34Z.
    assert got["cnbc"][0].astimezone(NEW_YORK).date() == dt.date(2020, 2, 5)
    assert got["cnbc"][1] == utc(2020, 7, 17, 23, 51)  # 7:51 PM EDT
    assert got["guardian"] == (utc(2020, 6, 24, 23), utc(2020, 7, 17, 23))  # BST midnights
    assert got["reuters"] == (utc(2020, 7, 9, 4), utc(2020, 7, 18, 4))  # EDT midnights
    assert got["stocknet"][0].strftime("%Y-%m-%dT%H:%M") == "2013-12-31T23:10"
    assert got["stocknet"][1].strftime("%Y-%m-%dT%H:%M") == "2015-12-31T21:34"


def test_cp1252_is_detected_and_decoded(shared_data: Path) -> None:
    batch = source(shared_data / "news").fetch()
    assert set(batch.encodings.values()) == {"cp1252"}
    guardian = batch.items.filter(pl.col("publisher") == "guardian")
    assert guardian.get_column("headline")[1].startswith("\u2018I now fear the worst\u2019")
    assert not batch.items.get_column("headline").str.contains("\ufffd").any()
    # Blank rows are skipped and counted (SOURCES.md: 1,983 in CNBC, 17,301 in the Guardian).
    reasons = " ".join(r.reason for r in batch.rejections)
    assert "skipped 1983 blank rows" in reasons and "skipped 17301 blank rows" in reasons


def test_the_tweets_are_utf8_with_their_own_symbols(real: pl.DataFrame) -> None:
    tweets = real.filter(pl.col("publisher") == "stocknet")
    assert tweets.get_column("symbol").null_count() == 0
    assert tweets.get_column("time_precision").unique().to_list() == ["second"]
    assert real.filter(pl.col("publisher") != "stocknet").get_column("symbol").null_count() == 1451


def test_undecodable_bytes_are_reported_not_fatal(tmp_path: Path) -> None:
    # 0x81 and 0x9d are undefined in cp1252; 0x92 is a curly apostrophe.
    raw = (
        b"Headlines,Time\nFirm\x92s profit jumps,Jul 18 2020\n"
        b"Bad \x81 byte,Jul 18 2020\nAlso \x9d,Jul 19 2020\n"
    )
    (tmp_path / "reuters_x.csv").write_bytes(raw)
    batch = source(tmp_path).fetch()
    assert batch.items.get_column("headline").to_list() == [
        "Firm\u2019s profit jumps",
        "Bad \ufffd byte",
        "Also \ufffd",
    ]
    (note,) = [r.reason for r in batch.rejections]
    assert "2 byte(s) undecodable as cp1252 on line(s) 3, 4" in note


def test_decode_prefers_utf8_and_falls_back() -> None:
    assert decode("caf\u00e9".encode(), fallback="cp1252", name="f") == ("caf\u00e9", "utf-8", [])
    assert decode(b"caf\xe9", fallback="cp1252", name="f") == ("caf\u00e9", "cp1252", [])


@pytest.mark.parametrize(
    ("text", "zone", "published", "known_by", "precision"),
    [
        (" 7:51  PM ET Fri, 17 July 2020", LONDON, utc(2020, 7, 17, 23, 51), None, "minute"),
        (" 2:41  PM ET Thu,  6 Feb 2020", UTC, utc(2020, 2, 6, 19, 41), None, "minute"),  # EST
        ("12:05  AM ET Mon, 9 March 2020", UTC, utc(2020, 3, 9, 4, 5), None, "minute"),  # EDT
        ("18-Jul-20", LONDON, utc(2020, 7, 17, 23), utc(2020, 7, 18, 23), "day"),
        ("Jul 18 2020", NEW_YORK, utc(2020, 7, 18, 4), utc(2020, 7, 19, 4), "day"),
        ("2020-03-08", NEW_YORK, utc(2020, 3, 8, 5), utc(2020, 3, 9, 4), "day"),  # 23-hour day
        ("2014-01-01T03:59:03Z", LONDON, utc(2014, 1, 1, 3, 59, 3), None, "second"),
        ("2014-01-01T03:59:03+01:00", UTC, utc(2014, 1, 1, 2, 59, 3), None, "second"),
        ("2020-07-18 10:00", LONDON, utc(2020, 7, 18, 9), None, "minute"),
    ],
)
def test_time_formats(
    text: str,
    zone: ZoneInfo,
    published: dt.datetime,
    known_by: dt.datetime | None,
    precision: str,
) -> None:
    stamp = read_time(text, zone=zone)
    assert stamp is not None
    assert (stamp.published_at, stamp.known_by, stamp.precision) == (
        published,
        known_by or published,
        precision,
    )


@pytest.mark.parametrize("text", ["", "yesterday", "31-Jun-20", "Foo 18 2020", "2020-02-30T10:00Z"])
def test_unreadable_times_are_none(text: str) -> None:
    assert read_time(text, zone=UTC) is None


def test_unreadable_times_and_empty_texts_are_delivered_for_validation(tmp_path: Path) -> None:
    (tmp_path / "cnbc_x.csv").write_text(
        'Headlines,Time,Description\nGood one," 7:51  PM ET Fri, 17 July 2020",d\n'
        "No time,someday,d\n,Jul 18 2020,only a time\n,,\n"
    )
    items = source(tmp_path).fetch().items
    assert items.select("headline", "time_text").rows() == [
        ("Good one", " 7:51  PM ET Fri, 17 July 2020"),
        ("No time", "someday"),
        ("", "Jul 18 2020"),
    ]
    assert items.get_column("published_at").null_count() == 1
    assert items.get_column("line").to_list() == [2, 3, 4]


def test_files_that_are_not_news_are_rejected_by_name_and_the_rest_loads(tmp_path: Path) -> None:
    (tmp_path / "reuters_ok.csv").write_text("Headlines,Time\nMarkets rally,Jul 18 2020\n")
    (tmp_path / "prices.csv").write_text("date,close\n2020-07-17,100\n")
    (tmp_path / "page.csv").write_text("<html><body>429 Too Many Requests</body></html>\n")
    (tmp_path / "empty.csv").write_text("")
    batch = source(tmp_path).fetch()
    assert batch.items.get_column("headline").to_list() == ["Markets rally"]
    reasons = {Path(r.origin).name: r.reason for r in batch.rejections}
    assert set(reasons) == {"prices.csv", "page.csv", "empty.csv"}
    assert "prices.csv is not news data: no headline and time columns" in reasons["prices.csv"]
    assert "date,close" in reasons["prices.csv"]
    assert "429 Too Many Requests" in reasons["page.csv"]
    assert "empty" in reasons["empty.csv"]


def test_publisher_zone_comes_from_settings(tmp_path: Path) -> None:
    (tmp_path / "guardian_x.csv").write_text("Time,Headlines\n18-Jul-20,A headline\n")
    settings = NewsSettings(timezones={"guardian": "Asia/Tokyo"})
    (published,) = source(tmp_path, settings=settings).fetch().items.get_column("published_at")
    assert published == utc(2020, 7, 17, 15)


def test_a_missing_path_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="QUANTLAKE_NEWS__DIRECTORY"):
        source(tmp_path / "nowhere").fetch()
