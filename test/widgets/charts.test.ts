import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { layerAlignmentFromRecords, type LayerAlignment } from "vislens";
import { dataFrameView, formatCell } from "../../widgets/dataframe-view";
import { layerAlignmentHeatmap } from "../../widgets/layer-alignment-heatmap";
import { lensCurves, type LensCurveRow } from "../../widgets/lens-curves";
import { patchLayerHeatmap } from "../../widgets/patch-layer-heatmap";
import { assertWidget, svgTexts } from "./check";
import { table } from "./decode";
import { synthetic } from "./synthetic";

const { records } = synthetic({ rows: 4, cols: 6, layers: [0, 1, 2, 3, 4], k: 3, words: 50, sentences: 30, entries: 60 });

/** SVG paths drawn for data marks (vega gives each mark item an aria-roledescription). */
function markItems(svg: string, role: string): number {
  return (svg.match(new RegExp(`<path[^>]*aria-roledescription="${role}"`, "g")) ?? []).length;
}

describe("patchLayerHeatmap", () => {
  it("strip layout: one cell per (layer, patch), coloured by the score", async () => {
    const w = patchLayerHeatmap(records);
    const svg = await assertWidget(w);
    assert.equal(markItems(svg, "rect mark"), 5 * 24);
    const texts = svgTexts(svg);
    assert.ok(texts.includes("layer") && texts.includes("LatentLens top-1 similarity"));
    assert.match(w.summary, /24 patches x 5 layers; colour = LatentLens top-1 similarity/);
    const cells = table((w.spec as unknown as { datasets: Record<string, string> }).datasets.cells);
    assert.equal(cells.length, 120);
    const r = records.find((x) => x.lens === "latent" && x.layer === 3 && x.patch.index === 9)!;
    const cell = cells.find((c) => c.l === "3" && c.patch === "9")!;
    assert.ok(Math.abs(Number(cell.v) - r.neighbours[0].similarity!) < 1e-4);
  });

  it("tooltips carry each lens's top neighbours, joined through the words table", async () => {
    const w = patchLayerHeatmap(records, { tooltipK: 2 });
    const svg = await w.toSVG();
    // Vega writes tooltip fields into each item's aria-label.
    const r = records.find((x) => x.lens === "embedding" && x.layer === 0 && x.patch.index === 0)!;
    const expected = `EmbeddingLens top-2: ${r.neighbours[0].word}, ${r.neighbours[1].word}`;
    assert.ok(svg.includes(expected), `no "${expected}" in the SVG`);
  });

  it("grid layout: small multiples, one image-shaped grid per layer", async () => {
    const w = patchLayerHeatmap(records, { layout: "grid", score: "logit", columns: 3 });
    const svg = await assertWidget(w);
    assert.equal(markItems(svg, "rect mark"), 5 * 24);
    for (const l of ["0", "1", "2", "3", "4"]) assert.ok(svgTexts(svg).includes(l), `facet header ${l}`);
    assert.match(w.summary, /LogitLens top-1 probability/);
  });

  it("refuses a bad layout", () => {
    assert.throws(() => patchLayerHeatmap(records, { layout: "spiral" as "grid" }), /layout must be one of strip, grid/);
  });
});

describe("lensCurves", () => {
  const rows: LensCurveRow[] = [];
  for (const model of ["shapes-llava", "other"]) {
    for (const lens of ["latent", "embedding", "logit"]) {
      for (let layer = 0; layer <= 6; layer++) rows.push({ model, lens, layer, value: (layer + (lens === "latent" ? 3 : 0)) / 10 });
    }
  }

  it("draws one line per lens and model, percent axis for a % metric", async () => {
    const w = lensCurves(rows, { metric: "% interpretable" });
    const svg = await assertWidget(w);
    assert.equal(markItems(svg, "line mark"), 6);
    assert.equal(markItems(svg, "point"), 42);
    const texts = svgTexts(svg);
    for (const t of ["LatentLens", "EmbeddingLens", "LogitLens", "shapes-llava", "other", "% interpretable", "100%"]) assert.ok(texts.includes(t), t);
    assert.match(w.summary, /shapes-llava \/ LatentLens: 0:30\.0% .* \(peak 90\.0% at layer 6\)/);
    // The model legend shows a visible line sample per model, each with its own dash.
    const dashSamples = [...svg.matchAll(/role-legend-symbol[^>]*><path [^>]*stroke="#555"[^>]*stroke-dasharray="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(dashSamples.length, 2, "one stroked legend sample per model");
    assert.notEqual(dashSamples[0], dashSamples[1]);
  });

  it("one model: no dash legend; plain numbers", async () => {
    const w = lensCurves(rows.filter((r) => r.model === "other").map((r) => ({ ...r, value: r.value * 7 })), { metric: "mean rank" });
    const svg = await assertWidget(w);
    assert.ok(!svgTexts(svg).includes("model"));
    assert.ok(svgTexts(svg).includes("layer"));
  });

  it("xTitle renames the x axis", async () => {
    const w = lensCurves(rows.filter((r) => r.model === "other"), { metric: "% interpretable", xTitle: "log10 corpus fraction" });
    const texts = svgTexts(await assertWidget(w));
    assert.ok(texts.includes("log10 corpus fraction") && !texts.includes("layer"));
  });

  it("refuses malformed rows", () => {
    assert.throws(() => lensCurves([]), /rows is empty/);
    assert.throws(() => lensCurves([{ model: "m", lens: "latent", layer: 0, value: Number.NaN }]), /rows\[0\]\.value is NaN/);
    assert.throws(() => lensCurves([rows[0], rows[0]]), /rows\[1\] repeats model "shapes-llava", lens "latent", layer 0/);
  });
});

describe("layerAlignmentHeatmap", () => {
  it("draws visual x contextual shares from layerAlignmentFromRecords", async () => {
    const alignment = layerAlignmentFromRecords(records, 3);
    const w = layerAlignmentHeatmap(alignment);
    const svg = await assertWidget(w);
    assert.equal(markItems(svg, "rect mark"), alignment.visualLayers.length * alignment.contextualLayers.length);
    const printed = alignment.shares.flat().filter((s) => s >= 0.05).length;
    const percentTexts = svgTexts(svg).filter((t) => /^\d+%$/.test(t));
    assert.ok(percentTexts.length >= printed, `${percentTexts.length} share labels, expected at least ${printed}`);
    assert.match(w.summary, /5 visual x \d+ contextual layers/);
  });

  it("refuses inconsistent shapes", () => {
    const bad: LayerAlignment = { visualLayers: [0, 1], contextualLayers: [0], shares: [[1]], counts: [1, 1] };
    assert.throws(() => layerAlignmentHeatmap(bad), /shares has 1 rows, visualLayers has 2/);
    assert.throws(() => layerAlignmentHeatmap({ ...bad, visualLayers: [0], shares: [[1.5]] }), /shares\[0\]\[0\] is 1.5/);
  });
});

describe("dataFrameView", () => {
  it("renders a danfojs DataFrame as a table, with HTML and fixed-width text", async () => {
    // danfojs-node prints a TensorFlow banner when loaded; that is its business.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dfd = require("danfojs-node") as typeof import("danfojs-node");
    // Typed, so that passing a real danfojs DataFrame to dataFrameView is type-checked too.
    const df = new dfd.DataFrame({ layer: [0, 1, 2, 3], lens: ["latent", "logit", "embedding", "a <b> & c"], share: [0.1234567, 0.5, Number.NaN, 1] });
    const w = dataFrameView(df, { maxRows: 3 });
    const svg = await assertWidget(w);
    const texts = svgTexts(svg);
    for (const t of ["layer", "lens", "share", "latent", "0.1235", "0.5", "NaN", "4 rows x 3 columns (showing 3 x 3)"]) assert.ok(texts.includes(t), t);
    assert.ok(!texts.includes("a <b> & c"), "row 4 is beyond maxRows");
    const bundle = await w.toMimeBundle();
    assert.match(bundle["text/html"]!, /<table border="1" class="dataframe">/);
    assert.equal((bundle["text/html"]!.match(/<tr>/g) ?? []).length, 4);
    assert.equal(bundle["text/plain"].split("\n")[1], "   layer  lens        share");
    const all = await dataFrameView(df).toMimeBundle();
    assert.match(all["text/html"]!, /a &lt;b&gt; &amp; c/);
  });

  it("takes an array of records too", async () => {
    const w = dataFrameView([{ a: 1, b: "x" }, { a: 2, c: true }], { showIndex: false });
    const svg = await assertWidget(w);
    for (const t of ["a", "b", "c", "x", "true"]) assert.ok(svgTexts(svg).includes(t), t);
  });

  it("formats cells the same way everywhere", () => {
    assert.equal(formatCell(0.123456, 4), "0.1235");
    assert.equal(formatCell(12, 4), "12");
    assert.equal(formatCell(null, 4), "");
    assert.equal(formatCell("two\nlines\u0007", 4), "two lines\u2407");
    assert.throws(() => dataFrameView({ columns: ["a"], values: [[1, 2]] }), /row 0 has 2 cells, the frame has 1 columns/);
  });
});
