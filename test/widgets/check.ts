import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { Resvg } from "@resvg/resvg-js";
import { compileSpec } from "../../widgets/render/compile";
import { renderSVG } from "../../widgets/render/svg";
import { VEGALITE_MIME, VEGALITE_SCHEMA, type VegaLiteSpec } from "../../widgets/spec";
import type { Widget } from "../../widgets/widget";

/**
 * Shared checks for widget tests: a spec is valid vega-lite 5.6 JSON (the schema that version
 * ships), compiles with vega-lite 5.6.1 without a single warning, and renders to well-formed SVG
 * without Vega runtime warnings.
 */

let validator: ReturnType<Ajv["compile"]> | undefined;

/** Validates against node_modules/vega-lite/build/vega-lite-schema.json (5.6.1): no v6-only keys. */
export function assertSchemaValid(spec: VegaLiteSpec): void {
  if (!validator) {
    const schemaFile = require.resolve("vega-lite/build/vega-lite-schema.json");
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
    validator = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, "utf8")));
  }
  const ok = validator(spec);
  assert.ok(ok, `spec is not valid vega-lite 5.6: ${JSON.stringify(validator.errors?.slice(0, 3))}`);
  assert.equal(spec.$schema, VEGALITE_SCHEMA);
}

export function assertCompilesClean(spec: VegaLiteSpec): object {
  const { vega, warnings } = compileSpec(spec);
  assert.deepEqual(warnings, [], "vega-lite 5.6.1 warned while compiling");
  return vega;
}

/**
 * Well-formedness of XML, checked two ways: a strict XML parser (resvg's roxmltree) accepts it,
 * and our own scan finds one root `<svg>` and balanced tags.
 */
export function assertWellFormedSVG(svg: string): void {
  assert.ok(svg.startsWith("<svg"), `SVG does not start with <svg: ${svg.slice(0, 60)}`);
  assert.ok(svg.trimEnd().endsWith("</svg>"), "SVG does not end with </svg>");
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|</g;
  let roots = 0;
  for (const m of svg.matchAll(tag)) {
    if (m[0] === "<") assert.fail(`stray "<" at ${m.index}: ${svg.slice(m.index!, m.index! + 40)}`);
    if (m[0].startsWith("<!")) continue;
    const [, close, name, , self] = m;
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element at ${m.index}`);
    } else if (!self) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) {
      roots++;
    }
  }
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "more than one root element");
  assert.doesNotThrow(() => new Resvg(svg), "resvg (a strict XML parser) rejects the SVG");
}

/** Everything a widget must satisfy; returns its SVG. */
export async function assertWidget(w: Widget): Promise<string> {
  assertSchemaValid(w.spec);
  assertCompilesClean(w.spec);
  const { svg, warnings } = await renderSVG(w.spec);
  assert.deepEqual(warnings, [], "Vega warned while rendering");
  assertWellFormedSVG(svg);
  assert.equal(await w.toSVG(), svg);
  const bundle = await w.toMimeBundle();
  assert.equal(bundle[VEGALITE_MIME], w.spec);
  assert.equal(bundle["image/svg+xml"], svg);
  assert.equal(bundle["text/plain"], w.summary);
  assert.ok(w.summary.length > 0);
  return svg;
}

/** The text content of every SVG <text> element, unescaped. */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&"),
  );
}

/** Number of SVG elements with `class` containing `cls` (vega mark groups are named after the mark). */
export function countMarks(svg: string, group: string): number {
  const start = svg.indexOf(group);
  assert.ok(start >= 0, `no mark group ${group} in the SVG`);
  const open = svg.lastIndexOf("<g", start);
  // The group's direct children up to its closing tag (mark groups hold only leaf items).
  const end = svg.indexOf("</g>", start);
  return (svg.slice(open, end).match(/<(path|text|image|line|rect)\b/g) ?? []).length;
}

/**
 * nbformat writes a notebook with `json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)`
 * and stores string outputs (text/plain, image/svg+xml, text/html) as lists of lines. This is the
 * size in bytes of one display_data output as it lands in an .ipynb file.
 */
export function notebookOutputBytes(bundle: Record<string, unknown>): number {
  const lines = (s: string) => s.split(/(?<=\n)/);
  const data = Object.fromEntries(Object.entries(bundle).map(([k, v]) => [k, typeof v === "string" && !k.endsWith("json") && !k.startsWith("image/png") ? lines(v) : v]));
  const output = { data, metadata: {}, output_type: "display_data" };
  const notebook = { cells: [{ cell_type: "code", execution_count: 1, id: "0", metadata: {}, outputs: [output], source: ["w.show()"] }], metadata: {}, nbformat: 4, nbformat_minor: 5 };
  const empty = { ...notebook, cells: [{ ...notebook.cells[0], outputs: [] }] };
  return Buffer.byteLength(JSON.stringify(notebook, null, 1), "utf8") - Buffer.byteLength(JSON.stringify(empty, null, 1), "utf8");
}

export const ARTIFACTS = path.resolve(__dirname, "..", "..", "test-artifacts");
