import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { attributeAnswer, type AttributionResult } from "../../src/attribution";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { attributionHeads, attributionLayers, attributionMaps, attributionTopPositions } from "../../widgets/attribution";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { ARTIFACTS, assertWidget, svgTexts } from "./check";
import { table } from "./decode";
import { openSpecPage, type SpecPage } from "./spec-page";

const IMAGE = path.join(FIXTURE_BUNDLE, "eval", "0000.png");
const PREFIX = "a big yellow triangle left of a small blue";

let bundle: Bundle;
let r: AttributionResult;

function markItems(svg: string, role: string): number {
  return (svg.match(new RegExp(`<path[^>]*aria-roledescription="${role}"`, "g")) ?? []).length;
}

before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
  r = await attributeAnswer(bundle, IMAGE, { prompt: PREFIX, heads: 4, ablate: true });
});
after(async () => {
  await bundle.close();
});

describe("attribution widgets (Vega-Lite 5.6, SVG in Node)", () => {
  it("attributionHeads: one cell per (layer, head), the top head picked, its 64-patch map beside", async () => {
    const w = attributionHeads(r);
    const svg = await assertWidget(w);
    const datasets = (w.spec as unknown as { datasets: Record<string, string> }).datasets;
    const heads = table(datasets.heads);
    assert.equal(heads.length, 6 * 4);
    const top = r.rankedHeads[0];
    const cell = heads.find((h) => Number(h.layer) === top.layer && Number(h.head) === top.head)!;
    assert.ok(Math.abs(Number(cell.score) - top.score) < 1e-4);
    assert.equal(heads.filter((h) => h.mapped === "1").length, 4);
    assert.equal(table(datasets.positions).length, 4 * 64);
    // Drawn: 24 heatmap cells and the picked head's 64 patches (only that head passes the filter).
    assert.equal(markItems(svg, "rect mark"), 24 + 64);
    assert.ok(svgTexts(svg).includes(`head ${top.layer}.${top.head}`));
    assert.match(w.summary, new RegExp(`top: ${top.layer}\\.${top.head} ${top.score.toFixed(3)}`));
  });

  it("attributionMaps: position map, attention map and ablation drops over the image, with their values per patch", async () => {
    const w = attributionMaps(r);
    const svg = await assertWidget(w);
    const spec = w.spec as unknown as { hconcat: unknown[]; datasets: Record<string, string> };
    assert.equal(spec.hconcat.length, 3);
    assert.equal((svg.match(/<image\b/g) ?? []).length, 3);
    const drops = table(spec.datasets.cells_ablation);
    const at = drops.find((c) => c.row === "2" && c.col === "5")!;
    assert.ok(Math.abs(Number(at.v) - r.ablation!.patchDrops[21]) < 1e-4);
    assert.match(w.summary, /position scores, Σ of 4 top heads: top patch \(2, 5\)/);
    assert.equal((attributionMaps(r, { ablation: false }).spec as unknown as { hconcat: unknown[] }).hconcat.length, 2);
    const one = attributionMaps(r, { head: r.headPositions[1] });
    assert.match(one.summary, new RegExp(`head ${r.headPositions[1].layer}\\.${r.headPositions[1].head}: position scores`));
    const missing = r.rankedHeads[r.rankedHeads.length - 1];
    assert.throws(() => attributionMaps(r, { head: missing }), new RegExp(`head ${missing.layer}\\.${missing.head} has no position scores`));
  });

  it("attributionLayers: an attention and an FFN bar per block", async () => {
    const w = attributionLayers(r);
    const svg = await assertWidget(w);
    assert.equal(markItems(svg, "bar"), 12);
    assert.match(w.summary, new RegExp(`block 0: [+-]${Math.abs(r.layerScores[0].attention).toFixed(3)} / `));
  });

  it("attributionTopPositions: a table of the top head's positions with their decoded words", async () => {
    const w = attributionTopPositions(r);
    const svg = await assertWidget(w);
    const texts = svgTexts(svg);
    assert.ok(texts.includes("patch (2, 5)"));
    assert.ok(texts.some((t) => t.includes(r.topPositions[0].writeWords[0])));
  });
});

describe("attributionHeads in headless Chromium", { timeout: 120_000 }, () => {
  let opened: SpecPage;
  before(async () => {
    opened = await openSpecPage(attributionHeads(r).spec);
  });
  after(async () => {
    await opened?.close();
  });

  const label = () => opened.page.$eval("g.concat_1_layer_2_marks text", (e) => e.textContent ?? "");
  const patchCount = () => opened.page.locator("g.concat_1_layer_1_marks > path").count();

  it("clicking a head with position scores shows its map; clicking another says how to get one", async () => {
    const { page, requests, base } = opened;
    const top = r.rankedHeads[0];
    assert.equal(await label(), `head ${top.layer}.${top.head}`);
    assert.equal(await patchCount(), 64);
    const cells = page.locator("g.concat_0_marks > path");
    assert.equal(await cells.count(), 24);
    // Cells are drawn in data order: layer-major, head-minor.
    const second = r.headPositions[1];
    await cells.nth(second.layer * 4 + second.head).click();
    await page.waitForFunction(`document.querySelector("g.concat_1_layer_2_marks text")?.textContent === "head ${second.layer}.${second.head}"`);
    assert.equal(await patchCount(), 64);
    const unmapped = r.rankedHeads[r.rankedHeads.length - 1];
    await cells.nth(unmapped.layer * 4 + unmapped.head).click();
    await page.waitForFunction(`document.querySelector("g.concat_1_layer_2_marks text")?.textContent?.includes("no position scores")`);
    assert.equal(await patchCount(), 0);
    assert.ok(requests.every((u) => u.startsWith(base)), `requests: ${requests.join(", ")}`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "widgets-attribution-heads-chromium.png"), fullPage: true });
  });
});
