import { createHash } from "node:crypto";
import type * as VegaModule from "vega";
import type { VegaLiteSpec } from "../spec";
import { compileSpec } from "./compile";

/**
 * Vega's self-contained build (the code of vega.min.js that browsers run), not its Node entry
 * `vega-node.js`: that one requires the ~25 vega-* packages separately, and npm resolves them to
 * mixed versions (vega 5.22 pins vega-scale ~7.2 while vega-functions 5.13 and vega-encode 4.9 want
 * ^7.3 and get private copies), so a scale made by one copy is not recognised by the other — every
 * gradient legend then fails ("Cannot read properties of undefined (reading 'domain')").
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vega: typeof VegaModule = require("vega/build/vega.js");

/**
 * Renders a Vega-Lite spec to SVG text in Node: vega-lite compile -> Vega View (renderer "none",
 * no DOM) -> `toSVG()`. The picture is the chart's initial state (the default layer and patch of
 * an explorer); interaction needs a front end running Vega.
 */
export interface Rendered {
  svg: string;
  /** Warnings from vega-lite's compiler and from the Vega runtime, in that order. */
  warnings: string[];
}

export async function renderSVG(spec: VegaLiteSpec): Promise<Rendered> {
  const { vega: vgSpec, warnings } = compileSpec(spec);
  const logger = {
    level(): number {
      return vega.Warn;
    },
    warn(...args: readonly unknown[]) {
      warnings.push(`vega: ${args.map(String).join(" ")}`);
      return this;
    },
    info() {
      return this;
    },
    debug() {
      return this;
    },
    error(...args: readonly unknown[]) {
      warnings.push(`vega error: ${args.map(String).join(" ")}`);
      return this;
    },
  };
  const view = new vega.View(vega.parse(vgSpec as VegaModule.Spec), { renderer: "none", logger: logger as never });
  try {
    return { svg: scopeIds(xmlSafe(await view.toSVG())), warnings };
  } finally {
    view.finalize();
  }
}

/**
 * Vega writes text as it is; characters that XML forbids (control characters, lone surrogates,
 * U+FFFE/U+FFFF) would make the SVG unreadable for every parser, resvg included. They become U+FFFD.
 */
export function xmlSafe(svg: string): string {
  return svg.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

/**
 * Vega numbers gradients and clip paths with a process-wide counter (`gradient_0`, `clip_3`), so
 * two SVGs inlined in one notebook page could share an id and borrow each other's gradient, and
 * the same chart would come out different on a second render. Ids are renumbered in order of
 * appearance and prefixed with a hash of the result: equal charts give equal SVG, different
 * charts never share an id.
 */
export function scopeIds(svg: string): string {
  const ids = [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  if (ids.length === 0) return svg;
  const renamed = new Map(ids.map((id, i) => [id, `i${i}`]));
  const swap = (text: string, prefix: string) =>
    text.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (whole, lead: string, id: string) => (renamed.has(id) ? `${lead}${prefix}${renamed.get(id)}` : whole));
  const normal = swap(svg, "");
  const prefix = `vl${createHash("sha256").update(normal).digest("hex").slice(0, 10)}-`;
  return swap(svg, prefix);
}
