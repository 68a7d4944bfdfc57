#!/usr/bin/env node
"use strict";
// The compiled CLI lives in dist/ (built by `npm install` through the "prepare" script).
let cli;
try {
  cli = require("../dist/cli/main.js");
} catch (error) {
  if (error && error.code === "MODULE_NOT_FOUND") {
    process.stderr.write("vislens: the TypeScript sources are not built; run `npm install` (or `npm run build`) in the vislens checkout\n");
    process.exit(1);
  }
  throw error;
}
cli.main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`vislens: internal error: ${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  },
);
