#!/usr/bin/env node
// The "vislens (TypeScript)" Jupyter kernel: tslab (this checkout's node_modules/tslab), started so
// that `import ... from "vislens"` and `from "vislens/widgets"` work in a cell whatever directory
// the notebook lives in, for both halves of tslab:
//
//  * type checking: tslab compiles cells with its bundled TypeScript 5.0, fixed options, Node10
//    module resolution from the notebook directory (no tsconfig is read, `exports` is ignored).
//    We wrap the watch host it creates and give it a module resolver: the normal resolution first;
//    a bare specifier that does not resolve is resolved again as if it were imported from a file in
//    the vislens checkout, with "bundler" resolution (honours package.json "exports" and the
//    package's self-name, so "vislens/widgets" -> dist/widgets/index.d.ts).
//  * runtime: a bare `require` from the notebook's code (cells, local .ts modules) that Node cannot
//    resolve from the notebook directory is resolved again from the checkout's root (Node's package
//    self-reference: "vislens" -> dist/index.js, "vislens/widgets" -> dist/widgets/index.js; and the
//    checkout's dependencies, e.g. danfojs-node).
//
// So a notebook directory with its own node_modules keeps precedence for everything it has, in
// types and at run time alike; only what it lacks comes from the checkout.
//
// Usage (kernel.json argv): node kernel/vislens-kernel.js {connection_file}
// `--check-resolution <dir>` prints how "vislens" resolves from <dir> (runtime and types) and exits.
"use strict";
const path = require("path");
const fs = require("fs");
const Module = require("module");

const REPO = path.resolve(__dirname, "..");
const repoRequire = Module.createRequire(path.join(REPO, "package.json"));
const tslabMain = repoRequire.resolve("tslab/dist/main.js");
const tslabRequire = Module.createRequire(tslabMain);
// The very TypeScript module object tslab's converter will get from require().
const tsPath = tslabRequire.resolve("@tslab/typescript-for-tslab");
const ts = require(tsPath);

const FALLBACK_ANCHOR_TS = path.join(REPO, "__vislens_kernel_fallback__.ts");

function isBare(spec) {
  return !(spec.startsWith("./") || spec.startsWith("../") || spec === "." || spec === ".." ||
    path.isAbsolute(spec) || spec.startsWith("node:"));
}

// ---- type checking ---------------------------------------------------------------------------

function withFallbackResolution(host) {
  if (host.resolveModuleNameLiterals || host.resolveModuleNames) return host; // someone else's
  const fallbackOptions = (options) => ({ ...options, moduleResolution: ts.ModuleResolutionKind.Bundler });
  let cache = null;
  let fallbackCache = null;
  // With a custom resolver TypeScript would otherwise re-resolve every file of the program twice
  // per cell (~50 ms); files that changed are re-resolved anyway, and a file is retried on every
  // cell only while one of its imports is unresolved.
  const withUnresolved = new Set();
  host.hasInvalidatedResolutions = (filePath) => withUnresolved.has(filePath);
  host.resolveModuleNameLiterals = function (literals, containingFile, redirectedReference, options, containingSourceFile) {
    // A fresh cache for each program build that re-resolves tslab's cell file: cheap, and a
    // package installed (or a .ts file created) between two cells is seen by the next one.
    if (!cache || path.basename(containingFile).startsWith("__tslab__")) {
      cache = ts.createModuleResolutionCache(host.getCurrentDirectory(), (f) => f, options);
      fallbackCache = ts.createModuleResolutionCache(REPO, (f) => f, fallbackOptions(options));
    }
    const resolutions = literals.map((lit) => {
      const name = lit.text;
      const mode = containingSourceFile && ts.getModeForUsageLocation
        ? ts.getModeForUsageLocation(containingSourceFile, lit) : undefined;
      const first = ts.resolveModuleName(name, containingFile, options, host, cache, redirectedReference, mode);
      if (first.resolvedModule || !isBare(name)) return first;
      const second = ts.resolveModuleName(name, FALLBACK_ANCHOR_TS, fallbackOptions(options), host, fallbackCache,
        undefined, ts.ModuleKind.ESNext);
      if (!second.resolvedModule) return first;
      // What the checkout provides is a library to the cell, never a source tslab should re-emit.
      second.resolvedModule.isExternalLibraryImport = true;
      return second;
    });
    if (resolutions.some((r) => !r.resolvedModule)) withUnresolved.add(containingFile);
    else withUnresolved.delete(containingFile);
    return resolutions;
  };
  return host;
}

// tslab does `__importStar(require("@tslab/typescript-for-tslab"))`, which copies the module's own
// enumerable properties; TypeScript 5 defines them as non-configurable getters, so we hand tslab a
// copy of the namespace whose createWatchCompilerHost adds the resolver above.
const patchedTs = {};
for (const key of Object.keys(ts)) {
  if (key === "createWatchCompilerHost") continue;
  Object.defineProperty(patchedTs, key, { enumerable: true, get: () => ts[key] });
}
Object.defineProperty(patchedTs, "createWatchCompilerHost", {
  enumerable: true,
  value: (...args) => withFallbackResolution(ts.createWatchCompilerHost(...args)),
});
require.cache[tsPath].exports = patchedTs;

// ---- runtime ---------------------------------------------------------------------------------

// Node resolves a cell's `require` from <notebook dir>/src.js (tslab's createRequire) and a local
// .ts module's from its own file. When that fails for a bare specifier, and the requiring file is
// the notebook's own code (not inside some node_modules), resolve again from the checkout's root:
// the package self-reference ("vislens" -> dist/index.js, "vislens/widgets" -> dist/widgets/index.js
// through package.json "exports") and the checkout's node_modules.
const repoAnchor = new Module(path.join(REPO, "package.json"));
repoAnchor.filename = path.join(REPO, "package.json");
repoAnchor.paths = Module._nodeModulePaths(REPO);

function isNotebookCode(parent) {
  const file = parent && parent.filename;
  return typeof file === "string" && !file.split(path.sep).includes("node_modules");
}

const originalResolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  try {
    return originalResolveFilename.call(this, request, parent, isMain, options);
  } catch (err) {
    if (err && err.code === "MODULE_NOT_FOUND" && typeof request === "string" && isBare(request) &&
        !Module.isBuiltin(request) && isNotebookCode(parent) && !(options && options.paths)) {
      try {
        return originalResolveFilename.call(this, request, repoAnchor, isMain, options);
      } catch {
        // not in the checkout either: report the notebook's own failure
      }
    }
    throw err;
  }
};

// ---- main ------------------------------------------------------------------------------------

function checkResolution(dir) {
  const req = Module.createRequire(path.join(path.resolve(dir), "src.js"));
  const host = withFallbackResolution({
    fileExists: ts.sys.fileExists, readFile: ts.sys.readFile, directoryExists: ts.sys.directoryExists,
    realpath: ts.sys.realpath, getCurrentDirectory: () => path.resolve(dir), getDirectories: ts.sys.getDirectories,
  });
  const options = { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Node10 };
  const src = ts.createSourceFile(path.join(path.resolve(dir), "__tslab__.ts"),
    'import "vislens"; import "vislens/widgets";', ts.ScriptTarget.ES2020);
  const lits = src.statements.map((s) => s.moduleSpecifier);
  const types = host.resolveModuleNameLiterals(lits, src.fileName, undefined, options, src);
  const out = {};
  for (const [i, spec] of ["vislens", "vislens/widgets"].entries()) {
    let runtime = null;
    try { runtime = req.resolve(spec); } catch (err) { runtime = `unresolved (${err.code})`; }
    out[spec] = { runtime, types: types[i].resolvedModule ? types[i].resolvedModule.resolvedFileName : "unresolved" };
  }
  console.log(JSON.stringify(out, null, 2));
}

const args = process.argv.slice(2);
if (args[0] === "--check-resolution") {
  checkResolution(args[1] || process.cwd());
} else if (args.length === 1 && !args[0].startsWith("-")) {
  if (!fs.existsSync(args[0])) {
    console.error(`vislens-kernel: connection file not found: ${args[0]}`);
    process.exit(2);
  }
  // startKernel directly, not tslab's main(): with enableFindLocal it would switch to a tslab found
  // in the notebook directory's node_modules, one that is not patched above.
  const { startKernel } = require(tslabMain);
  const { getVersion } = tslabRequire("./util");
  startKernel({ configPath: args[0], enableFindLocal: false, jsKernel: false, globalVersion: getVersion() });
} else {
  console.error("usage: vislens-kernel.js <connection_file> | --check-resolution [dir]");
  process.exit(2);
}
