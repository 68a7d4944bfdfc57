import type { LensName, Neighbour, PatchInterpretation } from "vislens";

/**
 * interpretImage's records indexed by (lens, layer, patch), with the lenses, layers and patches
 * they cover. Every widget that reads records starts here, so they all validate the same way.
 */
export const LENS_ORDER: readonly LensName[] = ["latent", "embedding", "logit"];

export interface RecordIndex {
  /** Lenses present, in the order LatentLens, EmbeddingLens, LogitLens. */
  lenses: LensName[];
  /** Visual layers present, ascending. */
  layers: number[];
  /** Patch indices present, ascending. */
  patches: number[];
  /** Longest neighbour list. */
  k: number;
  /** Row and column of each patch present. */
  cell: Map<number, { row: number; col: number }>;
  get(lens: LensName, layer: number, patch: number): Neighbour[] | undefined;
  /** All lenses' lists for one layer and patch. */
  at(layer: number, patch: number): Partial<Record<LensName, Neighbour[]>>;
}

export function indexRecords(records: readonly PatchInterpretation[], where: string): RecordIndex {
  if (!Array.isArray(records)) throw new TypeError(`${where}: records must be an array of interpretImage records, got ${Object.prototype.toString.call(records)}`);
  if (records.length === 0) throw new RangeError(`${where}: records is empty (run interpretImage first)`);
  const byKey = new Map<string, Neighbour[]>();
  const lenses = new Set<LensName>();
  const layers = new Set<number>();
  const cell = new Map<number, { row: number; col: number }>();
  let k = 0;
  records.forEach((r, i) => {
    if (!r || !LENS_ORDER.includes(r.lens)) throw new RangeError(`${where}: records[${i}].lens is ${JSON.stringify(r?.lens)}, expected one of ${LENS_ORDER.join(", ")}`);
    if (!Number.isInteger(r.layer) || r.layer < 0) throw new RangeError(`${where}: records[${i}].layer is ${r.layer}, expected a layer index >= 0`);
    if (!r.patch || !Number.isInteger(r.patch.index) || r.patch.index < 0) throw new RangeError(`${where}: records[${i}].patch.index is ${r.patch?.index}, expected a patch index >= 0`);
    if (!Array.isArray(r.neighbours)) throw new TypeError(`${where}: records[${i}].neighbours must be an array`);
    const key = `${r.lens}|${r.layer}|${r.patch.index}`;
    if (byKey.has(key)) throw new RangeError(`${where}: records[${i}] repeats lens ${r.lens}, layer ${r.layer}, patch ${r.patch.index}`);
    byKey.set(key, r.neighbours);
    lenses.add(r.lens);
    layers.add(r.layer);
    cell.set(r.patch.index, { row: r.patch.row, col: r.patch.col });
    k = Math.max(k, r.neighbours.length);
  });
  const get = (lens: LensName, layer: number, patch: number) => byKey.get(`${lens}|${layer}|${patch}`);
  const lensList = LENS_ORDER.filter((l) => lenses.has(l));
  return {
    lenses: lensList,
    layers: [...layers].sort((a, b) => a - b),
    patches: [...cell.keys()].sort((a, b) => a - b),
    k,
    cell,
    get,
    at(layer, patch) {
      const out: Partial<Record<LensName, Neighbour[]>> = {};
      for (const lens of lensList) {
        const n = get(lens, layer, patch);
        if (n) out[lens] = n;
      }
      return out;
    },
  };
}
