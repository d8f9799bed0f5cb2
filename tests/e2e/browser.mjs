// Shared by the page-driving scripts in tests/e2e (each run by its test_*.py): Chromium, pages that record their
// console into the result, the result record, lines from the caller on stdin, and a PNG built in memory.
import { createInterface } from "node:readline";
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";

// Headless Chromium from CHROMIUM (the test sets it); `args` are added to the flags every script uses.
export function launch(args = ["--disable-quic"]) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--disable-gpu", ...args],
  });
}

// The JSON result the script prints last ({ ok, steps, console, ...fields }) and `step`, which records one.
export function newResult(fields = {}, { echo = false } = {}) {
  const result = { ok: false, steps: [], console: [], ...fields };
  const step = (text) => {
    result.steps.push(text);
    if (echo) process.stderr.write(`step: ${text}\n`);
  };
  return { result, step };
}

// Lines from the caller, kept until asked for (one written before the question is not lost); `close` lets the
// process end.
export function callerLines() {
  const inbox = [];
  const waiting = [];
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => (waiting.length ? waiting.shift()(line) : inbox.push(line)));
  const nextLine = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((resolve) => waiting.push(resolve)));
  return { nextLine, close: () => lines.close() };
}

// A page (in a context of its own unless `context` is given) at `url`, its console recorded into
// `result.console` as "<name>: <type>: <text>": every message (`console: "all"`), errors only ("errors"), or
// none ("none"); uncaught page errors always, as "<name>: pageerror: <message>".
export async function openPage(browser, result, name, url, options = {}) {
  const { context = null, viewport = { width: 900, height: 560 }, timeout = 15000, console = "all" } = options;
  const page = await (context ?? (await browser.newContext({ viewport }))).newPage();
  page.setDefaultTimeout(timeout);
  if (console !== "none") {
    page.on("console", (m) => {
      if (console === "all" || m.type() === "error") result.console.push(`${name}: ${m.type()}: ${m.text()}`);
    });
  }
  page.on("pageerror", (e) => result.console.push(`${name}: pageerror: ${e.message}`));
  await page.goto(url);
  return page;
}

// A PNG of `width` x `height` whose pixel (x, y) is `rgb(x, y)` = [r, g, b], so a test needs no image file.
export function png(width, height, rgb) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (kind, data) => {
    const body = Buffer.concat([Buffer.from(kind), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set(rgb(x, y), 1 + x * 3);
    rows.push(row);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}
