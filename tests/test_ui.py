"""The web page through the Flask test client: what each page shows, that user text is
escaped, that nothing is loaded from another origin, and the edit/history round trip."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote

from flask.testing import FlaskClient

CKM = "https://w3id.org/ckm/ontology#"
ID = "https://w3id.org/ckm/id/"
PAGES = ["/", "/query", "/browse", f"/browse?iri={quote(ID + 'company/holcim', safe='')}",
         "/pictures/styles", "/graph", f"/graph?iri={quote(ID + 'company/holcim', safe='')}",
         "/signin", "/edit", "/edit?kind=individual", "/edit?kind=class", "/history"]


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []  # what the browser fetches by itself
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.loads.append(a["src"] or "")
        if tag == "link" and a.get("href") and a.get("rel") in ("stylesheet", "icon", "preload"):
            self.loads.append(a["href"] or "")
        if a.get("id"):
            self.ids.append(a["id"] or "")


def _page(client: FlaskClient, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "text/html"
    return resp.get_data(as_text=True)


def test_home_counts_what_the_graph_holds(client: FlaskClient) -> None:
    html = _page(client, "/")
    assert re.search(r'id="count-companies">24<', html)
    assert re.search(r'id="count-cases">9<', html)
    assert re.search(r'id="count-practices">31<', html)
    assert re.search(r'id="count-classes">47<', html)
    # practices per style, from the case files (16 communities of creation practices)
    row = re.search(r"Communities of creation</a></th><td>(\d+)</td>", html)
    assert row and row.group(1) == "16"
    for link in ("/query", "/browse", "/pictures/styles", "/graph", "/queries", "/ontology",
                 "/edit", "/history", "/sparql"):
        assert f'href="{link}"' in html


def test_pages_load_nothing_from_another_origin(client: FlaskClient) -> None:
    for url in PAGES:
        parser = _Refs()
        parser.feed(_page(client, url))
        assert parser.loads, url
        for ref in parser.loads:
            assert ref.startswith("/") and not ref.startswith("//"), (url, ref)
        assert len(parser.ids) == len(set(parser.ids)), (url, "duplicate ids")
    for ref in ("/static/site.css", "/static/ui.js", "/static/query.js",
                "/static/vendor/codemirror/cm-sparql.js", "/static/edit.js"):
        assert client.get(ref).status_code == 200, ref


def test_query_page_configures_prefixes_and_terms(client: FlaskClient) -> None:
    html = _page(client, "/query")
    assert "/static/vendor/codemirror/cm-sparql.js" in html
    config = re.search(r'<script id="query-config" type="application/json">(.*?)</script>',
                       html, re.S)
    assert config
    import json

    data = json.loads(config.group(1))
    assert data["prefixes"]["ckm"] == CKM
    assert "Company" in data["terms"]["ckm"] and "exhibitsStyle" in data["terms"]["ckm"]
    assert data["base"] == "https://w3id.org/ckm/"


def test_query_text_from_the_url_is_escaped(client: FlaskClient) -> None:
    evil = "</textarea><script>alert(1)</script>"
    html = _page(client, "/query?query=" + quote(evil))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_browse_tree_has_classes_with_their_instances(client: FlaskClient) -> None:
    html = _page(client, "/browse")
    style_class = html.index(">CKM style</a>")
    assert html.index("Prosumerism", style_class) > style_class
    # a subclass sits under its parent: Key area under CKM practice
    assert html.index(">CKM practice</a>") < html.index(">Key area</a>")
    assert f'href="/browse?iri={quote(ID + "company/holcim", safe="")}"' in html


def test_browse_resource_shows_links_both_ways(client: FlaskClient) -> None:
    html = _page(client, f"/browse?iri={quote(ID + 'company/holcim', safe='')}")
    assert "<h1>Holcim</h1>" in html
    assert ">Purchasing</a>" in html  # a practice that links here (practiced by)
    assert ">Communities of creation</a>" in html  # applies style
    assert 'href="/id/company/holcim"' in html  # the linked-data page, same origin
    resp = client.get("/browse?iri=" + quote(ID + "company/no-such-company", safe=""))
    assert resp.status_code == 404


def test_styles_picture_places_the_five_styles(client: FlaskClient) -> None:
    html = _page(client, "/pictures/styles")
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "<title" in svg and "<desc" in svg
    marks = re.findall(r'class="style-mark" data-style="([^"]+)"', svg)
    assert sorted(marks) == ["Communities of creation", "Joint intellectual property",
                             "Mutual innovation", "Prosumerism", "Team-based co-learning"]
    shapes = re.findall(r"\(shape: (\w+)\)", svg)
    assert len(set(shapes)) == 5  # told apart without colour
    assert "Prosumerism: relatively low intensity, more explicit" in svg
    assert "Team-based co-learning: low to high intensity, explicit and tacit" in svg
    resp = client.get("/pictures/styles.svg")
    assert resp.mimetype == "image/svg+xml" and b"Prosumerism" in resp.data


def test_graph_of_a_company_and_of_the_pss_network(client: FlaskClient) -> None:
    html = _page(client, f"/graph?iri={quote(ID + 'company/holcim', safe='')}")
    assert 'data-kind="company"' in html and 'data-kind="practice"' in html
    assert 'data-kind="style"' in html and 'data-kind="knowledge"' in html
    assert "Trouble-shooting" in html and "Knowledge from the customer" in html
    html = _page(client, f"/graph?iri={quote(ID + 'network/pss-value-network', safe='')}")
    for label in ("VN-CKM capability", "VN-SCRM capability", "Product-service system (PSS)"):
        assert label in html
    assert 'data-kind="capability"' in html and 'data-kind="alignment"' in html
    index = _page(client, "/graph")
    assert "PSS value network" in index and "Holcim" in index


def test_whoami_and_edit_endpoints_need_an_editor(client: FlaskClient,
                                                  tokens: dict[str, str]) -> None:
    assert client.get("/whoami").get_json() == {"name": "anonymous", "role": "reader",
                                                 "can_edit": False}
    me = client.get("/whoami", headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert me.get_json() == {"name": "test-editor", "role": "editor", "can_edit": True}
    assert client.get("/whoami", headers={"Authorization": "Bearer nope"}).status_code == 401
    form = {"kind": "practice", "label": "X"}
    assert client.post("/edit/preview", json=form).status_code == 401
    reader = {"Authorization": f"Bearer {tokens['reader']}"}
    assert client.post("/edit/preview", json=form, headers=reader).status_code == 403
    # a cookie-less cross-site form post carries no token: refused
    assert client.post("/edit/commit", data=form).status_code == 401


NEW_PRACTICE = {"kind": "practice", "label": "Customer advisory board <b>&</b>",
                "company": ID + "company/holcim", "styles": [CKM + "Prosumerism"],
                "knowledge": [CKM + "KnowledgeFromCustomer"], "benefits": "Better mixes\n",
                "paper": ID + "paper/gibbert-2002", "locator": "Box 2"}


def test_preview_validates_without_committing(fresh_client: FlaskClient,
                                              fresh_tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {fresh_tokens['editor']}"}
    resp = fresh_client.post("/edit/preview", json=NEW_PRACTICE, headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["valid"] is True
    assert body["plan"]["iri"] == ID + "practice/customer-advisory-board-b-b"
    assert body["plan"]["graph"] == ID + "case/holcim-hbk"
    assert "INSERT DATA" in body["plan"]["update"] and body["plan"]["added"] == 9
    assert fresh_client.get("/browse?iri=" + quote(body["plan"]["iri"], safe="")).status_code \
        == 404  # not committed
    bad = {**NEW_PRACTICE, "styles": []}  # a practice needs a style (SHACL)
    resp = fresh_client.post("/edit/preview", json=bad, headers=auth)
    assert resp.status_code == 422
    assert "style" in resp.get_data(as_text=True)
    resp = fresh_client.post("/edit/preview", json={**NEW_PRACTICE, "slug": "Bad Slug"},
                             headers=auth)
    assert resp.status_code == 400 and resp.get_json()["field"] == "slug"


def test_commit_shows_escaped_and_history_reverts(fresh_client: FlaskClient,
                                                  fresh_tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {fresh_tokens['editor']}"}
    resp = fresh_client.post("/edit/commit", json=NEW_PRACTICE, headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    change = resp.get_json()["change"]
    iri = resp.get_json()["plan"]["iri"]
    page = _page(fresh_client, "/browse?iri=" + quote(iri, safe=""))
    assert "Customer advisory board &lt;b&gt;&amp;&lt;/b&gt;" in page
    assert "<b>&</b>" not in page
    holcim = _page(fresh_client, "/browse?iri=" + quote(ID + "company/holcim", safe=""))
    assert "Customer advisory board" in holcim
    history = _page(fresh_client, "/history")
    assert f'id="change-{change["id"]}"' in history
    assert "Customer advisory board" in history and "<b>&</b>" not in history
    assert re.search(r'class="add">\+ &lt;' + re.escape(iri), history)
    resp = fresh_client.post(f"/history/{change['id']}/revert", headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert fresh_client.get("/browse?iri=" + quote(iri, safe="")).status_code == 404
    # changing an existing practice: only the label moves
    resp = fresh_client.post("/edit/preview", headers=auth, json={
        **fresh_client.get("/edit/values?iri=" + quote(ID + "practice/holcim-purchasing",
                                                       safe="")).get_json(),
        "kind": "practice", "label": "Buying"})
    plan = resp.get_json()["plan"]
    assert (plan["removed"], plan["added"]) == (1, 1)
    assert '"Purchasing"' in plan["update"] and '"Buying"' in plan["update"]
