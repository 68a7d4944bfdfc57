/**
 * Nearest-neighbour search over the contextual bank: exact top-k by inner product per layer
 * (native kernel, topk.ts; a table in several segments, e.g. a large memory-mapped layer:
 * segments.ts) and the cross-layer merge (merge.ts). Rows are L2-normalised, so the
 * inner product is the cosine of the LatentLens method.
 */
export {
  searchTopK,
  searchTopKSync,
  searchCapabilities,
  type RowDType,
  type RowMatrix,
  type SearchIsa,
  type SearchOptions,
  type TopKResult,
} from "./topk";
export { mergeTopK, type LayerTopK, type MergedTopK } from "./merge";
export { searchSegments, type RowSegment, type SegmentedRows } from "./segments";
export { encodeFloat16, decodeFloat16, quantizeInt8, decodeInt8 } from "./quantize";
export { loadNative, nativeAvailable, nativeAddonPath, BUILD_COMMAND, type MapAdvice } from "./native";
