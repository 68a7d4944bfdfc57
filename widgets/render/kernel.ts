/**
 * The display bridge to a tslab Jupyter kernel: sends one `display_data` message that carries a
 * whole MIME bundle (vega-lite + SVG + text), which tslab's public `display.raw(mime, data)` cannot
 * (it sends one MIME type per message).
 *
 * How tslab works (tslab 1.0.22, dist/jupyter.js and dist/public.js): for every execute_request the
 * kernel stores the request's display writer in the module-level export
 * `lastWriteDisplayData(content, update)` of `tslab/dist/jupyter.js`; `content` is the message
 * content `{data, metadata, transient}` and is sent as-is on IOPub as `display_data` (or
 * `update_display_data`), with the executing cell's message as parent. `display.raw` is a thin
 * wrapper that builds `{data: {[mime]: value}}` and calls that writer. We call the writer with the
 * full bundle.
 *
 * Which copy of tslab runs the kernel is not ours to choose (a global tslab hands over to the
 * notebook directory's local one; the vislens kernel loads the checkout's), so the writer is found
 * in Node's module cache — the kernel process has necessarily loaded `tslab/dist/jupyter.js` —
 * rather than through a `require("tslab")` of our own, which could resolve to a second, idle copy.
 */

/** The message content of a Jupyter `display_data`. */
export interface DisplayContent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: Record<string, unknown>;
}

export type DisplayWriter = (content: DisplayContent, update: boolean) => void;

const TSLAB_JUPYTER = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;

/**
 * The display writer of the cell that is executing now, or undefined outside a tslab kernel (plain
 * Node, tsx, a test). Read it synchronously when the cell calls you: the next cell gets a new one.
 */
export function kernelDisplayWriter(): DisplayWriter | undefined {
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!TSLAB_JUPYTER.test(file)) continue;
    const write = (mod?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof write === "function") return write as DisplayWriter;
  }
  return undefined;
}

/**
 * Sends one `display_data` with every MIME type of `bundle` through `writer` (default: the running
 * cell's); false when there is none.
 */
export function publishDisplayData(bundle: Record<string, unknown>, writer?: DisplayWriter | null): boolean {
  if (writer === undefined) writer = kernelDisplayWriter();
  if (!writer) return false;
  writer({ data: bundle, metadata: {}, transient: {} }, false);
  return true;
}
