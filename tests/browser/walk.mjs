// The resident's journey in a real browser (Debian's headless chromium,
// driven by playwright-core): from the catalogue to the receipt of the
// high-school entrance application, on a 360-px-wide screen. axe-core checks
// every page for WCAG 2.1 A/AA violations; any violation fails the run. The
// journey runs twice: with JavaScript on (for axe) and with JavaScript off
// (every resident page must work without it).
//
// Usage: node walk.mjs http://127.0.0.1:PORT

import crypto from 'node:crypto';
import fs from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.argv[2];
// The OpenID provider playing デジタル認証アプリ (tests/oidc), when given.
const provider = process.argv[3];
// The directory where the test SMTP server (aiosmtpd) stores what it receives.
const mailDir = process.argv[4];

// The link in the newest e-mail to `to` (waits for it up to 15 s), decoded
// from the message as a mail program would (base64 or quoted-printable body).
async function mailedLink(to, path) {
  for (let i = 0; i < 75; i++) {
    const names = fs.readdirSync(mailDir).filter((n) => n.endsWith('.eml')).sort().reverse();
    for (const n of names) {
      const raw = fs.readFileSync(`${mailDir}/${n}`, 'utf8');
      if (!raw.split('\r\n')[0].includes(to)) continue;
      const [head, ...rest] = raw.split('\r\n\r\n');
      let body = rest.join('\r\n\r\n');
      if (/Content-Transfer-Encoding: base64/i.test(head)) body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
      else if (/Content-Transfer-Encoding: quoted-printable/i.test(head)) {
        body = Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
      }
      const m = body.match(new RegExp(`https?://[^\\s]*${path}\\?token=[A-Za-z0-9_-]+`));
      if (m) return m[0];
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no e-mail with ${path} reached ${to}`);
}
if (!base) {
  console.error('usage: node walk.mjs BASE_URL [OPENID_PROVIDER_URL]');
  process.exit(2);
}
const axeSource = fs.readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});

let checked = 0;
const failures = [];

// With JavaScript off axe cannot run in the page itself: the DOM the page
// rendered (its scripts removed, as they never ran) is checked in a page of a
// JavaScript-enabled context of the same size, with the page's styles.
const axeContexts = new Map();
async function axeNoJs(page, label) {
  const viewport = page.viewportSize();
  const key = `${viewport.width}x${viewport.height}`;
  if (!axeContexts.has(key)) axeContexts.set(key, await browser.newContext({ viewport, locale: 'ja-JP', bypassCSP: true }));
  const origin = new URL(page.url()).origin;
  const html = (await page.content())
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '')
    .replace(/<head([^>]*)>/i, `<head$1><base href="${origin}/">`);
  const copy = await axeContexts.get(key).newPage();
  await copy.setContent(html, { waitUntil: 'load' });
  await axe(copy, label, page.url());
  await copy.close();
}

async function axe(page, label, url = page.url()) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  checked += 1;
  if (result.violations.length > 0) {
    for (const v of result.violations) {
      failures.push(`${label} (${url}): ${v.id} [${v.impact}] ${v.help}\n` +
        v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`).join('\n'));
    }
  }
  console.log(`axe ${result.violations.length === 0 ? 'ok  ' : 'FAIL'} ${label} ${url}`);
}


// The demo staff's second factor (RFC 6238: HMAC-SHA-1, 30 s, 6 digits),
// from the key `serve --demo` prints, as an authenticator app computes it.
const DEMO_TOTP_KEY = 'MADOGUCHIDEMOSTAFFTOTPKEYJAPANXX';
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const c of text) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { bits -= 8; out.push((value >>> bits) & 0xff); }
  }
  return Buffer.from(out);
}
function totpOf(key, offset) {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32(key)).update(counter).digest();
  const o = mac[19] & 0x0f;
  const n = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(n % 1000000).padStart(6, '0');
}
function totp(offset) {
  return totpOf(DEMO_TOTP_KEY, offset);
}
let codePageChecked = false;
// Signs a demo staff member in on `p`: the password, then the code page
// (a code is good once, so the next step's is tried when a journey signed the
// same account in moments ago, and after three, the next step is waited for).
async function signInStaff(p, who, check) {
  await p.goto(`${base}/staff/signin`);
  await p.fill('#email', who);
  await p.fill('#password', 'madoguchi-demo-2026');
  await Promise.all([p.waitForLoadState('load'), p.click('.button-group button')]);
  expect(new URL(p.url()).pathname === '/staff/signin/code', `the password leads to the code page (${p.url()})`);
  if (check && !codePageChecked) {
    await check('staff second factor');
    codePageChecked = true;
  }
  for (const offset of [0, 1, -1, 'wait', 'wait']) {
    if (offset === 'wait') await new Promise((r) => setTimeout(r, (31 - (Math.floor(Date.now() / 1000) % 30)) * 1000));
    await p.fill('#code', totp(offset === 'wait' ? 1 : offset));
    await Promise.all([p.waitForLoadState('load'), p.click('.button-group button')]);
    if (new URL(p.url()).pathname !== '/staff/signin/code') return;
  }
  throw new Error(`the second factor was refused for ${who}`);
}

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

async function cont(page) {
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button[value="continue"]')]);
}

async function journey({ js }) {
  const context = await browser.newContext({
    javaScriptEnabled: js,
    viewport: { width: 360, height: 740 },
    locale: 'ja-JP',
    bypassCSP: true, // only so that axe can be injected; pages are unchanged
  });
  const page = await context.newPage();
  const check = js ? (label) => axe(page, label) : async () => {};
  const tag = js ? 'js' : 'nojs';

  // The page must not overflow a 360-px screen horizontally.
  async function fits(label) {
    const width = await page.evaluate(() => document.documentElement.scrollWidth).catch(() => 360);
    expect(width <= 360, `${label}: the page is ${width}px wide on a 360px screen`);
  }

  await page.goto(`${base}/`);
  await check('home');
  if (js) await fits('home');

  // The words residents use find what they mean; no match says what to do next.
  for (const words of ['くるまいす', '車椅子', '身体障害者手帳']) {
    await page.goto(`${base}/procedures?q=${encodeURIComponent(words)}`);
    expect(await page.locator('a', { hasText: 'おもいやり駐車場利用証' }).count() > 0, `${words} finds the parking permit`);
  }
  await page.goto(`${base}/procedures?q=${encodeURIComponent('住民票')}`);
  expect((await page.textContent('.notice[role="status"]')).includes('見つかりませんでした'), 'no match is said plainly');
  expect(await page.locator('.notice[role="status"] a[href^="/faq?q="]').count() === 1, 'no match offers the FAQ');
  await check('search without results');
  if (js) await fits('search without results');
  await page.goto(`${base}/`);

  await page.fill('#q', '高校');
  await Promise.all([page.waitForLoadState('load'), page.click('form[role="search"] button[type="submit"]')]);
  await check('search results');
  const link = page.locator('a', { hasText: '県立高等学校入学願書' }).first();
  expect(await link.count() > 0, 'searching 高校 finds the high-school application');
  await Promise.all([page.waitForLoadState('load'), link.click()]);
  await check('procedure');
  const procedureUrl = page.url();

  await Promise.all([page.waitForLoadState('load'), page.click('a:has-text("ログインして申請する")')]);
  await check('sign in');
  await Promise.all([page.waitForLoadState('load'), page.click('a:has-text("アカウントを作成する")')]);
  await check('sign up');
  const email = `walker-${tag}-${Date.now()}@example.jp`;
  await page.fill('#display_name', '三重 花子');
  await page.fill('#email', email);
  await page.fill('#password', 'short');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  expect((await page.textContent('.error-summary')).includes('10文字'), 'a short password is refused with a message');
  await check('sign up with an error');
  await page.fill('#password', 'ながいパスワードです123');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  // The address is proved first: the page says to check the e-mail, and the
  // link in it (read from the real SMTP server) signs in and goes straight
  // into the form the resident came for.
  expect((await page.textContent('h1')).includes('メールを確認してください'), `after sign-up: check your e-mail (${page.url()})`);
  await check('sign up: check your e-mail');
  await Promise.all([page.waitForLoadState('load'), page.goto(await mailedLink(email, '/account/verify'))]);
  expect(page.url().includes('/pages/applicant'), `after the mailed link the form starts (${page.url()}, came from ${procedureUrl})`);

  if (js) {
    // Signed in on a phone: the header's menu takes two lines at most.
    const navHeight = await page.evaluate(() => document.querySelector('.site-nav ul').getBoundingClientRect().height);
    const lineHeight = await page.evaluate(() => document.querySelector('.site-nav li').getBoundingClientRect().height);
    expect(navHeight <= lineHeight * 2 + 12, `the header menu is ${navHeight}px high (lines of ${lineHeight}px)`);
  }
  await check('question page');
  if (js) await fits('question page');
  await cont(page);
  expect(await page.locator('.error-summary').count() === 1, 'an empty page shows the error summary');
  await check('question page with errors');
  await page.fill('#name-family', '三重');
  await page.fill('#name-given', '花子');
  await page.fill('#name-family_kana', 'みえ');
  await page.fill('#name-given_kana', 'ﾊﾅｺ');
  await page.fill('#birth_date', '平成31年5月1日');
  await cont(page);
  expect((await page.textContent('.error-summary')).includes('令和元年5月1日'), 'an era-boundary mistake suggests the right date');
  expect(await page.inputValue('#name-family') === '三重', 'what was typed is kept');
  await page.fill('#birth_date', '2031-01-01');
  await cont(page);
  expect((await page.textContent('.error-summary')).includes('以前の日付'), 'a birth date in the future is refused');
  await check('question page with a future date');
  await page.fill('#birth_date', '平成22年4月1日');
  await cont(page);

  expect(page.url().includes('/pages/address'), `address page (${page.url()})`);
  await check('address page');
  // The postal code fills the prefecture, city and town: as it is typed with
  // JavaScript, through the button's round trip without.
  if (js) {
    await page.fill('#postal_code', '5140006');
    await page.waitForFunction(() => document.querySelector('#address-city').value === '津市広明町', null, { timeout: 5000 });
    expect((await page.textContent('#postal_code-postal')).includes('津市広明町'), 'the fill is announced');
  } else {
    await page.fill('#postal_code', '514-0006');
    await Promise.all([page.waitForLoadState('load'), page.click('button[value="postal.postal_code"]')]);
    expect((await page.textContent('main')).includes('〒514-0006 の住所'), 'the round trip says what it filled');
    expect(await page.inputValue('#address-city') === '津市広明町', 'the city and town are filled');
  }
  expect(await page.inputValue('#address-prefecture') === '三重県', 'the prefecture is filled');
  await check('address page filled from the postal code');
  if (js) await fits('address page filled from the postal code');
  await page.fill('#address-city', '津市広明町13番地');
  await cont(page);
  await check('phone page');
  await page.fill('#phone', '０５９－２２４－３０７０');
  // Save as a draft and come back later.
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button[value="save"]')]);
  expect(page.url().includes('/applications?saved=1'), 'saving a draft returns to the list');
  await check('applications with a draft');
  expect(await page.locator('#todo-heading').count() === 1, 'the unfinished draft is shown first');
  if (js) await fits('applications with a draft');
  await Promise.all([page.waitForLoadState('load'), page.locator('table a').first().click()]);
  await check('draft application');
  await Promise.all([page.waitForLoadState('load'), page.click('a:has-text("続きから入力する")')]);
  expect(page.url().includes('/pages/junior_high'), `resuming goes to the first unanswered page (${page.url()})`);
  await page.fill('#junior_high', '津市立西橋内中学校');
  await cont(page);
  await check('school page');
  await page.selectOption('#school', 'tsu');
  await cont(page);
  await check('department page');
  expect(await page.isChecked('#department'), 'the only department of the school chosen is chosen already');
  expect((await page.textContent('main')).includes('で選んだ'), 'the department page names the school chosen');
  await page.check('#department');
  await cont(page);
  await page.check('input[name="selection"][value="early"]');
  await cont(page);
  await check('guardian page');
  await page.fill('#guardian_name-family', '三重');
  await page.fill('#guardian_name-given', '太郎');
  await page.fill('#guardian_name-family_kana', 'ミエ');
  await page.fill('#guardian_name-given_kana', 'タロウ');
  await page.locator('input[name="guardian_relationship"]').first().check();
  await cont(page);
  await check('declaration page');
  await page.check('#agree');
  await cont(page);

  expect(page.url().endsWith('/check'), `the check page comes last (${page.url()})`);
  await check('check your answers');
  const summary = await page.textContent('.summary-list');
  expect(summary.includes('2010年4月1日（平成22年4月1日）'), 'the birth date is shown both ways');
  expect(summary.includes('ミエ ハナコ'), 'readings are shown in full-width katakana');
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("この内容で申請する")')]);
  expect(page.url().endsWith('/receipt'), 'sending shows the receipt');
  await check('receipt');
  const receipt = await page.textContent('.receipt-number');
  expect(/^240001-R\d+-\d{6}$/.test(receipt.trim()), `receipt number ${receipt}`);

  await page.goto(`${base}/profile`);
  await check('profile');
  if (js) await fits('profile');
  await page.fill('#phone', 'abc');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button[value="save"]')]);
  expect(await page.locator('.error-summary a[href="#phone"]').count() === 1, 'a bad phone number is refused at its field');
  await check('profile with an error');

  await page.goto(`${base}/applications`);
  await check('applications');
  expect((await page.textContent('table')).includes('送信済'), 'the list shows 送信済');
  await Promise.all([page.waitForLoadState('load'), page.locator('table a').first().click()]);
  await check('application detail');

  await page.goto(`${base}/?lang=en`);
  await check('home in English');
  await page.goto(`${base}/procedures?category=childcare`);
  await check('catalogue in English');
  await page.goto(`${base}/no-such-page`);
  await check('not found page');
  await page.goto(`${base}/staff/signin`);
  await check('staff sign-in');
  await page.goto(`${base}/accessibility`);
  await check('accessibility statement');
  await context.close();
  console.log(`journey (${tag}) completed; receipt ${receipt.trim()}`);
}

// The section's staff on a tablet: inbox, an application, start the review,
// return it for correction, and the other staff pages.
async function staffJourney({ js }) {
  const context = await browser.newContext({
    javaScriptEnabled: js,
    viewport: { width: 768, height: 1024 },
    locale: 'ja-JP',
    bypassCSP: true,
  });
  const page = await context.newPage();
  const check = js ? (label) => axe(page, label) : async () => {};
  await signInStaff(page, 'hs.staff@pref.mie.example.jp', check);
  expect(new URL(page.url()).pathname === '/staff', `staff land on the inbox (${page.url()})`);
  await check('staff inbox');
  const rows = await page.locator('tbody tr').count();
  expect(rows >= 1, 'the inbox lists the applications sent');
  // An application not yet processed (each journey sent one).
  await Promise.all([page.waitForLoadState('load'), page.locator('tbody tr', { hasText: '送信済' }).first().locator('a').click()]);
  await check('staff application');
  if (await page.locator('button:has-text("処理を開始する")').count() > 0) {
    await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("処理を開始する")')]);
    expect((await page.textContent('.notice')).includes('処理を開始しました'), 'review started');
    await check('staff application in review');
  }
  // Returning without saying what to correct: the error is at the message box.
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("差し戻す")')]);
  expect(await page.locator('#message-error').count() === 1, 'an empty correction request is refused at its field');
  await check('staff application with an error');
  await page.fill('#message', '保護者の電話番号を記入してください。');
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("差し戻す")')]);
  expect((await page.textContent('.tag')).includes('差し戻し'), 'returned for correction');
  await check('staff application returned');
  await page.goto(`${base}/staff?status=returned`);
  await check('staff inbox filtered');
  await page.goto(`${base}/staff/approvals`);
  await check('staff approvals');
  await page.goto(`${base}/staff/delegations`);
  await check('staff delegations');
  await page.goto(`${base}/staff/procedures`);
  await check('staff procedures');
  await context.close();
  console.log(`staff journey (${js ? 'js' : 'nojs'}) completed`);
}

// The public dashboard on a phone (plan → project → KPI, the inventory, in
// Japanese and English), then the DX office entering a target revision and an
// actual on a tablet. axe runs in both contexts: with JavaScript off the page's
// own scripts are disabled, and axe is injected through the DevTools protocol.
async function dashboardJourney({ js }) {
  const context = await browser.newContext({
    javaScriptEnabled: js,
    viewport: { width: 360, height: 740 },
    locale: 'ja-JP',
    bypassCSP: true,
  });
  const page = await context.newPage();
  const tag = js ? 'js' : 'nojs';
  const check = (label) => (js ? axe : axeNoJs)(page, `${label} (${tag})`);
  async function fits(label) {
    const width = await page.evaluate(() => document.documentElement.scrollWidth).catch(() => 360);
    expect(width <= 360, `${label}: the page is ${width}px wide on a 360px screen`);
  }
  await page.goto(`${base}/plans`);
  await check('plans');
  await fits('plans');
  await Promise.all([page.waitForLoadState('load'), page.click('a:has-text("DX・働き方改革推進基本方針")')]);
  await check('Toyama plan');
  await fits('Toyama plan');
  const planUrl = page.url();
  expect((await page.locator('section[aria-labelledby^="project-"]').count()) === 10, 'Toyama has ten projects');
  await page.selectOption('#fy', '2021');
  await Promise.all([page.waitForLoadState('load'), page.click('form.search-form button')]);
  expect(page.url().includes('fy=2021'), 'the year is chosen without JavaScript');
  expect((await page.content()).includes('0.54'), 'FY2021 電子申請対応手続数 shows 0.54');
  await Promise.all([page.waitForLoadState('load'), page.locator('section[aria-labelledby^="project-"] h2 a').first().click()]);
  await check('Toyama project');
  await fits('Toyama project');
  await Promise.all([page.waitForLoadState('load'), page.locator('h3 a').nth(2).click()]);
  await check('KPI with a revised target');
  expect((await page.content()).includes('から修正'), 'the revised target shows its previous value');
  await page.goto(`${base}/inventory/240001`);
  await check('Mie inventory');
  await fits('Mie inventory');
  await page.goto(`${base}/inventory/240001?priority=1`);
  await check('Mie inventory, priority procedures');
  await page.goto(`${base}/plans`);
  await Promise.all([page.waitForLoadState('load'), page.click('a:has-text("みえデジタル戦略推進計画")')]);
  await check('Mie plan');
  await page.goto(planUrl);
  await Promise.all([page.waitForLoadState('load'), page.click('a[hreflang="en"]')]);
  await check('Toyama plan in English');
  await context.close();

  const staff = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 768, height: 1024 }, locale: 'ja-JP', bypassCSP: true });
  const sp = await staff.newPage();
  const scheck = (label) => (js ? axe : axeNoJs)(sp, `${label} (${tag})`);
  await signInStaff(sp, 'admin@pref.toyama.example.jp');
  await sp.goto(`${base}/staff/plans`);
  await scheck('DX office plans');
  await Promise.all([sp.waitForLoadState('load'), sp.locator('a[href^="/staff/kpis/"]').first().click()]);
  await scheck('DX office KPI');
  await sp.selectOption('#t-fy', '2023');
  await sp.fill('#t-value', '5,500');
  await Promise.all([sp.waitForLoadState('load'), sp.click('button:has-text("目標を修正する")')]);
  expect((await sp.content()).includes('修正の理由を入力してください'), 'a revision without a reason is refused');
  await scheck('DX office KPI with an error');
  await sp.selectOption('#t-fy', '2023');
  await sp.fill('#t-value', '5,500');
  await sp.fill('#t-reason', `ブラウザからの修正 (${tag})`);
  await Promise.all([sp.waitForLoadState('load'), sp.click('button:has-text("目標を修正する")')]);
  expect((await sp.content()).includes('保存しました'), 'the revision is saved');
  await scheck('DX office KPI saved');
  // An actual typed as words is refused at its field, and what was typed stays.
  await sp.goto(`${base}/staff/plans`);
  const kpiLinks = await sp.locator('a[href^="/staff/kpis/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  let typedKpi = null;
  for (const href of kpiLinks) {
    await sp.goto(`${base}${href}`);
    if (await sp.locator('#a-value').count() > 0) { typedKpi = href; break; }
  }
  expect(typedKpi !== null, 'a KPI entered by hand');
  await sp.fill('#a-value', '約33%');
  await Promise.all([sp.waitForLoadState('load'), sp.click('form[action$="/actuals"] button[type="submit"]')]);
  expect(await sp.locator('#a-value-error').count() === 1, 'the actual is refused at its field');
  expect(await sp.inputValue('#a-value') === '約33%', 'what was typed is kept');
  await scheck('DX office KPI actual refused');
  await sp.goto(`${base}/staff/plans`);
  await Promise.all([sp.waitForLoadState('load'), sp.locator('a[href*="/projects/"]').first().click()]);
  await scheck('DX office roadmap');
  const form = sp.locator('form[action^="/staff/roadmap/"]').last();
  await form.locator('textarea[name="text"]').fill('');
  await Promise.all([sp.waitForLoadState('load'), form.locator('button').click()]);
  expect((await sp.content()).includes('その年度の取組を入力してください'), 'a roadmap entry without text is refused');
  await scheck('DX office roadmap with an error');
  const again = sp.locator('form[action^="/staff/roadmap/"]').last();
  await again.locator('textarea[name="text"]').fill(`ブラウザから記録した取組 (${tag})`);
  await again.locator('select[name="status"]').selectOption('in_progress');
  await Promise.all([sp.waitForLoadState('load'), again.locator('button').click()]);
  expect((await sp.content()).includes('保存しました'), 'the roadmap entry is saved');
  await staff.close();
  console.log(`dashboard journey (${tag}) completed`);
}

// The FAQ chatbot on a phone: the empty chat, a question asked through the
// form (a confident answer with the button to apply, and the feedback form,
// whose 役に立った is pressed once), an uncertain answer (the closest entries
// and whom to ask), the empty question's error, the page the widget frames,
// an entry page and the English chat. Then Mie's staff on a tablet: the list,
// a new entry, one of Mie's entries, and the unanswered questions grouped
// (after residents asked questions the FAQ cannot answer). The chat page is
// rendered on the server, so with JavaScript off the same questions are asked
// through the same form and answered; axe checks both (axeNoJs with it off).
async function faqJourney({ js }) {
  const tag = js ? 'js' : 'nojs';
  const context = await browser.newContext({
    javaScriptEnabled: js,
    viewport: { width: 360, height: 740 },
    locale: 'ja-JP',
    bypassCSP: true,
  });
  const page = await context.newPage();
  const check = (label) => (js ? axe : axeNoJs)(page, `${label} (${tag})`);
  async function fits(label) {
    const width = await page.evaluate(() => document.documentElement.scrollWidth).catch(() => 360);
    expect(width <= 360, `${label}: the page is ${width}px wide on a 360px screen`);
  }
  async function ask(question) {
    await page.fill('#q', question);
    await Promise.all([page.waitForLoadState('load'), page.click('form.chat-form button[type="submit"]')]);
  }

  let res = await page.goto(`${base}/faq`);
  expect(res.status() === 200, `/faq answers 200 (${res.status()})`);
  expect(await page.locator('.chat').count() === 0, 'the empty chat shows no conversation');
  await check('FAQ chat');
  await fits('FAQ chat');

  // A confident answer, asked through the form (with JavaScript off too).
  await ask('粗大ごみを出したい');
  expect(new URL(page.url()).searchParams.get('q') === '粗大ごみを出したい', `the form asks by GET (${page.url()})`);
  expect((await page.textContent('.chat-bubble--question')).includes('粗大ごみを出したい'), 'the question is shown');
  const apply = page.locator('.chat-bubble--answer a.button[href^="/procedures/"]');
  expect(await apply.count() === 1, 'the confident answer has the button to apply online');
  expect((await apply.textContent()).includes('オンラインで申請する'), 'the button says オンラインで申請する');
  expect(await page.locator('form.chat-feedback button[name="helped"][value="1"]').count() === 1, 'the feedback form is shown');
  await check('FAQ confident answer');
  await fits('FAQ confident answer');
  await Promise.all([page.waitForLoadState('load'), page.click('form.chat-feedback button:has-text("役に立った")')]);
  expect(new URL(page.url()).searchParams.get('thanks') === '1', `feedback returns to the chat (${page.url()})`);
  expect((await page.textContent('#feedback')).includes('ご意見ありがとうございました'), 'the thank-you notice is shown');
  await check('FAQ feedback thanks');

  // Not confident: the closest entries and whom to ask.
  await page.goto(`${base}/faq?q=${encodeURIComponent('ドローンの飛行許可')}`);
  expect(await page.locator('.chat-bubble--answer a.button').count() === 0, 'an uncertain answer has no button to apply');
  const links = await page.locator('.chat-bubble--answer ul').first().locator('a[href^="/faq/entries/"]').count();
  expect(links === 3, `an uncertain answer links the three closest entries (${links})`);
  expect(await page.locator('.chat-bubble--answer h3', { hasText: 'お問い合わせ先' }).count() === 1, 'an uncertain answer says whom to ask');
  expect(await page.locator('form.chat-feedback button:has-text("どれも当てはまらなかった")').count() === 1, 'an uncertain answer can be marked unhelpful');
  await check('FAQ uncertain answer');
  await fits('FAQ uncertain answer');

  res = await page.goto(`${base}/faq?q=`);
  expect(res.status() === 422, `an empty question is 422 (${res.status()})`);
  expect((await page.textContent('#q-error')).includes('質問を入力してください'), 'an empty question is refused with a message');
  await check('FAQ empty question');

  res = await page.goto(`${base}/faq/embed?q=${encodeURIComponent('自動車税の納期限')}`);
  expect(res.status() === 200, `the widget's page answers 200 (${res.status()})`);
  expect((await page.textContent('.chat-bubble--answer')).includes('5月31日'), 'the widget answers 5月31日');
  await check('FAQ widget page');
  await fits('FAQ widget page');
  // Asked again inside the widget's page, through its form.
  await ask('粗大ごみを出したい');
  expect(new URL(page.url()).pathname === '/faq/embed', `the widget's form stays in the widget (${page.url()})`);

  await page.goto(`${base}/faq/entries/B-001`);
  expect((await page.textContent('h1')).length > 0, 'the entry page has its question as heading');
  await check('FAQ entry');
  await fits('FAQ entry');

  await page.goto(`${base}/faq?lang=en&q=Is+there+free+Wi-Fi`);
  expect(await page.getAttribute('html', 'lang') === 'en', 'the English chat is lang="en"');
  expect((await page.textContent('.chat-bubble--answer')).toLowerCase().includes('wi-fi'), 'the English chat answers about Wi-Fi');
  await check('FAQ in English');
  await fits('FAQ in English');

  // Questions Mie's FAQ cannot answer, for its staff's unanswered list.
  for (const q of ['ドローンを飛ばす許可はどこで取ればいいですか', 'ドローン 飛行許可 申請']) {
    await page.goto(`${base}/faq?organisation=240001&q=${encodeURIComponent(q)}`);
    expect(await page.locator('.chat-bubble--answer a.button').count() === 0, `${q}: not answered with confidence`);
  }
  await context.close();

  const staff = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 768, height: 1024 }, locale: 'ja-JP', bypassCSP: true });
  const sp = await staff.newPage();
  const scheck = (label) => (js ? axe : axeNoJs)(sp, `${label} (${tag})`);
  await signInStaff(sp, 'hs.staff@pref.mie.example.jp');
  expect(new URL(sp.url()).pathname === '/staff', `staff land on the inbox (${sp.url()})`);
  res = await sp.goto(`${base}/staff/faq`);
  expect(res.status() === 200, `/staff/faq answers 200 (${res.status()})`);
  expect(await sp.locator('a[href="/staff/faq/entries/B-013"]').count() === 1, "the list has Mie's entries");
  await scheck('staff FAQ list');
  await sp.goto(`${base}/staff/faq/new`);
  await scheck('staff FAQ new entry');
  res = await sp.goto(`${base}/staff/faq/entries/B-013`);
  expect(res.status() === 200, `one of Mie's entries opens (${res.status()})`);
  expect(await sp.inputValue('#question') !== '', 'the entry form is filled in');
  await scheck('staff FAQ entry');
  res = await sp.goto(`${base}/staff/faq/unanswered`);
  expect(res.status() === 200, `/staff/faq/unanswered answers 200 (${res.status()})`);
  expect((await sp.locator('section.group-item', { hasText: 'ドローン' }).count()) >= 1, 'the unanswered questions are grouped');
  await scheck('staff FAQ unanswered');
  await sp.locator('section.group-item', { hasText: 'ドローン' }).first().locator('summary').click();
  await scheck('staff FAQ unanswered, form open');
  await staff.close();
  console.log(`FAQ journey (${tag}) completed`);
}

// The open-data catalogue on a phone: the search page, a search through the
// form, a facet ticked and applied (the filter panel is a <details>, which
// opens without JavaScript too), a standard dataset's page, the preview of the
// CP932 CSV file, the templates, the publishers and one of them, and the
// search in English. Then Tsu's administrator on a tablet: the list, the new
// dataset form (an invalid name first, for the error summary), the form that
// adds a file, the API tokens (one issued) and the paper counts.
async function openDataJourney({ js }) {
  const tag = js ? 'js' : 'nojs';
  const context = await browser.newContext({
    javaScriptEnabled: js,
    viewport: { width: 360, height: 740 },
    locale: 'ja-JP',
    bypassCSP: true,
  });
  const page = await context.newPage();
  const check = (label) => (js ? axe : axeNoJs)(page, `${label} (${tag})`);
  async function fits(label) {
    const width = await page.evaluate(() => document.documentElement.scrollWidth).catch(() => 360);
    expect(width <= 360, `${label}: the page is ${width}px wide on a 360px screen`);
  }
  async function go(path) {
    const res = await page.goto(`${base}${path}`);
    expect(res.status() === 200, `${path} answers 200 (${res.status()})`);
  }

  await go('/dataset');
  expect((await page.textContent('[role="status"]')).includes('件のデータセットがあります'), 'the catalogue counts its datasets');
  await check('open data search');
  await fits('open data search');

  await page.fill('#q', '公園');
  await Promise.all([page.waitForLoadState('load'), page.click('form[role="search"] button[type="submit"]')]);
  expect(new URL(page.url()).searchParams.get('q') === '公園', `the search form asks by GET (${page.url()})`);
  expect(await page.locator('a[href="/dataset/tsu-koen-ichiran"]').count() === 1, 'searching 公園 finds the parks');
  await check('open data search results');
  await fits('open data search results');

  await go(`/dataset?tags=${encodeURIComponent('海')}`);
  expect(await page.locator('a[href="/dataset/tsu-kaisuiyokujo"]').count() === 1, 'the tag 海 finds the beaches');
  expect(await page.locator('details.filters[open]').count() === 1, 'with a filter chosen the panel is open');
  await page.check('input[name="groups"][value="kanko"]');
  await Promise.all([page.waitForLoadState('load'), page.click('details.filters button[type="submit"]')]);
  const params = new URL(page.url()).searchParams;
  expect(params.get('groups') === 'kanko' && params.get('tags') === '海', `the facets combine (${page.url()})`);
  expect(await page.locator('a[href="/dataset/tsu-kaisuiyokujo"]').count() === 1, 'the beaches are still there');
  await check('open data facets');
  await fits('open data facets');

  await go('/dataset/tsu-aed');
  expect(await page.locator('head link[rel="alternate"]').count() === 4, 'four DCAT alternates in the head');
  expect((await page.content()).includes('/v2/entities?type=AED'), 'the NGSI note');
  await check('open data AED dataset');
  await fits('open data AED dataset');

  await go('/dataset/tsu-koen-ichiran');
  await Promise.all([page.waitForLoadState('load'), page.locator('.card a.button--secondary').first().click()]);
  expect(page.url().includes('/resource/'), `the button opens the resource page (${page.url()})`);
  expect((await page.textContent('table')).includes('岩田川河畔公園'), 'the CP932 file is decoded');
  expect(await page.locator('[role="region"][tabindex="0"] table caption').count() === 1, 'the preview is a captioned table in a focusable region');
  await check('open data CSV preview');
  await fits('open data CSV preview');

  await go('/dataset/templates');
  expect(await page.locator('a[href="/dataset/templates/aed.csv"]').count() === 1, 'the AED template can be downloaded');
  await check('open data templates');
  await fits('open data templates');

  await go('/organization');
  await check('open data publishers');
  await Promise.all([page.waitForLoadState('load'), page.click('a[href="/organization/tsu-city"]')]);
  expect(await page.locator('a[href="/dataset/tsu-aed"]').count() === 1, "Tsu's page lists its AED dataset");
  await check('open data publisher');
  await fits('open data publisher');

  await go('/dataset?lang=en');
  expect(await page.getAttribute('html', 'lang') === 'en', 'the English catalogue is lang="en"');
  expect((await page.textContent('h1')).includes('Find open data'), 'the heading is in English');
  await check('open data search in English');
  await fits('open data search in English');
  await context.close();

  const staff = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 768, height: 1024 }, locale: 'ja-JP', bypassCSP: true });
  const sp = await staff.newPage();
  const scheck = (label) => (js ? axe : axeNoJs)(sp, `${label} (${tag})`);
  await signInStaff(sp, 'admin@city.tsu.example.jp');
  // The administrator's staff accounts page.
  let res = await sp.goto(`${base}/staff/admin/staff`);
  expect(res.status() === 200, `/staff/admin/staff answers 200 (${res.status()})`);
  await scheck('staff accounts');
  res = await sp.goto(`${base}/staff/opendata`);
  expect(res.status() === 200, `/staff/opendata answers 200 (${res.status()})`);
  expect(await sp.locator('a[href="/dataset/tsu-aed"]').count() === 1, "the list has Tsu's datasets");
  await scheck('staff open data list');

  await sp.goto(`${base}/staff/opendata/new`);
  await scheck('staff new dataset');
  await sp.fill('#title', `ブラウザで作ったデータ (${tag})`);
  await sp.fill('#name', 'Bad Name');
  await Promise.all([sp.waitForLoadState('load'), sp.click('form[action="/staff/opendata/new"] button[type="submit"]')]);
  expect((await sp.textContent('.error-summary')).includes('半角の英小文字'), 'an invalid name is refused with a message');
  expect(await sp.inputValue('#title') === `ブラウザで作ったデータ (${tag})`, 'what was typed is kept');
  await scheck('staff new dataset with an error');
  await sp.fill('#name', `walk-${tag}-${Date.now()}`);
  await sp.check('input[name="groups"][value="kanko"]');
  await Promise.all([sp.waitForLoadState('load'), sp.click('form[action="/staff/opendata/new"] button[type="submit"]')]);
  expect(sp.url().includes('/resources/new?created=1'), `creating goes on to adding data (${sp.url()})`);
  await scheck('staff add data');
  await sp.setInputFiles('#file', { name: 'walk.csv', mimeType: 'text/csv', buffer: Buffer.from('名称,値\r\n中央公園,1\r\n') });
  await Promise.all([sp.waitForLoadState('load'), sp.click('form[enctype="multipart/form-data"] button[type="submit"]')]);
  expect(sp.url().includes('/staff/opendata?done=resource'), `the file is added (${sp.url()})`);
  expect((await sp.textContent('.notice')).includes('データを追加しました'), 'the list says the data was added');
  await scheck('staff open data list after adding');

  await sp.goto(`${base}/staff/opendata/tokens`);
  await scheck('staff API tokens');
  await sp.fill('#token-name', `ブラウザ (${tag})`);
  await Promise.all([sp.waitForLoadState('load'), sp.click('form:has(#token-name) button[type="submit"]')]);
  expect((await sp.inputValue('#new-token')).startsWith('mdg_'), 'the new token is shown once');
  await scheck('staff API token issued');

  await sp.goto(`${base}/staff/opendata/paper-counts`);
  await scheck('staff paper counts');
  await staff.close();
  console.log(`open data journey (${tag}) completed`);
}

// Corrections and outcomes, as the resident lives them on a phone and staff
// at a desk: the resident's unfinished draft waits for them at sign-in; a file
// refused says why (type, size); staff find the application by its receipt
// number and send it back with a message; the message is on the page the
// resident corrects; the resubmission has its own receipt and is marked 再提出
// for staff, with the correction asked for; the approvers land on 決裁待ち; the
// resident sees the decision. The application and the draft are made through
// the API first (the journey under test is what follows).
async function correctionJourney({ js }) {
  const tag = js ? 'js' : 'nojs';
  const email = `corrector-${tag}-${Date.now()}@example.jp`;
  const password = 'ながいパスワードです456';
  async function api(method, path, body, token, extra = {}) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    expect(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
  await api('POST', '/api/v1/residents', { email, password, display_name: '三重 直子' });
  // The address is proved by the link mailed to it (through the real SMTP server).
  const verify = await mailedLink(email, '/account/verify');
  const opened = await fetch(verify, { redirect: 'manual' });
  expect(opened.status === 303, `the mailed link proves the address (${opened.status})`);
  const { token } = await api('POST', '/api/v1/session', { email, password, principal: 'resident' });
  const procedures = (await api('GET', '/api/v1/procedures?online=true&limit=100')).items;
  const hs = procedures.find((p) => p.code === 'mie-hs-entrance').id;
  const permit = procedures.find((p) => p.code === 'mie-parking-permit').id;
  const sent = await api('POST', `/api/v1/procedures/${hs}/applications`, {
    submit: true,
    answers: {
      name: { family: '三重', given: '直子', family_kana: 'ミエ', given_kana: 'ナオコ' },
      birth_date: '平成22年6月1日',
      address: { prefecture: '三重県', city: '津市広明町13番地', building: '' },
      phone: '059-224-3070', junior_high: '津市立西橋内中学校', school: 'tsu', department: 'general',
      selection: 'early', guardian_name: { family: '三重', given: '太郎', family_kana: 'ミエ', given_kana: 'タロウ' },
      guardian_relationship: 'father', agree: true,
    },
  }, token, { 'Idempotency-Key': `walk-${tag}-${Date.now()}` });
  const id = sent.id;
  const receipt = sent.receipt_number;
  const draft = (await api('POST', `/api/v1/procedures/${permit}/applications`, { answers: {} }, token)).id;

  const resident = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 360, height: 740 }, locale: 'ja-JP', bypassCSP: true });
  const page = await resident.newPage();
  const check = (label) => (js ? axe : axeNoJs)(page, `${label} (${tag})`);
  await page.goto(`${base}/signin`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  expect(await page.locator('#todo-heading').count() === 1, `the unfinished draft is waiting at sign-in (${page.url()})`);
  expect((await page.textContent('main')).includes('おもいやり駐車場利用証'), 'the draft is named');
  await check('draft reminder at sign-in');

  // A file refused says what was wrong with it and what is allowed.
  await page.goto(`${base}/applications/${draft}/pages/certificate`);
  await page.setInputFiles('#certificate', { name: 'memo.txt', mimeType: 'text/plain', buffer: Buffer.from('メモです\n'.repeat(10)) });
  await cont(page);
  let summary = await page.textContent('.error-summary');
  expect(summary.includes('「memo.txt」') && summary.includes('テキスト'), `a text file is refused for its type: ${summary}`);
  await check('file refused for its type');
  const big = Buffer.alloc(6 * 1024 * 1024);
  big.set([0xff, 0xd8, 0xff, 0xe0]);
  await page.setInputFiles('#certificate', { name: 'IMG_0001.JPG', mimeType: 'image/jpeg', buffer: big });
  await cont(page);
  summary = await page.textContent('.error-summary');
  expect(summary.includes('大きすぎます') && summary.includes('5.0 MB以下'), `a 6 MB photo is refused for its size: ${summary}`);

  // Staff find it by its receipt number and send it back with a message.
  const staff = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1024, height: 768 }, locale: 'ja-JP', bypassCSP: true });
  const sp = await staff.newPage();
  const scheck = (label) => (js ? axe : axeNoJs)(sp, `${label} (${tag})`);
  async function staffSignIn(who) {
    await signInStaff(sp, who);
  }
  await staffSignIn('hs.staff@pref.mie.example.jp');
  await sp.fill('#q', receipt);
  await Promise.all([sp.waitForLoadState('load'), sp.click('form.search-form button[type="submit"]')]);
  expect(await sp.locator('tbody tr').count() === 1, `the receipt number finds one application (${sp.url()})`);
  await scheck('staff inbox searched by receipt number');
  await Promise.all([sp.waitForLoadState('load'), sp.locator('tbody tr a').first().click()]);
  await Promise.all([sp.waitForLoadState('load'), sp.click('button:has-text("処理を開始する")')]);
  const message = `中学校名を正式な名称で書いてください（${tag}）。`;
  await sp.fill('#message', message);
  await Promise.all([sp.waitForLoadState('load'), sp.click('button:has-text("差し戻す")')]);
  expect((await sp.textContent('.tag')).includes('差し戻し'), 'sent back');

  // The resident: the message is on the page being corrected, and the resubmission has its own receipt.
  await page.goto(`${base}/applications`);
  expect(await page.locator('#todo-heading').count() === 1, 'something waits for the resident');
  expect((await page.textContent('main')).includes('修正して再提出する'), 'the application to correct is listed first');
  await check('applications with a correction waiting');
  await page.goto(`${base}/applications/${id}/pages/junior_high`);
  expect((await page.textContent('.notice--warning')).includes(message), 'the correction asked for is on the page being corrected');
  await check('question page with the correction asked for');
  if (js) {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width <= 360, `the corrected page is ${width}px wide on a 360px screen`);
  }
  await page.fill('#junior_high', '津市立西橋内中学校（正式名称）');
  await cont(page);
  await page.goto(`${base}/applications/${id}/check`);
  expect((await page.textContent('main')).includes(message), 'the check page still shows the correction asked for');
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("この内容で再提出する")')]);
  expect((await page.textContent('h1')).includes('再提出を受け付けました'), 'the resubmission has its own receipt');
  await check('resubmission receipt');

  // Staff see 再提出 with its date, and the correction asked for with what changed, first.
  await sp.goto(`${base}/staff?q=${encodeURIComponent(receipt)}`);
  const row = await sp.textContent('tbody tr');
  expect(row.includes('再提出'), `the inbox marks the resubmission: ${row}`);
  await scheck('staff inbox with a resubmission');
  await Promise.all([sp.waitForLoadState('load'), sp.locator('tbody tr a').first().click()]);
  expect((await sp.textContent('.resubmission')).includes('依頼した修正'), 'the correction asked for is shown');
  expect((await sp.textContent('.resubmission')).includes('正式名称'), 'what changed is shown');
  await scheck('staff application resubmitted');
  await Promise.all([sp.waitForLoadState('load'), sp.click('button:has-text("処理を開始する")')]);
  await sp.check('#outcome-grant');
  await sp.fill('#reason', '書類がそろっています。');
  await Promise.all([sp.waitForLoadState('load'), sp.click('button:has-text("起案して決裁に回す")')]);

  // The approvers land on 決裁待ち and sign.
  for (const who of ['hs.reviewer@pref.mie.example.jp', 'hs.head@pref.mie.example.jp']) {
    await staff.clearCookies();
    await staffSignIn(who);
    expect(new URL(sp.url()).pathname === '/staff/approvals', `${who} lands on 決裁待ち (${sp.url()})`);
    await scheck(`approvals of ${who}`);
    await sp.goto(`${base}/staff/applications/${id}`);
    await Promise.all([sp.waitForLoadState('load'), sp.click('button:has-text("承認する")')]);
    expect((await sp.textContent('.notice')).includes('承認しました'), `${who} approved`);
  }
  await staff.close();

  // The resident sees the decision and what happens next.
  await page.goto(`${base}/applications/${id}`);
  const detail = await page.textContent('main');
  expect(detail.includes('申請が認められました'), 'the decision is shown');
  expect(detail.includes('受け取り方'), 'what happens next is shown');
  await check('application decided');
  await resident.close();
  console.log(`correction journey (${tag}) completed; receipt ${receipt}`);
}

// A resident signs in with the My Number card: the start page, the provider's
// login step (the test provider's form, not ours, so not checked), choosing
// an address for the new account, the linked identities page.
async function cardJourney({ js }) {
  const tag = js ? 'with JavaScript' : 'without JavaScript';
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 390, height: 844 }, locale: 'ja-JP', bypassCSP: true });
  const page = await context.newPage();
  const check = (label) => (js ? axe : axeNoJs)(page, `${label} (${tag})`);
  await page.goto(`${base}/signin`);
  await Promise.all([page.waitForLoadState('load'), page.click('a:has-text("マイナンバーカードでサインイン")')]);
  expect(new URL(page.url()).pathname === '/signin/mynumber', `the card's start page (${page.url()})`);
  await check('My Number card start');
  await page.check('#basic_info');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  expect(page.url().startsWith(provider), `sent to the provider (${page.url()})`);
  await page.fill('input[name="account"]', `card-walk-${js ? 'js' : 'nojs'}`);
  await page.fill('input[name="acr"]', 'aal3');
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("ログイン")')]);
  expect(new URL(page.url()).pathname === '/signin/complete', `back to choose an account (${page.url()})`);
  expect((await page.inputValue('#display_name')) === 'デジタル 太郎', 'the name from the card fills the display name');
  await check('choose an account after the card');
  await page.fill('#email', `card.walk.${js ? 'js' : 'nojs'}@example.jp`);
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  expect(new URL(page.url()).pathname === '/applications', `signed in (${page.url()})`);
  await page.goto(`${base}/account/identities`);
  expect((await page.textContent('main')).includes('連携した日'), 'the card is shown as linked');
  await check('linked identities');
  await context.close();
  console.log(`card journey (${tag}) completed`);
}

// The account pages around the links mailed to residents, and a refused
// identity sign-in: a password forgotten and set again by the link (read
// from the real SMTP server), an account not yet proved asked to prove it
// before sending, a sign-in coming back with a state nobody issued.
async function accountLinksJourney() {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'ja-JP', bypassCSP: true });
  const page = await context.newPage();
  const check = (label) => axe(page, label);
  const email = `links-${Date.now()}@example.jp`;
  const res = await fetch(`${base}/api/v1/residents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'ながいパスワードです789' }),
  });
  expect(res.status === 202, `sign-up through the API answers 202 (${res.status})`);
  // Signed in before proving the address: asked to prove it.
  await page.goto(`${base}/signin`);
  await page.fill('#email', email);
  await page.fill('#password', 'ながいパスワードです789');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  await page.goto(`${base}/account/verify-email`);
  expect((await page.textContent('h1')).includes('メールアドレスの確認'), 'the page asks to prove the address');
  await check('prove your address');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  await check('prove your address: sent again');
  await context.clearCookies();
  // Forgotten password: the form, the same answer, the link, the new password.
  await page.goto(`${base}/signin`);
  await Promise.all([page.waitForLoadState('load'), page.click('a:has-text("パスワードを忘れた方")')]);
  await check('forgotten password');
  await page.fill('#email', email);
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  await check('forgotten password: check your e-mail');
  await page.goto(await mailedLink(email, '/signin/reset'));
  await check('choose a new password');
  await page.fill('#password', 'short');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  await check('choose a new password with an error');
  await page.fill('#password', 'あたらしいながいパスワード');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  expect(new URL(page.url()).pathname === '/applications', `signed in with the new password (${page.url()})`);
  // A link used up, and an identity sign-in coming back with a state nobody issued.
  await page.goto(`${base}/signin/reset?token=used-or-never-issued`);
  await check('a link that cannot be used');
  if (provider) {
    await page.goto(`${base}/auth/callback/mynumber?state=forged&code=x`);
    expect((await page.textContent('h1')).includes('本人確認ができませんでした'), 'a forged callback is refused');
    await check('identity sign-in refused');
  }
  await context.close();
  console.log('account links journey completed');
}

// A staff member whose second factor was removed (a lost phone) sets it up
// again: the enrolment page, the key typed into an "app" (computed here),
// the recovery codes shown once.
async function enrolmentJourney() {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'ja-JP', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}/staff/signin`);
  await page.fill('#email', 'welfare.staff@pref.mie.example.jp');
  await page.fill('#password', 'madoguchi-demo-2026');
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  expect(new URL(page.url()).pathname === '/staff/mfa', `the enrolment page (${page.url()})`);
  await axe(page, 'second factor set-up');
  const key = (await page.textContent('.secret-key')).replace(/\s+/g, '');
  await page.fill('#code', totpOf(key, 0));
  await Promise.all([page.waitForLoadState('load'), page.click('.button-group button')]);
  expect((await page.locator('.recovery-codes li').count()) === 10, 'ten recovery codes are shown');
  await axe(page, 'recovery codes');
  await Promise.all([page.waitForLoadState('load'), page.click('a.button')]);
  expect(new URL(page.url()).pathname.startsWith('/staff'), `signed in (${page.url()})`);
  await context.close();
  console.log('second-factor enrolment completed');
}

try {
  if (provider) {
    await cardJourney({ js: true });
    await cardJourney({ js: false });
  }
  await enrolmentJourney();
  await accountLinksJourney();
  await dashboardJourney({ js: false });
  await dashboardJourney({ js: true });
  await journey({ js: true });
  await journey({ js: false });
  await staffJourney({ js: true });
  await staffJourney({ js: false });
  await correctionJourney({ js: true });
  await correctionJourney({ js: false });
  await faqJourney({ js: true });
  await faqJourney({ js: false });
  await openDataJourney({ js: true });
  await openDataJourney({ js: false });
} catch (e) {
  console.error(`journey failed: ${e.stack || e}`);
  await browser.close();
  process.exit(1);
}
await browser.close();
if (failures.length > 0) {
  console.error(`\n${failures.length} accessibility violation(s) on ${checked} checked pages:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`all ${checked} checked pages have zero WCAG 2.1 A/AA violations`);
