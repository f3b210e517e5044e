// The console in a real browser (Debian's Chromium through playwright-core), against the
// `atende` binary: started by infra/local/tests/e2e/console.rs, which passes the server's
// address, the admin's login, the Meta app secret and the customer's payloads.
//
// Log in, create a user and a team (admin), see a customer's message arrive without
// reloading, assume it, reply, see the reply reach "lida", transfer it to the new agent
// who sees it arrive live in a second browser context, complete it with a classification.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import zlib from "node:zlib";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run through the e2e test)`);
  return value;
};
const base = env("ATENDE_URL");
const shots = env("ATENDE_SCREENSHOTS");
fs.mkdirSync(shots, { recursive: true });
const step = (text) => console.log(`· ${text}`);

async function meta(payload) {
  const body = JSON.stringify(payload);
  const signature = crypto.createHmac("sha256", env("ATENDE_META_APP_SECRET")).update(body).digest("hex");
  const response = await fetch(`${base}/webhooks/whatsapp`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${signature}` },
    body,
  });
  assert.equal(response.status, 200, `Meta's webhook was refused: ${await response.text()}`);
}

async function api(token, method, route, body) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

const shoot = (page, name) => page.screenshot({ path: path.join(shots, `${name}.png`) });

async function login(page, email, password) {
  await page.goto(`${base}/`);
  await page.locator("input[name=email]").fill(email);
  await page.locator("input[name=password]").fill(password);
  await page.getByRole("button", { name: "Entrar" }).click();
  await page.locator('[data-tab="pending"]').waitFor();
  await page.locator('[data-live="on"]').waitFor();
}

/** A marker on the page's window: still there later means the page never reloaded. */
const mark = (page) => page.evaluate(() => { window.__stayed = true; });
const stayed = (page) => page.evaluate(() => window.__stayed === true);

const browser = await chromium.launch({
  executablePath: env("CHROMIUM"),
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const laptop = { viewport: { width: 1366, height: 768 }, locale: "pt-BR" };
  const anaContext = await browser.newContext(laptop);
  const ana = await anaContext.newPage();
  ana.on("pageerror", (e) => { console.error("page error (Ana):", e); failed = true; });

  step("the console's login is served at /");
  await ana.goto(`${base}/`);
  await ana.getByRole("heading", { name: "Entrar" }).waitFor();
  const interactive = await ana.evaluate(() => Math.round(performance.now()));
  await shoot(ana, "login");

  // The first load's weight: every file of the page, gzipped (the budget is 300 KB).
  const page = await (await fetch(`${base}/`)).text();
  const files = ["/", ...[...page.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])];
  let gzipped = 0;
  for (const file of files) {
    gzipped += zlib.gzipSync(Buffer.from(await (await fetch(`${base}${file}`)).arrayBuffer()), { level: 9 }).length;
  }
  console.log(`first load: ${files.length} files, ${(gzipped / 1024).toFixed(1)} KB gzip; login interactive ${interactive} ms after navigation`);
  assert.ok(gzipped <= 300 * 1024, `the first load is ${gzipped} bytes gzip, over the 300 KB budget`);
  await login(ana, env("ATENDE_ADMIN_EMAIL"), env("ATENDE_ADMIN_PASSWORD"));

  step("the admin creates a user");
  await ana.goto(`${base}/#/admin/users`);
  await ana.locator("input[name=name]").fill("Bruno Lima");
  await ana.locator("input[name=email]").fill("bruno@acme.example");
  await ana.locator("input[name=password]").fill("correct horse 2");
  await ana.locator("select[name=profile]").selectOption("agent");
  await ana.getByRole("button", { name: "Criar" }).click();
  await ana.locator("table[data-table=users] td", { hasText: "bruno@acme.example" }).waitFor();
  await shoot(ana, "admin-users");

  step("the admin creates a team with the user in it");
  await ana.goto(`${base}/#/admin/teams`);
  await ana.locator("input[name=team-name]").fill("Suporte");
  await ana.getByRole("button", { name: "Criar" }).click();
  await ana.locator('li[data-team="Suporte"] select[name=member]').selectOption({ label: "Bruno Lima" });
  await ana.locator('li[data-team="Suporte"] [data-action=add-member]').click();
  await ana.locator('li[data-team="Suporte"] li', { hasText: "Bruno Lima" }).waitFor();

  step("the new agent logs in in a second browser");
  const brunoContext = await browser.newContext(laptop);
  const bruno = await brunoContext.newPage();
  bruno.on("pageerror", (e) => { console.error("page error (Bruno):", e); failed = true; });
  await login(bruno, "bruno@acme.example", "correct horse 2");
  await bruno.locator('[data-tab="mine"]').click();
  await mark(bruno);

  step("a customer's message arrives without reloading");
  await ana.goto(`${base}/#/inbox`);
  await ana.locator('[data-live="on"]').waitFor();
  await mark(ana);
  await meta(JSON.parse(env("ATENDE_INBOUND")));
  const row = ana.locator("[data-session]").first();
  await row.waitFor({ timeout: 15000 });
  assert.ok(await stayed(ana), "the inbox updated by itself");
  await ana.locator('[data-count="pending"]', { hasText: "1" }).waitFor();
  const sessionId = await row.getAttribute("data-session");
  await row.click();
  await ana.locator(".bubble.inbound", { hasText: "Meu pedido 4521" }).waitFor();
  // The window as the server judges it for the channel's kind.
  await ana.locator('[data-window="open"]', { hasText: "Janela aberta" }).waitFor();
  await shoot(ana, "inbox");

  step("the agent assumes it and replies");
  await ana.locator("[data-action=assume]").click();
  await ana.locator('[data-session-status="in_progress"]').waitFor();
  const box = ana.getByRole("textbox", { name: /Escreva uma mensagem/ });
  await box.fill("Olá! Vou verificar o pedido 4521 agora mesmo.");
  await box.press("Enter");
  const reply = ana.locator(".bubble.outbound", { hasText: "pedido 4521 agora" });
  await reply.waitFor();
  await ana.locator('.bubble.outbound[data-status="sent"]').waitFor({ timeout: 15000 });

  step("Meta reports it delivered, then read: the console shows it live");
  const token = await ana.evaluate(() => localStorage.getItem("atende.token"));
  const messages = await api(token, "GET", `/v1/sessions/${sessionId}/messages`);
  const out = messages.items.find((m) => m.direction === "out" && m.kind === "text");
  assert.ok(out?.provider_id, "the reply has Meta's id");
  for (const kind of ["DELIVERED", "READ"]) {
    const status = JSON.parse(env(`ATENDE_STATUS_${kind}`));
    status.entry[0].changes[0].value.statuses[0].id = out.provider_id;
    await meta(status);
  }
  await ana.locator('.bubble.outbound[data-status="read"] [data-status-label]', { hasText: "lida" }).waitFor({ timeout: 15000 });
  assert.ok(await stayed(ana), "statuses arrived without reloading");
  await shoot(ana, "conversation");

  step("the agent transfers it to the new agent, who sees it arrive live");
  await ana.locator("[data-action=transfer]").click();
  await ana.getByLabel("Para a pessoa").check();
  await ana.locator("select[name=user]").selectOption({ label: "Bruno Lima" });
  // Bruno is not in the session's team: the console asks which of his teams receives it.
  await ana.locator("select[name=user_team]").selectOption({ label: "Suporte" });
  await ana.locator("[data-action=confirm-transfer]").click();
  const arrived = bruno.locator(`[data-session="${sessionId}"]`);
  await arrived.waitFor({ timeout: 15000 });
  assert.ok(await stayed(bruno), "the transfer reached Bruno without reloading");

  step("the new agent completes it with a classification");
  await arrived.click();
  await bruno.locator(".bubble.inbound", { hasText: "Meu pedido 4521" }).waitFor();
  await bruno.locator("[data-action=complete]").click();
  await bruno.locator("select[name=category]").selectOption("won");
  await bruno.locator("[data-action=confirm-complete]").click();
  await bruno.locator('[data-session-status="completed"]').waitFor();
  const done = await api(token, "GET", `/v1/sessions/${sessionId}`);
  assert.equal(done.status, "completed");
  assert.equal(done.classification.category, "won");
  const me = await api(token, "GET", "/v1/users");
  const brunoUser = me.items.find((u) => u.email === "bruno@acme.example");
  assert.equal(done.owner_id, brunoUser.id, "Bruno held it when completed");

  step("internal chat: the new agent writes to the admin, who sees it arrive live");
  const anaUser = (await api(token, "GET", "/v1/me")).user;
  await ana.goto(`${base}/#/chat`);
  await ana.locator(`[data-chat="user:${brunoUser.id}"]`).click();
  await mark(ana);
  await bruno.goto(`${base}/#/chat`);
  await bruno.locator(`[data-chat="user:${anaUser.id}"]`).click();
  const chatBox = bruno.getByRole("textbox", { name: "Mensagem para a equipe" });
  await chatBox.fill("Ana, o cliente do pedido 4521 ficou satisfeito.");
  await chatBox.press("Enter");
  await ana.locator(".bubble", { hasText: "ficou satisfeito" }).waitFor({ timeout: 15000 });
  assert.ok(await stayed(ana), "the chat message arrived without reloading");
  await shoot(ana, "chat");

  step("a phone-width screen shows the inbox");
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "pt-BR" });
  const small = await phone.newPage();
  await login(small, env("ATENDE_ADMIN_EMAIL"), env("ATENDE_ADMIN_PASSWORD"));
  await small.locator('[data-tab="completed"]').click();
  await small.locator(`[data-session="${sessionId}"]`).waitFor();
  await shoot(small, "phone-inbox");
  assert.ok(!failed, "no script error on any page");
  step("done");
} finally {
  await browser.close();
}
