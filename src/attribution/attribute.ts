import { attentionSpec, runAttributionPass } from "../model/attribution-pass";
import type { Bundle } from "../model/bundle";
import { headOutputs, readOutputProjections } from "../model/heads";
import { prepareImageInput } from "../model/hidden";
import type { RgbImage } from "../model/image";
import { ablate, type AblationBaseline } from "./ablation";
import { componentScores } from "./component-scores";
import { decodeTopPositions } from "./decode";
import { freezeFinalNorm } from "./frozen-norm";
import { headPositionScores, meanAttentionMap } from "./positions";
import { selectHeads, type HeadSelection } from "./select-heads";
import { spearman } from "./spearman";
import { resolveTarget } from "./target";
import type { AblationResult, AttributionResult } from "./types";

export interface AttributeOptions {
  /** Text substituted for `{prompt}` in the bundle's template, e.g. a caption prefix. */
  prompt?: string;
  /** The answer ŷ: a token as text (one token after the prompt) or a token id. Default: the argmax at T. */
  target?: string | number;
  /** The attributed position T in the token sequence. Default: the last. */
  position?: number;
  /** Heads that get position scores: top-n by head score (default 10), "all", or a list. */
  heads?: HeadSelection;
  /** How many of the top head's positions to decode (default 10), and words per vector (default 5). */
  topPositions?: number;
  words?: number;
  /**
   * Run the causal check. `true` ablates every patch with the mean baseline and silences the
   * selected heads; or choose the baseline and the heads to silence.
   */
  ablate?: boolean | { baseline?: AblationBaseline; heads?: HeadSelection };
  /** Rows per onnxruntime call in the ablation runs (default 16). */
  batchSize?: number;
}

/**
 * Answer attribution (Yu & Ananiadou 2024) for one image and prompt: which heads and which image
 * patches raised the log-probability of the answer ŷ at position T, from one forward pass of the
 * attribution graph, and (optionally) the ablation check of those scores. See docs/attribution.md.
 * The CLI (`vislens attribute`), notebook 08 and the tests all call this function.
 */
export async function attributeAnswer(bundle: Bundle, image: string | RgbImage, options: AttributeOptions = {}): Promise<AttributionResult> {
  if (image === undefined || image === null || image === "") {
    throw new TypeError("attributeAnswer: an image is required (a file path or a decoded RgbImage); attribution explains an answer about an image");
  }
  const spec = attentionSpec(bundle);
  const { num_layers: N, vocab_size: V } = bundle.manifest.llm;
  const prompt = options.prompt ?? "";
  const input = await prepareImageInput(bundle, image, prompt);
  const last = input.ids.length - 1;
  const T = options.position ?? last;
  if (!Number.isInteger(T) || T < 0 || T > last) throw new RangeError(`position ${T} is outside the sequence 0..${last}`);
  if (T < input.visualPositions[0]) {
    throw new RangeError(`position ${T} comes before the image (its first visual token is at ${input.visualPositions[0]}): no patch can be attributed`);
  }
  const ids = input.ids.slice(0, T + 1);
  const inImage = input.visualPositions.filter((p) => p <= T).length;
  const visualPositions = input.visualPositions.slice(0, inImage);
  const patches = input.patches.slice(0, inImage);
  // What the LLM receives up to T: every visual token there (a tiled image's base tile and
  // newlines too); the scores and ablations are over the grid patches among them.
  const spliced = input.imageTokenPositions.filter((p) => p <= T).length;
  const splicePositions = input.imageTokenPositions.slice(0, spliced);
  const width = input.imageTokens.shape[1];
  const visual = { shape: [spliced, width], data: input.imageTokens.data.subarray(0, spliced * width) };

  const pass = await runAttributionPass(bundle, ids, visual, splicePositions);
  const target = resolveTarget(bundle.tokenizer, pass.logits, prompt, options.target);
  if (target.tokenId >= V) throw new RangeError(`target token id ${target.tokenId} is outside the vocabulary 0..${V - 1}`);
  const D = bundle.manifest.llm.hidden_size;
  const S = ids.length;
  const norm = freezeFinalNorm(bundle.manifest.llm.final_norm, bundle.weights, pass.hidden.data.subarray((N * S + T) * D, (N * S + T + 1) * D));
  const proj = readOutputProjections(bundle);
  const outputs = await headOutputs(pass, proj);
  const { headScores, layerScores, rankedHeads } = await componentScores(bundle, pass, outputs, norm, target.tokenId);

  const chosen = selectHeads(options.heads ?? 10, rankedHeads, N, spec.num_heads);
  const headPositions = await headPositionScores(bundle, pass, proj, norm, chosen, visualPositions, target.tokenId);
  const positionMap = new Float64Array(inImage);
  for (const h of headPositions) for (let p = 0; p < inImage; p++) positionMap[p] += h.patches[p];
  const attentionMap = meanAttentionMap(pass, visualPositions);

  const patchOf = new Map(visualPositions.map((p, i) => [p, i]));
  const tokens = ids.map((id) => bundle.tokenizer.display(id));
  const labels = tokens.map((t, j) => (patchOf.has(j) ? `patch (${patches[patchOf.get(j)!].row}, ${patches[patchOf.get(j)!].col})` : t));
  const topPositions = headPositions.length
    ? await decodeTopPositions(bundle, pass, proj, norm, headPositions[0], labels, patchOf, options.topPositions ?? 10, options.words ?? 5)
    : [];

  let ablation: AblationResult | undefined;
  if (options.ablate) {
    const settings = options.ablate === true ? {} : options.ablate;
    const baseline = settings.baseline ?? "mean";
    const silenced = settings.heads === undefined ? chosen : selectHeads(settings.heads, rankedHeads, N, spec.num_heads);
    const run = await ablate(bundle, ids, { tokens: visual, positions: splicePositions }, visualPositions, target.tokenId, silenced, baseline, options.batchSize);
    const real = patches.map((p, i) => (p.isPadding ? -1 : i)).filter((i) => i >= 0);
    const pick = (a: Float64Array) => real.map((i) => a[i]);
    const heads = silenced.map((h, i) => ({ ...h, drop: run.headDrops[i] }));
    ablation = {
      baseline,
      logProb: run.logProb,
      patchDrops: run.patchDrops,
      heads,
      spearmanPositions: spearman(pick(positionMap), pick(run.patchDrops)),
      spearmanAttention: spearman(pick(attentionMap), pick(run.patchDrops)),
      spearmanHeads: heads.length >= 3 ? spearman(heads.map((h) => h.score), heads.map((h) => h.drop)) : Number.NaN,
    };
  }

  return {
    model: bundle.manifest.name,
    prompt,
    ids,
    tokens,
    position: T,
    target,
    numLayers: N,
    numHeads: spec.num_heads,
    headScores,
    rankedHeads,
    layerScores,
    visualPositions,
    grid: input.grid,
    patches,
    preprocessed: input.preprocessed,
    headPositions,
    positionMap,
    attentionMap,
    topPositions,
    ...(ablation ? { ablation } : {}),
  };
}
