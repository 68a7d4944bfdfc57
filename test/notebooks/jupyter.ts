/**
 * Shared by the notebook and browser tests: where the venv, the kernelspec and the notebooks are,
 * and a Jupyter environment isolated from the user's own (~/.jupyter config, runtime files, Lab
 * settings and workspaces all go to a temp dir, so neither leaks into the other).
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..");
export const VENV = path.join(REPO, ".venv");
export const PYTHON = path.join(VENV, "bin", "python");
export const NOTEBOOKS = path.join(REPO, "notebooks");
export const KERNEL_SPEC = path.join(VENV, "share", "jupyter", "kernels", "vislens", "kernel.json");
export const KERNEL_NAME = "vislens";

export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";
export const SVG_MIME = "image/svg+xml";

/** Throws (never skips) when the bootstrap has not made the venv and the kernelspec. */
export function requireKernel(): void {
  for (const file of [PYTHON, KERNEL_SPEC, path.join(REPO, "dist", "index.js"), path.join(REPO, "dist", "widgets", "index.js")]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/bootstrap.sh (npm test and npm start do)`);
  }
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The notebooks the suite runs: every .ipynb directly in notebooks/, sorted. */
export function notebookNames(): string[] {
  return fs.readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).sort();
}

/** Copies notebooks/ (without checkpoints) to `dest`, so running them never touches the originals. */
export function copyNotebooks(dest: string): string {
  fs.cpSync(NOTEBOOKS, dest, { recursive: true, filter: (src) => !src.includes(".ipynb_checkpoints") });
  return dest;
}

export function isolatedJupyterEnv(root: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dirs = {
    JUPYTER_CONFIG_DIR: path.join(root, "jupyter-config"),
    JUPYTER_RUNTIME_DIR: path.join(root, "jupyter-runtime"),
    JUPYTERLAB_SETTINGS_DIR: path.join(root, "lab-settings"),
    JUPYTERLAB_WORKSPACES_DIR: path.join(root, "lab-workspaces"),
    IPYTHONDIR: path.join(root, "ipython"),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  return { ...process.env, ...dirs, PYTHONUNBUFFERED: "1", ...extra };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** nbformat stores multi-line strings either whole or as a list of lines. */
export function joinText(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: NotebookOutput[];
}
export interface Notebook {
  metadata: { kernelspec?: { name?: string; display_name?: string } };
  cells: NotebookCell[];
}

export function readNotebook(file: string): Notebook {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
}
