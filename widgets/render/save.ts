import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "vislens";
import { svgToPNG, type PngOptions } from "./png";

/** The file types `save()` writes, by extension. */
export const SAVE_FORMATS = [".svg", ".png"] as const;

export type SaveOptions = PngOptions;

/**
 * Writes a figure: `.svg` as the SVG text, `.png` rasterised with resvg. The file appears whole or
 * not at all (temporary file in the same directory, flushed, renamed). Any other extension is a
 * RangeError that lists the supported ones.
 */
export async function saveFigure(file: string, svg: () => Promise<string>, options: SaveOptions = {}): Promise<void> {
  if (typeof file !== "string" || file.length === 0) throw new TypeError(`save: path must be a non-empty string, got ${JSON.stringify(file)}`);
  const ext = path.extname(file).toLowerCase();
  if (ext !== ".svg" && ext !== ".png") {
    throw new RangeError(`save: cannot write "${file}": the extension "${ext || "(none)"}" is not supported; use ${SAVE_FORMATS.join(" or ")}`);
  }
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new RangeError(`save: cannot write "${file}": the directory ${dir} does not exist`);
  const text = await svg();
  writeFileAtomic(file, ext === ".svg" ? text : svgToPNG(text, options));
}
