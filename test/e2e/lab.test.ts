/**
 * End to end, in a real browser: the README's main command (scripts/start.sh) brings up JupyterLab
 * with the vislens kernel; Debian's Chromium, driven by playwright-core, opens the quickstart, runs
 * all cells, finds the patch explorer rendered by JupyterLab's own Vega-Lite renderer, clicks a
 * patch and checks that the neighbour lists changed; screenshots go to test-artifacts/.
 *
 * Isolation: a temp copy of notebooks/, a random free port and token, Jupyter config/runtime/
 * settings/workspace dirs in the temp dir. Everything started here is stopped in after(): the
 * kernels through Jupyter's API, then the server's process group, then any kernel still alive.
 *
 * How the neighbour lists are read: JupyterLab renders Vega on a canvas, so the test uses the
 * chart's own "Save as SVG" action (vega-embed's export of the live view, scenegraph as it is now)
 * and compares its text before and after the click; the patch is found by hovering and reading
 * Vega's tooltip ("patch: N"), not by assuming a layout. A second notebook, written by the test,
 * shows a concept grid (issue #10), read back the same way: its images and every concept's words.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { REPO, copyNotebooks, freePort, isolatedJupyterEnv, requireKernel, tempDir } from "../notebooks/jupyter";

const CHROMIUM = process.env.VISLENS_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const ARTIFACTS = path.join(REPO, "test-artifacts");
const NOTEBOOK = "01-quickstart.ipynb";
const CAPTION = /^patch (\d+) \(row (\d+), col (\d+)\) at layer (\d+)$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Browser globals used inside page.evaluate callbacks (they run in Chromium). The test tsconfig has
// no DOM lib, and a `/// <reference lib="dom" />` would change the whole test program's types.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const MouseEvent: any;
declare const Event: any;

interface Lab { child: ChildProcess; port: number; token: string; log: string; runtimeDir: string; url: (p: string) => string }

async function startLab(tmp: string): Promise<Lab> {
  const port = await freePort();
  const token = Array.from({ length: 24 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  const notebookDir = copyNotebooks(path.join(tmp, "notebooks"));
  const env = isolatedJupyterEnv(tmp, { VISLENS_PORT: String(port), VISLENS_TOKEN: token, VISLENS_NOTEBOOK_DIR: notebookDir });
  delete env.VISLENS_BANK_DIR; // the notebook opens the bank start.sh made
  const log = path.join(tmp, "lab.log");
  const out = fs.openSync(log, "w");
  // detached: its own process group (bash -> exec jupyter), so it can be stopped as a whole.
  const child = spawn("bash", [path.join(REPO, "scripts", "start.sh")], { cwd: REPO, env, detached: true, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  const lab: Lab = { child, port, token, log, runtimeDir: env.JUPYTER_RUNTIME_DIR!, url: (p) => `http://127.0.0.1:${port}${p}${p.includes("?") ? "&" : "?"}token=${token}` };
  const deadline = Date.now() + 180_000; // bootstrap (a few s when installed) + Lab start
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`scripts/start.sh exited with ${child.exitCode}:\n${tail(log)}`);
    try {
      const res = await fetch(lab.url("/api/status"));
      if (res.ok) return lab;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  throw new Error(`JupyterLab did not answer on port ${port} in time:\n${tail(log)}`);
}

function tail(file: string, chars = 3000): string {
  try {
    return fs.readFileSync(file, "utf8").slice(-chars);
  } catch {
    return "(no log)";
  }
}

/** Pids of processes whose command line mentions `needle` (kernels name their connection file). */
function pidsMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

async function stopLab(lab: Lab): Promise<void> {
  try {
    const kernels = (await (await fetch(lab.url("/api/kernels"))).json()) as { id: string }[];
    await Promise.all(kernels.map((k) => fetch(lab.url(`/api/kernels/${k.id}`), { method: "DELETE" })));
  } catch {
    // server already gone
  }
  const group = lab.child.pid!;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-group, sig);
    } catch {
      // group gone
    }
  };
  signal("SIGTERM");
  for (let i = 0; i < 100 && lab.child.exitCode === null && lab.child.signalCode === null; i++) await sleep(100);
  signal("SIGKILL");
  for (const pid of pidsMentioning(lab.runtimeDir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** The explorer's current view as SVG text, through vega-embed's "Save as SVG" action. */
async function exportSVG(explorer: Locator): Promise<string> {
  return explorer.evaluate(async (el) => {
    const link = [...el.querySelectorAll(".vega-actions a")].find((a: any) => a.textContent === "Save as SVG") as any;
    if (!link) throw new Error("no 'Save as SVG' action on the chart");
    link.setAttribute("href", "#");
    link.dispatchEvent(new MouseEvent("mousedown", { bubbles: true })); // vega-embed renders the URL on mousedown
    for (let i = 0; i < 200 && link.getAttribute("href") === "#"; i++) await new Promise((r) => setTimeout(r, 25));
    return (await fetch(link.href)).text();
  });
}

function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

function caption(svg: string): { patch: number; layer: number; text: string } {
  const text = svgTexts(svg).find((t) => CAPTION.test(t));
  assert.ok(text, "the explorer names its selected patch");
  const m = CAPTION.exec(text)!;
  return { patch: Number(m[1]), layer: Number(m[4]), text };
}

/** Waits until every code cell ran; fails fast when the run stopped at an error. */
async function waitForRunAll(page: Page, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stalled = 0;
  while (Date.now() < deadline) {
    const state = await page.evaluate(() => {
      const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
      const prompts = [...(panel?.querySelectorAll(".jp-CodeCell .jp-InputPrompt") ?? [])].map((p) => p.textContent ?? "");
      const status = panel?.querySelector(".jp-Notebook-ExecutionIndicator")?.getAttribute("data-status");
      const problems = [...(panel?.querySelectorAll('[data-mime-type="application/vnd.jupyter.error"], [data-mime-type="application/vnd.jupyter.stderr"]') ?? [])]
        .map((e) => e.textContent ?? "");
      return { prompts, status, problems };
    });
    const ran = state.prompts.filter((p) => /\[\d+\]/.test(p)).length;
    if (state.prompts.length > 0 && ran === state.prompts.length && state.status === "idle") return;
    const running = state.prompts.some((p) => p.includes("*"));
    stalled = !running && state.status === "idle" && ran > 0 ? stalled + 1 : 0;
    if (state.problems.length > 0 || stalled >= 8) {
      throw new Error(`the run stopped after ${ran}/${state.prompts.length} cells:\n${state.problems.join("\n").slice(0, 3000)}`);
    }
    await sleep(250);
  }
  throw new Error(`cells still running after ${timeoutMs / 1000} s`);
}

describe("JupyterLab + Chromium: the quickstart's patch explorer, a concept grid", () => {
  let tmp = "";
  let lab: Lab | undefined;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  const killOnExit = () => {
    if (lab?.child.pid) try { process.kill(-lab.child.pid, "SIGKILL"); } catch { /* gone */ }
  };

  before(async () => {
    requireKernel();
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set VISLENS_CHROMIUM)`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    tmp = tempDir("vislens-e2e-");
    process.on("exit", killOnExit);
    const started = Date.now();
    lab = await startLab(tmp);
    console.log(`# JupyterLab (scripts/start.sh) answered on port ${lab.port} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (lab) {
      await stopLab(lab);
      fs.copyFileSync(lab.log, path.join(ARTIFACTS, "lab.log"));
      assert.deepEqual(pidsMentioning(lab.runtimeDir), [], "a kernel outlived the test");
    }
    process.off("exit", killOnExit);
    // Reported, not failed on: JupyterLab's debugger panel logs "No active debugger session" for
    // kernels without a debugger (tslab has none).
    const distinct = [...new Set(pageErrors)].map((e) => `${e} (x${pageErrors.filter((x) => x === e).length})`);
    if (distinct.length) console.log(`# page errors: ${distinct.join("; ")}`);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("opens 01-quickstart, runs all cells, clicks a patch: the neighbour lists change", { timeout: 300_000 }, async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1100 } });
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    const t0 = Date.now();
    const lap = (what: string) => console.log(`# ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    await page.goto(lab!.url(`/lab/tree/${NOTEBOOK}`));
    // The notebook's kernel (from its metadata) started and idle: the toolbar names it.
    await page.waitForFunction(() => {
      const panel = document.querySelector(".jp-NotebookPanel");
      const idle = panel?.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
      return Boolean(idle) && (panel?.querySelector(".jp-NotebookPanel-toolbar")?.textContent ?? "").includes("vislens (TypeScript)");
    }, null, { timeout: 90_000, polling: 200 });
    lap("notebook open, kernel idle");
    await page.keyboard.press("Control+b"); // hide the file browser: more room for the explorer

    await page.getByRole("menuitem", { name: "Run", exact: true }).click();
    await page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click();
    await waitForRunAll(page, 180_000);
    lap("all cells ran");

    // Rendered by JupyterLab's Vega-Lite 5 renderer (not the SVG fallback).
    const explorer = page.locator('.jp-RenderedVegaLite:has(.chart-wrapper[aria-label^="vislens patch explorer"])');
    await explorer.locator("canvas, svg.marks").first().waitFor({ timeout: 30_000 });
    await explorer.scrollIntoViewIfNeeded();
    const canvas = explorer.locator(".chart-wrapper > canvas, .chart-wrapper > svg").first();
    const box = (await canvas.boundingBox())!;
    assert.ok(box.width > 300 && box.height > 300, `explorer is ${box.width}x${box.height}`);

    const before = await exportSVG(explorer);
    const selected = caption(before);

    // Hover a coarse grid over the image; Vega's tooltip names the patch under the mouse and its
    // score. Click the best-scoring patch other than the selected one (an object, usually).
    let target: { x: number; y: number; patch: number; score: number } | undefined;
    const away = { x: box.x + box.width - 5, y: box.y + box.height + 40 };
    for (let gy = 30; gy < 320; gy += 60) {
      for (let gx = 30; gx < 320; gx += 60) {
        await page.mouse.move(away.x, away.y);
        await page.mouse.move(box.x + gx, box.y + gy);
        const tip = await page.waitForFunction(() => {
          const el = document.querySelector("#vg-tooltip-element.visible");
          return el ? el.textContent : null;
        }, null, { timeout: 1000 }).then((h) => h.jsonValue(), () => null);
        const patch = tip ? /patch:?\s*(\d+)/.exec(tip) : null;
        const score = tip ? /similarity:?\s*(-?[\d.]+)/.exec(tip) : null;
        if (!patch || Number(patch[1]) === selected.patch) continue;
        const candidate = { x: box.x + gx, y: box.y + gy, patch: Number(patch[1]), score: score ? Number(score[1]) : -Infinity };
        if (!target || candidate.score > target.score) target = candidate;
      }
    }
    assert.ok(target, "no other patch found under the mouse");
    await page.mouse.click(target.x, target.y);

    let after = before;
    for (let i = 0; i < 40 && caption(after).patch === selected.patch; i++) {
      await sleep(100);
      after = await exportSVG(explorer);
    }
    assert.equal(caption(after).patch, target.patch, "the click selects the patch under the mouse");
    assert.equal(caption(after).layer, selected.layer);
    const lists = (svg: string) => svgTexts(svg).filter((t) => !CAPTION.test(t));
    assert.notDeepEqual(lists(after), lists(before), "the neighbour lists did not change");
    lap(`clicked patch ${target.patch} (was ${selected.patch})`);

    await page.mouse.move(away.x, away.y); // no tooltip in the picture
    await sleep(300);
    await explorer.screenshot({ path: path.join(ARTIFACTS, "lab-patch-explorer.png") });
    await page.screenshot({ path: path.join(ARTIFACTS, "lab-quickstart.png") });

    // The layer slider re-reads the same patch at another layer.
    const slider = explorer.locator('input[type="range"][name="layer"]');
    const max = Number(await slider.getAttribute("max"));
    await slider.evaluate((el: any, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, max);
    let moved = after;
    for (let i = 0; i < 40 && caption(moved).layer !== max; i++) {
      await sleep(100);
      moved = await exportSVG(explorer);
    }
    assert.deepEqual([caption(moved).patch, caption(moved).layer], [target.patch, max]);
    assert.notDeepEqual(lists(moved), lists(after), "the neighbour lists did not follow the layer slider");
    lap(`slider to layer ${max}`);
    await page.close();
  });

  it("shows a concept grid (issue #10) in a cell: every concept's top images and words", { timeout: 180_000 }, async () => {
    // A small notebook written here: a 4-concept dictionary of "circle" on 60 concept-split images.
    const cell = [
      'import { fixtureGrid, openBundle, readConceptImages, conceptSamples, learnConcepts } from "vislens";',
      'import { conceptGrid } from "vislens/widgets";',
      "const grid = fixtureGrid();",
      "const bundle = await openBundle(grid.models[0].dir);",
      'const samples = await conceptSamples(bundle, readConceptImages(grid.conceptDir, { limit: 60 }), "circle");',
      'const concepts = await learnConcepts(bundle, samples, { method: "snmf", k: 4 });',
      "await bundle.close();",
      "console.log(JSON.stringify(concepts.concepts.map((c) => c.words)));",
      "await conceptGrid(concepts).show();",
    ].join("\n");
    const notebook = JSON.parse(fs.readFileSync(path.join(tmp, "notebooks", NOTEBOOK), "utf8")) as { metadata: unknown };
    const name = "concept-grid.ipynb";
    fs.writeFileSync(path.join(tmp, "notebooks", name), JSON.stringify({ cells: [{ cell_type: "code", execution_count: null, id: "c0", metadata: {}, outputs: [], source: cell }], metadata: notebook.metadata, nbformat: 4, nbformat_minor: 5 }));
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1100 } });
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    const t0 = Date.now();
    await page.goto(lab!.url(`/lab/tree/${name}`));
    // This notebook's tab is the current one (Lab may restore the quickstart's beside it) and its kernel idle.
    await page.waitForFunction((tab) => {
      const current = [...document.querySelectorAll(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")].map((e: any) => e.textContent);
      return current.includes(tab) && Boolean(document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status="idle"]'));
    }, name, { timeout: 90_000, polling: 200 });
    await page.getByRole("menuitem", { name: "Run", exact: true }).click();
    await page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click();
    await waitForRunAll(page, 120_000);
    const words = JSON.parse((await page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) [data-mime-type="application/vnd.jupyter.stdout"]').first().textContent()) ?? "[]") as string[][];
    assert.equal(words.length, 4);
    // Rendered by JupyterLab's Vega-Lite 5 renderer; read back through the chart's "Save as SVG".
    const chart = page.locator('.jp-RenderedVegaLite:has(.chart-wrapper[aria-label^="vislens concept grid"])');
    await chart.locator("canvas, svg.marks").first().waitFor({ timeout: 30_000 });
    const svg = await exportSVG(chart);
    assert.equal((svg.match(/<image\b/g) ?? []).length, 4 * 5, "the grid draws 5 images per concept");
    const texts = svgTexts(svg);
    for (const [k, list] of words.entries()) {
      assert.ok(texts.includes(`concept ${k}`));
      for (const w of list) assert.ok(texts.includes(w), `concept ${k}'s word "${w}" is not drawn`);
    }
    await chart.screenshot({ path: path.join(ARTIFACTS, "lab-concept-grid.png") });
    console.log(`# concept grid rendered in Lab: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await page.close();
  });
});
