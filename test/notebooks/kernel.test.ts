/**
 * The "vislens (TypeScript)" kernelspec and its module resolution, without starting Jupyter:
 * kernel/install.sh registered it in .venv and is idempotent; kernel/vislens-kernel.js resolves
 * "vislens" and "vislens/widgets" (type checking and runtime alike) from a directory outside the
 * checkout, and lets a directory's own node_modules take precedence; a real kernel run from such a
 * directory type-checks cells against vislens' declarations and runs a local .ts module that
 * imports vislens.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KERNEL_NAME, KERNEL_SPEC, PYTHON, REPO, VENV, isolatedJupyterEnv, joinText, readNotebook, requireKernel, tempDir } from "./jupyter";

const LAUNCHER = path.join(REPO, "kernel", "vislens-kernel.js");

interface Resolution { runtime: string; types: string }

function checkResolution(dir: string): Record<string, Resolution> {
  return JSON.parse(execFileSync(process.execPath, [LAUNCHER, "--check-resolution", dir], { encoding: "utf8" })) as Record<string, Resolution>;
}

describe("kernel", () => {
  let tmp = "";
  before(() => {
    requireKernel();
    tmp = tempDir("vislens-kernel-");
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("is registered in .venv as 'vislens (TypeScript)', started by this checkout's launcher", () => {
    const spec = JSON.parse(fs.readFileSync(KERNEL_SPEC, "utf8")) as { argv: string[]; display_name: string; language: string };
    assert.equal(spec.display_name, "vislens (TypeScript)");
    assert.equal(spec.language, "typescript");
    assert.equal(spec.argv.length, 3);
    assert.ok(fs.statSync(spec.argv[0]).mode & 0o111, `${spec.argv[0]} is not executable`);
    assert.equal(spec.argv[1], LAUNCHER);
    assert.equal(spec.argv[2], "{connection_file}");
    const listed = JSON.parse(execFileSync(PYTHON, ["-m", "jupyter", "kernelspec", "list", "--json"], { encoding: "utf8" })) as {
      kernelspecs: Record<string, { resource_dir: string }>;
    };
    assert.equal(fs.realpathSync(listed.kernelspecs.vislens.resource_dir), fs.realpathSync(path.dirname(KERNEL_SPEC)));
  });

  it("kernel/install.sh is idempotent: a second run changes nothing and says nothing", () => {
    const before = fs.statSync(KERNEL_SPEC).mtimeMs;
    const started = Date.now();
    const run = spawnSync("bash", [path.join(REPO, "kernel", "install.sh")], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout + run.stderr, "");
    assert.equal(fs.statSync(KERNEL_SPEC).mtimeMs, before);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.ok(fs.existsSync(path.join(VENV, "share", "jupyter", "lab", "settings", "overrides.json")));
  });

  it("resolves vislens and vislens/widgets from a directory outside the checkout", () => {
    const outside = path.join(tmp, "elsewhere", "deep");
    fs.mkdirSync(outside, { recursive: true });
    const r = checkResolution(outside);
    assert.deepEqual(r, {
      vislens: { runtime: path.join(REPO, "dist", "index.js"), types: path.join(REPO, "dist", "index.d.ts") },
      "vislens/widgets": { runtime: path.join(REPO, "dist", "widgets", "index.js"), types: path.join(REPO, "dist", "widgets", "index.d.ts") },
    });
  });

  it("lets the notebook directory's own node_modules take precedence", () => {
    const dir = path.join(tmp, "project");
    const pkg = path.join(dir, "node_modules", "vislens");
    fs.mkdirSync(path.join(pkg, "widgets"), { recursive: true });
    fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "vislens", main: "index.js", types: "index.d.ts" }));
    for (const f of ["index.js", "index.d.ts", "widgets/index.js", "widgets/index.d.ts"]) fs.writeFileSync(path.join(pkg, f), "export {};\n");
    const r = checkResolution(dir);
    assert.equal(r.vislens.runtime, path.join(pkg, "index.js"));
    assert.equal(r.vislens.types, path.join(pkg, "index.d.ts"));
    assert.equal(r["vislens/widgets"].runtime, path.join(pkg, "widgets", "index.js"));
    assert.equal(r["vislens/widgets"].types, path.join(pkg, "widgets", "index.d.ts"));
  });

  it("runs cells and a local .ts module that import vislens, type-checked against its declarations", () => {
    const dir = path.join(tmp, "outside");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "helper.ts"), [
      'import { LENS_NAMES } from "vislens";',
      'import { lensCurves } from "vislens/widgets";',
      "export const lenses = (): string => `${LENS_NAMES.join(\",\")} ${typeof lensCurves}`;",
    ].join("\n"));
    const cell = (source: string) => ({ cell_type: "code", metadata: {}, execution_count: null, outputs: [], source });
    const nb = {
      nbformat: 4, nbformat_minor: 5,
      metadata: { kernelspec: { name: KERNEL_NAME, display_name: "vislens (TypeScript)", language: "typescript" } },
      cells: [
        cell('import { lenses } from "./helper";\nconsole.log(lenses(), process.cwd());'),
        cell('import { LENS_NAMES } from "vislens";\nconst wrong: number = LENS_NAMES;'),
      ],
    };
    const src = path.join(dir, "probe.ipynb");
    const dst = path.join(dir, "probe.out.ipynb");
    fs.writeFileSync(src, JSON.stringify(nb));
    const run = spawnSync(PYTHON, [path.join(__dirname, "execute.py"), src, dst, "--timeout", "120"], {
      encoding: "utf8", env: isolatedJupyterEnv(path.join(tmp, "jupyter")), cwd: dir,
    });
    // The second cell must fail in the type checker, with vislens' own type in the message.
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /Type 'readonly \["latent", "embedding", "logit"\]' is not assignable to type 'number'/);
    const first = readNotebook(dst).cells[0].outputs ?? [];
    const text = first.map((o) => joinText(o.text)).join("");
    assert.equal(text.trim(), `latent,embedding,logit function ${fs.realpathSync(dir)}`);
  });
});
