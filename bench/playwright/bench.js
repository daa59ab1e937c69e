#!/usr/bin/env node
// A Playwright zero-downtime check, as a yardstick for rollprobe (ci/bench.sh): what a careful
// user writes with Playwright. A new browser context per load (Playwright's fresh user), a new
// page, goto(url, {waitUntil: 'networkidle'}) (no request for 500 ms, rollprobe's default idle
// window), requests that failed or answered >= 400 recorded, context closed. playwright-core
// only: it drives the browser given, it downloads none. The loop and the output are
// bench/loop.js's.
//
//   node bench.js URL [--workers N] [--duration SECS] [--chromium PATH] [--extra-arg ARG]...
'use strict';

const { chromium } = require('playwright-core');
const loop = require('../loop.js');

loop.main({
  name: 'playwright',
  launch: (opts, args) =>
    chromium.launch({ executablePath: opts.chromium, headless: true, args }),
  newContext: (browser) => browser.newContext(),
  waitUntil: 'networkidle',
  close: (browser) => browser.close(),
});
