import * as fs from "node:fs";
import { shrinkRgb, sniffImage } from "../data/image";
import { encodePNG } from "../data/png";
import { decodePNG } from "../data/png-decode";

/**
 * The concept widgets' images as small `data:` URLs, each distinct file embedded once per spec (a
 * `thumbs` dataset the image marks join by key). A PNG is decoded, shrunk to the thumbnail side by
 * area averaging and re-encoded (the original is kept when it is already small and smaller); a
 * JPEG, GIF or WebP is embedded as it is, up to `MAX_THUMB_FILE_BYTES`. An image appears twice in
 * a notebook (spec and SVG), so the total is capped by `MAX_THUMBNAIL_BYTES`.
 */
export interface Thumbnail {
  /** Key in the `thumbs` dataset. */
  key: number;
  url: string;
  /** Displayed size: the picture fitted into a side x side box, aspect kept. */
  width: number;
  height: number;
}

/** A JPEG/GIF/WebP (or an interlaced PNG) bigger than this is refused as a thumbnail. */
export const MAX_THUMB_FILE_BYTES = 100_000;
/** Characters of data URLs one concept widget may embed (about 1.2 MB in the notebook: spec + SVG). */
export const MAX_THUMBNAIL_BYTES = 600_000;

/** One image file as a data URL at most `side` pixels on its longer side (PNG), and its displayed size; `field` prefixes errors. */
export function thumbnail(file: string, side: number, field: string): Omit<Thumbnail, "key"> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new RangeError(`${field}: cannot read "${file}": ${(error as Error).message}`);
  }
  const kind = sniffImage(bytes);
  if (!kind) throw new RangeError(`${field}: "${file}" is not a PNG, JPEG, GIF or WebP file`);
  const fit = (w: number, h: number) => {
    const s = side / Math.max(w, h);
    return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
  };
  if (kind.mime === "image/png") {
    let rgb;
    try {
      rgb = decodePNG(bytes);
    } catch {
      rgb = undefined; // interlaced or unusual: embedded as it is below
    }
    if (rgb) {
      const small = shrinkRgb(rgb, side);
      const png = encodePNG(small.width, small.height, small.data);
      const data = small === rgb && bytes.length <= png.length ? bytes : png;
      return { url: `data:image/png;base64,${data.toString("base64")}`, ...fit(rgb.width, rgb.height) };
    }
  }
  if (bytes.length > MAX_THUMB_FILE_BYTES) {
    throw new RangeError(`${field}: "${file}" is ${bytes.length} bytes; a thumbnail that cannot be shrunk here (${kind.mime === "image/png" ? "interlaced PNG" : kind.mime}) may have at most ${MAX_THUMB_FILE_BYTES}; convert it to a PNG`);
  }
  const size = kind.width && kind.height ? fit(kind.width, kind.height) : { width: side, height: side };
  return { url: `data:${kind.mime};base64,${bytes.toString("base64")}`, ...size };
}

export class Thumbnails {
  private readonly byFile = new Map<string, Thumbnail>();
  readonly list: Thumbnail[] = [];
  private chars = 0;

  /** `where` names the widget in errors; `side` is the thumbnail's longer side in pixels. */
  constructor(
    private readonly where: string,
    readonly side: number,
  ) {}

  /** The thumbnail of `file`, made once; `field` names the input in errors (`concepts[2].images[0].file`). */
  of(file: string, field: string): Thumbnail {
    let t = this.byFile.get(file);
    if (!t) {
      t = { key: this.list.length, ...thumbnail(file, this.side, `${this.where}: ${field}`) };
      if (this.chars + t.url.length > MAX_THUMBNAIL_BYTES) {
        throw new RangeError(
          `${this.where}: the images would embed more than ${(MAX_THUMBNAIL_BYTES / 1e6).toFixed(1)} MB of thumbnails (stored twice in a notebook: spec and SVG); ` +
            `show fewer concepts or images, or lower thumb (now ${this.side} px)`,
        );
      }
      this.chars += t.url.length;
      this.byFile.set(file, t);
      this.list.push(t);
    }
    return t;
  }

  /** Characters of data URLs embedded so far. */
  get bytes(): number {
    return this.chars;
  }

  /** The `thumbs` dataset: one row per distinct image. */
  dataset(): { key: number; url: string }[] {
    return this.list.map((t) => ({ key: t.key, url: t.url }));
  }
}
