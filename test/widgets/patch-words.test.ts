import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import type { LensName, PatchInterpretation } from "vislens";
import { sniffImage } from "../../widgets/data/image";
import { patchWords, WORD_MAX_CHARS, type PatchWordsExample } from "../../widgets/patch-words";
import { assertWidget, countMarks, svgTexts } from "./check";
import { synthetic } from "./synthetic";

const IMAGE = path.resolve(__dirname, "..", "..", "models", "shapes-llava", "eval", "0001.png");
type Box = [number, number, number, number];
type Spec = {
  datasets: { boxes: { example: number; x0: number; y0: number; x1: number; y1: number }[]; words: { example: number; lens: string; layer: number; text: string }[] };
  usermeta: { vislens: { lenses: string[]; layers: number[]; k: number } };
  vconcat: unknown[];
};
const specOf = (w: { spec: object }) => w.spec as unknown as Spec;

// A 4x4 grid over the 64x64 eval image: patch p covers 16x16 pixels.
const { records } = synthetic({ rows: 4, cols: 4, layers: [0, 2, 4], k: 4, words: 60, sentences: 30, entries: 80, width: 64, height: 64 });
const ofPatch = (p: number, from: readonly PatchInterpretation[] = records) => from.filter((r) => r.patch.index === p);
const boxOf = (p: number): Box => [(p % 4) * 16, Math.floor(p / 4) * 16, (p % 4) * 16 + 16, Math.floor(p / 4) * 16 + 16];
const example = (p: number, extra: Partial<PatchWordsExample> = {}): PatchWordsExample => ({ image: IMAGE, box: boxOf(p), records: ofPatch(p), ...extra });
const words = (lens: LensName, layer: number, patch: number, k: number) =>
  records.find((r) => r.lens === lens && r.layer === layer && r.patch.index === patch)!.neighbours.slice(0, k).map((n) => n.word);

/** The rect items of the SVG (vega draws a rect as a path "Mx,yhWvHh-WZ"). */
function rects(svg: string): Box[] {
  return [...svg.matchAll(/aria-roledescription="rect mark" d="M([-\d.]+),([-\d.]+)h([-\d.]+)v([-\d.]+)h/g)].map((m) => {
    const [x, y, w, h] = m.slice(1).map(Number);
    return [x, y, x + w, y + h];
  });
}

describe("patchWords (qualitative figure)", () => {
  it("the eval image is the 64x64 PNG these tests assume", () => {
    assert.deepEqual(sniffImage(fs.readFileSync(IMAGE)), { mime: "image/png", width: 64, height: 64 });
  });

  it("draws one row per example: the image, the outlined box, and each lens's top-k words per layer", async () => {
    const w = patchWords([example(5), example(10, { label: "0001.png (r 2, c 2) <centre> & more" }), example(15)]);
    const svg = await assertWidget(w);
    // One embedded image per example: the file itself, as is.
    assert.equal((svg.match(/<image /g) ?? []).length, 3);
    assert.ok(svg.includes(`xlink:href="data:image/png;base64,${fs.readFileSync(IMAGE).toString("base64")}"`));
    // Every (lens, layer) cell of every example, the top-3 words joined, as one text item.
    const texts = svgTexts(svg);
    for (const p of [5, 10, 15]) {
      for (const lens of ["latent", "embedding", "logit"] as const) {
        for (const layer of [0, 2, 4]) {
          const cell = words(lens, layer, p, 3).join(", ");
          assert.ok(texts.includes(cell), `patch ${p} ${lens} layer ${layer}: no "${cell}" in the SVG`);
        }
      }
    }
    // The words of one cell are not those of its neighbours (the cells are not all alike).
    assert.notEqual(words("logit", 2, 10, 3).join(", "), words("latent", 2, 10, 3).join(", "));
    // 3 lenses x 3 layers word cells in each example's table, and no more.
    for (const e of [0, 1, 2]) assert.equal(countMarks(svg, `concat_${e}_layer_5_marks`), 9);
    assert.equal(specOf(w).vconcat.length, 3);
    assert.equal(specOf(w).datasets.words.length, 27);
    for (const t of ["LatentLens", "EmbeddingLens", "LogitLens", "layer 0", "layer 2", "layer 4"]) assert.equal(texts.filter((x) => x === t).length, 3, t);
    assert.ok(texts.includes("0001.png · patch 5 (row 1, col 1)"), "default label");
    assert.ok(texts.includes("0001.png (r 2, c 2) <centre> & more"), "given label");
  });

  it("outlines the box scaled to the displayed image (64 px shown at 120 px, below the 20 px label)", async () => {
    const w = patchWords([example(5), example(10, { box: [16, 16, 64, 40] })]);
    // 120 / 64 = 1.875: [16, 16, 32, 32] -> [30, 30, 60, 60], shifted down by the label (20 px).
    assert.deepEqual(specOf(w).datasets.boxes, [
      { example: 0, x0: 30, y0: 50, x1: 60, y1: 80 },
      { example: 1, x0: 30, y0: 50, x1: 120, y1: 95 },
    ]);
    const svg = await w.toSVG();
    assert.deepEqual(rects(svg), [
      [30, 50, 60, 80],
      [30, 50, 120, 95],
    ]);
    assert.match(svg, /<image [^>]*transform="translate\(0,20\)" width="120" height="120"/);
    // Another display size scales the outline with it.
    const small = patchWords([example(5)], { size: 64 });
    assert.deepEqual(rects(await small.toSVG()), [[16, 36, 32, 52]]);
  });

  it("a decoded RgbImage is shrunk to the display size; a wide image keeps its aspect", async () => {
    const rgb = { width: 240, height: 120, data: new Uint8Array(240 * 120 * 3).fill(180) };
    const w = patchWords([{ image: rgb, box: [60, 30, 120, 90], records: ofPatch(0), label: "wide" }], { layers: [2] });
    const svg = await assertWidget(w);
    const url = /xlink:href="data:image\/png;base64,([^"]+)"/.exec(svg)![1];
    assert.deepEqual(sniffImage(Buffer.from(url, "base64")), { mime: "image/png", width: 120, height: 60 });
    assert.match(svg, /<image [^>]*width="120" height="60"/);
    // x 0.5, y 0.5: [60, 30, 120, 90] -> [30, 15, 60, 45], +20 for the label.
    assert.deepEqual(rects(svg), [[30, 35, 60, 65]]);
  });

  it("lenses, layers and k choose the table; contextLayers tags LatentLens words with their layer", async () => {
    const w = patchWords([example(3), example(6)], { lenses: ["logit", "latent"], layers: [4, 0], k: 2, title: "LatentLens vs LogitLens" });
    const svg = await assertWidget(w);
    const texts = svgTexts(svg);
    assert.ok(texts.includes("LatentLens vs LogitLens"));
    assert.ok(!texts.includes("EmbeddingLens"));
    assert.ok(!texts.includes("layer 2"));
    assert.ok(texts.includes(words("logit", 4, 6, 2).join(", ")));
    assert.ok(!texts.includes(words("logit", 4, 6, 3).join(", ")), "k = 2 shows two words");
    assert.equal(countMarks(svg, "concat_1_layer_5_marks"), 4);
    // Columns in the order given: LogitLens left of LatentLens; rows in the order given.
    const x = (t: string) => Number(new RegExp(`translate\\(([\\d.]+),[\\d.]+\\)"[^>]*>${t}<`).exec(svg)![1]);
    assert.ok(x("LogitLens") < x("LatentLens"));
    assert.deepEqual(specOf(w).usermeta.vislens, { widget: "patchWords", lenses: ["logit", "latent"], layers: [4, 0], k: 2 } as never);
    assert.deepEqual(
      specOf(w).datasets.words.filter((r) => r.example === 0).map((r) => `${r.lens}@${r.layer}`),
      ["logit@4", "latent@4", "logit@0", "latent@0"],
    );

    const tagged = patchWords([example(3)], { lenses: ["latent", "embedding"], layers: [2], contextLayers: true });
    const latent = records.find((r) => r.lens === "latent" && r.layer === 2 && r.patch.index === 3)!.neighbours.slice(0, 3);
    const cell = latent.map((n) => `${n.word}@L${n.layer}`).join(", ");
    const tTexts = svgTexts(await assertWidget(tagged));
    assert.ok(tTexts.includes(cell), `no "${cell}"`);
    assert.ok(tTexts.includes(words("embedding", 2, 3, 3).join(", ")), "EmbeddingLens words carry no tag");
    assert.ok(tagged.summary.includes(cell.split(", ")[0]));
  });

  it("by default shows five layers spread over many; only the lenses present", () => {
    const many = synthetic({ rows: 2, cols: 2, layers: [0, 1, 2, 3, 4, 5, 6, 7, 8], lenses: ["latent", "logit"], k: 3, words: 30, sentences: 10, entries: 20, width: 64, height: 64 });
    const w = patchWords([{ image: IMAGE, box: [0, 0, 32, 32], records: ofPatch(0, many.records) }]);
    assert.deepEqual(specOf(w).usermeta.vislens.layers, [0, 2, 4, 6, 8]);
    assert.deepEqual(specOf(w).usermeta.vislens.lenses, ["latent", "logit"]);
    assert.equal(specOf(w).usermeta.vislens.k, 3);
  });

  it("the summary lists each example's words per lens and layer, in rank order", () => {
    const w = patchWords([example(5), example(10, { label: "second" })], { k: 3 });
    const lines = w.summary.split("\n");
    assert.match(lines[0], /^Patch words: 2 example\(s\); lenses LatentLens, EmbeddingLens, LogitLens; layers 0, 2, 4; top-3\.$/);
    assert.equal(lines[1], "[1] 0001.png · patch 5 (row 1, col 1), box [16, 16, 32, 32]");
    const second = lines.indexOf("[2] second, box [32, 32, 48, 48]");
    assert.ok(second > 1, "second example's heading");
    assert.equal(lines.length, 1 + 2 * (1 + 9));
    for (const [e, p] of [[0, 5], [1, 10]] as const) {
      const block = lines.slice(e === 0 ? 2 : second + 1, e === 0 ? second : undefined);
      for (const lens of ["latent", "embedding", "logit"] as const) {
        const title = { latent: "LatentLens", embedding: "EmbeddingLens", logit: "LogitLens" }[lens];
        for (const layer of [0, 2, 4]) {
          const r = records.find((x) => x.lens === lens && x.layer === layer && x.patch.index === p)!;
          const expected = r.neighbours
            .slice(0, 3)
            .map((n) => `${n.word} (${(n.similarity ?? n.probability)!.toFixed(3)})`)
            .join(", ");
          assert.ok(block.includes(`  ${title}, layer ${layer}: ${expected}`), `example ${e + 1}: ${title}, layer ${layer}: ${expected}\n${block.join("\n")}`);
        }
      }
    }
  });

  it("cuts long words in the chart (the summary keeps them), makes control characters visible", async () => {
    const long = "x".repeat(WORD_MAX_CHARS + 10);
    const patched = ofPatch(1).map((r) => (r.lens === "logit" && r.layer === 0 ? { ...r, neighbours: [{ ...r.neighbours[0], word: long }, { ...r.neighbours[1], word: "a\u0007b" }] } : r));
    const w = patchWords([{ image: IMAGE, box: boxOf(1), records: patched }], { layers: [0] });
    const texts = svgTexts(await assertWidget(w));
    assert.ok(texts.includes(`${"x".repeat(WORD_MAX_CHARS - 1)}…, a\u2407b`), texts.join(" | "));
    assert.ok(w.summary.includes(long));
  });

  it("refuses bad input, naming the example and the field", () => {
    const three = [example(0), example(1), example(2)];
    const noLogit4 = ofPatch(2).filter((r) => !(r.lens === "logit" && r.layer === 4));
    assert.throws(() => patchWords([example(0), example(1), { ...example(2), records: noLogit4 }]), /^RangeError: patchWords: examples\[2\]\.records has no LogitLens record at layer 4 \(/);
    assert.throws(() => patchWords([example(0), { ...example(1), records: ofPatch(1).filter((r) => r.lens !== "embedding") }], { layers: [0] }), /examples\[1\]\.records has no EmbeddingLens record at layer 0/);
    assert.throws(() => patchWords(three, { layers: [0, 3] }), /examples\[0\]\.records has no LatentLens record at layer 3/);
    assert.throws(() => patchWords([example(0), { ...example(1), records: [...ofPatch(1), ...ofPatch(7)] }]), /examples\[1\]\.records cover 2 patches \(1, 7\); pass one patch's records/);
    assert.throws(() => patchWords([example(0), { ...example(1), records: [] }]), /patchWords: examples\[1\]: records is empty/);
    assert.throws(() => patchWords([{ ...example(0), records: [ofPatch(0)[0], ofPatch(0)[0]] }]), /patchWords: examples\[0\]: records\[1\] repeats lens latent, layer 0, patch 0/);
    assert.throws(() => patchWords([example(0), { ...example(1), box: [0, 0, 70, 16] }]), /patchWords: examples\[1\]\.box \[0, 0, 70, 16\] reaches outside the 64x64 image/);
    assert.throws(() => patchWords([{ ...example(0), box: [10, 0, 10, 16] }]), /examples\[0\]\.box \[10, 0, 10, 16\] is empty/);
    assert.throws(() => patchWords([{ ...example(0), box: [0, 0, 16] as unknown as Box }]), /examples\[0\]\.box must be \[x0, y0, x1, y1\]/);
    assert.throws(() => patchWords([example(0), { ...example(1), image: "/nonexistent/x.png" }]), /patchWords: examples\[1\]\.image: cannot read "\/nonexistent\/x\.png"/);
    assert.throws(() => patchWords([{ ...example(0), image: Buffer.from("not an image") }]), /patchWords: examples\[0\]\.image: <bytes> is not a PNG, JPEG, GIF or WebP file/);
    assert.throws(() => patchWords([{ ...example(0), image: { width: 4, height: 4, data: new Uint8Array(5) } }]), /examples\[0\]\.image: an RgbImage of 4x4 needs 48 bytes, got 5/);
    assert.throws(() => patchWords([]), /patchWords: examples is empty/);
    assert.throws(() => patchWords(three, { lenses: ["latent", "tuned" as LensName] }), /patchWords: lenses\[1\] is "tuned", expected one of latent, embedding, logit/);
    assert.throws(() => patchWords(three, { layers: [0, 0] }), /patchWords: layers\[1\] repeats layer 0/);
    assert.throws(() => patchWords(three, { k: 0 }), /patchWords: k must be an integer 1\.\.20, got 0/);
    assert.throws(() => patchWords(three, { size: 5 }), /patchWords: size must be 16\.\.1024 pixels, got 5/);
  });
});
