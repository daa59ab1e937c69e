import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

const appVersion = process.env.APP_VERSION || 'v1';

export default defineConfig({
  plugins: [sveltekit()],
  // Replaced textually in every chunk that uses it, so the home page's and the
  // reports page's chunks both change (and get new hashed names) with the version.
  define: {
    __APP_VERSION__: JSON.stringify(appVersion),
  },
  build: { sourcemap: false },
});
