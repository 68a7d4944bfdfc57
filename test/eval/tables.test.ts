import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import type { InterpretabilityRow } from "../../src/eval/evaluate";
import { interpretabilitySummary, interpretabilityTable, layerTable, summariseInterpretability, tableToCSV, writeCSV } from "../../src/eval/tables";
import { tempDir } from "../helpers/python";

function row(model: string, lens: InterpretabilityRow["lens"], layer: number, interpretable: number, concrete: number, total = 10, abstract = 0): InterpretabilityRow {
  return { model, judge: "shapes-ground-truth", lens, layer, interpretable, concrete, abstract, global: interpretable - concrete - abstract, total, percent: (100 * interpretable) / total };
}

// Two models with different depths (the grid has 6- and 8-layer LMs).
const rows: InterpretabilityRow[] = [
  row("small", "latent", 0, 7, 3), row("small", "latent", 1, 8, 4), row("small", "logit", 0, 1, 0), row("small", "logit", 1, 9, 2, 10, 3),
  row("deep, model", "latent", 0, 5, 5), row("deep, model", "latent", 1, 6, 1), row("deep, model", "latent", 2, 2, 0),
];

test("interpretabilityTable is a danfojs DataFrame with one row per (model, lens, layer)", () => {
  const df = interpretabilityTable(rows);
  assert.deepEqual(df.shape, [7, 10]);
  assert.deepEqual(df.columns, ["model", "judge", "lens", "layer", "interpretable", "concrete", "abstract", "global", "total", "percent"]);
  assert.deepEqual(df.column("percent").values, [70, 80, 10, 90, 50, 60, 20]);
});

test("summaries average over each model's own layers, with counts summed", () => {
  const s = summariseInterpretability(rows);
  assert.deepEqual(s.map((r) => [r.model, r.lens, r.layers, r.percent, r.concrete_percent, r.abstract_percent, r.global_percent, r.interpretable, r.total]), [
    ["small", "latent", 2, 75, 35, 0, 40, 15, 20],
    ["small", "logit", 2, 50, 10, 15, 25, 10, 20],
    ["deep, model", "latent", 3, 43.3, 20, 0, 23.3, 13, 30],
  ]);
  assert.deepEqual(interpretabilitySummary(rows).column("percent").values, [75, 50, 43.3]);
  assert.throws(() => summariseInterpretability([]), /no evaluation rows/);
});

test("layerTable pivots layers into columns; layers a model lacks are empty", () => {
  const df = layerTable(rows);
  assert.deepEqual(df.columns, ["model", "lens", "L0", "L1", "L2", "mean"]);
  assert.deepEqual(df.values, [
    ["small", "latent", 70, 80, null, 75],
    ["small", "logit", 10, 90, null, 50],
    ["deep, model", "latent", 50, 60, 20, 43.3],
  ]);
  assert.deepEqual(layerTable(rows, "concrete").values[2], ["deep, model", "latent", 50, 10, 0, 20]);
  const control = rows.map((r) => ({ ...r, judge: "shapes-ground-truth/control" }));
  assert.throws(() => layerTable([...rows, ...control]), /the rows come from 2 judges \(shapes-ground-truth, shapes-ground-truth\/control\); make one table per judge/);
});

test("CSV quotes fields with commas and quotes, leaves missing cells empty, and is written atomically", () => {
  const csv = tableToCSV(layerTable(rows));
  assert.equal(csv.split("\n")[3], '"deep, model",latent,50,60,20,43.3');
  assert.equal(csv.split("\n")[1], "small,latent,70,80,,75");
  assert.equal(tableToCSV([{ a: 'say "hi"', b: 1 }, { b: 2 }]), 'a,b\n"say ""hi""",1\n,2\n');
  const dir = tempDir("vislens-csv-");
  const file = path.join(dir, "fig3.csv");
  writeCSV(interpretabilityTable(rows), file);
  assert.equal(fs.readFileSync(file, "utf8").split("\n").length, 7 + 2);
  assert.deepEqual(fs.readdirSync(dir), ["fig3.csv"], "no temp file left behind");
});
