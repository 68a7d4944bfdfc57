import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { readEvalSet } from "../../src/eval/eval-set";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { tempDir } from "../helpers/python";

const WORLD = path.join(__dirname, "data", "world-annotations.json");

test("readEvalSet tells the two worlds apart by the annotations' world field", () => {
  const world = readEvalSet(WORLD);
  assert.equal(world.kind, "world");
  assert.equal(world.set.annotations.length, 12);
  const shapes = readEvalSet(path.join(FIXTURE_BUNDLE, "eval"));
  assert.equal(shapes.kind, "shapes");
  assert.equal(shapes.set.annotations.length, 250);
});

test("readEvalSet names the file of an annotations file that is not a JSON object, or that is missing", () => {
  const dir = tempDir();
  for (const [text, got] of [["null", "null"], ["[1, 2]", "[1,2]"], ["7", "7"]] as const) {
    fs.writeFileSync(path.join(dir, "annotations.json"), text);
    assert.throws(() => readEvalSet(dir), (e: Error) => e.message.includes(path.join(dir, "annotations.json")) && e.message.includes("expected a JSON object") && e.message.includes(got), text);
  }
  assert.throws(() => readEvalSet(path.join(dir, "nowhere")), /annotations file not found/);
});
