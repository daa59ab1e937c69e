#!/usr/bin/env node
// The classic Puppeteer zero-downtime check, as a yardstick for rollprobe (ci/bench.sh): a fresh
// incognito browser context per load, a new page, HTTP cache off, goto(url, {waitUntil:
// 'networkidle0'}), requests that failed or answered >= 400 recorded (as the usual blog-post
// script does), context closed. The loop and the output are bench/loop.js's.
//
//   node bench.js URL [--workers N] [--duration SECS] [--chromium PATH] [--extra-arg ARG]...
'use strict';

const puppeteer = require('puppeteer-core');
const loop = require('../loop.js');

loop.main({
  name: 'puppeteer',
  launch: (opts, args) =>
    puppeteer.launch({
      executablePath: opts.chromium,
      // The old headless mode ('shell') when the executable is the headless shell; full
      // Chromium's own headless mode otherwise.
      headless: /headless-shell/.test(opts.chromium) ? 'shell' : true,
      args,
    }),
  async oneLoad(browser, url) {
    const context = await browser.createBrowserContext();
    const problems = [];
    try {
      const page = await context.newPage();
      await page.setCacheEnabled(false);
      page.on('requestfailed', (req) => {
        problems.push({ url: req.url(), error: req.failure() && req.failure().errorText });
      });
      page.on('response', (res) => {
        if (res.status() >= 400) problems.push({ url: res.url(), status: res.status() });
      });
      const response = await page.goto(url, { waitUntil: 'networkidle0', timeout: 30000 });
      if (!response || response.status() >= 400) {
        problems.push({ url, status: response ? response.status() : null });
      }
    } finally {
      await context.close();
    }
    return problems;
  },
  close: (browser) => browser.close(),
});
