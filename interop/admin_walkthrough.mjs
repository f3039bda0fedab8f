// A support person's visit to the admin, in headless Chromium (Debian's package,
// no downloaded browser): log in, find a user by e-mail, open their tasks,
// complete them with the bulk action, try to delete the user.
// Usage: node admin_walkthrough.mjs BASE_URL USERNAME PASSWORD EMAIL SCREENSHOT.png
// Prints one JSON line of what it saw; exits non-zero if a step failed.
import { chromium } from "playwright-core";

const [base, username, password, email, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}/admin/login/`);
  await page.fill("#id_username", username);
  await page.fill("#id_password", password);
  await Promise.all([page.waitForNavigation(), page.click("input[type=submit]")]);

  await page.goto(`${base}/admin/accounts/betterauthuser/?q=${encodeURIComponent(email)}`);
  seen.usersFound = await page.locator("#result_list tbody tr").count();
  await Promise.all([page.waitForNavigation(), page.locator("#result_list tbody tr th a").first().click()]);
  await Promise.all([page.waitForNavigation(), page.getByText("See and fix the tasks of this user").click()]);
  seen.tasksListed = await page.locator("#result_list tbody tr").count();

  await page.check("#action-toggle");
  await page.selectOption("select[name=action]", "mark_completed");
  await Promise.all([page.waitForNavigation(), page.click("button[name=index]")]);
  seen.message = (await page.locator(".messagelist").innerText()).trim();
  seen.stylesheetApplied = await page.evaluate(
    () => getComputedStyle(document.querySelector("#header")).backgroundColor !== "rgba(0, 0, 0, 0)",
  );
  await page.screenshot({ path: screenshot, fullPage: true });

  const userId = new URL(page.url()).searchParams.get("user__id__exact");
  const deletion = await page.goto(`${base}/admin/accounts/betterauthuser/${encodeURIComponent(userId)}/delete/`);
  seen.deleteStatus = deletion.status();
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
