"""The web page in a real browser: Debian's Chromium driven by Playwright against a live
server on a loopback port. Screenshots go to a temp dir (printed with ``-s``).

Chromium runs with the flags a closed network needs (no background networking, updates,
sync or QUIC); every request the page makes is checked to stay on the server's origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ID = "https://w3id.org/ckm/id/"
CKM = "https://w3id.org/ckm/ontology#"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots in {path}")
    return path


def _page(browser: Browser, origin: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: foreign.append(r.url)
            if not r.url.startswith((origin, "blob:", "data:")) else None)
    page.set_default_timeout(15000)
    yield page
    context.close()
    assert not errors, errors
    assert not foreign, f"requests left the origin: {foreign}"


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    yield from _page(browser, live_server.url)


@pytest.fixture
def fresh_page(browser: Browser, fresh_live_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    yield from _page(browser, fresh_live_server.url)


def set_query(page: Page, text: str) -> None:
    page.evaluate("t => window.CKMQuery.editor.setValue(t)", text)


def result_rows(page: Page) -> int:
    return page.locator("#results-table tbody tr").count()


def test_home_page(page: Page, live_server, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/")
    expect(page).to_have_title("CKM knowledge graph")
    expect(page.locator("#count-companies")).to_have_text("24")
    expect(page.locator("#count-practices")).to_have_text("31")
    expect(page.locator("#styles-table tbody tr")).to_have_count(5)
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    page.get_by_role("link", name="Ask a question (SPARQL)").click()
    expect(page).to_have_url(re.compile(r"/query$"))


def test_run_a_saved_query_and_see_its_rows(page: Page, live_server,  # type: ignore[no-untyped-def]
                                            shots: Path) -> None:
    page.goto(live_server.url + "/query")
    saved = page.locator('#saved button[data-name="styles-table3"]')
    expect(saved).to_be_visible()
    saved.click()
    expect(page.locator("#status")).to_have_text(re.compile(r"^5 rows · \d+ ms in the store"))
    assert result_rows(page) == 5
    expect(page.locator("#results-table")).to_contain_text("Joint intellectual property")
    assert "styles-table3" in page.url
    assert "Table 3" in page.evaluate("window.CKMQuery.editor.getValue()") or \
        "ckm:" in page.evaluate("window.CKMQuery.editor.getValue()")
    page.screenshot(path=str(shots / "saved-query.png"), full_page=True)


def test_type_a_query_run_it_with_the_keyboard_and_sort(page: Page,  # type: ignore[no-untyped-def]
                                                        live_server) -> None:
    page.goto(live_server.url + "/query")
    page.keyboard.press("Tab")  # skip link
    editor = page.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("SELECT ?s ?n WHERE { ?s a ")
    page.keyboard.type("ckm:Compa")
    page.keyboard.press("Control+Space")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("Company")
    page.wait_for_timeout(150)  # CodeMirror ignores an Enter in the first 75 ms
    page.keyboard.press("Enter")
    page.keyboard.type(" ; rdfs:label ?n ")
    page.keyboard.press("End")
    text = page.evaluate("window.CKMQuery.editor.getValue()")
    assert "ckm:Company" in text
    assert text.count("}") == 1
    page.keyboard.press("Control+Enter")
    expect(page.locator("#status")).to_have_text(re.compile(r"^24 rows"))
    # companies and their IRIs link to their pages on this origin
    first = page.locator("#results-table tbody tr").first.locator("a").first
    assert first.get_attribute("href").startswith("/id/company/")
    expect(page.locator(".cm-tooltip-autocomplete")).to_have_count(0)  # closed by the run
    header = page.locator("#results-table th").nth(1).get_by_role("button")
    expect(header).to_have_accessible_name("n")
    header.click()
    expect(page.locator("#results-table th").nth(1)).to_have_attribute("aria-sort", "ascending")
    names = page.locator("#results-table tbody tr td:nth-child(2)").all_text_contents()
    assert names == sorted(names, key=str.lower)
    header.click()
    names = page.locator("#results-table tbody tr td:nth-child(2)").all_text_contents()
    assert names == sorted(names, key=str.lower, reverse=True)


def test_prefix_completion_adds_the_prefix_line(page: Page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/query")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("SELECT * WHERE { ?x a sko")
    page.keyboard.press("Control+Space")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="skos:")
    expect(option).to_be_visible()
    page.wait_for_timeout(150)
    page.keyboard.press("Enter")
    text = page.evaluate("window.CKMQuery.editor.getValue()")
    assert text.startswith("PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")
    assert "?x a skos:" in text


def test_a_query_error_is_pointed_out(page: Page, live_server, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/query")
    set_query(page, "SELECT ?x WHERE {\n  ?x ?y ?z } LIMIT x\n")
    page.get_by_role("button", name="Run query").click()
    error = page.locator("#error-message")
    expect(error).to_contain_text("Line 2, column 20")
    expect(page.locator("#status")).to_have_text("The query failed (400).")
    # the editor marks the place (a lint range on line 2) and a gutter marker
    expect(page.locator(".cm-lintRange-error")).to_have_count(1)
    line2 = page.locator(".cm-line").nth(1)
    assert line2.locator(".cm-lintRange-error").count() == 1
    assert line2.locator(".cm-lintRange-error").text_content() == "x"
    page.screenshot(path=str(shots / "query-error.png"))


def test_download_csv(page: Page, live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/query")
    set_query(page, "PREFIX ckm: <https://w3id.org/ckm/ontology#>\n"
                    "SELECT ?style WHERE { ?style a ckm:CKMStyle } ORDER BY ?style")
    page.get_by_label("Download as").select_option("csv")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename == "results.csv"
    target = tmp_path / "results.csv"
    download.save_as(str(target))
    lines = target.read_text().splitlines()
    assert lines[0] == "style"
    assert lines[1:] == [CKM + s for s in sorted(["CommunitiesOfCreation",
                         "JointIntellectualProperty", "MutualInnovation", "Prosumerism",
                         "TeamBasedCoLearning"])]
    page.get_by_label("Download as").select_option("tsv")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    assert info.value.suggested_filename == "results.tsv"


def test_a_running_query_can_be_cancelled(fresh_page: Page, fresh_live_server) -> None:  # type: ignore[no-untyped-def]
    fresh_page.goto(fresh_live_server.url + "/query")
    set_query(fresh_page, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    fresh_page.get_by_role("button", name="Run query").click()
    cancel = fresh_page.get_by_role("button", name="Cancel")
    expect(cancel).to_be_enabled()
    cancel.click()
    expect(fresh_page.locator("#status")).to_have_text("Cancelled.")
    expect(cancel).to_be_disabled()


def test_browse_from_a_style_to_a_company_to_a_practice(page: Page,  # type: ignore[no-untyped-def]
                                                        live_server, shots: Path) -> None:
    page.goto(live_server.url + "/browse")
    tree = page.get_by_role("list", name="Class hierarchy")
    tree.get_by_role("link", name="Communities of creation", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Communities of creation")
    page.screenshot(path=str(shots / "browse-style.png"), full_page=True)
    page.get_by_role("link", name="Holcim", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Holcim")
    page.get_by_role("link", name="Purchasing", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Purchasing")
    expect(page.locator("main")).to_contain_text("Price reductions in raw materials")
    # and on to its picture's company and the linked-data page address
    assert page.get_by_role("link", name="Full description (linked-data page)") \
        .get_attribute("href") == "/id/practice/holcim-purchasing"


def test_styles_picture(page: Page, live_server, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/pictures/styles")
    svg = page.locator("#styles-picture svg")
    expect(svg).to_be_visible()
    marks = page.locator("#styles-picture a.style-mark")
    expect(marks).to_have_count(5)
    box = svg.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 400
    # each style's label box lies inside the picture and no two overlap
    rects = [marks.nth(i).locator("rect.label-box").bounding_box() for i in range(5)]
    for i, a in enumerate(rects):
        assert a and box["x"] <= a["x"] and a["x"] + a["width"] <= box["x"] + box["width"] + 1
        for b in rects[i + 1:]:
            assert b
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
            assert apart, (a, b)
    page.screenshot(path=str(shots / "styles.png"), full_page=True)
    page.locator('a.style-mark[data-style="Prosumerism"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prosumerism")


def test_graph_pictures(page: Page, live_server, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/graph?iri=" + quote(ID + "company/holcim", safe=""))
    expect(page.locator("#graph-picture svg")).to_be_visible()
    assert page.locator('#graph-picture a.node[data-kind="practice"]').count() == 11
    page.screenshot(path=str(shots / "graph-holcim.png"), full_page=True)
    page.goto(live_server.url + "/graph")
    page.get_by_role("link", name="PSS value network").click()
    expect(page.locator("#graph-picture a.node")).to_have_count(12)
    page.screenshot(path=str(shots / "graph-pss.png"), full_page=True)


def test_sign_in_add_a_practice_query_it_and_revert(fresh_page: Page,  # type: ignore[no-untyped-def]
                                                    fresh_live_server, fresh_tokens,
                                                    shots: Path) -> None:
    page, url = fresh_page, fresh_live_server.url
    page.goto(url + "/signin")
    page.get_by_label("Token").fill(fresh_tokens["editor"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in")).to_contain_text("Signed in as test-editor (editor)")
    assert page.context.cookies() == []  # the token is not a cookie
    page.goto(url + "/edit?kind=practice")
    expect(page.locator("#who")).to_contain_text("Signed in as test-editor")
    page.get_by_label("Name of the practice").fill("Online concrete calculator")
    page.get_by_label("Practised by (company)").select_option(label="Holcim")
    page.get_by_label("Mutual innovation").check()
    page.get_by_label("Knowledge for the customer").check()
    page.get_by_label("Benefits (one a line)").fill("Fewer ordering mistakes")
    page.get_by_label("Source paper").select_option(index=3)
    page.get_by_label("Where in the paper (table, box or page)").fill("Box 2")
    page.get_by_role("button", name="Check (validate, do not commit)").click()
    # validation runs SHACL and the reasoner on the server: give it time
    expect(page.locator("#edit-valid")).to_contain_text("Valid", timeout=90000)
    expect(page.locator("#edit-update")).to_contain_text("practice/online-concrete-calculator")
    page.screenshot(path=str(shots / "edit-check.png"), full_page=True)
    page.get_by_role("button", name="Commit", exact=True).click()
    expect(page.locator("#edit-committed")).to_contain_text("Committed as change",
                                                            timeout=90000)
    # see it in a query
    page.goto(url + "/query")
    query = ("PREFIX ckm: <https://w3id.org/ckm/ontology#>\n"
             "SELECT ?p ?label WHERE { ?p ckm:practicedBy <https://w3id.org/ckm/id/company/"
             "holcim> ; ckm:exhibitsStyle ckm:MutualInnovation ; rdfs:label ?label }")
    set_query(page, query)
    page.get_by_role("button", name="Run query").click()
    expect(page.locator("#status")).to_have_text(re.compile(r"^1 row "))
    expect(page.locator("#results-table")).to_contain_text("Online concrete calculator")
    # revert it from the history
    page.goto(url + "/history")
    item = page.locator(".history-item").first
    expect(item).to_contain_text("online-concrete-calculator")
    page.screenshot(path=str(shots / "history.png"), full_page=True)
    item.get_by_role("button", name=re.compile("^Revert")).click()
    expect(page.locator("#revert-done")).to_contain_text("Reverted", timeout=90000)
    expect(page.locator(".history-item").first).to_contain_text("Revert")
    page.goto(url + "/query")
    set_query(page, query)
    page.get_by_role("button", name="Run query").click()
    expect(page.locator("#status")).to_have_text(re.compile(r"^0 rows "))


def test_invalid_edit_shows_the_reasons(fresh_page: Page, fresh_live_server,  # type: ignore[no-untyped-def]
                                        fresh_tokens) -> None:
    page, url = fresh_page, fresh_live_server.url
    page.goto(url + "/signin")
    page.get_by_label("Token").fill(fresh_tokens["editor"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in")).to_be_visible()
    page.goto(url + "/edit?kind=practice")
    page.get_by_label("Name of the practice").fill("A practice without a style")
    page.get_by_label("Practised by (company)").select_option(label="Holcim")
    page.get_by_label("Source paper").select_option(index=3)
    page.get_by_label("Where in the paper (table, box or page)").fill("Box 2")
    page.get_by_role("button", name="Check (validate, do not commit)").click()
    problem = page.locator("#edit-problem")
    expect(problem).to_contain_text("422", timeout=90000)
    expect(problem).to_contain_text("style")


PAGES = ["/", "/query", "/browse", "/browse?iri=" + quote(ID + "company/holcim", safe=""),
         "/pictures/styles", "/graph?iri=" + quote(ID + "company/holcim", safe=""), "/signin",
         "/edit", "/edit?kind=class", "/history"]


def test_accessibility_with_axe(page: Page, live_server) -> None:  # type: ignore[no-untyped-def]
    found = {}
    for path in PAGES:
        page.goto(live_server.url + path)
        if path == "/query":
            page.get_by_role("button", name="Run query").click()
            expect(page.locator("#results-table")).to_be_visible()
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.id + ': ' + v.help + ' @ '
                   + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }""")
        if result:
            found[path] = result
    assert not found, found
