import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { ArtifactError } from "../errors";
import { writeFileAtomic } from "../io/atomic";
import { seededRandom } from "../util/random";

/** A text corpus, one sentence per line, as read for bank building. */
export interface Corpus {
  file: string;
  /** The usable sentences, in file order. */
  sentences: string[];
  /** 1-based line number of each sentence in the file. */
  lines: number[];
  /** Lines skipped because they were blank (after trimming). */
  blankLines: number;
  /** SHA-256 of the file's bytes: banks record it so a changed corpus is noticed. */
  sha256: string;
}

/**
 * Reads a corpus file. Invalid UTF-8 is an error that names the line (a bank built from mangled
 * text would show mangled sentences); blank lines are skipped and counted; CRLF line ends are
 * accepted. A corpus with no sentence at all is an error.
 */
export function readCorpus(file: string): Corpus {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArtifactError(file, code === "ENOENT" ? "corpus file not found" : `cannot read corpus: ${(error as Error).message}`);
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new ArtifactError(file, `invalid UTF-8 on line ${firstBadUtf8Line(bytes)}; the corpus must be UTF-8 text`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte-order mark
  const sentences: string[] = [];
  const lines: number[] = [];
  let blankLines = 0;
  const rawLines = text.split("\n");
  if (rawLines[rawLines.length - 1] === "") rawLines.pop(); // the file's final newline ends a line, it does not start one
  rawLines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, "").trim();
    if (line.length === 0) {
      blankLines++;
      return;
    }
    sentences.push(line);
    lines.push(i + 1);
  });
  if (sentences.length === 0) throw new ArtifactError(file, "the corpus has no sentences (it is empty or blank); expected one sentence per line");
  return { file, sentences, lines, blankLines, sha256: createHash("sha256").update(bytes).digest("hex") };
}

function firstBadUtf8Line(bytes: Buffer): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}

/**
 * Writes a seeded random `fraction` of a corpus's sentences (at least one, in their original order)
 * to `outFile`, for the paper's corpus-size study (Table 1: 0.1 %, 1 %, 10 %, 100 %). The same
 * corpus, fraction and seed always give the same file, so banks built from it are cached.
 */
export function subsampleCorpus(corpusFile: string, fraction: number, outFile: string, seed = 42): { file: string; sentences: number } {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`subsampleCorpus: fraction must be in (0, 1], got ${fraction}`);
  const { sentences } = readCorpus(corpusFile);
  const n = Math.max(1, Math.round(fraction * sentences.length));
  // A seeded partial Fisher-Yates shuffle picks n distinct indices; sorting keeps the file order.
  const order = sentences.map((_, i) => i);
  const random = seededRandom(seed);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (order.length - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const kept = order.slice(0, n).sort((a, b) => a - b);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileAtomic(outFile, kept.map((i) => sentences[i]).join("\n") + "\n");
  return { file: outFile, sentences: n };
}
