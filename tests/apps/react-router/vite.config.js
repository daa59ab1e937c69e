import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

const version = process.env.APP_VERSION
if (!version) throw new Error('APP_VERSION must be set (v1 or v2)')

export default defineConfig({
  base: '/',
  plugins: [react()],
  define: {
    __APP_VERSION__: JSON.stringify(version),
  },
  build: {
    sourcemap: false,
    emptyOutDir: true,
  },
})
