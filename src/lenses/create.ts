import type { Bank } from "../bank/open";
import type { Bundle } from "../model/bundle";
import { embeddingLens } from "./embedding";
import { latentLens } from "./latent";
import { logitLens } from "./logit";
import type { Lens, LensName } from "./types";

/**
 * Makes the named lenses from an opened bundle's weights and (for LatentLens) a bank built by the
 * same model. The order of `names` is kept.
 */
export function createLenses(bundle: Bundle, names: readonly LensName[], bank?: Bank, options: { approximate?: boolean } = {}): Lens[] {
  const { llm } = bundle.manifest;
  return names.map((name) => {
    switch (name) {
      case "latent":
        if (!bank) throw new RangeError("LatentLens needs a contextual bank: build one with `vislens bank build` and pass it");
        if (bank.manifest.model.fingerprint !== bundle.fingerprint) {
          throw new RangeError(`the bank was built by model "${bank.manifest.model.name}", not by this bundle ("${bundle.manifest.name}")`);
        }
        return latentLens(bank, options);
      case "embedding":
        return embeddingLens(bundle.weights.embedding, llm.hidden_size, bundle.tokenizer);
      case "logit":
        return logitLens(bundle.weights, llm.final_norm, bundle.tokenizer, llm.vocab_size, bundle.session);
    }
  });
}
