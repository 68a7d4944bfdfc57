import * as fs from "node:fs";
import * as path from "node:path";
import type { DataFrame } from "danfojs-node";
import { writeFileAtomic } from "../io/atomic";
import type { InterpretabilityRow } from "./evaluate";

/**
 * Evaluation results as danfojs DataFrames (what the notebooks show) and as CSV (what a paper's
 * supplement gets). danfojs is loaded on first use only: it brings TensorFlow.js with it, which the
 * CLI's other commands and a kernel that never builds a table should not pay for.
 */
function danfo(): typeof import("danfojs-node") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("danfojs-node") as typeof import("danfojs-node");
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One row per (model, lens, layer): counts and % interpretable, as evaluateInterpretability gave them. */
export function interpretabilityTable(rows: readonly InterpretabilityRow[]): DataFrame {
  requireRows(rows, "interpretabilityTable");
  return new (danfo().DataFrame)(rows.map((r) => ({ ...r })));
}

/** A summary row: one (model, lens), averaged over its layers as the paper's tables are. */
export interface InterpretabilitySummaryRow {
  model: string;
  judge: string;
  lens: string;
  layers: number;
  /** Mean over layers of % interpretable (the paper's headline number). */
  percent: number;
  /** Mean over layers of % of patches whose best match is concrete / abstract / global (they sum to `percent`). */
  concrete_percent: number;
  abstract_percent: number;
  global_percent: number;
  /** Counts summed over layers (patches × layers). */
  interpretable: number;
  total: number;
}

/** Model × lens averages over layers, rounded to 0.1 %; in the order the rows came. */
export function summariseInterpretability(rows: readonly InterpretabilityRow[]): InterpretabilitySummaryRow[] {
  requireRows(rows, "summariseInterpretability");
  return groupRows(rows, (r) => [r.model, r.judge, r.lens]).map((g) => ({
    model: g[0].model,
    judge: g[0].judge,
    lens: g[0].lens,
    layers: g.length,
    percent: round(mean(g.map((r) => r.percent))),
    concrete_percent: round(mean(g.map((r) => (100 * r.concrete) / r.total))),
    abstract_percent: round(mean(g.map((r) => (100 * r.abstract) / r.total))),
    global_percent: round(mean(g.map((r) => (100 * r.global) / r.total))),
    interpretable: g.reduce((s, r) => s + r.interpretable, 0),
    total: g.reduce((s, r) => s + r.total, 0),
  }));
}

/** summariseInterpretability as a DataFrame. */
export function interpretabilitySummary(rows: readonly InterpretabilityRow[]): DataFrame {
  return new (danfo().DataFrame)(summariseInterpretability(rows).map((r) => ({ ...r })));
}

/**
 * The paper's Fig. 3 as a table: one row per (model, lens), one column per layer (`L0`, `L1`, ...),
 * each cell the % interpretable (or, with `value: "concrete"`, the % of concrete matches), rounded
 * to 0.1 %, and the mean over layers. Layers a model does not have are left empty. The rows must
 * come from one judge (a control's rows make a table of their own).
 */
export function layerTable(rows: readonly InterpretabilityRow[], value: "percent" | "concrete" = "percent"): DataFrame {
  requireRows(rows, "layerTable");
  const layers = [...new Set(rows.map((r) => r.layer))].sort((a, b) => a - b);
  const of = (r: InterpretabilityRow) => (value === "percent" ? r.percent : (100 * r.concrete) / r.total);
  const judges = new Set(rows.map((r) => r.judge));
  if (judges.size > 1) throw new RangeError(`layerTable: the rows come from ${judges.size} judges (${[...judges].join(", ")}); make one table per judge`);
  const records = groupRows(rows, (r) => [r.model, r.lens]).map((g) => {
    const record: Record<string, string | number | null> = { model: g[0].model, lens: g[0].lens };
    for (const l of layers) {
      const r = g.find((x) => x.layer === l);
      record[`L${l}`] = r ? round(of(r)) : null;
    }
    record.mean = round(mean(g.map(of)));
    return record;
  });
  return new (danfo().DataFrame)(records);
}

type Table = DataFrame | readonly Record<string, unknown>[];

/**
 * A table as RFC 4180 CSV: header line, one line per row, fields holding a comma, quote or line
 * break quoted. (danfojs's own toCSV does not quote such fields.) Empty cells for null/undefined.
 */
export function tableToCSV(table: Table): string {
  const { columns, values } = Array.isArray(table) ? recordsToColumns(table as readonly Record<string, unknown>[]) : (table as DataFrame);
  const field = (v: unknown): string => {
    if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "";
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [columns.map(field).join(",")];
  for (const row of values as unknown[][]) lines.push(row.map(field).join(","));
  return lines.join("\n") + "\n";
}

/**
 * Writes tableToCSV atomically (a reader never sees half a file; a failed run leaves the old one),
 * creating the directory when needed.
 */
export function writeCSV(table: Table, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, tableToCSV(table));
}

function recordsToColumns(records: readonly Record<string, unknown>[]): { columns: string[]; values: unknown[][] } {
  const columns: string[] = [];
  for (const r of records) for (const key of Object.keys(r)) if (!columns.includes(key)) columns.push(key);
  return { columns, values: records.map((r) => columns.map((c) => r[c])) };
}

/** Rows grouped by a key, groups in the order their first row came. */
function groupRows(rows: readonly InterpretabilityRow[], key: (r: InterpretabilityRow) => unknown[]): InterpretabilityRow[][] {
  const groups = new Map<string, InterpretabilityRow[]>();
  for (const r of rows) {
    const k = JSON.stringify(key(r));
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  return [...groups.values()];
}

function requireRows(rows: readonly InterpretabilityRow[], where: string): void {
  if (!Array.isArray(rows) || rows.length === 0) throw new RangeError(`${where}: no evaluation rows (run evaluateInterpretability first)`);
}
