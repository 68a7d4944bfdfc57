#!/usr/bin/env node
// Builds the open-vocabulary world's object catalogue and sprites from pinned npm packages.
//
//   node scripts/world-assets.mjs            (or: npm run world:assets)
//   node scripts/world-assets.mjs --check    (rebuild in memory; exit 1 naming each file that differs)
//
// Reads the hand-curated tables in exporter/vislens_world/assets/ (classes.tsv, categories.tsv,
// places.tsv), looks each class's emoji up by its CLDR label in emojibase-data, rasterises its
// Twemoji SVG (@discordapp/twemoji) with resvg to a SIZE x SIZE RGBA PNG in assets/sprites/, and
// writes assets/objects.json: per class its name, category, emoji, keywords (the emoji's CLDR tags
// that are plain English words), colour, traits, place, sprite file and licence record.
// Every output is written to a temporary file and renamed into place; the same package versions give
// the same bytes. Bad input stops the script with one line naming the file, line, field and value.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { Resvg } = require("@resvg/resvg-js");

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ASSETS = path.join(ROOT, "exporter", "vislens_world", "assets");
const SPRITES = path.join(ASSETS, "sprites");
const SIZE = 64;

// CLDR tags that are English words but say nothing about the object (or are odd as keywords).
const TAG_STOP = new Set([
  "face", "woman", "man", "person", "other", "object", "thing", "symbol", "sign", "mark", "place",
  "japanese", "chinese", "american", "european", "french", "italian", "mexican", "british",
  "comic", "date", "hot", "emotion", "emoticon", "stuff", "wrapped", "yes", "one", "two", "not",
  // zodiac signs (crab -> cancer, ...)
  "zodiac", "aries", "taurus", "gemini", "cancer", "leo", "virgo", "libra", "scorpio", "scorpius",
  "sagittarius", "capricorn", "aquarius", "pisces",
]);

class InputError extends Error {}

function fail(msg) {
  throw new InputError(msg);
}

function pkg(name) {
  const file = require.resolve(`${name}/package.json`);
  return { dir: path.dirname(file), version: JSON.parse(fs.readFileSync(file, "utf8")).version };
}

/** Rows of a tab-separated table with a header line; '#' lines are comments. */
function readTable(file, columns) {
  const rel = path.relative(ROOT, file);
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const rows = [];
  let header = null;
  lines.forEach((line, i) => {
    if (line.startsWith("#") || line.trim() === "") return;
    const f = line.split("\t");
    if (!header) {
      header = f;
      if (columns.some((c, j) => header[j] !== c)) {
        fail(`${rel}:${i + 1}: header must be ${columns.join(", ")}, got ${header.join(", ")}`);
      }
      return;
    }
    if (f.length !== columns.length) {
      fail(`${rel}:${i + 1}: expected ${columns.length} tab-separated fields, got ${f.length}: ${JSON.stringify(line)}`);
    }
    const row = Object.fromEntries(columns.map((c, j) => [c, f[j].trim()]));
    columns.forEach((c) => {
      if (row[c] === "") fail(`${rel}:${i + 1}: field "${c}" is empty`);
    });
    rows.push({ ...row, line: i + 1 });
  });
  if (!header) fail(`${rel}: no header line`);
  return { rel, rows };
}

const CHECK = process.argv.includes("--check");
const differ = [];

function writeAtomic(file, data) {
  if (CHECK) {
    const same = fs.existsSync(file) && Buffer.compare(fs.readFileSync(file), Buffer.from(data)) === 0;
    if (!same) differ.push(path.relative(ROOT, file));
    return;
  }
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Twemoji names its files by code points in lower-case hex, joined by '-'; most drop U+FE0F. */
function twemojiFile(svgDir, hexcode) {
  const full = hexcode.toLowerCase();
  const bare = full.split("-").filter((c) => c !== "fe0f").join("-");
  for (const name of [full, bare]) {
    const f = path.join(svgDir, `${name}.svg`);
    if (fs.existsSync(f)) return f;
  }
  return null;
}

/** The SVG with its viewBox widened to a centred square, so every sprite is SIZE x SIZE. */
function squareSvg(svg, where) {
  const m = svg.match(/<svg\b[^>]*\bviewBox="([-\d.\s]+)"/);
  if (!m) fail(`${where}: the SVG has no viewBox`);
  const [x, y, w, h] = m[1].trim().split(/\s+/).map(Number);
  if (w === h) return svg;
  const side = Math.max(w, h);
  const box = `${x - (side - w) / 2} ${y - (side - h) / 2} ${side} ${side}`;
  return svg.replace(m[0], m[0].replace(m[1], box));
}

function slug(name) {
  return name.replace(/ /g, "-");
}

function main() {
  const twemoji = pkg("@discordapp/twemoji");
  const emojibase = pkg("emojibase-data");
  const english = pkg("an-array-of-english-words");
  const words = new Set(JSON.parse(fs.readFileSync(path.join(english.dir, "index.json"), "utf8")));
  const svgDir = path.join(twemoji.dir, "dist", "svg");
  const data = JSON.parse(fs.readFileSync(path.join(emojibase.dir, "en", "data.json"), "utf8"));
  const byLabel = new Map(data.map((e) => [e.label, e]));

  const cats = readTable(path.join(ASSETS, "categories.tsv"), ["name", "plural", "noun", "parent", "use"]);
  const places = readTable(path.join(ASSETS, "places.tsv"), ["place", "phrase"]);
  const classes = readTable(path.join(ASSETS, "classes.tsv"), ["name", "category", "emoji", "colour", "traits", "place"]);
  const catNames = new Set(cats.rows.map((c) => c.name));
  const placeNames = new Set(places.rows.map((p) => p.place));
  for (const c of cats.rows) {
    if (c.parent !== "-" && !catNames.has(c.parent)) fail(`${cats.rel}:${c.line}: field "parent": unknown category ${JSON.stringify(c.parent)}`);
  }

  fs.mkdirSync(SPRITES, { recursive: true });
  const seen = new Map();
  const out = [];
  for (const row of classes.rows) {
    const where = `${classes.rel}:${row.line}`;
    if (!/^[a-z]+( [a-z]+)*$/.test(row.name)) fail(`${where}: field "name": expected lower-case words, got ${JSON.stringify(row.name)}`);
    if (seen.has(row.name)) fail(`${where}: field "name": ${JSON.stringify(row.name)} repeats line ${seen.get(row.name)}`);
    seen.set(row.name, row.line);
    if (catNames.has(row.name)) fail(`${where}: field "name": ${JSON.stringify(row.name)} is also a category name`);
    if (!catNames.has(row.category)) fail(`${where}: field "category": unknown category ${JSON.stringify(row.category)} (see ${cats.rel})`);
    if (!placeNames.has(row.place)) fail(`${where}: field "place": unknown place ${JSON.stringify(row.place)} (see ${places.rel})`);
    const e = byLabel.get(row.emoji);
    if (!e) fail(`${where}: field "emoji": no emoji labelled ${JSON.stringify(row.emoji)} in emojibase-data ${emojibase.version}`);
    const svg = twemojiFile(svgDir, e.hexcode);
    if (!svg) fail(`${where}: field "emoji": ${JSON.stringify(row.emoji)} (${e.hexcode}) has no SVG in @discordapp/twemoji ${twemoji.version}`);
    const nameWords = new Set(row.name.split(" "));
    const keywords = [...new Set(e.tags ?? [])]
      .filter((t) => /^[a-z]{3,}$/.test(t) && words.has(t) && !nameWords.has(t) && !TAG_STOP.has(t) && t !== row.category)
      .sort();
    const resvg = new Resvg(squareSvg(fs.readFileSync(svg, "utf8"), `${where}: ${path.relative(ROOT, svg)}`), { fitTo: { mode: "width", value: SIZE }, font: { loadSystemFonts: false } });
    const png = resvg.render().asPng();
    const sprite = `${slug(row.name)}.png`;
    writeAtomic(path.join(SPRITES, sprite), png);
    out.push({
      name: row.name,
      category: row.category,
      emoji: e.emoji,
      hexcode: e.hexcode,
      cldr_label: e.label,
      keywords,
      colour: row.colour,
      traits: row.traits.split(" "),
      place: row.place,
      sprite: `sprites/${sprite}`,
      licence: { artwork: `Twemoji ${path.basename(svg)}`, spdx: "CC-BY-4.0", names_and_tags: "emojibase-data (MIT) from Unicode CLDR (Unicode-3.0)" },
    });
  }
  const stale = fs.readdirSync(SPRITES).filter((f) => f.endsWith(".png") && !out.some((o) => o.sprite === `sprites/${f}`));
  if (CHECK) differ.push(...stale.map((f) => `${path.relative(ROOT, SPRITES)}/${f} (stale)`));
  else for (const f of stale) fs.unlinkSync(path.join(SPRITES, f));

  const catalogue = {
    generated_by: "scripts/world-assets.mjs",
    sources: {
      artwork: { package: "@discordapp/twemoji", version: twemoji.version, licence: "CC-BY-4.0 (graphics), MIT (code)", url: "https://github.com/discord/twemoji" },
      names_and_tags: { package: "emojibase-data", version: emojibase.version, licence: "MIT; the data is Unicode CLDR, Unicode-3.0", url: "https://github.com/milesj/emojibase" },
      keyword_filter: { package: "an-array-of-english-words", version: english.version, licence: "MIT" },
      rasteriser: { package: "@resvg/resvg-js", version: pkg("@resvg/resvg-js").version },
    },
    sprite_size: [SIZE, SIZE],
    categories: cats.rows.map(({ line, ...c }) => ({ ...c, parent: c.parent === "-" ? null : c.parent })),
    places: places.rows.map(({ line, ...p }) => p),
    classes: out,
  };
  writeAtomic(path.join(ASSETS, "objects.json"), JSON.stringify(catalogue, null, 1) + "\n");
  if (CHECK) {
    if (differ.length) {
      console.error(`world-assets --check: ${differ.length} file(s) differ from a rebuild: ${differ.slice(0, 10).join(", ")}${differ.length > 10 ? ", ..." : ""}`);
      process.exit(1);
    }
    console.log(`world-assets --check: objects.json and ${out.length} sprites match a rebuild`);
    return;
  }
  const bytes = out.reduce((s, o) => s + fs.statSync(path.join(ASSETS, o.sprite)).size, 0);
  console.log(`${out.length} classes in ${cats.rows.length} categories; ${out.length} sprites (${SIZE} px, ${(bytes / 1024).toFixed(0)} KiB) in ${path.relative(ROOT, SPRITES)}${stale.length ? `; removed ${stale.length} stale` : ""}`);
}

try {
  main();
} catch (e) {
  if (e instanceof InputError) {
    console.error(`world-assets: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
