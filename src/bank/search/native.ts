/**
 * Loads the native search addon (native/, built by `bash native/build.sh`). The only file that
 * `require`s it; loading is lazy, so importing vislens works without the addon until a search runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** What the addon returns for one search (see native/src/addon.cc). */
export interface NativeSearchResult {
  k: number;
  indices: Int32Array;
  scores: Float32Array;
  passes: number;
  threads: number;
  exact: boolean;
  candidates: number;
  path: "gemm" | "dot" | "scalar";
  isa: "avx512" | "avx2" | "scalar";
}

export type NativeRows = Float32Array | Uint16Array | Int8Array;

/** The arguments of both search entry points, in the addon's order (see native/src/addon.cc). */
export type NativeSearchArgs = [
  queries: Float32Array,
  dim: number,
  rows: NativeRows,
  dtype: string,
  scales: Float32Array | null,
  k: number,
  threads: number,
  isa: string,
];

export interface NativeAddon {
  abiVersion: number;
  search(...args: NativeSearchArgs): Promise<NativeSearchResult>;
  searchSync(...args: NativeSearchArgs): NativeSearchResult;
  isaInfo(): { best: string; supported: string[]; hardwareThreads: number };
  f32ToF16(src: Float32Array, dst: Uint16Array): void;
  f16ToF32(src: Uint16Array, dst: Float32Array): void;
  /**
   * Bytes [offset, offset + length) of a file (length <= 2^32), memory-mapped: private, never
   * written back, unmapped when the buffer is garbage-collected. Added after ABI 1 without breaking
   * it: an older build lacks it. Throws an Error with `errno`, `syscall` and `path` (see
   * native/src/mapped.cc).
   */
  mapFile?(file: string, offset: number, length: number, advice?: MapAdvice): ArrayBuffer;
}

/** madvise hint for a mapped file: how its pages will be read. */
export type MapAdvice = "normal" | "sequential" | "random" | "willneed";

/** The ABI this wrapper was written against; bumped with incompatible changes in addon.cc. */
const ABI_VERSION = 1;

/** Repository root: this file is src/bank/search/native.ts, or dist/bank/search/native.js once compiled. */
const ROOT = path.resolve(__dirname, "..", "..", "..");

/** Where the addon is looked for: $VISLENS_NATIVE_ADDON, else native/build/Release/vislens_native.node. */
export function nativeAddonPath(): string {
  return process.env.VISLENS_NATIVE_ADDON ?? path.join(ROOT, "native", "build", "Release", "vislens_native.node");
}

/** The command that builds the addon, for error messages. */
export const BUILD_COMMAND = "bash native/build.sh";

let cached: NativeAddon | undefined;

/** The addon, loaded on first use. Throws an Error naming the missing file and the build command. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    throw new Error(
      `vislens native search addon not found: ${file} does not exist. Build it with \`${BUILD_COMMAND}\` ` +
        `from ${ROOT} (needs g++ or clang, make, python3 and the node-addon-api package).`,
    );
  }
  let addon: NativeAddon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(file) as NativeAddon;
  } catch (error) {
    throw new Error(
      `vislens native search addon ${file} could not be loaded (${(error as Error).message}). ` +
        `Rebuild it for this Node (${process.version}) with \`${BUILD_COMMAND} --clean\`.`,
    );
  }
  if (addon.abiVersion !== ABI_VERSION) {
    throw new Error(
      `vislens native search addon ${file} has ABI ${String(addon.abiVersion)}, this vislens expects ${ABI_VERSION}; ` +
        `rebuild it with \`${BUILD_COMMAND} --clean\`.`,
    );
  }
  cached = addon;
  return addon;
}

/** True when the addon file exists and loads (for tests and optional fast paths). */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}
