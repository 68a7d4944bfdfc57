import type { BundleManifest } from "../../src/model/manifest";

/** A small but complete v1 manifest, for tests that mutate one field at a time. */
export function sampleManifest(): BundleManifest {
  const sha = "0".repeat(64);
  return {
    format: "vislens-bundle",
    format_version: 1,
    name: "sample",
    architecture: "LlavaForConditionalGeneration",
    llm: {
      num_layers: 2,
      hidden_size: 8,
      vocab_size: 20,
      final_norm: { type: "rmsnorm", eps: 1e-5, weight: "final_norm.weight" },
      embedding: "embed_tokens",
      unembedding: "lm_head",
      rope: { type: "default" },
    },
    vision: {
      image_size: [16, 16],
      patch_size: 8,
      merge: 1,
      grid: [2, 2],
      num_tokens: 4,
      token_order: "row-major",
      preprocess: {
        pad_to_square: null,
        resize: { mode: "exact", height: 16, width: 16 },
        resample: "bicubic",
        center_crop: null,
        pad_to: null,
        rescale_factor: 1 / 255,
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
      },
    },
    prompt: { template: "{image}\n{prompt}", image_token: "<image>", image_token_id: 3, bos_token_id: 1, add_bos: true },
    onnx: {
      opset: 18,
      vision: { file: "vision.onnx", inputs: { pixel_values: [1, 3, 16, 16] }, outputs: { visual_tokens: [1, 4, 8] } },
      llm: {
        file: "llm.onnx",
        inputs: { inputs_embeds: ["batch", "seq", 8], attention_mask: ["batch", "seq"], position_ids: ["batch", "seq"] },
        outputs: { hidden_states: [3, "batch", "seq", 8], logits: ["batch", "seq", 20] },
      },
    },
    weights: {
      embed_tokens: { shape: [20, 8], dtype: "F32" },
      lm_head: { shape: [20, 8], dtype: "F32" },
      "final_norm.weight": { shape: [8], dtype: "F32" },
    },
    files: {
      "vision.onnx": { bytes: 1, sha256: sha },
      "llm.onnx": { bytes: 1, sha256: sha },
      "weights.safetensors": { bytes: 1, sha256: sha },
      "tokenizer.json": { bytes: 1, sha256: sha },
    },
  };
}
