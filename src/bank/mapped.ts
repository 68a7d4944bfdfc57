/**
 * Memory-mapped `.npy` matrices, over the native addon's `mapFile` (native/src/mapped.cc). A mapped
 * array's bytes stay in the file: pages are read on first touch and belong to the page cache, so a
 * bank larger than RAM can be opened and searched, and opening a bank reads nothing but headers.
 *
 * Node 20 lets one ArrayBuffer over outside memory hold at most 4 GiB, and one typed array at most
 * 2^32 elements, so a matrix is mapped as *segments* of whole rows, each at most
 * `MAX_SEGMENT_BYTES`; a layer of a few GB is one segment, one of 10 GB five.
 *
 * The mapping is private and never written back: vislens never writes to a mapped array, and a
 * stray write from JS changes only this process's copy of that page. The file must not be
 * truncated or rewritten while it is mapped (touching a page past a truncated end kills the
 * process with SIGBUS, as with any memory map). Each segment is unmapped when the last typed array
 * over it is garbage-collected.
 */
import * as fs from "node:fs";
import * as util from "node:util";
import { ArtifactError } from "../errors";
import { NPY_DTYPES, parseNpyHeader, type NpyArray, type NpyData, type NpyDtype } from "../io/npy";
import { BUILD_COMMAND, loadNative, nativeAddonPath, type MapAdvice } from "./search/native";

export type { MapAdvice } from "./search/native";

/** Largest segment of a mapped matrix, in bytes (2 GiB; Node 20's ceiling for one mapping is 4 GiB). */
export const MAX_SEGMENT_BYTES = 2 ** 31;

/** Buffers created by mapFileRange (weakly held: this set never keeps a mapping alive). */
const mappedBuffers = new WeakSet<ArrayBufferLike>();

/** True when the typed array is a view of a memory-mapped file (not a copy in the JS heap). */
export function isMapped(array: ArrayBufferView): boolean {
  return mappedBuffers.has(array.buffer);
}

/** What an errno means for a bank file, after "cannot memory-map ...". */
function hint(code: string, reason: string): string {
  if (/past the end/.test(reason)) return "the file is shorter than its header says";
  if (code === "ENOENT") return "the file is missing";
  if (code === "EACCES" || code === "EPERM") return "no permission to read it";
  if (code === "ENOMEM") return "the process ran out of address space or the kernel refused the mapping";
  return "the file system does not support memory-mapped files; copy the bank to a local disk, or open it with {map: false} to read it into memory";
}

/**
 * Bytes [offset, offset + length) of a file as an ArrayBuffer over a memory map (length at most
 * 2^32). Throws ArtifactError naming the file, the failing call and its errno, e.g.
 * `cannot memory-map: mmap failed with ENODEV (No such device); the file system does not support ...`.
 */
export function mapFileRange(file: string, offset: number, length: number, advice: MapAdvice = "normal"): ArrayBuffer {
  const addon = loadNative();
  if (typeof addon.mapFile !== "function") {
    throw new Error(`vislens native addon ${nativeAddonPath()} predates memory-mapped banks (no mapFile); rebuild it with \`${BUILD_COMMAND}\``);
  }
  let buffer: ArrayBuffer;
  try {
    buffer = addon.mapFile(file, offset, length, advice);
  } catch (error) {
    const e = error as { errno?: unknown; syscall?: unknown; message?: string };
    if (typeof e.errno !== "number") throw error;
    const code = util.getSystemErrorName(-e.errno);
    const message = e.message ?? "";
    const reason = message.slice(message.indexOf(": ") + 2);
    throw new ArtifactError(file, `cannot memory-map: ${String(e.syscall)} failed with ${code} (${reason}); ${hint(code, reason)}`);
  }
  mappedBuffers.add(buffer);
  return buffer;
}

/** A run of whole rows of a mapped matrix: rows [row0, row0 + rows), `data` `[rows, ...shape[1:]]`. */
export interface NpySegment<T extends NpyData = NpyData> {
  row0: number;
  rows: number;
  data: T;
}

export interface MappedNpy {
  dtype: NpyDtype;
  shape: number[];
  segments: NpySegment[];
}

/** The header, read through a map of the file's first MiB (so a file that cannot be mapped says so first). */
function header(file: string, advice: MapAdvice | undefined) {
  let fileBytes: number;
  try {
    fileBytes = fs.statSync(file).size;
  } catch (error) {
    throw new ArtifactError(file, (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : `cannot read: ${(error as Error).message}`);
  }
  const head = Buffer.from(mapFileRange(file, 0, Math.min(fileBytes, 1 << 20), advice));
  const h = { ...parseNpyHeader(head, file), fileBytes };
  const ctor = NPY_DTYPES[h.dtype];
  const count = h.shape.reduce((a, b) => a * b, 1);
  const bytes = count * ctor.BYTES_PER_ELEMENT;
  if (h.fileBytes - h.offset !== bytes) {
    throw new ArtifactError(file, `data is ${h.fileBytes - h.offset} bytes, shape [${h.shape}] of ${h.dtype} needs ${bytes} (truncated or padded file)`);
  }
  if (h.offset % ctor.BYTES_PER_ELEMENT !== 0) {
    throw new ArtifactError(file, `the data starts at byte ${h.offset}, not a multiple of the ${ctor.BYTES_PER_ELEMENT}-byte element, so it cannot be mapped; rewrite it with numpy.save, or open the bank with {map: false}`);
  }
  return { ...h, ctor, count };
}

/**
 * A `.npy` file (C order, little endian) memory-mapped in segments of whole rows (along the first
 * axis), each at most `maxSegmentBytes`: every typed array is a view of the file, nothing is copied.
 * The data must start at a multiple of the element size (numpy and vislens pad headers to 64 bytes).
 */
export function mapNpySegments(file: string, options: { maxSegmentBytes?: number; advice?: MapAdvice } = {}): MappedNpy {
  const { dtype, shape, offset, ctor, count } = header(file, options.advice);
  const maxBytes = Math.min(options.maxSegmentBytes ?? MAX_SEGMENT_BYTES, 2 ** 32);
  const rows = shape.length === 0 ? 1 : shape[0];
  const perRow = rows === 0 ? 0 : count / rows;
  const rowBytes = perRow * ctor.BYTES_PER_ELEMENT;
  const rowsPerSegment = rowBytes === 0 ? Math.max(rows, 1) : Math.max(1, Math.floor(maxBytes / rowBytes));
  if (rowBytes > 2 ** 32) throw new ArtifactError(file, `one row is ${rowBytes} bytes, more than one mapping can hold (4 GiB)`);
  const segments: NpySegment[] = [];
  for (let row0 = 0; row0 < rows || segments.length === 0; row0 += rowsPerSegment) {
    const n = Math.min(rowsPerSegment, rows - row0);
    const buffer = mapFileRange(file, offset + row0 * rowBytes, n * rowBytes, options.advice);
    segments.push({ row0, rows: n, data: new ctor(buffer, 0, n * perRow) as NpyData });
  }
  return { dtype, shape, segments };
}

/** A `.npy` file memory-mapped as one typed array (at most 4 GiB of data; see mapNpySegments). */
export function mapNpy(file: string, advice: MapAdvice = "normal"): NpyArray {
  const { dtype, shape, offset, ctor, count } = header(file, advice);
  const bytes = count * ctor.BYTES_PER_ELEMENT;
  if (bytes > 2 ** 32) throw new ArtifactError(file, `the data is ${bytes} bytes, more than one mapping can hold (4 GiB); map it in segments`);
  return { dtype, shape, data: new ctor(mapFileRange(file, offset, bytes, advice), 0, count) as NpyData };
}
