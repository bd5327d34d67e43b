"""The web page for analysts and researchers: home, SPARQL editor, browsing, pictures,
sign-in, edit forms and history.

Pages are server-rendered (``templates/ui_*.html``); the editor and the forms use small
scripts under ``static/`` (CodeMirror 6 vendored under ``static/vendor/``; nothing is
fetched from another origin). Editing sends the bearer token from ``sessionStorage`` in
the ``Authorization`` header, never a cookie, so a cross-site page cannot forge an edit.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from kg_service import edit_forms, history, pictures, ui_data
from kg_service.errors import BadRequest
from kg_service.namespaces import ID, PREFIXES
from kg_service.web.common import cached, current_user, get_settings, get_store, require_role

bp = Blueprint("ui", __name__)


def page_href(iri: str) -> str:
    """Where a browser sees an IRI: the same-origin path for IRIs under the base
    (``https://w3id.org/ckm/id/x`` -> ``/id/x``), else the IRI itself."""
    base = str(get_settings().base_iri)
    return "/" + iri[len(base):] if iri.startswith(base) else iri


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"page_href": page_href, "browse_href": pictures.browse_href,
            "curie": ui_data.curie, "quote": quote}


def _html(body: str, *etag: Any) -> Response:
    return cached(Response(body, mimetype="text/html"), ["ui", *etag])


@bp.route("/")
def home() -> Response:
    """What the graph holds, with links into everything."""
    return _html(render_template("ui_home.html", o=ui_data.overview(get_store())))


@bp.route("/query")
def query_page() -> Response:
    """The SPARQL editor."""
    store = get_store()
    config = {"prefixes": PREFIXES, "terms": ui_data.completion_terms(store),
              "base": str(get_settings().base_iri)}
    safe_json = json.dumps(config).replace("<", "\\u003c").replace("&", "\\u0026")
    return _html(render_template("ui_query.html", config=safe_json,
                                 initial=request.args.get("query", "")),
                 request.args.get("query", ""))


@bp.route("/browse")
def browse() -> Response:
    """The class tree, or (``?iri=``) one resource with its links."""
    store = get_store()
    iri = request.args.get("iri", "").strip()
    if not iri:
        return _html(render_template("ui_browse.html", tree=ui_data.class_tree(store)))
    res = ui_data.resource(store, iri)
    drawable = iri.startswith(str(ID))
    return _html(render_template("ui_resource.html", r=res, drawable=drawable), iri)


@bp.route("/pictures/styles")
def styles_page() -> Response:
    """The five styles on intensity of interaction x type of knowledge."""
    grid = ui_data.style_grid(get_store())
    return _html(render_template("ui_styles.html", svg=pictures.styles_svg(grid), grid=grid))


@bp.route("/pictures/styles.svg")
def styles_svg() -> Response:
    svg = pictures.styles_svg(ui_data.style_grid(get_store()))
    return cached(Response(svg, mimetype="image/svg+xml"), ["styles-svg"])


PSS_NETWORK = str(ID) + "network/pss-value-network"


@bp.route("/graph")
def graph_page() -> Response:
    """A neighbourhood (``?iri=``) as a picture, or the list of things to draw."""
    store = get_store()
    iri = request.args.get("iri", "").strip()
    if not iri:
        companies = store.select("SELECT ?x ?l WHERE { ?x a ckm:Company ; rdfs:label ?l } "
                                 "ORDER BY LCASE(?l)")
        networks = store.select("SELECT ?x ?l WHERE { ?x a ckm:ValueNetwork ; rdfs:label ?l }")
        return _html(render_template("ui_graph_index.html", companies=companies,
                                     networks=networks))
    nb = ui_data.neighbourhood(store, iri)
    names = ui_data.labels(store)
    svg = pictures.neighbourhood_svg(nb, names)
    return _html(render_template("ui_graph.html", nb=nb, svg=svg, names=names,
                                 label_of=ui_data.label_of), iri)


@bp.route("/graph.svg")
def graph_svg() -> Response:
    store = get_store()
    iri = request.args.get("iri", PSS_NETWORK)
    svg = pictures.neighbourhood_svg(ui_data.neighbourhood(store, iri), ui_data.labels(store))
    return cached(Response(svg, mimetype="image/svg+xml"), ["graph-svg", iri])


@bp.route("/signin")
def signin() -> Response:
    """Paste a token; it stays in this tab's sessionStorage."""
    return Response(render_template("ui_signin.html"), mimetype="text/html")


@bp.route("/whoami")
def whoami() -> Response:
    """The user of the request's bearer token (401 for a bad token)."""
    user = current_user()
    return Response(json.dumps({"name": user.name, "role": user.role,
                                "can_edit": user.can("editor")}),
                    mimetype="application/json")


@bp.route("/edit")
def edit_page() -> Response:
    """Forms to add or change a practice, an individual or a class."""
    store = get_store()
    kind = request.args.get("kind", "practice")
    if kind not in ("practice", "individual", "class"):
        raise BadRequest("kind is one of practice, individual, class", field="kind")
    return Response(render_template("ui_edit.html", kind=kind, c=edit_forms.choices(store),
                                    iri=request.args.get("iri", "")),
                    mimetype="text/html")


@bp.route("/edit/values")
def edit_values() -> Response:
    """An existing thing's values as form fields (JSON)."""
    iri = request.args.get("iri", "").strip()
    if not iri:
        raise BadRequest("iri is required", field="iri")
    return Response(json.dumps(edit_forms.current_values(get_store(), iri)),
                    mimetype="application/json")


def _form() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("Send the form as a JSON object.")
    return data


@bp.route("/edit/preview", methods=["POST"])
def edit_preview() -> Response:
    """The changeset a form makes and its validation, without committing (editors)."""
    require_role("editor")
    store = get_store()
    plan = edit_forms.plan(store, _form())
    report = edit_forms.check(store, plan) if plan.added or plan.removed else {}
    return Response(json.dumps({"plan": plan.to_json(), "valid": True,
                                "checks": report}, default=str),
                    mimetype="application/json")


@bp.route("/edit/commit", methods=["POST"])
def edit_commit() -> Response:
    """Commit a form as one changeset (editors); 422 with the reasons when invalid."""
    from kg_service.changes import submit_update

    user = require_role("editor")
    store = get_store()
    form = _form()
    plan = edit_forms.plan(store, form)
    message = str(form.get("message") or f"{'Change' if plan.existing else 'Add'} "
                  f"{plan.kind} {ui_data.curie(plan.iri)} (web form)")
    change = submit_update(store, plan.update, user=user, message=message,
                           if_match=request.headers.get("If-Match"))
    resp = Response(json.dumps({"change": change.to_json(), "plan": plan.to_json()},
                               default=str), mimetype="application/json")
    resp.set_etag(change.revision, weak=True)
    return resp


@bp.route("/history")
def history_page() -> Response:
    """The changes, newest first, each with its diff and a revert button."""
    store = get_store()
    try:
        offset = max(0, int(request.args.get("offset", 0)))
    except ValueError as exc:
        raise BadRequest("offset must be a whole number", field="offset") from exc
    changes, total = history.list_changes(store, limit=20, offset=offset)
    detailed = []
    for ch in changes:
        full = history.get_change(store, ch["id"])
        detailed.append({**ch, "graphs": full.get("graphs", []),
                         "added_quads": history.quads_json(full["added_quads"])[:200],
                         "removed_quads": history.quads_json(full["removed_quads"])[:200]})
    return _html(render_template("ui_history.html", changes=detailed, total=total,
                                 offset=offset), offset)


@bp.route("/history/<change_id>/revert", methods=["POST"])
def history_revert(change_id: str) -> Response:
    """Revert one change as a new changeset (editors)."""
    from kg_service.changes import revert

    user = require_role("editor")
    change = revert(get_store(), change_id, user=user,
                    if_match=request.headers.get("If-Match"))
    resp = Response(json.dumps({"change": change.to_json()}, default=str),
                    mimetype="application/json")
    resp.set_etag(change.revision, weak=True)
    return resp



