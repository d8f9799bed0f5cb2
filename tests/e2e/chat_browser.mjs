// Two headless Chromium pages chat in a room through the chat page (dev host + emulator).
// Usage: node tests/e2e/chat_browser.mjs <devhost base url> <artifacts dir>. Prints one JSON line.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launch, newResult, openPage } from "./browser.mjs";

const [base, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const TIMEOUT = 10000;
const { result } = newResult();

const browser = await launch();
try {
  const open = async (name) => {
    const url = `${base}/api/chat?name=${name}`;
    const page = await openPage(browser, result, name, url, { viewport: { width: 760, height: 520 }, timeout: TIMEOUT });
    await page.click("#connect");
    await page.waitForSelector(`#status.online`);
    await page.fill("#room", "lobby");
    await page.click("#join");
    await page.waitForSelector("#messages li.system:has-text('you joined lobby')");
    result.steps.push(`${name} joined lobby`);
    return page;
  };
  const alice = await open("alice");
  const bob = await open("bob");
  await alice.waitForSelector("#messages li.system:has-text('bob joined')");
  result.steps.push("alice saw bob join");

  await bob.type("#text", "hi alice", { delay: 20 });
  await alice.waitForSelector("#typing:has-text('bob is typing')");
  result.steps.push("alice saw bob typing");
  await bob.click("#send");
  await bob.waitForSelector("#messages li.mine .state.delivered");
  await alice.waitForSelector("#messages li.theirs:has-text('hi alice')");
  result.steps.push("bob's message delivered (ack) and shown to alice");

  await alice.fill("#text", "hello bob, nice to see you here");
  await alice.click("#send");
  await alice.waitForSelector("#messages li.mine:has-text('hello bob') .state.delivered");
  await bob.waitForSelector("#messages li.theirs:has-text('hello bob')");
  result.steps.push("alice's message delivered (ack) and shown to bob");

  const shots = [];
  for (const [name, page] of [["alice", alice], ["bob", bob]]) {
    const path = join(artifacts, `chat-${name}.png`);
    shots.push((await page.screenshot({ path })).toString("base64"));
  }
  const both = await (await browser.newContext({ viewport: { width: 1600, height: 540 } })).newPage();
  await both.setContent(
    `<body style="margin:0;display:flex;gap:20px;background:#333">` +
      shots.map((b64) => `<img style="display:block" src="data:image/png;base64,${b64}">`).join("") +
      `</body>`,
  );
  await both.screenshot({ path: join(artifacts, "chat-two-pages.png") });
  result.screenshot = join(artifacts, "chat-two-pages.png");
  result.ok = true;
} catch (err) {
  result.error = String((err && err.stack) || err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
