import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..");
export const PYTHON = path.join(REPO, ".venv", "bin", "python");

/**
 * Runs a Python snippet in the project's venv (made by scripts/bootstrap.sh) and returns stdout.
 * Tests use it to compare against the reference implementations (Pillow, numpy, safetensors) live
 * rather than against stored numbers. A missing venv is an error, never a skip.
 */
export function python(code: string, args: string[] = []): string {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run scripts/bootstrap.sh (npm test does)`);
  return execFileSync(PYTHON, ["-c", code, ...args], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(REPO, "exporter") },
    maxBuffer: 256 << 20,
  });
}

export function tempDir(prefix = "vislens-test-"): string {
  return fs.mkdtempSync(path.join(require("node:os").tmpdir(), prefix));
}
