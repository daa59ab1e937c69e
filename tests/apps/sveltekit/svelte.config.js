import adapter from '@sveltejs/adapter-static';

const appVersion = process.env.APP_VERSION || 'v1';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  kit: {
    // Every page is prerendered (see src/routes/+layout.js); no SPA fallback.
    adapter: adapter({ pages: 'build', assets: 'build', fallback: undefined, strict: true }),
    // Deterministic _app/version.json per build (the default is a timestamp).
    version: { name: appVersion },
  },
};

export default config;
