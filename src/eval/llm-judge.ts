/**
 * An LLM judge over any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp,
 * Ollama, LiteLLM, ...), following the LatentLens paper's protocol: the judge sees the whole image
 * with a red box around the 3x3 patch block and a close-up of the block, reads the lens's top-k
 * words, and says which of them are concrete, abstract or global matches.
 *
 * Answers can be cached on disk (one JSON file per question), so an evaluation can be re-run or
 * resumed without paying twice. The API key is read from an environment variable at call time and
 * goes only into the request's Authorization header: never into the cache, the judge's name or an
 * error message.
 */

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError, ImageError } from "../errors";
import { writeFileAtomic } from "../io/atomic";
import { decodeImageBuffer } from "../model/image";
import { JUDGE_IMAGE_DEFAULTS, renderJudgeImagesFrom, type JudgeImageOptions } from "./judge-images";
import { MATCH_KINDS, verdictFrom, type JudgeRequest, type JudgeVerdict, type MatchKind, type PatchJudge } from "./judge";

/** Part of every cache key: change it when the prompt or the pictures change meaning. */
export const LLM_JUDGE_PROMPT_VERSION = "latentlens-judge-1";

export interface LlmJudgeOptions {
  /** The API root, e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8000/v1"; requests go to `${baseUrl}/chat/completions`. */
  baseUrl: string;
  /** The judge model, as the endpoint names it (e.g. "gpt-4o", "Qwen/Qwen2.5-VL-7B-Instruct"). */
  model: string;
  /** Environment variable holding the API key, read at every call (default "OPENAI_API_KEY"); unset or empty: no Authorization header. */
  apiKeyEnv?: string;
  /** Directory for cached answers (default: no cache). */
  cacheDir?: string;
  /** Per attempt, in ms, including reading the answer (default 60000). */
  timeoutMs?: number;
  /** Further attempts after the first on network errors, timeouts, HTTP 429 and 5xx, and malformed answers (default 3). */
  retries?: number;
  /** First backoff delay in ms, doubled on each retry, plus up to 25% jitter (default 1000). */
  retryBaseMs?: number;
  /** Longest wait between attempts in ms, also the cap on a server's Retry-After (default 30000). */
  maxRetryDelayMs?: number;
  /** Sampling temperature (default 0); `null` leaves it out, for models that accept only their default (e.g. OpenAI's reasoning models). */
  temperature?: number | null;
  /** The fetch to use (default: Node's global fetch); for tests and proxies. */
  fetch?: typeof fetch;
  /** Part of the cache key (default {@link LLM_JUDGE_PROMPT_VERSION}); change it to ask every question afresh. */
  promptVersion?: string;
  /** How the two pictures are rendered (see judge-images.ts). */
  images?: JudgeImageOptions;
}

/** The judge could not get a usable answer; the message names the endpoint (without secrets), model and cause. */
export class LlmJudgeError extends Error {
  override name = "LlmJudgeError";
  constructor(
    /** The chat-completions URL, without credentials or query. */
    readonly endpoint: string,
    readonly model: string,
    readonly problem: string,
    /** The HTTP status of the last answer, when there was one. */
    readonly status?: number,
  ) {
    super(`LLM judge ${JSON.stringify(model)} at ${endpoint}: ${problem}`);
  }
}

/** The three match lists an answer gives, restricted to the candidate words. */
export type JudgeLists = Record<MatchKind, string[]>;

export const JUDGE_SYSTEM_PROMPT = [
  "You are a careful visual interpretation expert. You connect words to a specific region of an image.",
  "You will see (1) a full image in which a red box marks the region of interest and (2) an enlarged close-up of that region (the red frame around it marks the same region).",
  "Then you get a list of candidate words. For each word decide how it relates to the region inside the red box:",
  "- concrete: the word names something literally visible inside the red box: an object or part of one, a colour, a shape, a texture, text.",
  "- abstract: the word names a property, concept, function, emotion or action that the region shows or suggests, without naming a visible thing.",
  "- global: the word names something visible elsewhere in the full image, but not inside the red box.",
  "A word may fit none of these; leave it out. Use the candidate words exactly as given.",
  'Answer with a single JSON object and nothing else: {"reasoning": "<one or two sentences>", "concrete": [...], "abstract": [...], "global": [...]}.',
].join("\n");

/** The user message's text parts, around the two pictures. */
export function judgeUserText(words: readonly string[]): { full: string; crop: string; words: string } {
  return {
    full: "Full image; the red box marks the region of interest:",
    crop: "Close-up of the region inside the red box:",
    words:
      `Candidate words (a JSON list): ${JSON.stringify(words)}\n` +
      'Return the JSON object {"reasoning": ..., "concrete": [...], "abstract": [...], "global": [...]} listing which candidate words are concrete, abstract or global matches for the region inside the red box.',
  };
}

/** Builds a PatchJudge that asks an LLM over an OpenAI-compatible chat-completions endpoint. */
export function llmJudge(options: LlmJudgeOptions): PatchJudge {
  const config = resolveOptions(options);
  const inFlight = new Map<string, Promise<JudgeVerdict>>();
  const hashes = new ImageHashes();
  return {
    name: `llm:${config.model}`,
    judge(request: JudgeRequest): Promise<JudgeVerdict> {
      return judgeOnce(config, inFlight, hashes, request);
    },
  };
}

interface JudgeConfig {
  url: string;
  /** The URL as shown in messages: no credentials, no query. */
  endpoint: string;
  model: string;
  apiKeyEnv: string;
  cacheDir?: string;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
  temperature: number | null;
  fetch: typeof fetch;
  promptVersion: string;
  images: Required<JudgeImageOptions>;
}

function resolveOptions(options: LlmJudgeOptions): JudgeConfig {
  if (typeof options.model !== "string" || options.model.trim() === "") throw new TypeError("llmJudge: `model` must be a non-empty string");
  const { url, endpoint } = chatCompletionsUrl(options.baseUrl);
  const number = (name: string, value: number | undefined, fallback: number, min: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < min) throw new RangeError(`llmJudge: \`${name}\` must be a number >= ${min}, got ${String(value)}`);
    return v;
  };
  const temperature = options.temperature === undefined ? 0 : options.temperature;
  if (temperature !== null && !(Number.isFinite(temperature) && temperature >= 0)) throw new RangeError(`llmJudge: \`temperature\` must be a number >= 0 or null, got ${String(temperature)}`);
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== "function") throw new TypeError("llmJudge: no fetch available (Node 20 has a global fetch; pass `fetch` otherwise)");
  return {
    url,
    endpoint,
    model: options.model,
    apiKeyEnv: options.apiKeyEnv ?? "OPENAI_API_KEY",
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    timeoutMs: number("timeoutMs", options.timeoutMs, 60_000, 1),
    retries: Math.floor(number("retries", options.retries, 3, 0)),
    retryBaseMs: number("retryBaseMs", options.retryBaseMs, 1000, 0),
    maxRetryDelayMs: number("maxRetryDelayMs", options.maxRetryDelayMs, 30_000, 0),
    temperature,
    fetch: fetchFn,
    promptVersion: options.promptVersion ?? LLM_JUDGE_PROMPT_VERSION,
    images: { ...JUDGE_IMAGE_DEFAULTS, ...options.images },
  };
}

/** `${baseUrl}/chat/completions` (query kept, e.g. Azure's api-version), and the same without secrets for messages. */
function chatCompletionsUrl(baseUrl: string): { url: string; endpoint: string } {
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new TypeError(`llmJudge: \`baseUrl\` is not a URL: ${JSON.stringify(String(baseUrl).slice(0, 80))}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new TypeError(`llmJudge: \`baseUrl\` must be http(s), got ${parsed.protocol}`);
  // fetch refuses URLs with credentials, and they would leak into messages: the key belongs in the env var.
  if (parsed.username || parsed.password) throw new TypeError("llmJudge: `baseUrl` must not contain user:password; put the API key in the environment variable named by `apiKeyEnv`");
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/chat/completions`;
  parsed.hash = "";
  return { url: parsed.toString(), endpoint: `${parsed.origin}${parsed.pathname}` };
}

/** One judgement: from the cache when possible, joining an identical question already in flight. */
async function judgeOnce(config: JudgeConfig, inFlight: Map<string, Promise<JudgeVerdict>>, hashes: ImageHashes, request: JudgeRequest): Promise<JudgeVerdict> {
  const key = cacheKey(config, hashes.of(request.image), request);
  const pending = inFlight.get(key);
  if (pending) return pending;
  const work = (async () => {
    const file = config.cacheDir === undefined ? undefined : cacheFile(config.cacheDir, key);
    const cached = file === undefined ? undefined : readCachedLists(file, request.words);
    if (cached) return verdictFrom(cached);
    const { lists, answer } = await askJudge(config, request, readImageBytes(request.image));
    if (file !== undefined) writeCachedAnswer(file, config, request.words, lists, answer);
    return verdictFrom(lists);
  })();
  inFlight.set(key, work);
  try {
    return await work;
  } finally {
    inFlight.delete(key);
  }
}

/**
 * sha256 of image files, remembered while a file's size and mtime stay the same: an evaluation asks
 * about the same image once per lens and layer, and photos can be megabytes.
 */
class ImageHashes {
  private readonly known = new Map<string, { stamp: string; hash: string }>();
  of(file: string): string {
    let stamp: string;
    try {
      const st = fs.statSync(file);
      stamp = `${st.size}:${st.mtimeMs}`;
    } catch {
      return sha256(readImageBytes(file)); // throws the ImageError that names the problem
    }
    const known = this.known.get(file);
    if (known?.stamp === stamp) return known.hash;
    const hash = sha256(readImageBytes(file));
    this.known.set(file, { stamp, hash });
    return hash;
  }
}

function readImageBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImageError(file, code === "ENOENT" ? "no such file" : `cannot read: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Cache

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** JSON with object keys sorted at every level, so equal questions hash equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Everything that changes the question asked; deliberately not the URL or any header (no secrets in keys). */
function cacheKey(config: JudgeConfig, imageHash: string, request: JudgeRequest): string {
  return sha256(
    canonicalJson({
      promptVersion: config.promptVersion,
      model: config.model,
      temperature: config.temperature,
      image: imageHash,
      block: request.block,
      patch: request.patch.box,
      words: request.words,
      images: config.images,
    }),
  );
}

/** `<cacheDir>/<first two hex digits>/<key>.json`, so no directory grows past a few thousand files. */
function cacheFile(cacheDir: string, key: string): string {
  return path.join(cacheDir, key.slice(0, 2), `${key}.json`);
}

const CACHE_FORMAT = "vislens-llm-judge-answer";

/** The cached lists, or undefined when there is no usable entry (missing or corrupt files are misses, to be overwritten). */
function readCachedLists(file: string, words: readonly string[]): JudgeLists | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  if (entry === null || typeof entry !== "object" || (entry as { format?: unknown }).format !== CACHE_FORMAT) return undefined;
  const lists = {} as JudgeLists;
  for (const kind of MATCH_KINDS) {
    const list = (entry as Record<string, unknown>)[kind];
    if (!Array.isArray(list) || !list.every((w) => typeof w === "string" && words.includes(w))) return undefined;
    lists[kind] = list as string[];
  }
  return lists;
}

function writeCachedAnswer(file: string, config: JudgeConfig, words: readonly string[], lists: JudgeLists, answer: string): void {
  const entry = {
    format: CACHE_FORMAT,
    version: 1,
    model: config.model,
    promptVersion: config.promptVersion,
    created: new Date().toISOString(),
    words,
    ...lists,
    answer,
  };
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, `${JSON.stringify(entry, null, 2)}\n`);
  } catch (error) {
    throw new ArtifactError(file, `cannot write the LLM judge's cached answer: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Asking

/** Asks until a usable answer arrives or the retries run out. */
async function askJudge(config: JudgeConfig, request: JudgeRequest, imageBytes: Uint8Array): Promise<{ lists: JudgeLists; answer: string }> {
  const body = JSON.stringify(await requestBody(config, request, imageBytes));
  const where = `patch (${request.patch.row}, ${request.patch.col}) of ${request.image}`;
  let last: Retryable | undefined;
  for (let attempt = 0; attempt <= config.retries; attempt++) {
    if (last) await sleep(retryDelay(config, attempt - 1, last.retryAfterMs));
    const apiKey = process.env[config.apiKeyEnv] || undefined;
    const outcome = await postOnce(config, body, apiKey);
    if (outcome.kind === "retryable") {
      last = outcome;
      continue;
    }
    const lists = parseJudgeAnswer(outcome.text, request.words);
    if (lists) return { lists, answer: redact(outcome.text, apiKey) };
    last = { kind: "retryable", problem: `malformed answer (no JSON object with concrete/abstract/global lists): ${excerpt(outcome.text, apiKey)}`, status: outcome.status };
  }
  const tries = config.retries + 1;
  throw new LlmJudgeError(config.endpoint, config.model, `no usable answer for ${where} after ${tries} attempt${tries === 1 ? "" : "s"}; last: ${last!.problem}`, last!.status);
}

/** The chat-completions request: system prompt, then the full picture, the close-up and the words. */
async function requestBody(config: JudgeConfig, request: JudgeRequest, imageBytes: Uint8Array): Promise<Record<string, unknown>> {
  const decoded = await decodeImageBuffer(imageBytes, request.image);
  const pictures = await renderJudgeImagesFrom(decoded, request.block, config.images, request.image);
  const text = judgeUserText(request.words);
  const image = (png: Buffer) => ({ type: "image_url", image_url: { url: `data:image/png;base64,${png.toString("base64")}` } });
  return {
    model: config.model,
    ...(config.temperature === null ? {} : { temperature: config.temperature }),
    response_format: { type: "json_object" },
    messages: [
      { role: "system", content: JUDGE_SYSTEM_PROMPT },
      {
        role: "user",
        content: [{ type: "text", text: text.full }, image(pictures.full), { type: "text", text: text.crop }, image(pictures.crop), { type: "text", text: text.words }],
      },
    ],
  };
}

interface Retryable {
  kind: "retryable";
  problem: string;
  status?: number;
  retryAfterMs?: number;
}

type Outcome = Retryable | { kind: "answer"; text: string; status: number };

/** One POST: the answer's text, a retryable failure, or a thrown LlmJudgeError for failures that retrying cannot fix. */
async function postOnce(config: JudgeConfig, body: string, apiKey: string | undefined): Promise<Outcome> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  let response: Response;
  let text: string;
  try {
    // The timeout covers reading the body too: a server that sends headers and then stalls is a timeout.
    const signal = AbortSignal.timeout(config.timeoutMs);
    response = await config.fetch(config.url, { method: "POST", headers, body, signal });
    text = await response.text();
  } catch (error) {
    return { kind: "retryable", problem: redact(describeFetchError(error, config.timeoutMs), apiKey) };
  }
  if (response.status === 429 || response.status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
    return {
      kind: "retryable",
      problem: `${httpStatus(response)}: ${excerpt(text, apiKey)}`,
      status: response.status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? ` (is the key in $${config.apiKeyEnv} right?${apiKey ? "" : " It is not set."})` : "";
    throw new LlmJudgeError(config.endpoint, config.model, `${httpStatus(response)}${hint}, not retried: ${excerpt(text, apiKey)}`, response.status);
  }
  const content = messageContent(text);
  if (content === undefined) return { kind: "retryable", problem: `the response is not a chat completion: ${excerpt(text, apiKey)}`, status: response.status };
  return { kind: "answer", text: content, status: response.status };
}

function httpStatus(response: Response): string {
  return `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
}

/** The first choice's message text from a chat-completions response body (string or text parts), or undefined. */
function messageContent(body: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const message = (json as { choices?: { message?: { content?: unknown; refusal?: unknown } }[] } | null)?.choices?.[0]?.message;
  if (!message) return undefined;
  if (typeof message.content === "string") return message.content;
  if (Array.isArray(message.content)) {
    return message.content.map((p: unknown) => (typeof p === "string" ? p : typeof (p as { text?: unknown })?.text === "string" ? (p as { text: string }).text : "")).join("");
  }
  // A refusal is an answer without lists: reported as a malformed answer with its text.
  if (typeof message.refusal === "string") return message.refusal;
  return undefined;
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `timed out after ${timeoutMs} ms`;
  const cause = e?.cause ? ` (${e.cause.code ?? e.cause.message ?? String(e.cause)})` : "";
  return `network error: ${e?.message ?? String(error)}${cause}`;
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The server's Retry-After when given, else exponential backoff with up to 25% jitter; capped either way. */
function retryDelay(config: JudgeConfig, retry: number, retryAfterMs: number | undefined): number {
  const backoff = config.retryBaseMs * 2 ** retry * (1 + 0.25 * Math.random());
  return Math.min(config.maxRetryDelayMs, retryAfterMs ?? backoff);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Removes the API key from text that may be shown or stored (some servers echo the key back). */
function redact(text: string, apiKey: string | undefined): string {
  return apiKey ? text.split(apiKey).join("[redacted]") : text;
}

/** A short, single-line, key-free quote of a body or answer for error messages. */
function excerpt(text: string, apiKey: string | undefined, max = 300): string {
  const flat = redact(text, apiKey).replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}...` : flat);
}

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * The match lists in a judge's answer, keeping only candidate words (compared case-insensitively,
 * spelled as the candidates are), or undefined when the answer holds no JSON object with at least
 * one of the lists. Tolerates ```json fences and prose around the object; accepts the keys
 * `concrete`, `concrete_words` and `concrete_matches` (likewise for abstract and global) in any
 * case; ignores other keys.
 */
export function parseJudgeAnswer(text: string, words: readonly string[]): JudgeLists | undefined {
  const object = findAnswerObject(text);
  if (!object) return undefined;
  const byName = new Map<string, string>();
  for (const w of words) if (!byName.has(normaliseWord(w))) byName.set(normaliseWord(w), w);
  const lists = {} as JudgeLists;
  for (const kind of MATCH_KINDS) {
    lists[kind] = answerList(object, kind)
      .map((w) => byName.get(normaliseWord(w)))
      .filter((w): w is string => w !== undefined);
  }
  return lists;
}

function normaliseWord(word: string): string {
  return word.normalize("NFC").trim().toLowerCase();
}

/** The first JSON object in the text (whole text, then fenced blocks, then the outermost braces) that has a match list. */
function findAnswerObject(text: string): Record<string, unknown> | undefined {
  const candidates = [text.trim()];
  for (const m of text.matchAll(/```[a-zA-Z]*\s*([\s\S]*?)```/g)) candidates.push(m[1].trim());
  const first = text.indexOf("{");
  const last = text.lastIndexOf("}");
  if (first !== -1 && last > first) candidates.push(text.slice(first, last + 1));
  for (const candidate of candidates) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value) && MATCH_KINDS.some((k) => answerKey(value as object, k) !== undefined)) {
      return value as Record<string, unknown>;
    }
  }
  return undefined;
}

function answerKey(object: object, kind: MatchKind): string | undefined {
  const names = new Set([kind, `${kind}_words`, `${kind}_matches`]);
  return Object.keys(object).find((k) => names.has(k.toLowerCase()));
}

/** One list from the answer object: strings of an array (a lone string counts as a list of one). */
function answerList(object: Record<string, unknown>, kind: MatchKind): string[] {
  const key = answerKey(object, kind);
  const value = key === undefined ? undefined : object[key];
  if (typeof value === "string") return value.trim() === "" ? [] : [value];
  return Array.isArray(value) ? value.filter((w): w is string => typeof w === "string") : [];
}
