import { buildBank } from "../bank/build";
import { isBankDtype } from "../bank/format";
import { parseLayerList } from "../bank/layers";
import { verifyBank } from "../bank/open";
import { CONTEXT_POLICIES, type ContextPolicy } from "../bank/select";
import { openBundle } from "../model/bundle";
import { deviceOption, parse, positiveInt, UsageError } from "./args";
import { progressBar } from "./progress";

export const BANK_USAGE =
  "vislens bank build <bundle> --corpus <txt> --out <dir> [--layers 1,2,4|all] [--max-contexts N] [--policy reservoir|first] [--seed N] [--dtype f16|i8] [--batch-size N] [--max-tokens N] [--hnsw] [--device cpu|cuda] [--json]\n" +
  "       vislens bank verify <bank-dir> [--json]";

/** `vislens bank build` (a contextual bank from a corpus, resumable after a kill) and `vislens bank verify`. */
export async function bankCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === "verify") return verifyCommand(rest, out);
  if (sub !== "build") throw new UsageError(`unknown bank subcommand ${JSON.stringify(sub ?? "")}; expected "build" or "verify"`);
  const { values, positionals } = parse(rest, {
    corpus: { type: "string" },
    out: { type: "string" },
    layers: { type: "string" },
    "max-contexts": { type: "string" },
    policy: { type: "string" },
    seed: { type: "string" },
    dtype: { type: "string" },
    "batch-size": { type: "string" },
    "max-tokens": { type: "string" },
    hnsw: { type: "boolean" },
    device: { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one bundle directory, got ${positionals.length}`);
  if (!values.corpus) throw new UsageError("--corpus is required");
  if (!values.out) throw new UsageError("--out is required");
  const kind = values.policy ?? "reservoir";
  if (!(CONTEXT_POLICIES as readonly string[]).includes(kind)) throw new UsageError(`--policy must be one of ${CONTEXT_POLICIES.join(", ")}, got ${JSON.stringify(kind)}`);
  const dtype = values.dtype ?? "f16";
  if (!isBankDtype(dtype)) throw new UsageError(`--dtype must be f16 or i8, got ${JSON.stringify(dtype)}`);
  const maxContexts = positiveInt("max-contexts", values["max-contexts"], kind === "first" ? 50 : 20);
  const seed = values.seed === undefined ? 42 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got ${JSON.stringify(values.seed)}`);
  const policy: ContextPolicy = kind === "first" ? { kind: "first", maxContexts } : { kind: "reservoir", maxContexts, seed };

  const bundle = await openBundle(positionals[0], { device: deviceOption(values.device) });
  try {
    let layers: number[] | undefined;
    try {
      layers = values.layers ? parseLayerList(values.layers, bundle.manifest.llm.num_layers) : undefined;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const bar = progressBar("bank build");
    const indexBar = progressBar("bank index");
    const manifest = await buildBank(bundle, values.corpus, values.out, {
      ...(layers ? { layers } : {}),
      policy,
      dtype,
      batchSize: positiveInt("batch-size", values["batch-size"], 32),
      maxTokens: positiveInt("max-tokens", values["max-tokens"], 64),
      hnsw: values.hnsw ?? false,
      onProgress: (p) => {
        if (p.phase === "encode") bar(p.done, p.total, `batches, ${p.rows} rows${p.resumed ? " (resumed)" : ""}`);
        if (p.phase === "index") indexBar(p.done, p.total, "HNSW indexes");
      },
    });
    if (values.json) {
      out(JSON.stringify({ out: values.out, rows: manifest.rows, layers: manifest.layers, dtype: manifest.dtype, policy: manifest.policy, corpus: manifest.corpus, hnsw: manifest.hnsw ?? null }));
      return;
    }
    out(`wrote ${values.out}: ${manifest.rows} rows x ${manifest.layers.length} layers (${manifest.layers.join(",")}), ${manifest.dtype}, ${manifest.corpus.sentences} sentences`);
    for (const [layer, h] of Object.entries(manifest.hnsw ?? {})) {
      out(`  HNSW layer ${layer}: recall@${h.k} ${(h.recall * 100).toFixed(1)}% against exact search on ${h.queries} held-out queries (M ${h.M}, efSearch ${h.efSearch})`);
    }
  } finally {
    await bundle.close();
  }
}

/**
 * `vislens bank verify <dir>`: hashes every file of the bank against bank.json, whatever the
 * verification record says, and rewrites the record (verified.json). A mismatch is one line naming
 * the file, exit 1.
 */
function verifyCommand(argv: string[], out: (text: string) => void): void {
  const { values, positionals } = parse(argv, { json: { type: "boolean" } });
  if (positionals.length !== 1) throw new UsageError(`expected one bank directory, got ${positionals.length}`);
  const dir = positionals[0];
  const { manifest, verification: v, bytes } = verifyBank(dir);
  if (values.json) {
    out(JSON.stringify({ dir, files: v.hashed.length, bytes, rows: manifest.rows, layers: manifest.layers, recorded: v.recorded, unsettled: v.unsettled, record_error: v.recordError ?? null }));
    return;
  }
  const size = bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
  out(`verified ${dir}: ${v.hashed.length} files (${size}) match bank.json`);
  if (!v.recorded) out(`  not recorded (${v.recordError}): every open hashes the files again`);
  else if (v.unsettled.length > 0) out(`  recorded in verified.json, except ${v.unsettled.length} file(s) modified in the last seconds: the next open hashes those again`);
  else out("  recorded in verified.json: opens hash only files that change");
}
