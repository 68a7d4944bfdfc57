/**
 * Inline tables as CSV text. A spec's inline `values` may be a string parsed by Vega with
 * `format: {type: "csv"}` (d3-dsv). Notebooks store JSON pretty-printed one array element per line
 * (nbformat writes with indent=1), so an array of numbers costs ~10 bytes of indentation per
 * number there; the same table as one CSV string costs only its characters. Big tables therefore
 * travel as CSV.
 */

export type Cell = string | number | null | undefined;

/** One field, quoted the RFC 4180 way when it holds a comma, a quote or a line break. */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "";
    return String(value);
  }
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A header line and one line per row (rows shorter than the header leave the rest empty). */
export function toCSV(header: readonly string[], rows: Iterable<readonly Cell[]>): string {
  for (const name of header) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new RangeError(`toCSV: column name ${JSON.stringify(name)} must be a plain identifier`);
  }
  const lines = [header.join(",")];
  for (const row of rows) lines.push(row.map(csvField).join(","));
  return lines.join("\n");
}

/** Rounds to `digits` decimals and drops the float noise (0.30000000000000004 -> 0.3). */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
