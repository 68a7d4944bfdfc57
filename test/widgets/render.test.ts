import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import sharp from "sharp";
import { compileSpec } from "../../widgets/render/compile";
import { svgToPNG } from "../../widgets/render/png";
import { saveFigure } from "../../widgets/render/save";
import { renderSVG, xmlSafe } from "../../widgets/render/svg";
import { renderSVGSync } from "../../widgets/render/svg-sync";
import { VEGALITE_SCHEMA, type VegaLiteSpec } from "../../widgets/spec";
import { createWidget } from "../../widgets/widget";
import { assertWellFormedSVG, svgTexts } from "./check";

const bars: VegaLiteSpec = {
  $schema: VEGALITE_SCHEMA,
  width: 200,
  height: 100,
  data: { values: [{ a: "x", b: 1 }, { a: "y", b: 3 }, { a: "z", b: 2 }] },
  mark: "bar",
  encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" }, color: { field: "b", type: "quantitative" } },
};

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "vislens-widgets-"));
}

describe("compileSpec", () => {
  it("compiles a v5 spec to Vega with no warnings", () => {
    const { vega, warnings } = compileSpec(bars);
    assert.deepEqual(warnings, []);
    assert.equal((vega as { $schema: string }).$schema, "https://vega.github.io/schema/vega/v5.json");
  });

  it("captures vega-lite's warnings instead of printing them", () => {
    // A shape channel on a bar is dropped with a warning.
    const { warnings } = compileSpec({ ...bars, encoding: { ...(bars.encoding as object), shape: { field: "a", type: "nominal" } } });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /shape/);
  });

  it("throws on an invalid spec", () => {
    assert.throws(() => compileSpec({ $schema: VEGALITE_SCHEMA, mark: "bar", encoding: { x: { field: "a", type: "quantitative" } }, transform: [{ lookup: "a" }] } as VegaLiteSpec));
  });
});

describe("renderSVG", () => {
  it("renders a chart with a gradient legend to well-formed SVG", async () => {
    const { svg, warnings } = await renderSVG(bars);
    assert.deepEqual(warnings, []);
    assertWellFormedSVG(svg);
    assert.equal((svg.match(/<path[^>]*aria-roledescription="bar"/g) ?? []).length, 3);
    assert.match(svg, /<linearGradient/);
    for (const t of ["x", "y", "z"]) assert.ok(svgTexts(svg).includes(t), `axis label ${t}`);
  });

  it("replaces characters XML forbids", () => {
    assert.equal(xmlSafe("<svg>a\u0010b\ud800c\ud83d\ude00</svg>"), "<svg>a\ufffdb\ufffdc\ud83d\ude00</svg>");
    assert.equal(xmlSafe("<svg>\t\n\r ok</svg>"), "<svg>\t\n\r ok</svg>");
  });

  it("renders synchronously in a worker, identically", async () => {
    const sync = renderSVGSync(bars);
    assert.equal(sync.svg, (await renderSVG(bars)).svg);
  });
});

describe("save", () => {
  it('save("x.svg") writes the SVG and leaves no temporary file', async () => {
    const dir = tmpdir();
    const w = createWidget({ spec: bars, summary: "bars" });
    await w.save(path.join(dir, "x.svg"));
    const text = fs.readFileSync(path.join(dir, "x.svg"), "utf8");
    assertWellFormedSVG(text);
    assert.equal(text, await w.toSVG());
    assert.deepEqual(fs.readdirSync(dir), ["x.svg"]);
  });

  it('save("x.png") writes a real PNG at twice the SVG size by default', async () => {
    const dir = tmpdir();
    const w = createWidget({ spec: bars, summary: "bars" });
    await w.save(path.join(dir, "x.png"));
    const bytes = fs.readFileSync(path.join(dir, "x.png"));
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const svg = await w.toSVG();
    const [, sw, sh] = svg.match(/width="(\d+)" height="(\d+)"/)!.map(Number);
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.format, "png");
    assert.equal(meta.width, sw * 2);
    assert.equal(meta.height, sh * 2);
    // Not blank: the bars are drawn in colour.
    const stats = await sharp(bytes).stats();
    assert.ok(stats.channels.some((c) => c.min < 200), "the PNG is blank");
    await w.save(path.join(dir, "small.png"), { scale: 1 });
    assert.equal((await sharp(path.join(dir, "small.png")).metadata()).width, sw);
  });

  it("refuses other extensions with a clear error, writing nothing", async () => {
    const dir = tmpdir();
    const w = createWidget({ spec: bars, summary: "bars" });
    await assert.rejects(w.save(path.join(dir, "x.pdf")), (e: Error) => e instanceof RangeError && /"\.pdf" is not supported; use \.svg or \.png/.test(e.message));
    await assert.rejects(w.save(path.join(dir, "noext")), /"\(none\)" is not supported/);
    await assert.rejects(w.save(path.join(dir, "missing", "x.svg")), /does not exist/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it("keeps the old file and leaves no temporary file when rendering fails", async () => {
    const dir = tmpdir();
    const file = path.join(dir, "x.svg");
    fs.writeFileSync(file, "old");
    await assert.rejects(
      saveFigure(file, async () => {
        throw new Error("render failed");
      }),
      /render failed/,
    );
    assert.equal(fs.readFileSync(file, "utf8"), "old");
    assert.deepEqual(fs.readdirSync(dir), ["x.svg"]);
  });

  it("svgToPNG rejects a bad scale", () => {
    assert.throws(() => svgToPNG("<svg xmlns='http://www.w3.org/2000/svg' width='2' height='2'/>", { scale: 0 }), RangeError);
  });
});

describe("scopeIds", () => {
  it("gives equal charts equal SVG and different charts different ids", async () => {
    const a = (await renderSVG(bars)).svg;
    const b = (await renderSVG(bars)).svg;
    assert.equal(a, b);
    const ids = [...a.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(ids.length > 0 && ids.every((id) => /^vl[0-9a-f]{10}-i\d+$/.test(id)), `ids: ${ids}`);
    for (const id of ids) assert.ok(a.includes(`url(#${id})`), `gradient ${id} is referenced`);
    const c = (await renderSVG({ ...bars, width: 300 })).svg;
    const idsC = [...c.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(idsC.every((id) => !ids.includes(id)));
  });
});
