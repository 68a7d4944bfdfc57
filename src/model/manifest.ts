import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { type ErrorObject } from "ajv";
import { ArtifactError, describeValue } from "../errors";
import { layoutTokenCount } from "./layout";

/**
 * The bundle manifest, format version 1. The JSON Schema in schema/bundle-manifest.v1.schema.json
 * is the single source of truth shared with the Python exporter; these types mirror it, and
 * docs/bundle-format.md explains every field.
 */

export const BUNDLE_FORMAT_VERSION = 1;

export type HW = [number, number];

export interface FinalNorm {
  type: "rmsnorm" | "layernorm";
  eps: number;
  /** Tensor names in weights.safetensors. */
  weight: string;
  bias?: string;
}

export interface Preprocess {
  pad_to_square?: { fill: [number, number, number] } | null;
  resize: { mode: "exact" | "shortest_edge" | "longest_edge"; height?: number; width?: number; size?: number };
  resample: "nearest" | "bilinear" | "bicubic";
  center_crop?: HW | null;
  pad_to?: HW | null;
  rescale_factor: number;
  mean: [number, number, number];
  std: [number, number, number];
  /**
   * Anyres (LLaVA-OneVision), last: the `[grid[0] * size[0], grid[1] * size[1]]` image cut into
   * `grid` tiles of `size`, row-major, after a base tile (the original image resized exactly to
   * `size`); vision.onnx then takes `[1 + tiles, 3, size[0], size[1]]`.
   */
  tiles?: { grid: HW; size: HW };
}

/** How the visual tokens of a tiled image are laid out (see `src/model/layout.ts`). */
export interface TokenLayout {
  /** `[rows, cols]` of the base tile's tokens, which come first. */
  base_grid: HW;
  /** A newline token after every row of the grid. */
  newline: boolean;
}

export interface GraphSpec {
  file: string;
  /** ONNX external-data files holding the graph's weights, beside it (graphs past 1.5 GiB of weights); each is listed in `files`. */
  external_data?: string[];
  inputs: Record<string, (number | string)[]>;
  outputs: Record<string, (number | string)[]>;
}

/**
 * Self-attention layout and output projections (bundles with `onnx.attribution`). Query head h
 * reads key/value head `floor(h / (num_heads / num_kv_heads))`; head h owns columns
 * `h * head_dim .. (h + 1) * head_dim - 1` of each layer's W_O (`[hidden, num_heads * head_dim]`).
 */
export interface AttentionSpec {
  num_heads: number;
  num_kv_heads: number;
  head_dim: number;
  /** Per layer: tensor names in weights.safetensors. */
  o_proj: string[];
  o_proj_bias?: string[];
}

export type GraphDtype = "float32" | "float16";

export interface BundleManifest {
  format: "vislens-bundle";
  format_version: 1;
  name: string;
  architecture: "LlavaForConditionalGeneration" | "Qwen2VLForConditionalGeneration" | "Qwen2_5_VLForConditionalGeneration" | "Idefics3ForConditionalGeneration" | "InternVLForConditionalGeneration" | "Gemma3ForConditionalGeneration" | "LlavaOnevisionForConditionalGeneration";
  source?: Record<string, unknown>;
  llm: {
    model_type?: string;
    /** N: decoder blocks. Hidden states have N + 1 entries (0 = input embeddings). */
    num_layers: number;
    hidden_size: number;
    vocab_size: number;
    final_norm: FinalNorm;
    embedding?: string;
    /** The factor the LLM multiplies looked-up token embedding rows by (Gemma: sqrt(hidden)); absent: 1. Visual tokens are not scaled. */
    embedding_scale?: number;
    unembedding: string;
    rope: { type: "default" | "mrope"; mrope_section?: number[] };
    /** Present when the bundle can attribute answers (with `onnx.attribution`). */
    attention?: AttentionSpec;
  };
  vision: {
    model_type?: string;
    /** [height, width] of the pixel values fed to vision.onnx. */
    image_size: HW;
    patch_size?: number;
    merge?: number;
    /** [rows, cols] of visual tokens over image_size (for a tiled image: its tiles' tokens, without the base tile and newlines). */
    grid: HW;
    num_tokens: number;
    token_order: "row-major";
    preprocess: Preprocess;
    /** Tiled images only: the base tile's tokens and newlines around the grid. */
    layout?: TokenLayout;
  };
  prompt: {
    template: string;
    image_token: string;
    image_token_id: number;
    bos_token_id?: number | null;
    add_bos: boolean;
    /**
     * Token ids that end generation (the checkpoint's generation_config.json `eos_token_id`).
     * Optional: bundles exported before it existed lack it, and generation then stops only at its
     * maximum length.
     */
    eos_token_ids?: number[];
  };
  /** `attribution` is optional: bundles exported before it (or with --no-attribution) lack it. */
  /**
   * `dtype`: the precision of the graphs' weights and computation (absent in bundles exported before
   * it: float32). Graph inputs and outputs are float32 either way.
   */
  onnx: { opset: number; dtype?: GraphDtype; vision: GraphSpec; llm: GraphSpec; attribution?: GraphSpec };
  weights: Record<string, { shape: number[]; dtype: "F32" | "F16" | "BF16" }>;
  files: Record<string, { bytes: number; sha256: string }>;
}

const SCHEMA_FILE = path.join(__dirname, "..", "..", "schema", "bundle-manifest.v1.schema.json");
let validator: ReturnType<Ajv["compile"]> | undefined;

function compiledValidator(): ReturnType<Ajv["compile"]> {
  if (!validator) {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")) as object;
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validator;
}

/** Turns ajv's error into "field: expected ..., got ..." naming the JSON path. */
function explain(error: ErrorObject, manifest: unknown): { field: string; problem: string } {
  const field = error.instancePath.replace(/^\//, "").replace(/\//g, ".") || "(root)";
  let value: unknown = manifest;
  for (const key of error.instancePath.split("/").slice(1)) value = (value as Record<string, unknown>)?.[key];
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return { field: field === "(root)" ? extra : `${field}.${extra}`, problem: "unknown field (not in bundle format v1)" };
  }
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { field: field === "(root)" ? missing : `${field}.${missing}`, problem: "required field is missing" };
  }
  return { field, problem: `${error.message ?? "invalid"}; got ${describeValue(value)}` };
}

/**
 * Parses and validates a manifest. The format version is checked before the schema, so a bundle
 * from a newer exporter says "unknown format version" rather than listing every changed field.
 */
export function parseManifest(text: string, file: string): BundleManifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ArtifactError(file, `not valid JSON: ${(error as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ArtifactError(file, `expected a JSON object, got ${describeValue(data)}`);
  }
  const record = data as Record<string, unknown>;
  if (record.format !== "vislens-bundle") {
    throw new ArtifactError(file, `expected "vislens-bundle", got ${describeValue(record.format)}: not a vislens model bundle`, "format");
  }
  if (record.format_version !== BUNDLE_FORMAT_VERSION) {
    throw new ArtifactError(
      file,
      `unknown format version ${describeValue(record.format_version)}; this vislens reads version ${BUNDLE_FORMAT_VERSION}`,
      "format_version",
    );
  }
  const validate = compiledValidator();
  if (!validate(data)) {
    const first = explain(validate.errors![0], data);
    const more = validate.errors!.length > 1 ? ` (and ${validate.errors!.length - 1} more problems)` : "";
    throw new ArtifactError(file, first.problem + more, first.field);
  }
  const manifest = data as BundleManifest;
  checkConsistency(manifest, file);
  return manifest;
}

/** Cross-field rules the schema cannot express. */
function checkConsistency(m: BundleManifest, file: string): void {
  const [rows, cols] = m.vision.grid;
  const tokens = layoutTokenCount(m.vision);
  if (tokens !== m.vision.num_tokens) {
    const what = m.vision.layout ? `a ${m.vision.layout.base_grid.join("x")} base tile, grid ${rows}x${cols}${m.vision.layout.newline ? " and a newline per row" : ""}` : `grid ${rows}x${cols}`;
    throw new ArtifactError(file, `${what}: ${tokens} visual tokens, but num_tokens is ${m.vision.num_tokens}`, "vision.num_tokens");
  }
  const tiles = m.vision.preprocess.tiles;
  if (!tiles !== !m.vision.layout) {
    throw new ArtifactError(file, "vision.layout and vision.preprocess.tiles come together (a tiled image)", tiles ? "vision.layout" : "vision.preprocess.tiles");
  }
  if (tiles && (tiles.grid[0] * tiles.size[0] !== m.vision.image_size[0] || tiles.grid[1] * tiles.size[1] !== m.vision.image_size[1] || rows % tiles.grid[0] || cols % tiles.grid[1])) {
    throw new ArtifactError(file, `${tiles.grid.join("x")} tiles of ${tiles.size.join("x")} px do not tile a ${m.vision.image_size.join("x")} image with a ${rows}x${cols} grid`, "vision.preprocess.tiles");
  }
  const images = m.prompt.template.split("{image}").length - 1;
  if (images !== 1) throw new ArtifactError(file, `template must contain {image} exactly once, found ${images}`, "prompt.template");
  if (m.prompt.template.split("{prompt}").length > 2) {
    throw new ArtifactError(file, "template may contain {prompt} at most once", "prompt.template");
  }
  if (m.prompt.image_token_id >= m.llm.vocab_size) {
    throw new ArtifactError(file, `image_token_id ${m.prompt.image_token_id} is outside the vocabulary of ${m.llm.vocab_size}`, "prompt.image_token_id");
  }
  (m.prompt.eos_token_ids ?? []).forEach((id, i) => {
    if (id >= m.llm.vocab_size) throw new ArtifactError(file, `eos token id ${id} is outside the vocabulary of ${m.llm.vocab_size}`, `prompt.eos_token_ids.${i}`);
  });
  for (const name of [m.llm.embedding ?? "embed_tokens", m.llm.unembedding, m.llm.final_norm.weight]) {
    if (!m.weights[name]) throw new ArtifactError(file, `names tensor ${JSON.stringify(name)} that is not listed in weights`, "llm");
  }
  for (const graph of [m.onnx.vision, m.onnx.llm, ...(m.onnx.attribution ? [m.onnx.attribution] : [])]) {
    if (!m.files[graph.file]) throw new ArtifactError(file, `graph file ${graph.file} is not listed in files`, "onnx");
    for (const data of graph.external_data ?? []) {
      if (!m.files[data]) throw new ArtifactError(file, `external-data file ${data} of ${graph.file} is not listed in files`, "onnx");
    }
  }
  checkAttention(m, file);
}

function checkAttention(m: BundleManifest, file: string): void {
  const attention = m.llm.attention;
  if (!attention !== !m.onnx.attribution) {
    const [has, lacks] = attention ? ["llm.attention", "onnx.attribution"] : ["onnx.attribution", "llm.attention"];
    throw new ArtifactError(file, `has ${has} but no ${lacks}; the two come together`, lacks);
  }
  if (!attention) return;
  if (attention.num_heads % attention.num_kv_heads !== 0) {
    throw new ArtifactError(file, `${attention.num_heads} query heads do not split into ${attention.num_kv_heads} key/value groups`, "llm.attention.num_kv_heads");
  }
  for (const key of ["o_proj", "o_proj_bias"] as const) {
    const names = attention[key];
    if (!names) continue;
    if (names.length !== m.llm.num_layers) {
      throw new ArtifactError(file, `names ${names.length} tensors, one per layer of ${m.llm.num_layers} expected`, `llm.attention.${key}`);
    }
    // Their shapes are checked against the weights file when it is read (src/model/heads.ts).
    names.forEach((name, i) => {
      if (!m.weights[name]) throw new ArtifactError(file, `names tensor ${JSON.stringify(name)} that is not listed in weights`, `llm.attention.${key}.${i}`);
    });
  }
}

export function readManifest(bundleDir: string): BundleManifest {
  const file = path.join(bundleDir, "manifest.json");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "missing: a vislens bundle directory must contain manifest.json" : `cannot read: ${(error as Error).message}`;
    throw new ArtifactError(file, why);
  }
  return parseManifest(text, file);
}
