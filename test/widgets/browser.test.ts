import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { buildBank } from "../../src/bank/build";
import { openBank } from "../../src/bank/open";
import { createLenses } from "../../src/lenses/create";
import { interpretImage, type PatchInterpretation } from "../../src/lenses/interpret";
import { openBundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
import { patchExplorer } from "../../widgets/patch-explorer";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { ARTIFACTS } from "./check";
import { openSpecPage, type SpecPage } from "./spec-page";

/**
 * The patch explorer's interaction in a real browser: headless Debian Chromium, the spec compiled
 * by vega-lite 5.6.1 and drawn by vega 5.22 from their own browser builds in node_modules, served
 * by a local HTTP server (every other request is refused, so nothing can come from a CDN). Click a
 * patch: the neighbour lists change to that patch's; move the layer slider: they change again.
 */
const IMAGE = path.join(FIXTURE_BUNDLE, "eval", "0005.png");
const FIRST = { patch: 9, layer: 3 };
const CLICKED = 46; // row 5, col 6

let opened: SpecPage;
let page: Page;
let base: string;
let records: PatchInterpretation[];
let requests: string[];

function words(lens: string, layer: number, patch: number): string[] {
  return records.find((r) => r.lens === lens && r.layer === layer && r.patch.index === patch)!.neighbours.map((n) => n.word);
}

/** Texts of one lens panel (the hconcat's i-th view), top to bottom. */
async function panelTexts(i: number): Promise<string[]> {
  return page.$$eval(`g.concat_1_concat_${i}_group text`, (els) => els.map((e) => e.textContent ?? ""));
}

async function caption(): Promise<string> {
  return page.$eval("g.concat_0_layer_1_layer_2_marks text", (e) => e.textContent ?? "");
}

describe("patch explorer in headless Chromium", { timeout: 120_000 }, () => {
  before(async () => {
    const bundle = await openBundle(FIXTURE_BUNDLE);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vislens-widgets-bank-"));
    await buildBank(bundle, path.join(FIXTURE_BUNDLE, "corpus.txt"), dir);
    const bank = openBank(dir, { fingerprint: bundle.fingerprint });
    const states = await imageHiddenStates(bundle, IMAGE);
    records = await interpretImage(states, createLenses(bundle, ["latent", "embedding", "logit"], bank), { k: 5 });
    const spec = patchExplorer(states, records, { image: IMAGE, ...FIRST, title: "vislens patch explorer (browser test)" }).spec;
    opened = await openSpecPage(spec);
    ({ page, base, requests } = opened);
  });

  after(async () => {
    await opened?.close();
  });

  it("renders the initial patch's neighbour lists, fetching nothing from outside", async () => {
    assert.equal(await caption(), `patch ${FIRST.patch} (row 1, col 1) at layer ${FIRST.layer}`);
    const latent = await panelTexts(0);
    for (const w of words("latent", FIRST.layer, FIRST.patch)) assert.ok(latent.includes(w), `LatentLens panel lacks "${w}": ${latent.join(" | ")}`);
    const logit = await panelTexts(2);
    for (const w of words("logit", FIRST.layer, FIRST.patch)) assert.ok(logit.includes(w), `LogitLens panel lacks "${w}"`);
    assert.ok(requests.length >= 4 && requests.every((u) => u.startsWith(base)), `requests: ${requests.join(", ")}`);
  });

  it("clicking a patch shows that patch's neighbours", async () => {
    const before = await panelTexts(0);
    const rects = page.locator("g.concat_0_layer_1_layer_0_marks > path");
    assert.equal(await rects.count(), 64);
    await rects.nth(CLICKED).click();
    await page.waitForFunction(`document.querySelector("g.concat_0_layer_1_layer_2_marks text")?.textContent?.startsWith("patch ${CLICKED} ")`);
    assert.equal(await caption(), `patch ${CLICKED} (row 5, col 6) at layer ${FIRST.layer}`);
    const after = await panelTexts(0);
    assert.notDeepEqual(after, before, "the LatentLens list did not change");
    for (const lens of ["latent", "embedding", "logit"] as const) {
      const texts = await panelTexts(["latent", "embedding", "logit"].indexOf(lens));
      const expected = words(lens, FIRST.layer, CLICKED);
      const shown = texts.filter((t) => expected.includes(t));
      assert.ok(expected.every((w) => texts.includes(w)), `${lens}: expected ${expected}, panel shows ${texts.join(" | ")}`);
      assert.ok(shown.length >= expected.length);
    }
    // The selected patch is outlined: the overlay rect sits on the clicked patch.
    const [sel, target] = await Promise.all([
      page.locator("g.concat_0_layer_1_layer_1_marks > path").boundingBox(),
      rects.nth(CLICKED).boundingBox(),
    ]);
    assert.ok(sel && target && Math.abs(sel.x - target.x) < 3 && Math.abs(sel.y - target.y) < 3, `outline at ${JSON.stringify(sel)}, patch at ${JSON.stringify(target)}`);
  });

  it("the layer slider changes the layer of the lists", async () => {
    const slider = page.locator("input[type=range]");
    assert.equal(await slider.count(), 1);
    await slider.evaluate((el) => {
      (el as unknown as { value: string }).value = "6";
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await page.waitForFunction(`document.querySelector("g.concat_0_layer_1_layer_2_marks text")?.textContent?.endsWith("at layer 6")`);
    const texts = await panelTexts(2);
    for (const w of words("logit", 6, CLICKED)) assert.ok(texts.includes(w), `LogitLens at layer 6 lacks "${w}"`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, "widgets-explorer-chromium.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(fs.statSync(shot).size > 10_000);
  });
});
