import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import type { ConceptComparisonRow, Usefulness } from "vislens";
import { readConceptImages, type ConceptImage } from "../../src/concepts/images";
import { interpretConceptImage, type LocalInterpretation } from "../../src/concepts/interpret";
import { learnConcepts, type ConceptDictionary } from "../../src/concepts/learn";
import { conceptSamples, type ConceptSample } from "../../src/concepts/samples";
import { conceptUsefulness } from "../../src/concepts/usefulness";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { sniffImage } from "../../widgets/data/image";
import { decodePNG } from "../../widgets/data/png-decode";
import { conceptGrid, conceptLocal, conceptScatter, type ConceptGridInput } from "../../widgets/concepts";
import { HIGHLIGHT, ROW_HIGHLIGHT } from "../../widgets/concepts/rows";
import { MAX_THUMBNAIL_BYTES, Thumbnails } from "../../widgets/concepts/thumbnails";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { tempDir } from "../helpers/python";
import { ARTIFACTS, assertWidget, notebookOutputBytes, svgTexts } from "./check";
import { table } from "./decode";
import { openSpecPage, type SpecPage } from "./spec-page";

// Real data: a semi-NMF dictionary of "circle" on the first 150 images of the shipped concept
// split (K = 6), a held-out image interpreted on it, and its test usefulness on 40 held-out images.
// Captions come from the shared generation cache (test/concepts fills it first in `npm test`).
const SPLIT = path.join(FIXTURE_BUNDLE, "concepts");
const TRAIN = 150;
const K = 6;

let bundle: Bundle;
let dict: ConceptDictionary;
let local: LocalInterpretation & { sample: ConceptSample };
let use: Usefulness;

type Spec = { datasets: Record<string, string | { key: number; url: string }[]>; usermeta: { vislens: Record<string, unknown> } };
const specOf = (w: { spec: object }) => w.spec as unknown as Spec;
const csv = (w: { spec: object }, name: string) => table(specOf(w).datasets[name] as string);
const images = (svg: string) => (svg.match(/<image\b/g) ?? []).length;
const markItems = (svg: string, group: string, tag = "path") => {
  const start = svg.indexOf(`${group}"`);
  assert.ok(start >= 0, `no ${group} in the SVG`);
  return (svg.slice(start, svg.indexOf("</g>", start)).match(new RegExp(`<${tag}\\b[^>]*>`, "g")) ?? []);
};

/** A synthetic dictionary over the split's files: concept k has words[k] and images k*n .. k*n+n-1. */
function synthetic(k: number, n: number, words: (i: number) => string[]): ConceptGridInput {
  const files = readConceptImages(SPLIT, { limit: k * n }).map((i) => i.file);
  return {
    token: "circle",
    method: "snmf",
    layer: "final-norm",
    concepts: Array.from({ length: k }, (_, i) => ({ index: i, words: words(i), images: files.slice(i * n, i * n + n).map((file, j) => ({ file, sample: i * n + j, activation: 10 - j })) })),
  };
}

before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
  const train: ConceptImage[] = readConceptImages(SPLIT, { limit: TRAIN });
  const held = readConceptImages(path.join(FIXTURE_BUNDLE, "eval"), { limit: 40 });
  dict = await learnConcepts(bundle, await conceptSamples(bundle, train, "circle"), { method: "snmf", k: K });
  const test = await conceptSamples(bundle, held, "circle");
  local = await interpretConceptImage(bundle, dict, test.samples[0].image);
  use = await conceptUsefulness(bundle, dict, test);
});
after(async () => {
  await bundle.close();
});

describe("thumbnails: PNG decoding and shrinking", () => {
  const file = path.join(SPLIT, "0000.png");

  it("decodePNG reads the split's PNGs pixel for pixel as sharp does, and the other PNG kinds too", async () => {
    const mine = decodePNG(fs.readFileSync(file));
    const theirs = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([mine.width, mine.height], [theirs.info.width, theirs.info.height]);
    assert.ok(Buffer.from(mine.data).equals(theirs.data), "RGB pixels differ from sharp's");
    // Palette (sub-8-bit and 8-bit), greyscale, RGBA and 16-bit files written by sharp (libpng).
    const rgba = await sharp(file).ensureAlpha(0.5).png().toBuffer();
    const grey = await sharp(file).toColourspace("b-w").png().toBuffer();
    const greyAlpha = await sharp(file).toColourspace("b-w").ensureAlpha(0.5).png().toBuffer();
    const grey3 = (g: Buffer) => Buffer.from([...g].flatMap((v) => [v, v, v]));
    // Colour types 3 (bit depths 2 and 8), 0, 4, 6, and 2 at 16 bits.
    const colourType = (png: Buffer) => `${png[25]}/${png[24]}`;
    const variants: [string, Buffer, Buffer][] = [
      ["palette 4 colours", await sharp(file).png({ palette: true, colours: 4 }).toBuffer(), await sharp(await sharp(file).png({ palette: true, colours: 4 }).toBuffer()).removeAlpha().raw().toBuffer()],
      ["palette 256", await sharp(file).png({ palette: true }).toBuffer(), await sharp(await sharp(file).png({ palette: true }).toBuffer()).removeAlpha().raw().toBuffer()],
      ["grey", grey, grey3(await sharp(grey).extractChannel(0).raw().toBuffer())],
      ["grey + alpha over white", greyAlpha, grey3(await sharp(greyAlpha).flatten({ background: "#ffffff" }).extractChannel(0).raw().toBuffer())],
      ["RGBA over white", rgba, await sharp(rgba).flatten({ background: "#ffffff" }).raw().toBuffer()],
      ["16-bit", await sharp(file).toColourspace("rgb16").png().toBuffer(), theirs.data],
    ];
    assert.deepEqual(variants.map(([, png]) => colourType(png)), ["3/2", "3/8", "0/8", "4/8", "6/8", "2/16"]);
    for (const [name, png, expected] of variants) {
      const got = decodePNG(png);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - expected[i]));
      assert.equal(got.data.length, expected.length, name);
      assert.ok(worst <= 1, `${name}: off by ${worst}`);
    }
    const interlaced = await sharp(file).png({ progressive: true }).toBuffer();
    assert.throws(() => decodePNG(interlaced), /interlaced PNGs are not supported/);
    assert.throws(() => decodePNG(Buffer.from("GIF89a....")), /not a PNG file/);
  });

  it("Thumbnails shrink each file once to the side asked for, and refuse too much", () => {
    const t = new Thumbnails("test", 24);
    const a = t.of(file, "a");
    assert.equal(t.of(file, "again").key, a.key);
    assert.equal(t.list.length, 1);
    const png = Buffer.from(a.url.slice("data:image/png;base64,".length), "base64");
    assert.deepEqual(sniffImage(png), { mime: "image/png", width: 24, height: 24 });
    assert.deepEqual([a.width, a.height], [24, 24]);
    // A 64x64 file shown at 64 px keeps its own (smaller) bytes.
    const whole = new Thumbnails("test", 64).of(file, "b");
    assert.equal(whole.url, `data:image/png;base64,${fs.readFileSync(file).toString("base64")}`);
    assert.throws(() => t.of(path.join(SPLIT, "missing.png"), "result.concepts[2].images[0].file"), /test: result\.concepts\[2\]\.images\[0\]\.file: cannot read ".*missing\.png"/);
    const notImage = path.join(tempDir(), "x.png");
    fs.writeFileSync(notImage, "hello");
    assert.throws(() => t.of(notImage, "f"), /is not a PNG, JPEG, GIF or WebP file/);
    const big = new Thumbnails("conceptGrid", 128);
    const files = readConceptImages(SPLIT, { limit: 200 }).map((i) => i.file);
    assert.throws(() => files.forEach((f, i) => big.of(f, `f${i}`)), /conceptGrid: the images would embed more than 0\.6 MB of thumbnails .* lower thumb \(now 128 px\)/);
    assert.ok(big.bytes <= MAX_THUMBNAIL_BYTES);
  });
});

describe("conceptGrid", () => {
  it("one row per concept: its label, its top-5 images and its words, as learned", async () => {
    const w = conceptGrid(dict);
    const svg = await assertWidget(w);
    assert.equal(images(svg), K * 5);
    const texts = svgTexts(svg);
    for (const c of dict.concepts) {
      assert.ok(texts.includes(`concept ${c.index}`));
      for (const word of c.words) assert.ok(texts.includes(word), `concept ${c.index}: no "${word}" in the SVG`);
    }
    // The datasets hold every word chip and every image with its activation, file and caption.
    const words = csv(w, "grid_words");
    assert.equal(words.length, dict.concepts.reduce((n, c) => n + c.words.length, 0));
    assert.deepEqual(words.filter((r) => r.concept === "2").map((r) => r.word), dict.concepts[2].words);
    const cells = csv(w, "grid_images");
    assert.equal(cells.length, K * 5);
    const first = dict.concepts[3].images[0];
    const cell = cells.find((r) => r.concept === "3" && r.rank === "1")!;
    assert.equal(cell.file, path.basename(first.file));
    assert.ok(Math.abs(Number(cell.activation) - first.activation) < 1e-4);
    assert.equal(cell.caption, dict.samples[first.sample].generated);
    // Each distinct image is embedded once, shrunk to 40 px.
    const thumbs = specOf(w).datasets.thumbs as { key: number; url: string }[];
    assert.equal(thumbs.length, new Set(dict.concepts.flatMap((c) => c.images.map((i) => i.file))).size);
    assert.deepEqual(sniffImage(Buffer.from(thumbs[0].url.split(",")[1], "base64")), { mime: "image/png", width: 40, height: 40 });
    // The images' accessible names say what they are, not their data URLs.
    assert.ok(svg.includes(`aria-label="concept 3, image 1: ${path.basename(first.file)}, activation ${first.activation.toFixed(3)}"`));
    assert.match(w.summary, new RegExp(`^Concept grid: "circle": ${K} concepts, semi-NMF, final-norm features, overlap ${dict.overlap.score.toFixed(3)}`));
    assert.ok(w.summary.includes(`  concept 0: ${dict.concepts[0].words.join(", ")}`));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await w.save(path.join(ARTIFACTS, "widgets-concept-grid.png"));
  });

  it("highlight lights up the word's chip in every concept that has it, in the SVG too", async () => {
    const word = dict.concepts[1].words.find((x) => x !== "circle")!;
    const having = dict.concepts.filter((c) => c.words.includes(word)).length;
    const w = conceptGrid(dict, { highlight: word });
    const svg = await assertWidget(w);
    const lit = markItems(svg, "layer_3_marks").filter((p) => p.includes(`fill="${HIGHLIGHT}"`));
    assert.equal(lit.length, having);
    assert.ok(w.summary.includes(`"${word}" is a word of ${having} concept(s)`));
    assert.equal(markItems(await conceptGrid(dict).toSVG(), "layer_3_marks").filter((p) => p.includes(HIGHLIGHT)).length, 0);
  });

  it("options: chosen concepts in order, fewer images and words, another thumbnail size", async () => {
    const w = conceptGrid(dict, { concepts: [4, 1], images: 2, words: 3, thumb: 24, title: "two concepts" });
    const svg = await assertWidget(w);
    assert.equal(images(svg), 4);
    assert.deepEqual([...new Set(csv(w, "grid_rows").map((r) => r.concept))], ["4", "1"]);
    assert.deepEqual(csv(w, "grid_words").filter((r) => r.concept === "1").map((r) => r.word), dict.concepts[1].words.slice(0, 3));
    const thumbs = specOf(w).datasets.thumbs as { url: string }[];
    assert.deepEqual(sniffImage(Buffer.from(thumbs[0].url.split(",")[1], "base64"))?.width, 24);
    assert.ok(svgTexts(svg).includes("two concepts"));
    const none = await assertWidget(conceptGrid(dict, { images: 0 }));
    assert.equal(images(none), 0);
  });

  it("a full 20 x 5 grid stays small in a notebook", async () => {
    const w = conceptGrid(synthetic(20, 5, (i) => ["circle", "square", "triangle", "cross", "red", "blue", "green", "small", "big", "picture"].slice(0, 4 + (i % 7))));
    const bundle = await w.toMimeBundle();
    const bytes = notebookOutputBytes(bundle as unknown as Record<string, unknown>);
    assert.ok(bytes < 1_100_000, `the 20-concept grid takes ${bytes} bytes in a notebook`);
    assert.equal(images(bundle["image/svg+xml"]), 100);
    console.log(`# conceptGrid 20 concepts x 5 images: ${(bytes / 1e6).toFixed(2)} MB in the .ipynb (spec ${(JSON.stringify(w.spec).length / 1e6).toFixed(2)} MB)`);
  });

  it("bad input gets errors that name it", () => {
    assert.throws(() => conceptGrid(undefined as never), /conceptGrid: result must be the result of learnConcepts\(\)/);
    assert.throws(() => conceptGrid({ token: "circle", concepts: [] }), /conceptGrid: result\.concepts is empty/);
    assert.throws(() => conceptGrid({ ...dict, concepts: [{ ...dict.concepts[0], words: "circle" as never }] }), /result\.concepts\[0\]\.words must be an array of strings, got "circle"/);
    assert.throws(() => conceptGrid({ ...dict, concepts: [dict.concepts[0], dict.concepts[0]] }), /result\.concepts\[1\] repeats concept index 0/);
    const gone = { ...dict, concepts: [{ ...dict.concepts[0], images: [{ file: "/nowhere/0001.png", sample: 0, activation: 1 }] }] };
    assert.throws(() => conceptGrid(gone), /conceptGrid: result\.concepts\[0\]\.images\[0\]\.file: cannot read "\/nowhere\/0001\.png"/);
    assert.throws(() => conceptGrid(dict, { concepts: [9] }), /concepts\[0\] is 9; the dictionary has concepts 0, 1, 2, 3, 4, 5/);
    assert.throws(() => conceptGrid(dict, { concepts: [1, 1] }), /concepts\[1\] repeats concept 1/);
    assert.throws(() => conceptGrid(dict, { thumb: 4 }), /thumb must be an integer 16\.\.128, got 4/);
    assert.throws(() => conceptGrid(dict, { images: 1.5 }), /images must be an integer 0\.\.20/);
  });
});

describe("conceptLocal", () => {
  it("the test image and caption, a bar per strongest concept (top ones coloured), the top concepts' words and images", async () => {
    const w = conceptLocal(local, { dictionary: dict });
    const svg = await assertWidget(w);
    assert.equal(images(svg), 1 + local.top.length * 5);
    const texts = svgTexts(svg);
    for (const t of local.top) {
      assert.ok(texts.includes(`#${t.concept} · ${t.activation.toFixed(3)}`));
      for (const word of t.words) assert.ok(texts.includes(word), `no "${word}" in the SVG`);
    }
    assert.ok(texts.some((t) => t.includes(local.sample.generated.split(" ")[1])), "the caption is drawn");
    const bars = csv(w, "bars");
    assert.equal(bars.length, K);
    assert.deepEqual(bars.map((b) => Number(b.concept)), [...Array(K).keys()].sort((a, b) => local.activations[b] - local.activations[a] || a - b));
    for (const b of bars) assert.ok(Math.abs(Number(b.activation) - local.activations[Number(b.concept)]) < 1e-4);
    assert.deepEqual(bars.filter((b) => b.kind === "top").map((b) => Number(b.concept)), local.top.map((t) => t.concept));
    assert.equal(markItems(svg, "concat_0_concat_1_marks").length, K);
    assert.equal(markItems(svg, "concat_0_concat_1_marks").filter((p) => p.includes('fill="#4c78a8"')).length, local.top.length);
    assert.match(w.summary, new RegExp(`Local interpretation of ${path.basename(local.sample.image.file)} \\("${local.sample.generated}"\\)`));
    await w.save(path.join(ARTIFACTS, "widgets-concept-local.png"));
  });

  it("works from interpretRepresentations' plain result with an image path; bad input is named", async () => {
    const plain = { activations: local.activations, top: local.top };
    const w = conceptLocal(plain, { image: local.sample.image.file, bars: 4, images: 2 });
    const svg = await assertWidget(w);
    assert.equal(images(svg), 1 + local.top.length * 2);
    assert.equal(csv(w, "bars").length, 4);
    assert.throws(() => conceptLocal(plain), /conceptLocal: no test image: pass interpretConceptImage\(\)'s result \(it carries \.sample\) or options\.image/);
    assert.throws(() => conceptLocal({ activations: local.activations, top: [{ ...local.top[0], concept: 99 }] }, { image: local.sample.image.file }), /interpretation\.top\[0\]\.concept must be a concept index 0\.\.5, got 99/);
    assert.throws(() => conceptLocal(local, { dictionary: { ...dict, concepts: dict.concepts.slice(0, 3) } }), /options\.dictionary has 3 concepts, the interpretation 6 activations/);
    assert.throws(() => conceptLocal(local, { bars: 7 }), /bars must be an integer 1\.\.6, got 7/);
    assert.throws(() => conceptLocal({ top: [] } as never), /expected the result of interpretConceptImage\(\)/);
  });
});

describe("conceptScatter", () => {
  it("usefulness: one point per concept that is some image's top-1 concept, at (random, grounded), with y = x", async () => {
    const w = conceptScatter(use, { dictionary: dict });
    const svg = await assertWidget(w);
    const used = use.perConcept.filter((p) => p.images > 0);
    const points = csv(w, "points");
    assert.equal(points.length, used.length);
    for (const p of used) {
      const row = points.find((r) => Number(r.concept) === p.concept)!;
      assert.ok(Math.abs(Number(row.score) - p.score) < 1e-4 && Math.abs(Number(row.random) - p.random) < 1e-4);
      assert.equal(Number(row.images), p.images);
      assert.equal(row.words, dict.concepts[p.concept].words.join(", "));
    }
    assert.equal(markItems(svg, "layer_2_marks").length, used.length); // the circles
    assert.equal(markItems(svg, "layer_0_marks").length, 1); // the diagonal
    assert.ok(svgTexts(svg).includes("y = x: no better than random"));
    const above = used.filter((p) => p.score > p.random).length;
    assert.ok(w.summary.startsWith(`Grounded vs random words on ${use.images} test images: ${above} of ${used.length} concepts score above their random baseline`));
    assert.ok(w.summary.includes(`Mean top-1 ${use.top1.toFixed(3)} vs random ${use.random.top1.toFixed(3)}`));
    await w.save(path.join(ARTIFACTS, "widgets-concept-scatter.png"));
  });

  it("comparison rows: one point per (token, method), top-1 or top-3, coloured by method", async () => {
    const methods = ["simple", "pca", "kmeans", "snmf"] as const;
    const rows: ConceptComparisonRow[] = ["circle", "red"].flatMap((token, t) =>
      methods.map((method, m) => ({ token, method, layer: "final-norm", k: 20, samples: 700, testSamples: 90, overlap: 0.7, emptyConcepts: 0, top1: 0.2 + 0.01 * m + t / 50, top3: 0.19 + 0.01 * m, randomTop1: 0.14, randomTop3: 0.15, seconds: 1 })),
    );
    const w = conceptScatter({ rows });
    const svg = await assertWidget(w);
    assert.equal(markItems(svg, "layer_2_marks").length, 8);
    const points = csv(w, "points");
    assert.deepEqual(points.map((p) => p.methodTitle).slice(0, 4), ["Simple", "PCA", "K-means", "semi-NMF"]);
    assert.equal(Number(points[3].score), 0.23);
    const texts = svgTexts(svg);
    for (const t of ["semi-NMF", "K-means", "circle", "red", "method", "token"]) assert.ok(texts.includes(t), `no "${t}" in the SVG`);
    assert.match(w.summary, /8 of 8 \(token, method\) rows above the y = x line/);
    const top3 = conceptScatter(rows, { metric: "top3" });
    assert.equal(Number(csv(top3, "points")[0].random), 0.15);
    assert.throws(() => conceptScatter(rows, { metric: "top5" as never }), /metric must be "top1" or "top3", got "top5"/);
    assert.throws(() => conceptScatter([]), /the comparison has no rows/);
    assert.throws(() => conceptScatter([{ ...rows[0], top1: 1.5 }]), /rows\[0\]\.top1 must be a share in 0\.\.1, got 1\.5/);
    assert.throws(() => conceptScatter({ ...use, perConcept: use.perConcept.map((p) => ({ ...p, images: 0 })) }), /no concept is the top-1 concept of any test image/);
    assert.throws(() => conceptScatter(42 as never), /expected conceptUsefulness\(\)'s result or conceptComparison\(\)'s rows/);
  });
});

describe("concept widgets in headless Chromium", { timeout: 120_000 }, () => {
  let grid: SpecPage | undefined;
  let panel: SpecPage | undefined;
  after(async () => {
    await grid?.close();
    await panel?.close();
  });

  it("the grid draws its images and words; clicking a word lights it up in every concept, a double click clears it", async () => {
    const w = conceptGrid(dict);
    grid = await openSpecPage(w.spec);
    const { page, requests, base } = grid;
    assert.equal(await page.locator("g.layer_2_marks > image").count(), K * 5);
    const shown = await page.locator("g.layer_4_marks > text").allTextContents();
    for (const c of dict.concepts) for (const word of c.words) assert.ok(shown.includes(word), `no "${word}" drawn`);
    // Chips are drawn in data order: the words dataset's rows.
    const words = csv(w, "grid_words");
    const j = words.findIndex((r) => r.word !== "circle" && words.filter((x) => x.word === r.word).length > 1);
    const word = words[j >= 0 ? j : 0].word;
    const chips = page.locator("g.layer_3_marks > path");
    const lit = () => chips.evaluateAll((els, colour) => els.filter((e) => e.getAttribute("fill") === colour).length, HIGHLIGHT);
    assert.equal(await lit(), 0);
    await chips.nth(j >= 0 ? j : 0).click();
    await page.waitForFunction(`document.querySelectorAll('g.layer_3_marks > path[fill="${HIGHLIGHT}"]').length > 0`);
    assert.equal(await lit(), words.filter((r) => r.word === word).length);
    await chips.nth(j >= 0 ? j : 0).dblclick();
    await page.waitForFunction(`document.querySelectorAll('g.layer_3_marks > path[fill="${HIGHLIGHT}"]').length === 0`);
    assert.ok(requests.every((u) => u.startsWith(base)), `requests: ${requests.join(", ")}`);
    await page.screenshot({ path: path.join(ARTIFACTS, "widgets-concept-grid-chromium.png"), fullPage: true });
  });

  it("the local panel: clicking a top concept's bar shades its row", async () => {
    panel = await openSpecPage(conceptLocal(local, { dictionary: dict }).spec);
    const { page } = panel;
    assert.equal(await page.locator("image").count(), 1 + local.top.length * 5);
    const bands = page.locator("g.concat_1_layer_0_marks > path");
    const shaded = () => bands.evaluateAll((els, colour) => els.map((e, i) => (e.getAttribute("fill") === colour ? i : -1)).filter((i) => i >= 0), ROW_HIGHLIGHT);
    assert.deepEqual(await shaded(), []);
    // Bars are in data order (strongest first); the second bar is the second top concept.
    await page.locator("g.concat_0_concat_1_marks > path").nth(1).click();
    await page.waitForFunction(`document.querySelectorAll('g.concat_1_layer_0_marks > path[fill="${ROW_HIGHLIGHT}"]').length > 0`);
    assert.deepEqual(await shaded(), [1]);
    await page.screenshot({ path: path.join(ARTIFACTS, "widgets-concept-local-chromium.png"), fullPage: true });
  });
});
