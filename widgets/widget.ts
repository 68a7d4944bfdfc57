import { inspect } from "node:util";
import { kernelDisplayWriter, publishDisplayData } from "./render/kernel";
import { svgToPNG, type PngOptions } from "./render/png";
import { saveFigure, type SaveOptions } from "./render/save";
import { renderSVG } from "./render/svg";
import { renderSVGSync } from "./render/svg-sync";
import { VEGALITE_MIME, type MimeBundle, type VegaLiteSpec } from "./spec";

/**
 * What every widget function returns: a Vega-Lite spec plus the ways to show it — inline in a
 * tslab notebook as one MIME bundle, or saved as a figure.
 */
export interface Widget {
  /** Vega-Lite v5 spec (vega-lite 5.6 features only). */
  readonly spec: VegaLiteSpec;
  /** Plain-text summary (the bundle's text/plain). */
  readonly summary: string;
  /** The display bundle: vega-lite spec, SVG rendered in Node, text summary (and HTML, for tables). */
  toMimeBundle(): Promise<MimeBundle>;
  /** The chart as SVG text, rendered in Node (vega-lite compile -> Vega View -> toSVG). Cached. */
  toSVG(): Promise<string>;
  /** The chart as PNG bytes (the SVG rasterised by resvg; `scale` pixels per unit, default 2). */
  toPNG(options?: PngOptions): Promise<Uint8Array>;
  /** Writes `.svg` or `.png` (by extension), atomically; any other extension is a RangeError. */
  save(path: string, options?: SaveOptions): Promise<void>;
  /**
   * Displays the chart inline in a tslab notebook: ONE display_data message with the whole bundle.
   * Outside a Jupyter kernel it prints the summary and says that nothing was displayed.
   */
  show(): Promise<void>;
}

export interface WidgetParts {
  spec: VegaLiteSpec;
  summary: string;
  /** Extra MIME types with a natural form (text/html for tables). */
  html?: string;
}

/** What a widget prints outside a kernel when asked to show itself. */
export const NOT_IN_KERNEL = "(not running in a tslab Jupyter kernel: nothing displayed; use save(\"fig.svg\") or toMimeBundle())";

class VegaWidget implements Widget {
  readonly spec: VegaLiteSpec;
  readonly summary: string;
  private readonly html?: string;
  private svg?: Promise<string>;
  private svgText?: string;

  constructor(parts: WidgetParts) {
    this.spec = parts.spec;
    this.summary = parts.summary;
    this.html = parts.html;
  }

  toSVG(): Promise<string> {
    this.svg ??= renderSVG(this.spec).then(({ svg }) => (this.svgText = svg));
    return this.svg;
  }

  async toPNG(options?: PngOptions): Promise<Uint8Array> {
    return svgToPNG(await this.toSVG(), options);
  }

  async toMimeBundle(): Promise<MimeBundle> {
    return this.bundle(await this.toSVG());
  }

  save(path: string, options?: SaveOptions): Promise<void> {
    return saveFigure(path, () => this.toSVG(), options);
  }

  async show(): Promise<void> {
    // The writer belongs to the cell running now: take it before awaiting anything.
    const writer = kernelDisplayWriter();
    if (!writer) {
      process.stdout.write(`${this.summary}\n${NOT_IN_KERNEL}\n`);
      return;
    }
    publishDisplayData({ ...(await this.toMimeBundle()) }, writer);
  }

  private bundle(svg: string): MimeBundle {
    const bundle: MimeBundle = { [VEGALITE_MIME]: this.spec, "image/svg+xml": svg, "text/plain": this.summary };
    if (this.html !== undefined) bundle["text/html"] = this.html;
    return bundle;
  }

  /**
   * tslab prints a cell's last value with `console.log`, i.e. `util.inspect`: it has no rich-repr
   * hook. In a kernel, a widget printed at top level therefore displays its whole bundle from here
   * (rendering the SVG synchronously in a worker) and prints nothing; elsewhere, or nested inside
   * another value, it prints its summary.
   */
  [inspect.custom](depth: number, options: { depth?: number | null }): string {
    const writer = kernelDisplayWriter();
    const topLevel = options.depth === undefined || options.depth === null || depth === options.depth;
    if (writer && topLevel) {
      try {
        const svg = this.svgText ?? (this.svgText = renderSVGSync(this.spec).svg);
        publishDisplayData({ ...this.bundle(svg) }, writer);
        return "";
      } catch (error) {
        return `${this.summary}\n(display failed: ${(error as Error).message})`;
      }
    }
    return `Widget: ${this.summary}`;
  }
}

export function createWidget(parts: WidgetParts): Widget {
  if (typeof parts.spec !== "object" || parts.spec === null || typeof parts.spec.$schema !== "string") {
    throw new TypeError("createWidget: spec must be a Vega-Lite spec object with a $schema");
  }
  return new VegaWidget(parts);
}
