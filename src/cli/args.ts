import { parseArgs, type ParseArgsConfig } from "node:util";

/** A command-line mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** util.parseArgs with strict checking and positionals, turning its errors into UsageError. */
export function parse<T extends Options>(argv: string[], options: T): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A `--name N` option that must be a positive integer; `fallback` when it is absent. */
export function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** `--device cpu|cuda` (default cpu): where the bundle's graphs run. */
export function deviceOption(text: string | undefined): "cpu" | "cuda" {
  const device = text ?? "cpu";
  if (device !== "cpu" && device !== "cuda") throw new UsageError(`--device must be cpu or cuda, got ${JSON.stringify(text)}`);
  return device;
}
