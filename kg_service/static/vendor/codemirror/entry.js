// Source of cm-sparql.js: CodeMirror 6 with a SPARQL mode, prefix completion and error
// markers, bundled by esbuild into one IIFE exposing window.CKMEditor.
// Rebuild: see README.md in this directory.
import {EditorState, Compartment} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
        drawSelection, placeholder} from "@codemirror/view";
import {defaultKeymap, history, historyKeymap, indentWithTab} from "@codemirror/commands";
import {StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching,
        indentOnInput} from "@codemirror/language";
import {sparql} from "@codemirror/legacy-modes/mode/sparql";
import {autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap, closeCompletion}
  from "@codemirror/autocomplete";
import {setDiagnostics, lintGutter, lintKeymap} from "@codemirror/lint";

const KEYWORDS = ["SELECT", "DISTINCT", "REDUCED", "WHERE", "OPTIONAL", "FILTER", "UNION",
  "MINUS", "GRAPH", "BIND", "VALUES", "ORDER BY", "GROUP BY", "HAVING", "LIMIT", "OFFSET",
  "ASK", "CONSTRUCT", "DESCRIBE", "PREFIX", "BASE", "FROM", "FROM NAMED", "NOT EXISTS",
  "EXISTS", "COUNT", "SAMPLE", "GROUP_CONCAT", "STR", "LANG", "REGEX", "CONTAINS",
  "LCASE", "UCASE", "COALESCE", "IF", "SERVICE", "AS", "DESC", "ASC"];

// Completion: "prefix:" names (adds the PREFIX line when missing), then local names
// known for that prefix, then keywords.
function completer(prefixes, terms) {
  return (ctx) => {
    const word = ctx.matchBefore(/[A-Za-z_][\w-]*:?[\w-]*/);
    if (!word || (word.from === word.to && !ctx.explicit)) return null;
    const text = word.text;
    const doc = ctx.state.doc.toString();
    const colon = text.indexOf(":");
    if (colon >= 0) {
      const pfx = text.slice(0, colon);
      const names = (terms && terms[pfx]) || [];
      return {from: word.from + colon + 1, validFor: /^[\w-]*$/,
              options: names.map((n) => ({label: n, type: "variable", detail: pfx + ":"}))};
    }
    const options = Object.entries(prefixes).map(([p, iri]) => ({
      label: p + ":", type: "namespace", detail: iri,
      apply: (view, completion, from, to) => {
        const changes = [{from, to, insert: p + ":"}];
        const re = new RegExp("PREFIX\\s+" + p + ":", "i");
        if (!re.test(doc)) changes.push({from: 0, insert: `PREFIX ${p}: <${iri}>\n`});
        view.dispatch({changes, selection: {anchor: from + p.length + 1 +
          (changes.length > 1 ? `PREFIX ${p}: <${iri}>\n`.length : 0)}});
      },
    }));
    for (const k of KEYWORDS) options.push({label: k, type: "keyword"});
    return {from: word.from, options, validFor: /^[\w-]*$/};
  };
}

export function create(parent, opts = {}) {
  const prefixes = opts.prefixes || {};
  const label = new Compartment();
  // Running closes an open completion list first (it would cover the results).
  const runIt = (view) => { closeCompletion(view); opts.onRun(); return true; };
  const runKeys = opts.onRun ? [{key: "Mod-Enter", run: runIt}, {key: "Shift-Enter", run: runIt}]
                             : [];
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.doc || "",
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(),
        indentOnInput(), bracketMatching(), closeBrackets(), highlightActiveLine(),
        StreamLanguage.define(sparql), syntaxHighlighting(defaultHighlightStyle),
        autocompletion({override: [completer(prefixes, opts.terms || {})]}),
        lintGutter(),
        placeholder(opts.placeholder || ""),
        keymap.of([...runKeys, ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap,
                   ...completionKeymap, ...lintKeymap,
                   // Tab indents only with Ctrl-M/Esc escape hatch: Escape then Tab leaves.
                   indentWithTab]),
        label.of(EditorView.contentAttributes.of(opts.contentAttributes || {})),
        EditorView.lineWrapping,
      ],
    }),
  });
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue: (text) => view.dispatch({changes: {from: 0, to: view.state.doc.length,
                                                 insert: text}}),
    focus: () => view.focus(),
    closeCompletion: () => closeCompletion(view),
    // line/column are 1-based, as in the problem body of a 400.
    markError: (line, column, message) => {
      const doc = view.state.doc;
      const ln = doc.line(Math.max(1, Math.min(line || 1, doc.lines)));
      const from = Math.min(ln.from + Math.max(0, (column || 1) - 1), ln.to);
      const to = Math.min(Math.max(from + 1, ln.to), doc.length);
      view.dispatch(setDiagnostics(view.state, [{from, to, severity: "error", message}]));
      view.dispatch({selection: {anchor: from}, scrollIntoView: true});
    },
    clearErrors: () => view.dispatch(setDiagnostics(view.state, [])),
  };
}
