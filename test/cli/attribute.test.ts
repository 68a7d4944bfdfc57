import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { REPO } from "../helpers/python";

const CLI = path.join(REPO, "bin", "vislens.js");
const IMAGE = path.join(FIXTURE_BUNDLE, "eval", "0000.png");
const PREFIX = "a big yellow triangle left of a small blue";

function vislens(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
}

test("attribute --ablate --json: head scores, the position grid over the patches and the Spearman check", () => {
  const r = vislens("attribute", FIXTURE_BUNDLE, "--image", IMAGE, "--prompt", PREFIX, "--ablate", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.target.token, "circle");
  assert.equal(j.headScores.length, 6);
  assert.ok(j.headScores.every((row: number[]) => row.length === 4));
  assert.deepEqual(j.grid, [8, 8]);
  assert.equal(j.positionMap.length, 8);
  assert.ok(j.positionMap.every((row: number[]) => row.length === 8));
  assert.equal(j.headPositions.length, 10);
  assert.ok(j.topHeads[0].score >= j.topHeads[1].score);
  assert.equal(typeof j.ablation.spearman.positions, "number");
  assert.equal(typeof j.ablation.spearman.attention, "number");
  // The small blue circle covers patch (2, 5): it tops the position map and the ablation drops.
  const argmax = (grid: number[][]) => grid.flat().reduce((best, v, i, all) => (v > all[best] ? i : best), 0);
  assert.equal(argmax(j.positionMap), 2 * 8 + 5);
  assert.equal(argmax(j.ablation.patchDrops), 2 * 8 + 5);
  assert.ok(j.ablation.patchDrops[2][5] > 1, "ablating the circle's patch costs the answer more than one nat");
});

test("attribute without --json prints the answer, top heads, decoded positions and the check", () => {
  const r = vislens("attribute", FIXTURE_BUNDLE, "--image", IMAGE, "--prompt", PREFIX, "--heads", "2.3,1.0", "--ablate", "--baseline", "zero");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /answer "circle"/);
  assert.match(r.stdout, /top heads \(block\.head: log-prob increase\): 2\.3 /);
  assert.match(r.stdout, /patch \(2, 5\)/);
  assert.match(r.stdout, /ablation \(zero visual token\): Spearman/);
});

test("attribute: usage mistakes exit 2; bad input exits 1 with the value named", () => {
  const noImage = vislens("attribute", FIXTURE_BUNDLE, "--prompt", PREFIX);
  assert.equal(noImage.status, 2);
  assert.match(noImage.stderr, /--image is required/);
  const badHeads = vislens("attribute", FIXTURE_BUNDLE, "--image", IMAGE, "--heads", "top10");
  assert.equal(badHeads.status, 2);
  assert.match(badHeads.stderr, /"top10" is not top:N/);
  const outOfRange = vislens("attribute", FIXTURE_BUNDLE, "--image", IMAGE, "--heads", "9.0");
  assert.equal(outOfRange.status, 1);
  assert.match(outOfRange.stderr, /layer 9 is out of range 0\.\.5/);
  const twoTokens = vislens("attribute", FIXTURE_BUNDLE, "--image", IMAGE, "--prompt", PREFIX, "--target", "blue square");
  assert.equal(twoTokens.status, 1);
  assert.match(twoTokens.stderr, /target "blue square" is not one token/);
  const old = vislens("attribute", path.join(REPO, "models", "shapes-lm8-patchcls"), "--image", IMAGE);
  assert.equal(old.status, 1);
  assert.match(old.stderr, /no attribution graph/);
});
