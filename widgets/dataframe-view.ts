import { printable } from "./data/strings";
import { baseConfig, MONO_ADVANCE, MONO_FONT, VEGALITE_SCHEMA, type VegaLiteSpec } from "./spec";
import { createWidget, type Widget } from "./widget";

/**
 * A danfojs DataFrame (or anything with `columns` and row-major `values`, or an array of plain
 * records) as a table: a Vega-Lite text-mark table (so it renders and saves like every other
 * widget), plus text/html (an HTML table, which JupyterLab prefers when both are present) and a
 * fixed-width text/plain table. danfojs itself is not imported: any object of that shape works.
 */
export interface DataFrameLike {
  columns: readonly string[];
  /**
   * Row-major cells. Typed loosely because danfojs declares `values` as 1-D or 2-D; each row is
   * checked to be an array of `columns.length` cells at run time.
   */
  values: readonly unknown[];
  index?: readonly (string | number)[];
}

/** A frame whose rows have been checked. */
interface CheckedFrame {
  columns: string[];
  values: (readonly unknown[])[];
  index: readonly (string | number)[];
}

export interface DataFrameViewOptions {
  /** Rows shown (default 50; the rest are counted in the caption). */
  maxRows?: number;
  /** Columns shown (default 20). */
  maxColumns?: number;
  /** Significant digits of non-integer numbers (default 4). */
  digits?: number;
  /** Show the index column (default true). */
  showIndex?: boolean;
  title?: string;
}

const ROW = 18;
const FONT_SIZE = 11;
const CHAR = FONT_SIZE * MONO_ADVANCE;
const MAX_CELL_CHARS = 40;

function isFrame(x: unknown): x is DataFrameLike {
  const f = x as DataFrameLike;
  return typeof f === "object" && f !== null && Array.isArray(f.columns) && Array.isArray(f.values);
}

/** Normalises a DataFrame or an array of records to {columns, values, index}. */
export function toFrame(data: DataFrameLike | readonly Record<string, unknown>[]): CheckedFrame {
  if (Array.isArray(data)) {
    const columns: string[] = [];
    for (const row of data) {
      if (typeof row !== "object" || row === null) throw new TypeError("dataFrameView: an array input must hold plain record objects");
      for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
    }
    return { columns, values: data.map((row) => columns.map((c) => (row as Record<string, unknown>)[c])), index: data.map((_, i) => i) };
  }
  if (!isFrame(data)) throw new TypeError("dataFrameView: expected a danfojs DataFrame (columns + values) or an array of records");
  const { columns, values } = data;
  const rows = values.map((row, i) => {
    if (!Array.isArray(row) || row.length !== columns.length) throw new RangeError(`dataFrameView: row ${i} has ${Array.isArray(row) ? row.length : "no"} cells, the frame has ${columns.length} columns`);
    return row as readonly unknown[];
  });
  const index = Array.isArray(data.index) && data.index.length === values.length ? data.index : values.map((_, i) => i);
  return { columns: columns.map(String), values: rows, index };
}

export function formatCell(value: unknown, digits: number): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
    return String(Number(value.toPrecision(digits)));
  }
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return value.toISOString();
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return printable(text.replace(/\s+/g, " "));
}

function clip(text: string): string {
  return text.length > MAX_CELL_CHARS ? `${text.slice(0, MAX_CELL_CHARS - 1)}…` : text;
}

function escapeHTML(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function dataFrameView(data: DataFrameLike | readonly Record<string, unknown>[], options: DataFrameViewOptions = {}): Widget {
  const where = "dataFrameView";
  const maxRows = options.maxRows ?? 50;
  const maxColumns = options.maxColumns ?? 20;
  const digits = options.digits ?? 4;
  if (!(Number.isInteger(maxRows) && maxRows >= 1)) throw new RangeError(`${where}: maxRows must be a positive integer, got ${maxRows}`);
  if (!(Number.isInteger(maxColumns) && maxColumns >= 1)) throw new RangeError(`${where}: maxColumns must be a positive integer, got ${maxColumns}`);
  if (!(Number.isInteger(digits) && digits >= 1 && digits <= 17)) throw new RangeError(`${where}: digits must be an integer 1..17, got ${digits}`);
  const frame = toFrame(data);
  const nRows = frame.values.length;
  const nCols = frame.columns.length;
  const shownRows = Math.min(nRows, maxRows);
  const shownCols = Math.min(nCols, maxColumns);
  const showIndex = options.showIndex ?? true;

  // Cells as display strings, the same in every output (Vega, HTML, text).
  const header = [...(showIndex ? [""] : []), ...frame.columns.slice(0, shownCols)];
  const numeric = header.map((_, j) => {
    if (showIndex && j === 0) return frame.index.every((v) => typeof v === "number");
    const c = j - (showIndex ? 1 : 0);
    return frame.values.slice(0, shownRows).every((row) => typeof row[c] === "number" || row[c] === null || row[c] === undefined);
  });
  const body = frame.values.slice(0, shownRows).map((row, i) => [...(showIndex ? [String(frame.index[i])] : []), ...row.slice(0, shownCols).map((v) => formatCell(v, digits))]);
  const widths = header.map((h, j) => Math.min(MAX_CELL_CHARS, Math.max(h.length, ...body.map((r) => r[j].length), 1)));

  // Vega-Lite: one text layer per column at fixed pixel positions (monospace widths).
  const xs: number[] = [];
  let x = 8;
  for (const w of widths) {
    xs.push(x);
    x += w * CHAR + 16;
  }
  const width = Math.round(x);
  const height = ROW * (shownRows + 1) + (shownRows < nRows || shownCols < nCols ? ROW : 0);
  const values = body.map((r, i) => Object.fromEntries([["r", i], ...r.map((v, j) => [`c${j}`, clip(v)])]));
  const layers: Record<string, unknown>[] = [
    {
      transform: [{ filter: "datum.r % 2 == 1" }, { calculate: `${ROW} * (datum.r + 1)`, as: "y0" }, { calculate: `${ROW} * (datum.r + 2)`, as: "y1" }],
      mark: { type: "rect", x: 0, x2: width, fill: "#f4f4f4" },
      encoding: { y: { field: "y0", type: "quantitative", scale: null }, y2: { field: "y1" } },
    },
    {
      data: { values: [{}] },
      mark: { type: "rule", x: 0, x2: width, y: ROW, stroke: "#999" },
      encoding: {},
    },
  ];
  header.forEach((h, j) => {
    const right = numeric[j];
    const cx = right ? xs[j] + widths[j] * CHAR : xs[j];
    layers.push(
      {
        transform: [{ calculate: `${ROW} * (datum.r + 1.5)`, as: "y" }],
        mark: { type: "text", align: right ? "right" : "left", baseline: "middle", font: MONO_FONT, fontSize: FONT_SIZE, x: cx, fill: showIndex && j === 0 ? "#888" : "black" },
        encoding: { y: { field: "y", type: "quantitative", scale: null }, text: { field: `c${j}`, type: "nominal" } },
      },
      {
        data: { values: [{ h: clip(h) }] },
        mark: { type: "text", align: right ? "right" : "left", baseline: "middle", font: MONO_FONT, fontSize: FONT_SIZE, fontWeight: "bold", x: cx, y: ROW / 2 },
        encoding: { text: { field: "h", type: "nominal" } },
      },
    );
  });
  const caption = `${nRows} rows x ${nCols} columns${shownRows < nRows || shownCols < nCols ? ` (showing ${shownRows} x ${shownCols})` : ""}`;
  if (shownRows < nRows || shownCols < nCols) {
    layers.push({
      data: { values: [{ t: caption }] },
      mark: { type: "text", align: "left", baseline: "middle", fontSize: 10, fill: "#666", x: 8, y: ROW * (shownRows + 1.5) },
      encoding: { text: { field: "t", type: "nominal" } },
    });
  }
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens DataFrame view: ${caption}`,
    ...(options.title ? { title: options.title } : {}),
    config: baseConfig(),
    width,
    height,
    data: { values },
    layer: layers,
  };

  // text/html: what JupyterLab shows (its HTML renderer outranks Vega); text/plain: fixed width.
  const th = header.map((h, j) => `<th style="text-align:${numeric[j] ? "right" : "left"}">${escapeHTML(h)}</th>`).join("");
  const trs = body.map((r) => `<tr>${r.map((v, j) => `<td style="text-align:${numeric[j] ? "right" : "left"}">${escapeHTML(v)}</td>`).join("")}</tr>`).join("\n");
  const html = `<div class="vislens-dataframe">\n<table border="1" class="dataframe">\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table>\n<p>${escapeHTML(caption)}</p>\n</div>`;
  const pad = (v: string, j: number) => (numeric[j] ? clip(v).padStart(widths[j]) : clip(v).padEnd(widths[j]));
  const text = [header.map(pad).join("  "), ...body.map((r) => r.map(pad).join("  ")), caption].map((l) => l.trimEnd()).join("\n");
  return createWidget({ spec, summary: `DataFrame ${caption}\n${text}`, html });
}
