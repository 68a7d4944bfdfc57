#!/usr/bin/env node
// Makes sure a model's contextual bank (for LatentLens) exists in the cache and belongs to that
// model and corpus; builds it (with progress on stderr) when it is missing or stale, resumes an
// interrupted build. Used by scripts/start.sh for the shipped model; the notebooks open the same
// directory.
//
//   node kernel/ensure-bank.js <bundle-dir> <out-dir> [--corpus <file>]   (default: <bundle-dir>/corpus.txt)
//
// Prints one line saying what it did. Exit 1 with a one-line message on failure.
"use strict";
const path = require("path");

const REPO = path.resolve(__dirname, "..");
const { openBundle, ensureBank } = require(path.join(REPO, "dist", "index.js"));
// The CLI's progress bar (redrawn on a terminal, a line per 10% in logs).
const { progressBar } = require(path.join(REPO, "dist", "cli", "progress.js"));

async function main(argv) {
  const positionals = [];
  let corpus;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--corpus") corpus = argv[++i];
    else positionals.push(argv[i]);
  }
  if (positionals.length !== 2) throw new Error("usage: ensure-bank.js <bundle-dir> <out-dir> [--corpus <file>]");
  const [bundleDir, outDir] = positionals;
  corpus ??= path.join(bundleDir, "corpus.txt");

  const bundle = await openBundle(bundleDir);
  try {
    const started = Date.now();
    const bar = progressBar(`bank build (${bundle.manifest.name})`);
    let resumed = false;
    const { bank, action, reason } = await ensureBank(bundle, corpus, outDir, {
      onProgress: (p) => {
        resumed = p.resumed;
        if (p.phase === "encode") bar(p.done, p.total, `batches, ${p.rows} rows${p.resumed ? " (resumed)" : ""}`);
      },
    });
    const m = bank.manifest;
    if (action === "opened") console.log(`bank: ${outDir} is ready (${m.rows} rows, layers ${m.layers.join(",")})`);
    else console.log(`bank: ${action} ${outDir}${reason ? ` (${reason})` : ""}${resumed ? " (resumed)" : ""}: ${m.rows} rows, layers ${m.layers.join(",")} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await bundle.close();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`ensure-bank: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
