import { ArtifactError } from "../errors";
import type { BundleManifest } from "./manifest";
import type { TextTokenizer } from "./tokenizer";

/** The token sequence of one image + prompt, and where the visual tokens go in it. */
export interface PromptIds {
  ids: number[];
  /** Sequence positions of the visual tokens, in visual-token order. */
  visualPositions: number[];
  /** The full text that was tokenised (the image expanded to its placeholder tokens). */
  text: string;
}

/**
 * Builds the model input the way the HF processors do: expand `{image}` in the manifest's template
 * to `num_tokens` image placeholder tokens, substitute the prompt, tokenise the whole text, and
 * prepend BOS if the manifest says so. The placeholders' embeddings are later replaced by the
 * visual tokens.
 */
export function buildImagePrompt(manifest: BundleManifest, tokenizer: TextTokenizer, prompt = ""): PromptIds {
  const { template, image_token, image_token_id } = manifest.prompt;
  const T = manifest.vision.num_tokens;
  const text = template.replace("{prompt}", prompt).replace("{image}", image_token.repeat(T));
  const ids = withBos(manifest, tokenizer.encode(text));
  const visualPositions: number[] = [];
  ids.forEach((id, i) => {
    if (id === image_token_id) visualPositions.push(i);
  });
  if (visualPositions.length !== T) {
    throw new ArtifactError(
      "tokenizer.json",
      `the template's {image} should tokenise to ${T} copies of ${JSON.stringify(image_token)} (id ${image_token_id}), found ${visualPositions.length}; is the image token an added special token?`,
      "prompt.image_token",
    );
  }
  return { ids, visualPositions, text };
}

/** Token ids of plain text (no image), with BOS when the model expects it. */
export function buildTextPrompt(manifest: BundleManifest, tokenizer: TextTokenizer, text: string): number[] {
  return withBos(manifest, tokenizer.encode(text));
}

function withBos(manifest: BundleManifest, ids: number[]): number[] {
  const { add_bos, bos_token_id } = manifest.prompt;
  if (!add_bos) return ids;
  if (bos_token_id === undefined || bos_token_id === null) {
    throw new ArtifactError("manifest.json", "add_bos is true but bos_token_id is not set", "prompt.bos_token_id");
  }
  return [bos_token_id, ...ids];
}
