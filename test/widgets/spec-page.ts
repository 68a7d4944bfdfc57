import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";

/**
 * A Vega-Lite spec in a real browser: headless Debian Chromium, the spec compiled by vega-lite
 * 5.6.1 and drawn by vega 5.22 from their own browser builds in node_modules, served by a local
 * HTTP server. Every other request is refused and recorded, so nothing can come from a CDN.
 */
export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>vislens widget</title>
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

export interface SpecPage {
  page: Page;
  /** Every URL the page asked for. */
  requests: string[];
  base: string;
  close(): Promise<void>;
}

export async function openSpecPage(spec: object): Promise<SpecPage> {
  const files: Record<string, [string, string]> = {
    "/": [PAGE, "text/html"],
    "/spec.json": [JSON.stringify(spec), "application/json"],
    "/vega.min.js": [fs.readFileSync(require.resolve("vega/build/vega.min.js"), "utf8"), "text/javascript"],
    "/vega-lite.min.js": [fs.readFileSync(require.resolve("vega-lite/build/vega-lite.min.js"), "utf8"), "text/javascript"],
  };
  const server = http.createServer((req, res) => {
    const file = files[req.url ?? ""];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file[1] }).end(file[0]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  assert.ok(fs.existsSync(CHROMIUM), `this test drives Debian's Chromium at ${CHROMIUM}: apt-get install chromium`);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    await page.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith(base) ? route.continue() : route.abort();
    });
    await page.goto(base + "/");
    await page.waitForFunction("document.body.dataset.ready === 'yes' || document.body.dataset.error !== undefined", null, { timeout: 30_000 });
    const error = await page.evaluate<string | undefined>("document.body.dataset.error");
    assert.equal(error, undefined, `the page failed: ${error}`);
    const opened = browser;
    return {
      page,
      requests,
      base,
      async close() {
        await opened.close();
        server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    server.close();
    throw error;
  }
}
