import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import sharp from "sharp";
import { buildBank } from "../../src/bank/build";
import { openBank } from "../../src/bank/open";
import { layerAlignmentFromRecords } from "../../src/lenses/alignment";
import { createLenses } from "../../src/lenses/create";
import { interpretImage, type PatchInterpretation } from "../../src/lenses/interpret";
import { openBundle } from "../../src/model/bundle";
import { imageHiddenStates, type ImageHiddenStates } from "../../src/model/hidden";
import { layerAlignmentHeatmap, patchExplorer, patchLayerHeatmap } from "../../widgets/index";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { ARTIFACTS, assertWidget, svgTexts } from "./check";
import { decodeNeighbours } from "./decode";

/**
 * The widgets on the shipped model: a bank built here, one eval image interpreted by all three
 * lenses at every layer, and the patch explorer's spec checked to hold the neighbours of a chosen
 * patch (as JSON, and as drawn in the SVG).
 */
const IMAGE = path.join(FIXTURE_BUNDLE, "eval", "0003.png");
const PATCH = 27; // row 3, col 3 of the 8x8 grid
const LAYER = 4;
let states: ImageHiddenStates;
let records: PatchInterpretation[];

describe("widgets on the shipped model (shapes-llava)", () => {
  before(async () => {
    const t0 = performance.now();
    const bundle = await openBundle(FIXTURE_BUNDLE);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vislens-widgets-bank-"));
    await buildBank(bundle, path.join(FIXTURE_BUNDLE, "corpus.txt"), dir);
    const bank = openBank(dir, { fingerprint: bundle.fingerprint });
    const t1 = performance.now();
    states = await imageHiddenStates(bundle, IMAGE);
    records = await interpretImage(states, createLenses(bundle, ["latent", "embedding", "logit"], bank), { k: 5 });
    console.log(`fixture: bank ${(t1 - t0).toFixed(0)} ms, interpretation ${(performance.now() - t1).toFixed(0)} ms, ${records.length} records`);
  });

  it("the patch explorer's spec holds the chosen patch's neighbours at every layer, for every lens", async () => {
    const w = patchExplorer(states, records, { image: IMAGE, patch: PATCH, layer: LAYER });
    const spec = w.spec as unknown as { datasets: Record<string, string>; usermeta: { vislens: { packed: Record<string, string[]>; layers: number[] } } };
    assert.deepEqual(spec.usermeta.vislens.layers, [0, 1, 2, 3, 4, 5, 6]);
    for (const r of records.filter((x) => x.patch.index === PATCH)) {
      const got = decodeNeighbours(spec.datasets, r.lens, r.layer, PATCH, spec.usermeta.vislens.packed[r.lens]);
      assert.deepEqual(
        got.map((n) => n.word),
        r.neighbours.map((n) => n.word),
        `${r.lens} layer ${r.layer}`,
      );
      r.neighbours.forEach((n, i) => {
        if (n.similarity !== undefined) assert.ok(Math.abs(got[i].similarity! - n.similarity) <= 0.0005 + 1e-9);
        if (n.sentence) {
          assert.equal(got[i].layer, n.layer);
          assert.equal(got[i].token, n.sentence.slice(n.span![0], n.span![1]));
        }
      });
    }
    // The image is the eval PNG itself, embedded.
    const png = fs.readFileSync(IMAGE).toString("base64");
    assert.ok(JSON.stringify(spec).includes(`data:image/png;base64,${png}`));
  });

  it("draws that patch's neighbour lists (the initial state) in the SVG", async () => {
    const w = patchExplorer(states, records, { image: IMAGE, patch: PATCH, layer: LAYER });
    const svg = await assertWidget(w);
    const texts = svgTexts(svg);
    const { row, col } = states.patches[PATCH];
    assert.ok(texts.includes(`patch ${PATCH} (row ${row}, col ${col}) at layer ${LAYER}`));
    for (const lens of ["latent", "embedding", "logit"] as const) {
      const r = records.find((x) => x.lens === lens && x.layer === LAYER && x.patch.index === PATCH)!;
      for (const n of r.neighbours) assert.ok(texts.includes(n.word), `${lens}: "${n.word}" not drawn`);
    }
    const latent = records.find((x) => x.lens === "latent" && x.layer === LAYER && x.patch.index === PATCH)!.neighbours;
    for (const n of latent) assert.ok(texts.includes(`L${n.layer}`) && texts.includes(n.similarity!.toFixed(3)));
    assert.match(w.summary, new RegExp(`Patch ${PATCH} \\(row ${row}, col ${col}\\) at layer ${LAYER}:`));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await w.save(path.join(ARTIFACTS, "widgets-fixture-explorer.svg"));
    await w.save(path.join(ARTIFACTS, "widgets-fixture-explorer.png"));
    const meta = await sharp(path.join(ARTIFACTS, "widgets-fixture-explorer.png")).metadata();
    const [, sw, sh] = svg.match(/width="(\d+)" height="(\d+)"/)!.map(Number);
    assert.equal(meta.width, 2 * sw);
    assert.equal(meta.height, 2 * sh);
  });

  it("without an image, shows the model's preprocessed input", async () => {
    const w = patchExplorer(states, records);
    await assertWidget(w);
    assert.match(JSON.stringify(w.spec), /"url":\{"value":"data:image\/png;base64,/);
  });

  it("heatmap and layer alignment of the same records render cleanly", async () => {
    await assertWidget(patchLayerHeatmap(records));
    await assertWidget(patchLayerHeatmap(records, { layout: "grid" }));
    const alignment = layerAlignmentFromRecords(records, 5);
    const w = layerAlignmentHeatmap(alignment);
    await assertWidget(w);
    await w.save(path.join(ARTIFACTS, "widgets-fixture-alignment.png"));
  });
});
