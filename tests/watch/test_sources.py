"""Source YAML: what a valid source looks like, and a clear sentence for each mistake."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import pytest
import yaml
from parsel import Selector

from zichtbaar.watch.sources import MAX_YAML_BYTES, SourceConfig, SourceError, select

VALID = """\
name: voorbeeldsite
start_urls: ["http://127.0.0.1:8081/a/page1.html"]
allowed_domains: ["127.0.0.1"]
listing: {ad_links: "div.results a.title::attr(href)", next_page: "xpath://a[@class='next']/@href"}
ad:      {text: "#description ::text", title: "h2.name::text", images: ".photos img::attr(src)", posted: "time::attr(datetime)"}
legal_basis: "DPIA-2026-03, purpose: signalling of exploitation"
retention_days: 90
rate: {concurrency: 1, delay_s: 1.0}
"""


def changed(**changes: Any) -> str:
    """The valid source with keys replaced (None removes a key); dotted keys reach inside."""
    data = yaml.safe_load(VALID)
    for dotted, value in changes.items():
        *path, key = dotted.split("__")
        target = data
        for part in path:
            target = target[part]
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return yaml.safe_dump(data)


def test_valid_source_loads_with_defaults_and_round_trips() -> None:
    config = SourceConfig.from_yaml(VALID)
    assert config.name == "voorbeeldsite"
    assert config.start_urls == ("http://127.0.0.1:8081/a/page1.html",)
    assert config.listing.next_page == "xpath://a[@class='next']/@href"
    assert config.rate.concurrency == 1 and config.rate.delay_s == 1.0
    assert config.max_pages == 500 and config.max_depth >= 10
    assert SourceConfig.from_dict(config.to_dict()) == config
    assert SourceConfig.from_yaml(yaml.safe_dump(config.to_dict())) == config


@pytest.mark.parametrize("name", ["voorbeeldsite", "proefadvertenties"])
def test_bundled_demo_sources_are_valid(name: str) -> None:
    text = (files("zichtbaar.watch") / "data" / "sources" / f"{name}.yaml").read_text()
    config = SourceConfig.from_yaml(text)
    assert config.name == name
    assert config.legal_basis


@pytest.mark.parametrize(("changes", "message"), [
    ({"legal_basis": None}, "'legal_basis' is missing or empty: crawling refuses without it"),
    ({"legal_basis": "   "}, "'legal_basis' is missing or empty: crawling refuses without it"),
    ({"name": None}, "'name' is missing"),
    ({"name": "voorbeeld site!"}, "'name' may contain only"),
    ({"start_urls": None}, "'start_urls' is missing"),
    ({"start_urls": []}, "'start_urls' is missing"),
    ({"start_urls": ["ftp://127.0.0.1/x"]}, "'start_urls': 'ftp://127.0.0.1/x' is not an http"),
    ({"start_urls": ["http://elders.example/a/page1.html"]},
     "'start_urls': 'http://elders.example/a/page1.html' is outside allowed_domains"),
    ({"allowed_domains": None}, "'allowed_domains' is missing"),
    ({"allowed_domains": ["http://127.0.0.1/"]}, "'allowed_domains': 'http://127.0.0.1/' must "
                                                 "be a bare host name"),
    ({"listing": None}, "'listing' is missing or not a mapping"),
    ({"listing__ad_links": None}, "'listing.ad_links' must be a non-empty selector"),
    ({"ad__text": None}, "'ad.text' must be a non-empty selector"),
    ({"ad__text": "regex:[0-9]+"}, "'ad.text': unknown selector syntax 'regex:[0-9]+'"),
    ({"listing__next_page": "xpath://a[@class="}, "'listing.next_page': unknown selector syntax"),
    ({"ad__title": "xpath:"}, "'ad.title' has a 'xpath:' prefix but no expression"),
    ({"ad__price": "span.price::text"}, "Unknown key(s) in 'ad': price"),
    ({"schedule": "daily"}, "Unknown key(s): schedule"),
    ({"rate__delay_s": -1}, "'rate.delay_s' must not be negative"),
    ({"rate__concurrency": -2}, "'rate.concurrency' must not be negative"),
    ({"rate__concurrency": 0}, "'rate.concurrency' must be at least 1"),
    ({"rate__delay_s": "fast"}, "'rate.delay_s' must be a number"),
    ({"retention_days": -5}, "'retention_days' must not be negative"),
    ({"max_pages": 2.5}, "'max_pages' must be a whole number"),
])
def test_each_mistake_is_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SourceError) as error:
        SourceConfig.from_yaml(changed(**changes))
    assert message in str(error.value)


def test_missing_legal_basis_is_marked_so_crawling_can_refuse_it() -> None:
    with pytest.raises(SourceError) as error:
        SourceConfig.from_yaml(changed(legal_basis=None))
    assert error.value.key == "legal_basis"


@pytest.mark.parametrize(("text", "message"), [
    ("name: [unclosed", "not valid YAML"),
    ("- just\n- a list\n", "must be a YAML mapping"),
    ("", "must be a YAML mapping"),
    ("plain text", "must be a YAML mapping"),
])
def test_text_that_is_not_a_source_mapping_is_refused(text: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        SourceConfig.from_yaml(text)


def test_oversized_file_is_refused_before_parsing() -> None:
    text = VALID + "# " + "x" * MAX_YAML_BYTES + "\n"
    with pytest.raises(SourceError, match="larger than 64 KB"):
        SourceConfig.from_yaml(text)


def test_select_reads_css_with_text_and_attr_and_prefixed_xpath() -> None:
    page = Selector(text="""
        <div class="results"><a class="title" href="/a/ad/1.html">Een</a>
        <a class="title" href="/a/ad/2.html">Twee</a></div>
        <a class="next" href="page2.html">Volgende</a>
        <div id="description"><p>Hoi,  ik ben</p> <p>Mira</p></div>""")
    assert select(page, "div.results a.title::attr(href)") == ["/a/ad/1.html", "/a/ad/2.html"]
    assert select(page, "css:div.results a.title::text") == ["Een", "Twee"]
    assert select(page, "xpath://a[@class='next']/@href") == ["page2.html"]
    assert [t.strip() for t in select(page, "#description ::text") if t.strip()] == [
        "Hoi,  ik ben", "Mira"]
    assert select(page, "span.absent::text") == []
