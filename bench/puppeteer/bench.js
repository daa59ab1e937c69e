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
  newContext: (browser) => browser.createBrowserContext(),
  preparePage: (page) => page.setCacheEnabled(false),
  waitUntil: 'networkidle0',
  close: (browser) => browser.close(),
});
