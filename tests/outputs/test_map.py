"""The map page: names from layers stay inert data, the page draws offline, and the PNG twin."""

import base64
import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import time
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from siting.outputs.maps import map_data, map_page, render_map, render_png, script_json, unwrap_longitudes
from siting.outputs.results import Plan
from siting.solve import SolveReport

HOSTILE = ["${window.__pwned=1}", "${alert(1)}", "O`Brien Dam", "</script><script>window.__pwned=1</script>",
           '<img src=x onerror="window.__pwned=1">', "quotes ' and \" and \\", "line\u2028sep\u2029para",
           "{{leaflet_js}}", "<!-- <script>", "cost $x^2$ \\frac"]
SCENARIO = "</title><script>window.__pwned=1</script>"


def hostile_plan():
    """Three sites around the antimeridian and two regions, every name hostile; no solve needed."""
    sites = pd.DataFrame({
        "site_id": ["S0", "S1", "S2"], "name": HOSTILE[0:3], "fuel": ["hydro", "wind", HOSTILE[3]],
        "longitude": [179.0, -178.5, 177.0], "latitude": [-17.0, -15.0, -40.0],
        "it_mw": [400.0, 100.0, 20.0], "cooling": [HOSTILE[4], "air", "air"],
        "inference_mw": [300.0, 80.0, 10.0], "training_mw": [100.0, 20.0, 10.0],
        "power_used_mw": [440.0, 110.0, 22.0], "firm_mw": [500.0, 200.0, 30.0],
        "price_usd_per_mwh": [40.0, 35.0, np.nan], "backhaul": ["fiber", "satellite", HOSTILE[5]],
        "sat_gbps": [0.0, 10.0, 0.0], "total_musd": [1234.5, 321.0, 50.0]})
    regions = pd.DataFrame({
        "region_id": [7, 8], "name": HOSTILE[6:8], "longitude": [178.4, -171.8], "latitude": [-18.1, -13.8],
        "inference_mw": [300.0, 90.0], "latency_ms": [50.0, 80.0], "served_mw": [300.0, 90.0],
        "satellite_mw": [0.0, 80.0], "unmet_mw": [0.0, 0.0], "n_sites": [2, 1]})
    assignments = pd.DataFrame({
        "region_id": [7, 7, 8], "region_name": [HOSTILE[6], HOSTILE[6], HOSTILE[7]],
        "site_id": ["S0", "S2", "S1"], "site_name": [HOSTILE[0], HOSTILE[2], HOSTILE[1]],
        "link": ["fiber", "fiber", HOSTILE[8]], "mw": [290.0, 10.0, 80.0], "rtt_ms": [5.0, 20.0, 40.0],
        "latency_limit_ms": [50.0, 50.0, 80.0], "share_of_region": [290 / 300, 10 / 300, 80 / 90]})
    report = SolveReport("optimal", "optimal", 1.0, 1.0, 0.0, 0.0, 0.0)
    plan = Plan(sites, assignments, regions, pd.DataFrame({"component": [], "pv_musd": []}), report,
                {"scenario": SCENARIO + HOSTILE[9]})
    inp = SimpleNamespace(sites=sites[["site_id", "longitude", "latitude"]],
                          regions=regions[["region_id", "longitude", "latitude"]])
    return plan, inp


class Elements(HTMLParser):
    """Every start tag with its attributes, and the raw text of each script, as a browser parses them."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.tags, self.scripts, self.title, self._in = [], [], "", None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "title"):
            self._in = tag
            if tag == "script":
                self.scripts.append([dict(attrs), ""])

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1][1] += data
        elif self._in == "title":
            self.title += data


@pytest.fixture(scope="module")
def page():
    plan, inp = hostile_plan()
    return map_page(map_data(plan, inp))


def test_hostile_names_are_only_json_data(page):
    doc = Elements(page)
    assert [(a.get("type"), a.get("id")) for a, _ in doc.scripts] == [
        ("application/json", "plan-data"), ("application/json", "countries-data"), (None, None), (None, None)]
    data = json.loads(doc.scripts[0][1])
    assert [s["name"] for s in data["sites"]] == HOSTILE[0:3]
    assert [r["name"] for r in data["regions"]] == HOSTILE[6:8]
    assert {f["fuel"] for f in data["legend"]["fuels"]} == {"hydro", "wind", HOSTILE[3]}
    assert data["sites"][0]["rows"][4] == ["cooling", HOSTILE[4]]
    # Every trace of the payloads is inside the JSON element, none in markup or script source.
    assert page.count("__pwned") == doc.scripts[0][1].count("__pwned") + doc.title.count("__pwned")
    assert "img" not in {tag for tag, _ in doc.tags}
    for raw in ("</script><script>", "<img", "\u2028", "\u2029", "<!-- <script>"):
        assert raw not in page, raw
    assert doc.title == "siting plan: " + SCENARIO + HOSTILE[9]


def test_page_needs_no_network_and_only_its_own_scripts_may_run(page):
    doc = Elements(page)
    assert not [(t, a) for t, a in doc.tags if "src" in a or "href" in a]
    csp = next(a["content"] for t, a in doc.tags if a.get("http-equiv") == "Content-Security-Policy")
    for _attrs, text in doc.scripts[2:]:
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1]
    assert "leaflet" in page.lower() and "bindPopup" in page and "sourceMappingURL" not in page


@given(st.text())
def test_script_json_round_trips_and_cannot_close_an_element(text):
    out = script_json({"name": text})
    assert json.loads(out) == {"name": text}
    assert not set(out) & {"<", ">", "&", "\u2028", "\u2029"}


@pytest.mark.parametrize("lon, span", [
    ([170.0, -170.0, 175.0, -175.0], 20.0),   # Pacific: one window across the antimeridian
    ([-10.0, 30.0, 100.0], 110.0),            # no wrap needed
    ([-179.0, 179.0], 2.0),
    ([120.0, -60.0, 0.0], 180.0),              # widest gap (120 -> 300) is left out
    ([5.0], 0.0),
])
def test_longitudes_unwrap_into_the_smallest_window(lon, span):
    out = unwrap_longitudes(lon)
    assert out.max() - out.min() == pytest.approx(span)
    assert np.allclose((out - np.asarray(lon)) % 360.0, 0.0)
    assert -180.0 <= (out.max() + out.min()) / 2 <= 180.0


def test_a_pacific_plan_is_centred_on_the_pacific_with_short_links():
    plan, inp = hostile_plan()
    data = map_data(plan, inp)
    (south, west), (north, east) = data["bounds"]
    assert east - west == pytest.approx(188.2 - 177.0)
    assert abs(abs((west + east) / 2) - 180.0) < 5.0  # centred on the antimeridian
    assert west < -180.0 < east or west < 180.0 < east
    for link in data["links"]:
        (_, lon0), (_, lon1) = link["latlngs"]
        assert abs(lon1 - lon0) < 10.0
    assert [link["satellite"] for link in data["links"]] == [False, False, True]
    assert {-360.0, 0.0, 360.0} <= set(data["copies_deg"])


def test_png_is_written_for_hostile_names(tmp_path):
    plan, inp = hostile_plan()
    render_png(plan, inp, tmp_path / "map.png")
    head = (tmp_path / "map.png").read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (1400, 800)


# --- in a real browser ------------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe"]
PROBE = """JSON.stringify((() => {
  const texts = [];
  for (const path of document.querySelectorAll("path.leaflet-interactive")) {
    for (const type of ["mouseover", "click"]) {
      path.dispatchEvent(new MouseEvent(type, {bubbles: true, clientX: 10, clientY: 10}));
      const shown = document.querySelectorAll(".leaflet-popup-content, .leaflet-tooltip");
      for (const el of shown) texts.push(el.textContent);
    }
  }
  return {pwned: window.__pwned === undefined ? null : String(window.__pwned), title: document.title,
          panes: document.querySelectorAll(".leaflet-pane").length,
          paths: document.querySelectorAll("path").length,
          legend: (document.querySelector(".siting-legend") || {}).textContent || "",
          images: document.images.length, scripts: document.scripts.length, texts};
})())"""


class DevTools:
    """Headless chromium driven over the DevTools protocol on a pipe (fds 3 and 4, NUL-framed JSON)."""

    def __init__(self, exe, profile):
        to_child, self._to = os.pipe()
        self._from, from_child = os.pipe()
        hi = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
        for fd in (to_child, from_child):
            os.close(fd)

        def fds_3_and_4():
            os.dup2(hi[0], 3)
            os.dup2(hi[1], 4)
        self.proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     preexec_fn=fds_3_and_4, close_fds=False, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for fd in hi:
            os.close(fd)
        self._buf, self._id, self.events = b"", 0, []

    def _read(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._from, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, timeout_s=30.0, **params):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def collect(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read(deadline))
        except TimeoutError:
            pass

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self._to)
        os.close(self._from)


def open_in_chromium(path, profile):
    """Load ``path`` and return (the probe's findings, what the page reported: errors, dialogs, requests)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    browser = DevTools(exe, profile)
    try:
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            browser.call(f"{domain}.enable", session)
        browser.call("Page.navigate", session, url=path.as_uri())
        deadline = time.monotonic() + 30
        while not any(e.get("method") == "Page.loadEventFired" for e in browser.events):
            browser.collect(0.2)
            assert time.monotonic() < deadline, "the page did not load"
        browser.collect(1.0)
        probe = json.loads(browser.call("Runtime.evaluate", session, expression=PROBE,
                                        returnByValue=True)["result"]["value"])
        browser.collect(0.5)
    finally:
        browser.close()
    ev = [e for e in browser.events if e.get("sessionId") == session]
    seen = {
        "errors": [e["params"] for e in ev if e["method"] == "Runtime.exceptionThrown"
                   or (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
                   or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")],
        "dialogs": [e["params"] for e in ev if e["method"] == "Page.javascriptDialogOpening"],
        "requests": [e["params"]["request"]["url"] for e in ev if e["method"] == "Network.requestWillBeSent"]}
    return probe, seen


def test_the_browser_probe_sees_a_script_that_ran_and_a_console_error(tmp_path):
    """The detector itself: a page that runs an injected script and logs errors is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<title>t</title><script>window.__pwned=1; console.error('boom');</script>"
                   "<img src=x onerror='window.__pwned=2'><script>throw new Error('bang')</script>")
    probe, seen = open_in_chromium(bad, tmp_path / "profile")
    assert probe["pwned"] in ("1", "2")
    messages = json.dumps(seen["errors"])
    assert "boom" in messages and "bang" in messages


def test_map_draws_offline_in_chromium_and_no_injected_script_runs(tmp_path):
    plan, inp = hostile_plan()
    render_map(plan, inp, tmp_path / "map.html")
    probe, seen = open_in_chromium(tmp_path / "map.html", tmp_path / "profile")
    assert seen["errors"] == [] and seen["dialogs"] == []
    assert probe["pwned"] is None and probe["images"] == 0 and probe["scripts"] == 4
    assert probe["title"] == "siting plan: " + SCENARIO + HOSTILE[9]
    assert all(url.startswith(("file:", "data:")) for url in seen["requests"]), seen["requests"]
    assert probe["panes"] >= 6
    # 3 copies of 177 countries, 3 links, 2 regions, 3 sites, the legend's 2 lines are <line>.
    assert probe["paths"] >= 3 * 177 + 3 + 2 + 3
    text = " ".join(probe["texts"])
    for name in HOSTILE[0:3] + HOSTILE[6:8]:
        assert name in text, name
    assert HOSTILE[4] in text and HOSTILE[3] in probe["legend"]
