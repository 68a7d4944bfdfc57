import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { buildBank } from "../../src/bank/build";
import { hnswFileName } from "../../src/bank/hnsw";
import { openBank, type Bank } from "../../src/bank/open";
import { readNpy } from "../../src/io/npy";
import { latentLens } from "../../src/lenses/latent";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { FIXTURE_BUNDLE, FIXTURE_REFERENCE } from "../helpers/fixture";
import { tempDir } from "../helpers/python";

let bundle: Bundle;
let bank: Bank;
before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
  const dir = path.join(tempDir(), "bank");
  await buildBank(bundle, path.join(FIXTURE_BUNDLE, "corpus.txt"), dir, { layers: [2, 5], hnsw: true });
  bank = openBank(dir, { fingerprint: bundle.fingerprint });
});
after(async () => bundle?.close());

test("a bank built with hnsw records each layer's index file and its measured recall@5", () => {
  for (const layer of [2, 5]) {
    const rec = bank.manifest.hnsw![layer];
    assert.equal(rec.file, hnswFileName(layer));
    assert.ok(fs.existsSync(path.join(bank.dir, rec.file)));
    assert.ok(bank.manifest.files[rec.file].bytes > 0, "the index is covered by the bank's checksums");
    assert.equal(rec.k, 5);
    assert.equal(rec.queries, 200);
    assert.ok(rec.recall >= 0.95 && rec.recall <= 1, `recall ${rec.recall}`);
  }
});

test("approximate LatentLens finds neighbours as similar as exact search's on real visual tokens", async () => {
  const h = readNpy(path.join(FIXTURE_REFERENCE, "hidden_states.npy"));
  const [, S, D] = h.shape;
  const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE_REFERENCE, "meta.json"), "utf8"));
  const positions = (meta.image_token_positions as number[]).slice(0, 32);
  const queries = new Float32Array(positions.length * D);
  positions.forEach((p, i) => queries.set((h.data as Float32Array).subarray((2 * S + p) * D, (2 * S + p + 1) * D), i * D));
  const exact = await latentLens(bank).interpret(queries, 5);
  const approx = await latentLens(bank, { approximate: true }).interpret(queries, 5);
  let good = 0;
  exact.forEach((list, q) => {
    const kth = list[4].similarity! - 1e-6;
    good += approx[q].filter((n) => n.similarity! >= kth).length;
    assert.ok(approx[q][0].similarity! <= list[0].similarity! + 1e-6, "approximate never beats exact");
  });
  assert.ok(good / (positions.length * 5) >= 0.95, `approximate recall ${good / (positions.length * 5)}`);
});
