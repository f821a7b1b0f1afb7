"""The web dashboard end to end: Playwright for Python driving Debian's Chromium (headless,
no downloads) against a real `truceline serve` on 127.0.0.1 over a copy of the standard
stored day. Skips, saying why, without Playwright or Chromium; fails under CI=true."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import copy_store
from tests.web.browser import (
    all_incidents,
    api,
    choose,
    open_dashboard,
    serving,
    wait_until,
)
from truceline._time import parse_time

PROOF_OK = "checks against signed tree head of size"


def _page(browser: Any, base: str, token: str | None) -> Any:
    page = open_dashboard(browser, base, token)
    assert page.errors == [] and page.outside == []
    return page


def _shown(page: Any) -> int:
    return int(page.get_attribute("#count", "data-shown"))


def _set(page: Any, selector: str, value: str) -> None:
    choose(page, selector, *([value] if value else []))


def _colours_on_canvas(page: Any) -> dict[str, int]:
    """How many pixels of the incidents' canvas are (nearly) each party's colour."""
    return dict(
        page.evaluate(
            """() => {
            const c = document.querySelector('canvas.truceline-points');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const want = window.truceline.state.colours;
            const rgb = Object.fromEntries(Object.entries(want).map(([k, h]) =>
                [k, [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16))]));
            const out = Object.fromEntries(Object.keys(want).map(k => [k, 0]));
            for (let i = 0; i < d.length; i += 4) {
                if (d[i + 3] < 200) continue;
                for (const [k, [r, g, b]] of Object.entries(rgb)) {
                    if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 40) out[k]++;
                }
            }
            return out;
        }"""
        )
    )


CONTRAST = r"""() => {
    // WCAG 2 contrast of every visible element with text of its own against the colour
    // behind it (the nearest ancestor's background, translucent ones blended over white)
    const lum = ([r, g, b]) => {
        const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const rgba = (s) => (s.match(/[\d.]+/g) || [0, 0, 0, 0]).map(Number);
    const behind = (el) => {
        const layers = [];
        for (let e = el; e; e = e.parentElement) {
            const c = rgba(getComputedStyle(e).backgroundColor);
            if ((c[3] ?? 1) > 0) layers.push(c);
            if ((c[3] ?? 1) >= 1) break;
        }
        let out = [255, 255, 255];
        for (const c of layers.reverse()) {
            const a = c[3] ?? 1;
            out = out.map((v, i) => a * c[i] + (1 - a) * v);
        }
        return out;
    };
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
        if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
        if (el.closest('.leaflet-control-attribution')) continue;  // Leaflet's own credit line
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own) continue;
        const st = getComputedStyle(el);
        const fg = rgba(st.color);
        const [l1, l2] = [lum(fg), lum(behind(el))].sort((a, b) => b - a);
        const ratio = (l1 + 0.05) / (l2 + 0.05);
        const size = parseFloat(st.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
        if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)} "${el.textContent.trim().slice(0, 30)}"`);
    }
    return bad;
}"""


def _open_case(base: str, token: str, incident: str, accused: str, reply_days: float) -> int:
    res = api(
        base,
        token,
        "POST",
        "/v1/cases",
        json={"incident": incident, "accused": accused, "reply_days": reply_days},
    )
    assert res.status_code == 201, res.text
    return int(res.json()["id"])


def _incident(base: str, token: str, party: str, skip: int = 0) -> str:
    fires = [
        f["properties"]["id"]
        for f in all_incidents(base, token, party=party, kind="fire")
        if not f["properties"].get("alleged_by")
    ]
    return fires[skip]


def test_the_page_cannot_reach_beyond_its_server(browser: Any, served: Any) -> None:
    """The vendored libraries contain URLs (licence comments, an attribution link, a tile
    layer that fetches what it is given); the page's Content-Security-Policy makes the
    browser refuse any load from elsewhere, whatever code asks for it."""
    base, _ = served
    head = httpx.get(f"{base}/", timeout=30).headers
    assert "connect-src 'self'" in head["content-security-policy"]
    page = _page(browser, base, None)
    answered: list[str] = []  # responses from anywhere but the server (there must be none)
    page.on("requestfinished", lambda r: None if r.url.startswith(base) else answered.append(r.url))
    tried = page.evaluate(
        """async () => {
            const out = [];
            try { await fetch('https://tile.openstreetmap.org/0/0/0.png'); out.push('fetched'); }
            catch (e) { out.push('refused'); }
            const img = new Image();
            out.push(await new Promise((ok) => {
                img.onload = () => ok('loaded'); img.onerror = () => ok('refused');
                img.src = 'https://tile.openstreetmap.org/1/0/0.png';
            }));
            const tiles = L.tileLayer('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png');
            tiles.addTo(window.truceline.map.map);
            await new Promise((ok) => setTimeout(ok, 500));
            return out;
        }"""
    )
    assert tried == ["refused", "refused"]
    assert page.outside  # the attempts were made (the tile layer's among them)...
    assert answered == []  # ...and the browser let none of them out
    assert any("Content Security Policy" in e for e in page.errors)
    page.context.close()


def test_the_map_draws_every_incident_the_role_may_see(browser: Any, served: Any) -> None:
    base, tokens = served
    page = _page(browser, base, tokens["analyst"])
    expected = all_incidents(base, tokens["analyst"])
    assert len(expected) > 100
    assert _shown(page) == len(expected)
    assert page.text_content("#count") == f"{len(expected)} of {len(expected)} incidents shown"
    # drawn: one circle per incident on the map's canvas, in the API's order
    drawn = page.evaluate("window.truceline.map.drawnCount()")
    assert drawn == len(expected)
    ids = page.evaluate("window.truceline.state.features.map(f => f.properties.id)")
    assert ids == [f["properties"]["id"] for f in expected]
    # ... and painted: the points canvas holds both parties' colours, then only S's
    colours = _colours_on_canvas(page)
    assert colours["N"] > 50 and colours["S"] > 50, colours
    _set(page, "#f-party", "S")
    colours = _colours_on_canvas(page)
    assert colours["N"] == 0 and colours["S"] > 50, colours
    # the agreement: both parties in the legend, the line and zones drawn on the map
    legend = page.text_content("#legend")
    assert "N — Northern Party" in legend and "S — Southern Party" in legend
    assert page.evaluate("window.truceline.state.agreement.zones.features.length") >= 1
    assert page.text_content("#whoami") == "Signed in as ana-1 (analyst)."
    # readable: WCAG AA contrast for every text on the map view, the dossier and the queue
    assert page.evaluate(CONTRAST) == []
    page.locator("#incident-list button").first.click()
    page.wait_for_selector("#dossier:not([hidden]) #dossier-cases")
    assert page.evaluate(CONTRAST) == []
    page.keyboard.press("Escape")
    page.click("#tab-cases")
    page.wait_for_selector("#case-summary")
    assert page.evaluate(CONTRAST) == []
    # (and the check sees grey on white)
    page.evaluate(
        "document.getElementById('cases').append(Object.assign(document.createElement('p'),"
        " {textContent: 'faint', style: 'color: #999999'}))"
    )
    assert page.evaluate(CONTRAST) == ['P.: 2.59 "faint"']
    page.context.close()


def test_filters_count_what_the_api_counts(browser: Any, served: Any) -> None:
    base, tokens = served
    page = _page(browser, base, tokens["analyst"])
    everything = all_incidents(base, tokens["analyst"])
    _set(page, "#f-party", "S")
    of_s = all_incidents(base, tokens["analyst"], party="S")
    assert 0 < _shown(page) == len(of_s) < len(everything)
    _set(page, "#f-clause", "C2")
    of_s_c2 = all_incidents(base, tokens["analyst"], party="S", clause="C2")
    assert 0 < _shown(page) == len(of_s_c2) < len(of_s)
    listed = page.eval_on_selector_all("#incident-list button", "bs => bs.map(b => b.dataset.id)")
    assert listed == [f["properties"]["id"] for f in of_s_c2]
    # weapon and confidence have no API filter: count them from the API's answer
    _set(page, "#f-clause", "")
    weapon = of_s[0]["properties"]["weapon"]
    _set(page, "#f-weapon", weapon)
    assert _shown(page) == sum(f["properties"]["weapon"] == weapon for f in of_s)
    _set(page, "#f-weapon", "")
    _set(page, "#f-party", "undetermined")
    assert _shown(page) == sum(not f["properties"]["attributed_to"] for f in everything)
    _set(page, "#f-party", "")
    seq = page.evaluate("window.truceline.filterSeq")
    page.fill("#f-confidence", "95")
    wait_until(page, f"window.truceline.filterSeq > {seq}")
    assert _shown(page) == sum(f["properties"]["confidence"] >= 0.95 for f in everything)
    page.fill("#f-confidence", "0")
    # the time range: the later half of the day
    seq = page.evaluate("window.truceline.filterSeq")
    page.fill("#f-from", "500")
    wait_until(page, f"window.truceline.filterSeq > {seq}")
    start_ms, end_ms = page.evaluate("window.truceline.filters.range()")
    in_range = [
        f
        for f in everything
        if start_ms <= parse_time(f["properties"]["time_start"]) // 1000 <= end_ms  # JS: ms
    ]
    assert 0 < _shown(page) == len(in_range) < len(everything)
    assert page.evaluate("window.truceline.map.drawnCount()") == len(in_range)
    assert page.evaluate("window.truceline.timings.filter.length") >= 7
    page.context.close()


def test_a_dossier_lists_the_evidence_and_checks_each_proof(browser: Any, served: Any) -> None:
    base, tokens = served
    page = _page(browser, base, tokens["analyst"])
    first = page.locator("#incident-list button").first
    ident = first.get_attribute("data-id")
    first.focus()
    page.keyboard.press("Enter")  # the list is the keyboard's way into the dossier
    page.wait_for_selector("#dossier:not([hidden]) table.evidence")
    # focus moves once the whole dossier is drawn (the proofs are checked after the table)
    wait_until(page, "document.activeElement && document.activeElement.id === 'dossier-title'")
    expected = api(base, tokens["analyst"], "GET", f"/v1/incidents/{ident}").json()
    assert expected["evidence"]
    rows = page.locator("table.evidence tbody tr")
    assert rows.count() == len(expected["evidence"])
    wait_until(
        page,
        "[...document.querySelectorAll('.proof')].every(p => !p.classList.contains('pending'))",
    )
    proofs = page.locator(".proof").all_text_contents()
    assert len(proofs) == len(expected["evidence"])
    assert all(p.startswith("✓") and PROOF_OK in p for p in proofs), proofs
    sources = {e["observation"]["source"] for e in expected["evidence"]}
    assert {r.split("\t")[0] for r in rows.all_inner_texts()} == sources
    text = page.text_content("#dossier-body")
    assert f"Incident {ident}" in text and "1,024 fixed points" in text
    # the shares are multiplied by P(real) and P(a launch), and the dossier says so
    assert "times P(real)" in expected["properties"]["attribution_basis"]
    assert "the chance that the firing happened at all" in text
    assert "in whose control area does the firing position lie?" in text
    assert expected["properties"]["violations"][0] in text
    # the dossier says what the location's uncertainty is made of
    props = expected["properties"]
    point = "origin" if props.get("origin_crlb_m") else "impact"
    sigma, crlb = props.get(f"{point}_sigma_m"), props.get(f"{point}_crlb_m")
    if sigma and crlb and sigma > 1.05 * crlb:
        rest = (sigma**2 - crlb**2) ** 0.5
        assert f"{crlb:.1f} m is the sensors' timing noise and {rest:.1f} m" in text
    # the browser's check can fail: a changed entry or path does not verify
    bundle = expected["evidence"][0]["proof"]
    verdicts = page.evaluate(
        """async (b) => {
            const m = await import('/static/js/proof.js');
            const changed = {...b, entry: b.entry.replace('"', "'")};
            const moved = {...b, entry_index: b.entry_index + 1};
            return [(await m.checkBundle(b)).ok, (await m.checkBundle(changed)).ok,
                    (await m.checkBundle(moved)).ok];
        }""",
        bundle,
    )
    assert verdicts == [True, False, False]
    # and the tree head's Ed25519 signature, with the log's key fetched by its id
    sth = bundle["sth"]
    page.wait_for_selector("#tree-head-check.ok")
    assert f"signed by log key {sth['key_id']}" in page.text_content("#tree-head-check")
    forged = page.evaluate(
        """async (sth) => {
            const m = await import('/static/js/proof.js');
            const key = async (kid) => (await fetch(`/v1/evidence/keys/${kid}`)).json();
            const other = {...sth, tree_size: sth.tree_size + 1};
            const wrongKey = async () => ({public_key: btoa('x'.repeat(32))});
            return [(await m.checkTreeHead(sth, key)).ok, (await m.checkTreeHead(other, key)).ok,
                    (await m.checkTreeHead(sth, wrongKey)).reason];
        }""",
        sth,
    )
    assert forged[:2] == [True, False] and "is not key" in forged[2]
    # Escape closes the dossier and gives the focus back to the list
    page.keyboard.press("Escape")
    assert page.is_hidden("#dossier")
    assert page.evaluate("document.activeElement.dataset.id") == ident
    page.context.close()


def test_an_analyst_reviews_and_opens_a_case_from_the_dossier(browser: Any, served: Any) -> None:
    base, tokens = served
    ident = _incident(base, tokens["analyst"], "N", skip=3)
    page = _page(browser, base, tokens["analyst"])
    page.click(f"#incident-list button[data-id='{ident}']")
    page.wait_for_selector("#dossier:not([hidden]) form[aria-label='Review']")
    page.select_option("#review-status", "disputed")
    page.click("form[aria-label='Review'] button")
    page.wait_for_selector(f"#announce:has-text('Incident {ident}: disputed, not published')")
    got = api(base, tokens["analyst"], "GET", f"/v1/incidents/{ident}").json()["properties"]
    assert (got["status"], got["published"]) == ("disputed", False)
    assert page.input_value("#case-accused") == "N"  # the party it is attributed to
    page.fill("#case-summary-text", "Mortar fire on the line.")
    page.click("form[aria-label='Open a case'] button")
    page.wait_for_selector("#announce:has-text('opened on')")
    cases = api(base, tokens["analyst"], "GET", "/v1/cases").json()
    mine = [c for c in cases if c["state"]["incident"] == ident]
    assert len(mine) == 1 and mine[0]["state"]["accused"] == "N"
    assert mine[0]["state"]["status"] == "awaiting_reply"
    # the dossier now lists the case and its history
    page.wait_for_selector(f"#dossier-body h4:has-text('Case {mine[0]['id']}')")
    page.context.close()


def test_a_party_files_a_reply(browser: Any, served: Any) -> None:
    base, tokens = served
    incident = _incident(base, tokens["analyst"], "S")
    case = _open_case(base, tokens["analyst"], incident, "S", 7)
    page = _page(browser, base, tokens["party_s"])
    page.click("#tab-cases")
    card = page.locator(f"article.case[data-case='{case}']")
    # the card says what the party is accused of: clause and text, time, place, weapon
    alleged = card.locator("section.alleged").inner_text()
    inc = api(base, tokens["party_s"], "GET", f"/v1/incidents/{incident}").json()
    texts = {c["id"]: c["text"] for c in api(base, None, "GET", "/v1/agreement").json()["clauses"]}
    p = inc["properties"]
    for clause in p["violations"]:
        assert f"{clause} — {texts[clause]}" in alleged
    assert p["time_start"].replace("T", " ")[:19] in alleged and p["weapon"] in alleged
    assert " of " in alleged  # the place: "2.1 km N of ..."
    assert f"{len(inc['evidence'])} supporting observations" in alleged
    assert "Summary" in alleged
    card.locator("textarea").fill("The Southern Party denies firing from this position.")
    card.locator("button", has_text="File reply").click()
    page.wait_for_selector(f"#announce:has-text('Reply filed on case {case}')")
    card = page.locator(f"article.case[data-case='{case}']")
    assert "denies firing" in card.locator(".replies").text_content()
    state = api(base, tokens["analyst"], "GET", f"/v1/cases/{case}").json()["state"]
    assert [r["text"] for r in state["replies"]] == [
        "The Southern Party denies firing from this position."
    ]
    assert state["replies"][0]["party"] == "S"
    # the other party does not see the case at all, so has nothing to reply to
    other = _page(browser, base, tokens["party_n"])
    other.click("#tab-cases")
    other.wait_for_selector("#case-summary")
    assert other.locator(f"article.case[data-case='{case}']").count() == 0
    page.context.close()
    other.context.close()


def test_a_party_attaches_its_inventory_and_the_commission_downloads_it(
    browser: Any, served: Any, tmp_path: Path
) -> None:
    """ "See attached inventory" can attach it: the party picks the file in the reply form,
    the reply lists it, and a commissioner downloads the same bytes (its SHA-256 logged)."""
    import hashlib

    base, tokens = served
    incident = _incident(base, tokens["analyst"], "S", skip=9)
    case = _open_case(base, tokens["analyst"], incident, "S", 7)
    inventory = tmp_path / "inventory.csv"
    inventory.write_bytes(b"unit,weapon,position\n3rd bde,2S1,withdrawn 25 km\n")
    page = _page(browser, base, tokens["party_s"])
    page.click("#tab-cases")
    card = page.locator(f"article.case[data-case='{case}']")
    card.locator("textarea").fill("See the attached inventory: the guns were withdrawn.")
    card.locator("input[type=file]").set_input_files(str(inventory))
    card.locator("button", has_text="File reply").click()
    page.wait_for_selector(f"#announce:has-text('Reply filed on case {case} with 1 file')")
    card = page.locator(f"article.case[data-case='{case}']")
    assert "inventory.csv (" in card.locator(".replies ul.attachments").text_content()
    assert page.evaluate(CONTRAST) == []
    page.context.close()
    fr = _page(browser, base, tokens["com_fr"])
    fr.click("#tab-cases")
    card = fr.locator(f"article.case[data-case='{case}']")
    with fr.expect_download() as got:
        card.locator("ul.attachments button", has_text="inventory.csv").click()
    saved = got.value.path()
    assert got.value.suggested_filename == "inventory.csv"
    assert Path(saved).read_bytes() == inventory.read_bytes()
    digest = hashlib.sha256(inventory.read_bytes()).hexdigest()
    state = api(base, tokens["com_fr"], "GET", f"/v1/cases/{case}").json()["state"]
    assert state["replies"][0]["attachments"][0]["sha256"] == digest
    fr.context.close()


def test_two_commissioners_of_two_states_sign_a_ruling(browser: Any, served: Any) -> None:
    base, tokens = served
    incident = _incident(base, tokens["analyst"], "S", skip=1)
    case = _open_case(base, tokens["analyst"], incident, "S", 2 / 86_400)  # 2 s to reply
    time.sleep(2.5)
    fr = _page(browser, base, tokens["com_fr"])
    fr.click("#tab-cases")
    card = fr.locator(f"article.case[data-case='{case}']")
    assert card.get_attribute("data-status") == "under_review"
    form = card.locator("form.ruling-form")
    breached = api(base, tokens["analyst"], "GET", f"/v1/incidents/{incident}").json()
    assert form.locator("select[name=clause]").input_value() == ",".join(
        breached["properties"]["violations"]
    )  # the clauses the incident breaches, not "none"
    assert "What is alleged" in card.text_content()
    form.locator("select[name=decision]").select_option("violation")
    form.locator("select[name=responsible]").select_option("S")
    form.locator("select[name=clause]").select_option("C1")
    form.locator("textarea[name=remedy]").fill("Cease fire from this position.")
    form.locator("button", has_text="Sign ruling").click()
    fr.wait_for_selector(f"#announce:has-text('Case {case}: signed')")
    state = api(base, tokens["analyst"], "GET", f"/v1/cases/{case}").json()["state"]
    assert state["status"] == "under_review" and state["ruling"] is None
    assert [s["member_state"] for s in state["proposals"][0]["signatures"]] == ["FR"]
    fr.context.close()

    de = _page(browser, base, tokens["com_de"])
    de.click("#tab-cases")
    card = de.locator(f"article.case[data-case='{case}']")
    assert "com-fr (FR)" in card.locator(".proposals").text_content()
    card.locator("button", has_text="Sign this ruling").click()
    de.wait_for_selector(f"#announce:has-text('Case {case}: the ruling is in force (DE, FR)')")
    card = de.locator(f"article.case[data-case='{case}']")
    assert card.get_attribute("data-status") == "ruled"
    assert "violation; responsible: S; clause C1" in card.locator(".ruling").text_content()
    assert "null" not in card.text_content()  # no stray null under the ruling in force
    state = api(base, tokens["analyst"], "GET", f"/v1/cases/{case}").json()["state"]
    assert state["status"] == "ruled" and state["ruling"]["signed_by_states"] == ["DE", "FR"]
    assert state["ruling"]["remedy"] == "Cease fire from this position."
    # commissioners of two states reopen it (one alone cannot: issue 14, hole 5): the
    # ruling moves to the history, the parties may reply again
    reopen = {"reason": "New patrol report", "reply_days": 2}
    res = api(base, tokens["com_fr"], "POST", f"/v1/cases/{case}/reopen", json=reopen)
    assert res.json()["state"]["status"] == "ruled"
    form = card.locator(f"form[aria-label='Reopen case {case}']")
    form.locator("textarea[name=reason]").fill("New patrol report")
    form.locator("input[name=reply_days]").fill("2")
    form.locator("button").click()
    de.wait_for_selector(f"#announce:has-text('Case {case} reopened')")
    state = api(base, tokens["analyst"], "GET", f"/v1/cases/{case}").json()["state"]
    assert state["status"] == "awaiting_reply" and state["reply_open"]
    assert state["earlier_rulings"][0]["remedy"] == "Cease fire from this position."
    card = de.locator(f"article.case[data-case='{case}']")
    assert "superseded" in card.text_content()
    assert card.locator("form[aria-label^='Reopen']").count() == 0
    de.context.close()


def test_before_anything_is_published_the_public_page_says_why(
    browser: Any, stored_day: Path, tmp_path: Path
) -> None:
    """A new store (the demo publishes nothing): the public page says why it is empty, not
    "0 of 0"."""
    with serving(copy_store(stored_day, tmp_path)) as base:
        page = _page(browser, base, None)
        count = page.text_content("#count")
        assert count.startswith("Nothing has been published yet: incidents appear here once")
        assert "0 of 0" not in page.text_content("body")
        assert _shown(page) == 0 and page.evaluate(CONTRAST) == []
        page.context.close()


def test_the_public_view_hides_what_it_must(browser: Any, served: Any) -> None:
    base, tokens = served
    analyst = tokens["analyst"]
    published = [_incident(base, analyst, "S", skip=2), _incident(base, analyst, "N")]
    for ident in published:
        res = api(
            base,
            analyst,
            "PATCH",
            f"/v1/incidents/{ident}",
            json={"status": "verified", "published": True},
        )
        assert res.status_code == 200
    # a draft: one signature of a case whose reply window has closed
    draft = _open_case(base, analyst, _incident(base, analyst, "N", skip=1), "N", 1 / 86_400)
    time.sleep(1.5)
    ruling = {"decision": "no_violation", "responsible": None, "clause": "C1", "remedy": ""}
    assert api(base, tokens["com_fr"], "POST", f"/v1/cases/{draft}/rulings", json=ruling).is_success

    page = _page(browser, base, None)
    assert page.text_content("#whoami").startswith("Public view")
    public = all_incidents(base, None)
    assert sorted(f["properties"]["id"] for f in public) == sorted(published)
    assert _shown(page) == 2 and page.evaluate("window.truceline.map.drawnCount()") == 2
    shown = page.evaluate("window.truceline.state.features.map(f => f.properties)")
    assert sorted(p["id"] for p in shown) == sorted(published)
    assert all("observations" not in p and "disclosure" in p for p in shown)
    # the dossier: coarsened, and no raw observation
    page.locator("#incident-list button").first.click()
    page.wait_for_selector("#dossier:not([hidden]) #dossier-cases")
    body = page.text_content("#dossier-body")
    assert "Public view: location rounded to 0.05°" in body
    assert "The public view shows no raw observations" in body
    assert page.locator("table.evidence").count() == 0
    # the basis is withheld, yet the public is told what multiplied a firing's shares
    assert "the chance that the firing happened at all" in body
    page.keyboard.press("Escape")
    # the queue: no draft, no open case; a ruled case shows only its ruling in force
    page.click("#tab-cases")
    page.wait_for_selector("#case-summary")
    assert page.locator(f"article.case[data-case='{draft}']").count() == 0
    assert page.locator(".proposals").count() == 0 and page.locator(".replies").count() == 0
    visible = api(base, None, "GET", "/v1/cases").json()
    # ruled, or ruled once and reopened (the earlier ruling stays public)
    assert visible and all(
        c["state"]["status"] == "ruled" or c["state"].get("earlier_rulings") for c in visible
    )
    assert page.locator("article.case").count() == len(visible)
    assert page.locator("form").count() == 1  # the token form only: nothing to act on
    page.context.close()


def test_the_public_goes_from_a_published_incident_to_a_verified_proof(
    browser: Any, served: Any
) -> None:
    """A journalist: opens a published incident, finds the evidence-log entries it rests on
    (the run that found it, the analysts' review), each proof checked in the browser against
    the signed tree head, whose signature is checked too; the link is the proof itself."""
    base, tokens = served
    ident = _incident(base, tokens["analyst"], "S", skip=2)
    res = api(
        base,
        tokens["analyst"],
        "PATCH",
        f"/v1/incidents/{ident}",
        json={"status": "verified", "published": True},
    )
    assert res.status_code == 200
    page = _page(browser, base, None)
    page.click(f"#incident-list button[data-id='{ident}']")
    page.wait_for_selector("#dossier:not([hidden]) table.entries")
    wait_until(
        page,
        "[...document.querySelectorAll('.entry-proof')].every(p => !p.classList.contains('pending'))",
    )
    expected = api(base, None, "GET", f"/v1/incidents/{ident}").json()["log_entries"]
    rows = page.locator("table.entries tbody tr")
    assert rows.count() == len(expected) >= 2
    checks = page.locator(".entry-proof").all_text_contents()
    size = expected[0]["proof"]["sth"]["tree_size"]
    for e, check in zip(expected, checks, strict=True):
        assert check.startswith("✓") and f"proof of {e['name']} {PROOF_OK} {size}" in check
    links = page.eval_on_selector_all("a.proof-link", "as => as.map(a => a.getAttribute('href'))")
    assert links == [e["proof_url"] for e in expected]
    page.wait_for_selector("#tree-head-check.ok")
    # following the link gives the proof the page checked
    assert api(base, None, "GET", links[1]).json() == expected[1]["proof"]
    # the head the page first saw, against the proof's: older, newer, or a fork
    said = page.evaluate(
        """async (b) => {
            const m = await import('/static/js/proof.js');
            const n = b.sth.tree_size;
            const at = async (size, root) => m.checkBundle(b, {tree_size: size, root_hash: root});
            return [await at(n + 5, 'ff'), await at(n - 1, 'ee'), await at(n, 'dd')];
        }""",
        expected[0]["proof"],
    )
    assert said[0]["ok"] and said[0]["reason"].endswith(f"a newer head, of size {size + 5}, exists")
    assert said[1]["ok"] and said[1]["reason"].endswith(
        f"newer than the head of size {size - 1} this page first saw"
    )
    assert not said[2]["ok"] and "forked" in said[2]["reason"]
    assert page.evaluate(CONTRAST) == []
    page.context.close()


def test_the_commission_closes_a_window_early_and_rules(browser: Any, served: Any) -> None:
    """Every party has replied days before the deadline: a commissioner closes the window
    (until then, closing is offered only as a signature with a reason) and the commission
    rules at once."""
    base, tokens = served
    incident = _incident(base, tokens["analyst"], "S", skip=5)
    case = _open_case(base, tokens["analyst"], incident, "S", 7)
    fr = _page(browser, base, tokens["com_fr"])
    fr.click("#tab-cases")
    card = fr.locator(f"article.case[data-case='{case}']")
    assert card.get_attribute("data-status") == "awaiting_reply"
    assert card.locator("button", has_text="Close the reply window").count() == 0
    assert card.locator("button", has_text="Sign the closing of the window").is_enabled()
    assert "Waiting for a reply from S" in card.text_content()
    assert card.locator("form.ruling-form").count() == 0
    reply = {"text": "The Southern Party denies it."}
    assert api(base, tokens["party_s"], "POST", f"/v1/cases/{case}/replies", json=reply).is_success
    fr.click("#tab-map")
    fr.click("#tab-cases")  # the queue is loaded again
    card = fr.locator(f"article.case[data-case='{case}']")
    button = card.locator("button", has_text="Close the reply window")
    assert button.is_enabled()
    button.click()
    fr.wait_for_selector(f"#announce:has-text('Case {case}: the reply window is closed')")
    card = fr.locator(f"article.case[data-case='{case}']")
    assert card.get_attribute("data-status") == "under_review"
    assert "closed early by com-fr" in card.text_content()
    form = card.locator("form.ruling-form")
    form.locator("select[name=decision]").select_option("violation")
    form.locator("textarea[name=remedy]").fill("Withdraw the mortar.")
    form.locator("button", has_text="Sign ruling").click()
    fr.wait_for_selector(f"#announce:has-text('Case {case}: signed')")
    assert fr.evaluate(CONTRAST) == []
    fr.context.close()
    de = _page(browser, base, tokens["com_de"])
    de.click("#tab-cases")
    card = de.locator(f"article.case[data-case='{case}']")
    card.locator("button", has_text="Sign this ruling").click()
    de.wait_for_selector(f"#announce:has-text('Case {case}: the ruling is in force (DE, FR)')")
    state = api(base, tokens["analyst"], "GET", f"/v1/cases/{case}").json()["state"]
    assert state["status"] == "ruled" and state["replies_closed_early"]["by"] == "com-fr"
    # ruled days before the deadline it had: the window closed when the commission closed it
    signed = parse_time(state["ruling"]["signatures"][0]["time"])
    assert signed - parse_time(state["replies_closed_early"]["time"]) < 3_600_000_000
    de.context.close()


def test_a_probability_never_reads_as_certain_when_it_is_not(browser: Any, served: Any) -> None:
    """0.998 is shown as 99.8 %, not 100 %; a tiny probability is not shown as 0 %."""
    base, _ = served
    page = _page(browser, base, None)
    shown = page.evaluate(
        """async () => {
            const m = await import('/static/js/dom.js');
            return [0, 0.00004, 0.5, 0.95, 0.998, 0.9996, 1].map(m.pct);
        }"""
    )
    assert shown == ["0 %", "0.01 %", "50 %", "95 %", "99.8 %", "99.9 %", "100 %"]


def test_the_commission_closes_a_window_by_decision_and_rules(browser: Any, served: Any) -> None:
    """The accused has not replied: commissioners of two member states sign the closing,
    each with a reason; the party is told of each signature while it may still reply, then
    of the closing and its reasons, and the commission rules before the deadline."""
    base, tokens = served
    incident = _incident(base, tokens["analyst"], "S", skip=7)
    case = _open_case(base, tokens["analyst"], incident, "S", 7)
    reasons = {"com_fr": "No answer to three summonses.", "com_de": "Agreed: no answer."}
    for who in ("com_fr", "com_de"):
        page = _page(browser, base, tokens[who])
        page.click("#tab-cases")
        card = page.locator(f"article.case[data-case='{case}']")
        form = card.locator("form.close-form")
        assert "commissioners of 2 member states" in form.text_content()
        form.locator("textarea[name=reason]").fill(reasons[who])
        form.locator("button", has_text="Sign the closing of the window").click()
        page.wait_for_selector(f"#announce:has-text('Case {case}:')")
        card = page.locator(f"article.case[data-case='{case}']")
        if who == "com_fr":
            assert "your signature on closing the window is recorded" in page.text_content(
                "#announce"
            )
            assert card.get_attribute("data-status") == "awaiting_reply"
            assert "FR com-fr" in card.locator("ul.close-signatures").text_content()
            assert card.locator("button", has_text="You have signed the closing").is_disabled()
            # the accused is told at once, while it may still reply
            party = _page(browser, base, tokens["party_s"])
            party.click("#tab-cases")
            notice = party.locator(f"article.case[data-case='{case}'] .closing-notice")
            assert "commissioners of FR have signed" in notice.text_content()
            assert "You may reply until then" in notice.text_content()
            assert reasons["com_fr"] in notice.text_content()
            assert party.evaluate(CONTRAST) == []
            party.context.close()
        else:
            assert card.get_attribute("data-status") == "under_review"
            text = card.text_content()
            assert "by decision of the commission (DE, FR)" in text and reasons["com_de"] in text
            form = card.locator("form.ruling-form")
            form.locator("select[name=decision]").select_option("violation")
            form.locator("textarea[name=remedy]").fill("Withdraw the mortar.")
            form.locator("button", has_text="Sign ruling").click()
            page.wait_for_selector(f"#announce:has-text('Case {case}: signed')")
        assert page.evaluate(CONTRAST) == []
        page.context.close()
    party = _page(browser, base, tokens["party_s"])
    party.click("#tab-cases")
    card = party.locator(f"article.case[data-case='{case}']")
    text = card.text_content()
    assert "by decision of the commission (DE, FR)" in text and reasons["com_fr"] in text
    assert card.locator(".closing-notice").count() == 0  # closed: the notice is history
    party.context.close()


def test_the_tree_heads_key_is_compared_with_the_key_the_mission_publishes(
    browser: Any, served: Any
) -> None:
    """A server could sign its own heads with its own key: a reader pins the mission's
    published key (``?key=ID``, kept in the browser) and every head is compared with it."""
    from tests.web.browser import open_dashboard

    base, tokens = served
    sth = api(base, None, "GET", "/v1/evidence/sth").json()
    verdicts = {}
    for pinned in (sth["key_id"], "0123456789abcdef"):
        page = open_dashboard(browser, base, tokens["analyst"], query=f"?key={pinned}")
        assert page.errors == []
        page.locator("#incident-list button").first.click()
        page.wait_for_selector("#tree-head-check:not(.pending)")
        verdicts[pinned] = (
            page.get_attribute("#tree-head-check", "class"),
            page.text_content("#tree-head-check"),
        )
        assert page.evaluate("localStorage.getItem('truceline.missionKey')") == pinned
        page.context.close()
    cls, text = verdicts[sth["key_id"]]
    assert "ok" in cls and f"the key you pinned as the mission's ({sth['key_id']})" in text
    cls, text = verdicts["0123456789abcdef"]
    assert "bad" in cls and "NOT the key you pinned as the mission's" in text
    assert text.startswith("✗")
