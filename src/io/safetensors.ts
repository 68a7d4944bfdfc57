import * as fs from "node:fs";
import { ArtifactError } from "../errors";
import { bfloat16ArrayToFloat, halfArrayToFloat } from "./float16";

/**
 * A reader for the safetensors format: an 8-byte little-endian header length, a JSON header of
 * `name -> {dtype, shape, data_offsets}`, then the raw little-endian bytes. Every offset is checked
 * against the file so a truncated file is reported, not read past.
 */

export const SAFETENSORS_DTYPES = { F32: 4, F16: 2, BF16: 2 } as const;
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range of the data, relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  file: string;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Reads one tensor as float32 (F16 and BF16 are widened exactly). */
  readFloat32(name: string): Float32Array;
}

export function openSafetensors(file: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (error) {
    throw new ArtifactError(file, `cannot read: ${(error as Error).message}`);
  }
  if (buf.length < 8) throw new ArtifactError(file, `file is ${buf.length} bytes, too short for a safetensors header`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) {
    throw new ArtifactError(file, `header claims ${headerLen} bytes but the file has ${buf.length - 8} after the length field (truncated?)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.toString("utf8", 8, 8 + headerLen)) as Record<string, unknown>;
  } catch (error) {
    throw new ArtifactError(file, `header is not valid JSON: ${(error as Error).message}`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = raw as Record<string, string>;
      continue;
    }
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = entry.dtype;
    if (typeof dtype !== "string" || !(dtype in SAFETENSORS_DTYPES)) {
      throw new ArtifactError(file, `unsupported dtype ${JSON.stringify(dtype)}; expected F32, F16 or BF16`, `${name}.dtype`);
    }
    const shape = entry.shape as number[];
    const [begin, end] = entry.data_offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    const itemSize = SAFETENSORS_DTYPES[dtype as SafetensorsDtype];
    if (end - begin !== count * itemSize) {
      throw new ArtifactError(file, `data_offsets span ${end - begin} bytes, shape [${shape}] of ${dtype} needs ${count * itemSize}`, name);
    }
    if (end > dataLen) {
      throw new ArtifactError(file, `tensor data ends at byte ${end} of a ${dataLen}-byte data section (truncated file)`, name);
    }
    tensors.set(name, { dtype: dtype as SafetensorsDtype, shape, begin, end });
  }
  return {
    file,
    tensors,
    metadata,
    readFloat32(name: string): Float32Array {
      const info = tensors.get(name);
      if (!info) throw new ArtifactError(file, `no tensor named ${JSON.stringify(name)}; it has ${[...tensors.keys()].join(", ")}`);
      // Copy into a fresh buffer: the file buffer's offsets need not be aligned for typed arrays.
      const bytes = new Uint8Array(info.end - info.begin);
      bytes.set(buf.subarray(dataStart + info.begin, dataStart + info.end));
      if (info.dtype === "F32") return new Float32Array(bytes.buffer);
      const halves = new Uint16Array(bytes.buffer);
      return info.dtype === "F16" ? halfArrayToFloat(halves) : bfloat16ArrayToFloat(halves);
    },
  };
}
