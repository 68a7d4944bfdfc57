import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import sharp from "sharp";
import type { LensName, PatchInterpretation } from "vislens";
import { patchExplorer } from "../../widgets/patch-explorer";
import { topScore } from "../../widgets/score";
import { VEGALITE_MIME } from "../../widgets/spec";
import { assertWidget, countMarks, notebookOutputBytes, svgTexts } from "./check";
import { decodeNeighbours, table } from "./decode";
import { lcg, synthetic } from "./synthetic";

type Meta = { vislens: { packed: Record<LensName, string[]>; layers: number[]; k: number } };
const datasets = (spec: object) => (spec as { datasets: Record<string, string> }).datasets;
const meta = (spec: object) => (spec as { usermeta: Meta }).usermeta.vislens;

function recordOf(records: PatchInterpretation[], lens: LensName, layer: number, patch: number): PatchInterpretation {
  const r = records.find((x) => x.lens === lens && x.layer === layer && x.patch.index === patch);
  assert.ok(r, `no record ${lens}/${layer}/${patch}`);
  return r;
}

describe("patchExplorer (synthetic records)", () => {
  const { states, records } = synthetic({ rows: 6, cols: 5, layers: [0, 2, 4, 6], k: 4, words: 60, sentences: 40, entries: 90 });

  it("is a valid vega-lite 5.6 spec that compiles and renders without warnings", async () => {
    const w = patchExplorer(states, records, { layer: 4, patch: 7 });
    const svg = await assertWidget(w);
    // The image, one rect per patch, the selected patch's outline, and k rows per lens panel.
    assert.equal((svg.match(/<image /g) ?? []).length, 1);
    assert.match(svg, /xlink:href="data:image\/png;base64,/);
    assert.equal(countMarks(svg, "concat_0_layer_1_layer_0_marks"), 30);
    assert.equal(countMarks(svg, "concat_0_layer_1_layer_1_marks"), 1);
    const texts = svgTexts(svg);
    assert.ok(texts.includes("patch 7 (row 1, col 2) at layer 4"), texts.slice(0, 5).join(" | "));
    for (const title of ["LatentLens", "EmbeddingLens", "LogitLens"]) assert.ok(texts.includes(title), title);
  });

  it("shows the initial patch's neighbours, in rank order, in every lens panel", async () => {
    const w = patchExplorer(states, records, { layer: 2, patch: 11 });
    const texts = svgTexts(await w.toSVG());
    for (const lens of ["latent", "embedding", "logit"] as const) {
      const words = recordOf(records, lens, 2, 11).neighbours.map((n) => n.word);
      const at = words.map((word) => texts.indexOf(word));
      assert.ok(at.every((i) => i >= 0), `${lens}: ${words} not all in the SVG`);
    }
    const latent = recordOf(records, "latent", 2, 11).neighbours;
    for (const n of latent) {
      assert.ok(texts.includes(n.similarity!.toFixed(3)), `similarity ${n.similarity!.toFixed(3)}`);
      assert.ok(texts.includes(`L${n.layer}`), `badge L${n.layer}`);
      // The highlighted token and the words around it.
      const [s, e] = n.span!;
      assert.ok(texts.includes(n.sentence!.slice(s, e)), `token ${n.sentence!.slice(s, e)}`);
    }
    const logit = recordOf(records, "logit", 2, 11).neighbours;
    assert.ok(texts.includes(logit[0].logit!.toFixed(2)));
    assert.ok(texts.includes(`${(logit[0].probability! * 100).toFixed(1)}%`));
  });

  it("stores every (lens, layer, patch) neighbour list in its datasets, readable without the widget code", () => {
    const w = patchExplorer(states, records, { contextChars: 10 });
    const ds = datasets(w.spec);
    const { packed } = meta(w.spec);
    assert.deepEqual(packed, { latent: ["e", "s"], embedding: ["w", "s"], logit: ["w", "g", "p"] });
    for (const r of records) {
      const got = decodeNeighbours(ds, r.lens, r.layer, r.patch.index, packed[r.lens]);
      assert.equal(got.length, r.neighbours.length);
      r.neighbours.forEach((n, i) => {
        assert.equal(got[i].rank, i + 1);
        assert.equal(got[i].word, n.word);
        if (n.similarity !== undefined) assert.ok(Math.abs(got[i].similarity! - n.similarity) <= 0.0005 + 1e-9);
        if (n.logit !== undefined) assert.ok(Math.abs(got[i].logit! - n.logit) <= 0.005 + 1e-9);
        if (n.probability !== undefined) assert.ok(Math.abs(got[i].probability! - n.probability) <= 0.0005 + 1e-9);
        if (n.sentence) {
          const [s, e] = n.span!;
          assert.equal(got[i].token, n.sentence.slice(s, e));
          assert.equal(got[i].layer, n.layer);
          // The stored sentence holds at least contextChars of context each side (or the sentence's end).
          const left = n.sentence.slice(Math.max(0, s - 10), s);
          const right = n.sentence.slice(e, e + 10);
          assert.ok(got[i].sentence!.includes(left + n.sentence.slice(s, e) + right), `${got[i].sentence} lacks ${left}|${right}`);
        }
      });
    }
    // Strings are stored once.
    const words = table(ds.words).map((r) => r.s);
    assert.equal(new Set(words).size, words.length);
    const sentences = table(ds.sentences).map((r) => r.s);
    assert.equal(new Set(sentences).size, sentences.length);
  });

  it("colours patches by the chosen score over one scale for all layers", () => {
    const w = patchExplorer(states, records, { score: topScore("logit", "logit") });
    const scores = table(datasets(w.spec).scores);
    assert.equal(scores.length, 4 * 30);
    for (const row of scores.slice(0, 10)) {
      const r = recordOf(records, "logit", Number(row.l), Number(row.patch));
      assert.ok(Math.abs(Number(row.v) - r.neighbours[0].logit!) < 0.001);
    }
    assert.match(w.summary, /LogitLens top-1 logit/);
    assert.match(JSON.stringify(w.spec), /"domain":\[[-0-9.e]+,[-0-9.e]+\]/);
  });

  it("defaults: the middle layer, the best patch, a slider over the layers", () => {
    const w = patchExplorer(states, records);
    const spec = w.spec as unknown as { params: { name: string; value: number; bind: Record<string, unknown> }[] };
    assert.deepEqual(spec.params[0], { name: "layer", value: 2, bind: { input: "range", min: 0, max: 6, step: 2, name: "layer " } });
    let best = -Infinity;
    let patch = -1;
    for (const r of records) if (r.lens === "latent" && r.layer === 2 && r.neighbours[0].similarity! > best) [best, patch] = [r.neighbours[0].similarity!, r.patch.index];
    assert.match(w.summary, new RegExp(`Patch ${patch} `));
  });

  it("uses a select box when the layers are unevenly spaced", () => {
    const uneven = records.filter((r) => r.layer !== 2);
    const spec = patchExplorer(states, uneven).spec as unknown as { params: { bind: Record<string, unknown> }[] };
    assert.deepEqual(spec.params[0].bind, { input: "select", options: [0, 4, 6], name: "layer " });
  });

  it("embeds a given image and checks its size against the states", async () => {
    const png = await sharp({ create: { width: 70, height: 84, channels: 3, background: "#3366aa" } }).png().toBuffer();
    const w = patchExplorer(states, records, { image: png });
    assert.ok(JSON.stringify(w.spec).includes(`data:image/png;base64,${png.toString("base64")}`));
    const wrong = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#000" } }).png().toBuffer();
    assert.throws(() => patchExplorer(states, records, { image: wrong }), /the image is 40x30, the states were computed from a 70x84 image/);
    assert.throws(() => patchExplorer(states, records, { image: Buffer.from("not an image") }), /not a PNG, JPEG, GIF or WebP/);
    const rgb = { width: 70, height: 84, data: new Uint8Array(70 * 84 * 3).fill(200) };
    const fromRgb = patchExplorer(states, records, { image: rgb });
    await assertWidget(fromRgb);
  });

  it("refuses bad input with messages that name the problem", () => {
    assert.throws(() => patchExplorer(states, []), /records is empty/);
    assert.throws(() => patchExplorer(states, records, { layer: 3 }), /layer 3 has no records \(layers: 0, 2, 4, 6\)/);
    assert.throws(() => patchExplorer(states, records, { patch: 99 }), /patch 99 has no records/);
    assert.throws(() => patchExplorer(states, records, { score: "bogus" as LensName }), /lens "bogus" has no records/);
    assert.throws(() => patchExplorer(states, [...records, records[0]]), /repeats lens latent, layer 0, patch 0/);
    const far = { ...records[0], patch: { index: 500, row: 50, col: 0 } };
    assert.throws(() => patchExplorer(states, [far]), /records name patch 500, the states have 30 patches/);
  });

  it("works with a single lens and no contexts", async () => {
    const only = records.filter((r) => r.lens === "logit");
    const w = patchExplorer(states, only);
    await assertWidget(w);
    assert.deepEqual(meta(w.spec).packed, { logit: ["w", "g", "p"] });
    assert.match(w.summary, /colour = LogitLens top-1 probability/);
  });
});

describe("patchExplorer output budget", () => {
  it("24x24 grid x 9 layers x 3 lenses x top-5 stays under 2 MB of notebook JSON", async () => {
    const t0 = performance.now();
    const { states, records } = synthetic({ rows: 24, cols: 24, layers: [0, 4, 8, 12, 16, 20, 24, 28, 32], k: 5, width: 336, height: 336 });
    assert.equal(records.length, 24 * 24 * 9 * 3);
    // A photo-like 336x336 picture (smooth shapes, a disc, sensor noise), as a JPEG the way
    // images usually come (~40 KB, like a q85 photo of that size).
    const rand = lcg(11);
    const W = 336;
    const pixels = Buffer.alloc(W * W * 3);
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < W; x++) {
        const disc = (x - 170) ** 2 + (y - 150) ** 2 < 4000 ? 70 : 0;
        for (let c = 0; c < 3; c++) pixels[(y * W + x) * 3 + c] = Math.max(0, Math.min(255, 120 + 80 * Math.sin(x / (17 + 9 * c)) * Math.cos(y / 23) + disc * (c - 1) + (rand() - 0.5) * 40));
      }
    }
    const jpeg = await sharp(pixels, { raw: { width: W, height: W, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const t1 = performance.now();
    const w = patchExplorer(states, records, { image: jpeg });
    const t2 = performance.now();
    const bundle = await w.toMimeBundle();
    const t3 = performance.now();
    const bytes = notebookOutputBytes({ ...bundle });
    // JupyterLab's Vega renderer adds an image/png of the chart to the output when the bundle has
    // none (jlab_core: `if (e.data["image/png"]) return; ... e.setData(...)`), saved with the notebook.
    const png = Buffer.from(await w.toPNG({ scale: 1 })).toString("base64");
    const withLabPng = notebookOutputBytes({ ...bundle, "image/png": png });
    const specBytes = Buffer.byteLength(JSON.stringify(bundle[VEGALITE_MIME]));
    console.log(
      `budget: spec ${(specBytes / 1e6).toFixed(2)} MB, svg ${(bundle["image/svg+xml"].length / 1e6).toFixed(2)} MB, ` +
        `notebook output ${(bytes / 1e6).toFixed(2)} MB (${(withLabPng / 1e6).toFixed(2)} MB with JupyterLab's PNG); ` +
        `image ${jpeg.length} bytes; build ${(t2 - t1).toFixed(0)} ms, render ${(t3 - t2).toFixed(0)} ms`,
    );
    assert.ok(bytes < 2_000_000, `notebook output is ${bytes} bytes`);
    assert.ok(withLabPng < 2_000_000, `notebook output with JupyterLab's PNG is ${withLabPng} bytes`);
    // Nothing was dropped to get there: every list is in the data.
    const ds = datasets(w.spec);
    const { packed } = meta(w.spec);
    const r = records[records.length - 1];
    assert.deepEqual(
      decodeNeighbours(ds, r.lens, r.layer, r.patch.index, packed[r.lens]).map((n) => n.word),
      r.neighbours.map((n) => n.word),
    );
    assert.equal(table(ds.lens_latent).length, 24 * 24 * 9);
    assert.ok(t2 - t1 < 5000 && t3 - t2 < 10000, `too slow: build ${t2 - t1} ms, render ${t3 - t2} ms (synthetic data took ${t1 - t0} ms)`);
  });
});
