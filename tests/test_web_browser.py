"""The search page as a person uses it: headless Chromium (Debian's chromium and
chromium-driver, through Selenium) types into the box, clicks links and reads what is shown.

JavaScript is switched off in the browser: the page must work with plain forms and links.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("selenium", reason="the browser tests need selenium: pip install -e '.[test]'")

from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no headless Chromium here: apt-get install chromium chromium-driver (Debian)",
)
# Without these, Chromium in a closed network and without a display stalls or phones home.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,900",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    with tempfile.TemporaryDirectory() as profile:
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER or ""))
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def page(browser: Any, served_index: tuple[str, Path]) -> Any:
    """The browser on the server's front page."""
    browser.get(served_index[0])
    return browser


def follow(page: Any, action: Callable[[], object]) -> None:
    """Does `action` (a click, a key) and waits until the page it leads to has loaded."""
    old = page.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(page, 10).until(lambda _: _gone(old))
    WebDriverWait(page, 10).until(
        lambda p: p.execute_script("return document.readyState") == "complete"
    )


def _gone(element: Any) -> bool:
    """Returns whether `element` left the page. Chromium reports a node of a page that has
    gone as stale or, in a race with the new page, as not belonging to the document."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as e:
        if "does not belong to the document" in str(e):
            return True
        raise
    return False


def click(page: Any, link_text: str) -> None:
    follow(page, page.find_element(By.LINK_TEXT, link_text).click)


def search(page: Any, text: str) -> None:
    box = page.find_element(By.NAME, "q")
    box.clear()
    follow(page, lambda: box.send_keys(text, Keys.ENTER))


def texts(page: Any, selector: str) -> list[str]:
    return [e.text for e in page.find_elements(By.CSS_SELECTOR, selector)]


def test_javascript_is_off(page: Any) -> None:
    page.get("data:text/html,<p id=p>off</p><script>document.getElementById('p').id='on'</script>")
    assert texts(page, "#p") == ["off"]


def test_a_phrase_shows_its_hits_highlighted(page: Any) -> None:
    search(page, '"cooperation plan"')
    assert page.find_element(By.NAME, "q").get_attribute("value") == '"cooperation plan"'
    assert page.find_element(By.ID, "summary").text.startswith("1–5 of 5 hits (")
    assert texts(page, ".hit .title") == [
        "Ministry of Defense officials said the cooperation plan is on schedule.",
        "Officials agreed to cooperate on planning.",
        "Army plan of cooperation",
        "The Ministry of Defense of Belarus and the Ministry of Defense of Azerbaijan signed the"
        " bilateral…",
        "The Minister of Defense of the Republic of Azerbaijan, Colonel General Zakir Hasanov has"
        " met with…",
    ]
    assert texts(page, ".hit .date") == ["2019-10-30", "2019-11-01", "2019", "2019-10", "2019-10"]
    assert texts(page, ".hit:nth-child(3) .tag") == ["defense", "Army"]
    assert set(texts(page, ".hit mark")) == {
        "cooperation plan",
        "cooperative planning",
        "Cooperation Plan",
    }


def test_a_syntax_error_shows_under_the_box_instead_of_hits(page: Any) -> None:
    search(page, '"unbalanced')
    assert page.find_element(By.ID, "problem").text == (
        'unbalanced quote: this " is never closed (at position 0)\n"unbalanced\n^'
    )
    assert page.find_elements(By.CSS_SELECTOR, ".hit") == []
    assert page.find_element(By.NAME, "q").get_attribute("value") == '"unbalanced'


def test_markup_in_a_document_shows_as_text(page: Any) -> None:
    search(page, "id:w-script")
    assert texts(page, ".hit .title") == ["<script>alert(1)</script>"]
    assert texts(page, ".hit .tag") == ["<i>markup</i>"]
    assert texts(page, ".hit .source") == ["Evil & <Co>"]
    assert page.find_elements(By.CSS_SELECTOR, "script, img, b, i") == []
    with pytest.raises(NoAlertPresentException):
        _ = page.switch_to.alert.text


def test_clicking_a_tag_narrows_the_query_and_the_total(page: Any) -> None:
    search(page, "plan")
    assert page.find_element(By.ID, "total").text == "21"
    click(page, "grain")
    assert page.find_element(By.NAME, "q").get_attribute("value") == "plan tag:grain"
    assert page.find_element(By.ID, "total").text == "2"
    assert all("grain" in tags for tags in texts(page, ".hit .meta"))


def test_paging_goes_through_every_hit_once(page: Any) -> None:
    search(page, "plan")
    seen = texts(page, ".hit .id")
    click(page, "next →")
    assert page.find_element(By.ID, "summary").text.startswith("11–20 of 21 hits")
    seen += texts(page, ".hit .id")
    click(page, "next →")
    seen += texts(page, ".hit .id")
    assert page.find_elements(By.LINK_TEXT, "next →") == []
    assert len(seen) == len(set(seen)) == 21
    click(page, "← previous")
    assert page.find_element(By.ID, "summary").text.startswith("11–20 of 21 hits")


def test_sort_and_date_range_from_the_form(page: Any) -> None:
    page.find_element(By.NAME, "q").send_keys("plan")
    Select(page.find_element(By.NAME, "sort")).select_by_visible_text("newest first")
    page.find_element(By.NAME, "from").send_keys("2019-10")
    page.find_element(By.NAME, "to").send_keys("2019-11")
    follow(page, page.find_element(By.CSS_SELECTOR, "button[type=submit]").click)
    assert texts(page, ".hit .date") == [
        "2019-11-30",
        "2019-11-01",
        "2019-11-01T01:30:00+03:00",
        "2019-10-31T00:00:00Z",
        "2019-10-31",
        "2019-10-30",
        "2019-10-05",
        "2019-10",
        "2019-10",
        "2019",
    ]
    assert Select(page.find_element(By.NAME, "sort")).first_selected_option.text == "newest first"
    assert page.find_element(By.NAME, "from").get_attribute("value") == "2019-10"


def test_a_hit_opens_its_article_with_the_query_marked(page: Any) -> None:
    search(page, '"cooperation plan"')
    click(page, "Army plan of cooperation")
    assert texts(page, ".article .title") == ["Army plan of cooperation"]
    assert texts(page, ".article .meta") == ["2019 · defense · Army · j-army"]
    assert texts(page, ".article .body") == ["The army cooperation plan was signed."]
    assert texts(page, ".article mark") == ["cooperation plan"]
    assert texts(page, "#similar li a")[:2] == [
        "Army cooperation in 2018",
        "The army of Armenia signed a treaty of cooperation.",
    ]
    click(page, "← back to the results")
    assert page.find_element(By.NAME, "q").get_attribute("value") == '"cooperation plan"'
    assert page.find_element(By.ID, "total").text == "5"


def test_an_unknown_article_says_so(page: Any, served_index: tuple[str, Path]) -> None:
    page.get(f"{served_index[0]}article/no-such-id")
    assert (
        page.find_element(By.ID, "problem").text == "no document with id 'no-such-id' in the index"
    )


def test_did_you_mean_links_to_the_corrected_query(page: Any) -> None:
    search(page, "coperation")
    assert page.find_element(By.ID, "total").text == "0"
    assert page.find_element(By.ID, "suggestion").text == "Did you mean cooperation?"
    click(page, "cooperation")
    assert page.find_element(By.NAME, "q").get_attribute("value") == "cooperation"
    assert page.find_element(By.ID, "total").text == "15"


def test_expand_from_the_form_keeps_the_matches(page: Any) -> None:
    search(page, "grain")
    plain = texts(page, ".hit .id")
    assert page.find_element(By.ID, "total").text == str(len(plain)) == "6"
    page.find_element(By.NAME, "expand").click()
    follow(page, page.find_element(By.CSS_SELECTOR, "button[type=submit]").click)
    assert page.current_url.endswith("&expand=1")
    assert page.find_element(By.NAME, "expand").is_selected()
    assert sorted(texts(page, ".hit .id")) == sorted(plain)  # the same matches, re-ranked


def test_an_article_links_its_extra_keyword_fields(
    page: Any, served_index: tuple[str, Path]
) -> None:
    page.get(f"{served_index[0]}article/w-places")
    assert texts(page, ".article .meta") == [
        "1987-04-02 · soybean · place: usa · place: ussr · w-places"
    ]
    click(page, "ussr")
    assert page.find_element(By.NAME, "q").get_attribute("value") == "place:ussr"
    assert texts(page, ".hit .id") == ["w-places"]
    click(page, "soybean")
    assert page.find_element(By.NAME, "q").get_attribute("value") == "place:ussr tag:soybean"


def test_clicking_a_facet_or_a_date_bar_narrows_the_total(page: Any) -> None:
    search(page, "plan")
    assert texts(page, ".facet h3") == ["tag:", "source:"]
    assert [" ".join(row.split()) for row in texts(page, ".facet li")] == [
        *("defense 4", "army 2", "grain 2", "belarus 1", "plan 1", "wheat 1"),
        "reuters 1",
    ]
    follow(page, page.find_element(By.CSS_SELECTOR, ".facet a[href*=grain]").click)
    assert page.find_element(By.NAME, "q").get_attribute("value") == "plan tag:grain"
    assert page.find_element(By.ID, "total").text == "2"
    search(page, "plan")
    bars = page.find_elements(By.CSS_SELECTOR, "#dates a")
    assert [bar.get_attribute("aria-label") for bar in bars] == ["2018: 2", "2019: 15", "2021: 1"]
    follow(page, bars[1].click)
    assert page.find_element(By.NAME, "q").get_attribute("value") == "plan date:2019"
    assert page.find_element(By.ID, "total").text == "15"


def test_facets_of_every_keyword_field(page: Any) -> None:
    search(page, "soybean OR alert")
    assert texts(page, ".facet h3") == ["tag:", "source:", "place:"]
    assert [" ".join(row.split()) for row in texts(page, ".facet li")] == [
        *("<i>markup</i> 1", "soybean 1", "evil & <co> 1", "usa 1", "ussr 1"),
    ]
    follow(page, page.find_element(By.LINK_TEXT, "usa").click)
    assert (
        page.find_element(By.NAME, "q").get_attribute("value") == "(soybean OR alert) AND place:usa"
    )
    assert texts(page, ".hit .id") == ["w-places"]
