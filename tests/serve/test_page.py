"""The page in a real headless Chromium: type a sentence, mark entities, read the answer."""

import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from anrc.serve.app import create_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver"
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(classifier):
    port = _free_port()
    config = uvicorn.Config(create_app(classifier), host="127.0.0.1", port=port, log_level="error")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    service = webdriver.ChromeService(executable_path=DRIVER)
    driver = webdriver.Chrome(options=opts, service=service)
    yield driver
    driver.quit()


def _select(driver, box, words):
    start = box.get_attribute("value").index(words)
    driver.execute_script(
        "arguments[0].focus(); arguments[0].setSelectionRange(arguments[1], arguments[2]);",
        box, start, start + len(words),
    )  # fmt: skip


def test_type_mark_predict(server, browser, classifier):
    browser.get(server)
    box = browser.find_element(By.ID, "sentence")
    box.clear()
    box.send_keys("The singer caused a commotion .")
    _select(browser, box, "singer")
    browser.find_element(By.ID, "mark-e1").click()
    _select(browser, box, "commotion")
    browser.find_element(By.ID, "mark-e2").click()
    tagged = "The <e1>singer</e1> caused a <e2>commotion</e2> ."
    assert box.get_attribute("value") == tagged
    browser.find_element(By.ID, "predict").click()
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "result")))
    expected = classifier.predict(tagged)
    assert browser.find_element(By.ID, "label").text == expected.label
    rows = browser.find_elements(By.CSS_SELECTOR, "#bars .bar-row")
    assert sorted(r.get_attribute("data-label") for r in rows) == sorted(expected.scores)
    assert rows[0].get_attribute("data-label") == expected.label  # highest first
    tokens = browser.find_elements(By.CSS_SELECTOR, "#heatmap span")
    assert [t.text for t in tokens] == expected.tokens
    weights = [float(t.get_attribute("data-weight")) for t in tokens]
    assert sum(weights) == pytest.approx(1.0, abs=1e-2)
    assert "Saliency" in browser.find_element(By.ID, "heat-title").text


def test_a_sentence_without_entities_shows_the_error(server, browser):
    browser.get(server)
    box = browser.find_element(By.ID, "sentence")
    box.clear()
    box.send_keys("no entities here")
    browser.find_element(By.ID, "predict").click()
    err = WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "error").text or None)
    assert "request:" in err
    assert not browser.find_element(By.ID, "result").is_displayed()
