import * as fs from "node:fs";
import * as path from "node:path";
import { REPO } from "./python";

/** The trained fixture model shipped in the repository, and the exporter's reference outputs for it. */
export const FIXTURE_BUNDLE = path.join(REPO, "models", "shapes-llava");
export const FIXTURE_REFERENCE = path.join(REPO, "test", "fixtures", "shapes-llava-reference");

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Copies a bundle's files (not its training side-cars) so a test can damage the copy. */
export function copyBundle(dest: string, src = FIXTURE_BUNDLE): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(src, "manifest.json"), "utf8")) as { files: Record<string, unknown> };
  fs.mkdirSync(dest, { recursive: true });
  for (const name of ["manifest.json", ...Object.keys(manifest.files)]) fs.copyFileSync(path.join(src, name), path.join(dest, name));
  return dest;
}
