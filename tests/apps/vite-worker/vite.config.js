import { defineConfig } from 'vite'

const version = process.env.APP_VERSION
if (!version) throw new Error('APP_VERSION must be set (v1 or v2)')

export default defineConfig({
  base: '/',
  define: {
    __APP_VERSION__: JSON.stringify(version),
  },
  // Module worker, so the worker bundle may code-split (its dynamic import gets its own chunk).
  worker: {
    format: 'es',
  },
  build: {
    sourcemap: false,
    emptyOutDir: true,
  },
})
