import type { LensName, Neighbour } from "vislens";

/**
 * An independent reader of the patch explorer's datasets (written from docs/widgets.md, not from
 * the widget code): tests use it to check that the spec's JSON holds the right neighbours.
 */

/** RFC 4180 CSV -> rows of strings (header included). */
export function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else {
      field += c;
    }
  }
  row.push(field);
  rows.push(row);
  return rows;
}

export function table(csv: string): Record<string, string>[] {
  const [header, ...rows] = parseCSV(csv);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

/** A neighbour as the spec stores it: the engine's fields, with the sentence cut for display. */
export type DecodedNeighbour = Pick<Neighbour, "rank" | "word" | "similarity" | "logit" | "probability" | "layer"> & {
  /** The stored sentence (cut) and the token's span in it. */
  sentence?: string;
  token?: string;
};

/** Field order per lens, as the docs define it: (w | e) then s, g, p when the lens has them. */
export function decodeNeighbours(datasets: Record<string, string>, lens: LensName, layer: number, patch: number, fields: string[]): DecodedNeighbour[] {
  const words = new Map(table(datasets.words).map((r) => [r.i, r.s]));
  const sentences = new Map(table(datasets.sentences ?? "i,s").map((r) => [r.i, r.s]));
  const entries = new Map(table(datasets.entries ?? "i,w,x,a,b,c").map((r) => [r.i, r]));
  const row = table(datasets[`lens_${lens}`]).find((r) => Number(r.l) === layer && Number(r.patch) === patch);
  if (!row) return [];
  const out: DecodedNeighbour[] = [];
  for (let rank = 1; `n${rank}` in row; rank++) {
    const packed = row[`n${rank}`];
    if (!packed) continue;
    const f = packed.split(":");
    const get = (k: string) => f[fields.indexOf(k)];
    const n: DecodedNeighbour = { rank, word: "" };
    if (fields.includes("e")) {
      const e = entries.get(get("e"))!;
      n.word = words.get(e.w)!;
      n.sentence = sentences.get(e.x);
      const a = parseInt(e.a, 36);
      n.token = n.sentence?.slice(a, a + parseInt(e.b, 36));
      n.layer = parseInt(e.c, 36);
    } else {
      n.word = words.get(get("w"))!;
    }
    if (fields.includes("s")) n.similarity = parseInt(get("s"), 36) / 1000;
    if (fields.includes("g")) n.logit = parseInt(get("g"), 36) / 100;
    if (fields.includes("p")) n.probability = parseInt(get("p"), 36) / 1000;
    out.push(n);
  }
  return out;
}
