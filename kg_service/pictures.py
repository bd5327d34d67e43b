"""Server-side SVG pictures: the five CKM styles on interaction intensity x knowledge form
(Gibbert et al. 2002, Table 3) and a layered drawing of a neighbourhood of the graph.

Readable without colour: every style and every kind of node has its own shape and a text
label, every link kind its own dash pattern, and a legend says which is which. Each picture
has a ``<title>`` and a ``<desc>``. No Flask here; pure functions of the catalogue's data.
"""

from __future__ import annotations

import math
from html import escape
from typing import Callable
from urllib.parse import quote

from kg_service.ui_data import Neighbourhood, label_of

ShapeFn = Callable[[float, float, float], str]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def browse_href(iri: str) -> str:
    """The UI's browse URL of an IRI."""
    return "/browse?iri=" + quote(iri, safe="")


def _circle(x: float, y: float, r: float) -> str:
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"/>'


def _square(x: float, y: float, r: float) -> str:
    s = r * 0.9
    return f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}"/>'


def _polygon(points: list[tuple[float, float]]) -> str:
    return '<polygon points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in points) + '"/>'


def _regular(n: int, rot: float) -> ShapeFn:
    def draw(x: float, y: float, r: float) -> str:
        return _polygon([(x + r * math.cos(rot + 2 * math.pi * i / n),
                          y + r * math.sin(rot + 2 * math.pi * i / n)) for i in range(n)])
    return draw


STYLE_SHAPES: list[tuple[str, ShapeFn]] = [
    ("circle", _circle), ("triangle", _regular(3, -math.pi / 2)), ("square", _square),
    ("diamond", _regular(4, 0)), ("hexagon", _regular(6, 0)),
]
PATTERN_DEFS = """<defs>
<pattern id="hatch-a" width="8" height="8" patternUnits="userSpaceOnUse"
 patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="8" stroke="#999"
 stroke-width="1"/></pattern>
<pattern id="dots" width="10" height="10" patternUnits="userSpaceOnUse">
<circle cx="5" cy="5" r="1.2" fill="#999"/></pattern>
<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7"
 orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker>
</defs>"""


def styles_svg(styles: list[dict[str, object]]) -> str:
    """The five styles on a 2 x 2 grid: knowledge form (more explicit / more tacit) across,
    intensity of interaction (relatively low / relatively high) up. A style with both
    values on an axis (team-based co-learning: low to high, explicit and tacit) spans the
    cells as a dashed region. Each style links to its browse page.
    """
    w, h = 820, 600
    left, top, right, bottom = 150, 70, 790, 510
    mid_x, mid_y = (left + right) / 2, (top + bottom) / 2
    col = {"Explicit": (left, mid_x), "Tacit": (mid_x, right)}
    row = {"HighIntensity": (top, mid_y), "LowIntensity": (mid_y, bottom)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
             f'class="picture" aria-labelledby="styles-title styles-desc" '
             f'font-family="system-ui, sans-serif" font-size="14">',
             '<title id="styles-title">The five CKM styles by intensity of interaction and '
             'type of knowledge</title>',
             '<desc id="styles-desc">' + _e(_styles_desc(styles)) + "</desc>", PATTERN_DEFS]
    # quadrants: explicit cells plain, tacit cells hatched; low row dotted overlay
    for fk, (x0, x1) in col.items():
        for ik, (y0, y1) in row.items():
            fill = "url(#hatch-a)" if fk == "Tacit" else "none"
            parts.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" '
                         f'fill="{fill}" fill-opacity="0.35" stroke="#222" stroke-width="1.5"/>')
            caption = (("relatively high" if ik == "HighIntensity" else "relatively low")
                       + " · " + ("more explicit" if fk == "Explicit" else "more tacit"))
            ty = y0 + 20 if ik == "HighIntensity" else y1 - 10
            parts.append(f'<text x="{x0 + 8}" y="{ty}" font-size="12" '
                         f'font-style="italic" fill="#333">{_e(caption)}</text>')
    parts.append(f'<text x="{mid_x}" y="{bottom + 40}" text-anchor="middle" font-weight="bold">'
                 'Type of knowledge: more explicit (plain) ← → more tacit (hatched)</text>')
    parts.append(f'<text x="{left - 75}" y="{mid_y}" text-anchor="middle" font-weight="bold" '
                 f'transform="rotate(-90 {left - 75} {mid_y})">'
                 'Intensity of interaction: relatively low ↓ ↑ relatively high</text>')
    parts.append(f'<text x="{left - 8}" y="{(top + mid_y) / 2}" text-anchor="end">high</text>')
    parts.append(f'<text x="{left - 8}" y="{(mid_y + bottom) / 2}" text-anchor="end">low</text>')
    parts.append(f'<text x="{(left + mid_x) / 2}" y="{bottom + 20}" text-anchor="middle">'
                 'explicit</text>')
    parts.append(f'<text x="{(mid_x + right) / 2}" y="{bottom + 20}" text-anchor="middle">'
                 'tacit</text>')
    for i, st in enumerate(styles):
        forms = sorted(st["form"]) or ["Explicit"]  # type: ignore[call-overload]
        levels = sorted(st["intensity"]) or ["LowIntensity"]  # type: ignore[call-overload]
        x0 = min(col[f][0] for f in forms if f in col)
        x1 = max(col[f][1] for f in forms if f in col)
        y0 = min(row[v][0] for v in levels if v in row)
        y1 = max(row[v][1] for v in levels if v in row)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        spans = len(forms) > 1 or len(levels) > 1
        if len(forms) == 1 and len(levels) == 1:
            cy += 12
        shape_name, shape = STYLE_SHAPES[i % len(STYLE_SHAPES)]
        label = str(st["label"])
        where = _placement(forms, levels)
        n = st.get("practices", 0)
        parts.append(f'<a href="{_e(browse_href(str(st["iri"])))}" class="style-mark" '
                     f'data-style="{_e(label)}">')
        parts.append(f"<title>{_e(label)}: {_e(where)}; {n} practices "
                     f"(shape: {shape_name})</title>")
        if spans:
            parts.append(f'<rect x="{x0 + 40}" y="{y0 + 34}" width="{x1 - x0 - 80}" '
                         f'height="{y1 - y0 - 68}" rx="40" fill="none" stroke="#000" '
                         'stroke-width="2.5" stroke-dasharray="10 6"/>')
        sub = f"{n} practices"
        tw = 52 + max(9.0 * len(label), 6.8 * len(sub))
        parts.append(f'<rect class="label-box" x="{cx - tw / 2:.1f}" y="{cy - 24:.1f}" '
                     f'width="{tw:.1f}" height="56" rx="8" fill="#fff" stroke="#000" '
                     'stroke-width="1"/>')
        parts.append(f'<g fill="#fff" stroke="#000" stroke-width="2">'
                     f"{shape(cx - tw / 2 + 18, cy - 2, 11)}</g>")
        parts.append(f'<text x="{cx - tw / 2 + 38:.1f}" y="{cy + 3:.1f}" font-weight="bold" '
                     f'text-decoration="underline">{_e(label)}</text>')
        parts.append(f'<text x="{cx - tw / 2 + 38:.1f}" y="{cy + 22:.1f}" font-size="12">'
                     f"{_e(sub)}</text>")
        parts.append("</a>")
    parts.append("</svg>")
    return "\n".join(parts)


def _placement(forms: list[str], levels: list[str]) -> str:
    f = "explicit and tacit" if len(forms) > 1 else "more " + forms[0].lower()
    i = ("low to high" if len(levels) > 1 else
         "relatively " + levels[0].replace("Intensity", "").lower())
    return f"{i} intensity, {f}"


def _styles_desc(styles: list[dict[str, object]]) -> str:
    out = []
    for s in styles:
        forms = sorted(s["form"]) or ["Explicit"]  # type: ignore[call-overload]
        levels = sorted(s["intensity"]) or ["LowIntensity"]  # type: ignore[call-overload]
        out.append(f"{s['label']}: {_placement(forms, levels)}")
    return "; ".join(out) + "."


# The neighbourhood drawing ---------------------------------------------------------------

KIND_ORDER = ["company", "network", "case", "practice", "actor", "pss", "capability",
              "alignment", "process", "style", "knowledge", "element", "other"]
KIND_NAMES = {"company": "Company", "network": "Value network", "case": "Case study",
              "practice": "CKM practice", "actor": "Network actor",
              "pss": "Product-service system", "capability": "Capability",
              "alignment": "Business-IT alignment", "process": "Knowledge process",
              "style": "CKM style", "knowledge": "Knowledge type",
              "element": "Business-model element", "other": "Other"}
DASHES = ["", "8 4", "2 4", "12 4 2 4", "1 2", "16 4 2 4 2 4", "4 8", "20 4"]
NODE_W, NODE_H, GAP, COL_W = 270, 58, 12, 360
TERMINAL = {"style", "knowledge", "element", "case"}


def _node_shape(kind: str, x: float, y: float) -> str:
    """The outline of a node of ``kind`` with its top-left corner at (x, y)."""
    w, h = NODE_W, NODE_H
    if kind == "company":
        return (f'<rect x="{x}" y="{y}" width="{w}" height="{h}"/>'
                f'<rect x="{x + 4}" y="{y + 4}" width="{w - 8}" height="{h - 8}" fill="none"/>')
    if kind == "practice":
        return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="14"/>'
    if kind == "style":
        d = 16
        return _polygon([(x + d, y), (x + w - d, y), (x + w, y + h / 2), (x + w - d, y + h),
                         (x + d, y + h), (x, y + h / 2)])
    if kind in ("knowledge", "network"):
        return (f'<ellipse cx="{x + w / 2}" cy="{y + h / 2}" rx="{w / 2}" ry="{h / 2}"'
                + (' stroke-width="3"' if kind == "network" else "") + "/>")
    if kind in ("element", "pss"):
        d = 14
        return _polygon([(x + d, y), (x + w, y), (x + w - d, y + h), (x, y + h)])
    if kind == "case":
        return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" stroke-dasharray="6 3"/>'
    if kind == "capability":
        d = 10
        return _polygon([(x + d, y), (x + w - d, y), (x + w, y + d), (x + w, y + h - d),
                         (x + w - d, y + h), (x + d, y + h), (x, y + h - d), (x, y + d)])
    return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4"/>'


def _lines(text: str, n: int = 34) -> list[str]:
    """``text`` in at most two lines of ``n`` characters (the second cut with …)."""
    if len(text) <= n:
        return [text]
    cut = text.rfind(" ", 0, n)
    cut = cut if cut > n // 2 else n
    rest = text[cut:].strip()
    return [text[:cut].strip(), rest if len(rest) <= n else rest[: n - 1] + "…"]


def neighbourhood_svg(nb: Neighbourhood, predicate_labels: dict[str, str]) -> str:
    """A layered drawing: the centre on the left, then one column per hop; each node a
    link to its browse page, each edge's kind a dash pattern explained in the legend."""
    columns: dict[int, list[str]] = {}
    last = max(max(v[2] for v in nb.nodes.values()), 1)
    for iri, (_label, kind, depth) in nb.nodes.items():
        col = last if kind in TERMINAL and iri != nb.center else depth
        columns.setdefault(col, []).append(iri)
    for items in columns.values():
        items.sort(key=lambda i: (KIND_ORDER.index(nb.nodes[i][1]), nb.nodes[i][0].lower()))
    tallest = max(len(v) for v in columns.values())
    body_h = tallest * (NODE_H + GAP)
    pos: dict[str, tuple[float, float]] = {}
    for d, items in sorted(columns.items()):
        col_h = len(items) * (NODE_H + GAP)
        y0 = 60 + (body_h - col_h) / 2
        for k, iri in enumerate(items):
            pos[iri] = (30 + d * COL_W, y0 + k * (NODE_H + GAP))
    predicates = sorted({p for _s, p, _o in nb.edges},
                        key=lambda p: label_of(p, predicate_labels).lower())
    dash = {p: DASHES[i % len(DASHES)] for i, p in enumerate(predicates)}
    kinds = [k for k in KIND_ORDER if any(v[1] == k for v in nb.nodes.values())]
    legend_h = 30 + 26 * max(len(predicates), len(kinds))
    w = 30 + (max(columns) + 1) * COL_W + 40
    h = 60 + body_h + 20 + legend_h
    center = nb.nodes[nb.center][0]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
             f'width="{w:.0f}" height="{h:.0f}" class="picture graph" '
             'aria-labelledby="graph-title graph-desc" font-family="system-ui, sans-serif" '
             'font-size="13">',
             f'<title id="graph-title">Neighbourhood of {_e(center)}</title>',
             f'<desc id="graph-desc">{len(nb.nodes)} things and {len(nb.edges)} links around '
             f'{_e(center)}, in columns by the number of hops from it. The table below the '
             'picture lists the same links.</desc>', PATTERN_DEFS]
    parts.append('<g fill="none" stroke="#222" stroke-width="1.4">')
    for s, p, o in nb.edges:
        (sx, sy), (ox, oy) = pos[s], pos[o]
        sy, oy = sy + NODE_H / 2, oy + NODE_H / 2
        if sx == ox:  # same column: an arc on the right
            x = sx + NODE_W
            bend = x + 40 + min(abs(oy - sy) / 4, 60)
            path = f"M{x},{sy} C{bend},{sy} {bend},{oy} {x},{oy}"
        else:
            x1, x2 = (sx + NODE_W, ox) if sx < ox else (sx, ox + NODE_W)
            mx = (x1 + x2) / 2
            path = f"M{x1},{sy} C{mx},{sy} {mx},{oy} {x2},{oy}"
        title = (f"{nb.nodes[s][0]} — {label_of(p, predicate_labels)} → {nb.nodes[o][0]}")
        dash_attr = f' stroke-dasharray="{dash[p]}"' if dash[p] else ""
        parts.append(f'<path d="{path}"{dash_attr} marker-end="url(#arrow)">'
                     f"<title>{_e(title)}</title></path>")
    parts.append("</g>")
    for iri, (label, kind, _d) in nb.nodes.items():
        x, y = pos[iri]
        strong = ' stroke-width="3"' if iri == nb.center else ' stroke-width="1.5"'
        parts.append(f'<a href="{_e(browse_href(iri))}" class="node" data-kind="{kind}">'
                     f"<title>{_e(KIND_NAMES[kind])}: {_e(label)}</title>"
                     f'<g fill="#fff" stroke="#000"{strong}>{_node_shape(kind, x, y)}</g>'
                     f'<text x="{x + NODE_W / 2}" y="{y + 17}" text-anchor="middle" '
                     f'font-size="10" letter-spacing="0.5">{_e(KIND_NAMES[kind].upper())}</text>'
                     + "".join(f'<text x="{x + NODE_W / 2}" y="{y + 33 + 15 * i}" '
                               f'text-anchor="middle" text-decoration="underline">{_e(t)}</text>'
                               for i, t in enumerate(_lines(label)))
                     + "</a>")
    ly = 60 + body_h + 30
    parts.append(f'<text x="30" y="{ly}" font-weight="bold">Links</text>'
                 f'<text x="{30 + COL_W}" y="{ly}" font-weight="bold">Things</text>')
    for i, p in enumerate(predicates):
        yy = ly + 22 + 26 * i
        dash_attr = f' stroke-dasharray="{dash[p]}"' if dash[p] else ""
        parts.append(f'<line x1="30" y1="{yy - 4}" x2="110" y2="{yy - 4}" stroke="#222" '
                     f'stroke-width="1.4"{dash_attr} marker-end="url(#arrow)"/>'
                     f'<text x="120" y="{yy}">{_e(label_of(p, predicate_labels))}</text>')
    for i, k in enumerate(kinds):
        yy = ly + 10 + 26 * i
        parts.append(f'<g transform="translate({30 + COL_W} {yy}) scale(0.3 0.33)" fill="#fff" '
                     f'stroke="#000" stroke-width="4">{_node_shape(k, 0, 0)}</g>'
                     f'<text x="{30 + COL_W + 85}" y="{yy + 14}">{_e(KIND_NAMES[k])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
