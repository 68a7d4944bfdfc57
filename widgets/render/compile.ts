import * as vl from "vega-lite";
import type { VegaLiteSpec } from "../spec";

/**
 * Vega-Lite -> Vega, with vega-lite 5.6 (the version JupyterLab 4.6 renders with). Warnings are
 * collected, never printed: a spec that makes vega-lite warn is a bug the tests catch. Errors throw.
 */
export interface Compiled {
  /** The Vega spec. */
  vega: object;
  /** Every warning vega-lite raised while compiling. */
  warnings: string[];
}

export function compileSpec(spec: VegaLiteSpec): Compiled {
  const warnings: string[] = [];
  const logger = {
    level(): number {
      return 2; // Warn: info and debug are dropped
    },
    warn(...args: readonly unknown[]) {
      warnings.push(args.map(String).join(" "));
      return this;
    },
    info() {
      return this;
    },
    debug() {
      return this;
    },
    error(...args: readonly unknown[]): never {
      throw new Error(`vega-lite: ${args.map(String).join(" ")}`);
    },
  };
  // vega-lite's own types describe every v5 spec; ours is plain JSON checked by the tests.
  const out = vl.compile(spec as unknown as vl.TopLevelSpec, { logger: logger as never });
  return { vega: out.spec, warnings };
}
