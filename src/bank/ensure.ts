import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError } from "../errors";
import type { Bundle } from "../model/bundle";
import { buildBank, DEFAULT_BANK_DTYPE, DEFAULT_MAX_TOKENS, DEFAULT_POLICY, type BuildBankOptions } from "./build";
import { readCorpus } from "./corpus";
import { BANK_FILES, readBankManifest, recordPolicy, type BankManifest } from "./format";
import { defaultContextualLayers } from "./layers";
import { openBank, type Bank } from "./open";

export interface EnsureBankResult {
  bank: Bank;
  /** What happened: an up-to-date bank was opened, a missing one built (or resumed), a stale one rebuilt. */
  action: "opened" | "built" | "rebuilt";
  /** Why the bank was rebuilt ("built from another corpus", ...). */
  reason?: string;
}

/**
 * Opens the bank in `dir` when it was built from this model, this corpus and these settings, and
 * builds it otherwise (an interrupted build of the same settings resumes). A stale bank — another
 * model, corpus, layer set, policy, dtype — or an interrupted build with other settings is deleted
 * and rebuilt, so a cache directory never silently serves neighbours from the wrong model. A bank
 * imported from a latentlens index is refused, never deleted.
 */
export async function ensureBank(bundle: Bundle, corpusFile: string, dir: string, options: BuildBankOptions = {}): Promise<EnsureBankResult> {
  let reason: string | undefined;
  if (fs.existsSync(path.join(dir, BANK_FILES.manifest))) {
    const manifest = readBankManifest(dir);
    // An imported bank (python -m vislens_export.import_latentlens) cannot be rebuilt from a corpus: never delete it.
    if (manifest.imported) {
      throw new ArtifactError(path.join(dir, BANK_FILES.manifest), `a bank imported from a ${manifest.imported.from} index is here; it is not rebuilt or replaced: open it with openBank, or build into another directory`, "imported");
    }
    reason = staleReason(manifest, bundle, corpusFile, options);
    if (!reason) return { bank: openBank(dir, { fingerprint: bundle.fingerprint, modelName: bundle.manifest.name }), action: "opened" };
    fs.rmSync(dir, { recursive: true, force: true });
  }
  try {
    await buildBank(bundle, corpusFile, dir, options);
  } catch (error) {
    if (!/interrupted build with different settings/.test((error as Error).message)) throw error;
    reason = "an interrupted build with other settings was there";
    fs.rmSync(dir, { recursive: true, force: true });
    await buildBank(bundle, corpusFile, dir, options);
  }
  return { bank: openBank(dir, { fingerprint: bundle.fingerprint }), action: reason ? "rebuilt" : "built", ...(reason ? { reason } : {}) };
}

/** Why a finished bank is not the requested one, or undefined when it is. */
function staleReason(m: BankManifest, bundle: Bundle, corpusFile: string, options: BuildBankOptions): string | undefined {
  if (m.model.fingerprint !== bundle.fingerprint) return `built from another model (${m.model.name})`;
  if (m.corpus.sha256 !== readCorpus(corpusFile).sha256) return "built from another corpus";
  const layers = options.layers ?? defaultContextualLayers(bundle.manifest.llm.num_layers);
  if (m.layers.join(",") !== layers.join(",")) return `built for layers ${m.layers.join(",")}, not ${layers.join(",")}`;
  if (JSON.stringify(m.policy) !== JSON.stringify(recordPolicy(options.policy ?? DEFAULT_POLICY))) return "built with another context policy";
  const dtype = options.dtype ?? DEFAULT_BANK_DTYPE;
  if (m.dtype !== dtype) return `stored as ${m.dtype}, not ${dtype}`;
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (m.corpus.max_tokens !== maxTokens) return `built with max_tokens ${m.corpus.max_tokens}, not ${maxTokens}`;
  if (options.hnsw && !m.hnsw) return "built without an approximate index";
  return undefined;
}
