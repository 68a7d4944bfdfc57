/**
 * A lookup table of strings: each distinct string is stored once and records refer to it by its
 * index (the words of all neighbour lists, the context sentences, the bank entries). The widgets
 * write it as a CSV dataset `i,s` that Vega-Lite `lookup` transforms join on `i`.
 */
export class StringTable {
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];

  /** The index of `value` (made {@link printable}), adding it on first sight. */
  intern(raw: string): number {
    const value = printable(raw);
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }

  get size(): number {
    return this.values.length;
  }
}

/**
 * Control characters -> their visible Unicode "control pictures" (U+0000 -> ␀, U+0010 -> ␐,
 * U+007F -> ␡), one UTF-16 unit for one, so character spans stay valid. Tokenizers have tokens
 * like that; SVG may not contain them (they are not XML characters) and nobody could read them.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => String.fromCharCode(c === "\u007f" ? 0x2421 : 0x2400 + c.charCodeAt(0)));
}
