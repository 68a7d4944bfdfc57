import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildBank } from "../../src/bank/build";
import { openBank } from "../../src/bank/open";
import { createLenses } from "../../src/lenses/create";
import { interpretImage, type PatchInterpretation } from "../../src/lenses/interpret";
import { openBundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
import { patchExplorer } from "../../widgets/patch-explorer";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { ARTIFACTS } from "./check";

/**
 * The patch explorer's interaction in a real browser: headless Debian Chromium, the spec compiled
 * by vega-lite 5.6.1 and drawn by vega 5.22 from their own browser builds in node_modules, served
 * by a local HTTP server (every other request is refused, so nothing can come from a CDN). Click a
 * patch: the neighbour lists change to that patch's; move the layer slider: they change again.
 */
const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const IMAGE = path.join(FIXTURE_BUNDLE, "eval", "0005.png");
const FIRST = { patch: 9, layer: 3 };
const CLICKED = 46; // row 5, col 6

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>vislens patch explorer</title>
<script src="/vega.min.js"></script><script src="/vega-lite.min.js"></script></head>
<body style="margin:12px;font-family:sans-serif">
<div id="vis"></div>
<script>
  fetch("/spec.json").then((r) => r.json()).then(async (spec) => {
    const compiled = vegaLite.compile(spec).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: "svg", container: "#vis", hover: true });
    await view.runAsync();
    window.__view = view;
    document.body.dataset.ready = "yes";
  }).catch((e) => { document.body.dataset.error = String(e && e.stack || e); });
</script></body></html>`;

let server: http.Server;
let base: string;
let browser: Browser;
let page: Page;
let records: PatchInterpretation[];
const requests: string[] = [];

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
    const spec = JSON.stringify(patchExplorer(states, records, { image: IMAGE, ...FIRST, title: "vislens patch explorer (browser test)" }).spec);

    const files: Record<string, [string, string]> = {
      "/": [PAGE, "text/html"],
      "/spec.json": [spec, "application/json"],
      "/vega.min.js": [fs.readFileSync(require.resolve("vega/build/vega.min.js"), "utf8"), "text/javascript"],
      "/vega-lite.min.js": [fs.readFileSync(require.resolve("vega-lite/build/vega-lite.min.js"), "utf8"), "text/javascript"],
    };
    server = http.createServer((req, res) => {
      const file = files[req.url ?? ""];
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": file[1] }).end(file[0]);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    assert.ok(fs.existsSync(CHROMIUM), `this test drives Debian's Chromium at ${CHROMIUM}: apt-get install chromium`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // No network but ours: anything else is refused and recorded.
    await page.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith(base) ? route.continue() : route.abort();
    });
    await page.goto(base + "/");
    await page.waitForFunction("document.body.dataset.ready === 'yes' || document.body.dataset.error !== undefined", null, { timeout: 30_000 });
    const error = await page.evaluate<string | undefined>("document.body.dataset.error");
    assert.equal(error, undefined, `the page failed: ${error}`);
  });

  after(async () => {
    await browser?.close();
    server?.close();
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
