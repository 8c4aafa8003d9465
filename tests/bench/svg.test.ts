import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { makeRow, measured } from "../../scripts/bench/results.ts";
import { axisDecades, escapeXml, renderSvg } from "../../scripts/bench/svg.ts";
import { bootRow, notYetRow, sampleResults } from "./fixtures.ts";
import { allElements, deepText, parseXml, XmlError } from "./xml.ts";

describe("the test's XML parser", () => {
  it("accepts well-formed XML and rejects the usual mistakes", () => {
    const doc = parseXml(`<?xml version="1.0"?>\n<a x="1" y='2'><b/>t &amp; &lt;u&gt;<!-- c --><c>&#65;&#x42;</c></a>\n`);
    expect(doc.name).toBe("a");
    expect(doc.attrs).toEqual({ x: "1", y: "2" });
    expect(deepText(doc)).toBe("t & <u>AB");
    for (const bad of ["<a><b></a></b>", "<a x=1/>", "<a x='1' x='2'/>", "<a>&nope;</a>", "<a>a & b</a>", "<a/><b/>", "<a>", "<a x='<'/>"]) {
      expect(() => parseXml(bad), bad).toThrow(XmlError);
    }
  });
});

describe("results.svg", () => {
  const results = sampleResults([
    bootRow([100, 120, 90], [2000, 2100, 1900]),
    bootRow([300], [100], 2),
    makeRow({ ...bootRow([1], [2]), id: "odd", label: `a <label> & "quotes" 'too'` }),
    notYetRow(),
  ]);
  const svg = renderSvg(results);
  const root = parseXml(svg);
  const elements = allElements(root);

  it("is a well-formed SVG document", () => {
    expect(svg.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<svg`)).toBe(true);
    expect(root.name).toBe("svg");
    expect(root.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    expect(Number(root.attrs.width)).toBeGreaterThan(0);
    expect(Number(root.attrs.height)).toBeGreaterThan(0);
    expect(root.attrs.viewBox).toBe(`0 0 ${root.attrs.width} ${root.attrs.height}`);
  });

  it("has one row group per row and one bar per row with a ratio", () => {
    const rows = elements.filter((e) => e.name === "g" && e.attrs.class === "row");
    expect(rows.map((e) => e.attrs["data-id"])).toEqual(["boot.qemu@1", "boot.qemu@2", "odd", "tcp_rr"]);
    const bars = elements.filter((e) => e.name === "rect" && e.attrs.class === "bar");
    expect(bars).toHaveLength(3);
    for (const bar of bars) {
      for (const key of ["x", "y", "width", "height"]) expect(Number.isFinite(Number(bar.attrs[key])), key).toBe(true);
      expect(Number(bar.attrs.width)).toBeGreaterThan(0);
    }
  });

  it("draws bars from the 1.0 line: left when Wisp's figure is smaller, right when larger", () => {
    const one = elements.find((e) => e.name === "line" && e.attrs["stroke-width"] === "2");
    expect(one).toBeDefined();
    const x1 = Number(one!.attrs.x1);
    const [wispFaster, linuxFaster] = elements.filter((e) => e.name === "rect" && e.attrs.class === "bar");
    expect(Number(wispFaster.attrs.x) + Number(wispFaster.attrs.width)).toBeCloseTo(x1, 0);
    expect(Number(linuxFaster.attrs.x)).toBeCloseTo(x1, 0);
    expect(wispFaster.attrs.fill).not.toBe(linuxFaster.attrs.fill);
  });

  it("escapes labels and says why a row has no bar", () => {
    expect(deepText(root)).toContain(`a <label> & "quotes" 'too', 1 vCPU`);
    const missing = elements.filter((e) => e.attrs.class === "missing").map(deepText);
    expect(missing).toEqual(["Wisp not yet: Wisp has no TCP stack"]);
  });

  it("is still well-formed with no rows at all", () => {
    expect(parseXml(renderSvg(sampleResults([]))).name).toBe("svg");
  });

  it("parses with Python's XML parser too, when python3 is installed", () => {
    const py = spawnSync("python3", ["-c", "import sys, xml.etree.ElementTree as E; r = E.fromstring(sys.stdin.buffer.read()); print(r.tag)"], { input: svg, encoding: "utf8" });
    if (py.error !== undefined) return; // no python3 here
    expect(py.stdout.trim()).toBe("{http://www.w3.org/2000/svg}svg");
  });

  it("spans at least 0.1 to 10 and widens to every ratio", () => {
    expect(axisDecades([])).toEqual([-1, 1]);
    expect(axisDecades([0.0049, 1.2])).toEqual([-3, 1]);
    expect(axisDecades([250])).toEqual([-1, 3]);
    expect(axisDecades([0, -1, Number.NaN])).toEqual([-1, 1]);
  });

  it("escapes the five XML specials", () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
  });

  it("keeps a measured row without a Linux figure out of the bars", () => {
    const row = makeRow({ ...bootRow([1], [1]), linux: { state: "failed", reason: "timed out", samples: [] }, wisp: measured([1]) });
    const doc = parseXml(renderSvg(sampleResults([row])));
    expect(allElements(doc).filter((e) => e.attrs.class === "bar")).toHaveLength(0);
    expect(allElements(doc).filter((e) => e.attrs.class === "missing").map(deepText)).toEqual(["Linux FAILED: timed out"]);
  });
});
