"""The review-site adapter: stars, text and title, brand, the real Trustpilot sample."""

import glob
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.adapters import AdapterError, AdapterOptions, read
from cxpulse.adapters.reviews import _SPACE, review_pages, review_site, starts_with

HEADER = "id,filtered,pending,text,rating,title,likes,experienced,published,source\n"
PAGE = "https://www.trustpilot.com/review/www.northwind.com?page=1"


def write(tmp_path, lines: list[str], name: str = "export.csv", header: str = HEADER):
    path = tmp_path / name
    path.write_bytes((header + "".join(line + "\n" for line in lines)).encode())
    return path


def test_a_review_becomes_an_inbound_row_with_stars_and_title_first(tmp_path):
    path = write(
        tmp_path,
        [
            f'r1,False,False,"Slow to pay,\nbut paid.",3,Meh,2,,2024-03-08T05:40:39.000Z,{PAGE}',
            f"r2,False,False,Great service from Chase,5,Great service,0,,2024-03-09T00:00Z,{PAGE}",
        ],
    )
    rows = read("reviews", path, AdapterOptions()).rows
    assert rows["id"].tolist() == ["review:trustpilot.com:r1", "review:trustpilot.com:r2"]
    assert rows["text"].tolist() == ["Meh\n\nSlow to pay,\nbut paid.", "Great service from Chase"]
    assert rows[["rating", "likes"]].values.tolist() == [[3, 2], [5, 0]]
    assert rows["brand"].tolist() == ["northwind.com"] * 2
    assert set(rows["direction"]) == {"inbound"} and set(rows["channel"]) == {"review"}
    assert rows["created_at"].iloc[0] == pd.Timestamp("2024-03-08 05:40:39", tz="UTC")
    assert rows["line"].tolist() == [2, 4]


def test_a_review_that_repeats_its_title_after_any_leading_whitespace_is_stored_alone(tmp_path):
    path = write(
        tmp_path,
        [
            f"r1,False,False,\u3000\x1c Great service again,5,Great service!,0,,2024-03-09,{PAGE}",
            f"r2,False,False,\u200b Great service again,5,Great service!,0,,2024-03-09,{PAGE}",
        ],
    )
    assert read("reviews", path, AdapterOptions()).rows["text"].tolist() == [
        "\u3000\x1c Great service again",
        "Great service!\n\n\u200b Great service again",  # a zero-width space is not blank
    ]


def test_space_is_every_character_python_strips():
    assert set(_SPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}


@pytest.mark.parametrize(
    ("name", "options", "brand"),
    [
        ("export.csv", AdapterOptions(), "northwind.com"),
        ("akc_reviews.csv", AdapterOptions(), "akc"),
        ("akc_reviews.csv", AdapterOptions(accounts={"northwind.com": "Northwind"}), "Northwind"),
        ("akc_reviews.csv", AdapterOptions(brand="Contoso"), "Contoso"),
    ],
)
def test_brand_comes_from_option_mapping_file_name_or_domain(tmp_path, name, options, brand):
    path = write(tmp_path, [f"r1,False,False,ok,4,ok,0,,2024-03-09T00:00:00Z,{PAGE}"], name)
    assert read("reviews", path, options).rows["brand"].tolist() == [brand]


def test_another_site_is_read_through_a_column_map(tmp_path):
    path = write(
        tmp_path, ["9,Fine,4,2024-01-02 10:00,Fabrikam"], header="rid,body,stars,date,company\n"
    )
    options = AdapterOptions(
        column_map={
            "id": "rid",
            "text": "body",
            "rating": "stars",
            "published": "date",
            "brand": "company",
        },
        timezone="America/New_York",
    )
    rows = read("reviews", path, options).rows
    assert rows[["id", "brand", "text", "rating"]].values.tolist() == [
        ["review:fabrikam:9", "Fabrikam", "Fine", 4]  # no site URL: scoped by brand
    ]
    assert rows["created_at"].iloc[0] == pd.Timestamp("2024-01-02 15:00", tz="UTC")


def test_bad_stars_and_dates_are_set_aside(tmp_path):
    path = write(
        tmp_path,
        [
            f"r1,False,False,x,five,t,0,,2024-03-09T00:00:00Z,{PAGE}",
            f"r2,False,False,x,,t,0,,2024-03-09T00:00:00Z,{PAGE}",
            f"r3,False,False,x,4,t,0,,last week,{PAGE}",
            "r4,False,False,x,4,t,0,,2024-03-09T00:00:00Z,",
        ],
        name="export.csv",
    )
    reasons = read("reviews", path, AdapterOptions()).rows["reason"].tolist()
    assert reasons == [
        "rating: not a whole number of stars",
        "rating is missing",
        "published: not an ISO 8601 timestamp",
        "no brand: give --brand, a brand column or a source URL naming the review page",
    ]


def test_a_mapped_column_missing_from_the_file_is_refused(tmp_path):
    path = write(tmp_path, [], header="id,text,rating,published\n")
    with pytest.raises(AdapterError, match=r"mapped column\(s\) \['stars'\] not in the file"):
        read("reviews", path, AdapterOptions(column_map={"rating": "stars"}))


SOURCE_BRANDS = {  # SOURCE.md: reviews, mean stars, first review month
    "akc": (838, 4.49, "2018-01"),
    "aspca": (5556, 4.38, "2016-03"),
    "embrace": (3495, 4.18, "2019-07"),
    "fetch": (2049, 4.33, "2022-01"),
    "figo": (1803, 4.12, "2015-12"),
    "healthypaws": (2211, 4.44, "2015-02"),
    "lemonade": (1302, 4.28, "2017-09"),
    "petsbest": (4279, 4.10, "2015-12"),
    "pumpkin": (998, 4.59, "2021-07"),
    "spot": (4347, 4.55, "2019-11"),
}


@pytest.fixture(scope="module")
def real(real_data):
    files = sorted(glob.glob(str(real_data / "trustpilot-pet-insurance" / "*.csv")))
    parsed = [read("reviews", f, AdapterOptions()) for f in files]
    assert all(p.rejects.empty for p in parsed)
    return pd.concat([p.rows for p in parsed], ignore_index=True)


def test_real_sample_counts_and_means_per_brand_match_source(real):
    assert len(real) == 26878 and real["id"].nunique() == 26878 and real["reason"].isna().all()
    per_brand = real.groupby("brand").agg(
        n=("id", "size"), stars=("rating", "mean"), first=("created_at", "min")
    )
    got = {b: (r.n, round(r.stars, 2), r.first.strftime("%Y-%m")) for b, r in per_brand.iterrows()}
    assert got == SOURCE_BRANDS


def test_real_sample_stars_years_and_multiline_reviews_match_source(real):
    assert real["rating"].value_counts().sort_index().tolist() == [2942, 813, 1024, 1846, 20253]
    assert round(real["rating"].mean(), 2) == 4.33
    years = real["created_at"].dt.year.value_counts().sort_index()
    assert years[[2015, 2019, 2023, 2024]].tolist() == [70, 1716, 9237, 3291]
    assert (real["line_end"] > real["line"]).sum() == 3413


def starts_with_reference(text: list[str], prefix: list[str]) -> list[bool]:
    return [bool(p) and t.lstrip().startswith(p) for t, p in zip(text, prefix, strict=True)]


def test_starts_with_compares_whole_characters_after_leading_space():
    text = ["  Great service", "Gréat", "Gr", "", "abc", "\u3000ab", "é", "e", "Bad"]
    prefix = ["Great", "Gré", "Gré", "", "", "ab", "e", "é", "Bad!"]
    got = starts_with(pd.Series(text, dtype="string"), pd.Series(prefix, dtype="string"))
    assert got.tolist() == starts_with_reference(text, prefix)
    assert got.tolist() == [True, True, False, False, False, True, False, False, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=4)), max_size=10))
def test_starts_with_agrees_with_str_startswith_on_any_text(pairs):
    text, prefix = [t for t, _ in pairs], [p for _, p in pairs]
    got = starts_with(pd.Series(text, dtype="string"), pd.Series(prefix, dtype="string"))
    assert got.tolist() == starts_with_reference(text, prefix)


def test_review_pages_reads_each_page_once_for_its_site_and_reviewed_domain():
    other = "http://Reviews.Example.org/review/www.Contoso.com"
    source = pd.Series([PAGE, None, other, PAGE, "not a url"], dtype="string")
    page, parts = review_pages(source)
    assert page.tolist() == [0, -1, 1, 0, 2]
    assert parts["site"].tolist() == ["trustpilot.com", "reviews.example.org", pd.NA]
    assert parts["domain"].tolist() == ["northwind.com", "contoso.com", pd.NA]
    assert review_site(source, (page, parts)).tolist() == review_site(source).tolist()
    assert review_site(source).tolist()[:3] == ["trustpilot.com", pd.NA, "reviews.example.org"]
