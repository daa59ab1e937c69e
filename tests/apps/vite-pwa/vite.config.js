import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

const version = process.env.APP_VERSION
if (!version) throw new Error('APP_VERSION must be set (v1 or v2)')

export default defineConfig({
  base: '/',
  define: {
    __APP_VERSION__: JSON.stringify(version),
  },
  plugins: [
    VitePWA({
      strategies: 'generateSW',
      registerType: 'autoUpdate',
      // 'auto' with no `virtual:pwa-register` import: the plugin adds /registerSW.js to index.html.
      injectRegister: 'auto',
      manifest: {
        name: 'rollprobe fixture: vite-pwa',
        short_name: 'rollprobe-pwa',
        start_url: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#334455',
        icons: [],
      },
      workbox: {
        // Precache the shell, the entry, the lazy chunk and the CSS.
        globPatterns: ['**/*.{js,css,html}'],
      },
    }),
  ],
  build: {
    sourcemap: false,
    emptyOutDir: true,
  },
})
