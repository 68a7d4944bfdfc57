/**
 * Errors that vislens throws on bad input. Each names the file (when there is one), the field or
 * value at fault, what was expected and what arrived, so a user can fix the input without reading
 * vislens' source. Programming errors (wrong argument kinds) use the built-in TypeError/RangeError.
 */

/** A bundle, bank or other artifact on disk is missing, corrupt or inconsistent. */
export class ArtifactError extends Error {
  override name = "ArtifactError";
  constructor(
    /** The file or directory at fault. */
    readonly file: string,
    /** What is wrong with it, in a sentence. */
    readonly problem: string,
    /** The JSON path or field name at fault, when there is one. */
    readonly field?: string,
  ) {
    super(`${file}${field ? ` (${field})` : ""}: ${problem}`);
  }
}

/** An input image cannot be used: unreadable, not an image, or out of the supported range. */
export class ImageError extends Error {
  override name = "ImageError";
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** Formats a value for an error message: short, and never a multi-megabyte dump. */
export function describeValue(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
