import { isAblationBaseline } from "../attribution/ablation";
import { attributeAnswer } from "../attribution/attribute";
import { parseHeadSelection } from "../attribution/select-heads";
import { attributionToJSON } from "../attribution/to-json";
import { openBundle } from "../model/bundle";
import { deviceOption, parse, positiveInt, UsageError } from "./args";

export const ATTRIBUTE_USAGE =
  "vislens attribute <bundle> --image <file> --prompt <text> [--target <token>|--target-id <id>] [--heads top:10|all|L.H,...] [--position T] [--ablate] [--baseline mean|zero] [--top-positions 10] [--json] [--device cpu|cuda]";

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "n/a");

/** `vislens attribute`: head scores, position maps, layer scores and (with --ablate) the causal check. */
export async function attributeCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parse(argv, {
    image: { type: "string" },
    prompt: { type: "string" },
    target: { type: "string" },
    "target-id": { type: "string" },
    heads: { type: "string" },
    position: { type: "string" },
    ablate: { type: "boolean" },
    baseline: { type: "string" },
    "top-positions": { type: "string" },
    json: { type: "boolean" },
    device: { type: "string" },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one bundle directory, got ${positionals.length}`);
  if (!values.image) throw new UsageError("--image is required: attribution explains an answer about an image");
  if (values.target !== undefined && values["target-id"] !== undefined) throw new UsageError("give --target or --target-id, not both");
  let heads;
  try {
    heads = values.heads === undefined ? 10 : parseHeadSelection(values.heads);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const baseline = values.baseline ?? "mean";
  if (!isAblationBaseline(baseline)) throw new UsageError(`--baseline must be mean or zero, got ${JSON.stringify(baseline)}`);
  if (values.baseline !== undefined && !values.ablate) throw new UsageError("--baseline needs --ablate");
  const targetId = values["target-id"] === undefined ? undefined : Number(values["target-id"]);
  if (targetId !== undefined && !Number.isInteger(targetId)) throw new UsageError(`--target-id must be an integer token id, got ${JSON.stringify(values["target-id"])}`);
  const position = values.position === undefined ? undefined : Number(values.position);
  if (position !== undefined && !Number.isInteger(position)) throw new UsageError(`--position must be an integer, got ${JSON.stringify(values.position)}`);

  const bundle = await openBundle(positionals[0], { device: deviceOption(values.device) });
  try {
    const r = await attributeAnswer(bundle, values.image, {
      prompt: values.prompt ?? "",
      target: targetId ?? values.target,
      heads,
      ...(position !== undefined ? { position } : {}),
      topPositions: positiveInt("top-positions", values["top-positions"], 10),
      ablate: values.ablate ? { baseline } : false,
    });
    if (values.json) {
      out(JSON.stringify({ image: values.image, ...attributionToJSON(r) }));
      return;
    }
    out(`${r.model}: answer ${JSON.stringify(r.target.token)} (log p ${fmt(r.target.logProb)}; model's argmax ${JSON.stringify(r.target.predicted)}) at position ${r.position}`);
    out(`top heads (block.head: log-prob increase): ${r.rankedHeads.slice(0, 5).map((h) => `${h.layer}.${h.head} ${fmt(h.score)}`).join(", ")}`);
    out(`layers (attention / FFN): ${r.layerScores.map((l) => `${l.layer}: ${fmt(l.attention)} / ${fmt(l.ffn)}`).join(", ")}`);
    for (const p of r.topPositions.slice(0, 5)) out(`  ${p.label.padEnd(14)} ${fmt(p.score)}  residual: ${p.residualWords.join(" ")} | write: ${p.writeWords.join(" ")}`);
    if (r.ablation) {
      const a = r.ablation;
      out(`ablation (${a.baseline} visual token): Spearman with the drops: position map ${fmt(a.spearmanPositions)}, attention map ${fmt(a.spearmanAttention)}; heads ${fmt(a.spearmanHeads)}`);
    }
  } finally {
    await bundle.close();
  }
}
