// The load loop the peer scripts share (bench/puppeteer, bench/playwright): N loops at once, each
// repeating one fresh-user load until the duration is over, then one JSON line on stdout:
// tool, workers, loads, failed (loads with a failed request), errors (loads that threw),
// seconds, loads_per_s, p50_ms, p95_ms. A load's time covers context creation to context
// close, like rollprobe's.
//
//   node bench.js URL [--workers N] [--duration SECS] [--chromium PATH] [--extra-arg ARG]...
'use strict';

// The flags rollprobe launches its browser with (src/browser.rs), so every tool runs the same
// browser work.
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function parseArgs(argv) {
  const opts = {
    url: null,
    workers: 1,
    duration: 20,
    chromium: process.env.CHROMIUM || '/usr/lib/chromium/chromium-headless-shell',
    extraArgs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--workers') opts.workers = parseInt(argv[++i], 10);
    else if (a === '--duration') opts.duration = parseFloat(argv[++i]);
    else if (a === '--chromium') opts.chromium = argv[++i];
    else if (a === '--extra-arg') opts.extraArgs.push(argv[++i]);
    else if (!a.startsWith('--') && !opts.url) opts.url = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.url) throw new Error('usage: node bench.js URL [--workers N] [--duration SECS]');
  return opts;
}

// One fresh-user load, as both libraries spell it: a new context, a new page, goto until the
// tool's network idle, requests that failed or answered >= 400 recorded, context closed.
async function oneLoad(tool, browser, url) {
  const context = await tool.newContext(browser);
  const problems = [];
  try {
    const page = await context.newPage();
    if (tool.preparePage) await tool.preparePage(page);
    page.on('requestfailed', (req) => {
      problems.push({ url: req.url(), error: req.failure() && req.failure().errorText });
    });
    page.on('response', (res) => {
      if (res.status() >= 400) problems.push({ url: res.url(), status: res.status() });
    });
    const response = await page.goto(url, { waitUntil: tool.waitUntil, timeout: 30000 });
    if (!response || response.status() >= 400) {
      problems.push({ url, status: response ? response.status() : null });
    }
  } finally {
    await context.close();
  }
  return problems;
}

// tool: { name, launch(opts, args) -> browser, newContext(browser) -> context,
//         preparePage(page) (optional), waitUntil, close(browser) }
async function run(tool) {
  const opts = parseArgs(process.argv.slice(2));
  const browser = await tool.launch(opts, [...LAUNCH_ARGS, ...opts.extraArgs]);
  const t0 = performance.now();
  const stopAt = t0 + opts.duration * 1000;
  const times = [];
  let failed = 0;
  let errors = 0;

  async function worker() {
    while (performance.now() < stopAt) {
      const start = performance.now();
      try {
        const problems = await oneLoad(tool, browser, opts.url);
        times.push(performance.now() - start);
        if (problems.length > 0) {
          failed += 1;
          for (const p of problems) console.error('load problem:', JSON.stringify(p));
        }
      } catch (e) {
        errors += 1;
        console.error('load error:', e.message);
      }
    }
  }

  await Promise.all(Array.from({ length: opts.workers }, worker));
  const seconds = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  // Same nearest-rank rule as rollprobe's report.
  const at = (q) => (times.length ? times[Math.round((times.length - 1) * q)] : 0);
  const r3 = (x) => Math.round(x * 1000) / 1000;
  console.log(
    JSON.stringify({
      tool: tool.name,
      workers: opts.workers,
      loads: times.length,
      failed,
      errors,
      seconds: r3(seconds),
      loads_per_s: r3(times.length / seconds),
      p50_ms: r3(at(0.5)),
      p95_ms: r3(at(0.95)),
    }),
  );
  await tool.close(browser);
}

module.exports = {
  main(tool) {
    run(tool).catch((e) => {
      console.error(e);
      process.exit(1);
    });
  },
};
