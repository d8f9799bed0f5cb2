// The chat page with the dev host's stand-in for App Service Authentication (SIOLESS_DEV_AUTH=1): a guest sees
// a sign-in link; after the dev sign-in the page says who is signed in and the socket connects as that user.
// Usage: node tests/e2e/signin_browser.mjs <devhost base url> <artifacts dir>. Prints one JSON line.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launch, newResult, openPage } from "./browser.mjs";

const [base, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const { result } = newResult();
const browser = await launch([]);
try {
  const page = await openPage(browser, result, "page", `${base}/api/chat`, { viewport: { width: 760, height: 420 }, console: "none" });
  await page.waitForSelector("#account:has-text('Chatting as a guest')");
  result.steps.push("a guest sees the sign-in link");
  await page.goto(`${base}/.auth/login/aad?user_id=zoe-oid&name=Zoe&post_login_redirect_uri=/api/chat`);
  await page.waitForSelector("#account:has-text('Signed in as Zoe')");
  await page.click("#connect");
  await page.waitForSelector("#status.online");
  const negotiated = await page.evaluate(async () => (await (await fetch("/api/chat/negotiate")).json()).userId);
  if (negotiated !== "zoe-oid") throw new Error(`negotiate from the page gave ${negotiated}`);
  result.steps.push("signed in: the page names Zoe and negotiate issues the token for zoe-oid");
  await page.screenshot({ path: join(artifacts, "chat-signed-in.png") });
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
} finally {
  await browser.close();
  console.log(JSON.stringify(result));
}
