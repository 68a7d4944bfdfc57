import { openBank } from "../bank/open";
import { parseLayerList } from "../bank/layers";
import { createLenses } from "../lenses/create";
import { interpretImage } from "../lenses/interpret";
import { isLensName, LENS_NAMES, type LensName } from "../lenses/types";
import { openBundle } from "../model/bundle";
import { imageHiddenStates } from "../model/hidden";
import { deviceOption, parse, UsageError } from "./args";

export const INTERPRET_USAGE =
  "vislens interpret <bundle> --image <file> [--bank <dir>] [--lens latent|logit|embedding|all] [--layers 0,4|all] [--top-k 5] [--patch r,c] [--prompt <text>] [--approximate] [--json] [--device cpu|cuda]";

function parsePatch(text: string, rows: number, cols: number): number {
  const m = /^(\d+),(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--patch must be "row,col", got ${JSON.stringify(text)}`);
  const [r, c] = [Number(m[1]), Number(m[2])];
  if (r >= rows || c >= cols) throw new UsageError(`--patch ${r},${c} is outside the ${rows}x${cols} grid`);
  return r * cols + c;
}

/** `vislens interpret`: one record per (lens, visual layer, patch) with its top-k neighbours. */
export async function interpretCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parse(argv, {
    image: { type: "string" },
    bank: { type: "string" },
    lens: { type: "string" },
    layers: { type: "string" },
    "top-k": { type: "string" },
    patch: { type: "string", multiple: true },
    prompt: { type: "string" },
    approximate: { type: "boolean" },
    json: { type: "boolean" },
    device: { type: "string" },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one bundle directory, got ${positionals.length}`);
  if (!values.image) throw new UsageError("--image is required");
  const lensArg = values.lens ?? (values.bank ? "all" : "logit,embedding");
  const names: LensName[] = lensArg === "all" ? [...LENS_NAMES] : lensArg.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    if (!isLensName(s)) throw new UsageError(`--lens must be latent, logit, embedding or all, got ${JSON.stringify(s)}`);
    return s;
  });
  if (names.includes("latent") && !values.bank) throw new UsageError("LatentLens needs --bank <dir> (build one with `vislens bank build`)");
  const k = Number(values["top-k"] ?? 5);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top-k must be a positive integer, got ${JSON.stringify(values["top-k"])}`);

  const bundle = await openBundle(positionals[0], { device: deviceOption(values.device) });
  try {
    const { num_layers } = bundle.manifest.llm;
    const [rows, cols] = bundle.manifest.vision.grid;
    let layers: number[] | undefined;
    try {
      layers = values.layers && values.layers !== "all" ? parseLayerList(values.layers, num_layers) : undefined;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const patches = values.patch?.map((p) => parsePatch(p, rows, cols));
    const bank = values.bank ? openBank(values.bank, { fingerprint: bundle.fingerprint, modelName: bundle.manifest.name }) : undefined;
    const lenses = createLenses(bundle, names, bank, { approximate: values.approximate ?? false });
    const states = await imageHiddenStates(bundle, values.image, { prompt: values.prompt ?? "" });
    const records = await interpretImage(states, lenses, { ...(layers ? { layers } : {}), ...(patches ? { patches } : {}), k });
    if (values.json) {
      out(JSON.stringify({ model: bundle.manifest.name, image: values.image, grid: states.grid, layers: num_layers + 1, records }));
      return;
    }
    for (const r of records) {
      const words = r.neighbours.map((n) => `${n.word}${n.layer !== undefined && r.lens === "latent" ? `@L${n.layer}` : ""} ${(n.similarity ?? n.logit ?? 0).toFixed(2)}`);
      out(`${r.lens.padEnd(9)} layer ${String(r.layer).padStart(2)} patch ${r.patch.row},${r.patch.col}: ${words.join(" | ")}`);
    }
  } finally {
    await bundle.close();
  }
}
