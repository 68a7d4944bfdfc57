import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { after, before, beforeEach, test } from "node:test";
import sharp from "sharp";
import { blockBox, type JudgeRequest } from "../../src/eval/judge";
import { renderJudgeImages } from "../../src/eval/judge-images";
import { LlmJudgeError, llmJudge, parseJudgeAnswer, type LlmJudgeOptions } from "../../src/eval/llm-judge";
import { sampleCentrePatch } from "../../src/eval/sample-patches";
import { patchGeometry } from "../../src/model/geometry";
import { decodeImage, type RgbImage } from "../../src/model/image";
import { readManifest } from "../../src/model/manifest";
import { preprocessImage } from "../../src/model/preprocess";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { tempDir } from "../helpers/python";

const IMAGE = path.join(FIXTURE_BUNDLE, "eval", "0001.png"); // 64x64, "a big purple circle"
const KEY_ENV = "VISLENS_TEST_JUDGE_KEY";
const KEY = "sk-test-7f3a9c1e5b2d4068a1b2c3d4e5f60718";
const WORDS = ["Purple", "circle", "the", "banana", "round"];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// ---------------------------------------------------------------------------------------------
// A chat-completions server on 127.0.0.1 that records what it receives and answers as told.

type Reply = { status?: number; headers?: Record<string, string>; body: string } | "hang" | "reset";
interface Seen {
  url: string;
  method: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (shape checked by the tests themselves). */
  body: any;
}

function chatReply(content: string): Reply {
  return {
    body: JSON.stringify({
      id: "chatcmpl-test",
      object: "chat.completion",
      model: "test-model",
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    }),
  };
}

const ANSWER = JSON.stringify({ reasoning: "purple circle inside", concrete: ["purple"], abstract: ["ROUND"], global: ["circle", "sky"], interpretable: true });

let server: http.Server;
let baseUrl: string;
let seen: Seen[] = [];
let reply: (n: number) => Reply = () => chatReply(ANSWER);

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      seen.push({ url: req.url ?? "", method: req.method ?? "", headers: req.headers, body: text ? JSON.parse(text) : undefined });
      const r = reply(seen.length);
      if (r === "hang") return; // never answers; closed in after()
      if (r === "reset") return void req.socket.destroy(); // the connection drops: a network error
      res.writeHead(r.status ?? 200, { "content-type": "application/json", ...r.headers });
      res.end(r.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const savedEnv = { [KEY_ENV]: process.env[KEY_ENV], OPENAI_API_KEY: process.env.OPENAI_API_KEY };
after(() => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

beforeEach(() => {
  seen = [];
  reply = () => chatReply(ANSWER);
  process.env[KEY_ENV] = KEY;
});

function judgeWith(options: Partial<LlmJudgeOptions> = {}) {
  return llmJudge({ baseUrl, model: "test-model", apiKeyEnv: KEY_ENV, retryBaseMs: 1, timeoutMs: 2000, ...options });
}

// ---------------------------------------------------------------------------------------------
// A real request: the fixture model's patch geometry for the image, the paper's seeded block.

let original: RgbImage;
let request: JudgeRequest;

before(async () => {
  original = await decodeImage(IMAGE);
  const manifest = readManifest(FIXTURE_BUNDLE);
  const patches = patchGeometry(manifest, preprocessImage(original, manifest.vision.preprocess, manifest.vision.image_size));
  // The first seed from 42 whose block keeps 4 px clear of the image's edges, so the frame lies
  // wholly outside the block (the edge case has its own test).
  for (let seed = 42; !request; seed++) {
    const centre = sampleCentrePatch(patches, manifest.vision.grid, seed);
    const block = blockBox(patches, manifest.vision.grid, centre);
    if (block[0] >= 4 && block[1] >= 4 && block[2] <= original.width - 4 && block[3] <= original.height - 4) {
      request = { image: IMAGE, patch: patches[centre], block, words: WORDS };
    }
  }
});

function pixel(data: Uint8Array, width: number, x: number, y: number): number[] {
  return [...data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
}

async function rawPng(png: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Distance (in pixels, Chebyshev) of (x, y) outside the box; 0 inside. */
function outside(box: readonly number[], x: number, y: number): number {
  return Math.max(box[0] - x, x - (box[2] - 1), box[1] - y, y - (box[3] - 1), 0);
}

// ---------------------------------------------------------------------------------------------

test("the request carries the model, the key, both pictures as PNG data URLs and the candidate words", async () => {
  const judge = judgeWith();
  await judge.judge(request);
  assert.equal(seen.length, 1);
  const [{ url, method, headers, body }] = seen;
  assert.equal(method, "POST");
  assert.equal(url, "/v1/chat/completions");
  assert.equal(headers.authorization, `Bearer ${KEY}`);
  assert.equal(body.model, "test-model");
  assert.equal(body.temperature, 0);
  assert.deepEqual(body.response_format, { type: "json_object" });
  assert.equal(body.messages[0].role, "system");
  assert.match(body.messages[0].content, /concrete[\s\S]*abstract[\s\S]*global/);

  const parts = body.messages[1].content as { type: string; text?: string; image_url?: { url: string } }[];
  const images = parts.filter((p) => p.type === "image_url").map((p) => p.image_url!.url);
  assert.equal(images.length, 2);
  for (const u of images) assert.match(u, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  const [full, crop] = images.map((u) => Buffer.from(u.slice(u.indexOf(",") + 1), "base64"));
  for (const png of [full, crop]) assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  const words = parts.filter((p) => p.type === "text").map((p) => p.text).join("\n");
  for (const w of WORDS) assert.ok(words.includes(JSON.stringify(w)), `the prompt lists ${w}`);
  assert.equal(judge.name, "llm:test-model");

  // The full picture: the original's size and pixels, except a red frame 2-3 px wide just outside the block.
  const img = await rawPng(full);
  assert.deepEqual([img.width, img.height, img.channels], [original.width, original.height, 3]);
  let red = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const d = outside(request.block, x, y);
      const got = pixel(img.data, img.width, x, y);
      if (d === 1 || d === 2) {
        assert.deepEqual(got, [255, 0, 0], `frame pixel (${x}, ${y})`);
        red++;
      } else if (d === 0 || d >= 4) {
        assert.deepEqual(got, pixel(original.data, original.width, x, y), `pixel (${x}, ${y}) unchanged`);
      }
    }
  }
  assert.ok(red > 0);

  // The close-up: short side >= 224, whole-factor nearest-neighbour enlargement of the original's pixels.
  const rendered = await renderJudgeImages(request);
  assert.ok(rendered.crop.equals(crop), "the request carries renderJudgeImages' close-up");
  const c = await rawPng(crop);
  assert.ok(Math.min(c.width, c.height) >= 224, `close-up is ${c.width}x${c.height}`);
  const f = rendered.cropScale;
  assert.ok(Number.isInteger(f) && f > 1);
  const [bx0, by0, bx1, by1] = rendered.cropBlock;
  for (let y = by0; y < by1; y++) {
    for (let x = bx0; x < bx1; x++) {
      const ox = rendered.cropRegion[0] + Math.floor(x / f);
      const oy = rendered.cropRegion[1] + Math.floor(y / f);
      assert.deepEqual(pixel(c.data, c.width, x, y), pixel(original.data, original.width, ox, oy), `close-up pixel (${x}, ${y})`);
    }
  }
  assert.deepEqual(pixel(c.data, c.width, bx0 - 1, by0 - 1), [255, 0, 0], "the close-up is framed too");
});

test("the verdict keeps only candidate words, spelled as the candidates, and ranks concrete first", async () => {
  const verdict = await judgeWith().judge(request);
  assert.deepEqual(verdict, { concrete: ["Purple"], abstract: ["round"], global: ["circle"], best: "concrete", interpretable: true });

  reply = () => chatReply(JSON.stringify({ concrete: [], abstract: [], global: ["banana"] }));
  assert.deepEqual(await judgeWith().judge({ ...request, words: [...WORDS, "x"] }), { concrete: [], abstract: [], global: ["banana"], best: "global", interpretable: true });
  reply = () => chatReply(JSON.stringify({ concrete: ["sky"], abstract: [], global: [] }));
  const none = await judgeWith().judge({ ...request, words: [...WORDS, "y"] });
  assert.equal(none.best, "none");
  assert.equal(none.interpretable, false);
});

test("the key comes from OPENAI_API_KEY by default, is read at call time, and no header is sent without it", async () => {
  process.env.OPENAI_API_KEY = "sk-default-env-key";
  const judge = llmJudge({ baseUrl, model: "test-model", retryBaseMs: 1 });
  await judge.judge(request);
  assert.equal(seen[0].headers.authorization, "Bearer sk-default-env-key");
  delete process.env.OPENAI_API_KEY;
  await judge.judge({ ...request, words: ["other"] });
  assert.equal(seen[1].headers.authorization, undefined);
  assert.ok(!judge.name.includes("sk-") && !judge.name.includes("127.0.0.1"));
});

test("the cache: an identical question is answered from disk, a different one is asked, the key is never stored", async () => {
  const cacheDir = path.join(tempDir(), "judge-cache");
  const first = await judgeWith({ cacheDir }).judge(request);
  assert.equal(seen.length, 1);
  // A fresh judge (so nothing is remembered in memory) with the same question: no request at all.
  const again = await judgeWith({ cacheDir }).judge(request);
  assert.equal(seen.length, 1);
  assert.deepEqual(again, first);
  await judgeWith({ cacheDir }).judge({ ...request, words: ["Purple", "circle", "the", "banana", "square"] });
  assert.equal(seen.length, 2, "other words: a new question");
  await judgeWith({ cacheDir, model: "other-model" }).judge(request);
  assert.equal(seen.length, 3, "another model: a new question");

  const files = walk(cacheDir);
  assert.equal(files.length, 3);
  for (const file of files) {
    assert.match(path.relative(cacheDir, file), /^([0-9a-f]{2})[/\\]\1[0-9a-f]{62}\.json$/);
    const text = fs.readFileSync(file, "utf8");
    assert.ok(!text.includes(KEY) && !text.includes("authorization") && !text.includes("Bearer"), `${file} holds no key or header`);
    const entry = JSON.parse(text);
    assert.equal(typeof entry.answer, "string");
    assert.ok(Array.isArray(entry.concrete) && Array.isArray(entry.abstract) && Array.isArray(entry.global));
    assert.ok(!Number.isNaN(Date.parse(entry.created)));
  }

  // A corrupt entry is a miss: asked again and overwritten with a good one.
  const entryFile = files.find((f) => JSON.parse(fs.readFileSync(f, "utf8")).model === "other-model")!;
  fs.writeFileSync(entryFile, '{"format": "vislens-llm-judge-ans');
  assert.deepEqual(await judgeWith({ cacheDir, model: "other-model" }).judge(request), first);
  assert.equal(seen.length, 4);
  assert.equal(JSON.parse(fs.readFileSync(entryFile, "utf8")).model, "other-model");
  assert.equal(walk(cacheDir).length, 3, "no temporary files left behind");
});

test("identical questions in flight at once are asked once", async () => {
  const judge = judgeWith();
  const verdicts = await Promise.all([judge.judge(request), judge.judge(request), judge.judge(request)]);
  assert.equal(seen.length, 1);
  assert.deepEqual(verdicts[1], verdicts[0]);
});

test("HTTP 500 then 200: retried and answered", async () => {
  reply = (n) => (n === 1 ? { status: 500, body: '{"error": "overloaded"}' } : chatReply(ANSWER));
  const verdict = await judgeWith().judge(request);
  assert.equal(seen.length, 2);
  assert.equal(verdict.best, "concrete");
});

test("a dropped connection is a network error: retried and answered", async () => {
  reply = (n) => (n === 1 ? "reset" : chatReply(ANSWER));
  assert.equal((await judgeWith().judge(request)).best, "concrete");
  assert.equal(seen.length, 2);
  seen = [];
  reply = () => "reset";
  await assert.rejects(judgeWith({ retries: 1 }).judge(request), /after 2 attempts; last: network error: fetch failed/);
});

test("HTTP 429 with Retry-After: the judge waits as told (capped by maxRetryDelayMs)", async () => {
  reply = (n) => (n === 1 ? { status: 429, headers: { "retry-after": "1" }, body: '{"error": "rate limited"}' } : chatReply(ANSWER));
  let start = Date.now();
  await judgeWith().judge(request);
  assert.equal(seen.length, 2);
  assert.ok(Date.now() - start >= 950, `waited ${Date.now() - start} ms for Retry-After: 1`);

  seen = [];
  reply = (n) => (n === 1 ? { status: 429, headers: { "retry-after": "3600" }, body: "{}" } : chatReply(ANSWER));
  start = Date.now();
  await judgeWith({ maxRetryDelayMs: 50 }).judge(request);
  assert.equal(seen.length, 2);
  assert.ok(Date.now() - start < 1000, `an hour's Retry-After is capped (${Date.now() - start} ms)`);
});

test("a server that hangs: each attempt times out, then a clear error", async () => {
  reply = () => "hang";
  const start = Date.now();
  await assert.rejects(judgeWith({ timeoutMs: 150, retries: 1 }).judge(request), (error: unknown) => {
    assert.ok(error instanceof LlmJudgeError);
    assert.match(error.message, /"test-model"/);
    assert.ok(error.message.includes(`${baseUrl}/chat/completions`));
    assert.match(error.message, /after 2 attempts; last: timed out after 150 ms/);
    assert.ok(error.message.includes("0001.png"));
    return true;
  });
  assert.equal(seen.length, 2);
  assert.ok(Date.now() - start < 2000);
});

test("HTTP 401: no retry, the status in the message, the key not (even when the server echoes it)", async () => {
  reply = () => ({ status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}` } }) });
  const judge = judgeWith({ baseUrl: `${baseUrl}?api-version=2024-06-01` });
  await assert.rejects(judge.judge(request), (error: unknown) => {
    assert.ok(error instanceof LlmJudgeError);
    assert.equal(error.status, 401);
    assert.match(error.message, /HTTP 401 Unauthorized/);
    assert.match(error.message, /not retried/);
    assert.match(error.message, /Incorrect API key provided: \[redacted\]/);
    assert.ok(!error.message.includes(KEY) && !error.stack!.includes(KEY));
    assert.ok(!error.message.includes("api-version"), "the query is left out of messages");
    return true;
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].url, "/v1/chat/completions?api-version=2024-06-01");
});

test("a malformed answer: asked again, then an error naming endpoint, model and the text", async () => {
  reply = () => chatReply("I think the purple words are nice.");
  await assert.rejects(judgeWith({ retries: 2 }).judge(request), (error: unknown) => {
    assert.ok(error instanceof LlmJudgeError);
    assert.ok(error.message.includes(`${baseUrl}/chat/completions`));
    assert.match(error.message, /"test-model"/);
    assert.match(error.message, /malformed answer .*"I think the purple words are nice\."/);
    return true;
  });
  assert.equal(seen.length, 3);

  seen = [];
  reply = () => ({ body: "<html>proxy error</html>" });
  await assert.rejects(judgeWith({ retries: 0 }).judge(request), /not a chat completion: "<html>proxy error<\/html>"/);
});

test("a fenced JSON answer with prose around it is parsed", async () => {
  reply = () => chatReply(`Sure! Here is my judgement:\n\`\`\`json\n{"concrete": ["PURPLE"], "abstract": [], "global": []}\n\`\`\`\nLet me know if you need more.`);
  assert.deepEqual(await judgeWith().judge(request), { concrete: ["Purple"], abstract: [], global: [], best: "concrete", interpretable: true });
});

test("parseJudgeAnswer: the paper's key names, lone strings, unknown keys, and what is not an answer", () => {
  assert.deepEqual(parseJudgeAnswer('{"concrete_words": ["circle"], "abstract_words": "round", "global_words": [3, "the"], "why": "x"}', WORDS), {
    concrete: ["circle"],
    abstract: ["round"],
    global: ["the"],
  });
  assert.deepEqual(parseJudgeAnswer('The answer is {"Concrete": [" Purple "]} as asked.', WORDS), { concrete: ["Purple"], abstract: [], global: [] });
  assert.equal(parseJudgeAnswer('{"answer": ["circle"]}', WORDS), undefined);
  assert.equal(parseJudgeAnswer('["circle"]', WORDS), undefined);
  assert.equal(parseJudgeAnswer('{"concrete": ["circle"', WORDS), undefined);
  assert.equal(parseJudgeAnswer("", WORDS), undefined);
});

test("renderJudgeImages: a block at the image's edge keeps its frame inside the image; a block outside is refused", async () => {
  const r = await renderJudgeImages({ image: IMAGE, block: [8, 0, 32, 24] });
  const img = await rawPng(r.full);
  for (let x = 8; x < 32; x++) assert.deepEqual(pixel(img.data, img.width, x, 0), [255, 0, 0], `top edge pixel (${x}, 0)`);
  assert.deepEqual(pixel(img.data, img.width, 20, 12), pixel(original.data, original.width, 20, 12));
  await assert.rejects(renderJudgeImages({ image: IMAGE, block: [40, 40, 72, 64] }), /0001\.png: block \[40,40,72,64\] is not a box .* inside the 64x64 image/);
});

test("renderJudgeImages: a large photo is shrunk to maxSide, the frame still around the (scaled) block", async () => {
  const file = path.join(tempDir(), "large.png");
  await sharp({ create: { width: 3000, height: 2000, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toFile(file);
  const r = await renderJudgeImages({ image: file, block: [1500.5, 900, 1800, 1200.25] }, { maxSide: 1000 });
  assert.deepEqual(r.fullSize, { width: 1000, height: 667 });
  assert.deepEqual(r.fullBlock, [500, 300, 600, 401]);
  const img = await rawPng(r.full);
  assert.deepEqual([img.width, img.height], [1000, 667]);
  assert.deepEqual(pixel(img.data, img.width, 499, 350), [255, 0, 0]);
  assert.deepEqual(pixel(img.data, img.width, 550, 350), [10, 200, 30]);
  assert.equal(r.cropScale, 1, "a 300 px block needs no enlargement");
});

test("llmJudge refuses options it cannot use safely, before any request", () => {
  assert.throws(() => llmJudge({ baseUrl: "http://user:secret@127.0.0.1/v1", model: "m" }), /must not contain user:password/);
  assert.throws(() => llmJudge({ baseUrl: "ftp://127.0.0.1/v1", model: "m" }), /must be http\(s\), got ftp:/);
  assert.throws(() => llmJudge({ baseUrl, model: "" }), /`model` must be a non-empty string/);
  assert.throws(() => llmJudge({ baseUrl, model: "m", retries: -1 }), /`retries` must be a number >= 0, got -1/);
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
