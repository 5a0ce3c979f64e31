"""The page in a real headless Chromium: type a sentence, mark entities, read the answer,
switch views, and the layout at a phone's width. Screenshots go to $ANRC_SCREENSHOTS
(default: the test's temporary folder)."""

import os
import shutil
import threading
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

from helpers import live  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from anrc.extraction.extract import Extraction, Mention, Relation  # noqa: E402
from anrc.serve.app import create_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver"
)
TAGGED = "The <e1>singer</e1> caused a <e2>commotion</e2> ."


class Gate:
    """The classifier, held at a gate (to see the page's loading state)."""

    def __init__(self, classifier):
        self.real, self.config, self.labels = classifier, classifier.config, classifier.labels
        self.default_decoding = classifier.default_decoding
        self.default_threshold = classifier.default_threshold
        self.open = threading.Event()
        self.open.set()

    def check(self, ex):
        self.real.check(ex)

    def predict_many(self, examples, with_saliency=False):
        assert self.open.wait(30)
        return self.real.predict_many(examples, with_saliency=with_saliency)


@pytest.fixture(scope="module")
def gate(classifier):
    return Gate(classifier)


@pytest.fixture(scope="module")
def server(gate):
    with live(create_app(gate, model_card="# card\n")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--hide-scrollbars"):  # fmt: skip
        opts.add_argument(arg)
    service = webdriver.ChromeService(executable_path=DRIVER)
    driver = webdriver.Chrome(options=opts, service=service)
    yield driver
    driver.quit()


def _open(browser, url, width=1100, height=900):
    browser.set_window_size(width, height)
    browser.get(url)
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.body.dataset.ready")
    )


def _screenshot(browser, name, tmp_path):
    folder = Path(os.environ.get("ANRC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(browser.get_window_size()["width"], min(height + 120, 2400))
    assert browser.save_screenshot(str(folder / f"{name}.png"))


def _select(driver, box, words):
    start = box.get_attribute("value").index(words)
    driver.execute_script(
        "arguments[0].focus(); arguments[0].setSelectionRange(arguments[1], arguments[2]);",
        box, start, start + len(words),
    )  # fmt: skip


def _result(browser):
    return WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "result")))


def test_type_mark_predict(server, browser, classifier, tmp_path):
    _open(browser, server)
    box = browser.find_element(By.ID, "sentence")
    box.clear()
    box.send_keys("The singer caused a commotion .")
    _select(browser, box, "singer")
    browser.find_element(By.ID, "mark-e1").click()
    _select(browser, box, "commotion")
    browser.find_element(By.ID, "mark-e2").click()
    assert box.get_attribute("value") == TAGGED
    preview = browser.find_element(By.ID, "preview")
    assert "<e1>" not in preview.text  # entities in colour, not tags
    marks = preview.find_elements(By.CSS_SELECTOR, "mark")
    assert [m.get_attribute("data-entity") for m in marks] == ["e1", "e2"]
    words = [m.find_element(By.CSS_SELECTOR, ".words").text for m in marks]
    assert words == ["singer", "commotion"]
    browser.find_element(By.ID, "predict").click()
    _result(browser)
    expected = classifier.predict(TAGGED)
    assert browser.find_element(By.ID, "label").text == expected.label
    answer = browser.find_element(By.ID, "answer").text
    assert "singer" in answer and "commotion" in answer
    rows = browser.find_elements(By.CSS_SELECTOR, "#bars .bar-row")
    ranked = sorted(expected.scores, key=expected.scores.get, reverse=True)
    shown = [r.get_attribute("data-label") for r in rows]
    assert shown == [lab for lab in ranked[:5] if expected.scores[lab] >= 0.0005]
    tokens = browser.find_elements(By.CSS_SELECTOR, "#heatmap span")
    assert [t.text for t in tokens] == expected.tokens
    assert [t.get_attribute("data-entity") for t in tokens] == [r or None for r in expected.roles]
    weights = [float(t.get_attribute("data-weight")) for t in tokens]
    assert sum(weights) == pytest.approx(1.0, abs=1e-2)
    assert "Saliency" in browser.find_element(By.ID, "heat-title").text
    assert not browser.find_element(By.ID, "weights-switch").is_displayed()  # a CNN: no attention
    curl = browser.find_element(By.ID, "curl").get_attribute("textContent")
    assert curl.startswith("curl -s http://127.0.0.1:") and '"sentence":' in curl
    assert browser.find_element(By.ID, "model-card").is_displayed()
    _screenshot(browser, "page-desktop", tmp_path)


def test_examples_ctrl_enter_and_show_all(server, browser, classifier):
    _open(browser, server)
    examples = browser.find_elements(By.CSS_SELECTOR, "#examples button.example")
    assert len(examples) >= 4 and "<e1>" not in examples[1].text
    examples[1].click()
    _result(browser)
    sentence = examples[1].get_attribute("data-sentence")
    assert browser.find_element(By.ID, "sentence").get_attribute("value") == sentence
    assert browser.find_element(By.ID, "label").text == classifier.predict(sentence).label
    box = browser.find_element(By.ID, "sentence")
    box.clear()
    box.send_keys(TAGGED)
    browser.execute_script("document.getElementById('result').hidden = true;")
    box.send_keys(Keys.CONTROL, Keys.ENTER)
    _result(browser)
    assert browser.find_element(By.ID, "label").text == classifier.predict(TAGGED).label
    more = browser.find_element(By.ID, "show-all")
    if more.is_displayed():  # some labels were hidden: show them all
        more.click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#bars .bar-row")
    assert len(rows) == len(classifier.labels)


def test_loading_state(server, browser, gate):
    _open(browser, server)
    gate.open.clear()
    try:
        browser.find_element(By.ID, "predict").click()
        WebDriverWait(browser, 20).until(
            lambda d: not d.find_element(By.ID, "predict").is_enabled()
        )
        assert "Predicting" in browser.find_element(By.ID, "status").text
    finally:
        gate.open.set()
    _result(browser)
    assert browser.find_element(By.ID, "predict").is_enabled()
    assert browser.find_element(By.ID, "status").text == ""


def test_a_sentence_without_entities_shows_the_error(server, browser):
    _open(browser, server)
    box = browser.find_element(By.ID, "sentence")
    box.clear()
    box.send_keys("no entities here")
    browser.find_element(By.ID, "predict").click()
    err = WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "error").text or None)
    assert err.startswith("request: ") and "request: request:" not in err
    assert not browser.find_element(By.ID, "result").is_displayed()


def test_a_phone_width_has_no_sideways_scroll(server, browser, tmp_path):
    _open(browser, server, width=400, height=850)
    browser.find_element(By.ID, "predict").click()
    _result(browser)
    inner = browser.execute_script("return window.innerWidth")
    assert inner <= 400
    wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')].filter(e => e.offsetParent !== null"
        " && e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.id || e.tagName)"
    )
    assert wide == []
    assert browser.execute_script("return document.documentElement.scrollWidth") <= inner
    _screenshot(browser, "page-400px", tmp_path)


def test_attention_and_saliency_switch(attention_classifier, browser):
    with live(create_app(attention_classifier)) as url:
        _open(browser, url)
        browser.find_element(By.ID, "predict").click()
        _result(browser)
        expected = attention_classifier.predict_many([TAGGED], with_saliency=True)[0]
        assert browser.find_element(By.ID, "weights-switch").is_displayed()
        assert "Attention" in browser.find_element(By.ID, "heat-title").text

        def weights():
            spans = browser.find_elements(By.CSS_SELECTOR, "#heatmap span")
            return [float(s.get_attribute("data-weight")) for s in spans]

        assert weights() == pytest.approx(expected.attention, abs=1e-3)
        browser.find_element(By.ID, "weights-saliency").click()
        assert "Saliency" in browser.find_element(By.ID, "heat-title").text
        assert weights() == pytest.approx(expected.saliency, abs=1e-3)
        assert not browser.find_element(By.ID, "model-card").is_displayed()


def test_saliency_over_the_users_words(transformer_classifier, browser):
    """A word-piece model's saliency strip shows the words typed (pieces merged, no [CLS],
    [SEP] or markers), each word's weight the sum of its pieces'."""
    sentence = "The <e1>burglar</e1> caused a <e2>commotion</e2> ."
    with live(create_app(transformer_classifier)) as url:
        _open(browser, url)
        box = browser.find_element(By.ID, "sentence")
        box.clear()
        box.send_keys(sentence)
        browser.find_element(By.ID, "predict").click()
        _result(browser)
        expected = transformer_classifier.predict_many([sentence], with_saliency=True)[0]
        assert any(t.startswith("##") or t.startswith("[") for t in expected.tokens)
        spans = browser.find_elements(By.CSS_SELECTOR, "#heatmap span")
        assert [s.text for s in spans] == ["The", "burglar", "caused", "a", "commotion", "."]
        shown = [float(s.get_attribute("data-weight")) for s in spans]
        assert shown == pytest.approx(expected.words["saliency"], abs=1e-3)
        assert spans[1].get_attribute("data-entity") == "e1"
        assert spans[4].get_attribute("data-entity") == "e2"


def test_raw_text_mode_marks_the_mentions_and_lists_the_relations(classifier, browser, tmp_path):
    text = "The singer caused a commotion in the hall. Then the émigré left"
    with live(create_app(classifier)) as url:
        _open(browser, url)
        box = browser.find_element(By.ID, "sentence")
        box.clear()
        box.send_keys(text)
        threshold = browser.find_element(By.ID, "threshold")
        threshold.clear()
        threshold.send_keys("0")  # the tiny model's relations are unsure: show them all
        browser.find_element(By.ID, "extract").click()
        WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "found")))
        expected = classifier.extract(text, threshold=0.0)
        assert expected.relations and len(expected.mentions) >= 4
        shown = browser.find_element(By.ID, "found-text")
        assert shown.text == text  # the user's text, whole and in order
        marks = shown.find_elements(By.CSS_SELECTOR, "mark.mention")
        assert [m.text for m in marks] == [m.text for m in expected.mentions]
        items = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#relations li.relation")]
        assert items == [f"{r.reads} ({r.label}, {100 * r.score:.1f}%)" for r in expected.relations]
        in_relation = {m.text for m in shown.find_elements(By.CSS_SELECTOR, "mark.in-relation")}
        assert in_relation == {m.text for r in expected.relations for m in (r.e1, r.e2)}
        assert not browser.find_element(By.ID, "result").is_displayed()
        browser.save_screenshot(
            str(Path(os.environ.get("ANRC_SCREENSHOTS", tmp_path)) / "raw-text.png")
        )


def test_raw_text_mode_shows_the_models_defaults_and_takes_another_decoding(classifier, browser):
    """Left as they are, the boxes show what the model uses (GET /labels: extract); a
    decoding chosen on the page is the one POST /extract applies."""
    text = "The singer caused a commotion in the hall. Then the dog chased a cat"
    with live(create_app(classifier)) as url:
        _open(browser, url)
        threshold = browser.find_element(By.ID, "threshold")
        assert threshold.get_attribute("placeholder") == str(classifier.default_threshold)
        decoding = Select(browser.find_element(By.ID, "decoding"))
        assert classifier.default_decoding in decoding.first_selected_option.text
        box = browser.find_element(By.ID, "sentence")
        box.clear()
        box.send_keys(text)
        threshold.send_keys("0")
        decoding.select_by_value("pair")
        browser.find_element(By.ID, "extract").click()
        WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "found")))
        expected = classifier.extract(text, threshold=0.0, decoding="pair")
        assert len(expected.relations) > len(classifier.extract(text, threshold=0.0).relations)
        items = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#relations li.relation")]
        assert items == [f"{r.reads} ({r.label}, {100 * r.score:.1f}%)" for r in expected.relations]


class Overlapping:
    """A classifier whose extraction has overlapping mentions ("bag", "duffel bag"), as
    the tagger's span decoding keeps them, the longer one in a relation."""

    def __init__(self, classifier):
        self.real, self.config, self.labels = classifier, classifier.config, classifier.labels
        self.default_decoding = classifier.default_decoding
        self.default_threshold = classifier.default_threshold

    def check(self, ex):
        self.real.check(ex)

    def extract_many(self, texts, **options):
        text = texts[0]

        def at(word):
            start = text.index(word)
            return Mention(word, start, start + len(word))

        duffel, bag, whole, ball = at("duffel"), at("bag"), at("duffel bag"), at("ball")
        rel = Relation(0, ball, whole, "Content-Container(e1,e2)", "the ball is in the bag", 0.9)
        return [Extraction(text, [(0, len(text))], [duffel, whole, bag, ball], 6, [rel])]


def test_raw_text_mode_marks_one_of_overlapping_mentions(classifier, browser):
    text = "The ball was in a duffel bag ."
    with live(create_app(Overlapping(classifier))) as url:
        _open(browser, url)
        box = browser.find_element(By.ID, "sentence")
        box.clear()
        box.send_keys(text)
        browser.find_element(By.ID, "extract").click()
        WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "found")))
        shown = browser.find_element(By.ID, "found-text")
        assert shown.text == text  # nothing doubled by the overlap
        marks = shown.find_elements(By.CSS_SELECTOR, "mark.mention")
        assert [m.text for m in marks] == ["ball", "duffel bag"]
        in_relation = [m.text for m in shown.find_elements(By.CSS_SELECTOR, "mark.in-relation")]
        assert in_relation == ["ball", "duffel bag"]
