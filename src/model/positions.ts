import type { BundleManifest } from "./manifest";

/**
 * Position ids for one sequence. Default RoPE counts positions 0..S-1. Qwen2-VL's M-RoPE gives
 * every position three ids (temporal, height, width): text position i -> (i, i, i); the visual
 * tokens of an image that starts at position s -> (s, s + row, s + col) over the merged grid; text
 * after the image resumes at s + max(rows, cols). Returned as `[3][S]` for mrope, `[1][S]` else.
 */
export function positionIds(manifest: BundleManifest, length: number, visualPositions: readonly number[]): number[][] {
  if (manifest.llm.rope.type === "default") return [Array.from({ length }, (_, i) => i)];
  const [rows, cols] = manifest.vision.grid;
  const t: number[] = [];
  const h: number[] = [];
  const w: number[] = [];
  let next = 0; // the id the next text token gets
  let start = 0; // the id of the image's first visual token
  let visualIndex = 0;
  for (let i = 0; i < length; i++) {
    if (visualIndex < visualPositions.length && i === visualPositions[visualIndex]) {
      if (visualIndex === 0) start = next;
      const s = start;
      const row = Math.floor(visualIndex / cols);
      const col = visualIndex % cols;
      t.push(s);
      h.push(s + row);
      w.push(s + col);
      visualIndex++;
      if (visualIndex === visualPositions.length) next = s + Math.max(rows, cols);
    } else {
      t.push(next);
      h.push(next);
      w.push(next);
      next++;
    }
  }
  return [t, h, w];
}
