import { openBundle } from "../model/bundle";
import { imageHiddenStates } from "../model/hidden";
import type { Tensor } from "../model/tensor";
import { deviceOption, parse, UsageError } from "./args";

export const HIDDEN_USAGE = "vislens hidden <bundle> --image <file> [--image <file> ...] [--prompt <text>] [--json] [--device cpu|cuda]";

/** Mean L2 norm of the tokens at each layer of a `[layers, tokens, dim]` tensor. */
export function meanNormPerLayer(t: Tensor): number[] {
  const [L, T, D] = t.shape;
  const means: number[] = [];
  for (let l = 0; l < L; l++) {
    let sum = 0;
    for (let i = 0; i < T; i++) {
      let sq = 0;
      const base = (l * T + i) * D;
      for (let d = 0; d < D; d++) sq += t.data[base + d] ** 2;
      sum += Math.sqrt(sq);
    }
    means.push(sum / T);
  }
  return means;
}

/**
 * `vislens hidden`: runs images through the bundle and reports the shape of the visual tokens'
 * hidden states and, per image, the mean L2 norm of the visual tokens at every layer.
 */
export async function hiddenCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parse(argv, {
    image: { type: "string", multiple: true },
    prompt: { type: "string" },
    json: { type: "boolean" },
    device: { type: "string" },
    "no-verify": { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one bundle directory, got ${positionals.length}`);
  const images = values.image ?? [];
  if (images.length === 0) throw new UsageError("--image is required");
  const bundle = await openBundle(positionals[0], { verifyChecksums: !values["no-verify"], device: deviceOption(values.device) });
  try {
    const norms: number[][] = [];
    let shape: number[] = [];
    let grid: [number, number] = [0, 0];
    for (const image of images) {
      const states = await imageHiddenStates(bundle, image, { prompt: values.prompt ?? "" });
      shape = states.visual.shape;
      grid = states.grid;
      norms.push(meanNormPerLayer(states.visual));
    }
    const [layers, tokens, dim] = shape;
    if (values.json) {
      out(JSON.stringify({ layers, tokens, dim, grid, norms }));
      return;
    }
    out(`${layers} layers (input embeddings + ${layers - 1} blocks) x ${tokens} visual tokens (grid ${grid.join("x")}) x ${dim} dims`);
    images.forEach((image, i) => out(`${image}\n  mean L2 norm by layer: ${norms[i].map((n) => n.toFixed(2)).join(" ")}`));
  } finally {
    await bundle.close();
  }
}
