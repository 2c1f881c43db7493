import { defineConfig } from 'vite'

// The dashboard is a static app; `memberlens serve` serves dist/ and the API from one origin.
export default defineConfig({
  root: '.',
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
})
