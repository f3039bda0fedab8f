// The API docs as a visitor's browser renders them, in headless Chromium (Debian's
// package): every request the pages sent, those the CSP stopped in the browser, and
// how many operations were drawn. Usage: node docs_pages.mjs BASE_URL
// Prints one JSON line: {page: {sent, blocked, operations}}.
import { chromium } from "playwright-core";

const [base] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const pages = { "/api/docs/": ".opblock", "/api/redoc/": "[data-section-id^='operation/']" };
const seen = {};
try {
  for (const [path, operation] of Object.entries(pages)) {
    const page = await browser.newPage();
    const requests = [];
    const blocked = [];
    page.on("request", (request) => requests.push(request.url()));
    page.on("requestfailed", (request) => {
      // Chromium names a request the CSP stopped before it left the browser "csp".
      if (request.failure()?.errorText === "csp") blocked.push(request.url());
    });
    await page.goto(`${base}${path}`, { waitUntil: "networkidle" });
    await page.waitForSelector(operation, { timeout: 15000 });
    const sent = requests.filter((url) => !blocked.includes(url));
    seen[path] = { sent, blocked, operations: await page.locator(operation).count() };
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
