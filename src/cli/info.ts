import { missingAttributionReason } from "../model/attribution-pass";
import { openBundle } from "../model/bundle";
import { parse, UsageError } from "./args";

export const INFO_USAGE = "vislens info <bundle> [--json] [--no-verify]";

/** `vislens info`: a summary of a bundle's manifest, after validating the bundle. */
export async function infoCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parse(argv, { json: { type: "boolean" }, "no-verify": { type: "boolean" } });
  if (positionals.length !== 1) throw new UsageError(`expected one bundle directory, got ${positionals.length}`);
  const bundle = await openBundle(positionals[0], { verifyChecksums: !values["no-verify"] });
  try {
    const m = bundle.manifest;
    const summary = {
      name: m.name,
      architecture: m.architecture,
      format_version: m.format_version,
      fingerprint: bundle.fingerprint,
      llm: { layers: m.llm.num_layers, hidden_size: m.llm.hidden_size, vocab_size: m.llm.vocab_size, rope: m.llm.rope.type, final_norm: m.llm.final_norm.type },
      vision: { image_size: m.vision.image_size, grid: m.vision.grid, tokens: m.vision.num_tokens, patch_size: m.vision.patch_size ?? null, merge: m.vision.merge ?? 1 },
      preprocess: m.vision.preprocess,
      prompt: { template: m.prompt.template, image_token: m.prompt.image_token, add_bos: m.prompt.add_bos },
      attribution: m.llm.attention
        ? { heads: m.llm.attention.num_heads, kv_heads: m.llm.attention.num_kv_heads, head_dim: m.llm.attention.head_dim }
        : null,
      files: Object.fromEntries(Object.entries(m.files).map(([k, v]) => [k, v.bytes])),
    };
    if (values.json) {
      out(JSON.stringify(summary, null, 2));
      return;
    }
    out(
      [
        `${m.name} (${m.architecture}), bundle format v${m.format_version}`,
        `  LLM      ${m.llm.num_layers} layers, hidden ${m.llm.hidden_size}, vocab ${m.llm.vocab_size}, rope ${m.llm.rope.type}`,
        `  vision   ${m.vision.image_size.join("x")} px -> ${m.vision.grid.join("x")} grid = ${m.vision.num_tokens} visual tokens`,
        `  prompt   ${JSON.stringify(m.prompt.template)}`,
        m.llm.attention
          ? `  attribution  yes: ${m.llm.attention.num_heads} heads (${m.llm.attention.num_kv_heads} key/value) x ${m.llm.attention.head_dim} per block`
          : `  attribution  no: ${missingAttributionReason(m)}`,
        `  files    ${Object.entries(m.files).map(([k, v]) => `${k} (${(v.bytes / 1e6).toFixed(2)} MB)`).join(", ")}`,
      ].join("\n"),
    );
  } finally {
    await bundle.close();
  }
}
