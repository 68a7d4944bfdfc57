import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { PYTHON, REPO } from "../helpers/python";
import { exporterKey } from "../helpers/tiny";

test("the tests' TypeScript exporter key equals vislens_export.tiny.cache's, so cached tiny bundles are found without starting Python", () => {
  const python = execFileSync(PYTHON, ["-c", "from vislens_export.tiny.cache import exporter_key; print(exporter_key())"], {
    cwd: path.join(REPO, "exporter"),
    encoding: "utf8",
  }).trim();
  assert.match(python, /^[0-9a-f]{16}$/);
  assert.equal(exporterKey(), python);
});
