import * as fs from "node:fs";
import { ArtifactError } from "../errors";
import { writeFileAtomic } from "./atomic";

/**
 * NumPy `.npy` files (format 1.0-3.0), the interchange format that both numpy and vislens read
 * without any extra library. Only C-order, little-endian numeric arrays are supported.
 */

/** The dtypes vislens stores, as numpy spells them. `<f2` is kept as raw IEEE half bits. */
export const NPY_DTYPES = {
  "<f4": Float32Array,
  "<f8": Float64Array,
  "<f2": Uint16Array,
  "<i8": BigInt64Array,
  "<i4": Int32Array,
  "|i1": Int8Array,
  "|u1": Uint8Array,
} as const;
export type NpyDtype = keyof typeof NPY_DTYPES;
export type NpyData = InstanceType<(typeof NPY_DTYPES)[NpyDtype]>;

export function isNpyDtype(value: string): value is NpyDtype {
  return Object.prototype.hasOwnProperty.call(NPY_DTYPES, value);
}

export interface NpyArray<T extends NpyData = NpyData> {
  dtype: NpyDtype;
  shape: number[];
  data: T;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"

/** Parses the header of an .npy buffer; returns dtype, shape and where the data starts. */
export function parseNpyHeader(buf: Buffer, file: string): { dtype: NpyDtype; shape: number[]; offset: number } {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new ArtifactError(file, "not a NumPy .npy file (bad magic bytes)");
  }
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > buf.length) throw new ArtifactError(file, "truncated .npy header");
  const header = buf.toString("latin1", start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new ArtifactError(file, `unreadable .npy header ${JSON.stringify(header.trim())}`);
  }
  if (!isNpyDtype(descr)) {
    throw new ArtifactError(file, `unsupported dtype ${descr}; expected one of ${Object.keys(NPY_DTYPES).join(", ")}`, "descr");
  }
  if (fortran === "True") throw new ArtifactError(file, "Fortran-order arrays are not supported", "fortran_order");
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  return { dtype: descr, shape, offset: start + headerLen };
}

/** Reads a whole .npy file; the returned typed array owns a copy aligned for its element size. */
export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (error) {
    throw new ArtifactError(file, `cannot read: ${(error as Error).message}`);
  }
  const { dtype, shape, offset } = parseNpyHeader(buf, file);
  const ctor = NPY_DTYPES[dtype];
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = count * ctor.BYTES_PER_ELEMENT;
  if (buf.length - offset !== bytes) {
    throw new ArtifactError(file, `data is ${buf.length - offset} bytes, shape [${shape}] of ${dtype} needs ${bytes} (truncated or padded file)`);
  }
  const copy = new ArrayBuffer(bytes);
  new Uint8Array(copy).set(buf.subarray(offset));
  return { dtype, shape, data: new ctor(copy) as NpyData };
}

/** Encodes the .npy 1.0 header for a C-order little-endian array; total header is 64-byte aligned. */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  dict += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const head = Buffer.alloc(10);
  MAGIC.copy(head);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, "latin1")]);
}

/** Writes an array as .npy atomically. */
export function writeNpy(file: string, array: NpyArray): void {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new RangeError(`writeNpy: shape [${array.shape}] holds ${count} elements, data has ${array.data.length}`);
  }
  const body = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  writeFileAtomic(file, Buffer.concat([npyHeader(array.dtype, array.shape), body]));
}
